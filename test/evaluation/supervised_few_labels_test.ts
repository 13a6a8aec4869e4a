import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { labelSubsets } from "../../src/evaluation/label_efficiency";
import { supervisedFewLabels } from "../../src/evaluation/supervised_few_labels";

/** 8x8 one-channel images of 3 classes: class c lights up rows 2c..2c+1, plus noise. */
function images(n: number, seed: number) {
  const rng = createRng(seed);
  const values: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    for (let r = 0; r < 8; r++) for (let col = 0; col < 8; col++) values.push((r >> 1 === c ? 1 : 0) + 1.5 * rng.normal());
    y.push(c);
  }
  return { x: tf.tensor4d(values, [n, 8, 8, 1]), y, values };
}

function denseEncoder(seed: number): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [8, 8, 1] }),
      tf.layers.dense({ units: 12, activation: "relu", kernelInitializer: tf.initializers.heUniform({ seed }) }),
    ],
  });
}

test("supervisedFewLabels: well above chance with enough labels, repeatable for a seed, no leak", async () => {
  await tf.setBackend("cpu");
  const train = images(120, 1);
  const testSet = images(60, 2);
  const encoderSeeds: number[] = [];
  const options = {
    makeEncoder: (seed: number) => {
      encoderSeeds.push(seed);
      return denseEncoder(seed);
    },
    train: { x: train.x, y: train.y },
    test: { x: testSet.x, y: testSet.y },
    labelsPerClass: [1, 20] as (number | "all")[],
    draws: 2,
    seed: 4,
    steps: 60,
    batchSize: 16,
    learningRate: 0.01,
  };
  const before = tf.memory().numTensors;
  const points = await supervisedFewLabels(options);
  assert.equal(tf.memory().numTensors, before, "no tensors left behind");
  assert.deepEqual(points.map((p) => p.labelsPerClass), [1, 20]);
  assert.deepEqual(points.map((p) => p.labelled), [3, 60]);
  assert.deepEqual(points.map((p) => p.draws), [2, 2]);
  assert.deepEqual(points.map((p) => p.steps), [60, 60]);
  assert.deepEqual(points.map((p) => p.knn.k), [1, 20]);
  assert.equal(points[1].linearProbe.values.length, 2);
  // Measured: 0.41 from 1 label per class, 0.81 from 20 (chance 1/3).
  assert.ok(points[1].linearProbe.mean > 0.7, `20 labels per class: ${points[1].linearProbe.mean}`);
  assert.ok(points[0].linearProbe.mean < points[1].linearProbe.mean - 0.2, `1 label ${points[0].linearProbe.mean} vs 20 ${points[1].linearProbe.mean}`);
  assert.ok(points[1].knn.mean > 0.65, `kNN on trained features: ${points[1].knn.mean}`);
  // One encoder per run, seeded by its draw: draw d starts from the same weights at every budget.
  assert.equal(encoderSeeds.length, 4);
  assert.deepEqual(encoderSeeds.slice(0, 2), encoderSeeds.slice(2));
  assert.notEqual(encoderSeeds[0], encoderSeeds[1]);

  const again = await supervisedFewLabels(options);
  assert.deepEqual(again, points, "same seed, same numbers");
  tf.dispose([train.x, testSet.x]);
});

test("supervisedFewLabels: trains on exactly the subsets labelSubsets gives, through augment with step seeds", async () => {
  await tf.setBackend("cpu");
  const train = images(45, 3);
  const testSet = images(15, 4);
  // Each training image is identified by its first pixel (noise makes them distinct).
  const byFirstPixel = new Map<number, number>();
  for (let i = 0; i < 45; i++) byFirstPixel.set(Math.fround(train.values[i * 64]), i);
  const seen: Set<number>[] = [];
  const seeds = new Set<number>();
  let run = -1;
  await supervisedFewLabels({
    makeEncoder: (seed) => {
      run++;
      seen.push(new Set());
      return denseEncoder(seed);
    },
    train: { x: train.x, y: train.y },
    test: { x: testSet.x, y: testSet.y },
    labelsPerClass: [2, 5],
    draws: 2,
    seed: 8,
    steps: 6,
    batchSize: 4,
    augment: (images, seed) => {
      seeds.add(seed);
      const first = tf.slice(images, [0, 0, 0, 0], [images.shape[0], 1, 1, 1]).dataSync();
      first.forEach((v) => {
        const i = byFirstPixel.get(v);
        assert.ok(i !== undefined, `an image from outside the training split: ${v}`);
        seen[run].add(i);
      });
      return tf.add(images, tf.randomNormal(images.shape, 0, 0.01, "float32", seed)) as tf.Tensor4D;
    },
  });
  const subsets = labelSubsets(train.y, [2, 5], 2, 8);
  const expected = subsets.flatMap((s) => s.indices);
  assert.equal(seen.length, 4);
  seen.forEach((images, r) => {
    // 6 steps of batches of 4 cover 24 rows, more than either subset: every example is seen.
    assert.deepEqual([...images].sort((a, b) => a - b), Array.from(expected[r]), `run ${r}`);
  });
  assert.ok(seeds.size >= 6, `step seeds differ, got ${seeds.size} distinct`);
  tf.dispose([train.x, testSet.x]);
});

test("supervisedFewLabels: named errors for bad options", async () => {
  await tf.setBackend("cpu");
  const train = images(9, 5);
  const base = { makeEncoder: denseEncoder, train: { x: train.x, y: train.y }, test: { x: train.x, y: train.y }, labelsPerClass: [1] };
  const before = tf.memory().numTensors;
  await assert.rejects(supervisedFewLabels({ ...base, labelsPerClass: [4] }), /supervisedFewLabels: labelsPerClass 4 needs 4 training examples of every class, but class 0 has 3/);
  await assert.rejects(supervisedFewLabels({ ...base, steps: 0 }), /supervisedFewLabels: options.steps must be a positive integer, got 0/);
  await assert.rejects(supervisedFewLabels({ ...base, draws: 1.5 }), /supervisedFewLabels: options.draws must be a positive integer, got 1.5/);
  await assert.rejects(supervisedFewLabels({ ...base, learningRate: -1 }), /supervisedFewLabels: options.learningRate must be a finite number > 0, got -1/);
  await assert.rejects(supervisedFewLabels({ ...base, makeEncoder: undefined as never }), /supervisedFewLabels: options.makeEncoder must be a function \(seed\) => tf.LayersModel, got undefined/);
  const flat = tf.zeros([9, 64]);
  await assert.rejects(supervisedFewLabels({ ...base, test: { x: flat, y: train.y } }), /supervisedFewLabels: options.test.x must have shape \[m, 8,8,1\] like options.train.x, got \[9,64\]/);
  const image = (seed: number) => tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3, kernelInitializer: tf.initializers.heUniform({ seed }) })] });
  await assert.rejects(supervisedFewLabels({ ...base, makeEncoder: image }), /supervisedFewLabels: options.makeEncoder must build an encoder with output \[batch, dim\], got \[,6,6,2\]/);
  flat.dispose();
  assert.equal(tf.memory().numTensors, before, "a failed run disposes what it made");
  train.x.dispose();
});
