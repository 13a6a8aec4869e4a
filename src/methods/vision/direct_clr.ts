/**
 * DirectCLR (Jing, Vincent, LeCun & Tian 2022, "Understanding Dimensional
 * Collapse in Contrastive Self-supervised Learning", ICLR; arXiv 2110.09348, 2021).
 */
import { tf } from "../../backend/tf";
import * as losses from "../../losses";
import type { VisionMethod } from "./method";
import { applyChecked, checkPositiveInteger, checkPositiveNumber, embedTwoViews, checkVisionMethodOptions, type VisionMethodOptions } from "./checks";
import { normalizedStd } from "./collapse";

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
 * Shapes: `batch.images` `[B, 28, 28, 1]` (B >= 2) -> encoder `[B, encoderDim]`
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

/**
 * The positive-pair accuracy of two views: the share of the 2B rows of
 * `[z1; z2]` whose most cosine-similar other row is their other view (row i
 * of `z1` and row i of `z2`). Chance is about 1/(2B - 1).
 *
 * Shapes: `z1`, `z2` `[B, D]` -> scalar in [0, 1].
 *
 * @example
 * positiveAccuracy(encoder.apply(view1) as tf.Tensor2D, encoder.apply(view2) as tf.Tensor2D).dataSync()[0];
 */
export function positiveAccuracy(z1: tf.Tensor2D, z2: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const n = z1.shape[0];
    const unit = losses.l2NormalizeRows(tf.concat([z1, z2], 0) as tf.Tensor2D);
    // Cosines are >= -1, so subtracting 3 on the diagonal rules out self-matches.
    const sims = tf.sub(losses.gram(unit), tf.mul(tf.eye(2 * n), 3));
    const positives = tf.tensor1d(Array.from({ length: 2 * n }, (_, i) => (i + n) % (2 * n)), "int32");
    return tf.mean(tf.cast(tf.equal(tf.argMax(sims, 1), positives), "float32")) as tf.Scalar;
  });
}
