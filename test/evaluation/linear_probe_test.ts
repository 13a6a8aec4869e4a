import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { linearProbe } from "../../src/evaluation/linear_probe";

/** Gaussian blobs: class c centred at `separation` * e_c in `dim` dimensions. */
function blobs(n: number, dim: number, classes: number, separation: number, seed: number) {
  const rng = createRng(seed);
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    x.push(Array.from({ length: dim }, (_, j) => (j === c ? separation : 0) + rng.normal()));
    y.push(c);
  }
  return { x, y };
}

test("linearly separable Gaussian blobs: the probe is right on every test point", async () => {
  await tf.setBackend("cpu");
  const train = blobs(300, 6, 3, 12, 1);
  const testSet = blobs(150, 6, 3, 12, 2);
  const xTrain = tf.tensor2d(train.x);
  const xTest = tf.tensor2d(testSet.x);
  const before = tf.memory().numTensors;
  const r = linearProbe(xTrain, train.y, xTest, tf.tensor1d(testSet.y, "int32") as tf.Tensor1D, {});
  // The label tensor made inline above is the only new tensor.
  assert.equal(tf.memory().numTensors, before + 1);
  assert.equal(r.accuracy, 1);
  assert.equal(r.trainAccuracy, 1);
  assert.deepEqual(r.perClassAccuracy, [1, 1, 1]);
  assert.deepEqual(r.confusion, [[50, 0, 0], [0, 50, 0], [0, 0, 50]]);
  assert.equal(r.numClasses, 3);
  assert.deepEqual(Array.from(r.predictions), testSet.y);
  tf.dispose([xTrain, xTest]);
});

test("overlapping blobs: accuracy is below 1 and per-class accuracy averages to it", async () => {
  await tf.setBackend("cpu");
  const train = blobs(300, 4, 3, 1.5, 3);
  const testSet = blobs(300, 4, 3, 1.5, 4);
  const [xTrain, xTest] = [tf.tensor2d(train.x), tf.tensor2d(testSet.x)];
  const r = linearProbe(xTrain, train.y, xTest, testSet.y);
  assert.ok(r.accuracy > 0.5 && r.accuracy < 0.95, `accuracy ${r.accuracy}`);
  const meanPerClass = r.perClassAccuracy.reduce((a, b) => a + b, 0) / 3; // balanced classes
  assert.ok(Math.abs(meanPerClass - r.accuracy) < 1e-12);
  const correct = r.confusion.reduce((s, row, i) => s + row[i], 0);
  assert.equal(correct / 300, r.accuracy);
  tf.dispose([xTrain, xTest]);
});

test("matches a float64 implementation of the documented recipe", async () => {
  await tf.setBackend("cpu");
  const n = 20;
  const dim = 3;
  const classes = 3;
  const data = blobs(n, dim, classes, 1, 9);
  // One constant feature: standardisation must only centre it.
  data.x.forEach((row) => (row[2] = 5));
  const options = { epochs: 4, minSteps: 1, batchSize: 8, learningRate: 0.05, weightDecay: 0.01, seed: 21 };
  const [xTrain, xTest] = [tf.tensor2d(data.x), tf.tensor2d(data.x)];
  const r = linearProbe(xTrain, data.y, xTest, data.y, options);
  tf.dispose([xTrain, xTest]);

  // Reference, float64: standardise, zero init, Adam on CE + wd/2 |W|^2, cosine lr, seeded order.
  const mean = Array.from({ length: dim }, (_, j) => data.x.reduce((s, row) => s + row[j], 0) / n);
  const std = mean.map((m, j) => Math.sqrt(data.x.reduce((s, row) => s + (row[j] - m) ** 2, 0) / n));
  const scale = std.map((s) => (s < 1e-6 ? 1 : s));
  const z = data.x.map((row) => row.map((v, j) => (v - mean[j]) / scale[j]));
  const W = Array.from({ length: dim }, () => new Array<number>(classes).fill(0));
  const b = new Array<number>(classes).fill(0);
  const mW = W.map((r) => r.map(() => 0));
  const vW = W.map((r) => r.map(() => 0));
  const mb = b.map(() => 0);
  const vb = b.map(() => 0);
  const rng = createRng(options.seed);
  const steps = options.epochs * Math.ceil(n / options.batchSize);
  let t = 0;
  for (let e = 0; e < options.epochs; e++) {
    const order = rng.permutation(n);
    for (let s = 0; s < n; s += options.batchSize) {
      const lr = options.learningRate * 0.5 * (1 + Math.cos((Math.PI * t) / steps));
      t++;
      const rows = Array.from(order.subarray(s, s + options.batchSize));
      const gW = W.map((r) => r.map((w) => options.weightDecay * w));
      const gb = b.map(() => 0);
      for (const i of rows) {
        const logits = b.map((bc, c) => bc + z[i].reduce((acc, v, j) => acc + v * W[j][c], 0));
        const mx = Math.max(...logits);
        const ex = logits.map((l) => Math.exp(l - mx));
        const sum = ex.reduce((a, c) => a + c, 0);
        for (let c = 0; c < classes; c++) {
          const d = (ex[c] / sum - (data.y[i] === c ? 1 : 0)) / rows.length;
          gb[c] += d;
          for (let j = 0; j < dim; j++) gW[j][c] += z[i][j] * d;
        }
      }
      const adam = (p: number, g: number, m: number[], v: number[], k: number, set: (x: number) => void) => {
        m[k] = 0.9 * m[k] + 0.1 * g;
        v[k] = 0.999 * v[k] + 0.001 * g * g;
        const mHat = m[k] / (1 - 0.9 ** t);
        const vHat = v[k] / (1 - 0.999 ** t);
        set(p - (lr * mHat) / (Math.sqrt(vHat) + 1e-8));
      };
      for (let j = 0; j < dim; j++) {
        for (let c = 0; c < classes; c++) {
          const mRow = mW[j];
          const vRow = vW[j];
          adam(W[j][c], gW[j][c], mRow, vRow, c, (x) => (W[j][c] = x));
        }
      }
      for (let c = 0; c < classes; c++) adam(b[c], gb[c], mb, vb, c, (x) => (b[c] = x));
    }
  }
  Array.from(r.weights.mean).forEach((v, j) => assert.ok(Math.abs(v - mean[j]) < 1e-5));
  Array.from(r.weights.scale).forEach((v, j) => assert.ok(Math.abs(v - scale[j]) < 1e-5));
  assert.equal(r.weights.scale[2], 1, "a constant feature keeps scale 1");
  for (let j = 0; j < dim; j++) {
    for (let c = 0; c < classes; c++) {
      const got = r.weights.kernel[j * classes + c];
      assert.ok(Math.abs(got - W[j][c]) < 1e-4, `W[${j}][${c}]: ${got} vs ${W[j][c]}`);
    }
  }
  b.forEach((v, c) => assert.ok(Math.abs(r.weights.bias[c] - v) < 1e-4, `b[${c}]: ${r.weights.bias[c]} vs ${v}`));
  assert.equal(r.recipe.epochs, 4);
  assert.equal(r.steps, 12);
  assert.equal(r.recipe.standardise, "train mean and std");
});

test("same seed, same probe; the minibatch order is the only randomness", async () => {
  await tf.setBackend("cpu");
  const data = blobs(120, 4, 3, 1, 5);
  const [x] = [tf.tensor2d(data.x)];
  const a = linearProbe(x, data.y, x, data.y, { seed: 1, epochs: 3, batchSize: 32 });
  const again = linearProbe(x, data.y, x, data.y, { seed: 1, epochs: 3, batchSize: 32 });
  const other = linearProbe(x, data.y, x, data.y, { seed: 2, epochs: 3, batchSize: 32 });
  assert.equal(a.steps, 500, "120 rows in 4 batches per epoch: minSteps sets 125 epochs");
  assert.deepEqual(again.weights, a.weights);
  assert.notDeepEqual(other.weights.kernel, a.weights.kernel);
  x.dispose();
});

test("bad shapes and labels fail with messages naming argument, expected and actual", async () => {
  await tf.setBackend("cpu");
  const x = tf.zeros([20, 3]) as tf.Tensor2D;
  const labels = Array.from({ length: 20 }, (_, i) => i % 2);
  const before = tf.memory().numTensors;
  assert.throws(() => linearProbe(x, labels.slice(1), x, labels), /^Error: linearProbe: trainLabels must have shape \[20\], got \[19\]$/);
  const wide = tf.zeros([5, 4]) as tf.Tensor2D;
  assert.throws(() => linearProbe(x, labels, wide, labels.slice(0, 5)), /linearProbe: testFeatures must be a tensor of shape \[n,3\], got a tensor of shape \[5,4\]/);
  const flat = tf.zeros([20]) as unknown as tf.Tensor2D;
  assert.throws(() => linearProbe(flat, labels, x, labels), /linearProbe: trainFeatures must be a tensor of shape \[n,d\], got a tensor of shape \[20\]/);
  assert.throws(() => linearProbe(x, labels.map((v) => v + 0.5), x, labels), /linearProbe: trainLabels must hold integers in \[0, inf\), got 0.5 at index 0/);
  assert.throws(() => linearProbe(x, labels, x, labels, { numClasses: 2.5 }), /linearProbe: numClasses must be an integer >= 2, got 2.5/);
  assert.throws(() => linearProbe(x, labels, x, labels, { numClasses: 2, epochs: 0 }), /linearProbe: epochs must be a positive integer, got 0/);
  assert.throws(() => linearProbe(x, labels.map(() => 0), x, labels.map(() => 0)), /linearProbe: numClasses must be an integer >= 2, got 1/);
  assert.throws(() => linearProbe(x, labels, x, labels.map((v) => v * 3), { numClasses: 2 }), /linearProbe: testLabels must hold integers in \[0, 2\), got 3 at index 1/);
  assert.equal(tf.memory().numTensors, before + 2);
  tf.dispose([x, wide, flat]);
});

test("standardiseWith: the statistics come from the given features (the unlabelled set), not the labelled few", async () => {
  await tf.setBackend("cpu");
  const data = blobs(60, 4, 3, 1, 7);
  const x = tf.tensor2d(data.x) as tf.Tensor2D;
  const few = tf.slice(x, [0, 0], [9, 4]) as tf.Tensor2D;
  const fewY = data.y.slice(0, 9);
  const before = tf.memory().numTensors;
  const plain = linearProbe(few, fewY, x, data.y, { numClasses: 3 });
  const same = linearProbe(few, fewY, x, data.y, { numClasses: 3, standardiseWith: few });
  assert.deepEqual(same.weights, plain.weights);
  const withAll = linearProbe(few, fewY, x, data.y, { numClasses: 3, standardiseWith: x });
  assert.equal(withAll.recipe.standardise, "mean and std of standardiseWith");
  const colMeans = [0, 1, 2, 3].map((d) => data.x.reduce((a, r) => a + r[d], 0) / data.x.length);
  colMeans.forEach((mu, d) => assert.ok(Math.abs(withAll.weights.mean[d] - mu) < 1e-4, `mean ${d}: ${withAll.weights.mean[d]} vs ${mu}`));
  assert.throws(() => linearProbe(few, fewY, x, data.y, { standardiseWith: tf.zeros([3, 2]) as tf.Tensor2D }), /linearProbe: options.standardiseWith must be a tensor of shape \[n,4\], got a tensor of shape \[3,2\]/);
  assert.equal(tf.memory().numTensors, before + 1); // the zeros made inside the assert above
  tf.dispose([x, few]);
});
