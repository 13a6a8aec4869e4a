/**
 * Curves over steps: training loss, accuracy per epoch, a learning-rate
 * schedule; several series in one chart.
 */
import { tf } from "../backend/tf";
import { axisTitle, COLORWAY, figure, type Figure, type Trace } from "./figure";
import { readVector, requireFinite, type PlotValues } from "./values";
import { checkNumberInRange } from "../validation/arguments";

/** One curve of a {@link lineChart}. */
export interface LineSeries {
  /** Legend entry; default `series <i>` (or none for a single series). */
  name?: string;
  /** The values, shape `[n]`. */
  y: PlotValues;
  /** Positions along x, shape `[n]`; default `0, 1, ..., n-1`. */
  x?: PlotValues;
}

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** Logarithmic y axis (losses spanning decades). */
  logY?: boolean;
  /**
   * Exponential moving average weight in [0, 1), as TensorBoard's smoothing
   * slider (debiased): the smoothed curve is drawn over a faint raw one.
   * Default 0 (raw only).
   */
  smoothing?: number;
  /** Draw a marker at every point (short curves, e.g. per epoch). */
  markers?: boolean;
  /** Height in pixels. */
  height?: number;
}

/**
 * Debiased exponential moving average (TensorBoard's smoothing): non-finite
 * values are passed through as NaN and do not enter the average.
 *
 * Shapes: `[n]` -> `[n]`.
 *
 * @example
 * emaSmooth([1, 0, 0], 0.5); // [1, 0.333.., 0.142..]
 */
export function emaSmooth(values: readonly number[], weight: number): number[] {
  checkNumberInRange("emaSmooth", "weight", weight, 0, 1, { maxExclusive: true });
  let last = 0;
  let count = 0;
  return values.map((v) => {
    if (!Number.isFinite(v)) return NaN;
    last = last * weight + (1 - weight) * v;
    count++;
    return last / (1 - Math.pow(weight, count));
  });
}

function isSeries(value: unknown): value is LineSeries {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof tf.Tensor) && !ArrayBuffer.isView(value) && "y" in value;
}

/**
 * A line chart of one or more series.
 *
 * Non-finite y values (a loss that diverged) are not drawn, leaving a gap, and
 * the series' legend entry says how many there were. x values must be finite.
 *
 * Shapes: each series `y` (and `x`) `[n]`; series may differ in length.
 *
 * @example
 * show(lineChart(
 *   [{ name: "SimCLR", y: simclrLoss }, { name: "BYOL", y: byolLoss }],
 *   { title: "Training loss", xTitle: "step", yTitle: "loss", smoothing: 0.6 },
 * ));
 */
export function lineChart(series: LineSeries | readonly LineSeries[] | PlotValues, options: LineChartOptions = {}): Figure {
  let list: LineSeries[];
  if (isSeries(series)) list = [series];
  else if (Array.isArray(series) && series.length > 0 && series.every(isSeries)) list = series as LineSeries[];
  else list = [{ y: series as PlotValues }];
  if (list.length === 0) throw new Error("lineChart: series must not be empty");
  const smoothing = options.smoothing ?? 0;
  checkNumberInRange("lineChart", "options.smoothing", smoothing, 0, 1, { maxExclusive: true });

  const traces: Trace[] = [];
  list.forEach((s, i) => {
    const label = s.name ?? (list.length === 1 ? "y" : `series ${i}`);
    const y = readVector(s.y, "lineChart", `series[${i}].y (${label})`);
    const x = s.x === undefined ? y.map((_, j) => j) : readVector(s.x, "lineChart", `series[${i}].x (${label})`, y.length);
    requireFinite(x, "lineChart", `series[${i}].x (${label})`);
    const missing = y.filter((v) => !Number.isFinite(v)).length;
    const name = missing > 0 ? `${label} (${missing} non-finite not drawn)` : label;
    const color = COLORWAY[i % COLORWAY.length];
    const mode = options.markers ? "lines+markers" : "lines";
    if (smoothing > 0) {
      traces.push({ type: "scatter", mode, name: `${name} (raw)`, x, y, legendgroup: label, showlegend: false, hoverinfo: "skip", line: { color, width: 1 }, opacity: 0.3 });
      traces.push({ type: "scatter", mode, name, x, y: emaSmooth(y, smoothing).map((v) => (Number.isFinite(v) ? Number(v.toPrecision(7)) : v)), legendgroup: label, line: { color, width: 2 } });
    } else {
      traces.push({ type: "scatter", mode, name, x, y, line: { color, width: 2 } });
    }
  });
  return figure(traces, {
    title: options.title,
    ...(options.height !== undefined ? { height: options.height } : {}),
    showlegend: list.length > 1,
    hovermode: "x unified",
    xaxis: { ...axisTitle(options.xTitle) },
    yaxis: { ...axisTitle(options.yTitle), ...(options.logY ? { type: "log" } : {}) },
  });
}
