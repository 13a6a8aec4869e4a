/**
 * Points in the plane coloured by class: 2-D projections of learned
 * representations (PCA, t-SNE, MDS, LLE), with one legend entry per class so
 * classes can be hidden and compared.
 */
import { axisTitle, figure, type Figure, type Trace } from "./figure";
import { readPlotLabels, readValues, requireFinite, type PlotLabels, type PlotValues } from "./values";
import { checkPositiveNumber } from "../validation/arguments";

/** Options of {@link scatter2d}. */
export interface Scatter2dOptions {
  /** Class of each point, `[n]`: integer ids (tensor or array) or names. */
  labels?: PlotLabels;
  /** Names of integer class ids: `classNames[id]` (e.g. `["T-shirt", ...]`). */
  classNames?: readonly string[];
  /** Hover text of each point, `[n]` (e.g. the word a point embeds). */
  hoverText?: readonly string[];
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** Marker diameter in pixels; default 6 (4 above 2000 points). */
  markerSize?: number;
  /** Marker opacity in (0, 1]; default 0.8. */
  opacity?: number;
  /** Same scale on both axes (distances in the picture mean something); default true. */
  equalAxes?: boolean;
  /** Draw with WebGL (`scattergl`), for tens of thousands of points. Default false. */
  webgl?: boolean;
  /** Height in pixels; default 480. */
  height?: number;
}

/**
 * A scatter plot of 2-D points, one trace per class.
 *
 * Shapes: `points` `[n, 2]` (a tensor, `number[][]`, or a flat array of
 * `2n` values `x0, y0, x1, y1, ...`); `labels` `[n]`.
 *
 * @example
 * const xy = pca2(features); // [1000, 2]
 * show(scatter2d(xy, { labels: testLabels, title: "SimCLR features, PCA", classNames: digits }));
 */
export function scatter2d(points: PlotValues, options: Scatter2dOptions = {}): Figure {
  let dense = readValues(points, "scatter2d", "points");
  if (dense.shape.length === 1) {
    if (dense.shape[0] % 2 !== 0) {
      throw new Error(`scatter2d: points given flat must hold 2n values (x0, y0, x1, y1, ...), got length ${dense.shape[0]}`);
    }
    dense = { values: dense.values, shape: [dense.shape[0] / 2, 2] };
  }
  if (dense.shape.length !== 2 || dense.shape[1] !== 2) {
    throw new Error(`scatter2d: points must have shape [n, 2], got [${dense.shape}]`);
  }
  const n = dense.shape[0];
  requireFinite(dense.values, "scatter2d", "points");
  const xs = dense.values.filter((_, i) => i % 2 === 0);
  const ys = dense.values.filter((_, i) => i % 2 === 1);
  if (options.hoverText !== undefined && options.hoverText.length !== n) {
    throw new Error(`scatter2d: options.hoverText must have shape [${n}], got [${options.hoverText.length}]`);
  }
  const opacity = options.opacity ?? 0.8;
  if (!(opacity > 0 && opacity <= 1)) throw new Error(`scatter2d: options.opacity must be in (0, 1], got ${opacity}`);
  const markerSize = options.markerSize ?? (n > 2000 ? 4 : 6);
  checkPositiveNumber("scatter2d", "options.markerSize", markerSize);

  // Group point indices by class, classes in a stable order: ids ascending, names by first appearance.
  const groups = new Map<number | string, number[]>();
  if (options.labels === undefined) {
    groups.set("points", xs.map((_, i) => i));
  } else {
    const labels = readPlotLabels(options.labels, "scatter2d", "options.labels", n);
    const keys = [...new Set(labels)];
    if (typeof labels[0] === "number") (keys as number[]).sort((a, b) => a - b);
    for (const key of keys) groups.set(key, []);
    labels.forEach((label, i) => groups.get(label)!.push(i));
  }
  const classNames = options.classNames;
  if (classNames !== undefined) {
    for (const key of groups.keys()) {
      if (typeof key === "number" && (key < 0 || key >= classNames.length)) {
        throw new Error(`scatter2d: options.classNames has ${classNames.length} names, but labels hold class id ${key}`);
      }
    }
  }
  const type = options.webgl ? "scattergl" : "scatter";
  const traces: Trace[] = [];
  for (const [key, indices] of groups) {
    const name = typeof key === "number" ? (classNames?.[key] ?? String(key)) : options.labels === undefined ? "points" : key;
    traces.push({
      type,
      mode: "markers",
      name: `${name}`,
      x: indices.map((i) => xs[i]),
      y: indices.map((i) => ys[i]),
      marker: { size: markerSize, opacity, line: { width: 0 } },
      ...(options.hoverText ? { text: indices.map((i) => options.hoverText![i]), hovertemplate: "%{text}<br>(%{x:.3g}, %{y:.3g})<extra>%{fullData.name}</extra>" } : {}),
    });
  }
  return figure(traces, {
    title: options.title,
    height: options.height ?? 480,
    showlegend: options.labels !== undefined,
    legend: { title: { text: "class" }, itemsizing: "constant" },
    hovermode: "closest",
    xaxis: { ...axisTitle(options.xTitle), zeroline: false },
    yaxis: { ...axisTitle(options.yTitle), zeroline: false, ...((options.equalAxes ?? true) ? { scaleanchor: "x", scaleratio: 1 } : {}) },
  });
}
