import { test } from "node:test";
import assert from "node:assert/strict";
import "../../src/backend/select"; // registers the wasm backend
import { tf } from "../../src/backend/tf";
import { FUSED_ADAM_KERNEL, FusedAdamOptimizer } from "../../bench/fused_adam";
import { createRng } from "../../src/data/random";

/**
 * Float64 Adam (Kingma & Ba 2015, Algorithm 1) on f(x) = sum (x - t)^2,
 * whose gradient is 2 (x - t): the trajectory after `steps` updates.
 */
function referenceAdam(
  x0: number[], target: number[], steps: number, lr: number, b1: number, b2: number, eps: number,
): number[] {
  const x = [...x0];
  const m = x.map(() => 0);
  const v = x.map(() => 0);
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < x.length; i++) {
      const g = 2 * (x[i] - target[i]);
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const mHat = m[i] / (1 - Math.pow(b1, t));
      const vHat = v[i] / (1 - Math.pow(b2, t));
      x[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
    }
  }
  return x;
}

function run(optimizer: tf.Optimizer, x0: number[], target: number[], shape: [number, number], steps: number) {
  const x = tf.variable(tf.tensor2d(x0, shape));
  const t = tf.tensor2d(target, shape);
  for (let s = 0; s < steps; s++) {
    optimizer.minimize(() => tf.sum(tf.square(tf.sub(x, t))) as tf.Scalar, false, [x]);
  }
  const result = Array.from(x.dataSync());
  tf.dispose([x, t]);
  return result;
}

const maxError = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));

test("FusedAdamOptimizer follows float64 Adam and tf.train.adam on cpu and wasm (SIMD body and tail)", async () => {
  const rng = createRng(5);
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    for (const shape of [[7, 3], [1, 1], [33, 8]] as Array<[number, number]>) {
      const size = shape[0] * shape[1];
      const x0 = Array.from({ length: size }, () => rng.normal());
      const target = Array.from({ length: size }, () => rng.normal());
      const [lr, b1, b2, eps, steps] = [0.05, 0.9, 0.999, 1e-8, 6];
      const want = referenceAdam(x0, target, steps, lr, b1, b2, eps);
      const fused = run(new FusedAdamOptimizer(lr, b1, b2, eps), x0, target, shape, steps);
      const stock = run(tf.train.adam(lr, b1, b2, eps), x0, target, shape, steps);
      const moved = maxError(want, x0);
      assert.ok(moved > 0.1, "the reference must move");
      assert.ok(maxError(fused, want) < 2e-5, `${backend} ${shape}: fused vs float64 ${maxError(fused, want)}`);
      assert.ok(maxError(fused, stock) < 2e-5, `${backend} ${shape}: fused vs tf.train.adam ${maxError(fused, stock)}`);
    }
    assert.ok(tf.getKernel(FUSED_ADAM_KERNEL, backend), `the fused kernel is registered for ${backend}`);
  }
});

test("FusedAdamOptimizer without its kernel runs the same formula as tf ops", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(6);
  const x0 = Array.from({ length: 10 }, () => rng.normal());
  const target = Array.from({ length: 10 }, () => rng.normal());
  const fusedRun = run(new FusedAdamOptimizer(0.1), x0, target, [2, 5], 4);
  tf.unregisterKernel(FUSED_ADAM_KERNEL, "cpu");
  try {
    const optimizer = new FusedAdamOptimizer(0.1);
    tf.unregisterKernel(FUSED_ADAM_KERNEL, "cpu"); // the constructor re-registered it
    const opsRun = run(optimizer, x0, target, [2, 5], 4);
    assert.ok(maxError(opsRun, fusedRun) < 1e-6, `${maxError(opsRun, fusedRun)}`);
    assert.ok(maxError(opsRun, referenceAdam(x0, target, 4, 0.1, 0.9, 0.999, 1e-8)) < 2e-5);
  } finally {
    new FusedAdamOptimizer(0.1); // registers the kernel again
  }
});

test("FusedAdamOptimizer keeps the tensor count and frees its moments on dispose", async () => {
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const x = tf.tidy(() => tf.variable(tf.ones([5, 4])));
    const optimizer = new FusedAdamOptimizer(0.01);
    const step = () => optimizer.minimize(() => tf.sum(tf.square(x)) as tf.Scalar, false, [x]);
    step();
    const afterFirst = tf.memory().numTensors;
    assert.equal(afterFirst, before + 1 + 2, "the variable and its two moments");
    step();
    step();
    assert.equal(tf.memory().numTensors, afterFirst, `${backend}: a step leaks no tensors`);
    optimizer.dispose();
    x.dispose();
    assert.equal(tf.memory().numTensors, before);
  }
});

test("FusedAdamOptimizer rejects bad hyperparameters by name", () => {
  assert.throws(() => new FusedAdamOptimizer(-1), /FusedAdamOptimizer: learningRate must be in \[0, Infinity\), got -1/);
  assert.throws(() => new FusedAdamOptimizer(0.1, 1), /beta1 must be in \[0, 1\), got 1/);
  assert.throws(() => new FusedAdamOptimizer(0.1, 0.9, Number.NaN), /beta2 must be in \[0, 1\), got NaN/);
});
