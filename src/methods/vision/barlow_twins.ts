/**
 * Barlow Twins (Zbontar, Jing, Misra, LeCun & Deny 2021, "Barlow Twins:
 * Self-Supervised Learning via Redundancy Reduction"): the cross-correlation
 * of the two views' embeddings is pushed to the identity.
 */
import { tf } from "../../backend/tf";
import * as losses from "../../losses";
import { mlpHead } from "../../models/encoders";
import type { VisionMethod } from "./method";
import {
  applyChecked,
  checkPositiveNumber,
  checkVisionMethodOptions,
  type VisionMethodOptions,
  checkProjectorOptions,
  embedTwoViews,
} from "./checks";
import { normalizedStd } from "./collapse";

/** Options of {@link createBarlowTwins}. */
export interface BarlowTwinsMethodOptions extends VisionMethodOptions {
  /** Hidden sizes of the projector (each Linear, BatchNorm, ReLU); default `[encoderDim]` (the paper: 8192, 8192). */
  hidden?: number[];
  /** Size D of the embedding; default 128 (the paper: 8192). */
  projectionDim?: number;
  /**
   * Weight of the off-diagonal term. Default `1 / projectionDim` (Tsai, Bai,
   * Morency & Salakhutdinov 2021, "A Note on Connecting Barlow Twins with
   * Negative-Sample-Free Contrastive Learning"): the off-diagonal sum has D^2 - D
   * terms against D on the diagonal, so the paper's 5e-3 (tuned at D = 8192)
   * is rescaled with D; at the default D = 128 it is 7.8e-3.
   */
  lambda?: number;
}

/**
 * Barlow Twins: z = g(f(x)) for both views by one encoder and projector, and
 * the paper's eq. 1 (`losses.barlowTwinsLoss`): with C the `[D, D]`
 * cross-correlation of the batch-standardised z1 and z2,
 *
 *   L = sum_i (1 - C_ii)^2 + lambda sum_{i != j} C_ij^2.
 *
 * No negatives, predictor, stop-gradient or momentum encoder. Metric `std`:
 * normalised std of z1 (see simclr.ts `normalizedStd`).
 *
 * Shapes: `batch.images` `[B, H, W, C]` (B >= 2) -> `[B, encoderDim]` ->
 * `[B, projectionDim]` -> scalar.
 *
 * @example
 * const barlow = createBarlowTwins({ encoder: models.smallCnnEncoder({ seed: 1 }), encoderDim: 128, seed: 1 });
 * await training.train({ ...barlow, optimizer: adam(1e-3), batches, steps: 500 });
 * barlow.dispose();
 */
export function createBarlowTwins(options: BarlowTwinsMethodOptions): VisionMethod {
  const fn = "createBarlowTwins";
  const { augmentation, seed } = checkVisionMethodOptions(fn, options);
  const { encoder, encoderDim } = options;
  const { hidden, projectionDim } = checkProjectorOptions(fn, options, encoderDim, 128);
  const lambda = options.lambda ?? 1 / projectionDim;
  checkPositiveNumber(fn, "options.lambda", lambda);
  const projector = mlpHead({ inputDim: encoderDim, hidden, outputDim: projectionDim, batchNorm: true, seed, name: "barlow_twins_projector" });
  const where = "BarlowTwins.loss";
  const project = (x: tf.Tensor4D) => applyChecked(where, "projector", projector, applyChecked(where, "encoder", encoder, x, encoderDim), projectionDim);
  return {
    name: "Barlow Twins",
    encoder,
    trainable: [encoder, projector],
    loss(batch, ctx) {
      const [z1, z2] = embedTwoViews(where, batch, ctx, augmentation, project);
      return { loss: losses.barlowTwinsLoss(z1, z2, { lambda }), metrics: { std: normalizedStd(z1) } };
    },
    dispose() {
      projector.dispose();
    },
  };
}
