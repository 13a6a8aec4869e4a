import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { gram, l2NormalizeRows } from "../../../src/losses/ops/similarity";
import { rowLogSumExp } from "../../../src/losses/ops/log_sum_exp";
import { createRng } from "../../../src/data/random";

test("gram, l2NormalizeRows, rowLogSumExp: values and gradients against float64 loops", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(9);
  const x = Array.from({ length: 4 }, () => Array.from({ length: 3 }, () => rng.normal()));
  const tx = tf.tensor2d(x);
  const g = gram(tx).arraySync();
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
    const r = x[i].reduce((s, v, k) => s + v * x[j][k], 0);
    assert.ok(Math.abs(g[i][j] - r) < 1e-5 * Math.max(1, Math.abs(r)));
  }
  // d/dx sum(W .* x x^T) = (W + W^T) x
  const w = Array.from({ length: 4 }, () => Array.from({ length: 4 }, () => rng.normal()));
  const gg = tf.grad((u: tf.Tensor) => tf.sum(tf.mul(gram(u as tf.Tensor2D), tf.tensor2d(w))))(tx).arraySync() as number[][];
  for (let i = 0; i < 4; i++) for (let k = 0; k < 3; k++) {
    let r = 0; for (let j = 0; j < 4; j++) r += (w[i][j] + w[j][i]) * x[j][k];
    assert.ok(Math.abs(gg[i][k] - r) < 1e-4 * Math.max(1, Math.abs(r)));
  }
  const n = l2NormalizeRows(tf.tensor2d([[3, 4], [0, 0]])).arraySync();
  assert.deepEqual(n.map((r) => r.map((v) => Math.round(v * 1e6) / 1e6)), [[0.6, 0.8], [0, 0]]);
  const big = [[1000, 999, -5], [0, 1, 2]];
  const lse = rowLogSumExp(tf.tensor2d(big)).arraySync();
  big.forEach((r, i) => {
    const m = Math.max(...r);
    const ref = m + Math.log(r.reduce((s, v) => s + Math.exp(v - m), 0));
    assert.ok(Math.abs(lse[i] - ref) < 1e-5 * Math.max(1, Math.abs(ref)));
  });
  const dl = tf.grad((u: tf.Tensor) => tf.sum(rowLogSumExp(u as tf.Tensor2D)))(tf.tensor2d([[0, Math.log(3)]])).arraySync() as number[][];
  assert.ok(Math.abs(dl[0][0] - 0.25) < 1e-6 && Math.abs(dl[0][1] - 0.75) < 1e-6);
  const before = tf.memory().numTensors;
  const out = l2NormalizeRows(tx);
  assert.equal(tf.memory().numTensors, before + 1);
  tf.dispose([tx, out]);
});
