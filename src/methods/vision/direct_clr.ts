/**
 * DirectCLR (Jing, Vincent, LeCun & Tian 2022, "Understanding Dimensional
 * Collapse in Contrastive Self-supervised Learning", ICLR; arXiv 2110.09348, 2021).
 */
import { tf } from "../../backend/tf";
import * as losses from "../../losses";
import type { VisionMethod } from "./method";
import { applyChecked, checkPositiveInteger, checkPositiveNumber, embedTwoViews, checkVisionMethodOptions, type VisionMethodOptions } from "./checks";
import { normalizedStd, positiveAccuracy } from "./collapse";

/** Options of {@link createDirectClr}. */
export interface DirectClrOptions extends VisionMethodOptions {
  /**
   * d0, the number of leading dimensions of the representation the loss sees,
   * 1..encoderDim (the paper: 360 of ResNet-50's 2048, about a sixth).
   */
  subvectorDim: number;
  /** Temperature tau of NT-Xent; default 0.5, as {@link createSimclr}'s. */
  temperature?: number;
  /**
   * The NT-Xent implementation, `(z1 [B, d0], z2 [B, d0], temperature) -> scalar`;
   * default `losses.ntXentLoss`. Any two-view loss of this signature works,
   * e.g. `(z1, z2) => spectralContrastiveLoss(z1, z2)`.
   */
  ntXent?: (z1: tf.Tensor2D, z2: tf.Tensor2D, temperature: number) => tf.Scalar;
}

/**
 * DirectCLR: SimCLR without a projection head. The encoder's representation
 * r `[B, encoderDim]` is trained directly: NT-Xent (SimCLR's eq. 1) is applied to
 * its first d0 = `subvectorDim` dimensions, z = r[:, 0:d0], and the linear
 * probe later reads all of r. Jing et al. find that a trained linear
 * projector becomes diagonal and low-rank, so the loss effectively sees a
 * sub-space of r; DirectCLR fixes that sub-space to the first d0
 * coordinates. The dimensions after d0 get gradient only through the
 * layers they share with the first d0, and in the paper's runs this prevents
 * the representation's dimensional collapse.
 *
 * Metrics, as {@link createSimclr}'s: `accuracy`, the share of the 2B
 * sub-vectors whose most cosine-similar other sub-vector is their other view
 * ({@link positiveAccuracy}); `std`, {@link normalizedStd} of z1.
 *
 * Shapes: `batch.images` `[B, H, W, C]` (B >= 2) -> encoder `[B, encoderDim]`
 * -> z `[B, subvectorDim]` -> scalar loss.
 *
 * @example
 * const encoder = models.smallCnnEncoder({ seed: 1 });          // 128-d representation
 * const directClr = createDirectClr({ encoder, encoderDim: 128, subvectorDim: 32, seed: 1 });
 * await training.train({ ...directClr, optimizer: training.adam(1e-3), batches: visionBatches(mnist.train, { batchSize: 256 }), steps: 300 });
 * directClr.dispose(); // owns nothing; `encoder` is kept for the probe and the spectrum
 */
export function createDirectClr(options: DirectClrOptions): VisionMethod {
  const fn = "createDirectClr";
  const { augmentation } = checkVisionMethodOptions(fn, options);
  const { encoder, encoderDim, subvectorDim } = options;
  checkPositiveInteger(fn, "options.subvectorDim", subvectorDim);
  if (subvectorDim > encoderDim) throw new Error(`${fn}: options.subvectorDim must be at most options.encoderDim ${encoderDim}, got ${subvectorDim}`);
  const temperature = options.temperature ?? 0.5;
  checkPositiveNumber(fn, "options.temperature", temperature);
  const ntXent = options.ntXent ?? ((z1: tf.Tensor2D, z2: tf.Tensor2D, t: number) => losses.ntXentLoss(z1, z2, { temperature: t }));
  if (typeof ntXent !== "function") throw new Error(`${fn}: options.ntXent must be a function (z1, z2, temperature) => scalar, got ${typeof ntXent}`);
  const where = "DirectCLR.loss";
  const subvector = (x: tf.Tensor4D) => tf.slice(applyChecked(where, "encoder", encoder, x, encoderDim), [0, 0], [-1, subvectorDim]) as tf.Tensor2D;
  return {
    name: "DirectCLR",
    encoder,
    trainable: [encoder],
    loss(batch, ctx) {
      const [z1, z2] = embedTwoViews(where, batch, ctx, augmentation, subvector);
      const loss = ntXent(z1, z2, temperature);
      if (!(loss instanceof tf.Tensor) || loss.rank !== 0) {
        throw new Error(`${where}: options.ntXent must return a scalar loss, got ${loss instanceof tf.Tensor ? `shape [${loss.shape}]` : String(loss)}`);
      }
      return { loss, metrics: { accuracy: positiveAccuracy(z1, z2), std: normalizedStd(z1) } };
    },
    dispose() {
      // Nothing to free: no projector, and the encoder is the caller's.
    },
  };
}
