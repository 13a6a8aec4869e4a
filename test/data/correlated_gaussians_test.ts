import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import {
  correlatedGaussians,
  gaussianMutualInformation,
  miStaircase,
  optimalGaussianCriticScores,
  rhoForMutualInformation,
} from "../../src/data/correlated_gaussians";
import { onWasm } from "../methods/vision/helpers";

test("correlatedGaussians has unit variances and the asked componentwise correlation", async () => {
  await tf.setBackend("cpu");
  const n = 4000;
  const dim = 3;
  for (const rho of [0, 0.6, -0.9]) {
    const { x, y } = correlatedGaussians({ n, dim, rho, seed: 7 });
    const xs = x.arraySync();
    const ys = y.arraySync();
    for (let k = 0; k < dim; k++) {
      const col = (m: number[][]) => m.map((r) => r[k]);
      const a = col(xs);
      const b = col(ys);
      const mean = (v: number[]) => v.reduce((s, t) => s + t, 0) / v.length;
      const ma = mean(a);
      const mb = mean(b);
      const va = mean(a.map((t) => (t - ma) ** 2));
      const vb = mean(b.map((t) => (t - mb) ** 2));
      const corr = mean(a.map((t, i) => (t - ma) * (b[i] - mb))) / Math.sqrt(va * vb);
      // Standard errors at n = 4000: ~0.016 for a mean, ~0.02 for a variance, <= 0.016 for a correlation.
      assert.ok(Math.abs(ma) < 0.06 && Math.abs(mb) < 0.06, `means ${ma}, ${mb}`);
      assert.ok(Math.abs(va - 1) < 0.08 && Math.abs(vb - 1) < 0.08, `variances ${va}, ${vb}`);
      assert.ok(Math.abs(corr - rho) < 0.05, `rho ${rho}, component ${k}: correlation ${corr}`);
    }
    // Components are independent of each other.
    const cross = xs.reduce((s, r, i) => s + r[0] * ys[i][1], 0) / n;
    assert.ok(Math.abs(cross) < 0.06, `cross-component covariance ${cross}`);
    tf.dispose([x, y]);
  }
});

test("correlatedGaussians is deterministic under a seed, the same on cpu and wasm, and different across seeds", async () => {
  await tf.setBackend("cpu");
  const draw = (seed: number) => {
    const { x, y } = correlatedGaussians({ n: 5, dim: 2, rho: 0.3, seed });
    const out = [Array.from(x.dataSync()), Array.from(y.dataSync())];
    tf.dispose([x, y]);
    return out;
  };
  assert.deepEqual(draw(1), draw(1));
  assert.notDeepEqual(draw(1), draw(2));
  const onCpu = draw(3);
  assert.deepEqual(await onWasm(() => draw(3)), onCpu);
});

test("gaussianMutualInformation and rhoForMutualInformation: closed form and inverse", () => {
  assert.equal(gaussianMutualInformation(0, 10), 0);
  assert.ok(Math.abs(gaussianMutualInformation(0.5, 20) - -10 * Math.log(0.75)) < 1e-12);
  assert.ok(Math.abs(gaussianMutualInformation(-0.5, 1) - gaussianMutualInformation(0.5, 1)) < 1e-15);
  for (const dim of [1, 2, 20]) {
    // Beyond ~5 nats per dimension rho is within 1e-4 of 1 and float64 round trips lose digits.
    for (const mi of [0, 0.01, 2, 10, 40].filter((m) => m / dim <= 5)) {
      const rho = rhoForMutualInformation(mi, dim);
      assert.ok(rho >= 0 && rho < 1, `rho ${rho}`);
      assert.ok(Math.abs(gaussianMutualInformation(rho, dim) - mi) < 1e-8 * Math.max(1, mi), `dim ${dim}, MI ${mi}`);
    }
  }
  // Poole et al.'s Fig. 2 setting: d = 20, MI 2..10 nats.
  assert.ok(Math.abs(rhoForMutualInformation(10, 20) - Math.sqrt(1 - Math.exp(-1))) < 1e-12);
});

test("miStaircase holds each level for stepsPerLevel steps", () => {
  assert.deepEqual(miStaircase({ levels: [2, 4], stepsPerLevel: 3 }), [2, 2, 2, 4, 4, 4]);
  assert.equal(miStaircase({ levels: [2, 4, 6, 8, 10], stepsPerLevel: 200 }).length, 1000);
});

test("optimalGaussianCriticScores is the float64 log density ratio on all pairs, its diagonal averaging to the MI", async () => {
  await tf.setBackend("cpu");
  const rho = 0.7;
  const dim = 3;
  const { x, y } = correlatedGaussians({ n: 6, dim, rho, seed: 2 });
  const s = optimalGaussianCriticScores(x, y, rho).arraySync();
  const xs = x.arraySync();
  const ys = y.arraySync();
  const v = 1 - rho * rho;
  const logNormal = (t: number, mean: number, variance: number) => -0.5 * Math.log(2 * Math.PI * variance) - (t - mean) ** 2 / (2 * variance);
  for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) {
    let want = 0;
    for (let k = 0; k < dim; k++) want += logNormal(ys[j][k], rho * xs[i][k], v) - logNormal(ys[j][k], 0, 1);
    assert.ok(Math.abs(s[i][j] - want) < 1e-4 * Math.max(1, Math.abs(want)), `[${i}][${j}] ${s[i][j]} vs ${want}`);
  }
  tf.dispose([x, y]);
  // E_p[f*] = I(X; Y): the diagonal of a large batch averages to the closed form.
  const big = correlatedGaussians({ n: 800, dim, rho, seed: 4 });
  const before = tf.memory().numTensors;
  const scores = optimalGaussianCriticScores(big.x, big.y, rho);
  assert.equal(tf.memory().numTensors, before + 1);
  const diagonal = tf.tidy(() => tf.mean(tf.sum(tf.mul(scores, tf.eye(800)), 1)).dataSync()[0]);
  const truth = gaussianMutualInformation(rho, dim);
  assert.ok(Math.abs(diagonal - truth) < 0.1, `mean diagonal ${diagonal} vs MI ${truth}`);
  tf.dispose([scores, big.x, big.y]);
});

test("correlated-Gaussian functions reject bad input with named errors", async () => {
  await tf.setBackend("cpu");
  const cases: Array<[() => unknown, RegExp]> = [
    [() => correlatedGaussians({ n: 0, dim: 2, rho: 0.5, seed: 1 }), /correlatedGaussians: options\.n must be a positive integer, got 0/],
    [() => correlatedGaussians({ n: 4, dim: 2, rho: 1, seed: 1 }), /correlatedGaussians: options\.rho must be a number in \(-1, 1\), got 1/],
    [() => correlatedGaussians({ n: 4, dim: 2, rho: 0.5, seed: 0.5 }), /correlatedGaussians: options\.seed must be an integer, got 0\.5/],
    [() => correlatedGaussians(undefined as never), /correlatedGaussians: options must be an object/],
    [() => gaussianMutualInformation(-1, 2), /gaussianMutualInformation: rho must be a number in \(-1, 1\), got -1/],
    [() => gaussianMutualInformation(0.5, 0), /gaussianMutualInformation: dim must be a positive integer, got 0/],
    [() => rhoForMutualInformation(-0.1, 2), /rhoForMutualInformation: mutualInformation must be a finite number >= 0, got -0\.1/],
    [() => rhoForMutualInformation(Infinity, 2), /rhoForMutualInformation: mutualInformation must be a finite number >= 0, got Infinity/],
    [() => miStaircase({ levels: [], stepsPerLevel: 2 }), /miStaircase: options\.levels must be a non-empty array/],
    [() => miStaircase({ levels: [2, -1], stepsPerLevel: 2 }), /miStaircase: options\.levels\[1\] must be a finite number >= 0, got -1/],
    [() => miStaircase({ levels: [2], stepsPerLevel: 0 }), /miStaircase: options\.stepsPerLevel must be a positive integer, got 0/],
    [() => optimalGaussianCriticScores(tf.zeros([3, 2]) as tf.Tensor2D, tf.zeros([4, 2]) as tf.Tensor2D, 0.5), /optimalGaussianCriticScores: y must be a float32 tensor of shape \[3,2\], got a tensor of shape \[4,2\]/],
  ];
  for (const [call, message] of cases) assert.throws(call, message);
  tf.disposeVariables();
});
