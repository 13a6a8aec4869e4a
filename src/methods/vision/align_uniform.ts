/**
 * Training an encoder directly on alignment and uniformity (Wang & Isola
 * 2020, "Understanding Contrastive Representation Learning through Alignment
 * and Uniformity on the Hypersphere", ICML).
 */
import { tf } from "../../backend/tf";
import { alignUniformLoss } from "../../losses/align_uniform";
import { alignment, uniformity } from "../../evaluation/alignment_uniformity";
import type { VisionMethod } from "./method";
import { applyChecked, checkPositiveNumber, embedTwoViews, checkVisionMethodOptions, type VisionMethodOptions } from "./checks";
import { normalizedStd, positiveAccuracy } from "./collapse";
import { checkNonNegativeNumber } from "../../validation/arguments";

/** Options of {@link createAlignUniform}. */
export interface AlignUniformMethodOptions extends VisionMethodOptions {
  /** Weight lambda of the uniformity term; default 1. Sweep it to trade alignment for uniformity. */
  lambda?: number;
  /** Exponent alpha of the alignment distance; default 2. */
  alpha?: number;
  /** Gaussian-potential scale t of uniformity; default 2. */
  t?: number;
}

/**
 * Wang & Isola's direct objective: the encoder's output f(x) `[B, encoderDim]`,
 * L2-normalised, is trained on two augmented views with
 *
 *   L = L_align(alpha) + lambda * (L_uniform(f(x1); t) + L_uniform(f(x2); t)) / 2
 *
 * ({@link alignUniformLoss}); no projection head, so the points whose
 * alignment and uniformity are optimised are the features that are probed
 * (with a 3-d encoder output they can be drawn on the 2-sphere).
 *
 * Metrics: `alignment` and `uniformity` (the two terms, uniformity averaged
 * over the views), `accuracy` (the positive-pair accuracy of
 * {@link positiveAccuracy}, as SimCLR logs) and `std` ({@link normalizedStd} of f(x1)).
 *
 * Shapes: `batch.images` `[B, H, W, C]` (B >= 2) -> encoder `[B, encoderDim]` -> scalar loss.
 *
 * @example
 * const encoder = models.smallCnnEncoder({ seed: 1 });
 * const au = createAlignUniform({ encoder, encoderDim: 128, lambda: 1, seed: 1 });
 * const history = await training.train({ ...au, optimizer: training.adam(1e-3), batches: visionBatches(mnist.train, { batchSize: 256 }), steps: 300 });
 * history.metrics.alignment.at(-1); history.metrics.uniformity.at(-1);
 */
export function createAlignUniform(options: AlignUniformMethodOptions): VisionMethod {
  const fn = "createAlignUniform";
  const { augmentation } = checkVisionMethodOptions(fn, options);
  const { encoder, encoderDim } = options;
  const lambda = options.lambda ?? 1;
  checkNonNegativeNumber(fn, "options.lambda", lambda);
  const alpha = options.alpha ?? 2;
  checkPositiveNumber(fn, "options.alpha", alpha);
  const t = options.t ?? 2;
  checkPositiveNumber(fn, "options.t", t);
  const where = "AlignUniform.loss";
  const embed = (x: tf.Tensor4D) => applyChecked(where, "encoder", encoder, x, encoderDim);
  return {
    name: "align-uniform",
    encoder,
    trainable: [encoder],
    loss(batch, ctx) {
      const [z1, z2] = embedTwoViews(where, batch, ctx, augmentation, embed);
      const loss = alignUniformLoss(z1, z2, { lambda, alpha, t });
      const metrics = {
        alignment: alignment(z1, z2, { alpha }),
        uniformity: tf.div(tf.add(uniformity(z1, { t }), uniformity(z2, { t })), 2),
        accuracy: positiveAccuracy(z1, z2),
        std: normalizedStd(z1),
      };
      return { loss, metrics };
    },
    dispose() {
      // Nothing to free: no head, and the encoder is the caller's.
    },
  };
}
