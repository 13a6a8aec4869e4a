import { test } from "node:test";
import assert from "node:assert/strict";
import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { tf } from "../../src/backend/tf";
import { batchNormalization, batchNormTraining } from "../../src/models/batch_norm";
import { modelArtifacts } from "../../src/models/model_folder";
import { createRng } from "../../src/data/random";
import { batchNormReference } from "./nhwc_reference";
import { registerTrainingKernels, unregisterTrainingKernels } from "../../src/backend/kernels";
import { BATCH_NORM, BATCH_NORM_GRAD } from "../../src/backend/kernels/batch_norm";
import { disableWasmThreads } from "../../src/backend/wasm_threads";
import { restartWasm } from "../backend/kernels/wasm_route_harness";

/** The backends the values are checked on: wasm with 2 threads splits the SIMD passes with the helper thread. */
const BACKENDS = ["cpu", "wasm", "wasm (2 threads)"] as const;

async function useBackend(name: (typeof BACKENDS)[number]): Promise<void> {
  restartWasm(name === "wasm (2 threads)");
  assert.equal(await tf.setBackend(name === "cpu" ? "cpu" : "wasm"), true);
  if (name !== "cpu") assert.equal(getThreadsCount(), name === "wasm" ? 1 : 2);
}

// C = 4 and 8 run the kernels' SIMD passes on wasm, the rest their plain loops; [300, 8] spans three summing blocks.
const SHAPES: number[][] = [[2, 3, 3, 4], [5, 3], [8, 2, 2, 1], [1, 1, 1, 2], [3, 4, 2, 6], [300, 8]];

/**
 * The two implementations batchNormTraining picks between: tfjs ops composed
 * (no kernels registered) and the SslBatchNorm kernel pair (registered).
 */
const PATHS = [
  { name: "composed ops", use: () => unregisterTrainingKernels() },
  { name: "BatchNorm kernels", use: () => registerTrainingKernels() },
];

/** Throws unless `path` is the one batchNormTraining takes on the active backend. */
function assertPath(path: (typeof PATHS)[number]): void {
  const registered = tf.getKernel(BATCH_NORM, tf.getBackend()) != null && tf.getKernel(BATCH_NORM_GRAD, tf.getBackend()) != null;
  assert.equal(registered, path === PATHS[1], `${path.name} on ${tf.getBackend()}`);
}

/** The scalar sum(y * w) in float64, the function whose gradient the tests take. */
function referenceLoss(x: Float64Array, c: number, gamma: number[], beta: number[], w: Float64Array, eps: number): number {
  const { y } = batchNormReference(x, c, gamma, beta, eps);
  return y.reduce((s, v, i) => s + v * w[i], 0);
}

function draw(rng: ReturnType<typeof createRng>, n: number, scale = 1, shift = 0): Float64Array {
  return Float64Array.from({ length: n }, () => shift + scale * rng.normal());
}

for (const path of PATHS) {
test(`batchNormTraining (${path.name}) matches a float64 reference, moments included, on cpu and wasm (1 and 2 threads)`, async () => {
  const rng = createRng(11);
  path.use();
  try {
  for (const backend of BACKENDS) {
    await useBackend(backend);
    assertPath(path);
    for (const shape of SHAPES) {
      const c = shape[shape.length - 1];
      const size = shape.reduce((a, b) => a * b, 1);
      // A large shift per channel: a one-pass variance (E[x^2] - mean^2) would lose it in float32.
      const x = draw(rng, size, 2, 30);
      const gamma = Array.from(draw(rng, c)), beta = Array.from(draw(rng, c));
      const want = batchNormReference(x, c, gamma, beta, 1e-5);
      const before = tf.memory().numTensors;
      const xt = tf.tensor(Float32Array.from(x), shape), g = tf.tensor1d(gamma), b = tf.tensor1d(beta);
      const { y, mean, variance } = batchNormTraining(xt, g, b, 1e-5);
      assert.deepEqual(y.shape, shape);
      const got = y.dataSync();
      // m = 1 leaves variance 0 and y = beta exactly.
      for (let i = 0; i < size; i++) assert.ok(Math.abs(got[i] - want.y[i]) <= 2e-4 * (1 + Math.abs(want.y[i])), `${backend} [${shape}] y[${i}] ${got[i]} vs ${want.y[i]}`);
      mean.dataSync().forEach((v, k) => assert.ok(Math.abs(v - want.mean[k]) <= 1e-5 * (1 + Math.abs(want.mean[k])), `${backend} mean[${k}]`));
      variance.dataSync().forEach((v, k) => assert.ok(Math.abs(v - want.variance[k]) <= 1e-4 * (1 + want.variance[k]), `${backend} variance[${k}] ${v} vs ${want.variance[k]}`));
      tf.dispose([xt, g, b, y, mean, variance]);
      assert.equal(tf.memory().numTensors, before, `${backend} [${shape}]: tensors leaked`);
    }
  }
  } finally {
    disableWasmThreads();
  }
});

test(`batchNormTraining's gradients (${path.name}) match central differences of the float64 reference on cpu and wasm (1 and 2 threads)`, async () => {
  const rng = createRng(5);
  const eps = 1e-3;
  path.use();
  try {
  for (const backend of BACKENDS) {
    await useBackend(backend);
    assertPath(path);
    for (const shape of SHAPES) {
      const c = shape[shape.length - 1];
      const size = shape.reduce((a, b) => a * b, 1);
      const x = draw(rng, size, 1.5, 0.5), w = draw(rng, size);
      const gamma = Array.from(draw(rng, c)), beta = Array.from(draw(rng, c));
      const before = tf.memory().numTensors;
      const inputs = [tf.tensor(Float32Array.from(x), shape), tf.tensor1d(gamma), tf.tensor1d(beta)];
      const wt = tf.tensor(Float32Array.from(w), shape);
      const grads = tf.grads((xt: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const r = batchNormTraining(xt, g as tf.Tensor1D, b as tf.Tensor1D, eps);
        tf.dispose([r.mean, r.variance]);
        return tf.sum(tf.mul(r.y, wt));
      })(inputs);
      const [dx, dg, db] = grads.map((t) => t.dataSync());
      tf.dispose([...inputs, wt, ...grads]);
      assert.equal(tf.memory().numTensors, before, `${backend} [${shape}]: tensors leaked`);
      const h = 1e-5;
      const central = (f: (d: number) => number) => (f(h) - f(-h)) / (2 * h);
      const check = (what: string, got: number, want: number) =>
        assert.ok(Math.abs(got - want) <= 2e-3 * (1 + Math.abs(want)), `${backend} [${shape}] ${what}: ${got} vs ${want}`);
      for (let i = 0; i < size; i++) {
        check(`dx[${i}]`, dx[i], central((d) => referenceLoss(x.map((v, k) => (k === i ? v + d : v)), c, gamma, beta, w, eps)));
      }
      for (let k = 0; k < c; k++) {
        check(`dgamma[${k}]`, dg[k], central((d) => referenceLoss(x, c, gamma.map((v, j) => (j === k ? v + d : v)), beta, w, eps)));
        check(`dbeta[${k}]`, db[k], central((d) => referenceLoss(x, c, gamma, beta.map((v, j) => (j === k ? v + d : v)), w, eps)));
      }
    }
  }
  } finally {
    disableWasmThreads();
  }
});
}

test("batchNormTraining names the argument and the shape it expected", async () => {
  await tf.setBackend("cpu");
  const x = tf.zeros([4, 3]), g = tf.ones([3]) as tf.Tensor1D, b = tf.zeros([3]) as tf.Tensor1D;
  assert.throws(() => batchNormTraining(tf.zeros([3]), g, b, 1e-5), /batchNormTraining: x must be a float32 tensor \[\.\.\., C\] of rank at least 2/);
  assert.throws(() => batchNormTraining(tf.zeros([4, 3], "int32"), g, b, 1e-5), /batchNormTraining: x must be a float32 tensor/);
  assert.throws(() => batchNormTraining(tf.zeros([0, 3]), g, b, 1e-5), /batchNormTraining: x must hold at least one element per channel, got shape \[0,3\]/);
  assert.throws(() => batchNormTraining(x, tf.ones([2]) as tf.Tensor1D, b, 1e-5), /batchNormTraining: gamma must have shape \[3\] \(x's channels\), got \[2\]/);
  assert.throws(() => batchNormTraining(x, g, tf.zeros([4]) as tf.Tensor1D, 1e-5), /batchNormTraining: beta must have shape \[3\] \(x's channels\), got \[4\]/);
  assert.throws(() => batchNormTraining(x, g, b, 0), /batchNormTraining: epsilon/);
  tf.dispose([x, g, b]);
});

/** A stock layer and ours with the same weights, random gamma, beta and moving statistics, built for `shape`. */
function layerPair(shape: number[], seed: number) {
  const rng = createRng(seed);
  const c = shape[shape.length - 1];
  const args = { momentum: 0.9, epsilon: 1e-5 };
  const stock = tf.layers.batchNormalization(args), ours = batchNormalization(args);
  for (const layer of [stock, ours]) layer.build(shape);
  const weights = [draw(rng, c), draw(rng, c), draw(rng, c), draw(rng, c, 0.5, 1.5)].map((v) => tf.tensor1d(Float32Array.from(v)));
  stock.setWeights(weights);
  ours.setWeights(weights);
  tf.dispose(weights);
  return { stock, ours };
}

test("the layer trains like tf.layers.batchNormalization: outputs, gradients and moving statistics (cpu)", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(3);
  for (const shape of [[4, 3, 3, 5], [6, 4]]) {
    const { stock, ours } = layerPair(shape, 9);
    const size = shape.reduce((a, b) => a * b, 1);
    const x = tf.tensor(Float32Array.from(draw(rng, size, 2, 1)), shape), w = tf.tensor(Float32Array.from(draw(rng, size)), shape);
    const before = tf.memory().numTensors;
    const results = [stock, ours].map((layer) => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, w)) as tf.Scalar, layer.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val));
      const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, w)))(x);
      const out = { loss: value.dataSync()[0], grads: Object.values(grads).map((g) => Array.from(g.dataSync())), dx: Array.from(dx.dataSync()) };
      tf.dispose([value, dx, ...Object.values(grads)]);
      return out;
    });
    assert.equal(tf.memory().numTensors, before, `[${shape}]: a training call leaked tensors`);
    const close = (a: number[], b: number[], what: string) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1e-4 * (1 + Math.abs(b[i])), `[${shape}] ${what}[${i}]: ${v} vs ${b[i]}`));
    close([results[1].loss], [results[0].loss], "loss");
    results[0].grads.forEach((g, k) => close(results[1].grads[k], g, `grad ${k}`));
    close(results[1].dx, results[0].dx, "dx");
    // Two training calls each (variableGrads and grad): the moving statistics moved twice, the same way.
    const [stockWeights, ourWeights] = [stock, ours].map((l) => l.getWeights().map((t) => Array.from(t.dataSync())));
    stockWeights.forEach((v, k) => close(ourWeights[k], v, `weight ${k}`));
    const inference = [stock, ours].map((l) => tf.tidy(() => Array.from((l.apply(x, { training: false }) as tf.Tensor).dataSync())));
    close(inference[1], inference[0], "inference");
    tf.dispose([x, w]);
  }
  tf.disposeVariables(); // the layers' weights (Layer.dispose refuses layers applied to tensors only)
});

test("the layer saves as a stock BatchNormalization, with the same config", async () => {
  await tf.setBackend("cpu");
  const input = tf.input({ shape: [4, 4, 3] });
  const model = tf.model({ inputs: input, outputs: batchNormalization({ momentum: 0.8, epsilon: 1e-4, name: "bn" }).apply(input) as tf.SymbolicTensor });
  const artifacts = await modelArtifacts("test", model);
  const layers = (artifacts.modelTopology as { config: { layers: Array<{ class_name: string; config: Record<string, unknown> }> } }).config.layers;
  const bn = layers.find((l) => l.config.name === "bn")!;
  assert.equal(bn.class_name, "BatchNormalization");
  assert.equal(bn.config.momentum, 0.8);
  assert.equal(bn.config.epsilon, 1e-4);
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  assert.equal(loaded.getLayer("bn").getClassName(), "BatchNormalization");
  const x = tf.randomNormal([2, 4, 4, 3], 0, 1, "float32", 1);
  const [a, b] = [model, loaded].map((m) => m.predict(x) as tf.Tensor);
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  tf.dispose([x, a, b]);
  model.dispose();
  loaded.dispose();
});
