import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { effectiveRank, featureSpectrum } from "../../src/evaluation/spectrum";

/** Eigenvalues of a symmetric matrix by cyclic Jacobi rotations (float64), descending: independent of ml-matrix. */
function jacobiEigenvalues(a: number[][]): number[] {
  const m = a.length;
  const s = a.map((r) => r.slice());
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < m; p++) for (let q = p + 1; q < m; q++) off += s[p][q] * s[p][q];
    if (off < 1e-30) break;
    for (let p = 0; p < m; p++) {
      for (let q = p + 1; q < m; q++) {
        if (Math.abs(s[p][q]) < 1e-300) continue;
        const theta = (s[q][q] - s[p][p]) / (2 * s[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const sn = t * c;
        for (let k = 0; k < m; k++) {
          const skp = s[k][p];
          const skq = s[k][q];
          s[k][p] = c * skp - sn * skq;
          s[k][q] = sn * skp + c * skq;
        }
        for (let k = 0; k < m; k++) {
          const spk = s[p][k];
          const sqk = s[q][k];
          s[p][k] = c * spk - sn * sqk;
          s[q][k] = sn * spk + c * sqk;
        }
      }
    }
  }
  return s.map((r, i) => r[i]).sort((x, y) => y - x);
}

/** Singular values of the centred rows, via Jacobi on the smaller Gram matrix. */
function singularValuesRef(rows: number[][]): number[] {
  const n = rows.length;
  const d = rows[0].length;
  const mean = Array.from({ length: d }, (_, j) => rows.reduce((s, r) => s + r[j], 0) / n);
  const c = rows.map((r) => r.map((v, j) => v - mean[j]));
  const gram =
    d <= n
      ? Array.from({ length: d }, (_, p) => Array.from({ length: d }, (_, q) => c.reduce((s, r) => s + r[p] * r[q], 0)))
      : Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => c[i].reduce((s, v, k) => s + v * c[j][k], 0)));
  return jacobiEigenvalues(gram).map((v) => Math.sqrt(Math.max(v, 0)));
}

function gaussian(n: number, d: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
}

function rankK(n: number, d: number, k: number, seed: number): number[][] {
  const a = gaussian(n, k, seed);
  const b = gaussian(k, d, seed + 1);
  return a.map((r) => Array.from({ length: d }, (_, j) => 3 + r.reduce((s, v, i) => s + v * b[i][j], 0)));
}

test("effectiveRank follows Roy & Vetterli's formula", () => {
  assert.ok(Math.abs(effectiveRank([1, 1, 1, 0]) - 3) < 1e-12);
  assert.equal(effectiveRank([5]), 1);
  assert.equal(effectiveRank([0, 0]), 0);
  const p = [10 / 11, 1 / 11];
  assert.ok(Math.abs(effectiveRank([10, 1]) - Math.exp(-p[0] * Math.log(p[0]) - p[1] * Math.log(p[1]))) < 1e-12);
  assert.throws(() => effectiveRank([1, -1]), /effectiveRank: singularValues must be finite and >= 0, got -1 at index 1/);
  assert.throws(() => effectiveRank([]), /effectiveRank: singularValues must be non-empty/);
});

test("rank-k data: exactly k nonzero singular values matching a float64 Jacobi reference, effective rank <= k", async () => {
  await tf.setBackend("cpu");
  for (const k of [1, 3, 5]) {
    const rows = rankK(400, 24, k, 10 + k);
    const x = tf.tensor2d(rows);
    const before = tf.memory().numTensors;
    const s = featureSpectrum(x);
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
    assert.equal(s.method, "covariance");
    assert.equal(s.singularValues.length, 24);
    assert.equal(s.rank, k);
    assert.equal(Array.from(s.singularValues).filter((v) => v !== 0).length, k);
    const ref = singularValuesRef(rows);
    for (let i = 0; i < k; i++) assert.ok(Math.abs(s.singularValues[i] - ref[i]) < 1e-5 * ref[0], `k ${k}, value ${i}: ${s.singularValues[i]} vs ${ref[i]}`);
    assert.ok(s.effectiveRank <= k + 1e-9 && s.effectiveRank > (k === 1 ? 0.999 : 1.5), `k ${k}: effective rank ${s.effectiveRank}`);
    assert.ok(Math.abs(s.effectiveRank - effectiveRank(ref.slice(0, k))) < 1e-6);
    const ratioSum = s.explainedVarianceRatio.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(ratioSum - 1) < 1e-12);
    assert.ok(Math.abs(s.covarianceEigenvalues[0] - (ref[0] * ref[0]) / 399) < 1e-5 * s.covarianceEigenvalues[0]);
  }
});

test("isotropic Gaussian features have effective rank near d", async () => {
  await tf.setBackend("cpu");
  const x = tf.tensor2d(gaussian(4000, 16, 21));
  const s = featureSpectrum(x);
  x.dispose();
  assert.equal(s.rank, 16);
  assert.ok(s.effectiveRank > 15.8 && s.effectiveRank <= 16, `effective rank ${s.effectiveRank}`);
  // Covariance eigenvalues of unit-variance noise are near 1 (Marchenko-Pastur edges 1 +- 2 sqrt(16/4000) ~ 1 +- 0.13).
  assert.ok(s.covarianceEigenvalues[0] < 1.2 && s.covarianceEigenvalues[15] > 0.8);
});

test("collapsed features: one direction gives 1; identical rows give 0 centred and 1 uncentred", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(5);
  const v = Array.from({ length: 12 }, () => rng.normal());
  const line = tf.tensor2d(Array.from({ length: 200 }, () => {
    const a = rng.normal();
    return v.map((vi) => 0.5 + a * vi);
  }));
  const s = featureSpectrum(line);
  assert.equal(s.rank, 1);
  assert.ok(Math.abs(s.effectiveRank - 1) < 1e-9, `${s.effectiveRank}`);
  const same = tf.tensor2d(Array.from({ length: 50 }, () => v));
  const centred = featureSpectrum(same);
  assert.equal(centred.effectiveRank, 0);
  assert.equal(centred.rank, 0);
  assert.ok(centred.singularValues.every((x) => x === 0));
  const raw = featureSpectrum(same, { center: false });
  assert.equal(raw.rank, 1);
  assert.ok(Math.abs(raw.effectiveRank - 1) < 1e-12);
  const norm = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
  assert.ok(Math.abs(raw.singularValues[0] - Math.sqrt(50) * norm) < 1e-5 * norm);
  tf.dispose([line, same]);
});

test("more columns than rows uses the n x n Gram matrix; centring leaves rank n - 1", async () => {
  await tf.setBackend("cpu");
  const rows = gaussian(10, 50, 8);
  const x = tf.tensor2d(rows);
  const s = featureSpectrum(x);
  x.dispose();
  assert.equal(s.method, "gram");
  assert.equal(s.singularValues.length, 10);
  assert.equal(s.rank, 9);
  const ref = singularValuesRef(rows);
  for (let i = 0; i < 9; i++) assert.ok(Math.abs(s.singularValues[i] - ref[i]) < 1e-5 * ref[0]);
  assert.equal(s.singularValues[9], 0);
});

test("bad input is rejected naming the argument", async () => {
  await tf.setBackend("cpu");
  const one = tf.zeros([1, 4]) as tf.Tensor2D;
  const vec = tf.zeros([4]);
  const nan = tf.tensor2d([[1, NaN], [0, 1]]);
  assert.throws(() => featureSpectrum(one), /featureSpectrum: x must have at least 2 rows and 1 column, got \[1, 4\]/);
  assert.throws(() => featureSpectrum(vec as unknown as tf.Tensor2D), /featureSpectrum: x must be a tensor of shape \[n,d\], got a tensor of shape \[4\]/);
  assert.throws(() => featureSpectrum(nan), /featureSpectrum: x must be finite, got NaN at row 0, column 1/);
  assert.throws(() => featureSpectrum(nan, { center: "yes" as unknown as boolean }), /featureSpectrum: options.center must be a boolean, got yes/);
  tf.dispose([one, vec, nan]);
});
