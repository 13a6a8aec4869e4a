import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { pca, pcaTransform } from "../../src/classical/pca";

test("pca finds the hand-built principal axes and variances", async () => {
  await tf.setBackend("cpu");
  // Points on axes rotated by 30 degrees with std 5 and 1, plus an offset.
  const rng = createRng(4);
  const c = Math.cos(Math.PI / 6), s = Math.sin(Math.PI / 6);
  const n = 2000;
  const x: number[][] = [];
  for (let i = 0; i < n; i++) {
    const a = 5 * rng.normal(), b = rng.normal();
    x.push([3 + a * c - b * s, -2 + a * s + b * c]);
  }
  const fit = pca(x, 2);
  assert.ok(Math.abs(Math.abs(fit.components[0][0]) - c) < 0.01 && Math.abs(Math.abs(fit.components[0][1]) - s) < 0.01);
  assert.ok(Math.abs(fit.explainedVariance[0] / 25 - 1) < 0.1, `${fit.explainedVariance[0]}`);
  assert.ok(Math.abs(fit.explainedVariance[1] - 1) < 0.1, `${fit.explainedVariance[1]}`);
  assert.ok(Math.abs(fit.explainedVarianceRatio[0] + fit.explainedVarianceRatio[1] - 1) < 1e-12);
  // Exact checks against a float64 reference: projection variance equals the eigenvalue; components orthonormal.
  for (let k = 0; k < 2; k++) {
    const p = fit.projections.map((r) => r[k]);
    const mean = p.reduce((a, b) => a + b, 0) / n;
    const v = p.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
    assert.ok(Math.abs(mean) < 1e-9);
    assert.ok(Math.abs(v - fit.explainedVariance[k]) < 1e-9 * v);
  }
  const dot = fit.components[0][0] * fit.components[1][0] + fit.components[0][1] * fit.components[1][1];
  assert.ok(Math.abs(dot) < 1e-12);
  assert.ok(Math.abs(fit.mean[0] - 3) < 0.3 && Math.abs(fit.mean[1] + 2) < 0.3);
});

test("pca covariance eigenvalues match a float64 power-iteration reference; pcaTransform matches projections", () => {
  const rng = createRng(5);
  const n = 50, d = 6;
  const x = Array.from({ length: n }, () => Array.from({ length: d }, (_, j) => (j + 1) * rng.normal()));
  const fit = pca(x, 3);
  // Reference: the covariance matrix, its top eigenvalue by power iteration.
  const mean = Array.from({ length: d }, (_, j) => x.reduce((a, r) => a + r[j], 0) / n);
  const cov = Array.from({ length: d }, (_, a) => Array.from({ length: d }, (_, b) => x.reduce((s, r) => s + (r[a] - mean[a]) * (r[b] - mean[b]), 0) / (n - 1)));
  let v = Array.from({ length: d }, () => 1);
  let lambda = 0;
  for (let it = 0; it < 2000; it++) {
    const w = cov.map((row) => row.reduce((s, c, j) => s + c * v[j], 0));
    lambda = Math.hypot(...w);
    v = w.map((t) => t / lambda);
  }
  assert.ok(Math.abs(lambda - fit.explainedVariance[0]) < 1e-9 * lambda);
  const total = cov.reduce((s, r, i) => s + r[i], 0);
  assert.ok(Math.abs(fit.explainedVarianceRatio[0] - lambda / total) < 1e-12);
  const again = pcaTransform(fit, { values: Float32Array.from(x.flat()), n, d });
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) assert.ok(Math.abs(again[i][k] - fit.projections[i][k]) < 1e-5);
});

test("pca reads tensors without leaking and rejects bad input naming the argument", async () => {
  await tf.setBackend("cpu");
  const t = tf.tensor2d([[1, 2], [3, 5], [0, 1]]);
  const before = tf.memory().numTensors;
  const fit = pca(t, 1);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(fit.projections.length, 3);
  t.dispose();
  assert.throws(() => pca([[1, 2], [3, 4]], 3), /pca: k must be an integer in \[1, 2\], got 3/);
  assert.throws(() => pca([[1, 2]], 1), /pca: x must have at least 2 rows, got 1/);
  assert.throws(() => pca([[1, NaN], [1, 2]], 1), /pca: x must be finite, got NaN at row 0, column 1/);
  assert.throws(() => pca({ values: [1, 2, 3], n: 2, d: 2 }, 1), /pca: x.values must have length n\*d = 4, got 3/);
  assert.throws(() => pcaTransform(fit, [[1, 2, 3]]), /pcaTransform: x must have 2 columns, got 3/);
});
