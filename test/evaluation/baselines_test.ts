import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { evaluateRepresentation } from "../../src/evaluation/baselines";
import { extractFeatures, flattenInputs } from "../../src/evaluation/features";
import { knnClassify } from "../../src/evaluation/knn";
import { labelEfficiency } from "../../src/evaluation/label_efficiency";
import { linearProbe } from "../../src/evaluation/linear_probe";

/** 4x4 one-channel images: class c has a bright pixel at position c, plus noise. */
function images(n: number, seed: number) {
  const rng = createRng(seed);
  const values: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    for (let p = 0; p < 16; p++) values.push((p === c ? 3 : 0) + 0.5 * rng.normal());
    y.push(c);
  }
  return { x: tf.tensor4d(values, [n, 4, 4, 1]), y };
}

function encoderModel(seed: number): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [4, 4, 1] }),
      tf.layers.dense({ units: 6, activation: "relu", kernelInitializer: tf.initializers.heUniform({ seed }) }),
    ],
  });
}

const probe = { epochs: 5, minSteps: 50 };
const knn = { k: 5 };

test("rows for raw inputs, random init and the encoder, each equal to probing its features directly", async () => {
  await tf.setBackend("cpu");
  const train = images(90, 1);
  const testSet = images(45, 2);
  const encoder = encoderModel(3);
  // "Training": overwrite the kernel so feature c reads pixel c (a perfect encoder).
  const kernel = tf.tidy(() => tf.mul(tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, ...new Array(10).fill(5)], "int32"), 6), 1));
  const initial = encoder.getWeights().map((w) => w.clone());
  encoder.setWeights([kernel, tf.zeros([6])]);
  const before = tf.memory().numTensors;
  const rows = await evaluateRepresentation({ encoder, name: "trained", train, test: testSet, probe, knn });
  assert.equal(tf.memory().numTensors, before, "no tensors left behind");

  assert.deepEqual(rows.map((r) => r.representation), ["raw inputs", "random init", "trained"]);
  assert.deepEqual(rows.map((r) => r.dim), [16, 6, 6]);

  const direct = (trainF: tf.Tensor2D, testF: tf.Tensor2D) => [
    linearProbe(trainF, train.y, testF, testSet.y, probe).accuracy,
    knnClassify(trainF, train.y, testF, testSet.y, knn).accuracy,
  ];
  const raw = direct(flattenInputs(train.x), flattenInputs(testSet.x));
  assert.deepEqual([rows[0].linearProbe, rows[0].knn], raw);

  // The random-init row is the encoder's architecture at its own (seeded) initial weights.
  const fresh = encoderModel(3);
  fresh.setWeights(initial);
  const random = direct(extractFeatures(fresh, train.x), extractFeatures(fresh, testSet.x));
  assert.deepEqual([rows[1].linearProbe, rows[1].knn], random);

  const trained = direct(extractFeatures(encoder, train.x), extractFeatures(encoder, testSet.x));
  assert.deepEqual([rows[2].linearProbe, rows[2].knn], trained);
  assert.equal(rows[2].knn, 1, "the perfect encoder separates the classes");
  assert.ok(rows.every((r) => r.seconds >= 0));
});

test("function encoders need makeRandomEncoder; mismatched splits are rejected", async () => {
  await tf.setBackend("cpu");
  const train = images(30, 1);
  const testSet = images(15, 2);
  const fn = (x: tf.Tensor) => tf.reshape(x, [x.shape[0], 16]);
  await assert.rejects(
    evaluateRepresentation({ encoder: fn, train, test: testSet }),
    /evaluateRepresentation: makeRandomEncoder must be given when encoder is a function, got none/,
  );
  const rows = await evaluateRepresentation({
    encoder: fn,
    makeRandomEncoder: () => encoderModel(9),
    train,
    test: testSet,
    probe,
    knn,
  });
  assert.equal(rows.length, 3);
  assert.deepEqual([rows[2].linearProbe, rows[2].knn], [rows[0].linearProbe, rows[0].knn], "identity encoder = raw inputs");
  await assert.rejects(
    evaluateRepresentation({ encoder: fn, train, test: { x: tf.zeros([5, 2, 2, 1]), y: [0, 1, 2, 0, 1] } }),
    /evaluateRepresentation: test.x must have shape \[n, 4,4,1\] like train.x, got \[5,2,2,1\]/,
  );
});

test("labelsPerClass: every row gains fewLabels, labelEfficiency on its own features with the same subsets", async () => {
  await tf.setBackend("cpu");
  const train = images(60, 5);
  const testSet = images(30, 6);
  const encoder = encoderModel(4);
  const before = tf.memory().numTensors;
  const rows = await evaluateRepresentation({ encoder, train, test: testSet, probe, knn, labelsPerClass: [2, "all"], labelDraws: 3, labelSeed: 7 });
  assert.equal(tf.memory().numTensors, before, "no tensors left behind");
  const few = (trainF: tf.Tensor2D, testF: tf.Tensor2D) => {
    const points = labelEfficiency({ train: { x: trainF, y: train.y }, test: { x: testF, y: testSet.y }, labelsPerClass: [2, "all"], draws: 3, seed: 7, probe, knn });
    tf.dispose([trainF, testF]);
    return points;
  };
  assert.deepEqual(rows[0].fewLabels, few(flattenInputs(train.x), flattenInputs(testSet.x)));
  assert.deepEqual(rows[2].fewLabels, few(extractFeatures(encoder, train.x), extractFeatures(encoder, testSet.x)));
  rows.forEach((r) => {
    assert.deepEqual(r.fewLabels?.map((p) => [p.labelsPerClass, p.labelled, p.draws, p.knn.k]), [[2, 6, 3, 2], ["all", 60, 1, 5]]);
    // The "all" budget is the row's own full-label probe and kNN.
    assert.equal(r.fewLabels?.[1].linearProbe.mean, r.linearProbe);
    assert.equal(r.fewLabels?.[1].knn.mean, r.knn);
  });
  const plain = await evaluateRepresentation({ encoder, train, test: testSet, probe, knn });
  assert.ok(plain.every((r) => !("fewLabels" in r)), "no fewLabels unless asked");
  await assert.rejects(evaluateRepresentation({ encoder, train, test: testSet, labelDraws: 2 }), /evaluateRepresentation: options.labelDraws needs options.labelsPerClass, got labelDraws 2 without it/);
  await assert.rejects(evaluateRepresentation({ encoder, train, test: testSet, labelsPerClass: [1], labelDraws: 0 }), /evaluateRepresentation: options.labelDraws must be a positive integer, got 0/);
  await assert.rejects(evaluateRepresentation({ encoder, train, test: testSet, labelsPerClass: [-3] }), /evaluateRepresentation: options.labelsPerClass\[0\] must be a positive integer or "all", got -3/);
  await assert.rejects(evaluateRepresentation({ encoder, train, test: testSet, labelsPerClass: [21] }), /evaluateRepresentation: labelsPerClass 21 needs 21 training examples of every class, but class 0 has 20/);
  assert.equal(tf.memory().numTensors, before, "failed calls leave no tensors");
  tf.dispose([train.x, testSet.x]);
});
