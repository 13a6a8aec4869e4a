/**
 * Instance discrimination (InstDisc): Wu, Xiong, Yu & Lin (2018),
 * "Unsupervised Feature Learning via Non-Parametric Instance
 * Discrimination". Every training image is its own class; instead of a
 * weight per class the classifier is the memory bank of the images' own
 * features, refreshed with a running average, so an image is pulled towards
 * its bank entry and pushed from the entries of other images.
 */
import { tf } from "../../backend/tf";
import { simclrAugment } from "../../augment/compose";
import type { Augmentation } from "../../augment/augmentation";
import * as losses from "../../losses";
import { mlpHead } from "../../models/encoders";
import { createMemoryBank, type MemoryBank } from "../../models/memory_bank";
import type { StepContext } from "../../training/loop";
import type { VisionBatch, VisionMethod } from "./method";
import { applyChecked, checkPositiveInteger, checkPositiveNumber, checkVisionBatch, checkVisionMethodOptions, type VisionMethodOptions } from "./checks";
import { normalizedStd } from "./collapse";
import { checkNonNegativeInteger, checkNumberInRange } from "../../validation/arguments";

/**
 * Options of {@link createInstDisc}: those of every vision method, except
 * that the augmentation draws one view, not two.
 */
export interface InstDiscOptions extends Omit<VisionMethodOptions, "augmentation"> {
  /** n, the number of training images: one bank row each, addressed by `batch.indices`. */
  datasetSize: number;
  /**
   * The one view of each image per step; default `simclrAugment()`. (InstDisc
   * contrasts a view with the bank, not with a second view; the paper
   * augments with random crops, colour jitter and flips.)
   */
  augmentation?: Augmentation;
  /** Size of the L2-normalised features and bank rows; default 64 (the paper's 128, halved for MNIST). */
  featureDim?: number;
  /** K, bank rows drawn as negatives per step; default 1024 (the paper's 4096, for n = 60000 rather than 1.28M). */
  negatives?: number;
  /** Temperature tau; default 0.07 (the paper's). */
  temperature?: number;
  /** Bank momentum m in v = normalise(m v + (1 - m) f); default 0.5 (the paper's). */
  bankMomentum?: number;
  /** Seed of the head's weights and the bank's initial vectors; default 0. */
  seed?: number;
}

/** InstDisc: a {@link VisionMethod} with its memory bank (checkpoint `bank.vectors` with the models). */
export interface InstDiscMethod extends VisionMethod {
  /** The memory bank `[datasetSize, featureDim]`. */
  readonly bank: MemoryBank;
}

/**
 * Builds InstDisc around `encoder`: a linear head to `featureDim` (the
 * paper's replacement of the classifier), features f_i = normalise(W h_i),
 * and the loss
 *
 *   L = 1/B sum_i -log( exp(f_i.v_i/tau) / (sum_{j in batch} exp(f_i.v_j/tau) + sum_{k=1..K} exp(f_i.v_{n_k}/tau)) )
 *
 * where v are bank rows, v_i the row of image i, and n_k are K rows drawn
 * uniformly (the batch's own rows redrawn). This is the paper's
 * non-parametric softmax (eq. 2, P(i|f) = exp(v_i.f/tau) / sum_{j=1..n}
 * exp(v_j.f/tau)) with the sum over all n rows approximated by the batch's
 * rows plus K sampled ones: the softmax-with-sampled-negatives form, not the
 * paper's NCE estimator (eq. 6-8) nor its proximal term (Sec. 3.4). After
 * each step `afterStep` writes the step's features into the bank:
 * v_i = normalise(m v_i + (1 - m) f_i) with m = `bankMomentum`. Gradients
 * flow only through f; the bank is a constant.
 * Metrics: `accuracy`, the share of images whose own bank row has the
 * largest logit; `std`, {@link normalizedStd} of f.
 *
 * Shapes: `batch.images` `[B, H, W, C]` (B >= 2), `batch.indices` `[B]`
 * distinct rows in [0, datasetSize) (required) -> encoder `[B, encoderDim]`
 * -> f `[B, featureDim]` -> scalar loss.
 *
 * @example
 * const method = createInstDisc({ encoder: smallCnnEncoder({ seed: 1 }), encoderDim: 128, datasetSize: 60000, seed: 1 });
 * await training.train({ ...method, optimizer: adam(1e-3), batches: (epoch, rng) => indexedBatches(rng), steps: 1000 });
 * method.dispose();
 */
export function createInstDisc(options: InstDiscOptions): InstDiscMethod {
  const fn = "createInstDisc";
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object {encoder, encoderDim, datasetSize, ...}, got ${options}`);
  // The shared checks, minus the two-view augmentation (checked below as one view).
  const { seed } = checkVisionMethodOptions(fn, { encoder: options.encoder, encoderDim: options.encoderDim, seed: options.seed });
  const { encoder, encoderDim, datasetSize } = options;
  checkPositiveInteger(fn, "options.datasetSize", datasetSize);
  const featureDim = options.featureDim ?? 64;
  checkPositiveInteger(fn, "options.featureDim", featureDim);
  const negatives = options.negatives ?? 1024;
  checkNonNegativeInteger(fn, "options.negatives", negatives);
  const temperature = options.temperature ?? 0.07;
  checkPositiveNumber(fn, "options.temperature", temperature);
  const bankMomentum = options.bankMomentum ?? 0.5;
  checkNumberInRange(fn, "options.bankMomentum", bankMomentum, 0, 1, { maxExclusive: true });
  const augmentation = options.augmentation ?? simclrAugment();
  if (typeof augmentation !== "function") throw new Error(`${fn}: options.augmentation must be a function (images, seed) => images, got ${typeof augmentation}`);

  const head = mlpHead({ inputDim: encoderDim, hidden: [], outputDim: featureDim, seed, name: "instdisc_head" });
  const bank = createMemoryBank({ size: datasetSize, dim: featureDim, momentum: bankMomentum, seed });
  // The step's features, kept from the loss for afterStep's bank update.
  let pending: { indices: Int32Array; features: tf.Tensor2D } | undefined;
  const dropPending = () => {
    if (pending) pending.features.dispose();
    pending = undefined;
  };

  const where = "InstDisc.loss";

  return {
    name: "InstDisc",
    encoder,
    trainable: [encoder, head],
    bank,
    loss(batch: VisionBatch, ctx: StepContext) {
      const images = checkVisionBatch(where, batch);
      const { indices } = batch;
      const b = images.shape[0];
      if (!(indices instanceof Int32Array) || indices.length !== b) {
        throw new Error(`${where}: batch.indices must be an Int32Array of length ${b} (InstDisc needs each image's row), got ${indices instanceof Int32Array ? `length ${indices.length}` : `${indices}`}`);
      }
      if (new Set(indices).size !== b) throw new Error(`${where}: batch.indices must be distinct, got [${indices}]`);
      dropPending();
      const h = applyChecked(where, "encoder", encoder, augmentation(images, ctx.seed), encoderDim);
      const f = losses.l2NormalizeRows(applyChecked(where, "head", head, h, featureDim));
      const positives = bank.gather(indices);
      const sampled = bank.sampleNegatives(negatives, ctx.rng, indices);
      const loss = losses.infoNCE(f, positives, { temperature, negatives: sampled });
      pending = { indices: Int32Array.from(indices), features: tf.keep(f.clone()) };
      // How often the image's own row beats every other bank row considered.
      const candidates = tf.concat([positives, sampled], 0);
      const predicted = tf.argMax(tf.matMul(f, tf.transpose(candidates)), 1);
      const accuracy = tf.mean(tf.cast(tf.equal(predicted, tf.range(0, b, 1, "int32")), "float32"));
      return { loss, metrics: { accuracy, std: normalizedStd(f) } };
    },
    afterStep(batch: VisionBatch) {
      if (!pending) return;
      const { indices, features } = pending;
      const same = batch.indices !== undefined && batch.indices.length === indices.length && batch.indices.every((v, i) => v === indices[i]);
      if (!same) throw new Error(`InstDisc.afterStep: batch.indices must be those of the preceding loss call, got [${batch.indices}]`);
      pending = undefined;
      try {
        bank.update(indices, features);
      } finally {
        features.dispose();
      }
    },
    dispose() {
      dropPending();
      head.dispose();
      bank.dispose();
    },
  };
}
