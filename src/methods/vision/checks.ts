/**
 * Option and input checks shared by the vision methods of this folder, so
 * every method rejects bad input with the same messages.
 */
import { tf } from "../../backend/tf";
import type { TwoViewAugment } from "../../augment/augmentation";
import { simclrAugment, twoViews } from "../../augment/compose";
import type { VisionBatch } from "./method";
import type { StepContext } from "../../training/loop";
import { checkInteger, checkPositiveInteger, checkRank, describe } from "../../validation/arguments";

export { checkNonNegativeInteger, checkPositiveInteger, checkPositiveNumber } from "../../validation/arguments";

/** What every method of this folder takes. */
export interface VisionMethodOptions {
  /** The encoder to train, `[B, H, W, C]` (the data's image shape) -> `[B, encoderDim]`; the method never disposes it. */
  encoder: tf.LayersModel;
  /** Size of the encoder's output. */
  encoderDim: number;
  /** Draws the two views of a batch; default `twoViews(simclrAugment())`. */
  augmentation?: TwoViewAugment;
  /** Seed of the heads' initialisers; default 0. */
  seed?: number;
}

/** Checks the options every method shares; returns the augmentation and seed with defaults. */
export function checkVisionMethodOptions(fn: string, options: VisionMethodOptions): { augmentation: TwoViewAugment; seed: number } {
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object {encoder, encoderDim, ...}, got ${describe(options)}`);
  if (!(options.encoder instanceof tf.LayersModel)) throw new Error(`${fn}: options.encoder must be a tf.LayersModel, got ${describe(options.encoder)}`);
  checkPositiveInteger(fn, "options.encoderDim", options.encoderDim);
  const augmentation = options.augmentation ?? twoViews(simclrAugment());
  if (typeof augmentation !== "function") throw new Error(`${fn}: options.augmentation must be a function (images, seed) => [view1, view2], got ${describe(augmentation)}`);
  const seed = options.seed ?? 0;
  checkInteger(fn, "options.seed", seed);
  return { augmentation, seed };
}

/** Throws unless `hidden` is an array of positive integers. */
export function checkHidden(fn: string, name: string, hidden: unknown): void {
  if (!Array.isArray(hidden) || !hidden.every((h) => Number.isInteger(h) && h > 0)) {
    throw new Error(`${fn}: ${name} must be an array of positive integers, got ${describe(hidden)}`);
  }
}

/** The batch's images, checked: float32 `[B, height, width, channels]` with B >= 2 (every method here compares examples of a batch). */
export function checkVisionBatch(fn: string, batch: VisionBatch): tf.Tensor4D {
  const images = batch?.images as unknown;
  checkRank(fn, "batch.images", images, 4, "float32");
  if (images.shape[0] < 2) throw new Error(`${fn}: batch.images must be a batch [B, height, width, channels] with B >= 2, got ${describe(images)}`);
  return images as tf.Tensor4D;
}

/** `model.apply(x, { training })`, checked to be `[B, dim]`. */
export function applyChecked(fn: string, what: string, model: tf.LayersModel, x: tf.Tensor, dim: number, training = true): tf.Tensor2D {
  const y = model.apply(x, { training }) as tf.Tensor;
  if (!(y instanceof tf.Tensor) || y.rank !== 2 || y.shape[0] !== x.shape[0] || y.shape[1] !== dim) {
    throw new Error(`${fn}: ${what} must map [${x.shape.join(",")}] to [${x.shape[0]},${dim}], got ${describe(y)}`);
  }
  return y as tf.Tensor2D;
}

/**
 * The projection head's sizes every joint-embedding method takes, checked:
 * `hidden` (default `[encoderDim]`) and `projectionDim` (default `defaultProjectionDim`).
 */
export function checkProjectorOptions(
  fn: string,
  options: { hidden?: number[]; projectionDim?: number },
  encoderDim: number,
  defaultProjectionDim = 64,
): { hidden: number[]; projectionDim: number } {
  const hidden = options.hidden ?? [encoderDim];
  checkHidden(fn, "options.hidden", hidden);
  const projectionDim = options.projectionDim ?? defaultProjectionDim;
  checkPositiveInteger(fn, "options.projectionDim", projectionDim);
  return { hidden, projectionDim };
}

/**
 * Both augmented views of a batch through `embed`, one view per call (so
 * BatchNorm sees one view at a time, as on the papers' per-device batches):
 * `[z1, z2]`, each `[B, dim]`. The views are drawn with the step's seed.
 */
export function embedTwoViews(
  where: string,
  batch: VisionBatch,
  ctx: StepContext,
  augmentation: TwoViewAugment,
  embed: (x: tf.Tensor4D) => tf.Tensor2D,
): [tf.Tensor2D, tf.Tensor2D] {
  const images = checkVisionBatch(where, batch);
  const [x1, x2] = augmentation(images, ctx.seed);
  return [embed(x1), embed(x2)];
}
