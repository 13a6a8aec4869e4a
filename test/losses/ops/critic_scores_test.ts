import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { checkCriticScores, offDiagonalLogMeanExp, positiveScores } from "../../../src/losses/ops/critic_scores";
import { createRng } from "../../../src/data/random";
import { randomScores } from "../mi_bound_reference";
import { onWasm } from "../../methods/vision/helpers";

test("positiveScores is the diagonal", async () => {
  await tf.setBackend("cpu");
  const s = tf.tensor2d([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
  const d = positiveScores(s);
  assert.deepEqual(Array.from(d.dataSync()), [1, 5, 9]);
  tf.dispose([s, d]);
});

test("offDiagonalLogMeanExp matches float64 on cpu and wasm, ignores the diagonal, and is stable for large scores", async () => {
  const rng = createRng(5);
  const inputs = [randomScores(rng, 2), randomScores(rng, 7, 2, 50), randomScores(rng, 20, 30)];
  const want = inputs.map((s) => {
    const off = s.flatMap((row, i) => row.filter((_, j) => j !== i));
    const m = Math.max(...off);
    return m + Math.log(off.reduce((t, v) => t + Math.exp(v - m), 0) / off.length);
  });
  const run = async (backend: string) => {
    inputs.forEach((s, n) => {
      const t = tf.tensor2d(s);
      const got = offDiagonalLogMeanExp(t);
      const value = got.dataSync()[0];
      assert.ok(Number.isFinite(value) && Math.abs(value - want[n]) <= 1e-5 * Math.max(1, Math.abs(want[n])), `${backend}: ${value} vs ${want[n]}`);
      tf.dispose([t, got]);
    });
  };
  await tf.setBackend("cpu");
  await run("cpu");
  await onWasm(() => run("wasm"));
  // A huge diagonal changes nothing, and its gradient is exactly zero there.
  const s = tf.tensor2d([[1e4, 0], [0, 1e4]]);
  const g = tf.grad((x: tf.Tensor) => offDiagonalLogMeanExp(x as tf.Tensor2D))(s);
  assert.ok(Math.abs(offDiagonalLogMeanExp(s).dataSync()[0]) < 1e-6);
  assert.deepEqual(Array.from(g.dataSync()), [0, 0.5, 0.5, 0]);
  tf.dispose([s, g]);
});

test("critic-score helpers leave no tensors behind and checkCriticScores names what is wrong", async () => {
  await tf.setBackend("cpu");
  const s = tf.randomNormal([6, 6], 0, 1, "float32", 3) as tf.Tensor2D;
  const before = tf.memory().numTensors;
  tf.dispose([positiveScores(s), offDiagonalLogMeanExp(s)]);
  assert.equal(tf.memory().numTensors, before);
  assert.doesNotThrow(() => checkCriticScores("f", s));
  assert.throws(() => checkCriticScores("f", tf.zeros([2, 3])), /^Error: f: scores must be a square float32 tensor \[K,K\] with K >= 2, got a float32 tensor of shape \[2,3\]$/);
  assert.throws(() => checkCriticScores("f", [[1]]), /f: scores must be .* got \[\[1\]\]/);
  tf.disposeVariables();
  s.dispose();
});
