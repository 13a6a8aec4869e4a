import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { tripletLoss } from "../../src/losses/triplet";
import { createRng } from "../../src/data/random";

function ref(a: number[][], p: number[][], n: number[][], margin: number): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    let dp = 0, dn = 0;
    for (let k = 0; k < a[i].length; k++) { dp += (a[i][k] - p[i][k]) ** 2; dn += (a[i][k] - n[i][k]) ** 2; }
    s += Math.max(0, dp - dn + margin);
  }
  return s / a.length;
}
const rand = (rng: ReturnType<typeof createRng>, b: number, d: number) =>
  Array.from({ length: b }, () => Array.from({ length: d }, () => rng.normal() * 0.5));

test("tripletLoss matches float64 reference and leaks nothing", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(3);
  for (const [b, d, margin] of [[2, 3, 0.2], [6, 5, 1], [9, 2, 0]]) {
    const a = rand(rng, b, d), p = rand(rng, b, d), n = rand(rng, b, d);
    const t = [tf.tensor2d(a), tf.tensor2d(p), tf.tensor2d(n)] as tf.Tensor2D[];
    const before = tf.memory().numTensors;
    const loss = tripletLoss(t[0], t[1], t[2], { margin });
    assert.equal(tf.memory().numTensors, before + 1);
    const r = ref(a, p, n, margin);
    assert.ok(Math.abs(loss.dataSync()[0] - r) <= 1e-5 * Math.max(1, r));
    // gradient wrt anchor vs float64 finite differences
    const g = tf.grad((x: tf.Tensor) => tripletLoss(x as tf.Tensor2D, t[1], t[2], { margin }))(t[0]).arraySync() as number[][];
    const h = 1e-6;
    for (let i = 0; i < b; i++) for (let k = 0; k < d; k++) {
      const ap = a.map((r) => r.slice()), am = a.map((r) => r.slice());
      ap[i][k] += h; am[i][k] -= h;
      const fd = (ref(ap, p, n, margin) - ref(am, p, n, margin)) / (2 * h);
      assert.ok(Math.abs(g[i][k] - fd) < 1e-4, `grad ${g[i][k]} vs ${fd}`);
    }
    tf.dispose([...t, loss]);
  }
});

test("tripletLoss margin: zero when negatives are far, equals margin when a=p=n", async () => {
  await tf.setBackend("cpu");
  const a = tf.tensor2d([[0, 0], [1, 1]]);
  const far = tf.tensor2d([[10, 0], [1, 11]]);
  assert.equal(tripletLoss(a, a, far, { margin: 0.5 }).dataSync()[0], 0);
  assert.ok(Math.abs(tripletLoss(a, a, a, { margin: 0.7 }).dataSync()[0] - 0.7) < 1e-7);
  assert.ok(Math.abs(tripletLoss(a, a, a).dataSync()[0] - 0.2) < 1e-7);
});

test("tripletLoss rejects bad shapes and options naming the argument", async () => {
  await tf.setBackend("cpu");
  const a = tf.zeros([2, 3]) as tf.Tensor2D;
  assert.throws(() => tripletLoss(a, tf.zeros([2, 4]) as tf.Tensor2D, a), /tripletLoss: positive/);
  assert.throws(() => tripletLoss(a, a, tf.zeros([3, 3]) as tf.Tensor2D), /tripletLoss: negative/);
  assert.throws(() => tripletLoss(tf.zeros([3]) as unknown as tf.Tensor2D, a, a), /tripletLoss: anchor/);
  assert.throws(() => tripletLoss(a, a, a, { margin: -1 }), /tripletLoss: options.margin/);
});
