import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { knnClassify } from "../../src/evaluation/knn";
import { labelEfficiency, labelSubsets, sampleLabelsPerClass } from "../../src/evaluation/label_efficiency";
import { linearProbe } from "../../src/evaluation/linear_probe";

/** Gaussian classes in `dim` dimensions, class c centred at `separation` times a random unit-variance centre. */
function gaussianClasses(n: number, dim: number, classes: number, separation: number, seed: number) {
  const centreRng = createRng(1000);
  const centres = Array.from({ length: classes }, () => Array.from({ length: dim }, () => centreRng.normal()));
  const rng = createRng(seed);
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    x.push(centres[c].map((m) => separation * m + rng.normal()));
    y.push(c);
  }
  return { x, y };
}

test("sampleLabelsPerClass: exactly k of every class, ascending, seeded, nested across k", () => {
  const labels = Array.from({ length: 60 }, (_, i) => [0, 2, 5][i % 3]); // classes 0, 2, 5: 20 each
  const a = sampleLabelsPerClass(labels, 4, 11);
  assert.equal(a.length, 12);
  for (const c of [0, 2, 5]) assert.equal(Array.from(a).filter((i) => labels[i] === c).length, 4, `class ${c}`);
  assert.deepEqual(Array.from(a), Array.from(a).sort((p, q) => p - q));
  assert.equal(new Set(a).size, a.length, "no index twice");
  assert.deepEqual(sampleLabelsPerClass(labels, 4, 11), a, "same seed, same indices");
  assert.notDeepEqual(sampleLabelsPerClass(labels, 4, 12), a, "another seed, another subset");
  // The first k of one permutation per class: the 1-per-class subset lies inside the 4-per-class one.
  const one = sampleLabelsPerClass(labels, 1, 11);
  assert.ok(Array.from(one).every((i) => a.includes(i)));
  // A tensor of labels gives the same subset, and is left alone.
  const t = tf.tensor1d(labels, "int32");
  assert.deepEqual(sampleLabelsPerClass(t, 4, 11), a);
  t.dispose();
});

test("sampleLabelsPerClass: every class eventually drawn, frequencies near uniform", () => {
  const labels = Array.from({ length: 30 }, (_, i) => i % 3);
  const hits = new Array<number>(30).fill(0);
  for (let s = 0; s < 2000; s++) for (const i of sampleLabelsPerClass(labels, 2, s)) hits[i]++;
  // Each example of a 10-member class is picked with probability 2/10: 400 of 2000 expected, std ~18.
  for (let i = 0; i < 30; i++) assert.ok(Math.abs(hits[i] - 400) < 90, `example ${i} picked ${hits[i]} times`);
});

test("sampleLabelsPerClass: named errors for a small class and bad arguments", () => {
  const labels = [0, 0, 0, 1, 1, 2, 2, 2];
  assert.throws(() => sampleLabelsPerClass(labels, 3, 0), /^Error: sampleLabelsPerClass: class 1 has 2 examples, fewer than k = 3$/);
  assert.throws(() => sampleLabelsPerClass(labels, 0, 0), /sampleLabelsPerClass: k must be a positive integer, got 0/);
  assert.throws(() => sampleLabelsPerClass(labels, 1.5, 0), /sampleLabelsPerClass: k must be a positive integer, got 1.5/);
  assert.throws(() => sampleLabelsPerClass(labels, 1, 0.5), /sampleLabelsPerClass: seed must be an integer, got 0.5/);
  assert.throws(() => sampleLabelsPerClass([0, -1], 1, 0), /sampleLabelsPerClass: labels must hold integers in \[0, inf\), got -1 at index 1/);
});

test("labelSubsets: draw d does not depend on the other budgets or on the number of draws", () => {
  const labels = Array.from({ length: 90 }, (_, i) => i % 3);
  const many = labelSubsets(labels, [1, 5, "all"], 4, 3);
  const few = labelSubsets(labels, [5], 2, 3);
  assert.deepEqual(few[0].indices, many[1].indices.slice(0, 2));
  assert.equal(many[2].indices.length, 1, "one fit for all");
  assert.deepEqual(Array.from(many[2].indices[0]), Array.from({ length: 90 }, (_, i) => i));
  assert.equal(new Set(many[1].indices.map((ix) => ix.join())).size, 4, "four different draws");
  many[0].indices.forEach((one, d) => assert.ok(Array.from(one).every((i) => many[1].indices[d].includes(i)), `draw ${d} nested`));
  assert.throws(() => labelSubsets(labels, [1, 1], 2, 0), /labelSubsets: labelsPerClass must not repeat a budget, got 1 twice/);
  assert.throws(() => labelSubsets(labels, [], 2, 0), /labelSubsets: labelsPerClass must be a non-empty array of positive integers or "all", got \[\]/);
  assert.throws(() => labelSubsets(labels, [1], 0, 0), /labelSubsets: draws must be a positive integer, got 0/);
});

test("labelEfficiency: accuracy rises with labels, every draw equals a direct fit on its subset, no leak", async () => {
  await tf.setBackend("cpu");
  const trainData = gaussianClasses(300, 8, 3, 1.2, 1);
  const testData = gaussianClasses(150, 8, 3, 1.2, 2);
  const train = { x: tf.tensor2d(trainData.x), y: trainData.y };
  const testSplit = { x: tf.tensor2d(testData.x), y: tf.tensor1d(testData.y, "int32") as tf.Tensor1D };
  const probe = { minSteps: 100, epochs: 10 };
  const before = tf.memory().numTensors;
  const points = labelEfficiency({ train, test: testSplit, labelsPerClass: [1, 5, "all"], draws: 4, seed: 9, probe });
  assert.equal(tf.memory().numTensors, before, "no tensors left behind");

  assert.deepEqual(points.map((p) => p.labelsPerClass), [1, 5, "all"]);
  assert.deepEqual(points.map((p) => p.labelled), [3, 15, 300]);
  assert.deepEqual(points.map((p) => p.draws), [4, 4, 1]);
  assert.deepEqual(points.map((p) => p.knn.k), [1, 5, 20], "neighbours: min(20, smallest class)");
  assert.ok(points[0].linearProbe.mean < points[2].linearProbe.mean, `probe ${points[0].linearProbe.mean} -> ${points[2].linearProbe.mean}`);
  assert.ok(points[0].knn.mean < points[2].knn.mean, `knn ${points[0].knn.mean} -> ${points[2].knn.mean}`);
  assert.ok(points[2].linearProbe.mean > 0.85, `all-label probe ${points[2].linearProbe.mean}`);
  assert.equal(points[2].linearProbe.std, 0);

  // Independent reference: each draw's subset fitted with linearProbe and knnClassify directly.
  const subsets = labelSubsets(trainData.y, [1, 5, "all"], 4, 9);
  subsets.forEach(({ indices }, b) => {
    const probeValues = indices.map((rows) => {
      const x = tf.tensor2d(Array.from(rows, (i) => trainData.x[i]));
      const y = Array.from(rows, (i) => trainData.y[i]);
      const p = linearProbe(x, y, testSplit.x, testData.y, { ...probe, standardiseWith: train.x }).accuracy;
      const k = knnClassify(x, y, testSplit.x, testData.y, { k: Math.min(20, rows.length / 3) }).accuracy;
      x.dispose();
      return [p, k];
    });
    assert.deepEqual(points[b].linearProbe.values, probeValues.map((v) => v[0]));
    assert.deepEqual(points[b].knn.values, probeValues.map((v) => v[1]));
    const values = points[b].linearProbe.values;
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    assert.ok(Math.abs(points[b].linearProbe.mean - mean) < 1e-12);
    if (values.length > 1) {
      const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1));
      assert.ok(Math.abs(points[b].linearProbe.std - std) < 1e-12);
    }
  });
  tf.dispose([train.x, testSplit.x, testSplit.y]);
});

test("labelEfficiency: repeatable for a seed, other seeds draw other subsets", async () => {
  await tf.setBackend("cpu");
  const trainData = gaussianClasses(60, 4, 3, 0.8, 3);
  const testData = gaussianClasses(60, 4, 3, 0.8, 4);
  const train = { x: tf.tensor2d(trainData.x), y: trainData.y };
  const testSplit = { x: tf.tensor2d(testData.x), y: testData.y };
  const run = (seed: number) =>
    labelEfficiency({ train, test: testSplit, labelsPerClass: [2], draws: 3, seed, probe: { minSteps: 30, epochs: 1 }, knn: { k: 1 } });
  assert.deepEqual(run(5), run(5));
  const a = run(5)[0].knn.values;
  const b = run(6)[0].knn.values;
  assert.notDeepEqual(a, b, "another seed gives other subsets, so other 1-NN scores");
  tf.dispose([train.x, testSplit.x]);
});

test("labelEfficiency: named errors for bad inputs, nothing leaked", async () => {
  await tf.setBackend("cpu");
  const x = tf.tensor2d([[0, 1], [1, 0], [0, 2], [2, 0], [3, 3]]);
  const y = [0, 1, 0, 1, 2];
  const before = tf.memory().numTensors;
  const ok = { train: { x, y }, test: { x, y } };
  assert.throws(() => labelEfficiency({ ...ok, labelsPerClass: [2] }), /^Error: labelEfficiency: labelsPerClass 2 needs 2 training examples of every class, but class 2 has 1$/);
  assert.throws(() => labelEfficiency({ ...ok }), /labelEfficiency: labelsPerClass 10 needs 10 training examples of every class, but class 0 has 2/);
  assert.throws(() => labelEfficiency({ ...ok, labelsPerClass: [1], draws: -1 }), /labelEfficiency: options.draws must be a positive integer, got -1/);
  assert.throws(() => labelEfficiency({ ...ok, labelsPerClass: [0] }), /labelEfficiency: options.labelsPerClass\[0\] must be a positive integer or "all", got 0/);
  assert.throws(() => labelEfficiency({ ...ok, labelsPerClass: ["some" as never] }), /labelEfficiency: options.labelsPerClass\[0\] must be a positive integer or "all", got "some"/);
  assert.throws(() => labelEfficiency({ ...ok, labelsPerClass: [1], seed: 0.5 }), /labelEfficiency: options.seed must be an integer, got 0.5/);
  assert.throws(() => labelEfficiency({ ...ok, labelsPerClass: [1], knn: { k: 0 } }), /labelEfficiency: options.knn.k must be a positive integer, got 0/);
  assert.throws(() => labelEfficiency({ train: { x, y: [0, 1, 0] }, test: { x, y }, labelsPerClass: [1] }), /labelEfficiency: options.train.y must have shape \[5\], got \[3\]/);
  assert.throws(() => labelEfficiency({ train: { x, y: [0, 0, 0, 0, 0] }, test: { x, y }, labelsPerClass: [1] }), /labelEfficiency: options.train.y must hold at least 2 classes, got 1/);
  const wide = tf.tensor2d([[1, 2, 3]]);
  assert.throws(() => labelEfficiency({ train: { x, y }, test: { x: wide, y: [0] }, labelsPerClass: [1] }), /labelEfficiency: options.test.x must be a tensor of shape \[n,2\], got a tensor of shape \[1,3\]/);
  assert.throws(() => labelEfficiency({ train: undefined as never, test: { x, y } }), /labelEfficiency: options.train must be \{x: tf.Tensor2D, y: labels\}, got undefined/);
  wide.dispose();
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});
