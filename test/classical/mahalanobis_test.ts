import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { samplePairs } from "../../src/data/pairs";
import { knnClassify } from "../../src/evaluation/knn";
import { train } from "../../src/training/loop";
import {
  createMahalanobisMethod,
  createMahalanobisMetric,
  mahalanobisLoss,
  mahalanobisMatrix,
  mahalanobisTransform,
  pairDifferences,
} from "../../src/classical/mahalanobis";

/** Float64 reference of g(L) = sum_S |L d|^2 - log sum_D sqrt(|L d|^2 + 1e-12). */
function referenceLoss(l: number[][], sim: number[][], dis: number[][]): number {
  const sq = (d: number[]) => l.reduce((s, row) => s + row.reduce((a, v, j) => a + v * d[j], 0) ** 2, 0);
  return sim.reduce((s, d) => s + sq(d), 0) - Math.log(dis.reduce((s, d) => s + Math.sqrt(sq(d) + 1e-12), 0));
}

test("mahalanobisLoss matches a float64 reference and its gradient matches finite differences", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(11);
  const rand = (r: number, c: number) => Array.from({ length: r }, () => Array.from({ length: c }, () => rng.normal()));
  const l = rand(2, 3), sim = rand(4, 3), dis = rand(5, 3);
  const lT = tf.tensor2d(l), simT = tf.tensor2d(sim), disT = tf.tensor2d(dis);
  const before = tf.memory().numTensors;
  const loss = mahalanobisLoss(lT, simT, disT);
  assert.ok(Math.abs(loss.dataSync()[0] - referenceLoss(l, sim, dis)) < 1e-4 * Math.max(1, Math.abs(referenceLoss(l, sim, dis))));
  loss.dispose();
  const grad = tf.grad((v: tf.Tensor) => mahalanobisLoss(v as tf.Tensor2D, simT, disT))(lT);
  const g = grad.arraySync() as number[][];
  grad.dispose();
  assert.equal(tf.memory().numTensors, before);
  const h = 1e-6;
  for (let r = 0; r < 2; r++) {
    for (let c = 0; c < 3; c++) {
      const plus = l.map((row) => row.slice()), minus = l.map((row) => row.slice());
      plus[r][c] += h;
      minus[r][c] -= h;
      const fd = (referenceLoss(plus, sim, dis) - referenceLoss(minus, sim, dis)) / (2 * h);
      assert.ok(Math.abs(fd - g[r][c]) < 1e-3 * Math.max(1, Math.abs(fd)), `dL/dL[${r}][${c}]: ${g[r][c]} vs ${fd}`);
    }
  }
  tf.dispose([lT, simT, disT]);
});

test("a learned metric ignores large noise dimensions: kNN accuracy far above Euclidean", async () => {
  await tf.setBackend("cpu");
  // Two classes separated along dims 0-1 (std 0.5 around +-1); dims 2-7 are noise with std 10.
  const rng = createRng(12);
  const make = (n: number) => {
    const labels = new Int32Array(n), values: number[] = [];
    for (let i = 0; i < n; i++) {
      labels[i] = i % 2;
      const sign = labels[i] ? 1 : -1;
      for (let j = 0; j < 8; j++) values.push(j < 2 ? sign + 0.5 * rng.normal() : 10 * rng.normal());
    }
    return { x: tf.tensor2d(values, [n, 8]), labels };
  };
  const trainSet = make(400), testSet = make(400);
  const euclid = knnClassify(trainSet.x, trainSet.labels, testSet.x, testSet.labels, { k: 5, metric: "euclidean" }).accuracy;
  const before = tf.memory().numTensors;
  const metricL = createMahalanobisMetric({ dim: 8 });
  const optimizer = tf.train.adam(0.05);
  await train({
    loss: (batch: { similar: tf.Tensor2D; dissimilar: tf.Tensor2D }) => mahalanobisLoss(metricL, batch.similar, batch.dissimilar),
    optimizer,
    trainable: [metricL],
    batches: (_epoch, r) => {
      const p = samplePairs(trainSet.labels, { count: 200, sameFraction: 0.5 }, r);
      return [pairDifferences(trainSet.x, p.first, p.second, p.same)];
    },
    steps: 150,
    seed: 1,
    progress: false,
  });
  const zTrain = mahalanobisTransform(metricL, trainSet.x), zTest = mahalanobisTransform(metricL, testSet.x);
  const learned = knnClassify(zTrain, trainSet.labels, zTest, testSet.labels, { k: 5, metric: "euclidean" }).accuracy;
  const a = mahalanobisMatrix(metricL);
  tf.dispose([zTrain, zTest]);
  metricL.dispose();
  optimizer.dispose();
  assert.equal(tf.memory().numTensors, before);
  // Measured (seed 12 data, 150 steps): euclidean 0.5625, learned 0.9975.
  assert.ok(euclid < 0.75, `euclidean ${euclid}`);
  assert.ok(learned > 0.95, `learned ${learned}`);
  assert.ok(learned > euclid + 0.2, `learned ${learned} vs euclidean ${euclid}`);
  // A weights the informative dimensions far above the noise ones.
  const signal = Math.min(a[0][0], a[1][1]);
  const noise = Math.max(...[2, 3, 4, 5, 6, 7].map((j) => a[j][j]));
  assert.ok(signal > 10 * noise, `A diagonal ${a.map((r, i) => r[i].toFixed(4))}`);
  tf.dispose([trainSet.x, testSet.x]);
});

test("createMahalanobisMetric starts Euclidean; pairDifferences splits pairs; bad input is rejected", async () => {
  await tf.setBackend("cpu");
  const metricL = createMahalanobisMetric({ dim: 3 });
  assert.deepEqual(mahalanobisMatrix(metricL), [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  const x = tf.tensor2d([[0, 0, 0], [1, 2, 3], [5, 5, 5]]);
  const { similar, dissimilar } = pairDifferences(x, [0, 1, 2], [1, 2, 0], [1, 0, 1]);
  assert.deepEqual(similar.arraySync(), [[-1, -2, -3], [5, 5, 5]]);
  assert.deepEqual(dissimilar.arraySync(), [[-4, -3, -2]]);
  assert.throws(() => pairDifferences(x, [0], [3], [1]), /pairDifferences: second\[0\] must be an index in \[0, 3\), got 3/);
  assert.throws(() => pairDifferences(x, [0], [1], [2]), /pairDifferences: same\[0\] must be 0 or 1, got 2/);
  assert.throws(() => mahalanobisLoss(metricL, tf.zeros([2, 4]) as tf.Tensor2D, dissimilar), /mahalanobisLoss: similarDiffs must have shape \[pairs >= 1, 3\], got \[2,4\]/);
  assert.throws(() => mahalanobisTransform(metricL, tf.zeros([2, 2]) as tf.Tensor2D), /mahalanobisTransform: x must have shape \[n, 3\], got \[2,2\]/);
  assert.throws(() => createMahalanobisMetric({ dim: 2, rank: 3 }), /createMahalanobisMetric: options.rank must be <= dim \(2\) for init "identity", got 3/);
  tf.dispose([metricL, x, similar, dissimilar]);
});

test("createMahalanobisMethod: the loss of mahalanobisLoss, trained through training.train, no tensor leak", async () => {
  await tf.setBackend("cpu");
  const L = createMahalanobisMetric({ dim: 3 });
  const method = createMahalanobisMethod({ metric: L });
  assert.deepEqual(method.trainable, [L]);
  const x = tf.tensor2d([[0, 0, 0], [1, 0, 5], [0, 1, -5], [1, 1, 0]]);
  const diffs = pairDifferences(x, [0, 1, 2], [1, 2, 3], [1, 0, 1]);
  const got = tf.tidy(() => (method.loss(diffs, { step: 0, epoch: 0, stepInEpoch: 0, seed: 0, rng: createRng(0) }) as tf.Tensor).dataSync()[0]);
  const want = tf.tidy(() => mahalanobisLoss(L, diffs.similar, diffs.dissimilar).dataSync()[0]);
  assert.equal(got, want);
  const before = tf.memory().numTensors;
  const optimizer = tf.train.sgd(0.01);
  const history = await train({ ...method, optimizer, batches: () => [diffs], steps: 5, disposeBatches: false, progress: false });
  optimizer.dispose(); // its learning-rate scalar is the optimizer's, not a leak of the method
  assert.equal(history.steps, 5);
  assert.ok(history.loss[4] < history.loss[0], `${history.loss}`);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => createMahalanobisMethod({ metric: tf.zeros([2, 2]) as unknown as tf.Variable }), /createMahalanobisMethod: options.metric must be a 2-D tf.Variable \[rank, dim\] \(createMahalanobisMetric\), got a tensor of shape \[2,2\]/);
  tf.dispose([x, diffs.similar, diffs.dissimilar, L]);
});
