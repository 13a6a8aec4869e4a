import { test } from "node:test";
import assert from "node:assert/strict";
import { fitSoftmaxRegression, predictSoftmaxRegression, type SoftmaxRegressionRecipe } from "../../src/evaluation/softmax_regression";
import { createRng } from "../../src/data/random";

const recipe = (over: Partial<SoftmaxRegressionRecipe>): SoftmaxRegressionRecipe => ({
  epochs: 1, minSteps: 1, batchSize: 256, learningRate: 0.1, weightDecay: 0, seed: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, ...over,
});

test("fitSoftmaxRegression: the first Adam step from zero moves each weight by -lr * sign(gradient), gradient in float64", () => {
  // 3 rows, 2 features, 3 classes, one full batch.
  const x = Float32Array.from([1, 2, -1, 0.5, 0.25, -3]);
  const y = Int32Array.from([0, 2, 1]);
  const fit = fitSoftmaxRegression(x, 3, 2, y, 3, recipe({}));
  assert.equal(fit.steps, 1);
  // At W = 0 the softmax is uniform: dLogits = (1/3 - onehot) / 3.
  const grad = new Float64Array(2 * 3 + 3);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      const d = (1 / 3 - (c === y[r] ? 1 : 0)) / 3;
      for (let k = 0; k < 2; k++) grad[k * 3 + c] += x[r * 2 + k] * d;
      grad[6 + c] += d;
    }
  }
  const got = [...fit.kernel, ...fit.bias];
  grad.forEach((g, i) => {
    const want = g === 0 ? 0 : -0.1 * Math.sign(g) * (Math.abs(g) / (Math.abs(g) + 1e-8));
    assert.ok(Math.abs(got[i] - want) < 1e-6, `param ${i}: ${got[i]} vs ${want}`);
  });
});

test("fitSoftmaxRegression: separable classes are fitted exactly; weight decay shrinks the weights; seeds repeat", () => {
  const n = 90, dim = 3;
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let d = 0; d < dim; d++) x[i * dim + d] = (d === y[i] ? 3 : 0) + Math.sin(i * 7.3 + d) * 0.5;
  }
  const fit = fitSoftmaxRegression(x, n, dim, y, 3, recipe({ minSteps: 300, batchSize: 16, learningRate: 0.05, seed: 4 }));
  assert.equal(fit.steps, 300);
  const predicted = predictSoftmaxRegression(fit, x, n, dim, 3);
  assert.deepEqual(Array.from(predicted), Array.from(y));
  const again = fitSoftmaxRegression(x, n, dim, y, 3, recipe({ minSteps: 300, batchSize: 16, learningRate: 0.05, seed: 4 }));
  assert.deepEqual(again, fit);
  const decayed = fitSoftmaxRegression(x, n, dim, y, 3, recipe({ minSteps: 300, batchSize: 16, learningRate: 0.05, seed: 4, weightDecay: 0.5 }));
  const norm = (w: Float32Array) => Math.hypot(...w);
  assert.ok(norm(decayed.kernel) < 0.8 * norm(fit.kernel), `${norm(decayed.kernel)} vs ${norm(fit.kernel)}`);
});

/** The whole recipe in plain float64 loops, weights row-major [dim, classes]: the reference the SIMD products must match. */
function referenceFit(x: Float32Array, n: number, dim: number, y: Int32Array, classes: number, r: SoftmaxRegressionRecipe) {
  const biasAt = dim * classes;
  const w = new Float64Array(biasAt + classes), m = new Float64Array(w.length), v = new Float64Array(w.length), grad = new Float64Array(w.length);
  const rng = createRng(r.seed);
  const batch = Math.min(r.batchSize, n);
  const perEpoch = Math.ceil(n / batch);
  const epochs = Math.max(r.epochs, Math.ceil(r.minSteps / perEpoch));
  let t = 0;
  for (let e = 0; e < epochs; e++) {
    const order = rng.permutation(n);
    for (let start = 0; start < n; start += batch) {
      const lr = r.learningRate * 0.5 * (1 + Math.cos((Math.PI * t) / (epochs * perEpoch)));
      t++;
      const end = Math.min(start + batch, n);
      grad.fill(0);
      for (let i = start; i < end; i++) {
        const row = order[i];
        const logits = Array.from({ length: classes }, (_, c) => {
          let s = w[biasAt + c];
          for (let d = 0; d < dim; d++) s += x[row * dim + d] * w[d * classes + c];
          return s;
        });
        const max = Math.max(...logits);
        const exps = logits.map((l) => Math.exp(l - max));
        const sum = exps.reduce((a, b) => a + b, 0);
        for (let c = 0; c < classes; c++) {
          const g = (exps[c] / sum - (c === y[row] ? 1 : 0)) / (end - start);
          for (let d = 0; d < dim; d++) grad[d * classes + c] += x[row * dim + d] * g;
          grad[biasAt + c] += g;
        }
      }
      for (let i = 0; i < w.length; i++) {
        const g = i < biasAt ? grad[i] + r.weightDecay * w[i] : grad[i];
        m[i] = r.beta1 * m[i] + (1 - r.beta1) * g;
        v[i] = r.beta2 * v[i] + (1 - r.beta2) * g * g;
        w[i] -= (lr * (m[i] / (1 - r.beta1 ** t))) / (Math.sqrt(v[i] / (1 - r.beta2 ** t)) + r.epsilon);
      }
    }
  }
  return { kernel: w.subarray(0, biasAt), bias: w.subarray(biasAt), steps: t };
}

test("fitSoftmaxRegression's SIMD products match plain float64 loops over many steps: odd and padded widths, a ragged last batch", () => {
  const rng = createRng(11);
  for (const [n, dim, classes, batchSize] of [[37, 5, 3, 8], [50, 9, 4, 50], [23, 16, 10, 7], [12, 1, 2, 5]]) {
    const x = Float32Array.from({ length: n * dim }, () => rng.normal());
    const y = Int32Array.from({ length: n }, (_, i) => i % classes);
    const r = recipe({ epochs: 3, minSteps: 40, batchSize, learningRate: 0.05, weightDecay: 1e-3, seed: 2 });
    const got = fitSoftmaxRegression(x, n, dim, y, classes, r);
    const want = referenceFit(x, n, dim, y, classes, r);
    assert.equal(got.steps, want.steps);
    const worst = Math.max(
      ...Array.from(got.kernel, (g, i) => Math.abs(g - want.kernel[i]) / (Math.abs(want.kernel[i]) + 1e-3)),
      ...Array.from(got.bias, (g, i) => Math.abs(g - want.bias[i]) / (Math.abs(want.bias[i]) + 1e-3)),
    );
    assert.ok(worst < 1e-5, `n ${n}, dim ${dim}, classes ${classes}, batch ${batchSize}: relative error ${worst}`);
  }
});
