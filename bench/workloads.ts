/**
 * The benchmark's three training workloads, defined exactly as in the
 * project's PyTorch reference (bench/torch_bench.py), so one machine can
 * report TensorFlow.js throughput as a ratio to PyTorch's:
 *
 * - simclr-step: 2 x 256 images 28x28x1 through the small CNN encoder and a
 *   128-128-64 projection head, NT-Xent (tau 0.5), Adam(1e-3). Items: images.
 * - sgns-step: skip-gram with negative sampling, vocabulary 20000, dimension
 *   100, 1024 (center, context) pairs with 5 negatives each, separate input
 *   and output tables, Adam(1e-3). Items: pairs. 10x the base step count.
 * - linear-probe: softmax regression on 8000 x 128 features, 10 classes,
 *   full batch, Adam(1e-2). Items: examples per step. 10x the base step count.
 *
 * Inputs are fixed random tensors drawn once, as in the reference: the
 * benchmark times training steps, not data loading.
 */
import { tf } from "../src/backend/tf";
import { mlpHead, smallCnnEncoder, trainableVariables } from "../src/models/encoders";
import { ntXentLoss } from "../src/losses/nt_xent";
import { createRng } from "../src/data/random";
import { adam as fusedAdam } from "../src/training/adam";

/** Names of the workloads, in the reference's order. */
export const WORKLOAD_NAMES = ["simclr-step", "sgns-step", "linear-probe"] as const;
/** One workload name. */
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

/** A ready-to-time training workload. */
export interface Workload {
  /** Its name, e.g. `"sgns-step"`. */
  name: WorkloadName;
  /** Runs one training step (forward, backward, optimizer update) and returns the loss. */
  step(): number;
  /** Items one step processes (images, pairs or examples). */
  items: number;
  /** Timed steps the benchmark runs (after one warm-up step). */
  steps: number;
  /** The trained variables, in a stable order (for inspection and tests). */
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
  const batch = scaled(256, scale, 2);
  const encoder = smallCnnEncoder({ seed });
  const head = mlpHead({ inputDim: 128, hidden: [128], outputDim: 64, seed: seed + 1 });
  const variables = trainableVariables(encoder, head);
  const optimizer = adam(1e-3);
  const images = tf.randomNormal([2 * batch, 28, 28, 1], 0, 1, "float32", seed + 2) as tf.Tensor4D;
  return {
    name: "simclr-step",
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

/** Builds a workload by name. */
export function makeWorkload(name: WorkloadName, options: WorkloadOptions = {}): Workload {
  switch (name) {
    case "simclr-step":
      return simclrStep(options);
    case "sgns-step":
      return sgnsStep(options);
    case "linear-probe":
      return linearProbe(options);
    default:
      throw new Error(`makeWorkload: name must be one of ${WORKLOAD_NAMES.join(", ")}, got ${JSON.stringify(name)}`);
  }
}
