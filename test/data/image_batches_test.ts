import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { batches } from "../../src/data/batches";
import { flatImageBatches, gatherFlatImages, pairBatches, tripletBatches } from "../../src/data/image_batches";
import type { ImageSet } from "../../src/data/mnist";
import { samplePairs, sampleTriplets } from "../../src/data/pairs";
import { createRng } from "../../src/data/random";

/** A tiny set of 2x3 single-channel images: pixel p of image i is i + p / 10, label i % 3. */
function tinySet(n: number): ImageSet {
  const images = Float32Array.from({ length: n * 6 }, (_, k) => Math.floor(k / 6) + (k % 6) / 10);
  return { images, labels: Int32Array.from({ length: n }, (_, i) => i % 3), n, shape: [2, 3, 1] };
}

/** The expected flattened rows of `idx`, read straight from the set's array. */
const rowsOf = (set: ImageSet, idx: ArrayLike<number>) => Array.from(idx, (i) => Array.from(set.images.subarray(i * 6, (i + 1) * 6)));

test("gatherFlatImages: one row per index, the image's pixels in order", async () => {
  await tf.setBackend("cpu");
  const set = tinySet(5);
  const x = gatherFlatImages(set, [4, 0, 2]);
  assert.deepEqual(x.shape, [3, 6]);
  assert.deepEqual(x.arraySync(), rowsOf(set, [4, 0, 2]).map((r) => r.map(Math.fround)));
  x.dispose();
  assert.throws(() => gatherFlatImages(set, [5]), /gatherImages: indices\[0\] must be an integer in \[0, 5\), got 5/);
});

test("flatImageBatches: an epoch is data.batches seeded with rng.fork(), last batch dropped; same seed, same batches; no leaks", async () => {
  await tf.setBackend("cpu");
  const set = tinySet(11);
  const before = tf.memory().numTensors;
  const got = [...flatImageBatches(set, { batchSize: 4 })(0, createRng(9))];
  const expectedIdx = batches(11, 4, { seed: createRng(9).fork(), dropLast: true });
  assert.equal(got.length, 2);
  got.forEach((x, b) => assert.deepEqual(x.arraySync(), rowsOf(set, expectedIdx[b]).map((r) => r.map(Math.fround))));
  const again = [...flatImageBatches(set, { batchSize: 4 })(0, createRng(9))];
  assert.deepEqual(again.map((x) => x.arraySync()), got.map((x) => x.arraySync()));
  const kept = [...flatImageBatches(set, { batchSize: 4, dropLast: false })(0, createRng(9))];
  assert.deepEqual(kept.map((x) => x.shape[0]), [4, 4, 3]);
  tf.dispose([...got, ...again, ...kept]);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => flatImageBatches(set, { batchSize: 0 }), /flatImageBatches: options.batchSize must be a positive integer, got 0/);
  assert.throws(() => flatImageBatches(set, { batchSize: 12 }), /flatImageBatches: options.batchSize must be at most the 11 images of the set, got 12/);
});

test("pairBatches and tripletBatches: samplePairs / sampleTriplets on the loop's rng, sides stacked in one tensor; endless; no leaks", async () => {
  await tf.setBackend("cpu");
  const set = tinySet(12);
  const before = tf.memory().numTensors;
  const pairs = pairBatches(set, { batchSize: 4, sameFraction: 0.5 })(0, createRng(3));
  const rng = createRng(3);
  for (let b = 0; b < 3; b++) {
    const batch = pairs.next().value!;
    const p = samplePairs(set.labels, { count: 4, sameFraction: 0.5 }, rng);
    assert.deepEqual(batch.x.arraySync(), [...rowsOf(set, p.first), ...rowsOf(set, p.second)].map((r) => r.map(Math.fround)));
    assert.deepEqual(Array.from(batch.same.dataSync()), Array.from(p.same));
    // Labels agree exactly where same = 1.
    p.first.forEach((i, k) => assert.equal(set.labels[i] === set.labels[p.second[k]] ? 1 : 0, p.same[k]));
    tf.dispose([batch.x, batch.same]);
  }
  const triplets = tripletBatches(set, { batchSize: 5 })(0, createRng(4));
  const trng = createRng(4);
  for (let b = 0; b < 2; b++) {
    const batch = triplets.next().value!;
    const t = sampleTriplets(set.labels, 5, trng);
    assert.deepEqual(batch.x.arraySync(), [...rowsOf(set, t.anchor), ...rowsOf(set, t.positive), ...rowsOf(set, t.negative)].map((r) => r.map(Math.fround)));
    batch.x.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => pairBatches(set, { batchSize: 4, sameFraction: 2 }), /pairBatches: options.sameFraction must be in \[0, 1\], got 2/);
  assert.throws(() => tripletBatches(set, null as never), /tripletBatches: options must be an object \{batchSize\}, got null/);
});
