/**
 * Shared pieces of the vision method tests: tiny encoders that keep the cpu
 * backend fast, seeded images and views, a step context, short runs through
 * `training.train` that count live tensors after every step, and the
 * float64 references several methods' losses are checked against.
 */
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import type { TwoViewAugment } from "../../../src/augment/augmentation";
import { twoViews } from "../../../src/augment/compose";
import { gaussianPixelNoise } from "../../../src/augment/photometric";
import { createRng } from "../../../src/data/random";
import { train } from "../../../src/training/loop";
import type { History, StepContext, TrainOptions } from "../../../src/training/types";
import type { EmaRule } from "../../../src/models/ema";
import type { VisionMethod } from "../../../src/methods/vision/method";

/** Options of {@link denseEncoder}. */
export interface DenseEncoderOptions {
  /** Default "relu". */
  activation?: "relu" | "tanh" | "linear";
  /** Default "dense_encoder". */
  name?: string;
  /** Default `[28, 28, 1]` (a digit). */
  inputShape?: [number, number, number];
}

/**
 * One dense layer over the flattened image, `[B, ...inputShape]` to `[B, dim]`:
 * the smallest encoder a method can train, fast on the cpu backend.
 *
 * @example
 * const encoder = denseEncoder(16, 1); // [B, 28, 28, 1] -> [B, 16], relu
 */
export function denseEncoder(dim: number, seed: number, options: DenseEncoderOptions = {}): tf.Sequential {
  const { activation = "relu", name = "dense_encoder", inputShape = [28, 28, 1] } = options;
  return tf.sequential({
    name,
    layers: [
      tf.layers.flatten({ inputShape }),
      tf.layers.dense({ units: dim, activation, kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
    ],
  });
}

/** A linear `[B, 28, 28, 1]` to `[B, 16]` encoder named "tiny_encoder". */
export const tinyEncoder = (seed: number): tf.Sequential => denseEncoder(16, seed, { activation: "linear", name: "tiny_encoder" });

/** `[b, 28, 28, 1]` uniform pixels from TensorFlow.js's seeded generator. */
export const randomImages = (b: number, seed: number): tf.Tensor4D =>
  tf.randomUniform([b, 28, 28, 1], 0, 1, "float32", seed) as tf.Tensor4D;

/** `[b, 28, 28, 1]` uniform pixels drawn in JS from `createRng(seed)`: the same on every backend. */
export const rngImages = (b: number, seed: number): tf.Tensor4D => {
  const rng = createRng(seed);
  return tf.tensor4d(Float32Array.from({ length: b * 784 }, () => rng.next()), [b, 28, 28, 1]);
};

/** Two views with Gaussian pixel noise (std 0.1): cheap, and reproducible from the step seed. */
export const noiseViews: TwoViewAugment = twoViews(gaussianPixelNoise({ std: 0.1 }));

/** Deterministic views, so a test can recompute the loss: the image and its negative. */
export const fixedViews: TwoViewAugment = (images) => [images.clone(), tf.sub(1, images) as tf.Tensor4D];

/** The context of step `step` (epoch 0) with seed `seed`, for calling a loss directly. */
export const ctxOf = (seed: number, step = 0): StepContext => ({ step, epoch: 0, stepInEpoch: step, seed, rng: createRng(seed) });

/** The trainable weights of `m` as float64 copies, to compare before and after training. */
export const snapshot = (m: tf.LayersModel): Float64Array[] => m.trainableWeights.map((w) => Float64Array.from(w.read().dataSync()));

/** Whether every weight in `a` differs somewhere from its twin in `b` (by more than 1e-7). */
export const allMoved = (a: Float64Array[], b: Float64Array[]): boolean =>
  a.every((w, i) => w.some((v, j) => Math.abs(v - b[i][j]) > 1e-7));

/** Whether some weight in `a` differs somewhere from its twin in `b` (by more than 1e-7). */
export const anyMoved = (a: Float64Array[], b: Float64Array[]): boolean =>
  a.some((w, i) => w.some((v, j) => Math.abs(v - b[i][j]) > 1e-7));

/** The rows of a 2-D tensor as float64 arrays. */
export const rows = (t: tf.Tensor): Float64Array[] => (t.arraySync() as number[][]).map((r) => Float64Array.from(r));

/** `r / |r|` in float64. */
export const normalise = (r: Float64Array): Float64Array => {
  const n = Math.hypot(...r);
  return r.map((v) => v / n);
};

/** Every row divided by its norm. */
export const unitRows = (rs: number[][]): number[][] => rs.map((r) => { const n = Math.hypot(...r); return r.map((v) => v / n); });

/** Dot product in float64. */
export const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
};

/** normalizedStd in float64: mean over dimensions of the batch std (population) of the L2-normalised rows. */
export function stdRef(z: Float64Array[]): number {
  const n = z.map(normalise);
  let total = 0;
  for (let j = 0; j < n[0].length; j++) {
    const mean = n.reduce((s, r) => s + r[j], 0) / n.length;
    total += Math.sqrt(n.reduce((s, r) => s + (r[j] - mean) ** 2, 0) / n.length);
  }
  return total / n[0].length;
}

/** -mean cos(p, z) written out, gradient through both arguments: `[B, D]`, `[B, D]` to a scalar. */
export const negCos = (p: tf.Tensor, z: tf.Tensor): tf.Tensor =>
  tf.neg(tf.mean(tf.div(tf.sum(tf.mul(p, z), 1), tf.sqrt(tf.mul(tf.sum(tf.square(p), 1), tf.sum(tf.square(z), 1))))));

/** What {@link trainCounting} returns. */
export interface CountedRun {
  history: History;
  /** `tf.memory().numTensors` after each step. */
  counts: number[];
}

/**
 * `training.train` without a progress bar, recording the live tensor count
 * after every step (before the caller's own `onStep`).
 *
 * @example
 * const { history, counts } = await trainCounting({ ...method, optimizer, batches, steps: 4 });
 * assertSteadyTensors(counts, 4);
 */
export async function trainCounting<B>(options: TrainOptions<B>): Promise<CountedRun> {
  const counts: number[] = [];
  const onStep = options.callbacks?.onStep;
  const history = await train<B>({
    progress: false,
    ...options,
    callbacks: {
      ...options.callbacks,
      onStep: async (info) => {
        counts.push(tf.memory().numTensors);
        await onStep?.(info);
      },
    },
  });
  return { history, counts };
}

/**
 * The leak check of a run: `steps` counts, all equal from step `from` on
 * (a fresh optimizer makes its slots during the first step, hence the
 * default 1; pass 0 when the optimizer has stepped before).
 */
export function assertSteadyTensors(counts: number[], steps: number, from = 1): void {
  assert.equal(counts.length, steps, `tensor counts after each step: ${counts}`);
  assert.deepEqual(counts.slice(from), Array(steps - from).fill(counts[from]), `tensor counts after each step: ${counts}`);
}

/**
 * Runs `body` on the wasm backend and returns to cpu afterwards, also when
 * it throws: the cross-backend check of a loss.
 */
export async function onWasm<T>(body: () => T | Promise<T>): Promise<T> {
  await import("@tensorflow/tfjs-backend-wasm");
  assert.equal(await tf.setBackend("wasm"), true, "the wasm backend loads");
  assert.equal(tf.getBackend(), "wasm");
  try {
    return await body();
  } finally {
    await tf.setBackend("cpu");
  }
}

/**
 * Builds a MoCo- or BYOL-like method with an `emaRule` that records its
 * momentum and copies the online weight, runs one loss and afterStep, and
 * asserts that every target weight of encoder and projector went through
 * the rule. Disposes what it made.
 */
export function assertEmaRuleUsed(
  make: (encoder: tf.Sequential, emaRule: EmaRule) => VisionMethod & { target?: { encoder: tf.LayersModel } },
  momentum: number,
): void {
  const encoder = denseEncoder(16, 1);
  const momenta: number[] = [];
  const method = make(encoder, (_t, o, m) => { momenta.push(m); return o.clone(); });
  const x = randomImages(4, 3);
  tf.tidy(() => { method.loss({ images: x }, ctxOf(5)); });
  method.afterStep!({ images: x }, ctxOf(5));
  const [onlineEncoder, onlineProjector] = method.trainable as tf.LayersModel[];
  assert.equal(momenta.length, onlineEncoder.weights.length + onlineProjector.weights.length);
  assert.ok(momenta.every((m) => m === momentum), `momenta ${momenta}`);
  // Layer by layer, the target's weights pair with the online ones (models/ema.ts).
  method.target!.encoder.layers.forEach((layer, i) => layer.weights.forEach((w, j) =>
    assert.deepEqual(Array.from(w.read().dataSync()), Array.from(encoder.layers[i].weights[j].read().dataSync()))));
  x.dispose();
  method.dispose();
  encoder.dispose();
}
