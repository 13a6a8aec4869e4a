/**
 * Mini-batches as index arrays, and the gathers that turn them into tensors.
 *
 * An epoch's order depends only on `(seed, epoch)`, so a run can be repeated
 * or resumed at any epoch without replaying the ones before it.
 */
import { tf } from "../backend/tf";
import { checkImageSet, ImageSet } from "./mnist";
import { createRng, fmix32 } from "./random";
import { checkInteger, checkIntegerInRange, checkNonNegativeInteger, checkPositiveInteger } from "../validation/arguments";

/** Options of {@link batches}. */
export interface BatchOptions {
  /** Seed of the run; with `epoch` it fixes the order. */
  seed: number;
  /** Epoch number, 0 for the first; default 0. */
  epoch?: number;
  /** Drop the last batch when it is smaller than `batchSize`; default false. */
  dropLast?: boolean;
}


function checkSeedEpoch(caller: string, seed: number, epoch: number): void {
  checkInteger(caller, "seed", seed);
  checkNonNegativeInteger(caller, "epoch", epoch);
}

function checkCounts(caller: string, n: number, batchSize: number): void {
  checkNonNegativeInteger(caller, "n", n);
  checkPositiveInteger(caller, "batchSize", batchSize);
}

/**
 * The order of examples in one epoch: a permutation of `0..n-1` that depends
 * only on `(seed, epoch)`.
 *
 * Shapes: `[n]`.
 *
 * @example
 * epochPermutation(5, 42, 0); // Int32Array [3, 2, 4, 0, 1]
 */
export function epochPermutation(n: number, seed: number, epoch = 0): Int32Array {
  checkCounts("epochPermutation", n, 1);
  checkSeedEpoch("epochPermutation", seed, epoch);
  const mixed = fmix32(fmix32(seed >>> 0) ^ Math.imul(epoch + 1, 0x9e3779b9));
  return createRng(mixed).permutation(n);
}

/**
 * Number of batches in an epoch of `n` examples.
 *
 * @example
 * batchCount(10, 4);       // 3
 * batchCount(10, 4, true); // 2
 */
export function batchCount(n: number, batchSize: number, dropLast = false): number {
  checkCounts("batchCount", n, batchSize);
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/**
 * One epoch of shuffled mini-batches: the permutation of {@link epochPermutation}
 * cut into consecutive slices. Without `dropLast` every index appears exactly
 * once; the last batch may be smaller.
 *
 * Shapes: `batchCount(n, batchSize, dropLast)` arrays of `[batchSize]` (the last
 * one `[n % batchSize]` when it is kept).
 *
 * @example
 * for (const idx of batches(train.n, 256, { seed: 1, epoch })) {
 *   const { x, y } = gatherBatch(train, idx);
 *   // ... train step, then x.dispose(); y.dispose();
 * }
 */
export function batches(n: number, batchSize: number, options: BatchOptions): Int32Array[] {
  checkCounts("batches", n, batchSize);
  const { seed, epoch = 0, dropLast = false } = options;
  checkSeedEpoch("batches", seed, epoch);
  return slices(epochPermutation(n, seed, epoch), batchSize, dropLast);
}

/**
 * Batches of `0..n-1` in order, the last one possibly smaller: for evaluation
 * and feature extraction, where order must follow the data.
 *
 * Shapes: `ceil(n / batchSize)` arrays of `[batchSize]` (the last `[n % batchSize]`).
 *
 * @example
 * sequentialBatches(5, 2); // [[0, 1], [2, 3], [4]]
 */
export function sequentialBatches(n: number, batchSize: number): Int32Array[] {
  checkCounts("sequentialBatches", n, batchSize);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return slices(order, batchSize, false);
}

function slices(order: Int32Array, batchSize: number, dropLast: boolean): Int32Array[] {
  const out: Int32Array[] = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const end = Math.min(start + batchSize, order.length);
    if (dropLast && end - start < batchSize) break;
    out.push(order.slice(start, end));
  }
  return out;
}

function checkIndices(caller: string, n: number, indices: ArrayLike<number>): void {
  for (let i = 0; i < indices.length; i++) {
    checkIntegerInRange(caller, `indices[${i}]`, indices[i], 0, n, { maxExclusive: true });
  }
}

/**
 * The images of `set` at `indices`, as one tensor.
 *
 * Shapes: `[indices.length, height, width, channels]` float32.
 *
 * @example
 * const x = gatherImages(train, [0, 5, 7]); // [3, 28, 28, 1]
 */
export function gatherImages(set: ImageSet, indices: ArrayLike<number>): tf.Tensor4D {
  checkImageSet("gatherImages", set);
  checkIndices("gatherImages", set.n, indices);
  const [h, w, c] = set.shape;
  const size = h * w * c;
  const out = new Float32Array(indices.length * size);
  for (let i = 0; i < indices.length; i++) {
    out.set(set.images.subarray(indices[i] * size, (indices[i] + 1) * size), i * size);
  }
  return tf.tensor4d(out, [indices.length, h, w, c], "float32");
}

/**
 * A new {@link ImageSet} holding the images and labels of `set` at
 * `indices`, in that order (copies: the source is left as it is). For
 * scoring a model on part of a test set, or training on part of a train set.
 *
 * @example
 * const firstFive = subsetImages(test, [0, 1, 2, 3, 4]); // n = 5, same shape
 */
export function subsetImages(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  checkImageSet("subsetImages", set);
  checkIndices("subsetImages", set.n, indices);
  const [h, w, c] = set.shape;
  const size = h * w * c;
  const images = new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    images.set(set.images.subarray(indices[i] * size, (indices[i] + 1) * size), i * size);
    labels[i] = set.labels[indices[i]];
  }
  return { images, labels, n: indices.length, shape: [h, w, c] };
}

/**
 * The labels of `set` at `indices`.
 *
 * Shapes: `[indices.length]` int32.
 *
 * @example
 * const y = gatherLabels(train, [0, 5, 7]); // [3]
 */
export function gatherLabels(set: ImageSet, indices: ArrayLike<number>): tf.Tensor1D {
  checkImageSet("gatherLabels", set);
  checkIndices("gatherLabels", set.n, indices);
  const out = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = set.labels[indices[i]];
  return tf.tensor1d(out, "int32");
}

/**
 * Images and labels of `set` at `indices`: one mini-batch.
 *
 * Shapes: `x` `[indices.length, height, width, channels]`, `y` `[indices.length]` int32.
 *
 * @example
 * const { x, y } = gatherBatch(train, batches(train.n, 128, { seed: 0 })[0]);
 */
export function gatherBatch(set: ImageSet, indices: ArrayLike<number>): { x: tf.Tensor4D; y: tf.Tensor1D } {
  checkImageSet("gatherBatch", set);
  checkIndices("gatherBatch", set.n, indices);
  return { x: gatherImages(set, indices), y: gatherLabels(set, indices) };
}
