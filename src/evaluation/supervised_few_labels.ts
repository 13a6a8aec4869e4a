/**
 * The reference every few-label result of a self-supervised method is read
 * against: the same encoder trained from scratch, with labels, on only the
 * same k labelled examples per class (SimCLR, Chen et al. 2020, Table 7,
 * "Supervised baseline" on 1% and 10% of the labels; Zhai et al. 2019,
 * S4L). Pre-training earns its keep where it beats this row.
 */
import { tf } from "../backend/tf";
import { batches } from "../data/batches";
import { mlpHead } from "../models/encoders";
import { adam } from "../training/adam";
import { train } from "../training/loop";
import { knnClassify, KnnOptions } from "./knn";
import {
  checkBudgets,
  DEFAULT_LABELS_PER_CLASS,
  gatherLabels,
  LabelBudget,
  labelDrawSeeds,
  LabelEfficiencyPoint,
  labelSubsetsChecked,
  spread,
} from "./label_efficiency";
import { Labels, readLabels, scorePredictions } from "./labels";

/** A labelled image split: `x` `[n, height, width, channels]`, `y` `[n]`. */
export interface ImageSplit {
  x: tf.Tensor;
  y: Labels;
}

/** Options of {@link supervisedFewLabels}. */
export interface SupervisedFewLabelsOptions {
  /**
   * Builds a new, untrained encoder `[batch, ...inputShape] -> [batch, dim]`
   * on every call; it is disposed after its run. It receives the draw's seed
   * (the same for every budget of one draw): use it for the initialisers, or
   * ignore it to start every run from the same weights.
   */
  makeEncoder: (seed: number) => tf.LayersModel;
  /** Split the labelled subsets are drawn from. */
  train: ImageSplit;
  /** Split every run is scored on. */
  test: ImageSplit;
  /** Budgets; default `[1, 10, 100, "all"]`. */
  labelsPerClass?: LabelBudget[];
  /** Seeded draws per count budget; default 5 (`"all"` is trained once). */
  draws?: number;
  /** Seed of the draws, the same subsets as `labelEfficiency` with this seed; default 0. */
  seed?: number;
  /** Optimizer steps per run, whatever the subset's size; default 150. */
  steps?: number;
  /**
   * Examples per step; default 100, and never more than the labelled subset
   * (full-batch at 10 per class). A fair baseline needs a good recipe: on
   * MNIST with 10 labels per class (small CNN, 2 draws) full batches of 100
   * for 150 steps reached 0.807/0.818, batches of 32 for 200 steps 0.660/0.777.
   */
  batchSize?: number;
  /** Adam's learning rate; default 1e-3. */
  learningRate?: number;
  /** Augments a training batch `[b, h, w, c]` with a seed (e.g. `augment.simclrAugment()`); default none. */
  augment?: (images: tf.Tensor4D, seed: number) => tf.Tensor4D;
  /** kNN on the trained encoder's features, neighbours `min(knn.k ?? 20, smallest class)` as in `labelEfficiency`. */
  knn?: KnnOptions;
}

/**
 * The scores of one budget, in {@link LabelEfficiencyPoint}'s shape so the
 * rows sit beside frozen representations: `linearProbe` is the test
 * accuracy of the linear softmax head trained jointly with the encoder
 * (end to end, not a probe of frozen features); `knn` classifies test
 * features of the trained encoder by the labelled subset's features.
 */
export type SupervisedFewLabelsPoint = LabelEfficiencyPoint & {
  /** Optimizer steps of each run. */
  steps: number;
};

/**
 * Trains `makeEncoder()` plus a linear softmax head with cross-entropy on
 * k labelled examples per class, for each budget and seeded draw (the
 * subsets of `labelSubsets(train.y, labelsPerClass, draws, seed)`, those
 * `labelEfficiency` fits on), through `training.train` with Adam, and
 * scores it on the whole test split. Each run: `steps` steps on seeded
 * shuffled batches of the subset (seed: the draw's), the head
 * `mlpHead({ hidden: [] })` seeded with the draw's seed, then everything
 * disposed. Leaves `tf.memory().numTensors` as it found it. An interrupted
 * run throws, naming the run.
 *
 * Shapes: `train.x` `[n, ...inputShape]`, `train.y` `[n]`, `test.x` `[m, ...inputShape]`, `test.y` `[m]`.
 *
 * @example
 * const points = await supervisedFewLabels({
 *   makeEncoder: (seed) => models.smallCnnEncoder({ seed }),
 *   train: { x: trainX, y: trainY }, test: { x: testX, y: testY },
 *   labelsPerClass: [1, 10, 100], draws: 3, steps: 150,
 * });
 * points[1].linearProbe.mean; // supervised accuracy from 10 labels per class
 */
export async function supervisedFewLabels(options: SupervisedFewLabelsOptions): Promise<SupervisedFewLabelsPoint[]> {
  const fn = "supervisedFewLabels";
  if (options === null || typeof options !== "object") {
    throw new Error(`${fn}: options must be an object {makeEncoder, train, test, ...}, got ${options}`);
  }
  if (typeof options.makeEncoder !== "function") {
    throw new Error(`${fn}: options.makeEncoder must be a function (seed) => tf.LayersModel, got ${typeof options.makeEncoder}`);
  }
  for (const split of ["train", "test"] as const) {
    const s = options[split];
    if (s === null || typeof s !== "object" || !(s.x instanceof tf.Tensor) || s.x.rank < 2) {
      const got = s?.x instanceof tf.Tensor ? `shape [${s.x.shape}]` : typeof s?.x;
      throw new Error(`${fn}: options.${split}.x must be a tf.Tensor [n, ...inputShape], got ${got}`);
    }
  }
  const trainX = options.train.x;
  const testX = options.test.x;
  if (trainX.shape.slice(1).join() !== testX.shape.slice(1).join()) {
    throw new Error(`${fn}: options.test.x must have shape [m, ${trainX.shape.slice(1)}] like options.train.x, got [${testX.shape}]`);
  }
  const budgets = options.labelsPerClass ?? DEFAULT_LABELS_PER_CLASS.slice();
  checkBudgets(budgets, fn, "options.labelsPerClass");
  const draws = options.draws ?? 5;
  const seed = options.seed ?? 0;
  const steps = options.steps ?? 150;
  const batchSize = options.batchSize ?? 100;
  const learningRate = options.learningRate ?? 1e-3;
  for (const [name, v] of [["draws", draws], ["steps", steps], ["batchSize", batchSize]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${fn}: options.${name} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(seed)) throw new Error(`${fn}: options.seed must be an integer, got ${seed}`);
  if (!(Number.isFinite(learningRate) && learningRate > 0)) {
    throw new Error(`${fn}: options.learningRate must be a finite number > 0, got ${learningRate}`);
  }
  if (options.augment !== undefined && typeof options.augment !== "function") {
    throw new Error(`${fn}: options.augment must be a function (images, seed) => images, got ${typeof options.augment}`);
  }
  const requestedK = options.knn?.k ?? 20;
  if (!Number.isInteger(requestedK) || requestedK <= 0) {
    throw new Error(`${fn}: options.knn.k must be a positive integer, got ${requestedK}`);
  }
  const n = trainX.shape[0];
  const yTrain = readLabels(options.train.y, n, fn, "options.train.y");
  const yTest = readLabels(options.test.y, testX.shape[0], fn, "options.test.y");
  let numClasses = 0;
  for (const v of yTrain) numClasses = Math.max(numClasses, v + 1);
  for (const v of yTest) numClasses = Math.max(numClasses, v + 1);
  if (numClasses < 2) throw new Error(`${fn}: options.train.y and options.test.y must hold at least 2 classes, got ${numClasses}`);
  const subsets = labelSubsetsChecked(yTrain, budgets, draws, seed, fn);
  const drawSeeds = labelDrawSeeds(seed, draws);
  const augment = options.augment;

  const points: SupervisedFewLabelsPoint[] = [];
  for (const { labelsPerClass, indices } of subsets) {
    const probeValues: number[] = [];
    const knnValues: number[] = [];
    let kUsed = requestedK;
    for (let d = 0; d < indices.length; d++) {
      const rows = indices[d];
      const runSeed = drawSeeds[d];
      const subY = gatherLabels(yTrain, rows);
      kUsed = Math.min(requestedK, smallestClass(subY, numClasses));
      const subX = tf.gather(trainX, rows);
      const encoder = options.makeEncoder(runSeed);
      let head: tf.LayersModel | undefined;
      const optimizer = adam(learningRate);
      try {
        if (!(encoder instanceof tf.LayersModel)) {
          throw new Error(`${fn}: options.makeEncoder must return a tf.LayersModel, got ${typeof encoder}`);
        }
        const outShape = encoder.outputs[0].shape;
        if (outShape.length !== 2 || typeof outShape[1] !== "number") {
          throw new Error(`${fn}: options.makeEncoder must build an encoder with output [batch, dim], got [${outShape}]`);
        }
        head = mlpHead({ inputDim: outShape[1], hidden: [], outputDim: numClasses, seed: runSeed, name: "classifier" });
        const classifier = head;
        const b = Math.min(batchSize, rows.length);
        const history = await train({
          label: `supervised, ${labelsPerClass} per class, draw ${d}`,
          trainable: [encoder, classifier],
          optimizer,
          steps,
          seed: runSeed,
          progress: false,
          batches: function* (epoch) {
            for (const idx of batches(rows.length, b, { seed: runSeed, epoch })) {
              yield { x: tf.gather(subX, idx), y: tf.tensor1d(gatherLabels(subY, idx), "int32") };
            }
          },
          loss: ({ x, y }, ctx) => {
            const input = augment === undefined ? x : augment(x as tf.Tensor4D, ctx.seed);
            const logits = classifier.apply(encoder.apply(input, { training: true }), { training: true }) as tf.Tensor2D;
            return tf.losses.softmaxCrossEntropy(tf.oneHot(y, numClasses), logits);
          },
        });
        if (history.interrupted) {
          throw new Error(`${fn}: interrupted during labelsPerClass ${labelsPerClass}, draw ${d}, after ${history.steps} of ${steps} steps`);
        }
        const testF = encoder.predict(testX, { batchSize: 256 }) as tf.Tensor2D;
        const subF = encoder.predict(subX, { batchSize: 256 }) as tf.Tensor2D;
        try {
          const predicted = tf.tidy(() => tf.argMax(classifier.predict(testF, { batchSize: 256 }) as tf.Tensor2D, 1));
          const predictions = predicted.dataSync() as Int32Array;
          predicted.dispose();
          probeValues.push(scorePredictions(predictions, yTest, numClasses).accuracy);
          knnValues.push(knnClassify(subF, subY, testF, yTest, { ...options.knn, k: kUsed, numClasses }).accuracy);
        } finally {
          tf.dispose([testF, subF]);
        }
      } finally {
        optimizer.dispose();
        if (encoder instanceof tf.LayersModel) encoder.dispose();
        head?.dispose();
        subX.dispose();
      }
    }
    points.push({
      labelsPerClass,
      labelled: indices[0].length,
      draws: indices.length,
      linearProbe: spread(probeValues),
      knn: { ...spread(knnValues), k: kUsed },
      steps,
    });
  }
  return points;
}

function smallestClass(y: Int32Array, numClasses: number): number {
  const counts = new Array<number>(numClasses).fill(0);
  for (const v of y) counts[v]++;
  return Math.min(...counts.filter((c) => c > 0));
}
