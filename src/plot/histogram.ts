/**
 * Overlaid histograms of one or more series of numbers on shared bins: the
 * cosine similarities of MoCo's queue negatives against MoCHi's synthetic
 * ones, the lambdas a mixing drew, the norms of two encoders' features.
 *
 * The bins and their heights are computed here, in TypeScript, and drawn as
 * bars: the figure is the data (what a test or the notebook's prose reads is
 * what is drawn), not plotly's own binning.
 */
import { axisTitle, COLORWAY, figure, type Figure, type Trace } from "./figure";
import { readVector, requireFinite, type PlotValues } from "./values";
import { tf } from "../backend/tf";
import { checkFiniteNumber, checkNumberInRange, checkOneOf, checkPositiveInteger, describe } from "../validation/arguments";

/** One series of a {@link histogram}: a legend name and its numbers. */
export interface HistogramSeries {
  /** Legend entry; default `series <i>` (or `"values"` for a single series). */
  name?: string;
  /** The numbers, `[n]` with n >= 1, all finite. */
  values: PlotValues;
}

/** A vertical reference line, e.g. the mean of a series or a threshold. */
export interface HistogramMarker {
  /** Where the line stands on the x axis. */
  x: number;
  /** Label written at the top of the line. */
  name?: string;
}

/** How bar heights are scaled. */
export type HistogramNormalization = "count" | "probability" | "density";

/** Options of {@link histogram}. */
export interface HistogramOptions {
  title?: string;
  xTitle?: string;
  /** Default from `normalize`: "count", "share of the series", "density". */
  yTitle?: string;
  /** Number of equal-width bins shared by every series; default 40. */
  bins?: number;
  /**
   * `[low, high]` covered by the bins (low < high); default from the smallest
   * to the largest value over all series. A value outside the range throws:
   * nothing is dropped silently.
   */
  range?: readonly [number, number];
  /**
   * `"count"`: values per bin; `"probability"` (default): the share of the
   * series per bin, summing to 1, so series of different sizes compare;
   * `"density"`: share / bin width, integrating to 1.
   */
  normalize?: HistogramNormalization;
  /** Bar opacity in (0, 1]; default 0.55 for several series (overlaps show), 0.85 for one. */
  opacity?: number;
  /** Vertical dashed lines with labels. */
  markers?: readonly HistogramMarker[];
  /** Height in pixels. */
  height?: number;
}

function isHistogramSeries(value: unknown): value is HistogramSeries {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof tf.Tensor) && !ArrayBuffer.isView(value) && "values" in value;
}

/** The shared bins: `edges` `[bins + 1]`, bin k is `[edges[k], edges[k+1])`, the last one closed. */
function binEdges(fn: string, all: number[][], labels: string[], options: HistogramOptions): number[] {
  const bins = options.bins ?? 40;
  checkPositiveInteger(fn, "options.bins", bins);
  let lo: number;
  let hi: number;
  if (options.range !== undefined) {
    const range = options.range;
    if (!Array.isArray(range) || range.length !== 2 || !Number.isFinite(range[0]) || !Number.isFinite(range[1]) || !(range[0] < range[1])) {
      throw new Error(`${fn}: options.range must be [low, high] with finite low < high, got ${describe(range)}`);
    }
    [lo, hi] = range;
    all.forEach((values, s) => {
      const i = values.findIndex((v) => v < lo || v > hi);
      if (i >= 0) throw new Error(`${fn}: series[${s}] (${labels[s]}) must lie in options.range [${lo}, ${hi}], got ${values[i]} at index ${i}`);
    });
  } else {
    lo = Math.min(...all.map((values) => values.reduce((m, v) => Math.min(m, v), Infinity)));
    hi = Math.max(...all.map((values) => values.reduce((m, v) => Math.max(m, v), -Infinity)));
    // One distinct value: a unit-wide range centred on it.
    if (lo === hi) [lo, hi] = [lo - 0.5, hi + 0.5];
  }
  const width = (hi - lo) / bins;
  return Array.from({ length: bins + 1 }, (_, k) => (k === bins ? hi : lo + k * width));
}

/** Values per bin of `edges`; a value in `[edges[k], edges[k+1])` counts in bin k, `edges[bins]` in the last bin. */
function binCounts(values: readonly number[], edges: readonly number[]): number[] {
  const bins = edges.length - 1;
  const width = (edges[bins] - edges[0]) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    // The arithmetic guess, then corrected against the edges themselves so rounding never moves a value across an edge.
    let k = Math.min(bins - 1, Math.max(0, Math.floor((v - edges[0]) / width)));
    while (k < bins - 1 && v >= edges[k + 1]) k++;
    while (k > 0 && v < edges[k]) k--;
    counts[k]++;
  }
  return counts;
}

/**
 * Overlaid histograms on shared bins: every series is binned on the same
 * `bins` equal-width bins over `range` (default: all values of all series),
 * scaled by `normalize`, and drawn as semi-transparent bars (one colour per
 * series) so that overlaps show. Each bar's hover gives its bin and height.
 *
 * Shapes: each series' `values` `[n_s]` (any n_s >= 1; tensors, typed or
 * plain arrays). The returned figure's trace s holds the bin centres `x`
 * `[bins]`, the heights `y` `[bins]`, the bin `width`, and `customdata`
 * `[bins, 3]` = (bin low, bin high, count).
 *
 * @example
 * const sims = moco.negativeSimilarities(images); // { queue, synthetic } cosines
 * show(histogram([
 *   { name: "queue negatives", values: sims.queue },
 *   { name: "MoCHi synthetic", values: sims.synthetic },
 * ], { xTitle: "cosine similarity to the query", range: [-1, 1], markers: [{ x: 0, name: "orthogonal" }] }));
 */
export function histogram(series: HistogramSeries | readonly HistogramSeries[] | PlotValues, options: HistogramOptions = {}): Figure {
  const fn = "histogram";
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object, got ${describe(options)}`);
  let list: HistogramSeries[];
  if (isHistogramSeries(series)) list = [series];
  else if (Array.isArray(series) && series.length > 0 && series.every(isHistogramSeries)) list = series as HistogramSeries[];
  else if (Array.isArray(series) && series.length === 0) throw new Error(`${fn}: series must hold at least one series, got an empty array`);
  else list = [{ values: series as PlotValues }];
  const labels = list.map((s, i) => s.name ?? (list.length === 1 ? "values" : `series ${i}`));
  const all = list.map((s, i) => {
    const arg = `series[${i}] (${labels[i]})`;
    const values = readVector(s.values, fn, arg);
    if (values.length === 0) throw new Error(`${fn}: ${arg} must hold at least one value, got an empty series`);
    requireFinite(values, fn, arg);
    return values;
  });
  const normalize = options.normalize ?? "probability";
  checkOneOf(fn, "options.normalize", normalize, ["count", "probability", "density"] as const);
  const opacity = options.opacity ?? (list.length > 1 ? 0.55 : 0.85);
  checkNumberInRange(fn, "options.opacity", opacity, 0, 1, { minExclusive: true });
  const markers = options.markers ?? [];
  if (!Array.isArray(markers)) throw new Error(`${fn}: options.markers must be an array of {x, name?}, got ${describe(markers)}`);
  markers.forEach((m, i) => {
    if (m === null || typeof m !== "object") throw new Error(`${fn}: options.markers[${i}] must be an object {x, name?}, got ${describe(m)}`);
    checkFiniteNumber(fn, `options.markers[${i}].x`, m.x);
  });

  const edges = binEdges(fn, all, labels, options);
  const bins = edges.length - 1;
  const width = (edges[bins] - edges[0]) / bins;
  const centres = edges.slice(0, bins).map((e, k) => (e + edges[k + 1]) / 2);
  const yFormat = normalize === "count" ? "d" : ".3g";
  const traces: Trace[] = all.map((values, s) => {
    const counts = binCounts(values, edges);
    const scale = normalize === "count" ? 1 : normalize === "probability" ? 1 / values.length : 1 / (values.length * width);
    return {
      type: "bar",
      name: labels[s],
      x: centres,
      y: counts.map((c) => c * scale),
      width,
      customdata: counts.map((c, k) => [edges[k], edges[k + 1], c]),
      marker: { color: COLORWAY[s % COLORWAY.length], line: { width: 0 } },
      opacity,
      hovertemplate: `[%{customdata[0]:.4g}, %{customdata[1]:.4g}): %{y:${yFormat}} (%{customdata[2]} of ${values.length})<extra>${labels[s]}</extra>`,
    };
  });
  const defaultYTitle = { count: "count", probability: "share of the series", density: "density" }[normalize];
  return figure(traces, {
    title: options.title,
    ...(options.height !== undefined ? { height: options.height } : {}),
    barmode: "overlay",
    bargap: 0,
    showlegend: list.length > 1,
    // The bins' span, widened to show every marker.
    xaxis: { ...axisTitle(options.xTitle), range: [Math.min(edges[0], ...markers.map((m) => m.x)), Math.max(edges[bins], ...markers.map((m) => m.x))] },
    yaxis: axisTitle(options.yTitle ?? defaultYTitle),
    shapes: markers.map((m) => ({ type: "line", xref: "x", yref: "paper", x0: m.x, x1: m.x, y0: 0, y1: 1, line: { color: "#444", width: 1.5, dash: "dash" } })),
    annotations: markers
      .filter((m) => m.name !== undefined)
      .map((m) => ({ x: m.x, xref: "x", y: 1, yref: "paper", yanchor: "bottom", text: m.name, showarrow: false, font: { size: 11, color: "#444" } })),
  });
}
