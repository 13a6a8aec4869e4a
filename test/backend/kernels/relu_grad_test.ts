import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import { RELU_GRAD } from "../../../src/backend/kernels/relu_grad";
import { createRng } from "../../../src/data/random";

registerTrainingKernels();

/** Values with every case of step(x) and of dy's sign: zeros of both signs, NaN, infinities. */
function values(n: number, seed: number): { x: Float32Array; dy: Float32Array } {
  const rng = createRng(seed);
  const special = [0, -0, NaN, Infinity, -Infinity, 1e-30, -1e-30];
  const x = Float32Array.from({ length: n }, (_, i) => (i % 9 < special.length && i % 2 === 0 ? special[i % 9] : rng.normal()));
  const dy = Float32Array.from({ length: n }, (_, i) => (i % 11 === 3 ? special[i % special.length] : rng.normal()));
  return { x, dy };
}

/** tfjs's own ReLU gradient formula, on the stock cpu kernels. */
async function stockFormula(x: Float32Array, dy: Float32Array, shape: number[]): Promise<Float32Array> {
  await tf.setBackend("cpu");
  return tf.tidy(() => tf.mul(tf.tensor(dy, shape), tf.cast(tf.step(tf.tensor(x, shape)), "float32")).dataSync() as Float32Array);
}

for (const backend of ["wasm", "cpu"] as const) {
  test(`${RELU_GRAD} on ${backend} is bit-identical to tfjs's dy * step(x), NaN, infinities and signed zeros included, with no leak`, async () => {
    for (const shape of [[7], [4, 5, 3], [2, 28, 28, 8], [1]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const { x, dy } = values(n, 3 + n);
      const want = await stockFormula(x, dy, shape);
      await tf.setBackend(backend);
      const before = tf.memory().numTensors;
      const got = tf.tidy(() => (tf.engine().runKernel(RELU_GRAD, { dy: tf.tensor(dy, shape), x: tf.tensor(x, shape) }) as tf.Tensor).dataSync());
      assert.equal(tf.memory().numTensors, before);
      for (let i = 0; i < n; i++) assert.ok(Object.is(got[i], want[i]), `[${shape}] ${i}: x ${x[i]}, dy ${dy[i]}: ${got[i]} vs ${want[i]}`);
    }
  });

  test(`tf.grad through relu on ${backend} uses ${RELU_GRAD}, matches float64 finite differences, and has a second derivative`, async () => {
    await tf.setBackend(backend);
    const rng = createRng(8);
    const x = Float32Array.from({ length: 24 }, () => rng.normal());
    const w = Float32Array.from({ length: 24 }, () => rng.normal());
    const loss = (v: ArrayLike<number>) => Array.from(v).reduce((s, xi, i) => s + Math.max(xi, 0) ** 2 * w[i], 0);
    const f = (t: tf.Tensor) => tf.sum(tf.mul(tf.square(tf.relu(t)), tf.tensor(w, [24], "float32")));
    const kernels: string[] = [];
    const profile = await tf.profile(() => { tf.grad(f)(tf.tensor(x, [24], "float32")).dispose(); });
    profile.kernels.forEach((k) => kernels.push(k.name));
    assert.ok(kernels.includes(RELU_GRAD) && !kernels.includes("Step"), kernels.join());
    const grad = tf.tidy(() => tf.grad(f)(tf.tensor(x, [24], "float32")).dataSync());
    const h = 1e-5;
    x.forEach((_, i) => {
      const plus = Float64Array.from(x), minus = Float64Array.from(x);
      plus[i] += h;
      minus[i] -= h;
      assert.ok(Math.abs((loss(plus) - loss(minus)) / (2 * h) - grad[i]) < 1e-4, `x[${i}]`);
    });
    // d/dx of sum(relu'(x) * relu(x) * 2w) = 2w where x > 0: the kernel's own gradient in dy.
    const second = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.grad(f)(t)))(tf.tensor(x, [24], "float32")).dataSync());
    x.forEach((xi, i) => assert.ok(Math.abs(second[i] - (xi > 0 ? 2 * w[i] : 0)) < 1e-5, `second derivative at ${i}`));
  });

  test(`${RELU_GRAD} on ${backend} names the argument it rejects`, async () => {
    await tf.setBackend(backend);
    const where = `${RELU_GRAD} \\(${backend}\\)`;
    const run = (inputs: tf.NamedTensorMap) => () => tf.engine().runKernel(RELU_GRAD, inputs);
    assert.throws(run({ dy: tf.zeros([2, 3]), x: tf.zeros([3, 2]) }), new RegExp(`${where}: dy must have shape \\[3,2\\], got \\[2,3\\]`));
    assert.throws(run({ dy: tf.zeros([2], "int32"), x: tf.zeros([2]) }), new RegExp(`${where}: dy must be float32`));
  });
}
