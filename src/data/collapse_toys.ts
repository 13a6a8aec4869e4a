/**
 * The two toy settings in which Jing, Vincent, LeCun & Tian (2022,
 * "Understanding Dimensional Collapse in Contrastive Self-supervised
 * Learning", ICLR; arXiv 2110.09348) show where dimensional collapse comes
 * from: embeddings that span fewer directions than the space they live in.
 *
 * 1. Strong augmentation (their Sec. 4): a single linear layer z = W x
 *    trained with InfoNCE. Along an input direction whose augmentation noise
 *    varies more than the data, the loss gains from shrinking W, and W's
 *    singular value there decays to 0. Control: the same with weak noise.
 * 2. Implicit regularisation (their Sec. 5): two linear layers
 *    z = W2 W1 x from a small initialisation, with weak augmentation. The
 *    layers align and their singular values grow at rates that grow with the
 *    values themselves, so the modes that start small stay behind: the
 *    embedding collapses though nothing in the loss asks for it. Control: one
 *    linear layer on the same data. This toy needs InfoNCE on raw dot
 *    products (`loss: "info-nce"`): NT-Xent's cosines make the gradient
 *    undo the weights' scale, so the small start stops mattering (measured
 *    here: 14 to 16 of 16 dimensions kept after 300 steps with NT-Xent, 3 or
 *    4 with raw dot products, seeds 1-3).
 *
 * Measured with the defaults below (512 points in R^16, batch 128, SGD 0.05,
 * 300 steps, about 0.5 s a run on wasm; seeds 1-3), singular values above 5%
 * of the largest: strong noise on 6 dimensions 10 of 16 (the other 6 under
 * featureSpectrum's round-off floor), weak noise 15 or 16; two layers from std 0.025 3 or 4, one layer 16.
 *
 * The data are isotropic Gaussian vectors; the augmentation adds Gaussian
 * noise with a standard deviation per input dimension. {@link trainCollapseToy}
 * trains an encoder with NT-Xent through `training.train` and records the
 * singular values of the embedding matrix along the way.
 */
import { tf } from "../backend/tf";
import { createRng } from "./random";
import { ntXentLoss } from "../losses/nt_xent";
import { infoNCE } from "../losses/info_nce";
import { featureSpectrum } from "../evaluation/spectrum";
import { train } from "../training/loop";
import { checkInteger, checkNonNegativeNumber, checkOptions, checkPositiveInteger, checkPositiveNumber, checkIntegerInRange, checkOneOf, describe } from "../validation/arguments";

/**
 * `n` vectors drawn from N(0, I) in R^dim with `createRng(seed)`: the toy data.
 *
 * Shapes: -> `[n, dim]`.
 *
 * @example
 * const x = gaussianToyData(512, 16, 1);
 */
export function gaussianToyData(n: number, dim: number, seed: number): tf.Tensor2D {
  const fn = "gaussianToyData";
  checkPositiveInteger(fn, "n", n);
  checkPositiveInteger(fn, "dim", dim);
  checkInteger(fn, "seed", seed);
  const rng = createRng(seed);
  return tf.tensor2d(Float32Array.from({ length: n * dim }, () => rng.normal()), [n, dim]);
}

/** Options of {@link augmentationNoiseStd}. */
export interface AugmentationNoiseOptions {
  /** Input dimensions. */
  dim: number;
  /** How many of the first dimensions get `strongStd`; default 0. */
  strongDims?: number;
  /** Noise std on those dimensions; default 2 (above the data's std of 1, so they collapse). */
  strongStd?: number;
  /** Noise std on the other dimensions; default 0.2 (below the data's std). */
  weakStd?: number;
}

/**
 * The per-dimension noise std of the toys' augmentation: `strongStd` on the
 * first `strongDims` input dimensions, `weakStd` on the rest. With data of
 * std 1, a dimension collapses under a linear encoder when its noise std
 * exceeds 1 (Jing et al.'s strong-augmentation setting).
 *
 * Shapes: -> `[dim]`.
 *
 * @example
 * augmentationNoiseStd({ dim: 16, strongDims: 6 }); // [2 x6, 0.2 x10]
 */
export function augmentationNoiseStd(options: AugmentationNoiseOptions): number[] {
  const fn = "augmentationNoiseStd";
  checkOptions(fn, options, "{dim, strongDims?, strongStd?, weakStd?}");
  const { dim } = options;
  checkPositiveInteger(fn, "options.dim", dim);
  const strongDims = options.strongDims ?? 0;
  checkIntegerInRange(fn, "options.strongDims", strongDims, 0, dim);
  const strongStd = options.strongStd ?? 2;
  checkNonNegativeNumber(fn, "options.strongStd", strongStd);
  const weakStd = options.weakStd ?? 0.2;
  checkNonNegativeNumber(fn, "options.weakStd", weakStd);
  return Array.from({ length: dim }, (_, k) => (k < strongDims ? strongStd : weakStd));
}

/** Options of {@link linearToyEncoder}. */
export interface LinearToyEncoderOptions {
  /** Input dimensions. */
  inputDim: number;
  /** Embedding dimensions; default `inputDim`. */
  outputDim?: number;
  /** 1 (z = W x) or 2 (z = W2 W1 x, hidden width `outputDim`); default 1. */
  layers?: 1 | 2;
  /** Std of the Gaussian initial weights; default 1/sqrt(inputDim) for one layer. Small values (0.1/sqrt(inputDim)) show the two-layer effect. */
  initStd?: number;
  /** Seed of the initial weights; default 0. */
  seed?: number;
}

/**
 * A linear encoder without biases, one or two layers: Jing et al.'s toy networks.
 *
 * Shapes: `[B, inputDim]` -> `[B, outputDim]`.
 *
 * @example
 * const deep = linearToyEncoder({ inputDim: 16, layers: 2, initStd: 0.025, seed: 1 });
 */
export function linearToyEncoder(options: LinearToyEncoderOptions): tf.Sequential {
  const fn = "linearToyEncoder";
  checkOptions(fn, options, "{inputDim, outputDim?, layers?, initStd?, seed?}");
  const { inputDim } = options;
  checkPositiveInteger(fn, "options.inputDim", inputDim);
  const outputDim = options.outputDim ?? inputDim;
  checkPositiveInteger(fn, "options.outputDim", outputDim);
  const layers = options.layers ?? 1;
  if (layers !== 1 && layers !== 2) throw new Error(`${fn}: options.layers must be 1 or 2, got ${describe(layers)}`);
  const initStd = options.initStd ?? 1 / Math.sqrt(inputDim);
  checkPositiveNumber(fn, "options.initStd", initStd);
  const seed = options.seed ?? 0;
  checkInteger(fn, "options.seed", seed);
  const dense = (i: number, extra: object = {}) =>
    tf.layers.dense({ units: outputDim, useBias: false, kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: initStd, seed: seed * 101 + i }), ...extra });
  return tf.sequential({
    name: `linear_toy_${layers}`,
    layers: layers === 1 ? [dense(1, { inputShape: [inputDim] })] : [dense(1, { inputShape: [inputDim] }), dense(2)],
  });
}

/** Options of {@link trainCollapseToy}. */
export interface TrainCollapseToyOptions {
  /** The encoder to train (kept by the caller). */
  encoder: tf.LayersModel;
  /** The data `[n, inputDim]`; batches are drawn from it, and the recorded embeddings are of all of it. */
  data: tf.Tensor2D;
  /** Per-dimension noise std of the augmentation `[inputDim]` ({@link augmentationNoiseStd}). */
  noiseStd: number[];
  /** Optimizer steps. */
  steps: number;
  /** Examples per batch; default 128. */
  batchSize?: number;
  /** Learning rate of plain SGD (the setting of the paper's analysis); default 0.05. */
  learningRate?: number;
  /** Temperature of the loss; default 0.5. */
  temperature?: number;
  /**
   * `"nt-xent"` (default): SimCLR's NT-Xent on cosine similarities.
   * `"info-nce"`: InfoNCE on raw dot products z1_i . z2_j (van den Oord et al.'s
   * eq. 4, no normalisation), whose gradient does not undo the weights' scale.
   */
  loss?: "nt-xent" | "info-nce";
  /** Record the spectrum every this many steps (and at step 0 and the end); default `steps / 10`. */
  recordEvery?: number;
  /** Seed of the run (batches and noise); default 0. */
  seed?: number;
}

/** What {@link trainCollapseToy} returns. */
export interface CollapseToyRun {
  /** Steps at which the spectrum was recorded, 0 first. */
  steps: number[];
  /** Singular values of the embedding matrix of all the data (centred), largest first, at each recorded step `[records][outputDim]`. */
  singularValues: Float64Array[];
  /** The loss of every step. */
  loss: number[];
}

/**
 * Trains `encoder` on the toy: each step takes `batchSize` rows of `data`,
 * makes two views by adding Gaussian noise of std `noiseStd[k]` to input
 * dimension k, and minimises NT-Xent (SimCLR's loss, cosine similarities) of
 * the two embeddings with SGD, through `training.train`. It records the
 * singular values of `encoder(data)` ({@link featureSpectrum}) before training,
 * every `recordEvery` steps and at the end: the spectrum over time.
 *
 * Shapes: `data` `[n, inputDim]`, `noiseStd` `[inputDim]`; each record `[min(n, outputDim)]`.
 *
 * @example
 * const x = gaussianToyData(512, 16, 1);
 * const encoder = linearToyEncoder({ inputDim: 16, seed: 1 });
 * const run = await trainCollapseToy({ encoder, data: x, noiseStd: augmentationNoiseStd({ dim: 16, strongDims: 6 }), steps: 300 });
 * countAboveFraction(run.singularValues.at(-1)!, 0.05); // about 10 of 16: the 6 noisy directions collapsed
 */
export async function trainCollapseToy(options: TrainCollapseToyOptions): Promise<CollapseToyRun> {
  const fn = "trainCollapseToy";
  checkOptions(fn, options, "{encoder, data, noiseStd, steps, ...}");
  const { encoder, data, noiseStd, steps } = options;
  if (!(encoder instanceof tf.LayersModel)) throw new Error(`${fn}: options.encoder must be a tf.LayersModel, got ${describe(encoder)}`);
  if (!(data instanceof tf.Tensor) || data.rank !== 2) throw new Error(`${fn}: options.data must be a tensor [n, inputDim], got ${describe(data)}`);
  const [n, inputDim] = data.shape;
  if (!Array.isArray(noiseStd) || noiseStd.length !== inputDim || !noiseStd.every((s) => Number.isFinite(s) && s >= 0)) {
    throw new Error(`${fn}: options.noiseStd must be ${inputDim} finite numbers >= 0 (one per input dimension), got ${describe(noiseStd)}`);
  }
  checkPositiveInteger(fn, "options.steps", steps);
  const batchSize = options.batchSize ?? 128;
  checkPositiveInteger(fn, "options.batchSize", batchSize);
  if (batchSize > n) throw new Error(`${fn}: options.batchSize must be at most the ${n} rows of options.data, got ${batchSize}`);
  if (batchSize < 2) throw new Error(`${fn}: options.batchSize must be at least 2 (NT-Xent needs negatives), got ${batchSize}`);
  const learningRate = options.learningRate ?? 0.05;
  checkPositiveNumber(fn, "options.learningRate", learningRate);
  const temperature = options.temperature ?? 0.5;
  checkPositiveNumber(fn, "options.temperature", temperature);
  const lossName = options.loss ?? "nt-xent";
  checkOneOf(fn, "options.loss", lossName, ["nt-xent", "info-nce"]);
  const recordEvery = options.recordEvery ?? Math.max(1, Math.floor(steps / 10));
  checkPositiveInteger(fn, "options.recordEvery", recordEvery);
  const seed = options.seed ?? 0;
  checkInteger(fn, "options.seed", seed);

  const spectrum = (): Float64Array => {
    const z = encoder.predict(data) as tf.Tensor2D;
    try {
      return featureSpectrum(z).singularValues;
    } finally {
      z.dispose();
    }
  };
  const recordedSteps = [0];
  const singularValues = [spectrum()];
  const std = tf.tensor1d(noiseStd);
  const optimizer = tf.train.sgd(learningRate);
  try {
    const history = await train<Int32Array>({
      trainable: [encoder],
      optimizer,
      steps,
      seed,
      progress: false,
      batches: function* (_epoch, rng) {
        for (;;) {
          const order = rng.permutation(n);
          for (let start = 0; start + batchSize <= n; start += batchSize) yield order.slice(start, start + batchSize);
        }
      },
      loss: (idx, ctx) => {
        const x = tf.gather(data, tf.tensor1d(idx, "int32"));
        const view = (k: number) => tf.add(x, tf.mul(tf.randomNormal(x.shape, 0, 1, "float32", ctx.seed + k), std));
        const z1 = encoder.apply(view(0), { training: true }) as tf.Tensor2D;
        const z2 = encoder.apply(view(1), { training: true }) as tf.Tensor2D;
        return lossName === "nt-xent" ? ntXentLoss(z1, z2, { temperature }) : infoNCE(z1, z2, { temperature });
      },
      callbacks: {
        onStep: ({ step }) => {
          if (step % recordEvery === 0 || step === steps) {
            recordedSteps.push(step);
            singularValues.push(spectrum());
          }
        },
      },
    });
    return { steps: recordedSteps, singularValues, loss: history.loss };
  } finally {
    optimizer.dispose();
    std.dispose();
  }
}

/**
 * How many singular values exceed `fraction` of the largest: the count of
 * non-negligible embedding dimensions the toys compare (0 for an all-zero spectrum).
 *
 * Shapes: `[m]` -> number.
 *
 * @example
 * countAboveFraction([4, 2, 0.01, 0], 0.05); // 2
 */
export function countAboveFraction(singularValues: ArrayLike<number>, fraction: number): number {
  const fn = "countAboveFraction";
  if (singularValues === null || typeof singularValues !== "object" || typeof singularValues.length !== "number" || singularValues.length === 0) {
    throw new Error(`${fn}: singularValues must be a non-empty array of numbers, got ${describe(singularValues)}`);
  }
  checkPositiveNumber(fn, "fraction", fraction);
  let largest = 0;
  for (let i = 0; i < singularValues.length; i++) {
    const s = singularValues[i];
    if (!Number.isFinite(s) || s < 0) throw new Error(`${fn}: singularValues must be finite and >= 0, got ${s} at index ${i}`);
    largest = Math.max(largest, s);
  }
  let count = 0;
  for (let i = 0; i < singularValues.length; i++) if (largest > 0 && singularValues[i] > fraction * largest) count++;
  return count;
}
