/**
 * A figure: plain plotly.js JSON (traces, layout, config), built in the
 * kernel and drawn by plotly.js in the notebook page.
 *
 * The types are deliberately open (`[key: string]: unknown`): every plotly
 * attribute (https://plotly.com/javascript/reference/) can be set, and the
 * helpers in this folder fill in the common ones.
 */

/** One plotly trace, e.g. `{ type: "scatter", x: [...], y: [...] }`. */
export interface Trace {
  /** The plotly trace type: `"scatter"`, `"bar"`, `"heatmap"`, `"image"`, ... */
  type: string;
  name?: string;
  [attribute: string]: unknown;
}

/** The plotly layout: titles, axes, size, legend, annotations, ... */
export interface Layout {
  title?: string | { text: string; [key: string]: unknown };
  height?: number;
  width?: number;
  [attribute: string]: unknown;
}

/** The plotly config: interaction options such as `responsive`. */
export interface PlotConfig {
  [option: string]: unknown;
}

/** A figure ready for {@link show} or {@link toMimeBundle}. */
export interface Figure {
  data: Trace[];
  layout: Layout;
  config: PlotConfig;
}

/**
 * Ten colours that stay distinct for ten classes (Tableau 10), the workbook's
 * colour order for series and classes.
 */
export const COLORWAY: readonly string[] = [
  "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
  "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
];

/** The default height of a figure in pixels. */
export const DEFAULT_HEIGHT = 420;

/**
 * The workbook's look, as a plotly template: whatever a figure's own layout
 * sets wins over it, without any merging on our side.
 */
export function workbookTemplate(): Record<string, unknown> {
  const axis = {
    gridcolor: "#e6e6e6",
    linecolor: "#9a9a9a",
    zerolinecolor: "#c8c8c8",
    ticks: "outside",
    tickcolor: "#9a9a9a",
    automargin: true,
    title: { standoff: 8 },
  };
  return {
    layout: {
      colorway: COLORWAY.slice(),
      font: { family: "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif", size: 13, color: "#2a2a2a" },
      paper_bgcolor: "#ffffff",
      plot_bgcolor: "#ffffff",
      margin: { l: 60, r: 20, t: 50, b: 50 },
      title: { x: 0.02, xanchor: "left", font: { size: 16 } },
      legend: { bgcolor: "rgba(255,255,255,0.8)" },
      hoverlabel: { namelength: -1 },
      xaxis: axis,
      yaxis: axis,
    },
  };
}

/**
 * Makes a figure from plotly traces and a layout, with the workbook's look
 * (a plotly `template`) and interaction defaults. Anything set in `layout` or
 * `config` overrides the defaults.
 *
 * Shapes: traces hold plain arrays; convert tensors first (the helpers such as
 * {@link lineChart} do this for you).
 *
 * @example
 * const fig = figure([{ type: "scatter", mode: "lines", x: [0, 1, 2], y: [3, 1, 2] }], { title: "loss" });
 * show(fig);
 */
export function figure(data: Trace[], layout: Layout = {}, config: PlotConfig = {}): Figure {
  if (!Array.isArray(data)) {
    throw new Error(`figure: data must be an array of traces, got ${data === null ? "null" : typeof data}`);
  }
  data.forEach((trace, i) => {
    if (trace === null || typeof trace !== "object" || typeof trace.type !== "string") {
      throw new Error(`figure: data[${i}] must be a trace object with a string "type", got ${JSON.stringify(trace)}`);
    }
  });
  const title = typeof layout.title === "string" ? { text: layout.title } : layout.title;
  return {
    data,
    layout: {
      template: workbookTemplate(),
      height: DEFAULT_HEIGHT,
      ...layout,
      ...(title !== undefined ? { title } : {}),
    },
    config: { responsive: true, displaylogo: false, ...config },
  };
}

/** Axis title in plotly's object form, or nothing. */
export function axisTitle(text: string | undefined): { title?: { text: string } } {
  return text === undefined ? {} : { title: { text } };
}
