/**
 * A 2-D embedding (UMAP, t-SNE, PCA) to explore: points coloured by class,
 * hovering a point names its class, index and item (a word, a sentence, a
 * file name), and small thumbnails of a sample of the items drawn at their
 * points.
 */
import { COLORWAY, figure, type Figure, type Trace } from "./figure";
import { escapeHtml } from "./html";
import { encodePng } from "./png";
import { readPlotLabels, readValues, requireFinite, type PlotLabels, type PlotValues } from "./values";
import { createRng } from "../data/random";
import { checkInteger, checkIntegerInRange, checkPositiveNumber, describe } from "../validation/arguments";

/** Images shown next to their points in {@link embeddingScatter}. */
export interface EmbeddingThumbnails {
  /** One image per point, `[n, h, w, c]` flat row-major, values in [0, 1]. */
  images: Float32Array;
  /** `[h, w, c]` of one image; c is 1 (grey) or 3 (RGB). */
  shape: readonly [number, number, number];
  /** How many points get their image, drawn at random (seeded); default `min(n, 64)`. */
  count?: number;
  /** Seed of that draw; default 0. */
  seed?: number;
  /** Width of a thumbnail in data units; default 6% of the wider of the two data ranges. */
  size?: number;
}

/** Options of {@link embeddingScatter}. */
export interface EmbeddingScatterOptions {
  /** Class of each point, `[n]`: integer ids (tensor or array) or names. */
  labels?: PlotLabels;
  /** Names of integer class ids: `classNames[id]`. */
  classNames?: readonly string[];
  /** What each point is, `[n]`, shown on hover (escaped: shown literally, never as HTML). */
  hoverText?: readonly string[];
  /** Pictures of a sample of the items, drawn at their points. */
  thumbnails?: EmbeddingThumbnails;
  title?: string;
  /** Marker diameter in pixels; default 6 (4 above 2000 points). */
  markerSize?: number;
  /** Height in pixels; default 560. */
  height?: number;
}

/**
 * A scatter plot of an embedding `points` `[n, 2]`, one trace (legend entry,
 * colour) per class: integer class id c gets `COLORWAY[c % 10]`, names get
 * the colours in order of first appearance. Hovering a point shows its class,
 * its index and its `hoverText`. Both axes share one scale, so distances and
 * thumbnails keep their proportions. Above 5000 points the traces are drawn
 * with WebGL (`scattergl`).
 *
 * Thumbnails: plotly cannot draw images inside hover boxes, so a seeded
 * sample of `count` items is drawn on the plot instead, each as a PNG data
 * URI in `layout.images`, centred on its point in data coordinates (zooming
 * in spreads them apart). Image values must lie in [0, 1] (never clipped).
 *
 * Shapes: `points` `[n, 2]` (a tensor, `number[][]` or a flat array of 2n
 * values); `labels`, `hoverText` `[n]`; `thumbnails.images` `[n, h, w, c]`.
 *
 * @example
 * const { coordinates } = umapProjection(features, { seed: 1 });  // features [1000, 128]
 * show(embeddingScatter(coordinates, {
 *   labels, classNames: digits, hoverText: files,
 *   thumbnails: { images: pixels, shape: [28, 28, 1], count: 40 },
 *   title: "SimCLR features, UMAP",
 * }));
 */
export function embeddingScatter(points: PlotValues, options: EmbeddingScatterOptions = {}): Figure {
  const fn = "embeddingScatter";
  let dense = readValues(points, fn, "points");
  if (dense.shape.length === 1 && dense.shape[0] % 2 === 0) dense = { values: dense.values, shape: [dense.shape[0] / 2, 2] };
  if (dense.shape.length !== 2 || dense.shape[1] !== 2) {
    throw new Error(`${fn}: points must have shape [n, 2] (or 2n flat values), got [${dense.shape}]`);
  }
  const n = dense.shape[0];
  if (n === 0) throw new Error(`${fn}: points must hold at least one point, got shape [0, 2]`);
  requireFinite(dense.values, fn, "points");
  const xs = dense.values.filter((_, i) => i % 2 === 0);
  const ys = dense.values.filter((_, i) => i % 2 === 1);
  const hoverText = options.hoverText;
  if (hoverText !== undefined && hoverText.length !== n) {
    throw new Error(`${fn}: options.hoverText must have shape [${n}], got [${hoverText.length}]`);
  }
  const markerSize = options.markerSize ?? (n > 2000 ? 4 : 6);
  checkPositiveNumber(fn, "options.markerSize", markerSize);

  const groups = groupByLabel(options, n, fn);
  const traces: Trace[] = [];
  groups.forEach(({ key, indices }, order) => {
    const name = typeof key === "number" ? (options.classNames?.[key] ?? String(key)) : key;
    const colour = COLORWAY[(typeof key === "number" ? key : order) % COLORWAY.length];
    traces.push({
      type: n > 5000 ? "scattergl" : "scatter",
      mode: "markers",
      name,
      x: indices.map((i) => xs[i]),
      y: indices.map((i) => ys[i]),
      customdata: indices,
      marker: { size: markerSize, color: colour, opacity: 0.8, line: { width: 0 } },
      ...(hoverText
        ? { text: indices.map((i) => escapeHtml(hoverText[i])), hovertemplate: "<b>%{fullData.name}</b> #%{customdata}<br>%{text}<extra></extra>" }
        : { hovertemplate: "<b>%{fullData.name}</b> #%{customdata}<extra></extra>" }),
    });
  });
  const images = options.thumbnails === undefined ? [] : thumbnailImages(options.thumbnails, xs, ys, fn);
  return figure(traces, {
    title: options.title,
    height: options.height ?? 560,
    showlegend: options.labels !== undefined,
    legend: { title: { text: "class" }, itemsizing: "constant" },
    hovermode: "closest",
    xaxis: { zeroline: false },
    yaxis: { zeroline: false, scaleanchor: "x", scaleratio: 1 },
    ...(images.length > 0 ? { images } : {}),
  });
}

/** Point indices per class: ids ascending, names in order of first appearance; one group "points" without labels. */
function groupByLabel(options: EmbeddingScatterOptions, n: number, fn: string): { key: number | string; indices: number[] }[] {
  if (options.labels === undefined) return [{ key: "points", indices: Array.from({ length: n }, (_, i) => i) }];
  const labels = readPlotLabels(options.labels, fn, "options.labels", n);
  const keys = [...new Set(labels)];
  if (typeof labels[0] === "number") (keys as number[]).sort((a, b) => a - b);
  const classNames = options.classNames;
  if (classNames !== undefined) {
    for (const key of keys) {
      if (typeof key === "number" && (key < 0 || key >= classNames.length)) {
        throw new Error(`${fn}: options.classNames has ${classNames.length} names, but labels hold class id ${key}`);
      }
    }
  }
  const groups = new Map<number | string, number[]>(keys.map((k) => [k, []]));
  labels.forEach((label, i) => groups.get(label)!.push(i));
  return [...groups].map(([key, indices]) => ({ key, indices }));
}

/** `layout.images` entries: PNG data URIs of a seeded sample of the items, centred on their points. */
function thumbnailImages(thumbnails: EmbeddingThumbnails, xs: number[], ys: number[], fn: string): Record<string, unknown>[] {
  const n = xs.length;
  const { images, shape } = thumbnails;
  if (!(images instanceof Float32Array)) throw new Error(`${fn}: options.thumbnails.images must be a Float32Array [n, h, w, c], got ${describe(images)}`);
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((v) => Number.isInteger(v) && v > 0) || (shape[2] !== 1 && shape[2] !== 3)) {
    throw new Error(`${fn}: options.thumbnails.shape must be [h, w, c] with positive integers and c 1 or 3, got ${describe(shape)}`);
  }
  const [h, w, c] = shape;
  const size = h * w * c;
  if (images.length !== n * size) {
    throw new Error(`${fn}: options.thumbnails.images must hold one [${h}, ${w}, ${c}] image per point, ${n} x ${size} = ${n * size} values, got ${images.length}`);
  }
  const count = thumbnails.count ?? Math.min(n, 64);
  checkIntegerInRange(fn, "options.thumbnails.count", count, 0, n);
  const seed = thumbnails.seed ?? 0;
  checkInteger(fn, "options.thumbnails.seed", seed);
  const span = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
  const width = thumbnails.size ?? (span > 0 ? 0.06 * span : 1);
  checkPositiveNumber(fn, "options.thumbnails.size", width);
  const chosen = Array.from(createRng(seed).permutation(n).subarray(0, count)).sort((a, b) => a - b);
  return chosen.map((i) => {
    const pixels = new Uint8Array(size);
    for (let k = 0; k < size; k++) {
      const v = images[i * size + k];
      if (!(v >= 0 && v <= 1)) {
        throw new Error(`${fn}: options.thumbnails.images values must lie in [0, 1], got ${v} in image ${i}`);
      }
      pixels[k] = Math.round(v * 255);
    }
    const source = `data:image/png;base64,${Buffer.from(encodePng(pixels, w, h, c as 1 | 3)).toString("base64")}`;
    return {
      source,
      xref: "x",
      yref: "y",
      x: xs[i],
      y: ys[i],
      sizex: width,
      sizey: (width * h) / w,
      xanchor: "center",
      yanchor: "middle",
      sizing: "contain",
      layer: "above",
      name: `item ${i}`,
    };
  });
}
