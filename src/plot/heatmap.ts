/**
 * A matrix as coloured cells: similarity matrices (the positives on the
 * diagonal of a SimCLR batch), confusion matrices, cross-correlation
 * (Barlow Twins), attention maps.
 */
import { axisTitle, figure, type Figure } from "./figure";
import { readValues, requireFinite, type PlotValues } from "./values";
import { checkFiniteNumber } from "../validation/arguments";

/** Options of {@link heatmap}. */
export interface HeatmapOptions {
  /** Shape `[rows, cols]` of a flat typed or plain array input. */
  shape?: readonly [number, number];
  /** Column labels, `[cols]`. */
  xLabels?: readonly (string | number)[];
  /** Row labels, `[rows]`. */
  yLabels?: readonly (string | number)[];
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** A plotly colorscale name (`"Viridis"`, `"RdBu"`, `"Blues"`) or `[[0, colour], ..., [1, colour]]`. Default `"Viridis"`. */
  colorscale?: string | readonly (readonly [number, string])[];
  /** Value of the colour scale's low end; default the matrix minimum. */
  zmin?: number;
  /** Value of the colour scale's high end; default the matrix maximum. */
  zmax?: number;
  /** Value at the colour scale's middle (e.g. 0 for a similarity in [-1, 1] with `"RdBu"`). */
  zmid?: number;
  /** Write each value in its cell; default true up to 15 x 15 cells. */
  showValues?: boolean;
  /** d3 format of written values; default `"d"` for integer matrices, else `".2f"`. */
  valueFormat?: string;
  /** Square cells; default true when rows equal cols. */
  square?: boolean;
  /** Title of the colour bar (what a colour means, e.g. `"cosine"`). */
  colorbarTitle?: string;
  /** Height in pixels; default fits the matrix between 320 and 640. */
  height?: number;
}

/**
 * A heatmap of a matrix, row 0 at the top (as the matrix is written).
 *
 * Shapes: `matrix` `[rows, cols]` (a tensor, `number[][]`, or a flat array
 * with `options.shape`); `xLabels` `[cols]`; `yLabels` `[rows]`.
 *
 * @example
 * show(heatmap(confusion, { xLabels: digits, yLabels: digits, xTitle: "predicted", yTitle: "true", title: "confusion" }));
 * show(heatmap(sim, { colorscale: "RdBu", zmid: 0, zmin: -1, zmax: 1, title: "cosine similarity" }));
 */
export function heatmap(matrix: PlotValues, options: HeatmapOptions = {}): Figure {
  const { values, shape } = readValues(matrix, "heatmap", "matrix", { shape: options.shape });
  if (shape.length !== 2) {
    throw new Error(`heatmap: matrix must have shape [rows, cols], got [${shape}]${shape.length === 1 ? " (give options.shape for a flat array)" : ""}`);
  }
  const [rows, cols] = shape;
  if (rows === 0 || cols === 0) throw new Error(`heatmap: matrix must not be empty, got shape [${shape}]`);
  requireFinite(values, "heatmap", "matrix");
  if (options.xLabels !== undefined && options.xLabels.length !== cols) {
    throw new Error(`heatmap: options.xLabels must have shape [${cols}] (matrix columns), got [${options.xLabels.length}]`);
  }
  if (options.yLabels !== undefined && options.yLabels.length !== rows) {
    throw new Error(`heatmap: options.yLabels must have shape [${rows}] (matrix rows), got [${options.yLabels.length}]`);
  }
  for (const key of ["zmin", "zmax", "zmid"] as const) {
    const v = options[key];
    if (v !== undefined) checkFiniteNumber("heatmap", `options.${key}`, v);
  }
  if (options.zmin !== undefined && options.zmax !== undefined && !(options.zmin < options.zmax)) {
    throw new Error(`heatmap: options.zmin must be < options.zmax, got ${options.zmin} and ${options.zmax}`);
  }
  const z = Array.from({ length: rows }, (_, r) => values.slice(r * cols, (r + 1) * cols));
  const showValues = options.showValues ?? rows * cols <= 225;
  const integers = values.every(Number.isInteger);
  const format = options.valueFormat ?? (integers ? "d" : ".2f");
  const square = options.square ?? rows === cols;
  // Labels are categories even when they look like numbers ("0".."9").
  const xLabels = options.xLabels?.map(String);
  const yLabels = options.yLabels?.map(String);
  const height = options.height ?? Math.max(320, Math.min(640, 120 + rows * 28));
  return figure(
    [
      {
        type: "heatmap",
        z,
        ...(xLabels ? { x: xLabels } : {}),
        ...(yLabels ? { y: yLabels } : {}),
        colorscale: options.colorscale ?? "Viridis",
        ...(options.zmin !== undefined ? { zmin: options.zmin } : {}),
        ...(options.zmax !== undefined ? { zmax: options.zmax } : {}),
        ...(options.zmid !== undefined ? { zmid: options.zmid } : {}),
        ...(showValues ? { texttemplate: `%{z:${format}}`, textfont: { size: rows * cols > 100 ? 10 : 12 } } : {}),
        hovertemplate: `row %{y}, col %{x}: %{z:${format === "d" ? "d" : ".4g"}}<extra></extra>`,
        colorbar: { thickness: 14, ...(options.colorbarTitle ? { title: { text: options.colorbarTitle } } : {}) },
        xgap: rows * cols <= 400 ? 1 : 0,
        ygap: rows * cols <= 400 ? 1 : 0,
      },
    ],
    {
      title: options.title,
      height,
      xaxis: { ...axisTitle(options.xTitle), type: xLabels ? "category" : "linear", showgrid: false, ticks: "", side: "bottom", ...(square ? { constrain: "domain" } : {}) },
      yaxis: { ...axisTitle(options.yTitle), type: yLabels ? "category" : "linear", showgrid: false, ticks: "", autorange: "reversed", ...(square ? { scaleanchor: "x", constrain: "domain" } : {}) },
      plot_bgcolor: "#ffffff",
    },
  );
}

