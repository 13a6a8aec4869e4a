/**
 * Linear probe: how linearly separable are the classes in a frozen
 * representation? A softmax regression trained on top of fixed features,
 * with one fixed recipe, so numbers from different methods, encoders and
 * notebooks compare.
 *
 * The protocol is the standard linear evaluation of self-supervised
 * representations (Zhang, Isola & Efros 2016; Kolesnikov, Zhai & Beyer 2019;
 * SimCLR, Chen et al. 2020, Sec. B.6), scaled down to CPU size.
 */
import { tf } from "../backend/tf";
import { fitSoftmaxRegression } from "./softmax_regression";
import { Labels, readLabels, scorePredictions } from "./labels";
import { checkInteger, checkMatrix, checkNonNegativeNumber, checkPositiveInteger, checkPositiveNumber } from "../validation/arguments";

/** The probe's recipe; every field has a fixed default. */
export interface LinearProbeOptions {
  /** Passes over the training set; default 30 (more when needed to reach `minSteps`). */
  epochs?: number;
  /** Least number of Adam steps, so small sets are not under-fitted; default 500. */
  minSteps?: number;
  /** Examples per Adam step; default 256 (full batch when n is smaller). */
  batchSize?: number;
  /** Peak Adam learning rate, decayed to 0 by a cosine over all steps; default 0.01. */
  learningRate?: number;
  /** L2 penalty `weightDecay / 2 * ||W||^2` on the weights (not the bias); default 1e-4. */
  weightDecay?: number;
  /** Seed of the minibatch order; default 0. */
  seed?: number;
  /** Classes; default 1 + the largest label in either set. */
  numClasses?: number;
  /**
   * Features `[m, dim]` whose mean and standard deviation standardise the
   * inputs; default `trainFeatures`. With few labels, pass the features of
   * the whole (unlabelled) training set: statistics of 10 examples are noise,
   * and unlabelled data is exactly what self-supervised learning assumes.
   */
  standardiseWith?: tf.Tensor2D;
}

/** The recipe as run, every field filled. */
export type LinearProbeRecipe = Required<Omit<LinearProbeOptions, "numClasses" | "standardiseWith">> & {
  beta1: number;
  beta2: number;
  epsilon: number;
  standardise: "train mean and std" | "mean and std of standardiseWith";
};

/** What {@link linearProbe} returns. */
export interface LinearProbeResult {
  /** Test accuracy in [0, 1]. */
  accuracy: number;
  /** Test accuracy per class (`NaN` for a class absent from the test set). */
  perClassAccuracy: number[];
  /** Accuracy on the training set: a gap to `accuracy` shows overfitting. */
  trainAccuracy: number;
  /** Predicted class of every test example `[nTest]`. */
  predictions: Int32Array;
  /** Counts `[numClasses][numClasses]`, rows true class, columns predicted. */
  confusion: number[][];
  /** Number of classes. */
  numClasses: number;
  /** Adam steps taken: `max(epochs, ceil(minSteps / stepsPerEpoch))` epochs of steps. */
  steps: number;
  /** The trained probe, for inspection: logits = ((x - mean) / scale) W + bias. */
  weights: {
    /** `[dim]` train feature means. */
    mean: Float32Array;
    /** `[dim]` train feature standard deviations (1 where a feature is constant). */
    scale: Float32Array;
    /** `[dim * numClasses]`, row-major `[dim, numClasses]`. */
    kernel: Float32Array;
    /** `[numClasses]`. */
    bias: Float32Array;
  };
  /** The recipe that produced this result. */
  recipe: LinearProbeRecipe;
}

const DEFAULTS = { epochs: 30, minSteps: 500, batchSize: 256, learningRate: 0.01, weightDecay: 1e-4, seed: 0 };

/**
 * Trains a softmax regression on frozen `trainFeatures` `[n, dim]` with
 * integer `trainLabels` `[n]` and scores it on `testFeatures` `[m, dim]`,
 * `testLabels` `[m]`.
 *
 * The fixed recipe: (1) standardise every feature with the mean and
 * standard deviation of the training set (a feature constant on the
 * training set is only centred), so the same learning rate suits raw pixels
 * and learned features; (2) start from zero weights; (3) Adam (beta1 0.9,
 * beta2 0.999, epsilon 1e-8) on the mean cross-entropy plus
 * `weightDecay / 2 * ||W||^2`, minibatches of `batchSize` in a seeded
 * random order each epoch, for `epochs` epochs or, if that is fewer than
 * `minSteps` steps, as many epochs as reach it; learning rate decayed from
 * `learningRate` to 0 with a cosine over all steps; (4) predict the arg-max
 * logit. Defaults: 30 epochs, 500 steps at least, batch 256, learning rate
 * 0.01, weight decay 1e-4, seed 0 (on 8000 MNIST digits: 960 steps, raw
 * pixels 89% and a random-init small CNN 92% test accuracy). The problem
 * is convex and the start is fixed, so the result depends on the data and
 * the minibatch order only.
 *
 * @example
 * const r = linearProbe(trainFeatures, trainLabels, testFeatures, testLabels);
 * r.accuracy; // 0.93
 */
export function linearProbe(
  trainFeatures: tf.Tensor2D,
  trainLabels: Labels,
  testFeatures: tf.Tensor2D,
  testLabels: Labels,
  options: LinearProbeOptions = {},
): LinearProbeResult {
  const fn = "linearProbe";
  checkMatrix(fn, "trainFeatures", trainFeatures);
  const [n, dim] = trainFeatures.shape;
  checkMatrix(fn, "testFeatures", testFeatures, undefined, dim);
  const [m] = testFeatures.shape;
  if (n === 0) throw new Error(`${fn}: trainFeatures must have at least one row, got shape [${trainFeatures.shape}]`);
  const recipe: LinearProbeRecipe = {
    ...DEFAULTS,
    ...Object.fromEntries(Object.entries(options).filter(([k, v]) => v !== undefined && k !== "numClasses" && k !== "standardiseWith")),
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    standardise: options.standardiseWith === undefined ? "train mean and std" : "mean and std of standardiseWith",
  };
  if (options.standardiseWith !== undefined) checkMatrix(fn, "options.standardiseWith", options.standardiseWith, undefined, dim);
  for (const key of ["epochs", "batchSize", "minSteps"] as const) {
    checkPositiveInteger(fn, key, recipe[key]);
  }
  checkPositiveNumber(fn, "learningRate", recipe.learningRate);
  checkNonNegativeNumber(fn, "weightDecay", recipe.weightDecay);
  checkInteger(fn, "seed", recipe.seed);
  if (options.numClasses !== undefined && (!Number.isInteger(options.numClasses) || options.numClasses < 2)) {
    throw new Error(`${fn}: numClasses must be an integer >= 2, got ${options.numClasses}`);
  }
  const yTrain = readLabels(trainLabels, n, fn, "trainLabels", options.numClasses);
  const yTest = readLabels(testLabels, m, fn, "testLabels", options.numClasses);
  let numClasses = options.numClasses ?? 0;
  if (options.numClasses === undefined) for (const y of [...yTrain, ...yTest]) numClasses = Math.max(numClasses, y + 1);
  if (numClasses < 2) throw new Error(`${fn}: numClasses must be an integer >= 2, got ${numClasses}`);

  const { mean, scale } = tf.tidy(() => {
    const moments = tf.moments((options.standardiseWith ?? trainFeatures).toFloat(), 0);
    const std = tf.sqrt(moments.variance);
    return { mean: moments.mean as tf.Tensor1D, scale: tf.where(tf.less(std, 1e-6), tf.onesLike(std), std) as tf.Tensor1D };
  });
  const standardise = (x: tf.Tensor2D) => tf.div(tf.sub(x.toFloat(), mean), scale) as tf.Tensor2D;
  const zTrain = tf.tidy(() => standardise(trainFeatures));
  // Minibatches are assembled in JS: tf.gather of rows took 5 ms per
  // 256 x 784 batch on wasm, longer than the rest of the step.
  const zData = Float32Array.from(zTrain.dataSync());
  // The optimisation runs in plain TypeScript (softmax_regression.ts): a
  // step is too small to pay for ~20 tensor-op launches.
  const fit = fitSoftmaxRegression(zData, n, dim, yTrain, numClasses, recipe);
  const kernel = tf.tensor2d(fit.kernel, [dim, numClasses]);
  const bias = tf.tensor1d(fit.bias);
  const t = fit.steps;

  try {
    const predict = (features: tf.Tensor2D, standardised: boolean): Int32Array => {
      const rows = features.shape[0];
      const out = new Int32Array(rows);
      const chunk = 4096;
      for (let s = 0; s < rows; s += chunk) {
        const size = Math.min(chunk, rows - s);
        const part = tf.tidy(() => {
          const x = tf.slice(features, [s, 0], [size, dim]) as tf.Tensor2D;
          const z = standardised ? x : standardise(x);
          return tf.argMax(tf.add(tf.matMul(z, kernel), bias), 1);
        });
        out.set(part.dataSync(), s);
        part.dispose();
      }
      return out;
    };
    const predictions = predict(testFeatures, false);
    const trainPredictions = predict(zTrain, true);
    const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
    for (let i = 0; i < m; i++) confusion[yTest[i]][predictions[i]]++;
    const scored = scorePredictions(predictions, yTest, numClasses);
    return {
      accuracy: scored.accuracy,
      perClassAccuracy: scored.perClassAccuracy,
      trainAccuracy: scorePredictions(trainPredictions, yTrain, numClasses).accuracy,
      predictions,
      confusion,
      numClasses,
      steps: t,
      weights: {
        mean: Float32Array.from(mean.dataSync()),
        scale: Float32Array.from(scale.dataSync()),
        kernel: fit.kernel,
        bias: fit.bias,
      },
      recipe,
    };
  } finally {
    tf.dispose([mean, scale, zTrain, kernel, bias]);
  }
}
