/**
 * Bars for comparisons: linear-probe accuracy of methods against the raw-input
 * and random-encoder baselines, one group of bars per method, with error bars
 * for the spread over seeds.
 */
import { axisTitle, COLORWAY, figure, type Figure, type Trace } from "./figure";
import { readVector, requireFinite, type PlotValues } from "./values";
import { tf } from "../backend/tf";

/** One series of bars (one colour), a value per category. */
export interface BarSeries {
  /** Legend entry; default `series <i>` (or none for a single series). */
  name?: string;
  /** One value per category, `[categories]`. */
  values: PlotValues;
  /** Half-height of an error bar per category (e.g. std over seeds), `[categories]`, >= 0. */
  errors?: PlotValues;
}

/** Options of {@link barChart}. */
export interface BarChartOptions {
  title?: string;
  /** Title of the category axis. */
  xTitle?: string;
  /** Title of the value axis. */
  yTitle?: string;
  /** Bars along x (long category names); default false. */
  horizontal?: boolean;
  /** Write each value on its bar; default true up to 40 bars. */
  showValues?: boolean;
  /** d3 format of written values; default from the values: `"d"` for integers, else 3 decimals below 1, 2 below 100, 1 above. */
  valueFormat?: string;
  /** Fixed range of the value axis, e.g. `[0, 1]` for accuracy. */
  valueRange?: readonly [number, number];
  /** Height in pixels. */
  height?: number;
}

function isBarSeries(value: unknown): value is BarSeries {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof tf.Tensor) && !ArrayBuffer.isView(value) && "values" in value;
}

/**
 * A grouped bar chart: for each category, one bar per series.
 *
 * Shapes: `categories` `[k]`; each series' `values` and `errors` `[k]`.
 *
 * @example
 * show(barChart(["raw pixels", "random encoder", "SimCLR"], [
 *   { name: "linear probe", values: [0.86, 0.79, 0.93], errors: [0.004, 0.01, 0.006] },
 *   { name: "5-NN", values: [0.91, 0.83, 0.94] },
 * ], { yTitle: "test accuracy", valueRange: [0, 1] }));
 */
export function barChart(
  categories: readonly (string | number)[],
  series: BarSeries | readonly BarSeries[] | PlotValues,
  options: BarChartOptions = {},
): Figure {
  if (!Array.isArray(categories) || categories.length === 0) {
    throw new Error(`barChart: categories must be a non-empty array of names, got ${Array.isArray(categories) ? "[]" : typeof categories}`);
  }
  const k = categories.length;
  let list: BarSeries[];
  if (isBarSeries(series)) list = [series];
  else if (Array.isArray(series) && series.length > 0 && series.every(isBarSeries)) list = series as BarSeries[];
  else list = [{ values: series as PlotValues }];
  if (options.valueRange !== undefined) {
    const [lo, hi] = options.valueRange;
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) {
      throw new Error(`barChart: options.valueRange must be [low, high] with low < high, got [${options.valueRange}]`);
    }
  }
  const horizontal = options.horizontal ?? false;
  const showValues = options.showValues ?? k * list.length <= 40;
  const names = categories.map(String);
  const labels = list.map((s, i) => s.name ?? (list.length === 1 ? "value" : `series ${i}`));
  const allValues = list.map((s, i) => {
    const values = readVector(s.values, "barChart", `series[${i}].values (${labels[i]})`, k);
    requireFinite(values, "barChart", `series[${i}].values (${labels[i]})`);
    return values;
  });
  const flat = allValues.flat();
  const largest = Math.max(...flat.map(Math.abs));
  const format = options.valueFormat ?? (flat.every(Number.isInteger) ? "d" : largest >= 100 ? ".1f" : largest >= 1 ? ".2f" : ".3f");
  const traces: Trace[] = list.map((s, i) => {
    const label = labels[i];
    const values = allValues[i];
    let errorBars = {};
    if (s.errors !== undefined) {
      const errors = readVector(s.errors, "barChart", `series[${i}].errors (${label})`, k);
      const bad = errors.findIndex((e) => !(Number.isFinite(e) && e >= 0));
      if (bad >= 0) throw new Error(`barChart: series[${i}].errors (${label}) must be finite and >= 0, got ${errors[bad]} at index ${bad}`);
      errorBars = { [horizontal ? "error_x" : "error_y"]: { type: "data", array: errors, visible: true, thickness: 1.5, width: 4, color: "#444" } };
    }
    return {
      type: "bar",
      name: label,
      orientation: horizontal ? "h" : "v",
      [horizontal ? "y" : "x"]: names,
      [horizontal ? "x" : "y"]: values,
      marker: { color: COLORWAY[i % COLORWAY.length] },
      ...errorBars,
      // Outside the bar the value would sit on its error bar: write it inside then.
      ...(showValues
        ? { texttemplate: `%{${horizontal ? "x" : "y"}:${format}}`, cliponaxis: false, ...(s.errors !== undefined ? { textposition: "inside", insidetextanchor: "end" } : { textposition: "outside" }) }
        : {}),
      hovertemplate: `%{${horizontal ? "y" : "x"}}: %{${horizontal ? "x" : "y"}:.4g}<extra>${label}</extra>`,
    };
  });
  const categoryAxis = { ...axisTitle(options.xTitle), type: "category", ...(horizontal ? { autorange: "reversed" } : {}) };
  const valueAxis = { ...axisTitle(options.yTitle), ...(options.valueRange ? { range: options.valueRange.slice() } : {}) };
  return figure(traces, {
    title: options.title,
    ...(options.height !== undefined ? { height: options.height } : horizontal ? { height: Math.max(300, 100 + k * list.length * 26) } : {}),
    barmode: "group",
    showlegend: list.length > 1,
    xaxis: horizontal ? valueAxis : categoryAxis,
    yaxis: horizontal ? categoryAxis : valueAxis,
  });
}
