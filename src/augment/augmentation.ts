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
import { checkInteger, checkRank, describe } from "../validation/arguments";

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
  checkRank(fn, "images", images, 4, "float32");
  checkInteger(fn, "seed", seed);
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
  if (!ok) throw new Error(`${fn}: ${name} must be [low, high] with ${min} <= low <= high <= ${max}, got ${describe(value)}`);
}

/** A uniform draw from `[low, high]`. */
export function uniform(next: () => number, [low, high]: readonly [number, number]): number {
  return low + (high - low) * next();
}
