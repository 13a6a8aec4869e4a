import { test } from "node:test";
import assert from "node:assert/strict";
import "../../src/backend/select"; // registers the wasm backend
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { compose, simclrAugment, twoViews } from "../../src/augment/compose";
import { gaussianPixelNoise } from "../../src/augment/photometric";
import { randomRotation } from "../../src/augment/geometric";
import type { Augmentation } from "../../src/augment/augmentation";

function randomImages(seed: number, n: number, h = 28, w = 28): tf.Tensor4D {
  const rng = createRng(seed);
  // Digit-like: mostly black with bright strokes.
  return tf.tensor4d(Float32Array.from({ length: n * h * w }, () => (rng.next() < 0.2 ? rng.next() : 0)), [n, h, w, 1]);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

test("compose applies its augmentations in order with seeds forked from the seed, without leaks", async () => {
  await tf.setBackend("cpu");
  const x = randomImages(1, 4);
  const rotate = randomRotation({ degrees: [-20, 20] });
  const noise = gaussianPixelNoise({ std: 0.1 });
  const before = tf.memory().numTensors;
  const y = compose([rotate, noise])(x, 5);
  assert.equal(tf.memory().numTensors, before + 1);
  const rng = createRng(5);
  const [s1, s2] = [rng.fork(), rng.fork()];
  const r = rotate(x, s1);
  const ref = noise(r, s2);
  assert.deepEqual(y.dataSync(), ref.dataSync());
  // Order matters: noise then rotation is another result.
  const swapped = compose([noise, rotate])(x, 5);
  assert.ok(maxAbsDiff(swapped, y) > 0.01);
  const empty = compose([])(x, 5);
  assert.notEqual(empty, x);
  assert.deepEqual(empty.dataSync(), x.dataSync());
  tf.dispose([x, y, r, ref, swapped, empty]);
});

test("twoViews draws two independent seeded views", async () => {
  await tf.setBackend("cpu");
  const x = randomImages(2, 4);
  const aug: Augmentation = simclrAugment();
  const before = tf.memory().numTensors;
  const [v1, v2] = twoViews(aug)(x, 9);
  assert.equal(tf.memory().numTensors, before + 2);
  const rng = createRng(9);
  const [r1, r2] = [aug(x, rng.fork()), aug(x, rng.fork())];
  assert.deepEqual(v1.dataSync(), r1.dataSync());
  assert.deepEqual(v2.dataSync(), r2.dataSync());
  assert.ok(maxAbsDiff(v1, v2) > 0.05);
  tf.dispose([x, v1, v2, r1, r2]);
});

test("simclrAugment keeps shape and [0, 1], is seeded, and is the identity at strength 0", async () => {
  await tf.setBackend("cpu");
  const x = randomImages(3, 8);
  const aug = simclrAugment();
  const before = tf.memory().numTensors;
  const a = aug(x, 1);
  assert.equal(tf.memory().numTensors, before + 1);
  assert.deepEqual(a.shape, [8, 28, 28, 1]);
  const as = a.dataSync();
  assert.ok(Math.min(...as) >= 0 && Math.max(...as) <= 1);
  const b = aug(x, 1);
  const c = aug(x, 2);
  assert.deepEqual(b.dataSync(), as);
  assert.ok(maxAbsDiff(a, c) > 0.1);
  assert.ok(maxAbsDiff(a, x) > 0.1);
  const id = simclrAugment({ strength: 0 })(x, 1);
  assert.ok(maxAbsDiff(id, x) < 1e-6, `strength 0 differs by ${maxAbsDiff(id, x)}`);
  const weak = simclrAugment({ strength: 0.2 })(x, 1);
  const strong = simclrAugment({ strength: 1 })(x, 1);
  const dist = (t: tf.Tensor): number => tf.tidy(() => tf.mean(tf.abs(tf.sub(t, x))).dataSync()[0]);
  assert.ok(dist(weak) < dist(strong), `weak ${dist(weak)} vs strong ${dist(strong)}`);
  tf.dispose([x, a, b, c, id, weak, strong]);
});

test("simclrAugment on wasm matches cpu and does not leak", async () => {
  await tf.setBackend("cpu");
  const xc = randomImages(4, 16);
  const cpu = simclrAugment()(xc, 3);
  const cpuValues = cpu.dataSync().slice();
  tf.dispose([xc, cpu]);
  await tf.setBackend("wasm");
  const x = randomImages(4, 16);
  const before = tf.memory().numTensors;
  const [v1, v2] = twoViews(simclrAugment())(x, 3);
  assert.equal(tf.memory().numTensors, before + 2);
  v2.dispose();
  const w = simclrAugment()(x, 3);
  const ws = w.dataSync();
  let maxErr = 0;
  for (let i = 0; i < ws.length; i++) maxErr = Math.max(maxErr, Math.abs(ws[i] - cpuValues[i]));
  assert.ok(maxErr < 1e-4, `wasm vs cpu: ${maxErr}`);
  tf.dispose([x, v1, w]);
  await tf.setBackend("cpu");
});

test("compose, twoViews and simclrAugment reject bad arguments by name", async () => {
  await tf.setBackend("cpu");
  assert.throws(() => compose([gaussianPixelNoise(), 3 as unknown as Augmentation]), /compose: augmentations\[1\] must be a function/);
  assert.throws(() => twoViews(undefined as unknown as Augmentation), /twoViews: augmentation must be a function/);
  assert.throws(() => simclrAugment({ strength: -1 }), /simclrAugment: options.strength must be a finite number >= 0, got -1/);
  const flat = tf.zeros([2, 784]);
  assert.throws(() => twoViews(simclrAugment())(flat as unknown as tf.Tensor4D, 1), /twoViews: images must be a float32 tensor of rank 4, got a tensor of shape \[2,784\]/);
  assert.throws(() => compose([])(flat as unknown as tf.Tensor4D, 1), /compose: images must be a float32 tensor of rank 4, got a tensor of shape \[2,784\]/);
  flat.dispose();
});
