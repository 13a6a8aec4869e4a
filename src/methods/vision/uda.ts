/**
 * UDA: Xie, Dai, Hovy, Luong & Le (2019/2020), "Unsupervised Data
 * Augmentation for Consistency Training", NeurIPS 2020. A classifier
 * learns from a few labelled images (cross-entropy) and from many unlabelled
 * ones, whose prediction under a strong augmentation is pulled towards the
 * fixed prediction on the clean image (the paper's eq. 1-3, with its
 * confidence masking and softmax sharpening, section 3.2).
 *
 * Unlike the other methods of this folder UDA uses labels: it is the
 * semi-supervised row the notebook sets beside `evaluation.supervisedFewLabels`
 * on the same labelled subsets (`evaluation.labelSubsets`).
 */
import { tf } from "../../backend/tf";
import type { Augmentation } from "../../augment/augmentation";
import { simclrAugment } from "../../augment/compose";
import { batches as shuffledBatches, gatherImages, gatherLabels } from "../../data/batches";
import { checkImageSet, type ImageSet } from "../../data/mnist";
import { createRng, type Rng } from "../../data/random";
import { readLabels, type Labels } from "../../evaluation/labels";
import { rowLogSumExp } from "../../losses/ops/log_sum_exp";
import { stopGradient } from "../../losses/ops/stop_gradient";
import { mlpHead } from "../../models/encoders";
import type { LossWithMetrics, StepContext } from "../../training/loop";
import {
  checkInteger,
  checkIntegerInRange,
  checkMatrix,
  checkNonNegativeInteger,
  checkNonNegativeNumber,
  checkNumberInRange,
  checkOptions,
  checkPositiveInteger,
  checkPositiveNumber,
  checkRank,
  describe,
} from "../../validation/arguments";
import { applyChecked } from "./checks";
import type { VisionMethod } from "./method";

/** One UDA step's data: a labelled batch and an unlabelled batch, drawn independently. */
export interface UdaBatch {
  /** Labelled images `[L, h, w, c]` float32 and their classes `[L]` int32. */
  labelled: { images: tf.Tensor4D; labels: tf.Tensor1D };
  /** Unlabelled images `[U, h, w, c]` float32 (their labels are never read). */
  unlabelled: tf.Tensor4D;
}

/** Options of {@link udaLoss}. */
export interface UdaLossOptions {
  /** Weight lambda of the consistency term; default 1 (the paper's image setting). */
  lambda?: number;
  /**
   * Confidence masking: an unlabelled example counts only when the largest
   * class probability of its clean prediction exceeds this, in [0, 1);
   * default 0, which keeps every example (the paper: 0.8 on ImageNet).
   */
  confidenceThreshold?: number;
  /** Softmax temperature of the clean target, sharpening it below 1; default 1 (the paper: 0.4 on ImageNet). */
  sharpenTemperature?: number;
  /**
   * Training-signal annealing: a labelled example counts only while the
   * model's probability of its class is at most this, in (0, 1]; default 1,
   * which keeps every example. {@link createUda} sets it per step from its
   * `tsa` schedule ({@link tsaThreshold}).
   */
  tsaThreshold?: number;
}

/** How TSA's threshold rises from 1/K to 1 over training (Xie et al. 2020, Sec. 3.2 and Fig. 3). */
export type TsaSchedule = "linear" | "log" | "exp";

/**
 * TSA's threshold at a step (Xie et al. 2020, Sec. 3.2): with progress
 * p = min(1, step / totalSteps) and K classes,
 *
 *   eta = alpha(p) (1 - 1/K) + 1/K,
 *   alpha = p (linear), 1 - e^{-5p} (log), e^{5(p - 1)} (exp).
 *
 * A labelled example whose correct-class probability exceeds eta leaves the
 * supervised loss for that step, so the model cannot fit the few labels
 * faster than the threshold rises. The paper recommends "exp" when the
 * labels are few and the model overfits them quickly: it releases the
 * signal late.
 *
 * @example
 * tsaThreshold("exp", 0, 300, 10);   // 0.1 + 0.9 e^-5 = 0.106
 * tsaThreshold("exp", 300, 300, 10); // 1
 */
export function tsaThreshold(schedule: TsaSchedule, step: number, totalSteps: number, numClasses: number): number {
  const fn = "tsaThreshold";
  if (schedule !== "linear" && schedule !== "log" && schedule !== "exp") throw new Error(`${fn}: schedule must be "linear", "log" or "exp", got ${describe(schedule)}`);
  checkNonNegativeInteger(fn, "step", step);
  checkPositiveInteger(fn, "totalSteps", totalSteps);
  checkPositiveInteger(fn, "numClasses", numClasses);
  if (numClasses < 2) throw new Error(`${fn}: numClasses must be at least 2, got ${numClasses}`);
  const p = Math.min(1, step / totalSteps);
  const alpha = schedule === "linear" ? p : schedule === "log" ? 1 - Math.exp(-5 * p) : Math.exp(5 * (p - 1));
  return alpha * (1 - 1 / numClasses) + 1 / numClasses;
}

/** The parts of {@link udaLoss}: the total, its two terms and the share of unlabelled examples the mask kept. */
export interface UdaLossParts {
  /** `supervised + lambda * consistency`, the scalar the optimizer minimises. */
  loss: tf.Scalar;
  /** Mean cross-entropy of the labelled batch (over the examples TSA keeps, all without TSA). */
  supervised: tf.Scalar;
  /** Mean over the unlabelled batch of mask_i * KL(target_i || prediction on the strong view); masked rows count as 0. */
  consistency: tf.Scalar;
  /** Share of unlabelled rows whose clean confidence passed the threshold (no gradient). */
  maskRate: tf.Scalar;
  /** Share of labelled rows TSA kept in the supervised term (1 without TSA; no gradient). */
  tsaKept: tf.Scalar;
}

/**
 * UDA's objective on logits (Xie et al. 2020, eq. 3 with section 3.2):
 *
 *   L = 1/max(1, sum_i t_i) sum_i t_i (-log softmax(s_i)[y_i])
 *     + lambda * 1/U sum_j m_j KL( p~_j || softmax(a_j) ),
 *   t_i = 1[ softmax(s_i)[y_i] <= eta ]  (training-signal annealing; eta = 1 keeps all),
 *   p~_j = stopgrad softmax(c_j / T),   m_j = 1[ max_k softmax(c_j)_k > beta ],
 *
 * where s are the labelled logits, c the logits of the clean unlabelled
 * images, a those of their strong augmentations, T the sharpening
 * temperature and beta the confidence threshold. The target p~ and the mask
 * carry no gradient (the paper: "fixed copy of the current parameters");
 * the mask is computed on the unsharpened prediction and the mean runs over
 * all U rows, masked ones as zeros, as in the paper's code. No gradient
 * reaches `cleanLogits` at all.
 *
 * Shapes: `labelledLogits` `[L, K]`, `labels` `[L]` int32 in [0, K),
 * `cleanLogits` and `strongLogits` `[U, K]` float32 -> scalars.
 *
 * @example
 * const { loss, consistency, maskRate } = udaLoss(headOut, y, cleanOut, strongOut, { lambda: 1, confidenceThreshold: 0.8, sharpenTemperature: 0.4 });
 */
export function udaLoss(
  labelledLogits: tf.Tensor2D,
  labels: tf.Tensor1D,
  cleanLogits: tf.Tensor2D,
  strongLogits: tf.Tensor2D,
  options: UdaLossOptions = {},
): UdaLossParts {
  const fn = "udaLoss";
  checkMatrix(fn, "labelledLogits", labelledLogits, undefined, undefined, "float32");
  const [l, k] = labelledLogits.shape;
  if (l < 1 || k < 2) throw new Error(`${fn}: labelledLogits must be [L, K] with L >= 1 and K >= 2, got [${labelledLogits.shape}]`);
  checkRank(fn, "labels", labels, 1, "int32");
  if (labels.shape[0] !== l) throw new Error(`${fn}: labels must have shape [${l}] like labelledLogits' rows, got [${labels.shape}]`);
  checkLabelRange(fn, "labels", labels, k);
  checkMatrix(fn, "cleanLogits", cleanLogits, undefined, k, "float32");
  if (cleanLogits.shape[0] < 1) throw new Error(`${fn}: cleanLogits must have at least one row, got [${cleanLogits.shape}]`);
  checkMatrix(fn, "strongLogits", strongLogits, cleanLogits.shape[0], k, "float32");
  const { lambda, confidenceThreshold, sharpenTemperature, tsaThreshold: eta } = checkLossOptions(fn, options);
  return tf.tidy(() => {
    const { supervised, kept } = annealedCrossEntropy(labelledLogits, labels, eta);
    const clean = stopGradient(cleanLogits);
    const logTarget = logSoftmax(sharpenTemperature === 1 ? clean : (tf.div(clean, sharpenTemperature) as tf.Tensor2D));
    // log-probabilities, not log(softmax): a target probability that underflows to 0 gives 0 * finite = 0.
    const kl = tf.sum(tf.mul(tf.exp(logTarget), tf.sub(logTarget, logSoftmax(strongLogits))), 1);
    const mask = confidenceMask(cleanLogits, confidenceThreshold);
    const consistency = tf.mean(tf.mul(kl, mask)) as tf.Scalar;
    const loss = (lambda === 0 ? tf.clone(supervised) : tf.add(supervised, tf.mul(consistency, lambda))) as tf.Scalar;
    return { loss, supervised, consistency, maskRate: tf.mean(mask) as tf.Scalar, tsaKept: kept };
  });
}

/** Throws unless every label is in [0, k): tf.oneHot would silently give an out-of-range label a zero row (and a zero loss). */
function checkLabelRange(fn: string, arg: string, labels: tf.Tensor1D, k: number): void {
  const values = labels.dataSync();
  for (let i = 0; i < values.length; i++) {
    if (values[i] < 0 || values[i] >= k) throw new Error(`${fn}: ${arg} must hold class ids in [0, ${k}), got ${values[i]} at index ${i}`);
  }
}

/** Row-wise log-softmax `[n, K]` -> `[n, K]`, through the stable log-sum-exp of the losses. */
function logSoftmax(x: tf.Tensor2D): tf.Tensor2D {
  return tf.sub(x, tf.expandDims(rowLogSumExp(x), 1)) as tf.Tensor2D;
}

/**
 * Softmax cross-entropy of `logits` `[n, K]` against class ids `labels` `[n]`
 * int32 (checked by the caller), averaged over the rows whose correct-class
 * probability is at most `eta` (TSA; all rows at eta = 1), and the share kept.
 * The keep-mask is a constant to the optimizer.
 */
function annealedCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, eta: number): { supervised: tf.Scalar; kept: tf.Scalar } {
  return tf.tidy(() => {
    // tf.oneHot with a float32 output is wrong on wasm: int32, then cast.
    const oneHot = tf.cast(tf.oneHot(labels, logits.shape[1]), "float32");
    const correctLogProb = tf.sum(tf.mul(oneHot, logSoftmax(logits)), 1);
    if (eta >= 1) return { supervised: tf.neg(tf.mean(correctLogProb)) as tf.Scalar, kept: tf.scalar(1) };
    const keep = constantMask(correctLogProb, (x) => tf.lessEqual(x, Math.log(eta)));
    const supervised = tf.div(tf.neg(tf.sum(tf.mul(correctLogProb, keep))), tf.maximum(tf.sum(keep), 1)) as tf.Scalar;
    return { supervised, kept: tf.mean(keep) as tf.Scalar };
  });
}

/**
 * `[U, K]` -> `[U]`: 1 where a row's largest softmax probability exceeds
 * `threshold`, else 0. Built as a custom op with a zero gradient because
 * the tape cannot pass through tf.greater (no gradient function), even
 * behind a stop-gradient: the mask is a constant to the optimizer.
 */
function confidenceMask(logits: tf.Tensor2D, threshold: number): tf.Tensor1D {
  return constantMask(logits, (x) => tf.greater(tf.max(tf.softmax(x), 1), threshold)) as tf.Tensor1D;
}

/** `test(x)` as float32 0/1, through a custom op with a zero gradient (the comparisons have none on the tape). */
function constantMask(x: tf.Tensor, test: (x: tf.Tensor) => tf.Tensor): tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input] = args as [tf.Tensor];
    return { value: tf.cast(test(input), "float32"), gradFunc: () => tf.zerosLike(input) };
  });
  return op(x) as tf.Tensor;
}

function checkLossOptions(fn: string, options: UdaLossOptions): Required<UdaLossOptions> {
  checkOptions(fn, options, "{lambda?, confidenceThreshold?, sharpenTemperature?, tsaThreshold?}");
  const lambda = options.lambda ?? 1;
  checkNonNegativeNumber(fn, "options.lambda", lambda);
  const confidenceThreshold = options.confidenceThreshold ?? 0;
  checkNumberInRange(fn, "options.confidenceThreshold", confidenceThreshold, 0, 1, { maxExclusive: true });
  const sharpenTemperature = options.sharpenTemperature ?? 1;
  checkPositiveNumber(fn, "options.sharpenTemperature", sharpenTemperature);
  const tsaThreshold = options.tsaThreshold ?? 1;
  checkNumberInRange(fn, "options.tsaThreshold", tsaThreshold, 0, 1, { minExclusive: true });
  return { lambda, confidenceThreshold, sharpenTemperature, tsaThreshold };
}

/** Options of {@link createUda}: the loss's, plus the classifier and the augmentations. */
export interface UdaOptions extends UdaLossOptions {
  /** The encoder to train, `[n, h, w, c]` -> `[n, encoderDim]`; the method never disposes it. */
  encoder: tf.LayersModel;
  /** Size of the encoder's output. */
  encoderDim: number;
  /** Classes of the linear head; default 10 (digits). */
  numClasses?: number;
  /**
   * The strong augmentation of the unlabelled images; default
   * `simclrAugment()` (crop, rotation, jitter, blur, noise). The paper uses
   * RandAugment; pass `augment.randAugment(...)` where it exists.
   */
  strongAugmentation?: Augmentation;
  /** Augmentation of the clean side (the paper: none on ImageNet, flip and crop on CIFAR); default none. */
  weakAugmentation?: Augmentation;
  /** Augmentation of the labelled images; default none, as `supervisedFewLabels`' default, so the two compare. */
  labelledAugmentation?: Augmentation;
  /** Seed of the head's initialiser; default 0. */
  seed?: number;
  /**
   * Training-signal annealing: the supervised term's threshold follows
   * {@link tsaThreshold}(schedule, step, steps) (past `steps` it stays 1);
   * default none. Not together with a constant `tsaThreshold`.
   */
  tsa?: { schedule: TsaSchedule; steps: number };
}

/** UDA as a trainable method: a {@link VisionMethod} on {@link UdaBatch}es, plus its classifier. */
export interface UdaMethod extends VisionMethod<UdaBatch> {
  /** The linear head `[n, encoderDim]` -> `[n, numClasses]` the method owns. */
  readonly head: tf.LayersModel;
  /** Number of classes. */
  readonly numClasses: number;
  /** Logits of `images` `[n, h, w, c]` -> `[n, numClasses]`, in inference mode, in chunks of `batchSize` (default 256); the caller disposes. */
  logits(images: tf.Tensor4D, batchSize?: number): tf.Tensor2D;
  /** Predicted classes of `images` `[n, h, w, c]` -> `[n]` int32; the caller disposes. */
  predict(images: tf.Tensor4D, batchSize?: number): tf.Tensor1D;
  /** Share of `images` `[n, h, w, c]` whose predicted class is their label `[n]`. Leaves no tensor behind. */
  accuracy(images: tf.Tensor4D, labels: Labels, batchSize?: number): number;
}

/**
 * UDA (Xie et al. 2020): the encoder plus a linear head it owns, trained on
 * each {@link UdaBatch} with {@link udaLoss}: cross-entropy on the labelled
 * images, and lambda times the (masked) KL divergence from the fixed,
 * optionally sharpened prediction on the clean unlabelled images to the
 * prediction on their strong augmentation. As in the paper's code, the
 * labelled, clean and strong images go through the network in one call
 * (one BatchNorm batch, in training mode). With `lambda: 0` the unlabelled
 * images are not used at all, so the step is exactly supervised training
 * on the labelled batch. With `tsa`, the paper's training-signal
 * annealing hides the labelled examples the model already gets right with
 * more than the step's threshold (with `lambda: 0` too, so it can be
 * compared on its own).
 *
 * Metrics: `supervised` and `consistency` (the two terms), `maskRate`
 * (share of unlabelled images kept by the confidence mask) and `accuracy`
 * (on the labelled batch); with `lambda: 0` only `supervised` and `accuracy`;
 * with `tsa` also `tsaKept` (share of labelled images in the supervised term).
 *
 * Shapes: `batch.labelled.images` `[L, h, w, c]`, `batch.labelled.labels`
 * `[L]` int32, `batch.unlabelled` `[U, h, w, c]` -> encoder `[L + 2U, encoderDim]`
 * -> logits `[L + 2U, numClasses]` -> scalar loss.
 *
 * @example
 * const encoder = models.smallCnnEncoder({ seed: 1 });
 * const uda = createUda({ encoder, encoderDim: 128, lambda: 1, confidenceThreshold: 0.5, sharpenTemperature: 0.4 });
 * const labelled = evaluation.sampleLabelsPerClass(train.labels, 10, 0);
 * await training.train({ ...uda, optimizer: training.adam(1e-3), batches: udaBatches(train, labelled, { labelledBatchSize: 100, unlabelledBatchSize: 100 }), steps: 300 });
 * uda.accuracy(testX, testY); // beside supervisedFewLabels on the same 100 labels
 * uda.dispose(); // the head; the encoder stays the caller's
 */
export function createUda(options: UdaOptions): UdaMethod {
  const fn = "createUda";
  checkOptions(fn, options, "{encoder, encoderDim, numClasses?, lambda?, ...}");
  if (!(options.encoder instanceof tf.LayersModel)) throw new Error(`${fn}: options.encoder must be a tf.LayersModel, got ${describe(options.encoder)}`);
  const { encoder, encoderDim } = options;
  checkPositiveInteger(fn, "options.encoderDim", encoderDim);
  const numClasses = options.numClasses ?? 10;
  checkPositiveInteger(fn, "options.numClasses", numClasses);
  if (numClasses < 2) throw new Error(`${fn}: options.numClasses must be at least 2, got ${numClasses}`);
  const lossOptions = checkLossOptions(fn, options);
  const tsa = options.tsa;
  if (tsa !== undefined) {
    if (tsa === null || typeof tsa !== "object") throw new Error(`${fn}: options.tsa must be an object {schedule, steps}, got ${describe(tsa)}`);
    tsaThreshold(tsa.schedule, 0, tsa.steps, numClasses); // checks the schedule and steps
    if (options.tsaThreshold !== undefined) throw new Error(`${fn}: options.tsa and options.tsaThreshold exclude each other (the schedule sets the threshold), got both`);
  }
  const seed = options.seed ?? 0;
  checkInteger(fn, "options.seed", seed);
  const strong = options.strongAugmentation ?? simclrAugment();
  const augmentations = { strongAugmentation: strong, weakAugmentation: options.weakAugmentation, labelledAugmentation: options.labelledAugmentation };
  for (const [name, a] of Object.entries(augmentations)) {
    if (a !== undefined && typeof a !== "function") throw new Error(`${fn}: options.${name} must be a function (images, seed) => images, got ${describe(a)}`);
  }
  const head = mlpHead({ inputDim: encoderDim, hidden: [], outputDim: numClasses, seed, name: "uda_classifier" });
  const where = "UDA.loss";
  const classify = (x: tf.Tensor4D, training: boolean): tf.Tensor2D =>
    applyChecked(where, "head", head, applyChecked(where, "encoder", encoder, x, encoderDim, training), numClasses, training);

  const logits = (images: tf.Tensor4D, batchSize = 256): tf.Tensor2D => {
    checkRank("UDA.logits", "images", images, 4, "float32");
    checkPositiveInteger("UDA.logits", "batchSize", batchSize);
    return tf.tidy(() => {
      const n = images.shape[0];
      const parts: tf.Tensor2D[] = [];
      for (let start = 0; start < n; start += batchSize) {
        const size = Math.min(batchSize, n - start);
        parts.push(classify(tf.slice(images, [start, 0, 0, 0], [size, -1, -1, -1]), false));
      }
      return parts.length === 0 ? tf.zeros([0, numClasses]) : parts.length === 1 ? parts[0] : tf.concat(parts, 0);
    }) as tf.Tensor2D;
  };
  const predict = (images: tf.Tensor4D, batchSize = 256): tf.Tensor1D =>
    tf.tidy(() => tf.cast(tf.argMax(logits(images, batchSize), 1), "int32") as tf.Tensor1D);

  return {
    name: "UDA",
    encoder,
    head,
    numClasses,
    trainable: [encoder, head],
    loss(batch: UdaBatch, ctx: StepContext): LossWithMetrics {
      const { labelled, unlabelled } = checkUdaBatch(where, batch);
      checkLabelRange(where, "batch.labelled.labels", labelled.labels, numClasses);
      const rng = createRng(ctx.seed);
      const [labelledSeed, weakSeed, strongSeed] = [rng.fork(), rng.fork(), rng.fork()];
      const x = options.labelledAugmentation ? options.labelledAugmentation(labelled.images, labelledSeed) : labelled.images;
      const l = labelled.images.shape[0];
      const accuracyOf = (s: tf.Tensor2D) => tf.mean(tf.cast(tf.equal(tf.argMax(s, 1), labelled.labels), "float32")) as tf.Scalar;
      const stepOptions = tsa === undefined ? lossOptions : { ...lossOptions, tsaThreshold: tsaThreshold(tsa.schedule, ctx.step, tsa.steps, numClasses) };
      const tsaMetric = (kept: tf.Scalar): Record<string, tf.Scalar> => (tsa === undefined ? (kept.dispose(), {}) : { tsaKept: kept });
      if (lossOptions.lambda === 0) {
        const s = classify(x, true);
        const { supervised, kept } = annealedCrossEntropy(s, labelled.labels, stepOptions.tsaThreshold);
        return { loss: supervised, metrics: { supervised: tf.clone(supervised), accuracy: accuracyOf(s), ...tsaMetric(kept) } };
      }
      const clean = options.weakAugmentation ? options.weakAugmentation(unlabelled, weakSeed) : unlabelled;
      const strongView = strong(unlabelled, strongSeed);
      const u = unlabelled.shape[0];
      const all = classify(tf.concat([x, clean, strongView], 0) as tf.Tensor4D, true);
      const s = tf.slice(all, [0, 0], [l, -1]) as tf.Tensor2D;
      const c = tf.slice(all, [l, 0], [u, -1]) as tf.Tensor2D;
      const a = tf.slice(all, [l + u, 0], [u, -1]) as tf.Tensor2D;
      const { loss, supervised, consistency, maskRate, tsaKept } = udaLoss(s, labelled.labels, c, a, stepOptions);
      return { loss, metrics: { supervised, consistency, maskRate, accuracy: accuracyOf(s), ...tsaMetric(tsaKept) } };
    },
    itemsPerBatch: (batch: UdaBatch) => batch.labelled.images.shape[0] + batch.unlabelled.shape[0],
    logits,
    predict,
    accuracy(images: tf.Tensor4D, labels: Labels, batchSize = 256): number {
      checkRank("UDA.accuracy", "images", images, 4, "float32");
      const truth = readLabels(labels, images.shape[0], "UDA.accuracy", "labels", numClasses);
      if (truth.length === 0) throw new Error(`UDA.accuracy: images must hold at least one image, got ${describe(images)}`);
      const predicted = predict(images, batchSize);
      const values = predicted.dataSync();
      predicted.dispose();
      let hits = 0;
      for (let i = 0; i < truth.length; i++) if (values[i] === truth[i]) hits++;
      return hits / truth.length;
    },
    dispose() {
      head.dispose();
    },
  };
}

/** The batch's tensors, checked: labelled images and labels of one length, unlabelled images of the same image shape. */
function checkUdaBatch(fn: string, batch: UdaBatch): UdaBatch {
  if (batch === null || typeof batch !== "object" || batch.labelled === null || typeof batch.labelled !== "object") {
    throw new Error(`${fn}: batch must be {labelled: {images, labels}, unlabelled}, got ${describe(batch)}`);
  }
  const { images, labels } = batch.labelled;
  checkRank(fn, "batch.labelled.images", images, 4, "float32");
  checkRank(fn, "batch.labelled.labels", labels, 1, "int32");
  if (labels.shape[0] !== images.shape[0] || images.shape[0] < 1) {
    throw new Error(`${fn}: batch.labelled.labels must have shape [${images.shape[0]}] (one per labelled image, at least one), got [${labels.shape}]`);
  }
  checkRank(fn, "batch.unlabelled", batch.unlabelled, 4, "float32");
  const u = batch.unlabelled;
  if (u.shape[0] < 1 || u.shape.slice(1).join() !== images.shape.slice(1).join()) {
    throw new Error(`${fn}: batch.unlabelled must be [U, ${images.shape.slice(1)}] with U >= 1, got ${describe(u)}`);
  }
  return batch;
}

/** Options of {@link udaBatches}. */
export interface UdaBatchesOptions {
  /** Labelled images per step, at most the labelled subset (equal: full batches, as `supervisedFewLabels` at 10 per class). */
  labelledBatchSize: number;
  /** Unlabelled images per step, at most the unlabelled pool. */
  unlabelledBatchSize: number;
  /**
   * Rows of the set the unlabelled images come from; default every row
   * (the labelled ones included, as in the paper: the unlabelled set is
   * the whole training set with its labels hidden).
   */
  unlabelledIndices?: ArrayLike<number>;
}

/**
 * A `batches(epoch, rng)` function for `training.train` that mixes, per
 * step, a labelled batch drawn from the rows `labelledIndices` of `set` and
 * an unlabelled batch from the unlabelled pool. An epoch is one shuffled
 * pass over the unlabelled pool (the last, smaller batch dropped); the
 * labelled rows are cycled through shuffled passes of their own, as many as
 * the epoch needs. Both orders come from the rng the loop passes, so a
 * run's seed fixes every batch. Only the labels of `labelledIndices` are
 * read.
 *
 * Shapes: `labelled.images` `[labelledBatchSize, h, w, c]`, `labelled.labels`
 * `[labelledBatchSize]` int32, `unlabelled` `[unlabelledBatchSize, h, w, c]`.
 *
 * @example
 * const rows = evaluation.sampleLabelsPerClass(train.labels, 10, 0); // 100 labelled digits
 * const batches = udaBatches(train, rows, { labelledBatchSize: 100, unlabelledBatchSize: 100 });
 * await training.train({ ...uda, optimizer, batches, steps: 300, seed: 1 });
 */
export function udaBatches(set: ImageSet, labelledIndices: ArrayLike<number>, options: UdaBatchesOptions): (epoch: number, rng: Rng) => Generator<UdaBatch> {
  const fn = "udaBatches";
  checkImageSet(fn, set);
  if (labelledIndices === null || typeof labelledIndices !== "object" || typeof labelledIndices.length !== "number" || labelledIndices.length < 1) {
    throw new Error(`${fn}: labelledIndices must be a non-empty array of row indices, got ${describe(labelledIndices)}`);
  }
  checkOptions(fn, options, "{labelledBatchSize, unlabelledBatchSize, unlabelledIndices?}");
  const labelledRows = rowsChecked(fn, "labelledIndices", labelledIndices, set.n);
  const unlabelledRows = options.unlabelledIndices === undefined
    ? Int32Array.from({ length: set.n }, (_, i) => i)
    : rowsChecked(fn, "options.unlabelledIndices", options.unlabelledIndices, set.n);
  const { labelledBatchSize, unlabelledBatchSize } = options;
  checkPositiveInteger(fn, "options.labelledBatchSize", labelledBatchSize);
  checkPositiveInteger(fn, "options.unlabelledBatchSize", unlabelledBatchSize);
  if (labelledBatchSize > labelledRows.length) {
    throw new Error(`${fn}: options.labelledBatchSize must be at most the ${labelledRows.length} labelled rows, got ${labelledBatchSize}`);
  }
  if (unlabelledBatchSize > unlabelledRows.length) {
    throw new Error(`${fn}: options.unlabelledBatchSize must be at most the ${unlabelledRows.length} unlabelled rows, got ${unlabelledBatchSize}`);
  }
  return function* (epoch, rng) {
    const unlabelledSeed = rng.int(0x7fffffff);
    const labelledSeed = rng.int(0x7fffffff);
    let pass = 0;
    let queue: Int32Array[] = [];
    const nextLabelled = (): Int32Array => {
      if (queue.length === 0) {
        // A new shuffled pass; the seed is the epoch's, so passes of different epochs differ too.
        queue = shuffledBatches(labelledRows.length, labelledBatchSize, { seed: labelledSeed, epoch: pass++, dropLast: true });
      }
      return queue.shift()!.map((i) => labelledRows[i]);
    };
    for (const idx of shuffledBatches(unlabelledRows.length, unlabelledBatchSize, { seed: unlabelledSeed, epoch, dropLast: true })) {
      const rows = nextLabelled();
      yield {
        labelled: { images: gatherImages(set, rows), labels: gatherLabels(set, rows) },
        unlabelled: gatherImages(set, idx.map((i) => unlabelledRows[i])),
      };
    }
  };
}

/** `indices` as an Int32Array of distinct rows in [0, n). */
function rowsChecked(fn: string, arg: string, indices: ArrayLike<number>, n: number): Int32Array {
  const rows = new Int32Array(indices.length);
  const seen = new Set<number>();
  for (let i = 0; i < indices.length; i++) {
    checkIntegerInRange(fn, `${arg}[${i}]`, indices[i], 0, n, { maxExclusive: true });
    if (seen.has(indices[i])) throw new Error(`${fn}: ${arg} must hold distinct rows, got ${indices[i]} twice`);
    seen.add(indices[i]);
    rows[i] = indices[i];
  }
  return rows;
}
