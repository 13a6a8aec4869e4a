import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { contrastiveLoss } from "../../src/losses/contrastive";
import { createRng } from "../../src/data/random";

function ref(a: number[][], b: number[][], s: number[], margin: number): number {
  let t = 0;
  for (let i = 0; i < a.length; i++) {
    let d2 = 0;
    for (let k = 0; k < a[i].length; k++) d2 += (a[i][k] - b[i][k]) ** 2;
    const d = Math.sqrt(d2);
    t += s[i] * d2 + (1 - s[i]) * Math.max(0, margin - d) ** 2;
  }
  return t / a.length;
}

test("contrastiveLoss matches float64 reference, gradient, memory", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(5);
  for (const [b, d, margin] of [[2, 3, 1], [8, 4, 2], [5, 2, 0.5]]) {
    const a = Array.from({ length: b }, () => Array.from({ length: d }, () => rng.normal() * 0.4));
    const c = Array.from({ length: b }, () => Array.from({ length: d }, () => rng.normal() * 0.4));
    const s = Array.from({ length: b }, (_, i) => i % 2);
    const ta = tf.tensor2d(a), tc = tf.tensor2d(c), ts = tf.tensor1d(s);
    const before = tf.memory().numTensors;
    const loss = contrastiveLoss(ta, tc, ts, { margin });
    assert.equal(tf.memory().numTensors, before + 1);
    const r = ref(a, c, s, margin);
    assert.ok(Math.abs(loss.dataSync()[0] - r) <= 1e-5 * Math.max(1, r));
    const g = tf.grad((x: tf.Tensor) => contrastiveLoss(x as tf.Tensor2D, tc, ts, { margin }))(ta).arraySync() as number[][];
    const h = 1e-6;
    for (let i = 0; i < b; i++) for (let k = 0; k < d; k++) {
      const p = a.map((r) => r.slice()), m = a.map((r) => r.slice());
      p[i][k] += h; m[i][k] -= h;
      assert.ok(Math.abs(g[i][k] - (ref(p, c, s, margin) - ref(m, c, s, margin)) / (2 * h)) < 1e-4);
    }
    tf.dispose([ta, tc, ts, loss]);
  }
});

test("contrastiveLoss margin and coincident points", async () => {
  await tf.setBackend("cpu");
  const x = tf.tensor2d([[0, 0], [1, 1]]);
  // identical dissimilar pairs cost margin^2; gradient stays finite
  assert.ok(Math.abs(contrastiveLoss(x, x, tf.tensor1d([0, 0]), { margin: 2 }).dataSync()[0] - 4) < 1e-5);
  assert.equal(contrastiveLoss(x, x, tf.tensor1d([1, 1])).dataSync()[0], 0);
  const g = tf.grad((t: tf.Tensor) => contrastiveLoss(t as tf.Tensor2D, x, tf.tensor1d([0, 1])))(x);
  assert.ok(g.dataSync().every(Number.isFinite));
  // separated classes cost less than shuffled ones
  const a = tf.tensor2d([[0, 0], [0, 0], [0, 0]]);
  const good = contrastiveLoss(a, tf.tensor2d([[0.1, 0], [3, 0], [0, 0.1]]), tf.tensor1d([1, 0, 1])).dataSync()[0];
  const bad = contrastiveLoss(a, tf.tensor2d([[3, 0], [0.1, 0], [0, 0.1]]), tf.tensor1d([1, 0, 1])).dataSync()[0];
  assert.ok(good < bad);
});

test("contrastiveLoss rejects bad inputs naming the argument", async () => {
  await tf.setBackend("cpu");
  const x = tf.zeros([2, 3]) as tf.Tensor2D;
  assert.throws(() => contrastiveLoss(x, tf.zeros([2, 2]) as tf.Tensor2D, tf.tensor1d([0, 1])), /contrastiveLoss: x2/);
  assert.throws(() => contrastiveLoss(x, x, tf.tensor1d([0, 1, 1])), /contrastiveLoss: same/);
  assert.throws(() => contrastiveLoss(x, x, tf.tensor1d([0, 1], "int32") as tf.Tensor1D), /contrastiveLoss: same/);
  assert.throws(() => contrastiveLoss(x, x, tf.tensor1d([0, 0.5])), /contrastiveLoss: same must hold only 0 or 1/);
  assert.throws(() => contrastiveLoss(x, x, tf.tensor1d([0, 1]), { margin: NaN }), /contrastiveLoss: options.margin/);
});
