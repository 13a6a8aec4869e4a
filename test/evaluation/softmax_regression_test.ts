import { test } from "node:test";
import assert from "node:assert/strict";
import { fitSoftmaxRegression, predictSoftmaxRegression, type SoftmaxRegressionRecipe } from "../../src/evaluation/softmax_regression";

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
