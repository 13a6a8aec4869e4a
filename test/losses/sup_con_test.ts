import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { supConLoss } from "../../src/losses/sup_con";
import { createRng } from "../../src/data/random";

function ref(x: number[][], y: number[], t: number): number {
  const z = x.map((r) => { const s = Math.hypot(...r); return r.map((v) => v / s); });
  const dot = (a: number[], b: number[]) => a.reduce((s, v, k) => s + v * b[k], 0);
  let total = 0, anchors = 0;
  for (let i = 0; i < z.length; i++) {
    const pos = z.map((_, j) => j).filter((j) => j !== i && y[j] === y[i]);
    if (pos.length === 0) continue;
    const others = z.map((_, j) => j).filter((j) => j !== i).map((j) => dot(z[i], z[j]) / t);
    const m = Math.max(...others);
    const lse = m + Math.log(others.reduce((s, v) => s + Math.exp(v - m), 0));
    total += pos.reduce((s, p) => s + lse - dot(z[i], z[p]) / t, 0) / pos.length;
    anchors++;
  }
  return anchors === 0 ? 0 : total / anchors;
}

test("supConLoss: float64 reference, gradient, memory", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(41);
  for (const [b, d, t, classes] of [[2, 3, 0.5, 1], [6, 4, 0.1, 3], [12, 5, 1, 4]]) {
    const x = Array.from({ length: b }, () => Array.from({ length: d }, () => rng.normal()));
    const y = Array.from({ length: b }, (_, i) => i % classes);
    const tx = tf.tensor2d(x), ty = tf.tensor1d(y, "int32");
    const before = tf.memory().numTensors;
    const loss = supConLoss(tx, ty, { temperature: t });
    assert.equal(tf.memory().numTensors, before + 1);
    const r = ref(x, y, t);
    assert.ok(Math.abs(loss.dataSync()[0] - r) <= 1e-5 * Math.max(1, r), `${loss.dataSync()[0]} vs ${r}`);
    const g = tf.grad((u: tf.Tensor) => supConLoss(u as tf.Tensor2D, ty, { temperature: t }))(tx).arraySync() as number[][];
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

test("supConLoss: no positives gives 0, anchors without positive skipped, large logits finite, separation lowers it", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(6);
  const x = Array.from({ length: 5 }, () => Array.from({ length: 3 }, () => rng.normal()));
  assert.equal(supConLoss(tf.tensor2d(x), tf.tensor1d([0, 1, 2, 3, 4], "int32")).dataSync()[0], 0);
  const y = [0, 0, 1, 2, 2];
  assert.ok(Math.abs(supConLoss(tf.tensor2d(x), tf.tensor1d(y, "int32"), { temperature: 0.2 }).dataSync()[0] - ref(x, y, 0.2)) < 1e-5);
  assert.ok(Number.isFinite(supConLoss(tf.tensor2d(x), tf.tensor1d(y, "int32"), { temperature: 1e-6 }).dataSync()[0]));
  const labels = Array.from({ length: 16 }, (_, i) => i % 2);
  const sep = labels.map((c) => [c === 0 ? 1 : -1, 0.1 * rng.normal(), 0.1 * rng.normal()]);
  const shuffledLabels = labels.map((_, i) => labels[(i * 5 + 1) % 16] ^ (i % 3 === 0 ? 1 : 0));
  const good = supConLoss(tf.tensor2d(sep), tf.tensor1d(labels, "int32")).dataSync()[0];
  const bad = supConLoss(tf.tensor2d(sep), tf.tensor1d(shuffledLabels, "int32")).dataSync()[0];
  assert.ok(good < bad, `${good} vs ${bad}`);
});

test("supConLoss: bad inputs name the argument", async () => {
  await tf.setBackend("cpu");
  const x = tf.zeros([3, 2]) as tf.Tensor2D;
  assert.throws(() => supConLoss(x, tf.tensor1d([0, 1], "int32")), /supConLoss: labels must be an int32 tensor of shape \[3\], got a tensor of shape \[2\]/);
  assert.throws(() => supConLoss(x, tf.tensor1d([0, 1, 1])), /supConLoss: labels must be an int32 tensor of shape \[3\], got a float32 tensor of shape \[3\]/);
  assert.throws(() => supConLoss(x, tf.tensor1d([0, 1, 1], "int32"), { temperature: -1 }), /options.temperature/);
});
