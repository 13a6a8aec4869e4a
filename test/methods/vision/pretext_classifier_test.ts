import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import { loadMnist } from "../../../src/data/mnist";
import { rotationBatch } from "../../../src/data/pretext_rotation";
import { relativePositionBatch, RELATIVE_POSITIONS } from "../../../src/data/pretext_relative";
import { jigsawBatch, minimumHammingDistance } from "../../../src/data/pretext_jigsaw";
import { visionBatches } from "../../../src/methods/vision/batches";
import { smallCnnEncoder } from "../../../src/models/encoders";
import { createJigsaw, createRelativePosition, createRotNet } from "../../../src/methods/vision/pretext_classifier";
import type { VisionBatch, VisionMethod } from "../../../src/methods/vision/method";
import { allMoved, assertSteadyTensors, ctxOf, rngImages, snapshot, trainCounting } from "./helpers";

// The fast conv gradients: cpu's stock Conv2DBackpropFilter is a naive loop.
registerTrainingKernels();

/** A smallCnnEncoder with a few channels: any input size (global pooling) -> [n, 4]. */
const tinyCnn = (seed: number) => smallCnnEncoder({ channels: [2, 3, 4], seed });

/** Mean softmax cross-entropy and top-1 accuracy of `logits` rows against `labels`, in float64. */
function referenceCrossEntropy(logits: number[][], labels: ArrayLike<number>): { loss: number; accuracy: number } {
  let loss = 0, hits = 0;
  logits.forEach((row, i) => {
    const top = Math.max(...row);
    const logSum = top + Math.log(row.reduce((s, v) => s + Math.exp(v - top), 0));
    loss += logSum - row[labels[i]];
    if (row.indexOf(top) === labels[i]) hits++;
  });
  return { loss: loss / logits.length, accuracy: hits / logits.length };
}

/**
 * Calls `method.loss` on `x` with step seed `seed` and compares loss and
 * accuracy with the float64 cross-entropy of the head applied to
 * `features()`, the features the test rebuilt from the batch builder.
 */
function assertLossMatches(method: VisionMethod, x: tf.Tensor4D, seed: number, features: () => tf.Tensor, labels: ArrayLike<number>): void {
  const head = method.trainable[1] as tf.LayersModel;
  const before = tf.memory().numTensors;
  const [loss, accuracy] = tf.tidy(() => {
    const out = method.loss({ images: x }, ctxOf(seed));
    return [out.loss.dataSync()[0], out.metrics!.accuracy.dataSync()[0]];
  });
  assert.equal(tf.memory().numTensors, before, "the loss leaves no tensor outside the step's tidy");
  const logits = tf.tidy(() => (head.apply(features(), { training: true }) as tf.Tensor).arraySync() as number[][]);
  const want = referenceCrossEntropy(logits, labels);
  assert.ok(Math.abs(loss - want.loss) < 1e-5 * Math.max(1, want.loss), `${method.name}: loss ${loss} vs ${want.loss}`);
  assert.ok(Math.abs(accuracy - want.accuracy) < 1e-6, `${method.name}: accuracy ${accuracy} vs ${want.accuracy}`);
}

/** Image `b` of `px` turned `k` quarter turns counter-clockwise, in plain JS (np.rot90). */
function rot90(img: number[][][], k: number): number[][][] {
  let out = img;
  for (let t = 0; t < k; t++) {
    const n = out.length;
    const prev = out;
    out = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => prev[j][n - 1 - i]));
  }
  return out;
}

test("createRotNet: label k is the image turned k quarter turns, and the loss is the float64 cross-entropy of the head over its features", async () => {
  await tf.setBackend("cpu");
  const encoder = tinyCnn(1);
  const rotnet = createRotNet({ encoder, encoderDim: 4, seed: 2 });
  assert.equal(rotnet.name, "RotNet");
  assert.equal((rotnet.trainable[1] as tf.LayersModel).layers.length, 1, "a linear head by default");
  const x = rngImages(3, 4);
  const rotated = rotationBatch(x, 17);
  const labels = rotated.labels.dataSync();
  assert.deepEqual([0, 1, 2, 3].map((k) => labels.filter((l) => l === k).length), [3, 3, 3, 3], "all four angles of every image");
  const src = x.arraySync() as number[][][][];
  const rows = rotated.images.arraySync() as number[][][][];
  rows.forEach((row, r) => assert.deepEqual(row, rot90(src[rotated.sources[r]], labels[r]), `row ${r}: label ${labels[r]}`));
  assertLossMatches(rotnet, x, 17, () => encoder.apply(rotated.images, { training: true }) as tf.Tensor, labels);
  tf.dispose([x, rotated.images, rotated.labels]);
  rotnet.dispose();
  encoder.dispose();
});

test("createRelativePosition: the label is where the neighbour patch sits, and the head sees [centre, neighbour] features", async () => {
  await tf.setBackend("cpu");
  const encoder = tinyCnn(1);
  const relpos = createRelativePosition({ encoder, encoderDim: 4, seed: 2, grid: { patch: 6, gap: 3, jitter: 1 } });
  const x = rngImages(8, 5);
  const pair = relativePositionBatch(x, { patch: 6, gap: 3, jitter: 1 }, 23);
  const labels = pair.labels.dataSync();
  labels.forEach((label, b) => {
    // Cells are 9 pixels apart; the jitter moves each patch by at most one pixel.
    const step = [0, 1].map((axis) => Math.round((pair.neighbourOrigins[2 * b + axis] - pair.centerOrigins[2 * b + axis]) / 9) + 0); // + 0: no -0
    assert.deepEqual(step, [...RELATIVE_POSITIONS[label]], `image ${b}, label ${label}`);
  });
  assertLossMatches(relpos, x, 23, () => tf.concat([encoder.apply(pair.center, { training: true }) as tf.Tensor, encoder.apply(pair.neighbour, { training: true }) as tf.Tensor], 1), labels);
  tf.dispose([x, pair.center, pair.neighbour, pair.labels]);
  relpos.dispose();
  encoder.dispose();
});

test("createJigsaw: a permutation set of large Hamming distance; tile k comes from cell perms[label][k]; the head sees the nine tile features in shuffled order", async () => {
  await tf.setBackend("cpu");
  const encoder = tinyCnn(1);
  const jigsaw = createJigsaw({ encoder, encoderDim: 4, permutations: 12, seed: 3 });
  assert.equal(jigsaw.perms.length, 12);
  assert.ok(minimumHammingDistance(jigsaw.perms) >= 7, `minimum Hamming distance ${minimumHammingDistance(jigsaw.perms)}`);
  const x = rngImages(3, 6);
  const puzzle = jigsawBatch(x, jigsaw.perms, { grid: 3, tile: 7 }, 31);
  const labels = puzzle.labels.dataSync();
  labels.forEach((label, b) => {
    for (let k = 0; k < 9; k++) {
      const at = 2 * (b * 9 + k);
      const cell = 3 * Math.floor(puzzle.origins[at] / 9) + Math.floor(puzzle.origins[at + 1] / 9);
      assert.equal(cell, jigsaw.perms[label][k], `image ${b}, position ${k}`);
    }
  });
  assertLossMatches(jigsaw, x, 31, () => {
    const perTile = encoder.apply(tf.reshape(puzzle.tiles, [27, 7, 7, 1]), { training: true }) as tf.Tensor;
    // Image b's row: the features of its tiles 0..8 side by side.
    return tf.stack([0, 1, 2].map((b) => tf.concat(Array.from({ length: 9 }, (_, k) => tf.slice(perTile, [b * 9 + k, 0], [1, 4])), 1).squeeze([0])));
  }, labels);
  tf.dispose([x, puzzle.tiles, puzzle.labels]);
  jigsaw.dispose();
  encoder.dispose();
});

test("RotNet, relative position and jigsaw train through training.train on digits to a pretext accuracy well above chance, with no tensor leak", async () => {
  await tf.setBackend("cpu");
  const { train } = loadMnist({ trainSize: 256, testSize: 1 });
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  // Settings found by trying a few: the fewest steps after which each task is clearly learnt (measured
  // accuracy over the last 10 steps in brackets).
  const cases: Array<{ name: string; make: (encoder: tf.LayersModel) => VisionMethod; chance: number; required: number; lr: number; steps: number; batchSize: number }> = [
    { name: "RotNet", make: (encoder) => createRotNet({ encoder, encoderDim: 16, seed: 1 }), chance: 0.25, required: 0.45, lr: 3e-3, steps: 40, batchSize: 16 }, // (0.58)
    { name: "relative position", make: (encoder) => createRelativePosition({ encoder, encoderDim: 16, seed: 1 }), chance: 0.125, required: 0.22, lr: 1e-2, steps: 60, batchSize: 32 }, // (0.29)
    { name: "jigsaw", make: (encoder) => createJigsaw({ encoder, encoderDim: 16, permutations: 8, seed: 1 }), chance: 0.125, required: 0.45, lr: 3e-3, steps: 30, batchSize: 16 }, // (0.73)
  ];
  for (const { name, make, chance, required, lr, steps, batchSize } of cases) {
    const encoder = smallCnnEncoder({ channels: [8, 16, 16], seed: 1 });
    const start = tf.memory().numTensors;
    const method = make(encoder);
    const e0 = snapshot(encoder);
    const optimizer = tf.train.adam(lr);
    const { history, counts } = await trainCounting<VisionBatch>({ ...method, optimizer, batches: visionBatches(train, { batchSize }), steps, seed: 3 });
    // Chance accuracy over the last 10 batches (160-320 examples) has a standard deviation below 0.035.
    const accuracy = mean(history.metrics.accuracy.slice(-10));
    assert.ok(accuracy > required, `${name}: pretext accuracy ${accuracy} over the last 10 steps (chance ${chance}, ${required} required)`);
    assert.ok(mean(history.loss.slice(-5)) < mean(history.loss.slice(0, 5)), `${name}: the loss falls`);
    assert.ok(allMoved(snapshot(encoder), e0), `${name}: every encoder weight moves`);
    assertSteadyTensors(counts, steps);
    optimizer.dispose();
    method.dispose();
    assert.equal(tf.memory().numTensors, start, `${name}: dispose frees the head, not the encoder`);
    assert.ok(!encoder.weights[0].read().isDisposed);
    encoder.dispose();
  }
});

test("the pretext classifiers reject bad options and batches", async () => {
  await tf.setBackend("cpu");
  const encoder = tinyCnn(1);
  const bad: Array<[() => unknown, RegExp]> = [
    [() => createRotNet(undefined as never), /createRotNet: options must be an object \{encoder, encoderDim, hidden\?, seed\?\}, got undefined/],
    [() => createRotNet({ encoder: {} as never, encoderDim: 4 }), /createRotNet: options.encoder must be a tf.LayersModel, got an object/],
    [() => createRotNet({ encoder, encoderDim: 0 }), /createRotNet: options.encoderDim must be a positive integer, got 0/],
    [() => createRotNet({ encoder, encoderDim: 4, hidden: [0] }), /createRotNet: options.hidden must be an array of positive integers/],
    [() => createRotNet({ encoder, encoderDim: 4, seed: 0.5 }), /createRotNet: options.seed must be an integer, got 0.5/],
    [() => createRelativePosition({ encoder, encoderDim: 4, grid: 3 as never }), /createRelativePosition: options must be an object \{patch\?, gap\?, jitter\?\}, got 3/],
    [() => createJigsaw({ encoder, encoderDim: 4, permutations: 1 }), /createJigsaw: options.permutations must be at least 2, got 1/],
    [() => createJigsaw({ encoder, encoderDim: 4, perms: [[0, 1, 2, 3, 4, 5, 6, 7, 8], [0, 1, 2, 3, 4, 5, 6, 8, 8]] }), /createJigsaw: options.perms\[1\] must be a permutation of 0..8, got \[0,1,2,3,4,5,6,8,... \(9 elements\)\]/],
    [() => createJigsaw({ encoder, encoderDim: 4, perms: [[0, 1, 2, 3, 4, 5, 6, 7, 8]] }), /createJigsaw: options.perms must be an array of at least 2 permutations of 0..8/],
    [() => createJigsaw({ encoder, encoderDim: 4, tile: 0 }), /createJigsaw: options.tile must be a positive integer, got 0/],
  ];
  for (const [call, message] of bad) assert.throws(call, message);
  const wrongDim = createRotNet({ encoder, encoderDim: 5 });
  const x = rngImages(2, 1);
  assert.throws(() => tf.tidy(() => wrongDim.loss({ images: x }, ctxOf(1)).loss), /RotNet\.loss: encoder must map \[8,28,28,1\] to \[8,5\], got a tensor of shape \[8,4\]/);
  const one = rngImages(1, 1);
  assert.throws(() => wrongDim.loss({ images: one }, ctxOf(1)), /RotNet\.loss: batch\.images must be a batch \[B, height, width, channels\] with B >= 2/);
  tf.dispose([x, one]);
  wrongDim.dispose();
  encoder.dispose();
});
