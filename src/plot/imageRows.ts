/**
 * Image grids assembled from pieces: rows of images that belong together
 * (clean, noisy and denoised digits; Gibbs chains after 100 and 1000 steps),
 * and the weights of a layer's units drawn as images (RBM filters, the first
 * layer of an autoencoder). Both end in one {@link imageGrid}.
 */
import { imageGrid, type ImageGridOptions } from "./imageGrid";
import type { Figure } from "./figure";
import { readValues, type PlotValues } from "./values";

/** One row of {@link imageRows}. */
export interface ImageRow {
  /** The row's images: a tensor `[n, height, width, channels]` or `[n, height * width * channels]`, or flat values. */
  images: PlotValues;
  /** One caption for every image of the row, or one per image. */
  caption?: string | readonly string[];
}

/** Options of {@link imageRows}. */
export interface ImageRowsOptions extends Omit<ImageGridOptions, "shape" | "columns" | "captions"> {
  /** `[height, width, channels]` of one image; default `[28, 28, 1]` (MNIST). */
  imageShape?: readonly [number, number, number];
}

/** Options of {@link filterGrid}. */
export interface FilterGridOptions extends Omit<ImageGridOptions, "shape" | "range" | "captions"> {
  /** `[height, width, channels]` a unit's incoming weights are drawn as; default `[28, 28, 1]`. */
  imageShape?: readonly [number, number, number];
  /** Draw the first `count` units; default all. */
  count?: number;
}

function checkImageShape(fn: string, shape: readonly number[]): number {
  if (shape.length !== 3 || !shape.every((v) => Number.isInteger(v) && v > 0)) {
    throw new Error(`${fn}: options.imageShape must be [height, width, channels] of positive integers, got ${JSON.stringify(shape)}`);
  }
  return shape[0] * shape[1] * shape[2];
}

/**
 * A grid with one row per entry of `rows`, each the same number of images,
 * captioned per row (or per image). Values are read once; tensors are not
 * disposed.
 *
 * Shapes: each `rows[r].images` holds `n` images of `imageShape` -> a grid of
 * `rows.length` x `n`.
 *
 * @example
 * plot.show(plot.imageRows([
 *   { images: clean, caption: "clean" },          // [8, 784]
 *   { images: noisy, caption: "masking 0.5" },
 *   { images: denoised, caption: "denoised" },
 * ], { title: "Denoising autoencoder" }));
 */
export function imageRows(rows: readonly ImageRow[], options: ImageRowsOptions = {}): Figure {
  const fn = "imageRows";
  if (!Array.isArray(rows) || rows.length === 0) throw new Error(`${fn}: rows must be a non-empty array of {images, caption?}, got ${Array.isArray(rows) ? "[]" : typeof rows}`);
  const { imageShape = [28, 28, 1], ...gridOptions } = options;
  const size = checkImageShape(fn, imageShape);
  let columns = 0;
  const values: number[] = [];
  const captions: string[] = [];
  let anyCaption = false;
  rows.forEach((row, r) => {
    const read = readValues(row.images, fn, `rows[${r}].images`).values;
    const n = read.length / size;
    if (!Number.isInteger(n) || n === 0) {
      throw new Error(`${fn}: rows[${r}].images must hold whole images of ${imageShape.join(" x ")} = ${size} values, got ${read.length} values`);
    }
    if (r === 0) columns = n;
    else if (n !== columns) throw new Error(`${fn}: rows[${r}].images must hold ${columns} images like rows[0], got ${n}`);
    for (const v of read) values.push(v);
    const { caption } = row;
    if (caption !== undefined) anyCaption = true;
    if (typeof caption === "string" || caption === undefined) {
      for (let i = 0; i < n; i++) captions.push(caption ?? "");
    } else if (Array.isArray(caption) && caption.length === n) {
      captions.push(...caption);
    } else {
      throw new Error(`${fn}: rows[${r}].caption must be a string or ${n} strings, got ${JSON.stringify(caption)}`);
    }
  });
  return imageGrid(values, {
    ...gridOptions,
    shape: [rows.length * columns, imageShape[0], imageShape[1], imageShape[2]],
    columns,
    captions: anyCaption ? captions : undefined,
  });
}

/**
 * The incoming weights of a layer's units drawn as images, each stretched to
 * its own range (light where a positive weight excites the unit, dark where a
 * negative one inhibits it): RBM filters, a dense encoder's first layer.
 *
 * Shapes: `weights` `[inputs, units]` (column j: unit j's weights), with
 * `inputs` = height x width x channels of `imageShape` -> a grid of `count` images.
 *
 * @example
 * plot.show(plot.filterGrid(rbm.weights, { count: 64, columns: 16, title: "RBM filters" }));
 */
export function filterGrid(weights: PlotValues, options: FilterGridOptions = {}): Figure {
  const fn = "filterGrid";
  const { imageShape = [28, 28, 1], count: countOption, ...gridOptions } = options;
  const size = checkImageShape(fn, imageShape);
  const { values, shape } = readValues(weights, fn, "weights", { rank: 2 });
  const [inputs, units] = shape;
  if (inputs !== size) {
    throw new Error(`${fn}: weights must have shape [${size}, units] for images of ${imageShape.join(" x ")}, got [${shape.join(", ")}]`);
  }
  const count = countOption ?? units;
  if (!Number.isInteger(count) || count < 1 || count > units) {
    throw new Error(`${fn}: options.count must be an integer in [1, ${units}], got ${count}`);
  }
  // Column j of the row-major [inputs, units] matrix becomes image j.
  const images = new Float64Array(count * inputs);
  for (let j = 0; j < count; j++) for (let i = 0; i < inputs; i++) images[j * inputs + i] = values[i * units + j];
  return imageGrid(images, { ...gridOptions, shape: [count, imageShape[0], imageShape[1], imageShape[2]], range: "each" });
}
