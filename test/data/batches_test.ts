import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import {
  batchCount,
  batches,
  epochPermutation,
  gatherBatch,
  gatherImages,
  gatherLabels,
  sequentialBatches,
  subsetImages,
} from "../../src/data/batches";
import { ImageSet } from "../../src/data/mnist";

/** A small set with a non-MNIST shape and distinct values, so any mix-up shows. */
function makeSet(n: number, shape: [number, number, number] = [2, 3, 2]): ImageSet {
  const size = shape[0] * shape[1] * shape[2];
  const images = new Float32Array(n * size);
  for (let i = 0; i < images.length; i++) images[i] = i / images.length;
  const labels = Int32Array.from({ length: n }, (_, i) => (i * 7) % 5);
  return { images, labels, n, shape };
}

test("setup: cpu backend", async () => {
  await tf.setBackend("cpu");
});

test("an epoch visits every index once, in batches of the requested size", () => {
  for (const [n, bs] of [
    [10, 3],
    [12, 4],
    [1, 5],
    [1000, 128],
  ]) {
    const list = batches(n, bs, { seed: 3, epoch: 2 });
    assert.equal(list.length, Math.ceil(n / bs));
    assert.equal(list.length, batchCount(n, bs));
    list.slice(0, -1).forEach((b) => assert.equal(b.length, bs));
    assert.equal(list[list.length - 1].length, n - bs * (list.length - 1));
    const all = list.flatMap((b) => Array.from(b)).sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: n }, (_, i) => i));
  }
  assert.deepEqual(batches(0, 4, { seed: 1 }), []);
});

test("dropLast drops only a short last batch", () => {
  const list = batches(10, 4, { seed: 1, dropLast: true });
  assert.equal(list.length, 2);
  assert.equal(batchCount(10, 4, true), 2);
  list.forEach((b) => assert.equal(b.length, 4));
  const full = batches(10, 4, { seed: 1 });
  // Same permutation, cut the same way.
  assert.deepEqual(list, full.slice(0, 2));
  assert.equal(batches(12, 4, { seed: 1, dropLast: true }).length, 3);
});

test("order depends only on (seed, epoch)", () => {
  const a = batches(500, 32, { seed: 7, epoch: 4 });
  const b = batches(500, 32, { seed: 7, epoch: 4 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(batches(500, 32, { seed: 7, epoch: 5 })[0], a[0]);
  assert.notDeepEqual(batches(500, 32, { seed: 8, epoch: 4 })[0], a[0]);
  assert.deepEqual(batches(500, 32, { seed: 7 }), batches(500, 32, { seed: 7, epoch: 0 }));
  // The batches are consecutive slices of the epoch permutation.
  const perm = epochPermutation(500, 7, 4);
  assert.deepEqual(Int32Array.from(a.flatMap((x) => Array.from(x))), perm);
});

test("epoch permutations are uniform: each element lands in each position equally often", () => {
  // 4,000 epochs of n = 4: counts of element 0 at each position ~ Binomial(4000, 1/4),
  // standard deviation 27.4; a bound of 6 deviations fails only for a biased shuffle.
  const epochs = 4000;
  for (const seed of [0, 1, 123456789]) {
    const counts = [0, 0, 0, 0];
    for (let e = 0; e < epochs; e++) counts[epochPermutation(4, seed, e).indexOf(0)]++;
    counts.forEach((c) => assert.ok(Math.abs(c - epochs / 4) < 6 * 27.4, `seed ${seed}: ${counts}`));
  }
  // Consecutive epochs are unrelated: about one position in n agrees by chance, ~20 over 20 pairs.
  const n = 1000;
  let same = 0;
  for (let e = 0; e < 20; e++) {
    const p = epochPermutation(n, 5, e);
    const q = epochPermutation(n, 5, e + 1);
    for (let i = 0; i < n; i++) if (p[i] === q[i]) same++;
  }
  assert.ok(same < 20 * 6, `${same} fixed positions over 20 epoch pairs`);
});

test("sequentialBatches keeps data order", () => {
  assert.deepEqual(
    sequentialBatches(5, 2).map((b) => Array.from(b)),
    [[0, 1], [2, 3], [4]],
  );
  assert.deepEqual(sequentialBatches(0, 2), []);
});

test("bad arguments throw errors naming the argument", () => {
  assert.throws(() => batches(10, 0, { seed: 1 }), /batches: batchSize must be a positive integer, got 0/);
  assert.throws(() => batches(-1, 2, { seed: 1 }), /batches: n must be a non-negative integer, got -1/);
  assert.throws(() => batches(10, 2, { seed: 1.5 }), /batches: seed must be an integer, got 1.5/);
  assert.throws(() => batches(10, 2, { seed: 1, epoch: -1 }), /batches: epoch must be a non-negative integer, got -1/);
  assert.throws(() => sequentialBatches(10, 2.5), /sequentialBatches: batchSize must be a positive integer, got 2.5/);
  assert.throws(() => epochPermutation(3.2, 1), /epochPermutation: n must be a non-negative integer, got 3.2/);
});

test("gather helpers copy the right rows and leak nothing", () => {
  const set = makeSet(9);
  const idx = Int32Array.from([8, 0, 3, 3]);
  const size = 2 * 3 * 2;
  const before = tf.memory().numTensors;
  const x = gatherImages(set, idx);
  const y = gatherLabels(set, idx);
  assert.equal(tf.memory().numTensors, before + 2);
  assert.deepEqual(x.shape, [4, 2, 3, 2]);
  assert.equal(y.dtype, "int32");
  const want = Array.from(idx).flatMap((i) => Array.from(set.images.subarray(i * size, (i + 1) * size)));
  assert.deepEqual(Array.from(x.dataSync()), want);
  assert.deepEqual(Array.from(y.dataSync()), Array.from(idx).map((i) => set.labels[i]));
  x.dispose();
  y.dispose();
  const batch = gatherBatch(set, [1, 2]);
  assert.deepEqual(batch.x.shape, [2, 2, 3, 2]);
  assert.deepEqual(Array.from(batch.y.dataSync()), [set.labels[1], set.labels[2]]);
  batch.x.dispose();
  batch.y.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test("gathers reject bad indices and inconsistent sets without leaking", () => {
  const set = makeSet(4);
  const before = tf.memory().numTensors;
  assert.throws(() => gatherImages(set, [0, 4]), /gatherImages: indices\[1\] must be an integer in \[0, 4\), got 4/);
  assert.throws(() => gatherLabels(set, [-1]), /gatherLabels: indices\[0\] must be an integer in \[0, 4\), got -1/);
  assert.throws(() => gatherBatch(set, [0.5]), /gatherBatch: indices\[0\] must be an integer in \[0, 4\), got 0.5/);
  const broken: ImageSet = { ...set, images: set.images.subarray(1) };
  assert.throws(() => gatherImages(broken, [0]), /gatherImages: set.images must have length n\*h\*w\*c = 4\*2\*3\*2 = 48, got 47/);
  assert.equal(tf.memory().numTensors, before);
});

test("subsetImages copies the chosen images and labels in order, leaves the source alone, and names a bad index", () => {
  const set = makeSet(6);
  const before = Float32Array.from(set.images);
  const sub = subsetImages(set, [4, 1, 4]);
  assert.equal(sub.n, 3);
  assert.deepEqual(sub.shape, [2, 3, 2]);
  assert.deepEqual(Array.from(sub.labels), [set.labels[4], set.labels[1], set.labels[4]]);
  for (const [k, i] of [4, 1, 4].entries()) {
    assert.deepEqual(Array.from(sub.images.subarray(k * 12, (k + 1) * 12)), Array.from(set.images.subarray(i * 12, (i + 1) * 12)));
  }
  sub.images[0] = 99;
  assert.deepEqual(Array.from(set.images), Array.from(before), "a copy, not a view");
  assert.throws(() => subsetImages(set, [0, 6]), /subsetImages: indices\[1\] must be/);
});
