/**
 * SimCLR (Chen, Kornblith, Norouzi & Hinton 2020, "A Simple Framework for
 * Contrastive Learning of Visual Representations"), and the checks and the
 * collapse metric the other joint-embedding methods of this folder share.
 */
import { tf } from "../../backend/tf";
import type { TwoViewAugment } from "../../augment/augmentation";
import { simclrAugment, twoViews } from "../../augment/compose";
import * as losses from "../../losses";
import { mlpHead } from "../../models/encoders";
import type { VisionBatch, VisionMethod } from "./method";

/** What every method of this folder takes. */
export interface VisionMethodOptions {
  /** The encoder to train, `[B, 28, 28, 1]` -> `[B, encoderDim]`; the method never disposes it. */
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
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object {encoder, encoderDim, ...}, got ${options}`);
  if (!(options.encoder instanceof tf.LayersModel)) throw new Error(`${fn}: options.encoder must be a tf.LayersModel, got ${options.encoder}`);
  checkPositiveInteger(fn, "options.encoderDim", options.encoderDim);
  const augmentation = options.augmentation ?? twoViews(simclrAugment());
  if (typeof augmentation !== "function") throw new Error(`${fn}: options.augmentation must be a function (images, seed) => [view1, view2], got ${typeof augmentation}`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: options.seed must be an integer, got ${seed}`);
  return { augmentation, seed };
}

/** Throws unless `v` is a positive integer. */
export function checkPositiveInteger(fn: string, name: string, v: unknown): void {
  if (!Number.isInteger(v) || (v as number) <= 0) throw new Error(`${fn}: ${name} must be a positive integer, got ${v}`);
}

/** Throws unless `v` is a finite number > 0. */
export function checkPositiveNumber(fn: string, name: string, v: unknown): void {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) throw new Error(`${fn}: ${name} must be a finite number > 0, got ${v}`);
}

/** Throws unless `hidden` is an array of positive integers. */
export function checkHidden(fn: string, name: string, hidden: unknown): void {
  if (!Array.isArray(hidden) || !hidden.every((h) => Number.isInteger(h) && h > 0)) {
    throw new Error(`${fn}: ${name} must be an array of positive integers, got ${JSON.stringify(hidden)}`);
  }
}

/** The batch's images, checked: float32 `[B, height, width, channels]` with B >= 2 (every method here compares examples of a batch). */
export function checkVisionBatch(fn: string, batch: VisionBatch): tf.Tensor4D {
  const images = batch?.images as unknown;
  if (!(images instanceof tf.Tensor)) throw new Error(`${fn}: batch.images must be a tf.Tensor4D [B, 28, 28, 1], got ${typeof images}`);
  if (images.rank !== 4 || images.shape[0] < 2) throw new Error(`${fn}: batch.images must have shape [B, 28, 28, 1] with B >= 2, got [${images.shape.join(", ")}]`);
  if (images.dtype !== "float32") throw new Error(`${fn}: batch.images must be float32, got ${images.dtype}`);
  return images as tf.Tensor4D;
}

/** `model.apply(x, { training })`, checked to be `[B, dim]`. */
export function applyChecked(fn: string, what: string, model: tf.LayersModel, x: tf.Tensor, dim: number, training = true): tf.Tensor2D {
  const y = model.apply(x, { training }) as tf.Tensor;
  if (!(y instanceof tf.Tensor) || y.rank !== 2 || y.shape[0] !== x.shape[0] || y.shape[1] !== dim) {
    const got = y instanceof tf.Tensor ? `[${y.shape.join(", ")}]` : typeof y;
    throw new Error(`${fn}: ${what} must map [${x.shape.join(", ")}] to [${x.shape[0]}, ${dim}], got ${got}`);
  }
  return y as tf.Tensor2D;
}

/**
 * The collapse monitor of SimSiam (Chen & He 2021, Sec. 4.1): the standard
 * deviation over the batch of the L2-normalised outputs, averaged over the
 * `D` dimensions. About `1/sqrt(D)` for outputs spread over the sphere, 0 for
 * a collapsed (constant) output.
 *
 * Shapes: `z` `[B, D]` -> scalar.
 */
export function normalizedStd(z: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.sqrt(tf.moments(losses.l2NormalizeRows(z), 0).variance)) as tf.Scalar);
}

/** Options of {@link createSimclr}. */
export interface SimclrOptions extends VisionMethodOptions {
  /** Hidden sizes of the projection head g; default `[encoderDim]` (the paper: one hidden layer as wide as the encoder). */
  hidden?: number[];
  /** Size of z = g(h); default 64 (the paper: 128 on a 2048-d ResNet-50 output). */
  projectionDim?: number;
  /** BatchNorm after the projector's hidden layers, as the paper's code has; default true. */
  batchNorm?: boolean;
  /** Temperature tau of NT-Xent; default 0.5 (the paper's CIFAR-10 setting; 0.1 needs its large batches). */
  temperature?: number;
}

/**
 * SimCLR: two augmented views x1, x2 of each image, h = f(x) by the encoder,
 * z = g(h) by an MLP projection head, and NT-Xent (the paper's eq. 1) over the
 * 2B projections: each z is pulled to its other view and pushed from the
 * other 2B - 2,
 *
 *   l(i, j) = -log exp(cos(z_i, z_j)/tau) / sum_{k != i} exp(cos(z_i, z_k)/tau).
 *
 * The two views go through the networks in separate calls (BatchNorm
 * statistics per view, as in the paper's per-device batches).
 * Metrics: `accuracy`, the share of the 2B projections whose nearest other
 * projection is their positive; `std`, {@link normalizedStd} of z1.
 *
 * Shapes: `batch.images` `[B, 28, 28, 1]` (B >= 2) -> encoder `[B, encoderDim]`
 * -> z `[B, projectionDim]` -> scalar loss.
 *
 * @example
 * const encoder = models.smallCnnEncoder({ seed: 1 });
 * const simclr = createSimclr({ encoder, encoderDim: 128, seed: 1 });
 * await training.train({ ...simclr, optimizer: adam(1e-3), batches: (e, rng) => imageBatches(rng), steps: 500 });
 * simclr.dispose(); // the projector; `encoder` is kept for the linear probe
 */
export function createSimclr(options: SimclrOptions): VisionMethod {
  const fn = "createSimclr";
  const { augmentation, seed } = checkVisionMethodOptions(fn, options);
  const { encoder, encoderDim } = options;
  const hidden = options.hidden ?? [encoderDim];
  checkHidden(fn, "options.hidden", hidden);
  const projectionDim = options.projectionDim ?? 64;
  checkPositiveInteger(fn, "options.projectionDim", projectionDim);
  const temperature = options.temperature ?? 0.5;
  checkPositiveNumber(fn, "options.temperature", temperature);
  const projector = mlpHead({ inputDim: encoderDim, hidden, outputDim: projectionDim, batchNorm: options.batchNorm ?? true, seed, name: "simclr_projector" });
  const where = "SimCLR.loss";
  const project = (x: tf.Tensor4D) => applyChecked(where, "projector", projector, applyChecked(where, "encoder", encoder, x, encoderDim), projectionDim);
  return {
    name: "SimCLR",
    encoder,
    trainable: [encoder, projector],
    loss(batch, ctx) {
      const images = checkVisionBatch(where, batch);
      const [x1, x2] = augmentation(images, ctx.seed);
      const z1 = project(x1);
      const z2 = project(x2);
      const loss = losses.ntXentLoss(z1, z2, { temperature });
      return { loss, metrics: { accuracy: positiveAccuracy(z1, z2), std: normalizedStd(z1) } };
    },
    dispose() {
      projector.dispose();
    },
  };
}

/** Share of the 2B rows of [z1; z2] whose most cosine-similar other row is their other view. */
function positiveAccuracy(z1: tf.Tensor2D, z2: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const n = z1.shape[0];
    const unit = losses.l2NormalizeRows(tf.concat([z1, z2], 0) as tf.Tensor2D);
    // Cosines are >= -1, so subtracting 3 on the diagonal rules out self-matches.
    const sims = tf.sub(losses.gram(unit), tf.mul(tf.eye(2 * n), 3));
    const positives = tf.tensor1d(Array.from({ length: 2 * n }, (_, i) => (i + n) % (2 * n)), "int32");
    return tf.mean(tf.cast(tf.equal(tf.argMax(sims, 1), positives), "float32")) as tf.Scalar;
  });
}
