import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { registerTrainingKernels } from "../../src/backend/kernels";
import { conv2d } from "../../src/models/conv2d";
import { createRng } from "../../src/data/random";

registerTrainingKernels();

type Args = Parameters<typeof tf.layers.conv2d>[0];

/** A stock layer and ours with the same random weights, built for `shape`. */
function layerPair(args: Args, shape: number[], seed: number) {
  const stock = tf.layers.conv2d(args), ours = conv2d(args);
  for (const layer of [stock, ours]) layer.build(shape);
  const rng = createRng(seed);
  const weights = stock.getWeights().map((w) => tf.tensor(Float32Array.from({ length: w.size }, () => rng.normal()), w.shape));
  stock.setWeights(weights);
  ours.setWeights(weights);
  tf.dispose(weights);
  return { stock, ours };
}

/** Frees the layers' variables (layer.dispose refuses layers never called on symbolic inputs). */
function disposeWeights(...layers: tf.layers.Layer[]): void {
  for (const layer of layers) for (const w of layer.weights) (w as unknown as { dispose(): void }).dispose();
}

/** Largest difference relative to the largest |reference| value. */
function maxRelError(got: Float32Array, want: Float32Array): number {
  assert.equal(got.length, want.length);
  const scale = Math.max(...Array.from(want, Math.abs), 1e-30);
  return Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i]))) / scale;
}

/** Output and the gradients of sum(output * w) with respect to the input and every weight, in training mode. */
function outputAndGradients(layer: tf.layers.Layer, x: tf.Tensor, w: tf.Tensor, noGradient = false): { y: Float32Array; grads: Float32Array[] } {
  const vars = layer.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val);
  const y = tf.tidy(() => (layer.apply(x, { training: true }) as tf.Tensor).dataSync() as Float32Array);
  if (noGradient) return { y, grads: [] };
  const grads = tf.tidy(() => {
    const f = (input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, w)) as tf.Scalar;
    const dx = tf.grad(f)(x).dataSync() as Float32Array;
    const { grads: g } = tf.variableGrads(() => f(x), vars);
    return [dx, ...vars.map((v) => g[v.name].dataSync() as Float32Array)];
  });
  return { y, grads };
}

const CASES: Array<{ args: Args; shape: number[]; noGradient?: boolean }> = [
  { args: { filters: 4, kernelSize: 3, padding: "same", activation: "relu" }, shape: [2, 7, 6, 3] },
  { args: { filters: 5, kernelSize: 3, strides: 2, padding: "same", useBias: false }, shape: [2, 8, 8, 2] },
  { args: { filters: 3, kernelSize: [2, 3], strides: [1, 2], padding: "valid", activation: "relu" }, shape: [1, 6, 7, 2] },
  { args: { filters: 2, kernelSize: 1, strides: 2, padding: "same" }, shape: [3, 5, 5, 4] },
  // The stock path: an activation FusedConv2D's gradient does not take, and dilation.
  { args: { filters: 3, kernelSize: 3, padding: "same", activation: "tanh" }, shape: [2, 5, 5, 2] },
  // tfjs has no gradient for dilated convolutions, stock or ours.
  { args: { filters: 3, kernelSize: 3, padding: "same", dilationRate: 2, activation: "relu" }, shape: [2, 7, 7, 2], noGradient: true },
];

for (const backend of ["cpu", "wasm"] as const) {
  test(`conv2d on ${backend} computes the stock layer's outputs and gradients (input, kernel, bias) in training mode`, async () => {
    await tf.setBackend(backend);
    CASES.forEach(({ args, shape, noGradient }, i) => {
      const { stock, ours } = layerPair(args, shape, 10 + i);
      const rng = createRng(20 + i);
      const x = tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
      const outShape = stock.computeOutputShape(shape) as number[];
      const w = tf.tensor(Float32Array.from({ length: outShape.reduce((a, b) => a * b, 1) }, () => rng.normal()), outShape);
      const before = tf.memory().numTensors;
      const want = outputAndGradients(stock, x, w, noGradient);
      const got = outputAndGradients(ours, x, w, noGradient);
      assert.equal(tf.memory().numTensors, before, `case ${i}: tensors leaked`);
      // The fused kernel adds the bias inside the product, the stock path after it: float32 rounding apart.
      assert.ok(maxRelError(got.y, want.y) < 1e-5, `case ${i}: outputs`);
      assert.equal(got.grads.length, want.grads.length);
      got.grads.forEach((g, k) => assert.ok(maxRelError(g, want.grads[k]) < 1e-5, `case ${i}: gradient ${k}: ${maxRelError(g, want.grads[k])}`));
      // Inference mode is the stock call.
      assert.deepEqual(tf.tidy(() => (ours.apply(x) as tf.Tensor).dataSync()), tf.tidy(() => (stock.apply(x) as tf.Tensor).dataSync()));
      tf.dispose([x, w]);
      disposeWeights(stock, ours);
    });
  });

  test(`conv2d on ${backend}: a training step runs one FusedConv2D forward and never the input gradient of the layer's input`, async () => {
    await tf.setBackend(backend);
    const x = tf.randomNormal([4, 10, 10, 1], 0, 1, "float32", 1);
    const kernelsOf = async (layer: tf.layers.Layer) => {
      const vars = layer.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val);
      const profile = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(layer.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
        tf.dispose([value, ...Object.values(grads)]);
      });
      return profile.kernels.map((k) => k.name);
    };
    // Linear, no bias (the ResNet's convolutions): the stock layer fuses, and its fused gradient computes dx too.
    // ReLU with bias (the small CNN's): in gradient mode the stock layer runs Conv2D, Add and Relu, three passes.
    for (const [args, stockExtra] of [
      [{ filters: 8, kernelSize: 3, padding: "same", useBias: false }, "Conv2DBackpropInput"],
      [{ filters: 8, kernelSize: 3, padding: "same", activation: "relu" }, "Relu"],
    ] as Array<[Args, string]>) {
      const { stock, ours } = layerPair(args, [4, 10, 10, 1], 3);
      const stockKernels = await kernelsOf(stock), ourKernels = await kernelsOf(ours);
      assert.ok(stockKernels.includes(stockExtra), stockKernels.join());
      assert.ok(!ourKernels.includes("Conv2DBackpropInput") && !ourKernels.includes("Conv2D") && !ourKernels.includes("Relu"), ourKernels.join());
      assert.deepEqual(ourKernels.filter((k) => k.startsWith("Fused") || k.startsWith("Conv2D")), ["FusedConv2D", "Conv2DBackpropFilter"]);
      disposeWeights(stock, ours);
    }
    tf.dispose(x);
  });
}

test("conv2d saves as a stock Conv2D with the same config", async () => {
  await tf.setBackend("cpu");
  const args: Args = { filters: 4, kernelSize: 3, strides: 2, padding: "same", activation: "relu", name: "c" };
  const { stock, ours } = layerPair(args, [1, 6, 6, 2], 1);
  assert.equal(ours.getClassName(), "Conv2D");
  assert.deepEqual(ours.getConfig(), stock.getConfig());
  disposeWeights(stock, ours);
});
