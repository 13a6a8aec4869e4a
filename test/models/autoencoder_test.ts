import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createAutoencoder } from "../../src/models/autoencoder";

/** float64 dense layer y = x W + b. */
function dense(x: number[], w: number[][], b: number[]): number[] {
  return b.map((bj, j) => bj + x.reduce((s, xi, i) => s + xi * w[i][j], 0));
}
const relu = (v: number[]) => v.map((z) => Math.max(0, z));

test("encode / decodeLogits / reconstruct match a float64 forward pass, without leaks", async () => {
  await tf.setBackend("cpu");
  const ae = createAutoencoder({ inputDim: 6, hiddenUnits: 5, codeDim: 3, seed: 2 });
  ae.biases.forEach((b, l) => b.assign(tf.linspace(-0.3 + 0.1 * l, 0.4, b.shape[0])));
  const w = ae.weights.map((v) => v.arraySync() as number[][]);
  const b = ae.biases.map((v) => v.arraySync() as number[]);
  const rows = [[0, 0.5, 1, 0.2, 0.9, 0.1], [1, 0, 0.3, 0.7, 0, 0.4]];
  const x = tf.tensor2d(rows);
  const before = tf.memory().numTensors;
  const code = ae.encode(x);
  const rec = ae.reconstruct(x);
  assert.equal(tf.memory().numTensors, before + 2);
  const codeV = code.arraySync();
  const recV = rec.arraySync();
  rows.forEach((row, n) => {
    const c = dense(relu(dense(row, w[0], b[0])), w[1], b[1]);
    const logits = dense(relu(dense(c, w[2], b[2])), w[3], b[3]);
    c.forEach((v, j) => assert.ok(Math.abs(codeV[n][j] - v) < 1e-5, `code ${codeV[n][j]} vs ${v}`));
    logits.forEach((l, i) => assert.ok(Math.abs(recV[n][i] - 1 / (1 + Math.exp(-l))) < 1e-6));
  });
  assert.deepEqual(ae.weights.map((v) => v.shape), [[6, 5], [5, 3], [3, 5], [5, 6]]);
  // Same seed, same weights; another seed, other weights.
  const again = createAutoencoder({ inputDim: 6, hiddenUnits: 5, codeDim: 3, seed: 2 });
  const other = createAutoencoder({ inputDim: 6, hiddenUnits: 5, codeDim: 3, seed: 3 });
  assert.deepEqual(Array.from(again.weights[0].dataSync()), Array.from(ae.weights[0].dataSync()));
  assert.notDeepEqual(Array.from(other.weights[0].dataSync()), Array.from(ae.weights[0].dataSync()));
  tf.dispose([x, code, rec]);
  [ae, again, other].forEach((m) => m.dispose());
});

test("bad input is rejected, naming the function and the argument", async () => {
  await tf.setBackend("cpu");
  assert.throws(() => createAutoencoder({ codeDim: 0 }), /createAutoencoder: codeDim must be a positive integer, got 0/);
  assert.throws(() => createAutoencoder({ seed: 0.5 }), /createAutoencoder: seed must be an integer, got 0.5/);
  const ae = createAutoencoder({ inputDim: 4, hiddenUnits: 3, codeDim: 2 });
  const wrong = tf.zeros([2, 5]) as tf.Tensor2D;
  assert.throws(() => ae.encode(wrong), /Autoencoder\.encode: x must be a float32 tensor of shape \[n,4\], got a tensor of shape \[2,5\]/);
  assert.throws(() => ae.decodeLogits(wrong), /Autoencoder\.decodeLogits: code must be a float32 tensor of shape \[n,2\], got a tensor of shape \[2,5\]/);
  wrong.dispose();
  ae.dispose();
});
