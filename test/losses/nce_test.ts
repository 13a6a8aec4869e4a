import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { nceLoss } from "../../src/losses/nce";

const sig = (x: number) => 1 / (1 + Math.exp(-x));
function ref(d: number[], n: number[]): number {
  return -(d.reduce((s, x) => s + Math.log(sig(x)), 0) / d.length + n.reduce((s, x) => s + Math.log(1 - sig(x)), 0) / n.length);
}

test("nceLoss matches float64 reference, gradient and memory", async () => {
  await tf.setBackend("cpu");
  const d = [0.3, -1.2, 2.5, 0.1], n = [-0.7, 1.1, -2, 0.4, 3];
  const td = tf.tensor1d(d), tn = tf.tensor1d(n);
  const before = tf.memory().numTensors;
  const loss = nceLoss(td, tn);
  assert.equal(tf.memory().numTensors, before + 1);
  const r = ref(d, n);
  assert.ok(Math.abs(loss.dataSync()[0] - r) < 1e-5 * r);
  const [gd, gn] = tf.grads((a: tf.Tensor, b: tf.Tensor) => nceLoss(a as tf.Tensor1D, b as tf.Tensor1D))([td, tn]);
  const h = 1e-6, vd = gd.dataSync(), vn = gn.dataSync();
  d.forEach((_, i) => {
    const p = d.slice(), m = d.slice(); p[i] += h; m[i] -= h;
    assert.ok(Math.abs(vd[i] - (ref(p, n) - ref(m, n)) / (2 * h)) < 1e-5);
  });
  n.forEach((_, i) => {
    const p = n.slice(), m = n.slice(); p[i] += h; m[i] -= h;
    assert.ok(Math.abs(vn[i] - (ref(d, p) - ref(d, m)) / (2 * h)) < 1e-5);
  });
  tf.dispose([td, tn, loss, gd, gn]);
});

test("nceLoss is finite for large logits and lower when data/noise separate", async () => {
  await tf.setBackend("cpu");
  const big = nceLoss(tf.tensor1d([-1e4, 1e4]), tf.tensor1d([1e4]));
  assert.ok(Math.abs(big.dataSync()[0] - (1e4 / 2 + 1e4)) < 1);
  const g = tf.grad((x: tf.Tensor) => nceLoss(x as tf.Tensor1D, tf.tensor1d([1e4])))(tf.tensor1d([-1e4, 1e4]));
  assert.ok(g.dataSync().every(Number.isFinite));
  const good = nceLoss(tf.tensor1d([3, 4]), tf.tensor1d([-3, -4])).dataSync()[0];
  const bad = nceLoss(tf.tensor1d([-3, 4]), tf.tensor1d([3, -4])).dataSync()[0];
  assert.ok(good < bad);
});

test("nceLoss rejects bad inputs naming the argument", async () => {
  await tf.setBackend("cpu");
  assert.throws(() => nceLoss(tf.zeros([2, 1]) as unknown as tf.Tensor1D, tf.zeros([2]) as tf.Tensor1D), /nceLoss: dataLogits/);
  assert.throws(() => nceLoss(tf.zeros([2]) as tf.Tensor1D, tf.zeros([2], "int32") as tf.Tensor1D), /nceLoss: noiseLogits/);
  assert.throws(() => nceLoss(tf.zeros([0]) as tf.Tensor1D, tf.zeros([2]) as tf.Tensor1D), /nceLoss: dataLogits/);
});
