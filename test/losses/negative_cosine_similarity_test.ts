import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { negativeCosineSimilarity } from "../../src/losses/negative_cosine_similarity";
import { createRng } from "../../src/data/random";

function ref(p: number[][], z: number[][]): number {
  let t = 0;
  for (let i = 0; i < p.length; i++) {
    let pz = 0, pp = 0, zz = 0;
    for (let k = 0; k < p[i].length; k++) { pz += p[i][k] * z[i][k]; pp += p[i][k] ** 2; zz += z[i][k] ** 2; }
    t += pz / Math.sqrt(pp * zz);
  }
  return -t / p.length;
}

test("negativeCosineSimilarity: float64 reference, gradient, dz = 0, memory", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(11);
  for (const [b, d] of [[2, 3], [7, 5], [16, 8]]) {
    const p = Array.from({ length: b }, () => Array.from({ length: d }, () => rng.normal()));
    const z = Array.from({ length: b }, () => Array.from({ length: d }, () => rng.normal()));
    const tp = tf.tensor2d(p), tz = tf.tensor2d(z);
    const before = tf.memory().numTensors;
    const loss = negativeCosineSimilarity(tp, tz);
    assert.equal(tf.memory().numTensors, before + 1);
    const r = ref(p, z);
    assert.ok(Math.abs(loss.dataSync()[0] - r) <= 1e-5 * Math.max(1, Math.abs(r)));
    const [gp, gz] = tf.grads((a: tf.Tensor, c: tf.Tensor) => negativeCosineSimilarity(a as tf.Tensor2D, c as tf.Tensor2D))([tp, tz]);
    assert.ok((gz.arraySync() as number[][]).every((row) => row.every((v) => v === 0)), "no gradient through z");
    const g = gp.arraySync() as number[][];
    const h = 1e-6;
    for (let i = 0; i < b; i++) for (let k = 0; k < d; k++) {
      const pl = p.map((row) => row.slice()), mi = p.map((row) => row.slice());
      pl[i][k] += h; mi[i][k] -= h;
      assert.ok(Math.abs(g[i][k] - (ref(pl, z) - ref(mi, z)) / (2 * h)) < 1e-4);
    }
    tf.dispose([tp, tz, loss, gp, gz]);
  }
});

test("negativeCosineSimilarity: -1 for aligned, +1 for opposite, finite for large and zero rows", async () => {
  await tf.setBackend("cpu");
  const p = tf.tensor2d([[1e15, 2e15], [3, -1]]);
  assert.ok(Math.abs(negativeCosineSimilarity(p, tf.tensor2d([[1, 2], [6, -2]])).dataSync()[0] + 1) < 1e-6);
  assert.ok(Math.abs(negativeCosineSimilarity(p, tf.tensor2d([[-1, -2], [-6, 2]])).dataSync()[0] - 1) < 1e-6);
  const zero = negativeCosineSimilarity(tf.zeros([2, 2]), tf.zeros([2, 2])).dataSync()[0];
  assert.ok(zero === 0, `zero rows give cos 0, got ${zero}`);
});

test("negativeCosineSimilarity: lower for matching views than for shuffled ones", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(3);
  const base = Array.from({ length: 12 }, () => Array.from({ length: 6 }, () => rng.normal()));
  const noisy = base.map((row) => row.map((v) => v + 0.1 * rng.normal()));
  const shuffled = base.map((_, i) => noisy[(i + 5) % 12]);
  const matched = negativeCosineSimilarity(tf.tensor2d(base), tf.tensor2d(noisy)).dataSync()[0];
  const other = negativeCosineSimilarity(tf.tensor2d(base), tf.tensor2d(shuffled)).dataSync()[0];
  assert.ok(matched < other - 0.5);
});

test("negativeCosineSimilarity: bad inputs name the argument", async () => {
  await tf.setBackend("cpu");
  assert.throws(() => negativeCosineSimilarity(tf.zeros([3]) as unknown as tf.Tensor2D, tf.zeros([3, 2])), /negativeCosineSimilarity: p/);
  assert.throws(() => negativeCosineSimilarity(tf.zeros([3, 2]), tf.zeros([3, 3])), /negativeCosineSimilarity: z must be a float32 tensor of shape \[3,2\], got a tensor of shape \[3,3\]/);
  assert.throws(() => negativeCosineSimilarity(tf.zeros([3, 2]), tf.zeros([3, 2], "int32") as tf.Tensor2D), /negativeCosineSimilarity: z must be a float32 tensor of shape \[3,2\], got an int32 tensor of shape \[3,2\]/);
});
