/**
 * Cutout (DeVries & Taylor 2017, "Improved Regularization of Convolutional
 * Neural Networks with Cutout"): a random square of each image set to 0.
 */
import { tf } from "../backend/tf";
import { createRng } from "../data/random";
import { type Augmentation, checkImages } from "./augmentation";
import { checkInteger, checkNonNegativeInteger, checkProbability } from "../validation/arguments";

/** Options of {@link cutout}. */
export interface CutoutOptions {
  /** Side of the square in pixels; default 8. */
  size?: number;
  /** Probability that an image gets a square; default 1. */
  p?: number;
}

/**
 * The `[batch, height, width, 1]` keep-masks (1 keep, 0 cut) {@link cutout}
 * multiplies by: per image, with probability `p`, a `size` x `size` square
 * whose centre pixel is uniform over the image, clipped at the border (as in
 * the paper, so a square near an edge cuts less).
 *
 * Shapes: returns `[batch * height * width]`.
 *
 * @example
 * const mask = cutoutMasks(4, 28, 28, { size: 8 }, 7);
 */
export function cutoutMasks(batch: number, height: number, width: number, options: CutoutOptions, seed: number): Float32Array {
  const { size, p } = resolve("cutoutMasks", options);
  checkInteger("cutoutMasks", "seed", seed);
  const rng = createRng(seed);
  const mask = new Float32Array(batch * height * width).fill(1);
  const half = Math.floor(size / 2);
  for (let i = 0; i < batch; i++) {
    const cy = rng.int(height);
    const cx = rng.int(width);
    if (!(rng.next() < p)) continue;
    for (let y = Math.max(0, cy - half); y < Math.min(height, cy - half + size); y++) {
      for (let x = Math.max(0, cx - half); x < Math.min(width, cx - half + size); x++) mask[(i * height + y) * width + x] = 0;
    }
  }
  return mask;
}

function resolve(fn: string, options: CutoutOptions): { size: number; p: number } {
  const size = options.size ?? 8;
  checkNonNegativeInteger(fn, "options.size", size);
  const p = options.p ?? 1;
  checkProbability(fn, "options.p", p);
  return { size, p };
}

/**
 * Cutout: each image (with probability `p`) gets a `size` x `size` square,
 * centre uniform over the image and clipped at the border, set to 0 in every
 * channel. Values stay in the input's range. `size: 0` or `p: 0` is the identity.
 *
 * Shapes: `[batch, height, width, channels]` -> the same.
 *
 * @example
 * const holed = cutout({ size: 8 })(x, 7);
 */
export function cutout(options: CutoutOptions = {}): Augmentation {
  const fn = "cutout";
  const resolved = resolve(fn, options);
  return (images, seed) => {
    checkImages(fn, images, seed);
    if (resolved.size === 0 || resolved.p === 0) return images.clone();
    const [batch, height, width] = images.shape;
    const mask = cutoutMasks(batch, height, width, resolved, seed);
    return tf.tidy(() => tf.mul(images, tf.tensor4d(mask, [batch, height, width, 1])) as tf.Tensor4D);
  };
}
