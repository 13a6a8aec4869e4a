/**
 * Learning to count (Noroozi, Pirsiavash & Favaro 2017, "Representation
 * Learning by Learning to Count", ICCV): features that behave like counts of
 * visual primitives. Cutting an image into tiles does not change how many
 * primitives it holds, and scaling it down does not either, so the counts of
 * the 2x2 tiles must add up to the counts of the downsampled whole image.
 * That alone is solved by counting nothing (phi = 0), so a contrastive term
 * asks the counts of another image to differ from the tiles' sum by a margin.
 */
import { tf } from "../../backend/tf";
import { createRng } from "../../data/random";
import type { StepContext } from "../../training/loop";
import type { VisionBatch, VisionMethod } from "./method";
import { applyChecked, checkPositiveInteger, checkPositiveNumber, checkVisionBatch } from "./checks";
import { checkInteger, checkMatrix, checkOptions, describe } from "../../validation/arguments";

/** Options of {@link countingLoss}. */
export interface CountingLossOptions {
  /** Margin M of the contrastive term: another image's counts must be at least this far (squared) from the tiles' sum; default 10 (the paper's). */
  margin?: number;
}

/**
 * The counting loss of the paper (its eq. 7), averaged over the batch:
 *
 *   l(x, y) = ||phi(D x) - sum_j phi(T_j x)||^2 + max(0, M - ||phi(D y) - sum_j phi(T_j x)||^2),
 *
 * with `whole` = phi(D x) the counts of the downsampled image, `tileSum` =
 * sum_j phi(T_j x) the summed counts of its tiles, and `other` = phi(D y)
 * the counts of another downsampled image.
 *
 * Shapes: `whole`, `tileSum`, `other` `[B, D]` float32 -> scalar.
 *
 * @example
 * countingLoss(tf.tensor2d([[1, 2]]), tf.tensor2d([[1, 1]]), tf.tensor2d([[3, 1]]), { margin: 5 });
 * // 1 + max(0, 5 - 4) = 2
 */
export function countingLoss(whole: tf.Tensor2D, tileSum: tf.Tensor2D, other: tf.Tensor2D, options: CountingLossOptions = {}): tf.Scalar {
  const fn = "countingLoss";
  checkMatrix(fn, "whole", whole, undefined, undefined, "float32");
  const [b, d] = whole.shape;
  checkMatrix(fn, "tileSum", tileSum, b, d, "float32");
  checkMatrix(fn, "other", other, b, d, "float32");
  checkOptions(fn, options, "{margin?}");
  const margin = options.margin ?? 10;
  checkPositiveNumber(fn, "options.margin", margin);
  return tf.tidy(() => {
    const same = tf.sum(tf.square(tf.sub(whole, tileSum)), 1);
    const apart = tf.sum(tf.square(tf.sub(other, tileSum)), 1);
    return tf.mean(tf.add(same, tf.relu(tf.sub(margin, apart)))) as tf.Scalar;
  });
}

/**
 * The four quadrant tiles of each image, tile-major: rows `j * B .. (j+1) * B - 1`
 * are tile j (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right) of every image.
 *
 * Shapes: `[B, 2h, 2w, c]` -> `[4B, h, w, c]`.
 *
 * @example
 * quadrantTiles(digits); // [B, 28, 28, 1] -> [4B, 14, 14, 1]
 */
export function quadrantTiles(images: tf.Tensor4D): tf.Tensor4D {
  checkEvenImages("quadrantTiles", images);
  const [b, height, width, c] = images.shape;
  const h = height / 2, w = width / 2;
  return tf.tidy(() =>
    tf.concat([[0, 0], [0, w], [h, 0], [h, w]].map(([top, left]) => tf.slice(images, [0, top, left, 0], [b, h, w, c])), 0) as tf.Tensor4D,
  );
}

/**
 * The image scaled down by 2 along each axis, each output pixel the mean of
 * a 2x2 block (the box filter; the paper downsamples by the same factor as
 * the tiling so tiles and whole image share one size).
 *
 * Shapes: `[B, 2h, 2w, c]` -> `[B, h, w, c]`.
 *
 * @example
 * downsampleByTwo(digits); // [B, 28, 28, 1] -> [B, 14, 14, 1]
 */
export function downsampleByTwo(images: tf.Tensor4D): tf.Tensor4D {
  checkEvenImages("downsampleByTwo", images);
  return tf.tidy(() => tf.avgPool(images, 2, 2, "valid") as tf.Tensor4D);
}

/** Options of {@link createCounting}. */
export interface CountingOptions {
  /**
   * The counting network phi, `[n, 14, 14, 1]` -> `[n, encoderDim]`, with
   * non-negative outputs (counts; e.g. `smallCnnEncoder({ inputShape: [14, 14, 1] })`,
   * whose last ReLU is global-average pooled). Fully convolutional, it also
   * encodes whole 28x28 digits for a probe. The method never disposes it.
   */
  encoder: tf.LayersModel;
  /** Size of the encoder's output. */
  encoderDim: number;
  /**
   * Margin M of {@link countingLoss}; default 10, the paper's. It sets the
   * scale of the counts: with `smallCnnEncoder({ inputShape: [14, 14, 1] })`
   * (128 counts) the untrained count error is about 20-30 and, after 125
   * steps of 64 digits, 1.6, with the other image's counts apart by the margin.
   */
  margin?: number;
}

/**
 * The counting method: for each image x of the batch, phi of its
 * downsampled self `D x` and of its four quadrant tiles `T_j x` (all 14x14
 * for a digit, through the encoder in one call), and phi of another image
 * `D y` of the batch (image `(b + s) mod B`, the shift `s` in 1..B-1 drawn
 * from the step's seed, so never x itself); loss {@link countingLoss}.
 *
 * Metrics: `accuracy`, the share of images whose tiles' summed counts lie
 * closer to their own downsampled counts than to the other image's (chance
 * about 0.5); `countError`, the mean of ||phi(D x) - sum_j phi(T_j x)||^2.
 *
 * Shapes: `batch.images` `[B, 2h, 2w, 1]` (B >= 2; 28x28 digits) -> encoder
 * input `[5B, h, w, 1]` -> counts `[5B, encoderDim]` -> scalar loss.
 *
 * @example
 * const encoder = models.smallCnnEncoder({ inputShape: [14, 14, 1], seed: 1 });
 * const counting = createCounting({ encoder, encoderDim: 128 });
 * await training.train({ ...counting, optimizer: training.adam(1e-3), batches, steps: 125 });
 * counting.dispose(); // nothing of its own to free; the encoder is kept
 */
export function createCounting(options: CountingOptions): VisionMethod {
  const fn = "createCounting";
  checkOptions(fn, options, "{encoder, encoderDim, margin?}");
  if (!(options.encoder instanceof tf.LayersModel)) throw new Error(`${fn}: options.encoder must be a tf.LayersModel, got ${describe(options.encoder)}`);
  const { encoder, encoderDim } = options;
  checkPositiveInteger(fn, "options.encoderDim", encoderDim);
  const margin = options.margin ?? 10;
  checkPositiveNumber(fn, "options.margin", margin);
  const where = "counting.loss";
  return {
    name: "counting",
    encoder,
    trainable: [encoder],
    loss(batch: VisionBatch, ctx: StepContext) {
      const images = checkVisionBatch(where, batch);
      checkEvenImages(where, images, "batch.images");
      const b = images.shape[0];
      const counts = applyChecked(where, "encoder", encoder, tf.concat([downsampleByTwo(images), quadrantTiles(images)], 0), encoderDim);
      const whole = tf.slice(counts, [0, 0], [b, encoderDim]) as tf.Tensor2D;
      const tileSum = tf.sum(tf.reshape(tf.slice(counts, [b, 0], [4 * b, encoderDim]), [4, b, encoderDim]), 0) as tf.Tensor2D;
      const other = tf.gather(whole, tf.tensor1d(otherImages(b, ctx.seed), "int32")) as tf.Tensor2D;
      const loss = countingLoss(whole, tileSum, other, { margin });
      const same = tf.sum(tf.square(tf.sub(whole, tileSum)), 1);
      const apart = tf.sum(tf.square(tf.sub(other, tileSum)), 1);
      return { loss, metrics: { accuracy: tf.mean(tf.cast(tf.less(same, apart), "float32")) as tf.Scalar, countError: tf.mean(same) as tf.Scalar } };
    },
    itemsPerBatch: (batch: VisionBatch) => batch.images.shape[0],
    dispose() {
      // The encoder is the caller's; the method owns no tensors.
    },
  };
}

/**
 * For each of `b` images the index of the "other" image y: `(i + s) mod b`
 * with one shift `s` in 1..b-1 drawn from `seed`, so y is never x itself.
 *
 * @example
 * otherImages(4, 7); // e.g. [2, 3, 0, 1]
 */
export function otherImages(b: number, seed: number): Int32Array {
  checkPositiveInteger("otherImages", "b", b);
  checkInteger("otherImages", "seed", seed);
  if (b < 2) throw new Error(`otherImages: b must be at least 2, got ${b}`);
  const shift = 1 + createRng(seed).int(b - 1);
  return Int32Array.from({ length: b }, (_, i) => (i + shift) % b);
}

function checkEvenImages(fn: string, images: unknown, arg = "images"): asserts images is tf.Tensor4D {
  const ok = images instanceof tf.Tensor && images.rank === 4 && images.dtype === "float32" && images.shape[1] % 2 === 0 && images.shape[2] % 2 === 0 && images.shape[1] > 0 && images.shape[2] > 0;
  if (!ok) throw new Error(`${fn}: ${arg} must be a float32 tensor [batch, 2h, 2w, channels] of even height and width, got ${describe(images)}`);
}
