/**
 * Supervised contrastive learning (SupCon): Khosla, Teterwak, Wang, Sarna,
 * Tian, Isola, Maschinot, Liu & Krishnan (2020), "Supervised Contrastive
 * Learning". Two augmented views of each image go through the encoder and a
 * projection head; every other view with the same label is a positive
 * (eq. 2, L^sup_out), so the loss pulls classes together rather than only
 * the two views of one image. It uses labels: the supervised reference
 * point among the self-supervised methods.
 */
import { tf } from "../../backend/tf";
import * as losses from "../../losses";
import { mlpHead } from "../../models/encoders";
import type { StepContext } from "../../training/loop";
import type { VisionBatch, VisionMethod } from "./method";
import { applyChecked, checkPositiveNumber, checkVisionBatch, checkProjectorOptions, checkVisionMethodOptions, type VisionMethodOptions } from "./checks";
import { normalizedStd } from "./collapse";

/** Options of {@link createSupCon}. */
export interface SupConMethodOptions extends VisionMethodOptions {
  /** Hidden sizes of the projection head; default `[encoderDim]` (the paper: one hidden layer of 2048 for a 2048-d ResNet-50). */
  hidden?: number[];
  /** Projection size; default 64 (the paper's 128, halved for MNIST's 128-d encoder). */
  projectionDim?: number;
  /** Temperature tau of eq. 2; default 0.1 (the paper's). */
  temperature?: number;
}

/**
 * Builds SupCon around `encoder`: a projection head g (Dense(h)+ReLU for each
 * h of `hidden`, Dense(projectionDim)) and the loss over the 2B views
 *
 *   L = mean_i -1/|P(i)| sum_{p in P(i)} log( exp(z_i.z_p/tau) / sum_{a != i} exp(z_i.z_a/tau) )
 *
 * with z = normalise(g(f(view))), the labels repeated for the second views,
 * and P(i) the other views sharing i's label (always at least i's own other
 * view). The two views go through the networks in one call of 2B rows. The
 * paper then trains a linear classifier on the frozen encoder; here the
 * encoder's features are evaluated with the workbook's probes.
 * Metric `std`: {@link normalizedStd} of the first views' projections.
 *
 * Shapes: `batch.images` `[B, H, W, C]` (B >= 2), `batch.labels` int32 `[B]` (required)
 * -> encoder `[2B, encoderDim]` -> z `[2B, projectionDim]` -> scalar loss.
 *
 * @example
 * const method = createSupCon({ encoder: smallCnnEncoder({ seed: 1 }), encoderDim: 128, seed: 1 });
 * await training.train({ ...method, optimizer: adam(1e-3), batches: (epoch, rng) => labelledBatches(rng), steps: 500 });
 * method.dispose();
 */
export function createSupCon(options: SupConMethodOptions): VisionMethod {
  const fn = "createSupCon";
  const { augmentation, seed } = checkVisionMethodOptions(fn, options);
  const { encoder, encoderDim } = options;
  const { hidden, projectionDim } = checkProjectorOptions(fn, options, encoderDim);
  const temperature = options.temperature ?? 0.1;
  checkPositiveNumber(fn, "options.temperature", temperature);

  const projector = mlpHead({ inputDim: encoderDim, hidden, outputDim: projectionDim, seed, name: "supcon_projector" });
  const where = "SupCon.loss";

  return {
    name: "SupCon",
    encoder,
    trainable: [encoder, projector],
    loss(batch: VisionBatch, ctx: StepContext) {
      const images = checkVisionBatch(where, batch);
      const { labels } = batch;
      const b = images.shape[0];
      if (!(labels instanceof tf.Tensor) || labels.rank !== 1 || labels.shape[0] !== b || labels.dtype !== "int32") {
        const got = labels instanceof tf.Tensor ? `${labels.dtype} [${labels.shape.join(", ")}]` : `${labels}`;
        throw new Error(`${where}: batch.labels must be an int32 tf.Tensor1D of shape [${b}] (SupCon needs labels), got ${got}`);
      }
      const [v1, v2] = augmentation(images, ctx.seed);
      const h = applyChecked(where, "encoder", encoder, tf.concat([v1, v2], 0), encoderDim);
      const z = applyChecked(where, "projector", projector, h, projectionDim);
      const loss = losses.supConLoss(z, tf.concat([labels, labels], 0) as tf.Tensor1D, { temperature });
      return { loss, metrics: { std: normalizedStd(tf.slice(z, [0, 0], [b, projectionDim])) } };
    },
    dispose() {
      projector.dispose();
    },
  };
}
