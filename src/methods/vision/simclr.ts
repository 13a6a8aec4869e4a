/**
 * SimCLR (Chen, Kornblith, Norouzi & Hinton 2020, "A Simple Framework for
 * Contrastive Learning of Visual Representations").
 */
import { tf } from "../../backend/tf";
import * as losses from "../../losses";
import { mlpHead } from "../../models/encoders";
import type { VisionMethod } from "./method";
import { applyChecked, checkPositiveNumber, embedTwoViews, checkProjectorOptions, checkVisionMethodOptions, type VisionMethodOptions } from "./checks";
import { normalizedStd, positiveAccuracy } from "./collapse";

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
  /**
   * The NT-Xent implementation, `(z1 [B, D], z2 [B, D], temperature) -> scalar`;
   * default `losses.ntXentLoss`. A course exercise passes the student's own.
   */
  ntXent?: (z1: tf.Tensor2D, z2: tf.Tensor2D, temperature: number) => tf.Scalar;
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
 * Shapes: `batch.images` `[B, H, W, C]` (B >= 2) -> encoder `[B, encoderDim]`
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
  const { hidden, projectionDim } = checkProjectorOptions(fn, options, encoderDim);
  const temperature = options.temperature ?? 0.5;
  checkPositiveNumber(fn, "options.temperature", temperature);
  const ntXent = options.ntXent ?? ((z1: tf.Tensor2D, z2: tf.Tensor2D, t: number) => losses.ntXentLoss(z1, z2, { temperature: t }));
  if (typeof ntXent !== "function") throw new Error(`${fn}: options.ntXent must be a function (z1, z2, temperature) => scalar, got ${typeof ntXent}`);
  const projector = mlpHead({ inputDim: encoderDim, hidden, outputDim: projectionDim, batchNorm: options.batchNorm ?? true, seed, name: "simclr_projector" });
  const where = "SimCLR.loss";
  const project = (x: tf.Tensor4D) => applyChecked(where, "projector", projector, applyChecked(where, "encoder", encoder, x, encoderDim), projectionDim);
  return {
    name: "SimCLR",
    encoder,
    trainable: [encoder, projector],
    loss(batch, ctx) {
      const [z1, z2] = embedTwoViews(where, batch, ctx, augmentation, project);
      const loss = ntXent(z1, z2, temperature);
      if (!(loss instanceof tf.Tensor) || loss.rank !== 0) {
        throw new Error(`${where}: options.ntXent must return a scalar loss, got ${loss instanceof tf.Tensor ? `shape [${loss.shape}]` : String(loss)}`);
      }
      return { loss, metrics: { accuracy: positiveAccuracy(z1, z2), std: normalizedStd(z1) } };
    },
    dispose() {
      projector.dispose();
    },
  };
}
