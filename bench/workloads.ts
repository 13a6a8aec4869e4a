/**
 * The benchmark's workloads, defined exactly as in the project's PyTorch
 * reference (bench/torch_bench.py), so one machine can report TensorFlow.js
 * throughput as a ratio to PyTorch's:
 *
 * - simclr-step: 2 x 256 images 28x28x1 through the small CNN encoder and a
 *   128-128-64 projection head, NT-Xent (tau 0.5), Adam(1e-3). Items: images.
 * - sgns-step: skip-gram with negative sampling, vocabulary 20000, dimension
 *   100, 1024 (center, context) pairs with 5 negatives each, separate input
 *   and output tables, Adam(1e-3). Items: pairs. 10x the base step count.
 * - linear-probe: softmax regression on 8000 x 128 features, 10 classes,
 *   full batch, Adam(1e-2). Items: examples per step. 10x the base step count.
 * - resnet-step: SimCLR on the small ResNet (BatchNorm after every
 *   convolution, models/resnet.ts defaults): 2 x 64 images, head
 *   128-128-64, NT-Xent (tau 0.5), Adam(1e-3). Items: images.
 * - transformer-step: 02's character GPT at its notebook size: vocabulary
 *   96, context 32, batch 32, width 64, 4 heads, 2 pre-norm blocks (MLP 256,
 *   GELU), tied output, mean next-token cross-entropy, Adam(3e-3). Items:
 *   sequences. 10x the base step count.
 * - mae-step: 02's MAE at its notebook size: ViT on 7x7 patches of 64
 *   images (width 64, 4 heads, 2 blocks), 75% of patches hidden, one-block
 *   decoder of width 64, squared error on the hidden patches, Adam(1e-3).
 *   Items: images. 10x the base step count.
 * - log-mel: 05's audio front end, no training: log-mel spectrograms of 512
 *   one-second recordings at 8 kHz (frames of 256, hop 128, 32 mel bins,
 *   60-4000 Hz). Items: recordings. 10x the base step count.
 *
 * Inputs are fixed random tensors drawn once, as in the reference: the
 * benchmark times training steps, not data loading.
 */
import { tf } from "../src/backend/tf";
import { mlpHead, smallCnnEncoder, trainableVariables } from "../src/models/encoders";
import { ntXentLoss } from "../src/losses/nt_xent";
import { createRng } from "../src/data/random";
import { adam as fusedAdam } from "../src/training/adam";
import { stepSeed } from "../src/training/seeds";
import { smallResNetEncoder } from "../src/models/resnet";
import { createTransformer } from "../src/models/transformer";
import { createVit } from "../src/models/vit";
import { createCausalLm } from "../src/methods/language/causal_lm";
import { createMae } from "../src/methods/vision/mae";
import { logMelSpectrogram } from "../src/audio/log_mel";
import type { LossWithMetrics, StepContext } from "../src/training/types";

/** Names of the workloads, in the reference's order. */
export const WORKLOAD_NAMES = ["simclr-step", "sgns-step", "linear-probe", "resnet-step", "transformer-step", "mae-step", "log-mel"] as const;
/** One workload name. */
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

/** A ready-to-time training workload. */
export interface Workload {
  /** Its name, e.g. `"sgns-step"`. */
  name: WorkloadName;
  /** Runs one training step (forward, backward, optimizer update) and returns the loss (log-mel: the mean output). */
  step(): number;
  /** Items one step processes (images, pairs or examples). */
  items: number;
  /** Timed steps the benchmark runs (after one warm-up step). */
  steps: number;
  /** The trained variables, in a stable order (for inspection and tests); none for log-mel. */
  variables: tf.Variable[];
  /** Frees every tensor and variable the workload owns. */
  dispose(): void;
}

/** Options of the workload factories. */
export interface WorkloadOptions {
  /**
   * Base step count, as the reference's `--steps` (default 10): simclr runs
   * it, sgns and linear-probe run 10x it.
   */
  steps?: number;
  /**
   * Shrinks every size by this factor in (0, 1] for tests; the benchmark
   * uses 1 (the reference's exact sizes).
   */
  scale?: number;
  /** Seed of the inputs and initial weights; default 0. */
  seed?: number;
  /**
   * The Adam implementation: `"fused"` (default, the library's `adam` from
   * src/training/adam.ts: one pass per variable on wasm) or `"stock"`
   * (tf.train.adam). Same arithmetic.
   */
  adam?: "fused" | "stock";
}

function resolve(
  name: string,
  options: WorkloadOptions,
): { steps: number; scale: number; seed: number; adam: (learningRate: number) => tf.Optimizer } {
  const steps = options.steps ?? 10;
  const scale = options.scale ?? 1;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(steps) || steps < 1) {
    throw new Error(`${name}: options.steps must be a positive integer, got ${steps}`);
  }
  if (!(scale > 0 && scale <= 1)) {
    throw new Error(`${name}: options.scale must be in (0, 1], got ${scale}`);
  }
  const kind = options.adam ?? "fused";
  if (kind !== "fused" && kind !== "stock") {
    throw new Error(`${name}: options.adam must be "fused" or "stock", got ${JSON.stringify(kind)}`);
  }
  // PyTorch's Adam epsilon (tf.train.adam defaults to 1e-7).
  const adam = (learningRate: number): tf.Optimizer =>
    kind === "fused"
      ? fusedAdam(learningRate, 0.9, 0.999, 1e-8)
      : tf.train.adam(learningRate, 0.9, 0.999, 1e-8);
  return { steps, scale, seed, adam };
}

const scaled = (size: number, scale: number, min: number) => Math.max(min, Math.round(size * scale));

/**
 * log(sigmoid(x)) as -softplus(-x). tf.logSigmoid in tfjs 4.22 cannot be
 * differentiated when its input is computed inside the gradient scope (its
 * custom gradient reads an input the engine has already disposed: "Cannot
 * read properties of undefined (reading 'backend')").
 */
const logSigmoid = (x: tf.Tensor): tf.Tensor => tf.neg(tf.softplus(tf.neg(x)));

/** Runs `optimizer.minimize` on `loss` and returns the loss value, leaving no tensors behind. */
function minimizeStep(optimizer: tf.Optimizer, variables: tf.Variable[], loss: () => tf.Scalar): number {
  const value = optimizer.minimize(loss, true, variables);
  if (value === null) throw new Error("minimize returned no cost");
  const result = value.dataSync()[0];
  value.dispose();
  return result;
}

/**
 * SimCLR training step on the small CNN: `[2B, 28, 28, 1]` -> encoder
 * `[2B, 128]` -> head `[2B, 64]` -> NT-Xent of rows i and i + B.
 *
 * @example
 * const w = simclrStep({ scale: 1 / 32 });
 * w.step(); w.dispose();
 */
export function simclrStep(options: WorkloadOptions = {}): Workload {
  const { steps, scale, seed, adam } = resolve("simclrStep", options);
  return simclrWorkload("simclr-step", smallCnnEncoder({ seed }), scaled(256, scale, 2), steps, seed, adam);
}

/**
 * One SimCLR step of `encoder` (any `[n, 28, 28, 1] -> [n, 128]` model) on
 * `2 * batch` fixed images with a 128-128-64 head and NT-Xent (tau 0.5).
 */
function simclrWorkload(
  name: "simclr-step" | "resnet-step",
  encoder: tf.LayersModel,
  batch: number,
  steps: number,
  seed: number,
  adam: (learningRate: number) => tf.Optimizer,
): Workload {
  const head = mlpHead({ inputDim: 128, hidden: [128], outputDim: 64, seed: seed + 1 });
  const variables = trainableVariables(encoder, head);
  const optimizer = adam(1e-3);
  const images = tf.randomNormal([2 * batch, 28, 28, 1], 0, 1, "float32", seed + 2) as tf.Tensor4D;
  return {
    name,
    variables,
    items: 2 * batch,
    steps,
    step: () =>
      minimizeStep(optimizer, variables, () => {
        const h = encoder.apply(images, { training: true }) as tf.Tensor2D;
        const z = head.apply(h, { training: true }) as tf.Tensor2D;
        const [z1, z2] = tf.split(z, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
        return ntXentLoss(z1, z2, { temperature: 0.5 });
      }),
    dispose() {
      images.dispose();
      optimizer.dispose();
      encoder.dispose();
      head.dispose();
    },
  };
}

/**
 * Skip-gram with negative sampling (Mikolov et al. 2013): input table U and
 * output table V `[vocab, dim]`, initialised N(0, 1) like `torch.nn.Embedding`;
 * loss = -mean_b [log sig(u_c . v_o) + sum_k log sig(-u_c . v_k)].
 *
 * @example
 * const w = sgnsStep({ scale: 0.01 });
 */
export function sgnsStep(options: WorkloadOptions = {}): Workload {
  const { steps, scale, seed, adam } = resolve("sgnsStep", options);
  const vocab = scaled(20000, scale, 10);
  const dim = scaled(100, scale, 4);
  const batch = scaled(1024, scale, 4);
  const negatives = 5;
  const rng = createRng(seed);
  const ids = (n: number) => Int32Array.from({ length: n }, () => rng.int(vocab));
  const center = tf.tensor1d(ids(batch), "int32");
  // Context and negative words both index the output table: one gather (and
  // one dense gradient for the table) instead of two.
  const outputIds = tf.tensor1d(ids(batch * (1 + negatives)), "int32");
  const input = tf.tidy(() => tf.variable(tf.randomNormal([vocab, dim], 0, 1, "float32", seed + 1)));
  const output = tf.tidy(() => tf.variable(tf.randomNormal([vocab, dim], 0, 1, "float32", seed + 2)));
  const variables = [input, output];
  const optimizer = adam(1e-3);
  // +1 for the context word, -1 for the negatives: log sig(s) and log sig(-s)
  // in one op (wasm's SplitV is slow).
  const signs = tf.tensor2d([[1, ...Array<number>(negatives).fill(-1)]]);
  return {
    name: "sgns-step",
    variables,
    items: batch,
    steps: steps * 10,
    step: () =>
      minimizeStep(optimizer, variables, () => {
        const u = tf.expandDims(tf.gather(input, center), 1); // [B, 1, dim]
        const v = tf.reshape(tf.gather(output, outputIds), [batch, 1 + negatives, dim]); // [B, 1+K, dim]
        const scores = tf.sum(tf.mul(u, v), 2); // [B, 1+K]: context, then negatives
        return tf.neg(tf.mean(tf.sum(logSigmoid(tf.mul(scores, signs)), 1))) as tf.Scalar;
      }),
    dispose() {
      tf.dispose([center, outputIds, signs, input, output]);
      optimizer.dispose();
    },
  };
}

/**
 * Full-batch softmax regression on fixed features: logits = x W + b,
 * cross-entropy with integer labels, initialised U(-1/sqrt(d), 1/sqrt(d))
 * like `torch.nn.Linear`.
 *
 * The features are frozen, so their transpose is computed once and the
 * gradient is written out: dlogits = (softmax(logits) - onehot) / n, with
 * the softmax kept from the forward pass (one exp per step),
 * dW = x^T dlogits, db = sum(dlogits). Autodiff would transpose x inside
 * every step's matMul gradient, and wasm's matMul with a transposed operand
 * leaves its fast (XNNPACK) path.
 *
 * @example
 * const w = linearProbe({ scale: 0.1 });
 */
export function linearProbe(options: WorkloadOptions = {}): Workload {
  const { steps, scale, seed, adam } = resolve("linearProbe", options);
  const n = scaled(8000, scale, 10);
  const d = scaled(128, scale, 4);
  const classes = 10;
  const rng = createRng(seed);
  const features = tf.randomNormal([n, d], 0, 1, "float32", seed + 1) as tf.Tensor2D;
  const featuresT = tf.transpose(features);
  const labels = tf.tidy(() =>
    tf.oneHot(tf.tensor1d(Int32Array.from({ length: n }, () => rng.int(classes)), "int32"), classes),
  );
  const bound = 1 / Math.sqrt(d);
  const weights = tf.tidy(() => tf.variable(tf.randomUniform([d, classes], -bound, bound, "float32", seed + 2)));
  const bias = tf.tidy(() => tf.variable(tf.randomUniform([classes], -bound, bound, "float32", seed + 3)));
  const optimizer = adam(1e-2);
  const loss = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [w, b, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const logits = tf.add(tf.matMul(features, w), b);
    // One exp serves both the loss (log-sum-exp) and the gradient (softmax).
    const shifted = tf.sub(logits, tf.max(logits, 1, true));
    const unnormalised = tf.exp(shifted);
    const total = tf.sum(unnormalised, 1, true); // [n, 1]
    const probabilities = tf.div(unnormalised, total);
    save([probabilities]);
    const value = tf.mean(tf.sub(tf.squeeze(tf.log(total), [1]), tf.sum(tf.mul(shifted, labels), 1))) as tf.Scalar;
    return {
      value,
      gradFunc: (dy: tf.Scalar, [savedProbabilities]: tf.Tensor[]) => {
        const dLogits = tf.mul(tf.sub(savedProbabilities, labels), tf.div(dy, n));
        return [tf.matMul(featuresT, dLogits), tf.sum(dLogits, 0)];
      },
    };
  }) as unknown as (w: tf.Tensor, b: tf.Tensor) => tf.Scalar;
  return {
    name: "linear-probe",
    variables: [weights, bias],
    items: n,
    steps: steps * 10,
    step: () => minimizeStep(optimizer, [weights, bias], () => loss(weights, bias)),
    dispose() {
      tf.dispose([features, featuresT, labels, weights, bias]);
      optimizer.dispose();
    },
  };
}

/** A method's loss as a scalar, for workloads that drive a library method (its metrics are dropped). */
function scalarLoss(out: tf.Tensor | LossWithMetrics): tf.Scalar {
  const loss = out instanceof tf.Tensor ? out : out.loss;
  return loss as tf.Scalar;
}

/** The context `training.train` hands a method's loss at step `step` of a run seeded with `seed`. */
function stepContext(seed: number, step: number): StepContext {
  const ctxSeed = stepSeed(seed, step);
  return { step, epoch: 0, stepInEpoch: step, seed: ctxSeed, rng: createRng(ctxSeed) };
}

/**
 * SimCLR on the small ResNet (BatchNorm after every convolution): `[2B, 28,
 * 28, 1]` -> encoder `[2B, 128]` -> head `[2B, 64]` -> NT-Xent of rows i and
 * i + B. The same step as simclr-step on the encoder whose BatchNorm
 * gradients 04's BYOL/SimSiam/Barlow Twins variants need.
 *
 * @example
 * const w = resnetStep({ scale: 1 / 16 });
 */
export function resnetStep(options: WorkloadOptions = {}): Workload {
  const { steps, scale, seed, adam } = resolve("resnetStep", options);
  return simclrWorkload("resnet-step", smallResNetEncoder({ seed }), scaled(64, scale, 2), steps, seed, adam);
}

/**
 * 02's character language model through the library's own method
 * (`createCausalLm` on `createTransformer`): fixed random windows `[32, 33]`
 * of token ids, logits `[32, 32, 96]`, mean next-token cross-entropy.
 *
 * @example
 * const w = transformerStep({ scale: 0.25 });
 */
export function transformerStep(options: WorkloadOptions = {}): Workload {
  const { steps, scale, seed, adam } = resolve("transformerStep", options);
  const vocabSize = 96;
  const context = scaled(32, scale, 4);
  const batch = scaled(32, scale, 2);
  const transformer = createTransformer({ vocabSize, maxLength: context, dim: 64, heads: 4, layers: 2, causal: true, seed });
  const method = createCausalLm({ transformer });
  const rng = createRng(seed + 1);
  const windows = tf.tensor2d(Int32Array.from({ length: batch * (context + 1) }, () => rng.int(vocabSize)), [batch, context + 1], "int32");
  const variables = method.trainable as tf.Variable[];
  const optimizer = adam(3e-3);
  let stepIndex = 0;
  return {
    name: "transformer-step",
    variables,
    items: batch,
    steps: steps * 10,
    step: () => minimizeStep(optimizer, variables, () => scalarLoss(method.loss(windows, stepContext(seed, stepIndex++)))),
    dispose() {
      windows.dispose();
      optimizer.dispose();
      method.dispose();
      transformer.dispose();
    },
  };
}

/**
 * 02's MAE through the library's own method (`createMae` on `createVit`):
 * images `[64, 28, 28, 1]` -> patches `[64, 16, 49]` -> 4 visible tokens per
 * image through the encoder -> one decoder block -> squared error on the 12
 * hidden patches. Each step draws new masks, as in training.
 *
 * @example
 * const w = maeStep({ scale: 0.125 });
 */
export function maeStep(options: WorkloadOptions = {}): Workload {
  const { steps, scale, seed, adam } = resolve("maeStep", options);
  const batch = scaled(64, scale, 2);
  const vit = createVit({ dim: 64, heads: 4, layers: 2, seed });
  const method = createMae({ encoder: vit, maskRatio: 0.75, seed: seed + 1 });
  const images = tf.randomUniform([batch, 28, 28, 1], 0, 1, "float32", seed + 2) as tf.Tensor4D;
  const variables = method.trainable as tf.Variable[];
  const optimizer = adam(1e-3);
  let stepIndex = 0;
  return {
    name: "mae-step",
    variables,
    items: batch,
    steps: steps * 10,
    step: () => minimizeStep(optimizer, variables, () => scalarLoss(method.loss({ images }, stepContext(seed, stepIndex++)))),
    dispose() {
      images.dispose();
      optimizer.dispose();
      method.dispose();
      vit.dispose();
    },
  };
}

/** 05's audio front end. */
const LOG_MEL_OPTIONS = { sampleRate: 8000, frameLength: 256, frameStep: 128, melBins: 32, fMin: 60, fMax: 4000 };

/**
 * 05's log-mel front end on fixed random waves `[512, 8000]` -> `[512, 61,
 * 32]`; no gradient. Returns the mean log-mel value.
 *
 * @example
 * const w = logMelStep({ scale: 0.05 });
 */
export function logMelStep(options: WorkloadOptions = {}): Workload {
  const { steps, scale, seed } = resolve("logMelStep", options);
  const count = scaled(512, scale, 2);
  const waves = tf.randomUniform([count, LOG_MEL_OPTIONS.sampleRate], -1, 1, "float32", seed) as tf.Tensor2D;
  return {
    name: "log-mel",
    variables: [],
    items: count,
    steps: steps * 10,
    step: () => {
      const mean = tf.tidy(() => tf.mean(logMelSpectrogram(waves, LOG_MEL_OPTIONS)));
      const value = mean.dataSync()[0];
      mean.dispose();
      return value;
    },
    dispose() {
      waves.dispose();
    },
  };
}

/** Builds a workload by name. */
export function makeWorkload(name: WorkloadName, options: WorkloadOptions = {}): Workload {
  switch (name) {
    case "simclr-step":
      return simclrStep(options);
    case "sgns-step":
      return sgnsStep(options);
    case "linear-probe":
      return linearProbe(options);
    case "resnet-step":
      return resnetStep(options);
    case "transformer-step":
      return transformerStep(options);
    case "mae-step":
      return maeStep(options);
    case "log-mel":
      return logMelStep(options);
    default:
      throw new Error(`makeWorkload: name must be one of ${WORKLOAD_NAMES.join(", ")}, got ${JSON.stringify(name)}`);
  }
}
