import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import {
  bernoulliFromUniforms,
  createRbm,
  exactPseudoLikelihood,
  gibbsChain,
  pseudoLikelihood,
  Rbm,
  reconstructionError,
} from "../../src/models/rbm";

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const softplus = (z: number) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));

interface Params {
  w: number[][];
  b: number[];
  c: number[];
}

function params(rbm: Rbm): Params {
  return {
    w: rbm.weights.arraySync() as number[][],
    b: rbm.visibleBias.arraySync() as number[],
    c: rbm.hiddenBias.arraySync() as number[],
  };
}

/** float64 F(v) = -b.v - sum_j softplus(c_j + sum_i v_i W_ij). */
function freeEnergy64(p: Params, v: number[]): number {
  let f = 0;
  for (let i = 0; i < v.length; i++) f -= p.b[i] * v[i];
  for (let j = 0; j < p.c.length; j++) {
    let a = p.c[j];
    for (let i = 0; i < v.length; i++) a += v[i] * p.w[i][j];
    f -= softplus(a);
  }
  return f;
}

function hiddenProbs64(p: Params, v: number[]): number[] {
  return p.c.map((cj, j) => sigmoid(cj + v.reduce((s, vi, i) => s + vi * p.w[i][j], 0)));
}

function visibleProbs64(p: Params, h: number[]): number[] {
  return p.b.map((bi, i) => sigmoid(bi + h.reduce((s, hj, j) => s + hj * p.w[i][j], 0)));
}

function randomBinary(rows: number, d: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: d }, () => (rng.next() < 0.5 ? 1 : 0)));
}

test("free energy, conditionals and reconstruction error match float64 loops", async () => {
  await tf.setBackend("cpu");
  const rbm = createRbm({ visibleUnits: 9, hiddenUnits: 5, seed: 3, initStd: 0.8, visibleBias: [0.1, -0.3, 0.2, 0, 0.5, -0.1, 0.3, -0.6, 0.4] });
  rbm.hiddenBias.assign(tf.tensor1d([0.2, -0.5, 0.1, 0.7, -0.2]));
  const p = params(rbm);
  const rows = randomBinary(6, 9, 5);
  const v = tf.tensor2d(rows);
  const before = tf.memory().numTensors;
  const f = rbm.freeEnergy(v);
  const ph = rbm.hiddenProbs(v);
  const rec = reconstructionError(rbm, v);
  assert.equal(tf.memory().numTensors, before + 3);
  const fv = Array.from(f.dataSync());
  const phv = ph.arraySync();
  const recv = Array.from(rec.dataSync());
  rows.forEach((row, n) => {
    assert.ok(Math.abs(fv[n] - freeEnergy64(p, row)) < 1e-5, `F row ${n}: ${fv[n]} vs ${freeEnergy64(p, row)}`);
    const ph64 = hiddenProbs64(p, row);
    ph64.forEach((q, j) => assert.ok(Math.abs(phv[n][j] - q) < 1e-6));
    const pv = visibleProbs64(p, ph64);
    const err = pv.reduce((s, q, i) => s + (row[i] - q) ** 2, 0) / 9;
    assert.ok(Math.abs(recv[n] - err) < 1e-6, `recon row ${n}: ${recv[n]} vs ${err}`);
  });
  tf.dispose([v, f, ph, rec]);
  rbm.dispose();
});

test("pseudo-likelihood: the one-flip estimate and the exact sum match float64 loops", async () => {
  await tf.setBackend("cpu");
  const rbm = createRbm({ visibleUnits: 6, hiddenUnits: 4, seed: 8, initStd: 1 });
  const p = params(rbm);
  const rows = randomBinary(5, 6, 2);
  const v = tf.tensor2d(rows);
  const before = tf.memory().numTensors;
  const stochastic = pseudoLikelihood(rbm, v, 21);
  const exact = exactPseudoLikelihood(rbm, v);
  assert.equal(tf.memory().numTensors, before + 2);
  const sv = Array.from(stochastic.dataSync());
  const ev = Array.from(exact.dataSync());
  const rng = createRng(21);
  const logSigmoid = (z: number) => -softplus(-z);
  rows.forEach((row, n) => {
    const flip = (i: number) => row.map((x, k) => (k === i ? 1 - x : x));
    const i = rng.int(6);
    const one = 6 * logSigmoid(freeEnergy64(p, flip(i)) - freeEnergy64(p, row));
    assert.ok(Math.abs(sv[n] - one) < 1e-4, `one-flip row ${n}: ${sv[n]} vs ${one}`);
    // Exact: sum_i log p(v_i | v_-i), p(v_i | v_-i) = e^-F(v) / (e^-F(v) + e^-F(flip_i v)).
    let sum = 0;
    for (let k = 0; k < 6; k++) sum += -Math.log1p(Math.exp(freeEnergy64(p, row) - freeEnergy64(p, flip(k))));
    assert.ok(Math.abs(ev[n] - sum) < 1e-4, `exact row ${n}: ${ev[n]} vs ${sum}`);
    assert.ok(ev[n] < 0);
  });
  tf.dispose([v, stochastic, exact]);
  rbm.dispose();
});

test("Gibbs sampling is seeded, binary, and its frequencies follow the probabilities", async () => {
  await tf.setBackend("cpu");
  const p = tf.fill([4000, 3], 0.3);
  const u = tf.randomUniform([4000, 3], 0, 1, "float32", 9);
  const s = bernoulliFromUniforms(p, u);
  const mean = s.mean().dataSync()[0];
  assert.ok(Math.abs(mean - 0.3) < 0.02, `frequency ${mean}`);
  const rbm = createRbm({ visibleUnits: 6, hiddenUnits: 4, seed: 1, initStd: 1 });
  const v = tf.tensor2d(randomBinary(10, 6, 3));
  const before = tf.memory().numTensors;
  const a = gibbsChain(rbm, v, 4, 17);
  const b = gibbsChain(rbm, v, 4, 17);
  const c = gibbsChain(rbm, v, 4, 18);
  assert.equal(tf.memory().numTensors, before + 12);
  assert.deepEqual(Array.from(a.visible.dataSync()), Array.from(b.visible.dataSync()));
  assert.notDeepEqual(Array.from(a.visible.dataSync()), Array.from(c.visible.dataSync()));
  for (const x of a.visible.dataSync()) assert.ok(x === 0 || x === 1);
  for (const x of a.hidden.dataSync()) assert.ok(x === 0 || x === 1);
  tf.dispose([p, u, s, v, a, b, c].flatMap((t) => ("visible" in t ? [t.hiddenProbs, t.hidden, t.visibleProbs, t.visible] : [t])));
  rbm.dispose();
});

test("bad input is rejected, naming the function and the argument", async () => {
  await tf.setBackend("cpu");
  assert.throws(() => createRbm({ visibleUnits: 0, hiddenUnits: 2 }), /createRbm: visibleUnits must be a positive integer, got 0/);
  assert.throws(() => createRbm({ visibleUnits: 3, hiddenUnits: 2, visibleBias: [0, 0] }), /createRbm: visibleBias must have length 3, got 2/);
  const rbm = createRbm({ visibleUnits: 3, hiddenUnits: 2 });
  const wrong = tf.zeros([2, 4]) as tf.Tensor2D;
  assert.throws(() => rbm.freeEnergy(wrong), /Rbm\.freeEnergy: v must be a float32 tensor of shape \[n,3\], got a tensor of shape \[2,4\]/);
  const ok = tf.zeros([2, 3]) as tf.Tensor2D;
  assert.throws(() => pseudoLikelihood(rbm, ok, 0.5), /pseudoLikelihood: seed must be an integer, got 0.5/);
  assert.throws(() => gibbsChain(rbm, ok, 0, 1), /gibbsChain: steps must be a positive integer, got 0/);
  tf.dispose([wrong, ok]);
  rbm.dispose();
});
