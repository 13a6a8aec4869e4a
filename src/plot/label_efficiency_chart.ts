/**
 * Accuracy against labelled examples per class, one line per
 * representation: the figure of the few-labels yardstick (SimCLR's 1% and
 * 10% label results, Chen et al. 2020, drawn as a curve). The x axis is
 * logarithmic because the budgets span decades (1, 10, 100, all).
 */
import { axisTitle, COLORWAY, figure, type Figure, type Trace } from "./figure";

/** One point of a curve: the mean and spread of a score at one budget. */
export interface LabelEfficiencyChartPoint {
  /** Labelled examples per class, or `"all"` (drawn at `options.allLabelsPerClass`). */
  labelsPerClass: number | "all";
  /** The score, e.g. the mean test accuracy over draws. */
  mean: number;
  /** Its spread, e.g. the std over draws, >= 0 (0 draws no bar). */
  std: number;
}

/** One line of a {@link labelEfficiencyChart}. */
export interface LabelEfficiencySeries {
  /** Legend entry, e.g. "SimCLR, linear probe". */
  name: string;
  /** The points, any order; one per budget. */
  points: readonly LabelEfficiencyChartPoint[];
}

/** Options of {@link labelEfficiencyChart}. */
export interface LabelEfficiencyChartOptions {
  title?: string;
  /** Default "labelled examples per class". */
  xTitle?: string;
  /** Default "test accuracy". */
  yTitle?: string;
  /** Where `"all"` is drawn: the full training count per class (e.g. 800 for 8000 digits). Required when a point is `"all"`. */
  allLabelsPerClass?: number;
  /** How the spread is shown: `"bars"` (error bars of ± std, default) or `"band"` (a shaded band of ± std). */
  spread?: "bars" | "band";
  /** Fixed range of the y axis, e.g. `[0, 1]`. */
  yRange?: readonly [number, number];
  /** Height in pixels. */
  height?: number;
}

/**
 * A line per series of score against labelled examples per class on a log
 * x axis, with ± std as error bars or a band. Ticks sit at the budgets
 * plotted; `"all"` is drawn at `options.allLabelsPerClass` and labelled
 * "all (N)".
 *
 * Shapes: each series `[budgets]` points; series may cover different budgets.
 *
 * @example
 * const few = evaluation.labelEfficiency({ train, test, labelsPerClass: [1, 10, 100, "all"] });
 * show(labelEfficiencyChart(
 *   [{ name: "SimCLR probe", points: few.map((p) => ({ labelsPerClass: p.labelsPerClass, ...p.linearProbe })) }],
 *   { allLabelsPerClass: 800, yRange: [0, 1] },
 * ));
 */
export function labelEfficiencyChart(series: readonly LabelEfficiencySeries[], options: LabelEfficiencyChartOptions = {}): Figure {
  const fn = "labelEfficiencyChart";
  if (!Array.isArray(series) || series.length === 0) {
    throw new Error(`${fn}: series must be a non-empty array of {name, points}, got ${Array.isArray(series) ? "[]" : typeof series}`);
  }
  const spread = options.spread ?? "bars";
  if (spread !== "bars" && spread !== "band") throw new Error(`${fn}: options.spread must be "bars" or "band", got ${JSON.stringify(spread)}`);
  const all = options.allLabelsPerClass;
  if (all !== undefined && !(Number.isFinite(all) && all > 0)) {
    throw new Error(`${fn}: options.allLabelsPerClass must be a finite number > 0, got ${all}`);
  }
  if (options.yRange !== undefined) {
    const [lo, hi] = options.yRange;
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) {
      throw new Error(`${fn}: options.yRange must be [low, high] with low < high, got [${options.yRange}]`);
    }
  }

  const ticks = new Map<number, string>();
  const curves = series.map((s, i) => {
    if (s === null || typeof s !== "object" || typeof s.name !== "string") {
      throw new Error(`${fn}: series[${i}] must be {name: string, points}, got ${JSON.stringify(s)}`);
    }
    const points: readonly LabelEfficiencyChartPoint[] = s.points;
    if (!Array.isArray(points as unknown) || points.length === 0) {
      throw new Error(`${fn}: series[${i}].points (${s.name}) must be a non-empty array, got ${JSON.stringify(s.points)}`);
    }
    const rows = points.map((p, j) => {
      const at = `series[${i}].points[${j}] (${s.name})`;
      let x: number;
      if (p.labelsPerClass === "all") {
        if (all === undefined) throw new Error(`${fn}: options.allLabelsPerClass must be given to draw ${at} at "all", got none`);
        x = all;
        ticks.set(x, `all (${all})`);
      } else if (typeof p.labelsPerClass === "number" && Number.isFinite(p.labelsPerClass) && p.labelsPerClass > 0) {
        x = p.labelsPerClass;
        if (!ticks.has(x)) ticks.set(x, String(x));
      } else {
        throw new Error(`${fn}: ${at}.labelsPerClass must be a number > 0 or "all", got ${JSON.stringify(p.labelsPerClass)}`);
      }
      if (!Number.isFinite(p.mean)) throw new Error(`${fn}: ${at}.mean must be finite, got ${p.mean}`);
      if (!(Number.isFinite(p.std) && p.std >= 0)) throw new Error(`${fn}: ${at}.std must be finite and >= 0, got ${p.std}`);
      return { x, mean: p.mean, std: p.std };
    });
    rows.sort((a, b) => a.x - b.x);
    for (let j = 1; j < rows.length; j++) {
      if (rows[j].x === rows[j - 1].x) throw new Error(`${fn}: series[${i}].points (${s.name}) must have one point per budget, got two at ${rows[j].x} labels per class`);
    }
    return { name: s.name, rows, color: COLORWAY[i % COLORWAY.length] };
  });

  const traces: Trace[] = [];
  for (const { name, rows, color } of curves) {
    const x = rows.map((r) => r.x);
    const y = rows.map((r) => r.mean);
    const std = rows.map((r) => r.std);
    if (spread === "band") {
      // Upper edge first, then the lower edge filled up to it: plotly fills "tonexty" towards the previous trace.
      traces.push({ type: "scatter", mode: "lines", name: `${name} + std`, x, y: rows.map((r) => r.mean + r.std), line: { width: 0, color }, legendgroup: name, showlegend: false, hoverinfo: "skip" });
      traces.push({ type: "scatter", mode: "lines", name: `${name} - std`, x, y: rows.map((r) => r.mean - r.std), line: { width: 0, color }, fill: "tonexty", fillcolor: translucent(color, 0.2), legendgroup: name, showlegend: false, hoverinfo: "skip" });
    }
    traces.push({
      type: "scatter",
      mode: "lines+markers",
      name,
      x,
      y,
      customdata: std,
      legendgroup: name,
      line: { color, width: 2 },
      marker: { color, size: 7 },
      ...(spread === "bars" ? { error_y: { type: "data", array: std, visible: true, thickness: 1.5, width: 4, color } } : {}),
      hovertemplate: `%{x} per class: %{y:.4f} ± %{customdata:.4f}<extra>${name}</extra>`,
    });
  }
  const tickvals = [...ticks.keys()].sort((a, b) => a - b);
  return figure(traces, {
    title: options.title,
    ...(options.height !== undefined ? { height: options.height } : {}),
    showlegend: series.length > 1,
    xaxis: { ...axisTitle(options.xTitle ?? "labelled examples per class"), type: "log", tickvals, ticktext: tickvals.map((v) => ticks.get(v)) },
    yaxis: { ...axisTitle(options.yTitle ?? "test accuracy"), ...(options.yRange ? { range: options.yRange.slice() } : {}) },
  });
}

function translucent(hex: string, alpha: number): string {
  const v = parseInt(hex.slice(1), 16);
  return `rgba(${(v >> 16) & 255}, ${(v >> 8) & 255}, ${v & 255}, ${alpha})`;
}
