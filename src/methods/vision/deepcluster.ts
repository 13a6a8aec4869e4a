/**
 * DeepCluster (Caron, Bojanowski, Joulin & Douze 2018, "Deep Clustering for
 * Unsupervised Learning of Visual Features"): cluster the encoder's features
 * of the whole training set with k-means, then train the encoder to predict
 * those clusters, and repeat.
 */
import { tf } from "../../backend/tf";
import type { Augmentation } from "../../augment/augmentation";
import { simclrAugment } from "../../augment/compose";
import type { Rng } from "../../data/random";
import { extractFeatures } from "../../evaluation/features";
import { normalizedMutualInformation } from "../../evaluation/mutual_information";
import * as losses from "../../losses";
import { mlpHead, trainableVariables } from "../../models/encoders";
import { deriveSeed } from "../../training/loop";
import { kmeans } from "../../classical/kmeans";
import { pca } from "../../classical/pca";
import type { VisionBatch, VisionMethod } from "./method";
import {
  applyChecked,
  checkHidden,
  checkPositiveInteger,
  checkVisionBatch,
  checkVisionMethodOptions,
  type VisionMethodOptions,
} from "./checks";
import { checkNonNegativeInteger } from "../../validation/arguments";

/**
 * Options of {@link createDeepCluster}. As {@link VisionMethodOptions}, except
 * that the augmentation draws one view, not two.
 */
export interface DeepClusterOptions extends Omit<VisionMethodOptions, "augmentation"> {
  /** The training set to cluster and sample from, `[N, H, W, C]` float32 (the encoder's input shape); never disposed by the method. */
  images: tf.Tensor4D;
  /** One augmented view per image; default `simclrAugment()` (the paper: random resized crop, flip, no colour). */
  augmentation?: Augmentation;
  /**
   * k, the number of k-means clusters (pseudo-classes); default 50. The paper
   * over-clusters (k = 10000 for the 1000 ImageNet classes, best in its
   * Fig. 3). On 8000 MNIST digits (100 steps of 256, adam(1e-3), wasm) k = 50
   * gave a linear probe of 0.948 and kNN 0.858, k = 10 0.947 and 0.844,
   * k = 100 0.940 and 0.833: small differences, in over-clustering's favour.
   */
  clusters?: number;
  /** Images per batch; default 256. */
  batchSize?: number;
  /**
   * Steps between two clusterings (one "epoch" of the training loop);
   * default 25. The paper re-clusters after every pass over ImageNet; a
   * 30-60 s MNIST run has 50-100 steps, so shorter epochs give it 3-4
   * clusterings (100 steps as 2 epochs of 50 gave kNN 0.801, as 4 of 25
   * 0.858). Each clustering costs a forward pass over all N images: about
   * 6 s for 8000 digits and the small CNN on wasm.
   */
  stepsPerEpoch?: number;
  /**
   * Hidden sizes of the classifier head; default `[]`: a linear classifier
   * on the encoder's features, as the paper's re-initialised top layer (its
   * fc6-fc7 MLP belongs to the trained network; here the encoder ends at its features).
   */
  hidden?: number[];
  /**
   * Dimensions kept by the PCA before k-means; default `min(encoderDim, 64)`
   * (the paper: 256 of AlexNet's 4096). The projections are whitened (divided
   * by the square root of their variance) and L2-normalised, as in the paper.
   */
  pcaDim?: number;
  /** Lloyd rounds of each k-means; default 20. */
  kmeansIterations?: number;
  /** Images per forward pass when extracting the features to cluster; default 512. */
  featureBatchSize?: number;
  /**
   * The optimizer that will train this method (the same object passed to
   * `training.train`). When given, the head's slots in it (Adam's moments,
   * momentum) are zeroed at each re-initialisation of the head, as the
   * paper's code builds a new optimizer for its top layer every epoch.
   * Adam's bias corrections are shared by all variables and are not reset:
   * the head's first steps after a reset are then up to ~3x lr (see
   * {@link createDeepCluster}). Measured (k = 50, 100 steps, wasm): probe
   * 0.948 and kNN 0.858 with the reset, 0.943 and 0.834 without. A
   * tf.AdamOptimizer (also `adam()` of train/adam.ts), tf.MomentumOptimizer
   * or tf.SGDOptimizer.
   */
  optimizer?: tf.Optimizer;
  /** True labels `[N]` (e.g. digits) to record NMI(clusters, labels) per clustering, the paper's Fig. 2a; optional. */
  labels?: ArrayLike<number>;
}

/** What one clustering (at the start of each epoch) produced. */
export interface DeepClusterRecord {
  /** The epoch whose batches use these pseudo-labels. */
  epoch: number;
  /** k-means inertia: sum of squared distances of the (PCA-whitened, L2-normalised) features to their centroids. */
  inertia: number;
  /** Non-empty clusters. */
  nonEmpty: number;
  /** Empty clusters k-means re-seeded. */
  reseeded: number;
  /** NMI between these pseudo-labels and the previous clustering's (the paper's Fig. 2b); absent at the first. */
  nmiPrevious?: number;
  /** NMI between these pseudo-labels and `options.labels` (the paper's Fig. 2a); absent without labels. */
  nmiLabels?: number;
  /** Wall time of feature extraction, PCA and k-means, seconds. */
  seconds: number;
}

/** The DeepCluster method: a {@link VisionMethod} that also supplies its batches. */
export interface DeepClusterMethod extends VisionMethod<VisionBatch> {
  /** The classifier head `[B, encoderDim] -> [B, clusters]`, re-initialised at every clustering. */
  readonly head: tf.LayersModel;
  /** k. */
  readonly clusters: number;
  /** Steps of each epoch (also the training loop's `stepsPerEpoch`, for its progress bar). */
  readonly stepsPerEpoch: number;
  /** The current pseudo-label of every training image `[N]` (empty before the first clustering). */
  readonly pseudoLabels: Int32Array;
  /** Images per cluster `[clusters]` of the current clustering. */
  readonly clusterSizes: Int32Array;
  /** One record per clustering, in order. */
  readonly history: readonly DeepClusterRecord[];
  /**
   * The batches of epoch `epoch`: first re-clusters (features of all images
   * by the current encoder in inference mode, PCA-whitening, L2
   * normalisation, k-means seeded from `seed` and `epoch`) and
   * re-initialises the head, at once when called; then yields
   * `stepsPerEpoch` batches `{images, indices}` of `batchSize` images drawn
   * uniformly over the non-empty clusters, then uniformly within the cluster.
   */
  batches(epoch: number, rng: Rng): Generator<VisionBatch>;
}

/**
 * DeepCluster. Each epoch starts by clustering: the encoder's features of
 * all N images, PCA-reduced, whitened and L2-normalised, are split by
 * k-means into k clusters (empty clusters re-seeded as in the paper, see
 * kmeans.ts), whose ids become pseudo-labels y_n. The classifier head g is
 * then re-initialised (cluster ids are an arbitrary permutation from one
 * clustering to the next), and the epoch's steps minimise
 *
 *   L = -1/B sum_i log softmax(g(f(aug(x_i))))_{y_i}
 *
 * over images sampled uniformly over clusters (the paper's fix for
 * imbalanced clusters: a big cluster would otherwise dominate, and the
 * trivial solution, one cluster holding almost everything, would be cheap).
 *
 * Re-initialisation assigns fresh initial values (those of `mlpHead` with
 * seed `deriveSeed(seed, epoch)`) to the head's existing variables: the
 * training loop collects its variable list once, so a new head model would
 * never be updated. Give `options.optimizer` to also zero the head's
 * optimizer slots; Adam's shared bias corrections stay as they are, so with
 * zeroed moments the head's first update is lr * (1 - b1) / sqrt(1 - b2)
 * ≈ 3.2 lr per weight, decaying to lr within some tens of steps.
 *
 * Metrics: `accuracy`, the share of the batch whose arg-max class is its pseudo-label.
 *
 * Shapes: `options.images` `[N, H, W, C]`; `batch.images` `[B, H, W, C]`,
 * `batch.indices` `[B]` rows of `options.images` -> encoder `[B, encoderDim]`
 * -> logits `[B, clusters]` -> scalar loss.
 *
 * @example
 * const { train: digits } = data.loadMnist();
 * const images = data.gatherImages(digits, range(8000));
 * const encoder = models.smallCnnEncoder({ seed: 1 });
 * const optimizer = adam(1e-3);
 * const deepCluster = createDeepCluster({ encoder, encoderDim: 128, images, optimizer, labels: digits.labels.slice(0, 8000), seed: 1 });
 * await training.train({ ...deepCluster, optimizer, epochs: 4 });
 * deepCluster.history.map((r) => r.nmiLabels); // NMI(clusters, digits) per epoch
 * deepCluster.dispose(); // the head; `encoder` and `images` are kept
 */
export function createDeepCluster(options: DeepClusterOptions): DeepClusterMethod {
  const fn = "createDeepCluster";
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object {encoder, encoderDim, images, ...}, got ${options}`);
  const { seed } = checkVisionMethodOptions(fn, { ...options, augmentation: undefined });
  const { encoder, encoderDim, images } = options;
  const augmentation = options.augmentation ?? simclrAugment();
  if (typeof augmentation !== "function") throw new Error(`${fn}: options.augmentation must be a function (images, seed) => images, got ${typeof augmentation}`);
  if (!(images instanceof tf.Tensor) || images.rank !== 4 || images.dtype !== "float32") {
    const got = images instanceof tf.Tensor ? `${images.dtype} [${images.shape.join(", ")}]` : typeof images;
    throw new Error(`${fn}: options.images must be a float32 tf.Tensor4D [N, 28, 28, 1], got ${got}`);
  }
  const n = images.shape[0];
  const clusters = options.clusters ?? 50;
  checkPositiveInteger(fn, "options.clusters", clusters);
  if (clusters < 2 || clusters > n) throw new Error(`${fn}: options.clusters must be in [2, ${n}] (the images), got ${clusters}`);
  const batchSize = options.batchSize ?? 256;
  checkPositiveInteger(fn, "options.batchSize", batchSize);
  if (batchSize < 2) throw new Error(`${fn}: options.batchSize must be >= 2, got ${batchSize}`);
  const stepsPerEpoch = options.stepsPerEpoch ?? 25;
  checkPositiveInteger(fn, "options.stepsPerEpoch", stepsPerEpoch);
  const hidden = options.hidden ?? [];
  checkHidden(fn, "options.hidden", hidden);
  const pcaDim = options.pcaDim ?? Math.min(encoderDim, 64);
  checkPositiveInteger(fn, "options.pcaDim", pcaDim);
  if (pcaDim > encoderDim) throw new Error(`${fn}: options.pcaDim must be <= encoderDim = ${encoderDim}, got ${pcaDim}`);
  const kmeansIterations = options.kmeansIterations ?? 20;
  checkPositiveInteger(fn, "options.kmeansIterations", kmeansIterations);
  const featureBatchSize = options.featureBatchSize ?? 512;
  checkPositiveInteger(fn, "options.featureBatchSize", featureBatchSize);
  const optimizer = options.optimizer;
  // By class name: tfjs optimizers answer `instanceof` for any optimizer-shaped object.
  const optimizerClass = (optimizer as { getClassName?: () => string } | undefined)?.getClassName?.();
  if (optimizer !== undefined && !["Adam", "Momentum", "SGD"].includes(optimizerClass ?? "")) {
    const got = optimizerClass ?? typeof optimizer;
    throw new Error(`${fn}: options.optimizer must be a tf.AdamOptimizer, tf.MomentumOptimizer or tf.SGDOptimizer (whose head slots can be reset), got ${got}`);
  }
  let labels: Int32Array | undefined;
  if (options.labels !== undefined) {
    const given = options.labels;
    if (given === null || typeof given.length !== "number" || given.length !== n) {
      throw new Error(`${fn}: options.labels must have length ${n} (one per image), got ${given === null ? null : given.length}`);
    }
    labels = Int32Array.from(given);
    if (labels.some((v, i) => v !== given[i])) throw new Error(`${fn}: options.labels must be integers, got a non-integer label`);
  }

  const makeHead = (headSeed: number) => mlpHead({ inputDim: encoderDim, hidden, outputDim: clusters, batchNorm: false, seed: headSeed, name: "deepcluster_head" });
  const head = makeHead(deriveSeed(seed, 0));
  let pseudoLabels = new Int32Array(0);
  let clusterSizes = new Int32Array(clusters);
  let labelsTensor: tf.Tensor1D | undefined;
  const history: DeepClusterRecord[] = [];
  const where = "DeepCluster.loss";

  const resetHead = (epoch: number) => {
    const fresh = makeHead(deriveSeed(seed, epoch));
    try {
      head.setWeights(fresh.getWeights());
    } finally {
      fresh.dispose();
    }
    if (optimizer !== undefined) resetOptimizerSlots(optimizer, trainableVariables(head));
  };

  const cluster = (epoch: number) => {
    const t0 = performance.now();
    const features = extractFeatures(encoder, images, { batchSize: featureBatchSize });
    let result;
    try {
      if (features.shape[1] !== encoderDim) throw new Error(`${fn}: encoder must map images to [N, ${encoderDim}], got [${features.shape.join(", ")}]`);
      const reduced = whitenedUnitRows(features, pcaDim);
      try {
        result = kmeans(reduced, { k: clusters, iterations: kmeansIterations, seed: deriveSeed(seed, 1, epoch) });
      } finally {
        reduced.dispose();
      }
    } finally {
      features.dispose();
    }
    result.centroids.dispose();
    const previous = pseudoLabels;
    pseudoLabels = result.assignments;
    clusterSizes = result.clusterSizes;
    tf.dispose(labelsTensor);
    labelsTensor = tf.tensor1d(pseudoLabels, "int32");
    const record: DeepClusterRecord = {
      epoch,
      inertia: result.inertia,
      nonEmpty: clusterSizes.filter((s) => s > 0).length,
      reseeded: result.reseeded,
      seconds: 0,
    };
    if (previous.length === n) record.nmiPrevious = normalizedMutualInformation(previous, pseudoLabels);
    if (labels !== undefined) record.nmiLabels = normalizedMutualInformation(labels, pseudoLabels);
    record.seconds = (performance.now() - t0) / 1000;
    history.push(record);
  };

  return {
    name: "DeepCluster",
    encoder,
    head,
    clusters,
    stepsPerEpoch,
    trainable: [encoder, head],
    get pseudoLabels() {
      return pseudoLabels;
    },
    get clusterSizes() {
      return clusterSizes;
    },
    history,
    batches(epoch: number, rng: Rng): Generator<VisionBatch> {
      checkNonNegativeInteger("DeepCluster.batches", "epoch", epoch);
      if (rng === null || typeof rng !== "object" || typeof rng.int !== "function") throw new Error(`DeepCluster.batches: rng must be an Rng (createRng), got ${rng}`);
      cluster(epoch);
      resetHead(epoch);
      // Members of every non-empty cluster, sampled from in the generator.
      const members: number[][] = Array.from({ length: clusters }, () => []);
      pseudoLabels.forEach((c, i) => members[c].push(i));
      const nonEmpty = members.filter((m) => m.length > 0);
      return (function* () {
        for (let s = 0; s < stepsPerEpoch; s++) {
          const indices = new Int32Array(batchSize);
          for (let i = 0; i < batchSize; i++) {
            const m = nonEmpty[rng.int(nonEmpty.length)];
            indices[i] = m[rng.int(m.length)];
          }
          yield { images: tf.tidy(() => tf.gather(images, tf.tensor1d(indices, "int32")) as tf.Tensor4D), indices };
        }
      })();
    },
    loss(batch, ctx) {
      const x = checkVisionBatch(where, batch);
      const b = x.shape[0];
      const indices = batch.indices;
      if (!(indices instanceof Int32Array) || indices.length !== b) {
        throw new Error(`${where}: batch.indices must be an Int32Array of length ${b} (each image's row in options.images), got ${indices instanceof Int32Array ? `length ${indices.length}` : `${indices}`}`);
      }
      if (labelsTensor === undefined) throw new Error(`${where}: pseudo-labels must exist: call batches(epoch, rng) first (training.train does), got none`);
      for (const i of indices) if (!(i >= 0 && i < n)) throw new Error(`${where}: batch.indices must be in [0, ${n - 1}], got ${i}`);
      const target = tf.gather(labelsTensor, tf.tensor1d(indices, "int32"));
      // oneHot on int32 then cast: the wasm backend's float32 oneHot is wrong.
      const onehot = tf.cast(tf.oneHot(target, clusters), "float32") as tf.Tensor2D;
      const features = applyChecked(where, "encoder", encoder, augmentation(x, ctx.seed), encoderDim);
      const logits = applyChecked(where, "head", head, features, clusters);
      const loss = losses.softTargetCrossEntropy(logits, onehot);
      const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), target), "float32"));
      return { loss, metrics: { accuracy } };
    },
    dispose() {
      head.dispose();
      tf.dispose(labelsTensor);
      labelsTensor = undefined;
    },
  };
}

/**
 * The rows of `features` `[n, d]` projected on their top `dim` principal
 * components, whitened (each component divided by the square root of its
 * variance) and scaled to unit length: the paper's pre-processing before
 * k-means. Returns `[n, dim]`.
 */
function whitenedUnitRows(features: tf.Tensor2D, dim: number): tf.Tensor2D {
  const n = features.shape[0];
  const fit = pca(features, dim);
  // A direction of (numerically) zero variance is left unscaled rather than blown up.
  const scale = fit.explainedVariance.map((v) => (v > 1e-10 ? 1 / Math.sqrt(v) : 1));
  const out = new Float32Array(n * dim);
  fit.projections.forEach((row, i) => {
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += (row[j] * scale[j]) ** 2;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let j = 0; j < dim; j++) out[i * dim + j] = row[j] * scale[j] * inv;
  });
  return tf.tensor2d(out, [n, dim], "float32");
}

interface OptimizerSlot { originalName: string; variable: tf.Variable }

/** Zeroes the optimizer's slots (Adam's moments, momentum) of `variables`; an SGD optimizer has none. */
function resetOptimizerSlots(optimizer: tf.Optimizer, variables: tf.Variable[]): void {
  const state = optimizer as unknown as Record<string, OptimizerSlot[] | undefined>;
  const names = new Set(variables.map((v) => v.name));
  for (const key of ["accumulatedFirstMoment", "accumulatedSecondMoment", "accumulations"]) {
    for (const slot of state[key] ?? []) {
      if (slot == null) continue;
      const owner = slot.originalName.slice(0, slot.originalName.lastIndexOf("/"));
      if (names.has(owner)) tf.tidy(() => slot.variable.assign(tf.zerosLike(slot.variable)));
    }
  }
}
