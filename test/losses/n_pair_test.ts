import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { nPairLoss } from "../../src/losses/n_pair";
import { createRng } from "../../src/data/random";

function ref(a: number[][], p: number[][]): number {
  const dot = (x: number[], y: number[]) => x.reduce((s, v, k) => s + v * y[k], 0);
  let t = 0;
  for (let i = 0; i < a.length; i++) {
    let s = 0;
    for (let j = 0; j < a.length; j++) if (j !== i) s += Math.exp(dot(a[i], p[j]) - dot(a[i], p[i]));
    t += Math.log(1 + s);
  }
  return t / a.length;
}

test("nPairLoss matches float64 reference, gradient, memory", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(9);
  for (const [b, d] of [[2, 3], [6, 4], [10, 8]]) {
    const a = Array.from({ length: b }, () => Array.from({ length: d }, () => rng.normal() * 0.5));
    const p = Array.from({ length: b }, () => Array.from({ length: d }, () => rng.normal() * 0.5));
    const ta = tf.tensor2d(a), tp = tf.tensor2d(p);
    const before = tf.memory().numTensors;
    const loss = nPairLoss(ta, tp);
    assert.equal(tf.memory().numTensors, before + 1);
    const r = ref(a, p);
    assert.ok(Math.abs(loss.dataSync()[0] - r) <= 1e-5 * Math.max(1, r));
    const [ga, gp] = tf.grads((x: tf.Tensor, y: tf.Tensor) => nPairLoss(x as tf.Tensor2D, y as tf.Tensor2D))([ta, tp]);
    const va = ga.arraySync() as number[][], vp = gp.arraySync() as number[][];
    const h = 1e-6;
    for (let i = 0; i < b; i++) for (let k = 0; k < d; k++) {
      const u = a.map((r) => r.slice()), v = a.map((r) => r.slice());
      u[i][k] += h; v[i][k] -= h;
      assert.ok(Math.abs(va[i][k] - (ref(u, p) - ref(v, p)) / (2 * h)) < 1e-4);
      const u2 = p.map((r) => r.slice()), v2 = p.map((r) => r.slice());
      u2[i][k] += h; v2[i][k] -= h;
      assert.ok(Math.abs(vp[i][k] - (ref(a, u2) - ref(a, v2)) / (2 * h)) < 1e-4);
    }
    tf.dispose([ta, tp, loss, ga, gp]);
  }
});

test("nPairLoss is finite for large logits and lower for matched pairs", async () => {
  await tf.setBackend("cpu");
  const a = tf.tensor2d([[100, 0], [0, 100]]);
  const big = nPairLoss(a, tf.tensor2d([[0, 100], [100, 0]])).dataSync()[0];
  assert.ok(Number.isFinite(big) && Math.abs(big - 1e4) < 1);
  assert.ok(nPairLoss(a, a).dataSync()[0] < 1e-6);
});

test("nPairLoss rejects bad inputs naming the argument", async () => {
  await tf.setBackend("cpu");
  assert.throws(() => nPairLoss(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([3, 3]) as tf.Tensor2D), /nPairLoss: positives/);
  assert.throws(() => nPairLoss(tf.zeros([1, 3]) as tf.Tensor2D, tf.zeros([1, 3]) as tf.Tensor2D), /nPairLoss: anchors/);
});
