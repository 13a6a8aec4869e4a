import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { infoNCE } from "../../src/losses/info_nce";
import { createRng } from "../../src/data/random";

function ref(q: number[][], k: number[][], neg: number[][], t: number): number {
  const cands = k.concat(neg);
  let total = 0;
  for (let i = 0; i < q.length; i++) {
    const logits = cands.map((c) => c.reduce((s, v, d) => s + v * q[i][d], 0) / t);
    const m = Math.max(...logits);
    const lse = m + Math.log(logits.reduce((s, v) => s + Math.exp(v - m), 0));
    total += lse - logits[i];
  }
  return total / q.length;
}

const rand = (rng: ReturnType<typeof createRng>, n: number, d: number, s = 1) =>
  Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal() * s));

test("infoNCE: float64 reference with and without negatives, gradients, memory", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(31);
  for (const [b, d, m, t] of [[2, 3, 0, 1], [5, 4, 3, 0.5], [12, 6, 7, 0.1]]) {
    const q = rand(rng, b, d, 0.5), k = rand(rng, b, d, 0.5), n = rand(rng, m, d, 0.5);
    const tq = tf.tensor2d(q), tk = tf.tensor2d(k), tn = m > 0 ? tf.tensor2d(n) : undefined;
    const before = tf.memory().numTensors;
    const loss = infoNCE(tq, tk, { temperature: t, negatives: tn });
    assert.equal(tf.memory().numTensors, before + 1);
    const r = ref(q, k, n, t);
    assert.ok(Math.abs(loss.dataSync()[0] - r) <= 1e-5 * Math.max(1, r), `${loss.dataSync()[0]} vs ${r}`);
    const [gq, gk] = tf.grads((a: tf.Tensor, c: tf.Tensor) => infoNCE(a as tf.Tensor2D, c as tf.Tensor2D, { temperature: t, negatives: tn }))([tq, tk]);
    const h = 1e-6;
    for (const [which, g] of [[0, gq.arraySync()], [1, gk.arraySync()]] as const) {
      for (let i = 0; i < b; i++) for (let j = 0; j < d; j++) {
        const src = which === 0 ? q : k;
        const pl = src.map((row) => row.slice()), mi = src.map((row) => row.slice());
        pl[i][j] += h; mi[i][j] -= h;
        const fd = which === 0 ? (ref(pl, k, n, t) - ref(mi, k, n, t)) / (2 * h) : (ref(q, pl, n, t) - ref(q, mi, n, t)) / (2 * h);
        assert.ok(Math.abs((g as number[][])[i][j] - fd) < 1e-3 * Math.max(1, Math.abs(fd)), `${(g as number[][])[i][j]} vs ${fd}`);
      }
    }
    tf.dispose([tq, tk, loss, gq, gk]);
    if (tn) tn.dispose();
  }
});

test("infoNCE: unrelated keys give about log B and never negative; matched keys lower; large logits finite", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(2);
  const b = 32;
  const unit = (x: number[][]) => x.map((r) => { const s = Math.hypot(...r); return r.map((v) => v / s); });
  const q = unit(rand(rng, b, 64)), k = unit(rand(rng, b, 64));
  const unrelated = infoNCE(tf.tensor2d(q), tf.tensor2d(k), { temperature: 1 }).dataSync()[0];
  assert.ok(unrelated > 0 && Math.abs(unrelated - Math.log(b)) < 0.2, `${unrelated} vs ${Math.log(b)}`);
  const matched = infoNCE(tf.tensor2d(q), tf.tensor2d(q), { temperature: 0.1 }).dataSync()[0];
  const shuffled = infoNCE(tf.tensor2d(q), tf.tensor2d(q.map((_, i) => q[(i + 1) % b])), { temperature: 0.1 }).dataSync()[0];
  assert.ok(matched >= 0 && matched < shuffled - 1, `${matched} vs ${shuffled}`);
  // Lower temperature sharpens: matched keys get closer to 0.
  const warm = infoNCE(tf.tensor2d(q), tf.tensor2d(q), { temperature: 1 }).dataSync()[0];
  assert.ok(matched < warm);
  const huge = infoNCE(tf.tensor2d(q), tf.tensor2d(k), { temperature: 1e-6 }).dataSync()[0];
  assert.ok(Number.isFinite(huge) && huge >= 0);
});

test("infoNCE: bad inputs name the argument", async () => {
  await tf.setBackend("cpu");
  const q = tf.zeros([3, 2]) as tf.Tensor2D;
  assert.throws(() => infoNCE(q, tf.zeros([4, 2]) as tf.Tensor2D, { temperature: 1 }), /infoNCE: keys must be a float32 tensor of shape \[3,2\], got a tensor of shape \[4,2\]/);
  assert.throws(() => infoNCE(q, q, { temperature: 0 }), /infoNCE: options.temperature/);
  assert.throws(() => infoNCE(q, q, { temperature: 1, negatives: tf.zeros([5, 3]) as tf.Tensor2D }), /infoNCE: options\.negatives must be a float32 tensor of shape \[n,2\], got a tensor of shape \[5,3\]/);
  assert.throws(() => infoNCE(tf.zeros([3]) as unknown as tf.Tensor2D, q, { temperature: 1 }), /infoNCE: query/);
});
