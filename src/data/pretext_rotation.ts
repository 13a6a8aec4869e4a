/**
 * The rotation pretext task, RotNet: a network that can tell by how much an
 * image was turned must have found the object in it and its upright pose.
 *
 * Gidaris, Singh, Komodakis (2018), "Unsupervised Representation Learning by
 * Predicting Image Rotations", ICLR. As in the paper, every image of a batch
 * appears at all four angles in the same batch (they found this better than
 * one random angle per image), so the four labels are exactly balanced.
 */
import { tf } from "../backend/tf";
import { createRng } from "./random";
import { checkImages } from "./pretext_common";
import { checkInteger, describe } from "../validation/arguments";

/** What {@link rotationBatch} returns. */
export interface RotationBatch {
  /** `[4 * batch, size, size, channels]` float32: every image at 0, 90, 180 and 270 degrees. */
  images: tf.Tensor4D;
  /** `[4 * batch]` int32: the quarter turns of each row, 0..3 (counter-clockwise). */
  labels: tf.Tensor1D;
  /** `[4 * batch]`: the index of each row's source image in the input batch. */
  sources: Int32Array;
}

/**
 * `images` turned by `k` quarter turns counter-clockwise (`np.rot90(x, k)` on
 * each image): an exact permutation of pixels, so row `i`, column `j` of the
 * result is, for k = 1, 2, 3, pixel `(j, n-1-i)`, `(n-1-i, n-1-j)`, `(n-1-j, i)`
 * of the source, `n` the side.
 *
 * Shapes: `[batch, n, n, channels]` -> the same.
 *
 * @example
 * const upsideDown = rotateQuarterTurns(images, 2); // [B, 28, 28, 1]
 */
export function rotateQuarterTurns(images: tf.Tensor4D, k: number): tf.Tensor4D {
  const fn = "rotateQuarterTurns";
  checkSquareImages(fn, images);
  checkInteger(fn, "k", k);
  const turns = ((k % 4) + 4) % 4;
  return tf.tidy(() => {
    if (turns === 0) return images.clone();
    if (turns === 2) return tf.reverse(images, [1, 2]);
    // The transpose swaps rows and columns; flipping the rows then gives a
    // counter-clockwise turn, flipping the columns a clockwise one.
    const swapped = tf.transpose(images, [0, 2, 1, 3]);
    return tf.reverse(swapped, turns === 1 ? 1 : 2);
  });
}

/**
 * The RotNet batch of `images`: each image at 0, 90, 180 and 270 degrees
 * (counter-clockwise), labelled 0, 1, 2, 3. The rotations are exact pixel
 * permutations (no interpolation, no black corners), which is why the task
 * uses quarter turns.
 *
 * Row order: without `seed`, angle-major: rows `k * batch .. (k+1) * batch - 1`
 * are all images turned by `k` quarter turns, in input order. With `seed`, the
 * `4 * batch` rows are shuffled by a permutation from `createRng(seed)` (the
 * same seed gives the same order); `sources` says where each row came from.
 *
 * Shapes: `images` `[batch, n, n, channels]` float32 (square) ->
 * `images` `[4 * batch, n, n, channels]`, `labels` `[4 * batch]` int32.
 *
 * @example
 * const { images: x, labels } = rotationBatch(digits, 7); // [4B, 28, 28, 1], [4B]
 * const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 4), classifier.apply(x) as tf.Tensor);
 */
export function rotationBatch(images: tf.Tensor4D, seed?: number): RotationBatch {
  const fn = "rotationBatch";
  checkSquareImages(fn, images);
  if (seed !== undefined) checkInteger(fn, "seed", seed);
  const batch = images.shape[0];
  const order = seed === undefined ? Int32Array.from({ length: 4 * batch }, (_, r) => r) : createRng(seed).permutation(4 * batch);
  // Row r of the result is row order[r] of the angle-major stack.
  const labels = Int32Array.from(order, (r) => Math.floor(r / batch));
  const sources = Int32Array.from(order, (r) => r % batch);
  const stacked = tf.tidy(() => {
    const all = tf.concat([0, 1, 2, 3].map((k) => rotateQuarterTurns(images, k)), 0);
    return (seed === undefined ? all : tf.gather(all, tf.tensor1d(order, "int32"))) as tf.Tensor4D;
  });
  return { images: stacked, labels: tf.tensor1d(labels, "int32"), sources };
}

function checkSquareImages(fn: string, images: tf.Tensor4D): void {
  checkImages(fn, images);
  if (images.shape[1] !== images.shape[2]) {
    throw new Error(`${fn}: images must be square, [batch, n, n, channels], got ${describe(images)}`);
  }
}
