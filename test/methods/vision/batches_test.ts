import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { createRng } from "../../../src/data/random";
import type { ImageSet } from "../../../src/data/mnist";
import { visionBatches } from "../../../src/methods/vision/batches";

function tinySet(n: number): ImageSet {
  const images = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) images.fill(i / n, i * 4, (i + 1) * 4);
  return { images, labels: Int32Array.from({ length: n }, (_, i) => i % 3), n, shape: [2, 2, 1] } as unknown as ImageSet;
}

test("visionBatches: an epoch visits every image once (last partial batch dropped), rows match indices", async () => {
  await tf.setBackend("cpu");
  const set = tinySet(10);
  const make = visionBatches(set, { batchSize: 3 });
  const seen: number[] = [];
  for (const batch of make(0, createRng(4))) {
    assert.deepEqual(batch.images.shape, [3, 2, 2, 1]);
    assert.equal(batch.labels, undefined);
    const firstPixels = Array.from(batch.images.dataSync()).filter((_, k) => k % 4 === 0);
    assert.deepEqual(firstPixels.map((v) => Math.round(v * 10)), Array.from(batch.indices!));
    seen.push(...batch.indices!);
    batch.images.dispose();
  }
  assert.equal(seen.length, 9);
  assert.equal(new Set(seen).size, 9);
});

test("visionBatches: the rng fixes the order; epochs differ; labels on request", async () => {
  await tf.setBackend("cpu");
  const set = tinySet(12);
  const make = visionBatches(set, { batchSize: 4, labels: true });
  const order = (epoch: number, seed: number) => {
    const out: number[] = [];
    for (const b of make(epoch, createRng(seed))) {
      assert.deepEqual(Array.from(b.labels!.dataSync()), Array.from(b.indices!, (i) => i % 3));
      out.push(...b.indices!);
      tf.dispose([b.images, b.labels!]);
    }
    return out;
  };
  assert.deepEqual(order(0, 7), order(0, 7));
  assert.notDeepEqual(order(0, 7), order(1, 7));
  assert.notDeepEqual(order(0, 7), order(0, 8));
});

test("visionBatches: rejects bad options", () => {
  const set = tinySet(5);
  assert.throws(() => visionBatches(set, { batchSize: 0 }), /visionBatches: options.batchSize must be a positive integer, got 0/);
  assert.throws(() => visionBatches(set, { batchSize: 6 }), /visionBatches: options.batchSize must be at most the 5 images of the set, got 6/);
  assert.throws(() => visionBatches(set, { batchSize: 2, labels: 1 as unknown as boolean }), /options.labels must be a boolean/);
});
