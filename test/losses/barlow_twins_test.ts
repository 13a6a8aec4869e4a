import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { barlowTwinsLoss } from "../../src/losses/barlow_twins";
import { createRng } from "../../src/data/random";

function standardise(z: number[][]): number[][] {
  const b = z.length, d = z[0].length;
  const out = z.map((row) => row.slice());
  for (let k = 0; k < d; k++) {
    let m = 0; for (let i = 0; i < b; i++) m += z[i][k]; m /= b;
    let v = 0; for (let i = 0; i < b; i++) v += (z[i][k] - m) ** 2; v /= b;
    for (let i = 0; i < b; i++) out[i][k] = (z[i][k] - m) / Math.sqrt(v);
  }
  return out;
}

function ref(z1: number[][], z2: number[][], lambda: number): number {
  const a = standardise(z1), c = standardise(z2), b = z1.length, d = z1[0].length;
  let loss = 0;
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
    let cij = 0; for (let n = 0; n < b; n++) cij += a[n][i] * c[n][j]; cij /= b;
    loss += i === j ? (1 - cij) ** 2 : lambda * cij ** 2;
  }
  return loss;
}

test("barlowTwinsLoss: float64 reference, gradient, memory", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(21);
  for (const [b, d, lambda] of [[2, 3, 5e-3], [6, 4, 0.1], [16, 8, 1]]) {
    const z1 = Array.from({ length: b }, () => Array.from({ length: d }, () => rng.normal()));
    const z2 = Array.from({ length: b }, () => Array.from({ length: d }, () => rng.normal() * 2 + 1));
    const t1 = tf.tensor2d(z1), t2 = tf.tensor2d(z2);
    const before = tf.memory().numTensors;
    const loss = barlowTwinsLoss(t1, t2, { lambda });
    assert.equal(tf.memory().numTensors, before + 1);
    const r = ref(z1, z2, lambda);
    assert.ok(Math.abs(loss.dataSync()[0] - r) <= 1e-5 * Math.max(1, r), `${loss.dataSync()[0]} vs ${r}`);
    if (b > 2) {
      const g = tf.grad((x: tf.Tensor) => barlowTwinsLoss(x as tf.Tensor2D, t2, { lambda }))(t1);
      const ga = g.arraySync() as number[][];
      const h = 1e-6;
      for (let i = 0; i < b; i++) for (let k = 0; k < d; k++) {
        const pl = z1.map((row) => row.slice()), mi = z1.map((row) => row.slice());
        pl[i][k] += h; mi[i][k] -= h;
        const fd = (ref(pl, z2, lambda) - ref(mi, z2, lambda)) / (2 * h);
        assert.ok(Math.abs(ga[i][k] - fd) < 1e-3 * Math.max(1, Math.abs(fd)), `${ga[i][k]} vs ${fd}`);
      }
      g.dispose();
    }
    tf.dispose([t1, t2, loss]);
  }
});

test("barlowTwinsLoss: default lambda 5e-3, identical views give only the lambda term, lambda scales it", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(4);
  const z = Array.from({ length: 10 }, () => Array.from({ length: 4 }, () => rng.normal()));
  const t = tf.tensor2d(z);
  assert.ok(Math.abs(barlowTwinsLoss(t, t).dataSync()[0] - ref(z, z, 5e-3)) < 1e-5);
  const off = ref(z, z, 1);
  assert.ok(Math.abs(barlowTwinsLoss(t, t, { lambda: 0 }).dataSync()[0]) < 1e-5);
  assert.ok(Math.abs(barlowTwinsLoss(t, t, { lambda: 1 }).dataSync()[0] - off) < 1e-4 * Math.max(1, off));
  // Huge values stay finite (standardisation removes the scale).
  assert.ok(Number.isFinite(barlowTwinsLoss(tf.mul(t, 1e15) as tf.Tensor2D, t).dataSync()[0]));
});

test("barlowTwinsLoss: lower for matching views than for shuffled ones", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(8);
  const base = Array.from({ length: 32 }, () => Array.from({ length: 4 }, () => rng.normal()));
  const noisy = base.map((row) => row.map((v) => v + 0.1 * rng.normal()));
  const shuffled = base.map((_, i) => noisy[(i * 7 + 3) % 32]);
  const matched = barlowTwinsLoss(tf.tensor2d(base), tf.tensor2d(noisy)).dataSync()[0];
  const other = barlowTwinsLoss(tf.tensor2d(base), tf.tensor2d(shuffled)).dataSync()[0];
  assert.ok(matched < other - 1, `${matched} vs ${other}`);
});

test("barlowTwinsLoss: bad inputs name the argument", async () => {
  await tf.setBackend("cpu");
  assert.throws(() => barlowTwinsLoss(tf.zeros([4, 2]), tf.zeros([4, 3])), /barlowTwinsLoss: z2 must be a float32 tensor of shape \[4,2\], got a tensor of shape \[4,3\]/);
  assert.throws(() => barlowTwinsLoss(tf.zeros([1, 2]), tf.zeros([1, 2])), /barlowTwinsLoss: z1 must have at least 2 rows/);
  assert.throws(() => barlowTwinsLoss(tf.zeros([4]) as unknown as tf.Tensor2D, tf.zeros([4, 2])), /barlowTwinsLoss: z1/);
  assert.throws(() => barlowTwinsLoss(tf.zeros([4, 2]), tf.zeros([4, 2]), { lambda: -1 }), /options.lambda/);
});
