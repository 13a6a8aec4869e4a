import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { pairwiseDistances, pairwiseSquaredDistances } from "../../../src/losses/ops/distances";
import { createRng } from "../../../src/data/random";

function rand(rng: ReturnType<typeof createRng>, n: number, d: number): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
}

test("pairwise distances match float64 loops", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(1);
  for (const [n, m, d] of [[2, 3, 4], [5, 5, 8], [7, 1, 3]]) {
    const a = rand(rng, n, d), b = rand(rng, m, d);
    const before = tf.memory().numTensors;
    const ta = tf.tensor2d(a), tb = tf.tensor2d(b);
    const d2 = pairwiseSquaredDistances(ta, tb), d1 = pairwiseDistances(ta, tb);
    const v2 = d2.arraySync(), v1 = d1.arraySync();
    tf.dispose([d2, d1, ta, tb]);
    assert.equal(tf.memory().numTensors, before);
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += (a[i][k] - b[j][k]) ** 2;
      assert.ok(Math.abs(v2[i][j] - s) <= 1e-5 * Math.max(1, s));
      assert.ok(Math.abs(v1[i][j] - Math.sqrt(s)) <= 1e-5 * Math.max(1, Math.sqrt(s)));
    }
  }
});

test("self distance is >= 0 and its gradient finite", async () => {
  await tf.setBackend("cpu");
  const x = tf.tensor2d([[1e3, -2e3, 3], [1e3, -2e3, 3]]);
  const d2 = pairwiseSquaredDistances(x, x);
  assert.ok(d2.dataSync().every((v) => v >= 0));
  const g = tf.grad((t: tf.Tensor) => tf.sum(pairwiseDistances(t as tf.Tensor2D, t as tf.Tensor2D)))(x);
  assert.ok(g.dataSync().every((v) => Number.isFinite(v)));
  tf.dispose([x, d2, g]);
});
