import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { createRng } from "../../../src/data/random";
import { loadMnist } from "../../../src/data/mnist";
import { visionBatches } from "../../../src/methods/vision/batches";
import { smallCnnEncoder } from "../../../src/models/encoders";
import { countingLoss, createCounting, downsampleByTwo, otherImages, quadrantTiles } from "../../../src/methods/vision/counting";
import type { VisionBatch } from "../../../src/methods/vision/method";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import { assertSteadyTensors, ctxOf, onWasm, rngImages, trainCounting } from "./helpers";

// The fast conv gradients: cpu's stock Conv2DBackpropFilter is a naive loop.
registerTrainingKernels();

const squaredDistance = (a: number[], b: number[]): number => a.reduce((s, v, k) => s + (v - b[k]) ** 2, 0);

/** The paper's eq. 7 in float64, averaged over rows. */
function referenceCounting(whole: number[][], tileSum: number[][], other: number[][], margin: number): number {
  return whole.reduce((s, w, b) => s + squaredDistance(w, tileSum[b]) + Math.max(0, margin - squaredDistance(other[b], tileSum[b])), 0) / whole.length;
}

const randomMatrix = (rng: ReturnType<typeof createRng>, n: number, d: number, scale = 1): number[][] =>
  Array.from({ length: n }, () => Array.from({ length: d }, () => scale * rng.normal()));

test("countingLoss equals a float64 reference, with the hinge active on some rows and not on others", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(4);
  const whole = randomMatrix(rng, 4, 3);
  const tileSum = randomMatrix(rng, 4, 3);
  const other = randomMatrix(rng, 4, 3);
  const apart = other.map((o, b) => squaredDistance(o, tileSum[b]));
  const margin = [...apart].sort((a, b) => a - b)[2]; // between the 2nd and 3rd distance: hinge on for two rows
  assert.ok(apart.filter((d) => d < margin).length === 2);
  const before = tf.memory().numTensors;
  for (const m of [margin, 0.01, 100]) {
    const got = tf.tidy(() => countingLoss(tf.tensor2d(whole), tf.tensor2d(tileSum), tf.tensor2d(other), { margin: m }).dataSync()[0]);
    const want = referenceCounting(whole, tileSum, other, m);
    assert.ok(Math.abs(got - want) < 1e-5 * Math.max(1, want), `margin ${m}: ${got} vs ${want}`);
  }
  // The docstring's example.
  const example = tf.tidy(() => countingLoss(tf.tensor2d([[1, 2]]), tf.tensor2d([[1, 1]]), tf.tensor2d([[3, 1]]), { margin: 5 }).dataSync()[0]);
  assert.ok(Math.abs(example - 2) < 1e-6);
  assert.equal(tf.memory().numTensors, before);
});

test("countingLoss gradient matches central finite differences of the float64 reference, on cpu and wasm", async () => {
  const rng = createRng(9);
  const inputs = [randomMatrix(rng, 3, 4), randomMatrix(rng, 3, 4), randomMatrix(rng, 3, 4)];
  const apart = inputs[2].map((o, b) => squaredDistance(o, inputs[1][b]));
  // A margin well away from every row's distance, so the hinge has no kink within h; two rows active.
  const sorted = [...apart].sort((a, b) => a - b);
  const margin = (sorted[1] + sorted[2]) / 2;
  const h = 1e-6;
  const numeric = inputs.map((m, which) => m.map((row, i) => row.map((_, k) => {
    const shifted = (delta: number) => {
      const copy = inputs.map((x) => x.map((r) => [...r]));
      copy[which][i][k] += delta;
      return referenceCounting(copy[0], copy[1], copy[2], margin);
    };
    return (shifted(h) - shifted(-h)) / (2 * h);
  })));
  const check = () => {
    const xs = inputs.map((m) => tf.tensor2d(m));
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => countingLoss(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, { margin }))(xs);
    let maxErr = 0, maxRef = 0;
    grads.forEach((g, v) => (g.arraySync() as number[][]).forEach((row, i) => row.forEach((x, k) => {
      maxErr = Math.max(maxErr, Math.abs(x - numeric[v][i][k]));
      maxRef = Math.max(maxRef, Math.abs(numeric[v][i][k]));
    })));
    tf.dispose([...xs, ...grads]);
    assert.ok(maxRef > 1e-2, "the reference gradient should not vanish");
    assert.ok(maxErr <= 1e-4 * Math.max(1, maxRef), `${tf.getBackend()}: max gradient error ${maxErr}`);
  };
  await tf.setBackend("cpu");
  check();
  await onWasm(check);
});

test("quadrantTiles and downsampleByTwo equal the pixels they should hold; otherImages never picks the image itself", async () => {
  await tf.setBackend("cpu");
  const x = rngImages(2, 5);
  const px = x.arraySync() as number[][][][];
  const tiles = quadrantTiles(x);
  const small = downsampleByTwo(x);
  assert.deepEqual(tiles.shape, [8, 14, 14, 1]);
  assert.deepEqual(small.shape, [2, 14, 14, 1]);
  const t = tiles.arraySync() as number[][][][];
  const s = small.arraySync() as number[][][][];
  let tileErr = 0, smallErr = 0;
  for (let j = 0; j < 4; j++) for (let b = 0; b < 2; b++) for (let r = 0; r < 14; r++) for (let c = 0; c < 14; c++) {
    tileErr = Math.max(tileErr, Math.abs(t[j * 2 + b][r][c][0] - px[b][r + 14 * Math.floor(j / 2)][c + 14 * (j % 2)][0]));
    if (j === 0) {
      const mean = (px[b][2 * r][2 * c][0] + px[b][2 * r + 1][2 * c][0] + px[b][2 * r][2 * c + 1][0] + px[b][2 * r + 1][2 * c + 1][0]) / 4;
      smallErr = Math.max(smallErr, Math.abs(s[b][r][c][0] - mean));
    }
  }
  assert.equal(tileErr, 0, "tiles are copies of the quadrants");
  assert.ok(smallErr < 1e-6, `downsampled pixels are 2x2 means: ${smallErr}`);
  for (let seed = 0; seed < 20; seed++) {
    const o = otherImages(5, seed);
    assert.ok(o.every((v, i) => v !== i && v >= 0 && v < 5), `seed ${seed}: ${o}`);
    assert.equal(new Set(o).size, 5, "a permutation: each image is another's y once");
    assert.deepEqual(otherImages(5, seed), o, "seeded");
  }
  assert.throws(() => quadrantTiles(tf.zeros([1, 27, 28, 1]) as tf.Tensor4D), /quadrantTiles: images must be a float32 tensor \[batch, 2h, 2w, channels\] of even height and width, got a tensor of shape \[1,27,28,1\]/);
  assert.throws(() => otherImages(1, 0), /otherImages: b must be at least 2, got 1/);
  tf.dispose([x, tiles, small]);
});

test("createCounting: the loss and metrics equal a float64 computation from the encoder's counts of the downsampled image, its tiles and another image", async () => {
  await tf.setBackend("cpu");
  const encoder = smallCnnEncoder({ inputShape: [14, 14, 1], channels: [4, 4, 6], seed: 3 });
  const counting = createCounting({ encoder, encoderDim: 6, margin: 0.5 });
  const x = rngImages(4, 2);
  const before = tf.memory().numTensors;
  const [loss, accuracy, countError] = tf.tidy(() => {
    const out = counting.loss({ images: x }, ctxOf(13));
    return [out.loss.dataSync()[0], out.metrics!.accuracy.dataSync()[0], out.metrics!.countError.dataSync()[0]];
  });
  assert.equal(tf.memory().numTensors, before);
  const [whole, tiles] = tf.tidy(() => [
    encoder.apply(downsampleByTwo(x), { training: true }) as tf.Tensor,
    encoder.apply(quadrantTiles(x), { training: true }) as tf.Tensor,
  ].map((t) => t.arraySync() as number[][]));
  const tileSum = whole.map((_, b) => whole[0].map((_, k) => tiles[b][k] + tiles[4 + b][k] + tiles[8 + b][k] + tiles[12 + b][k]));
  const other = Array.from(otherImages(4, 13), (i) => whole[i]);
  const want = referenceCounting(whole, tileSum, other, 0.5);
  assert.ok(Math.abs(loss - want) < 1e-5 * Math.max(1, want), `${loss} vs ${want}`);
  const same = whole.map((w, b) => squaredDistance(w, tileSum[b]));
  assert.ok(Math.abs(countError - same.reduce((a, v) => a + v, 0) / 4) < 1e-5 * Math.max(1, countError));
  assert.equal(accuracy, same.filter((d, b) => d < squaredDistance(other[b], tileSum[b])).length / 4);
  x.dispose();
  counting.dispose();
  assert.ok(!encoder.weights[0].read().isDisposed, "dispose keeps the encoder");
  encoder.dispose();
});

test("createCounting trains through training.train on digits: loss and count error fall, the tiles' sum finds its own image above chance, no tensor leak", async () => {
  await tf.setBackend("cpu");
  const { train } = loadMnist({ trainSize: 256, testSize: 1 });
  const encoder = smallCnnEncoder({ inputShape: [14, 14, 1], channels: [8, 16, 16], seed: 1 });
  // A margin well above the untrained count error (about 20 here) keeps the contrastive term on:
  // with margin 1 or 10 this tiny encoder falls into the trivial phi = 0 within 40 steps.
  const counting = createCounting({ encoder, encoderDim: 16, margin: 100 });
  const optimizer = tf.train.adam(3e-3);
  const steps = 40;
  const { history, counts } = await trainCounting<VisionBatch>({ ...counting, optimizer, batches: visionBatches(train, { batchSize: 32 }), steps, seed: 2 });
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const first = mean(history.loss.slice(0, 5)), last = mean(history.loss.slice(-5));
  const errorFirst = mean(history.metrics.countError.slice(0, 5)), errorLast = mean(history.metrics.countError.slice(-5));
  const accuracy = mean(history.metrics.accuracy.slice(-10));
  assert.ok(last < first - 5, `loss ${first} -> ${last}`);
  assert.ok(errorLast < 0.7 * errorFirst, `count error ${errorFirst} -> ${errorLast}`);
  // Chance is 0.5; over 320 images its standard deviation is 0.028.
  assert.ok(accuracy > 0.6, `the tiles' sum is closer to its own image than to another on ${accuracy} of the last batches (chance 0.5)`);
  assertSteadyTensors(counts, steps);
  optimizer.dispose();
  counting.dispose();
  encoder.dispose();
});

test("createCounting rejects bad options and batches", async () => {
  await tf.setBackend("cpu");
  const encoder = smallCnnEncoder({ inputShape: [14, 14, 1], channels: [2, 2, 3], seed: 1 });
  const bad: Array<[unknown, RegExp]> = [
    [undefined, /createCounting: options must be an object \{encoder, encoderDim, margin\?\}, got undefined/],
    [{ encoder: {}, encoderDim: 3 }, /createCounting: options.encoder must be a tf.LayersModel, got an object/],
    [{ encoder, encoderDim: 0 }, /createCounting: options.encoderDim must be a positive integer, got 0/],
    [{ encoder, encoderDim: 3, margin: -1 }, /createCounting: options.margin must be a finite number > 0, got -1/],
  ];
  for (const [options, message] of bad) assert.throws(() => createCounting(options as never), message);
  const wrongDim = createCounting({ encoder, encoderDim: 4 });
  const odd = tf.zeros([2, 27, 27, 1]) as tf.Tensor4D;
  const x = rngImages(2, 1);
  assert.throws(() => tf.tidy(() => wrongDim.loss({ images: odd }, ctxOf(1)).loss), /counting\.loss: batch\.images must be a float32 tensor \[batch, 2h, 2w, channels\] of even height and width, got a tensor of shape \[2,27,27,1\]/);
  assert.throws(() => tf.tidy(() => wrongDim.loss({ images: x }, ctxOf(1)).loss), /counting\.loss: encoder must map \[10,14,14,1\] to \[10,4\], got a tensor of shape \[10,3\]/);
  const one = rngImages(1, 1);
  assert.throws(() => wrongDim.loss({ images: one }, ctxOf(1)), /counting\.loss: batch\.images must be a batch \[B, height, width, channels\] with B >= 2/);
  const counts = tf.zeros([2, 3]) as tf.Tensor2D;
  assert.throws(() => countingLoss(counts, tf.zeros([2, 4]) as tf.Tensor2D, counts), /countingLoss: tileSum must be a float32 tensor of shape \[2,3\], got a tensor of shape \[2,4\]/);
  assert.throws(() => countingLoss(counts, counts, counts, { margin: 0 }), /countingLoss: options.margin must be a finite number > 0, got 0/);
  tf.dispose([odd, x, one, counts]);
  wrongDim.dispose();
  encoder.dispose();
});
