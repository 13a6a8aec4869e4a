/**
 * i-Mix (Lee, Zhu, Sohn, Li, Shin & Lee 2021, "i-Mix: A Domain-Agnostic
 * Strategy for Contrastive Representation Learning", Sec. 3) on the N-pair /
 * SimCLR loss: mixed inputs as anchors, mixed virtual labels as targets.
 */
import { tf } from "../../backend/tf";
import { mixup, type BatchMix, type MixedBatch } from "../../augment/mix";
import * as losses from "../../losses";
import { mlpHead } from "../../models/encoders";
import type { StepContext } from "../../training/loop";
import { deriveSeed } from "../../training/seeds";
import { describe } from "../../validation/arguments";
import type { VisionBatch, VisionMethod } from "./method";
import { applyChecked, checkPositiveNumber, checkProjectorOptions, checkVisionBatch, checkVisionMethodOptions, type VisionMethodOptions } from "./checks";
import { normalizedStd } from "./collapse";

// Stream tag of the mixing draws, apart from the augmentation's ctx.seed.
const MIX_STREAM = 7;

/** Options of {@link createIMix}. */
export interface IMixMethodOptions extends VisionMethodOptions {
  /**
   * How anchors are mixed, e.g. `mixup({ alpha: 1, per: "example" })` or
   * `cutMix({ alpha: 1, per: "example" })`; default
   * `mixup({ alpha: 1, per: "example", dominant: true })`: one lambda ~
   * Beta(1, 1) per image (i-Mix mixes each anchor on its own), folded to
   * max(lambda, 1 - lambda) so every anchor keeps the larger share of itself.
   * `alpha: 0` turns mixing off (see {@link createIMix}).
   */
  mix?: BatchMix;
  /** Method name for labels and tables; default `"i-Mix (mixup)"` with the default mix, else `"i-Mix"` (a BatchMix does not say what it is: name it, e.g. `"i-Mix (CutMix)"`). */
  name?: string;
  /** Hidden sizes of the projection head g; default `[encoderDim]`, as SimCLR's. */
  hidden?: number[];
  /** Size of z = g(h); default 64, as SimCLR's. */
  projectionDim?: number;
  /** BatchNorm after the projector's hidden layers; default true, as SimCLR's. */
  batchNorm?: boolean;
  /**
   * Temperature of the softmax; default 0.5, SimCLR's default here, so that
   * `createIMix` and `createSimclr` at their defaults differ in the loss and
   * the mixing only (a controlled comparison). The paper tunes it per setting.
   */
  temperature?: number;
  /**
   * Mix each view in turn and average the two losses, as the paper does
   * (default true); false mixes view 1 only and costs three forward passes
   * instead of four.
   */
  symmetric?: boolean;
}

/**
 * i-Mix on the N-pair (SimCLR) loss. Each image of the batch is its own
 * class (a "virtual label"). Per step: two augmented views x1, x2 of the
 * batch; view 1 is mixed by `options.mix` (image i with a partner p(i),
 * weight lambda_i on itself); the anchors are the L2-normalised projections
 * a = g(f(mix(x1))) and the positives k = g(f(x2)); the loss is
 * `losses.iMixLoss`, the cross-entropy of the softmax over the B positives
 * against the mixed virtual label (the paper's Sec. 3, i-Mix on the N-pair loss):
 *
 *   l = 1/B sum_i [ log sum_j exp(a_i.k_j / T) - lambda_i a_i.k_i / T - (1 - lambda_i) a_i.k_p(i) / T ].
 *
 * Symmetrically (by default) view 2 is mixed against the positives of view
 * 1, and the two losses are averaged, as the paper does. Each of the four
 * batches (x1, x2, mix(x1), mix(x2)) goes through the networks in its own
 * call (BatchNorm statistics per batch, as SimCLR's views).
 *
 * Unlike SimCLR's NT-Xent, the softmax runs over the other view's B
 * projections only (no same-view negatives): with mixing off (`alpha: 0`)
 * the loss is the symmetric InfoNCE `(infoNCE(z1, z2) + infoNCE(z2, z1)) / 2`
 * of the normalised projections.
 *
 * The mixes are seeded from the step (`deriveSeed(ctx.seed, ...)`), so a run
 * is reproducible and a resumed run mixes as an uninterrupted one.
 * Metrics: `lambda`, the mean share anchors keep of themselves;
 * `accuracy`, the share of anchors whose most similar positive is their
 * dominant source (themselves when lambda_i >= 0.5, else their partner);
 * `std`, {@link normalizedStd} of the unmixed projections of view 1.
 *
 * Shapes: `batch.images` `[B, H, W, C]` (B >= 2) -> encoder `[B, encoderDim]`
 * -> z `[B, projectionDim]` -> scalar loss.
 *
 * @example
 * const encoder = models.smallCnnEncoder({ seed: 1 });
 * const imix = createIMix({ encoder, encoderDim: 128, mix: cutMix({ alpha: 1, per: "example" }), name: "i-Mix (CutMix)", seed: 1 });
 * await training.train({ ...imix, optimizer: adam(1e-3), batches: (e, rng) => imageBatches(rng), steps: 500 });
 * imix.dispose(); // the projector; `encoder` is kept for the linear probe
 */
export function createIMix(options: IMixMethodOptions): VisionMethod {
  const fn = "createIMix";
  const { augmentation, seed } = checkVisionMethodOptions(fn, options);
  const { encoder, encoderDim } = options;
  const { hidden, projectionDim } = checkProjectorOptions(fn, options, encoderDim);
  const temperature = options.temperature ?? 0.5;
  checkPositiveNumber(fn, "options.temperature", temperature);
  const batchNorm = options.batchNorm ?? true;
  if (typeof batchNorm !== "boolean") throw new Error(`${fn}: options.batchNorm must be a boolean, got ${describe(batchNorm)}`);
  const symmetric = options.symmetric ?? true;
  if (typeof symmetric !== "boolean") throw new Error(`${fn}: options.symmetric must be a boolean, got ${describe(symmetric)}`);
  const mix = options.mix ?? mixup({ alpha: 1, per: "example", dominant: true });
  if (typeof mix !== "function") throw new Error(`${fn}: options.mix must be a function (images, seed) => MixedBatch, e.g. mixup({ alpha: 1 }), got ${describe(mix)}`);
  const name = options.name ?? (options.mix === undefined ? "i-Mix (mixup)" : "i-Mix");
  if (typeof name !== "string" || name.trim() === "") throw new Error(`${fn}: options.name must be a non-empty string, got ${describe(name)}`);
  const projector = mlpHead({ inputDim: encoderDim, hidden, outputDim: projectionDim, batchNorm, seed, name: "imix_projector" });
  const where = "i-Mix.loss";
  const project = (x: tf.Tensor4D) =>
    losses.l2NormalizeRows(applyChecked(where, "projector", projector, applyChecked(where, "encoder", encoder, x, encoderDim), projectionDim));

  /** One direction: `view` mixed into anchors against the positives `positives` (normalised projections of the other view). */
  const direction = (view: tf.Tensor4D, positives: tf.Tensor2D, ctx: StepContext, k: number) => {
    const mixed = checkedMix(where, mix, view, deriveSeed(ctx.seed, MIX_STREAM, k));
    const anchors = project(mixed.images);
    return { loss: losses.iMixLoss(anchors, positives, mixed, { temperature }), anchors, mixed };
  };

  return {
    name,
    encoder,
    trainable: [encoder, projector],
    loss(batch: VisionBatch, ctx: StepContext) {
      const images = checkVisionBatch(where, batch);
      const [x1, x2] = augmentation(images, ctx.seed);
      const z1 = project(x1);
      const z2 = project(x2);
      const parts = symmetric ? [direction(x1, z2, ctx, 0), direction(x2, z1, ctx, 1)] : [direction(x1, z2, ctx, 0)];
      const loss = parts.length === 1 ? parts[0].loss : (tf.mul(tf.add(parts[0].loss, parts[1].loss), 0.5) as tf.Scalar);
      const lambdas = parts.flatMap((p) => Array.from(p.mixed.lambdas));
      const hits = parts.map((p, k) => dominantHits(p.anchors, k === 0 ? z2 : z1, p.mixed));
      const accuracy = tf.div(hits.length === 1 ? hits[0] : tf.add(hits[0], hits[1]), lambdas.length) as tf.Scalar;
      const meanLambda = tf.scalar(lambdas.reduce((s, l) => s + l, 0) / lambdas.length);
      return { loss, metrics: { lambda: meanLambda, accuracy, std: normalizedStd(z1) } };
    },
    dispose() {
      projector.dispose();
    },
  };
}

/** `mix(view, seed)`, checked to return images of the view's shape (partners and lambdas are checked by `iMixLoss`). */
function checkedMix(where: string, mix: BatchMix, view: tf.Tensor4D, seed: number): MixedBatch {
  const mixed = mix(view, seed);
  const images = mixed?.images as unknown;
  if (!(images instanceof tf.Tensor) || images.dtype !== "float32" || images.shape.join(",") !== view.shape.join(",")) {
    throw new Error(`${where}: options.mix must return { images } of shape [${view.shape}] float32, got ${describe(images)}`);
  }
  return mixed;
}

/** How many anchors have, as their most similar positive, their dominant source (self if lambda >= 0.5, else the partner). No gradient needed. */
function dominantHits(anchors: tf.Tensor2D, positives: tf.Tensor2D, mixed: MixedBatch): tf.Scalar {
  return tf.tidy(() => {
    const dominant = Int32Array.from(mixed.lambdas, (l, i) => (l >= 0.5 ? i : mixed.partners[i]));
    const nearest = tf.argMax(tf.matMul(anchors, tf.transpose(positives)), 1);
    return tf.sum(tf.cast(tf.equal(nearest, tf.tensor1d(dominant, "int32")), "float32")) as tf.Scalar;
  });
}
