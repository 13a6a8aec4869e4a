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
import { twoViews, simclrAugment } from "../../augment/compose";
import type { TwoViewAugment } from "../../augment/augmentation";
import { supConLoss } from "../../losses/sup_con";
import { mlpHead } from "../../models/encoders";
import type { StepContext } from "../../train/loop";
import type { VisionBatch, VisionMethod } from "./method";
import { checkPositiveInteger } from "./checks";

/** Options of {@link createSupCon}. */
export interface SupConMethodOptions {
  /** The encoder `[B, 28, 28, 1] -> [B, encoderDim]`; trained, never disposed by the method. */
  encoder: tf.LayersModel;
  /** Size of the encoder's output. */
  encoderDim: number;
  /** The two views of a batch; default `twoViews(simclrAugment())`. */
  augmentation?: TwoViewAugment;
  /** Hidden size of the projection head; default `encoderDim` (the paper: 2048 for a 2048-d ResNet-50). */
  hiddenDim?: number;
  /** Projection size; default 64 (the paper's 128, halved for MNIST's 128-d encoder). */
  projectionDim?: number;
  /** Temperature tau of eq. 2; default 0.1 (the paper's). */
  temperature?: number;
  /** Seed of the head's initial weights; default 0. */
  seed?: number;
}

/**
 * Builds SupCon around `encoder`: a projection head g (Dense(hiddenDim)+ReLU,
 * Dense(projectionDim)) and the loss over the 2B views
 *
 *   L = mean_i -1/|P(i)| sum_{p in P(i)} log( exp(z_i.z_p/tau) / sum_{a != i} exp(z_i.z_a/tau) )
 *
 * with z = normalise(g(f(view))), the labels repeated for the second views,
 * and P(i) the other views sharing i's label (always at least i's own other
 * view). The paper then trains a linear classifier on the frozen encoder;
 * here the encoder's features are evaluated with the workbook's probes.
 *
 * Shapes: `batch.images` `[B, 28, 28, 1]`, `batch.labels` int32 `[B]` (required) -> scalar loss.
 *
 * @example
 * const method = createSupCon({ encoder: smallCnnEncoder({ seed: 1 }), encoderDim: 128, seed: 1 });
 * await training.train({ ...method, optimizer: adam(1e-3), batches: (epoch, rng) => labelledBatches(rng), steps: 500 });
 * method.dispose();
 */
export function createSupCon(options: SupConMethodOptions): VisionMethod {
  const fn = "createSupCon";
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object, got ${options}`);
  const { encoder, encoderDim } = options;
  if (!(encoder instanceof tf.LayersModel)) throw new Error(`${fn}: encoder must be a tf.LayersModel, got ${typeof encoder}`);
  checkPositiveInteger("createSupCon", "encoderDim", encoderDim);
  const hiddenDim = options.hiddenDim ?? encoderDim;
  const projectionDim = options.projectionDim ?? 64;
  checkPositiveInteger("createSupCon", "hiddenDim", hiddenDim);
  checkPositiveInteger("createSupCon", "projectionDim", projectionDim);
  const temperature = options.temperature ?? 0.1;
  if (!(Number.isFinite(temperature) && temperature > 0)) throw new Error(`${fn}: temperature must be a finite number > 0, got ${temperature}`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}`);
  const augmentation = options.augmentation ?? twoViews(simclrAugment());
  if (typeof augmentation !== "function") throw new Error(`${fn}: augmentation must be a function (images, seed) => [view1, view2], got ${typeof augmentation}`);

  const projector = mlpHead({ inputDim: encoderDim, hidden: [hiddenDim], outputDim: projectionDim, seed, name: "supcon_projector" });

  return {
    name: "SupCon",
    encoder,
    trainable: [encoder, projector],
    loss(batch: VisionBatch, ctx: StepContext) {
      const where = "SupCon.loss";
      const { images, labels } = batch;
      if (!(images instanceof tf.Tensor) || images.rank !== 4) {
        throw new Error(`${where}: batch.images must be a tf.Tensor4D [B, 28, 28, 1], got ${images instanceof tf.Tensor ? `[${images.shape}]` : typeof images}`);
      }
      const b = images.shape[0];
      if (!(labels instanceof tf.Tensor) || labels.rank !== 1 || labels.shape[0] !== b || labels.dtype !== "int32") {
        const got = labels instanceof tf.Tensor ? `${labels.dtype} [${labels.shape}]` : `${labels}`;
        throw new Error(`${where}: batch.labels must be an int32 tf.Tensor1D of shape [${b}] (SupCon needs labels), got ${got}`);
      }
      const [v1, v2] = augmentation(images, ctx.seed);
      const h = encoder.apply(tf.concat([v1, v2], 0), { training: true }) as tf.Tensor2D;
      if (h.rank !== 2 || h.shape[1] !== encoderDim) throw new Error(`${where}: the encoder must output [${2 * b}, ${encoderDim}], got [${h.shape}]`);
      const z = projector.apply(h, { training: true }) as tf.Tensor2D;
      const loss = supConLoss(z, tf.concat([labels, labels], 0) as tf.Tensor1D, { temperature });
      return { loss };
    },
    dispose() {
      projector.dispose();
    },
  };
}
