import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { RELATIVE_POSITIONS, relativePositionBatch } from "../../src/data/pretext_relative";
import { rngImages } from "../methods/vision/helpers";

/** The `size` x `size` crop of image `b` of a flat `[batch, h, w, c]` array at (top, left), by plain loops. */
function cropRef(data: Float32Array, [h, w, c]: number[], b: number, top: number, left: number, size: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) for (let ch = 0; ch < c; ch++) out.push(data[((b * h + top + i) * w + left + j) * c + ch]);
  return out;
}

test("relativePositionBatch: patches are the source crops at the returned origins; origins are the 3x3 grid cells plus a jitter of at most 1", async () => {
  await tf.setBackend("cpu");
  const x = rngImages(40, 5);
  const data = x.dataSync() as Float32Array;
  const { center, neighbour, labels, centerOrigins, neighbourOrigins } = relativePositionBatch(x, {}, 7);
  assert.deepEqual(center.shape, [40, 6, 6, 1]);
  assert.deepEqual(neighbour.shape, [40, 6, 6, 1]);
  assert.equal(labels.dtype, "int32");
  const c = center.dataSync();
  const n = neighbour.dataSync();
  const l = labels.dataSync();
  const shifts = new Set<number>();
  for (let b = 0; b < 40; b++) {
    assert.deepEqual(Array.from(c.subarray(b * 36, (b + 1) * 36)), cropRef(data, [28, 28, 1], b, centerOrigins[2 * b], centerOrigins[2 * b + 1], 6));
    assert.deepEqual(Array.from(n.subarray(b * 36, (b + 1) * 36)), cropRef(data, [28, 28, 1], b, neighbourOrigins[2 * b], neighbourOrigins[2 * b + 1], 6));
    // The grid of the defaults: cells at 2, 11, 20 (6-pixel patches, 3-pixel gaps, centred in 28).
    const [dr, dc] = RELATIVE_POSITIONS[l[b]];
    const offsets = [centerOrigins[2 * b] - 11, centerOrigins[2 * b + 1] - 11, neighbourOrigins[2 * b] - (11 + 9 * dr), neighbourOrigins[2 * b + 1] - (11 + 9 * dc)];
    for (const s of offsets) {
      assert.ok(Math.abs(s) <= 1, `image ${b}: shift ${s}`);
      shifts.add(s);
    }
    // The gap outlives the jitter: the two patches are at least one pixel apart along the axis they neighbour on.
    const apart = Math.max(dr === 0 ? 0 : Math.abs(neighbourOrigins[2 * b] - centerOrigins[2 * b]), dc === 0 ? 0 : Math.abs(neighbourOrigins[2 * b + 1] - centerOrigins[2 * b + 1]));
    assert.ok(apart >= 7, `image ${b}: patches ${apart - 6} pixels apart`);
    for (const o of [...centerOrigins.subarray(2 * b, 2 * b + 2), ...neighbourOrigins.subarray(2 * b, 2 * b + 2)]) assert.ok(o >= 1 && o + 6 <= 27, `origin ${o}`);
  }
  assert.deepEqual([...shifts].sort(), [-1, 0, 1]);
  tf.dispose([x, center, neighbour, labels]);
});

test("relativePositionBatch: the eight labels are uniform over a seeded batch (binomial tolerance); same seed, same batch", async () => {
  await tf.setBackend("cpu");
  const x = tf.zeros([800, 28, 28, 1]) as tf.Tensor4D;
  const a = relativePositionBatch(x, {}, 3);
  const labels = Array.from(a.labels.dataSync());
  const counts = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => labels.filter((v) => v === k).length);
  // Each count is Binomial(800, 1/8): mean 100, sd 9.4; allow 4 sd.
  for (const count of counts) assert.ok(Math.abs(count - 100) <= 4 * Math.sqrt(800 / 8 * 7 / 8), `label counts ${counts}`);
  const b = relativePositionBatch(x, {}, 3);
  assert.deepEqual(Array.from(b.labels.dataSync()), labels);
  assert.deepEqual(b.centerOrigins, a.centerOrigins);
  assert.deepEqual(b.neighbourOrigins, a.neighbourOrigins);
  const c = relativePositionBatch(x, {}, 4);
  assert.notDeepEqual(Array.from(c.labels.dataSync()), labels);
  tf.dispose([x, a.center, a.neighbour, a.labels, b.center, b.neighbour, b.labels, c.center, c.neighbour, c.labels]);
});

test("relativePositionBatch: other sizes, channels and no jitter; the tightest fitting grid; the grid centred in a non-square image", async () => {
  await tf.setBackend("cpu");
  const x = tf.tidy(() => tf.reshape(tf.range(0, 3 * 20 * 23 * 2), [3, 20, 23, 2]) as tf.Tensor4D);
  const data = x.dataSync() as Float32Array;
  // span 3 * 4 + 2 * 2 = 16: top (20 - 16) / 2 = 2, left floor((23 - 16) / 2) = 3.
  const out = relativePositionBatch(x, { patch: 4, gap: 2, jitter: 0 }, 1);
  const l = out.labels.dataSync();
  for (let b = 0; b < 3; b++) {
    const [dr, dc] = RELATIVE_POSITIONS[l[b]];
    assert.deepEqual(Array.from(out.centerOrigins.subarray(2 * b, 2 * b + 2)), [8, 9]);
    assert.deepEqual(Array.from(out.neighbourOrigins.subarray(2 * b, 2 * b + 2)), [8 + 6 * dr, 9 + 6 * dc]);
    assert.deepEqual(Array.from(out.neighbour.dataSync().subarray(b * 32, (b + 1) * 32)), cropRef(data, [20, 23, 2], b, 8 + 6 * dr, 9 + 6 * dc, 4));
  }
  // 3 * 6 + 2 * 4 + 2 * 1 = 28 fits exactly; one more pixel of gap does not.
  const tight = relativePositionBatch(tf.zeros([1, 28, 28, 1]) as tf.Tensor4D, { patch: 6, gap: 4, jitter: 1 }, 2);
  assert.throws(
    () => relativePositionBatch(tight.center as tf.Tensor4D, {}, 1),
    /relativePositionBatch: the grid needs 3 \* patch \+ 2 \* gap \+ 2 \* jitter = 26 pixels each way, got images of 6x6 \(patch 6, gap 3, jitter 1\)/,
  );
  tf.dispose([x, out.center, out.neighbour, out.labels, tight.center, tight.neighbour, tight.labels]);
});

test("relativePositionBatch leaves no tensors behind and rejects bad input by name", async () => {
  await tf.setBackend("cpu");
  const x = rngImages(2, 1);
  const before = tf.memory().numTensors;
  const out = relativePositionBatch(x, {}, 1);
  assert.equal(tf.memory().numTensors, before + 3);
  tf.dispose([out.center, out.neighbour, out.labels]);
  assert.equal(tf.memory().numTensors, before);
  const cases: Array<[() => unknown, RegExp]> = [
    [() => relativePositionBatch(x, { patch: 7, gap: 3 }, 1), /relativePositionBatch: the grid needs 3 \* patch \+ 2 \* gap \+ 2 \* jitter = 29 pixels each way, got images of 28x28 \(patch 7, gap 3, jitter 1\)/],
    [() => relativePositionBatch(x, { patch: 0 }, 1), /relativePositionBatch: options.patch must be a positive integer, got 0/],
    [() => relativePositionBatch(x, { gap: -1 }, 1), /relativePositionBatch: options.gap must be a non-negative integer, got -1/],
    [() => relativePositionBatch(x, { jitter: 0.5 }, 1), /relativePositionBatch: options.jitter must be a non-negative integer, got 0.5/],
    [() => relativePositionBatch(x, null as never, 1), /relativePositionBatch: options must be an object \{patch\?, gap\?, jitter\?\}, got null/],
    [() => relativePositionBatch(x, {}, Number.NaN), /relativePositionBatch: seed must be an integer, got NaN/],
    [() => relativePositionBatch(tf.zeros([2, 28, 28]) as never, {}, 1), /relativePositionBatch: images must be a float32 tensor of rank 4, got a tensor of shape \[2,28,28\]/],
  ];
  for (const [fn, message] of cases) assert.throws(() => tf.tidy(() => { fn(); }), message);
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});
