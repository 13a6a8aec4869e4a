import { test } from "node:test";
import assert from "node:assert/strict";
import "@tensorflow/tfjs-backend-wasm";
import { tf } from "../../src/backend/tf";
import { createMemoryBank } from "../../src/models/memory_bank";
import { createRng } from "../../src/data/random";

const rowsOf = (t: tf.Tensor) => (t.arraySync() as number[][]).map((r) => Float64Array.from(r));
const close = (got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol = 1e-6) => {
  assert.equal(got.length, want.length, what);
  for (let j = 0; j < want.length; j++) assert.ok(Math.abs(got[j] - want[j]) < tol, `${what}[${j}]: ${got[j]} vs ${want[j]}`);
};

test("createMemoryBank starts with seeded random unit vectors", async () => {
  await tf.setBackend("cpu");
  const a = createMemoryBank({ size: 300, dim: 16, momentum: 0.5, seed: 3 });
  const b = createMemoryBank({ size: 300, dim: 16, momentum: 0.5, seed: 3 });
  const c = createMemoryBank({ size: 300, dim: 16, momentum: 0.5, seed: 4 });
  const rows = rowsOf(a.vectors);
  rows.forEach((r, i) => assert.ok(Math.abs(Math.hypot(...r) - 1) < 1e-6, `row ${i} has unit norm`));
  assert.deepEqual(rowsOf(b.vectors), rows);
  assert.notDeepEqual(rowsOf(c.vectors), rows);
  // Uniform on the sphere: each coordinate has mean 0 and variance 1/dim (300*16 samples).
  const all = rows.flatMap((r) => Array.from(r));
  const mean = all.reduce((s, v) => s + v, 0) / all.length;
  const variance = all.reduce((s, v) => s + v * v, 0) / all.length;
  assert.ok(Math.abs(mean) < 0.01 && Math.abs(variance - 1 / 16) < 0.005, `mean ${mean}, variance ${variance}`);
  assert.equal(a.vectors.trainable, false);
  [a, b, c].forEach((m) => m.dispose());
});

for (const backend of ["cpu", "wasm"]) {
  test(`MemoryBank gather and update match float64 on ${backend}`, async () => {
    await tf.setBackend(backend);
    const beforeCreate = tf.memory().numTensors;
    const bank = createMemoryBank({ size: 10, dim: 4, momentum: 0.5, seed: 1 });
    const start = tf.memory().numTensors;
    assert.equal(start, beforeCreate + 1, "the bank holds one tensor, its variable");
    const v0 = rowsOf(bank.vectors);
    const idx = [7, 2, 7];
    const idxTensor = tf.tensor1d(idx, "int32");
    const picked = bank.gather(idxTensor);
    idxTensor.dispose();
    rowsOf(picked).forEach((r, k) => close(r, v0[idx[k]], `gather row ${k}`));
    picked.dispose();
    const rng = createRng(9);
    const steps: Array<{ indices: number[]; m?: number }> = [{ indices: [3, 0, 9] }, { indices: [9, 4], m: 0.8 }, { indices: [5, 3, 1, 8, 6, 2, 7, 0, 4, 9], m: 0 }];
    const expected = v0.map((r) => Float64Array.from(r));
    for (const { indices, m } of steps) {
      const f = indices.map(() => Float64Array.from({ length: 4 }, () => rng.normal()));
      const features = tf.tensor2d(f.map((r) => Array.from(r)));
      const before = tf.memory().numTensors;
      bank.update(Int32Array.from(indices), features, m);
      assert.equal(tf.memory().numTensors, before, "update keeps the tensor count");
      features.dispose();
      const mom = m ?? 0.5;
      indices.forEach((i, k) => {
        const mixed = expected[i].map((v, j) => mom * v + (1 - mom) * Math.fround(f[k][j]));
        const norm = Math.hypot(...mixed);
        expected[i] = mixed.map((v) => v / norm);
      });
      rowsOf(bank.vectors).forEach((r, i) => close(r, expected[i], `row ${i} after updating [${indices}]`, 2e-6));
    }
    const later = bank.gather([0]);
    later.dispose();
    assert.equal(tf.memory().numTensors, start);
    bank.dispose();
    assert.equal(tf.memory().numTensors, start - 1);
    assert.equal(tf.memory().numTensors, beforeCreate, "dispose leaves nothing of the bank");
    await tf.setBackend("cpu");
  });
}

test("MemoryBank.sampleNegatives draws rows uniformly with the given Rng, redrawing excluded ones", async () => {
  await tf.setBackend("cpu");
  const n = 6;
  const bank = createMemoryBank({ size: n, dim: 3, momentum: 0.5, seed: 2 });
  const v = rowsOf(bank.vectors);
  const before = tf.memory().numTensors;
  const negatives = bank.sampleNegatives(500, createRng(5), [1, 4]);
  assert.equal(tf.memory().numTensors, before + 1);
  assert.deepEqual(negatives.shape, [500, 3]);
  // The same stream, replayed: draw int(n), redraw while excluded.
  const replay = createRng(5);
  const counts = new Array(n).fill(0);
  rowsOf(negatives).forEach((r, k) => {
    let i = replay.int(n);
    while (i === 1 || i === 4) i = replay.int(n);
    counts[i]++;
    close(r, v[i], `negative ${k}`, 1e-12);
  });
  assert.equal(counts[1] + counts[4], 0);
  counts.forEach((c, i) => assert.ok(i === 1 || i === 4 || (c > 90 && c < 160), `row ${i} drawn ${c} times of 500`));
  negatives.dispose();
  const none = bank.sampleNegatives(0, createRng(1));
  assert.deepEqual(none.shape, [0, 3]);
  none.dispose();
  bank.dispose();
});

test("createMemoryBank and MemoryBank reject bad input, naming the argument", async () => {
  await tf.setBackend("cpu");
  assert.throws(() => createMemoryBank({ size: 0, dim: 2, momentum: 0.5 }), /createMemoryBank: size must be a positive integer, got 0/);
  assert.throws(() => createMemoryBank({ size: 4, dim: 2, momentum: 1 }), /createMemoryBank: momentum must be a number in \[0, 1\), got 1/);
  assert.throws(() => createMemoryBank({ size: 4, dim: 2, momentum: 0.5, seed: 1.5 }), /createMemoryBank: seed must be an integer, got 1.5/);
  const bank = createMemoryBank({ size: 4, dim: 2, momentum: 0.5 });
  const start = tf.memory().numTensors;
  const f2 = tf.zeros([2, 2]) as tf.Tensor2D;
  const f3 = tf.zeros([2, 3]) as tf.Tensor2D;
  const floatIdx = tf.tensor1d([0, 1]);
  assert.throws(() => bank.gather([0, 4]), /MemoryBank\.gather: indices\[1\] must be an integer in \[0, 4\), got 4/);
  assert.throws(() => bank.gather([0.5]), /MemoryBank.gather: indices\[0\] must be an integer, got 0.5/);
  assert.throws(() => bank.gather(floatIdx as tf.Tensor1D), /MemoryBank.gather: indices must be an int32 tensor of shape \[k\], got float32 \[2\]/);
  assert.throws(() => bank.update([1, 1], f2), /MemoryBank.update: indices must be distinct, got 1 more than once/);
  assert.throws(() => bank.update([0, 1], f3), /MemoryBank.update: features must have shape \[2, 2\], got \[2, 3\]/);
  assert.throws(() => bank.update([0, 1], f2, 1.5), /MemoryBank.update: momentum must be a number in \[0, 1\), got 1.5/);
  assert.throws(() => bank.sampleNegatives(-1, createRng(0)), /MemoryBank.sampleNegatives: count must be a non-negative integer, got -1/);
  assert.throws(() => bank.sampleNegatives(2, createRng(0), [0, 1, 2, 3]), /MemoryBank.sampleNegatives: exclude must leave at least one of the 4 rows, got all 4 excluded/);
  tf.dispose([f2, f3, floatIdx]);
  assert.equal(tf.memory().numTensors, start, "rejected calls leak nothing");
  bank.dispose();
  assert.throws(() => bank.gather([0]), /MemoryBank.gather: the memory bank was disposed/);
});
