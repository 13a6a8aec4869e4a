import { test } from "node:test";
import assert from "node:assert/strict";
import "../../src/backend/select"; // registers the wasm backend
import { tf } from "../../src/backend/tf";
import { disableWasmThreads, enableWasmThreads } from "../../src/backend/wasm_threads";
import { FUSED_ADAM_KERNEL, adam, adamUpdatePath } from "../../src/training/adam";
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
    // As the training loop calls it: returnCost true, an explicit varList.
    const cost = optimizer.minimize(() => tf.sum(tf.square(tf.sub(x, t))) as tf.Scalar, true, [x]);
    cost?.dispose();
  }
  const result = Array.from(x.dataSync());
  tf.dispose([x, t]);
  optimizer.dispose();
  return result;
}

const maxError = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));

/** Runs `body` on cpu, on wasm's threaded build (2 threads) and on its single-threaded build. */
async function onEveryBackend(body: (label: string) => void | Promise<void>): Promise<void> {
  await tf.setBackend("cpu");
  await body("cpu");
  if (tf.findBackend("wasm") != null) {
    // Drop a started single-threaded instance, keep its factory (priority 2 as tfjs registers it).
    const stock = tf.findBackendFactory("wasm");
    tf.removeBackend("wasm");
    tf.registerBackend("wasm", stock, 2);
  }
  const threaded = enableWasmThreads(2);
  try {
    assert.ok(threaded.enabled, threaded.reason);
    assert.ok(await tf.setBackend("wasm"), "the threaded wasm build starts");
    await body("wasm (2 threads)");
  } finally {
    disableWasmThreads();
  }
  assert.ok(await tf.setBackend("wasm"));
  await body("wasm (1 thread)");
  await tf.setBackend("cpu");
}

test("adam follows float64 Adam and tf.train.adam on cpu and both wasm builds (SIMD body and tail)", async () => {
  await onEveryBackend(async (backend) => {
    assert.equal(adamUpdatePath(), backend === "cpu" ? "tf-ops" : "fused-simd", `${backend}: update path`);
    const rng = createRng(5);
    for (const shape of [[7, 3], [1, 1], [33, 8]] as Array<[number, number]>) {
      const size = shape[0] * shape[1];
      const x0 = Array.from({ length: size }, () => rng.normal());
      const target = Array.from({ length: size }, () => rng.normal());
      const [lr, b1, b2, eps, steps] = [0.05, 0.9, 0.999, 1e-8, 6];
      const want = referenceAdam(x0, target, steps, lr, b1, b2, eps);
      const mine = run(adam(lr, b1, b2, eps), x0, target, shape, steps);
      const stock = run(tf.train.adam(lr, b1, b2, eps), x0, target, shape, steps);
      assert.ok(maxError(want, x0) > 0.1, "the reference must move");
      assert.ok(maxError(mine, want) < 2e-5, `${backend} ${shape}: adam vs float64 ${maxError(mine, want)}`);
      assert.ok(maxError(mine, stock) < 2e-5, `${backend} ${shape}: adam vs tf.train.adam ${maxError(mine, stock)}`);
      if (backend === "cpu") assert.deepEqual(mine, stock, "off wasm it is tf.train.adam's update, bit for bit");
    }
  });
});

test("adam's default epsilon is tf.train.adam's (the backend's)", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(8);
  const x0 = Array.from({ length: 12 }, () => rng.normal());
  // A target at x0 but for one entry: tiny gradients, where epsilon matters.
  const target = x0.map((v, i) => (i === 0 ? v + 1 : v + 1e-9));
  const mine = run(adam(0.1), x0, target, [3, 4], 3);
  assert.deepEqual(mine, run(tf.train.adam(0.1), x0, target, [3, 4], 3));
  assert.notDeepEqual(mine, run(tf.train.adam(0.1, 0.9, 0.999, 1e-3), x0, target, [3, 4], 3));
});

test("the fused kernel works in place on a heap that grows between steps", async () => {
  await tf.setBackend("wasm");
  const rng = createRng(9);
  const x0 = Array.from({ length: 4001 }, () => rng.normal());
  const target = Array.from({ length: 4001 }, () => rng.normal());
  const x = tf.variable(tf.tensor2d(x0, [1, 4001]));
  const t = tf.tensor2d(target, [1, 4001]);
  const optimizer = adam(0.05, 0.9, 0.999, 1e-8);
  const ballast: tf.Tensor[] = [];
  for (let s = 0; s < 4; s++) {
    optimizer.minimize(() => tf.sum(tf.square(tf.sub(x, t))) as tf.Scalar, false, [x]);
    ballast.push(tf.zeros([4 << 20])); // 16 MB each: the wasm memory grows
  }
  const got = Array.from(x.dataSync());
  tf.dispose([x, t, ...ballast]);
  optimizer.dispose();
  const want = referenceAdam(x0, target, 4, 0.05, 0.9, 0.999, 1e-8);
  assert.ok(maxError(got, want) < 2e-5, `${maxError(got, want)}`);
  await tf.setBackend("cpu");
});

test("adam keeps the tensor count and frees its state on dispose", async () => {
  await onEveryBackend((backend) => {
    const before = tf.memory().numTensors;
    const x = tf.tidy(() => tf.variable(tf.ones([5, 4])));
    const b = tf.tidy(() => tf.variable(tf.zeros([4])));
    const optimizer = adam(0.01);
    const step = () => optimizer.minimize(() => tf.sum(tf.square(tf.add(x, b))) as tf.Scalar, false, [x, b]);
    step();
    const afterFirst = tf.memory().numTensors;
    // 2 variables, beta1^t and beta2^t, two moments per variable.
    assert.equal(afterFirst, before + 2 + 2 + 4, `${backend}: state after the first step`);
    step();
    step();
    assert.equal(tf.memory().numTensors, afterFirst, `${backend}: a step leaks no tensors`);
    optimizer.dispose();
    tf.dispose([x, b]);
    assert.equal(tf.memory().numTensors, before, `${backend}: dispose frees the state`);
  });
});

test("state moves between adam and tf.train.adam: a switch mid-run equals an unbroken run", async () => {
  await tf.setBackend("wasm");
  const rng = createRng(10);
  const x0 = Array.from({ length: 30 }, () => rng.normal());
  const target = Array.from({ length: 30 }, () => rng.normal());
  const want = referenceAdam(x0, target, 8, 0.05, 0.9, 0.999, 1e-8);
  const x = tf.variable(tf.tensor2d(x0, [5, 6]));
  const t = tf.tensor2d(target, [5, 6]);
  const loss = () => tf.sum(tf.square(tf.sub(x, t))) as tf.Scalar;
  const first = adam(0.05, 0.9, 0.999, 1e-8);
  for (let s = 0; s < 4; s++) first.minimize(loss, false, [x]);
  assert.equal(first.getClassName(), "Adam");
  const weights = await first.getWeights();
  const second = tf.train.adam(0.05, 0.9, 0.999, 1e-8);
  await second.setWeights(weights.map((w) => ({ name: w.name, tensor: w.tensor.clone() })));
  for (let s = 0; s < 4; s++) second.minimize(loss, false, [x]);
  const got = Array.from(x.dataSync());
  tf.dispose(weights.map((w) => w.tensor));
  tf.dispose([x, t]);
  second.dispose();
  assert.ok(maxError(got, want) < 2e-5, `${maxError(got, want)}`);
  await tf.setBackend("cpu");
});

test("the fused kernel rejects moments of another shape, naming the input", async () => {
  await tf.setBackend("wasm");
  adam(0.1); // registers the kernel
  const [x, g, m] = [tf.zeros([2, 3]), tf.zeros([2, 3]), tf.zeros([2, 3])];
  const v = tf.zeros([3, 2]);
  assert.throws(
    () => tf.engine().runKernel(FUSED_ADAM_KERNEL, { x, g, m, v }, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, stepSize: 1, correction: 1 }),
    /SslFusedAdam: v must be float32 of shape \[2,3\], got float32 \[3,2\]/,
  );
  tf.dispose([x, g, m, v]);
  await tf.setBackend("cpu");
});

test("adam rejects bad hyperparameters by name", () => {
  assert.throws(() => adam(-1), /adam: learningRate must be a finite number > 0, got -1/);
  assert.throws(() => adam(0.1, 1), /adam: beta1 must be in \[0, 1\), got 1/);
  assert.throws(() => adam(0.1, 0.9, Number.NaN), /adam: beta2 must be in \[0, 1\), got NaN/);
  assert.throws(() => adam(0.1, 0.9, 0.999, -1e-8), /adam: epsilon must be a finite number >= 0, got -1e-8/);
});
