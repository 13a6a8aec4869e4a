import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { softTargetCrossEntropy } from "../../src/losses/cross_entropy";
import { createRng } from "../../src/data/random";

function ref(s: number[][], t: number[][], tau: number): number {
  let total = 0;
  for (let i = 0; i < s.length; i++) {
    const x = s[i].map((v) => v / tau);
    const m = Math.max(...x);
    const lse = m + Math.log(x.reduce((a, v) => a + Math.exp(v - m), 0));
    for (let k = 0; k < x.length; k++) total -= t[i][k] * (x[k] - lse);
  }
  return total / s.length;
}

function distributions(rng: ReturnType<typeof createRng>, b: number, k: number): number[][] {
  return Array.from({ length: b }, () => {
    const row = Array.from({ length: k }, () => rng.next());
    const sum = row.reduce((a, v) => a + v, 0);
    return row.map((v) => v / sum);
  });
}

test("softTargetCrossEntropy: float64 reference, finite-difference gradients, memory", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(5);
  for (const [b, k, tau] of [[1, 2, 1], [6, 4, 0.1], [9, 7, 0.5]] as const) {
    const s = Array.from({ length: b }, () => Array.from({ length: k }, () => 2 * rng.normal()));
    const t = distributions(rng, b, k);
    const ts = tf.tensor2d(s), tt = tf.tensor2d(t);
    const before = tf.memory().numTensors;
    const loss = softTargetCrossEntropy(ts, tt, { temperature: tau });
    assert.equal(tf.memory().numTensors, before + 1);
    const r = ref(s, t, tau);
    assert.ok(Math.abs(loss.dataSync()[0] - r) <= 1e-5 * Math.max(1, Math.abs(r)), `${loss.dataSync()[0]} vs ${r}`);
    const [gs, gt] = tf.grads((a: tf.Tensor, c: tf.Tensor) => softTargetCrossEntropy(a as tf.Tensor2D, c as tf.Tensor2D, { temperature: tau }))([ts, tt]);
    const g = gs.arraySync() as number[][], h = gt.arraySync() as number[][];
    const eps = 1e-6;
    for (let i = 0; i < b; i++) for (let j = 0; j < k; j++) {
      const sp = s.map((row) => row.slice()), sm = s.map((row) => row.slice());
      sp[i][j] += eps; sm[i][j] -= eps;
      assert.ok(Math.abs(g[i][j] - (ref(sp, t, tau) - ref(sm, t, tau)) / (2 * eps)) < 1e-3, `dlogits[${i}][${j}]`);
      const tp = t.map((row) => row.slice()), tm = t.map((row) => row.slice());
      tp[i][j] += eps; tm[i][j] -= eps;
      assert.ok(Math.abs(h[i][j] - (ref(s, tp, tau) - ref(s, tm, tau)) / (2 * eps)) < 1e-3, `dtargets[${i}][${j}]`);
    }
    tf.dispose([ts, tt, loss, gs, gt]);
  }
});

test("softTargetCrossEntropy: one-hot targets give the negative log-likelihood of the label", async () => {
  await tf.setBackend("cpu");
  const logits = tf.tensor2d([[1, 2, 3], [0, 0, 0]]);
  const targets = tf.tensor2d([[0, 0, 1], [1, 0, 0]]);
  const loss = softTargetCrossEntropy(logits, targets).dataSync()[0];
  const nll0 = -(3 - Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)));
  assert.ok(Math.abs(loss - (nll0 + Math.log(3)) / 2) < 1e-6);
  tf.dispose([logits, targets]);
});

test("softTargetCrossEntropy: rejects mismatched shapes and bad temperature", async () => {
  await tf.setBackend("cpu");
  const a = tf.zeros([4, 3]) as tf.Tensor2D, b = tf.zeros([4, 2]) as tf.Tensor2D;
  assert.throws(() => softTargetCrossEntropy(a, b), /softTargetCrossEntropy: targets must be a float32 tensor of shape \[4,3\], got a tensor of shape \[4,2\]/);
  assert.throws(() => softTargetCrossEntropy(a, a, { temperature: 0 }), /softTargetCrossEntropy: options.temperature/);
  assert.throws(() => softTargetCrossEntropy(tf.zeros([4]) as unknown as tf.Tensor2D, a), /softTargetCrossEntropy: logits must be a float32 tensor of shape \[n,d\], got a tensor of shape \[4\]/);
  tf.dispose([a, b]);
});
