/**
 * The augmentation type shared by the image augmentations of the pretext
 * tasks (SimCLR, MoCo, BYOL, ...), and the argument checks they share.
 *
 * An augmentation is a plain function `(images, seed) -> images`: batched
 * (one call per training step), with per-image random parameters drawn from
 * `createRng(seed)` in plain TS, so the same seed gives the same output on
 * every backend.
 */
import { tf } from "../backend/tf";
import { checkInteger } from "../validation/arguments";

/**
 * A seeded, batched image augmentation.
 *
 * Shapes: `[batch, height, width, channels]` float32 -> the same shape. The
 * same seed gives the same output; the input is never disposed.
 */
export type Augmentation = (images: tf.Tensor4D, seed: number) => tf.Tensor4D;

/**
 * Two independent draws of an augmentation of the same batch, as the
 * joint-embedding methods (SimCLR, BYOL, SimSiam, Barlow Twins, ...) need.
 *
 * Shapes: `[batch, height, width, channels]` -> two tensors of that shape.
 */
export type TwoViewAugment = (images: tf.Tensor4D, seed: number) => [tf.Tensor4D, tf.Tensor4D];

/** Rejects anything but a float32 `[batch, height, width, channels]` tensor and an integer seed. */
export function checkImages(fn: string, images: tf.Tensor, seed: number): void {
  if (!(images instanceof tf.Tensor)) throw new Error(`${fn}: images must be a tf.Tensor, got ${typeof images}`);
  if (images.rank !== 4) throw new Error(`${fn}: images must have shape [batch, height, width, channels], got [${images.shape}]`);
  if (images.dtype !== "float32") throw new Error(`${fn}: images must be float32, got ${images.dtype}`);
  checkInteger(fn, "seed", seed);
}

/** Rejects a probability outside [0, 1]. */
export function checkProbability(fn: string, name: string, p: number): void {
  if (!(p >= 0 && p <= 1)) throw new Error(`${fn}: ${name} must be a probability in [0, 1], got ${p}`);
}

/** Rejects anything but `[low, high]` with `min <= low <= high <= max`, all finite. */
export function checkInterval(fn: string, name: string, value: readonly [number, number], min: number, max: number): void {
  const ok =
    Array.isArray(value) &&
    value.length === 2 &&
    Number.isFinite(value[0]) &&
    Number.isFinite(value[1]) &&
    value[0] <= value[1] &&
    value[0] >= min &&
    value[1] <= max;
  if (!ok) throw new Error(`${fn}: ${name} must be [low, high] with ${min} <= low <= high <= ${max}, got ${JSON.stringify(value)}`);
}

/** Rejects a number that is not finite and >= 0. */
export function checkNonNegative(fn: string, name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0)) throw new Error(`${fn}: ${name} must be a finite number >= 0, got ${value}`);
}

/** A uniform draw from `[low, high]`. */
export function uniform(next: () => number, [low, high]: readonly [number, number]): number {
  return low + (high - low) * next();
}
