import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { softNearestNeighborLoss } from "../../src/losses/soft_nearest_neighbor";
import { createRng } from "../../src/data/random";

function ref(x: number[][], y: number[], t: number): number {
  const d2 = (a: number[], b: number[]) => a.reduce((s, v, k) => s + (v - b[k]) ** 2, 0);
  let total = 0, anchors = 0;
  for (let i = 0; i < x.length; i++) {
    let num = 0, den = 0, has = false;
    for (let j = 0; j < x.length; j++) {
      if (j === i) continue;
      const e = Math.exp(-d2(x[i], x[j]) / t);
      den += e;
      if (y[j] === y[i]) { num += e; has = true; }
    }
    if (!has) continue;
    total += -Math.log(num / den);
    anchors++;
  }
  return anchors === 0 ? 0 : total / anchors;
}

test("softNearestNeighborLoss: float64 reference, gradient, memory", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(51);
  for (const [b, d, t, classes] of [[2, 3, 1, 1], [6, 4, 2, 3], [12, 5, 0.5, 4]]) {
    const x = Array.from({ length: b }, () => Array.from({ length: d }, () => rng.normal() * 0.5));
    const y = Array.from({ length: b }, (_, i) => i % classes);
    const tx = tf.tensor2d(x), ty = tf.tensor1d(y, "int32");
    const before = tf.memory().numTensors;
    const loss = softNearestNeighborLoss(tx, ty, { temperature: t });
    assert.equal(tf.memory().numTensors, before + 1);
    const r = ref(x, y, t);
    assert.ok(Math.abs(loss.dataSync()[0] - r) <= 1e-5 * Math.max(1, r), `${loss.dataSync()[0]} vs ${r}`);
    const g = tf.grad((u: tf.Tensor) => softNearestNeighborLoss(u as tf.Tensor2D, ty, { temperature: t }))(tx).arraySync() as number[][];
    const h = 1e-6;
    for (let i = 0; i < b; i++) for (let k = 0; k < d; k++) {
      const pl = x.map((row) => row.slice()), mi = x.map((row) => row.slice());
      pl[i][k] += h; mi[i][k] -= h;
      const fd = (ref(pl, y, t) - ref(mi, y, t)) / (2 * h);
      assert.ok(Math.abs(g[i][k] - fd) < 1e-3 * Math.max(1, Math.abs(fd)), `${g[i][k]} vs ${fd}`);
    }
    tf.dispose([tx, ty, loss]);
  }
});

test("softNearestNeighborLoss: no partners gives 0, skipped anchors, large distances finite, separation lowers it", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(7);
  const x = Array.from({ length: 5 }, () => Array.from({ length: 3 }, () => rng.normal()));
  assert.equal(softNearestNeighborLoss(tf.tensor2d(x), tf.tensor1d([0, 1, 2, 3, 4], "int32")).dataSync()[0], 0);
  const y = [0, 0, 1, 2, 2];
  assert.ok(Math.abs(softNearestNeighborLoss(tf.tensor2d(x), tf.tensor1d(y, "int32"), { temperature: 3 }).dataSync()[0] - ref(x, y, 3)) < 1e-5);
  assert.ok(Number.isFinite(softNearestNeighborLoss(tf.tensor2d(x), tf.tensor1d(y, "int32"), { temperature: 1e-6 }).dataSync()[0]));
  const labels = Array.from({ length: 16 }, (_, i) => i % 2);
  const sep = labels.map((c) => [c === 0 ? 2 : -2, 0.3 * rng.normal()]);
  const shuffledLabels = labels.map((_, i) => labels[(i * 5 + 1) % 16] ^ (i % 3 === 0 ? 1 : 0));
  const good = softNearestNeighborLoss(tf.tensor2d(sep), tf.tensor1d(labels, "int32")).dataSync()[0];
  const bad = softNearestNeighborLoss(tf.tensor2d(sep), tf.tensor1d(shuffledLabels, "int32")).dataSync()[0];
  assert.ok(good < bad, `${good} vs ${bad}`);
});

test("softNearestNeighborLoss: bad inputs name the argument", async () => {
  await tf.setBackend("cpu");
  const x = tf.zeros([3, 2]) as tf.Tensor2D;
  assert.throws(() => softNearestNeighborLoss(x, tf.tensor1d([0, 1], "int32")), /softNearestNeighborLoss: labels must be an int32 tensor of shape \[3\], got a tensor of shape \[2\]/);
  assert.throws(() => softNearestNeighborLoss(x, tf.tensor1d([0, 1, 1], "int32"), { temperature: 0 }), /options.temperature/);
});
