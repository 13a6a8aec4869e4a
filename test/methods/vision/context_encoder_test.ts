import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import { loadMnist, toTensors } from "../../../src/data/mnist";
import { smallCnnEncoder } from "../../../src/models/encoders";
import { createContextEncoder, maskedRegionMse, meanRegionBaselineMse, regionMask, spatialDecoder } from "../../../src/methods/vision/context_encoder";
import { visionBatches } from "../../../src/methods/vision/batches";
import type { VisionBatch } from "../../../src/methods/vision/method";
import { assertSteadyTensors, ctxOf, denseEncoder, onWasm, rngImages, snapshot, allMoved, trainCounting } from "./helpers";

/** sum(mask * (p - t)^2) / (sum(mask) * channels) in float64. */
function regionMseRef(p: ArrayLike<number>, t: ArrayLike<number>, mask: ArrayLike<number>, channels: number): number {
  let sum = 0;
  let count = 0;
  for (let q = 0; q < mask.length; q++) {
    count += mask[q];
    for (let c = 0; c < channels; c++) sum += mask[q] * (p[q * channels + c] - t[q * channels + c]) ** 2;
  }
  return sum / Math.max(count * channels, 1);
}

test("maskedRegionMse: float64 value, pixels outside the region of the target change nothing, gradient matches finite differences", async () => {
  await tf.setBackend("cpu");
  const p = rngImages(2, 1).slice([0, 0, 0, 0], [2, 6, 6, 1]).tile([1, 1, 1, 2]) as tf.Tensor4D;
  const t = rngImages(2, 2).slice([0, 0, 0, 0], [2, 6, 6, 1]).tile([1, 1, 1, 2]) as tf.Tensor4D;
  const mask = regionMask(2, 6, 6, { size: 3, placement: "random", seed: 4 });
  const before = tf.memory().numTensors;
  const loss = maskedRegionMse(p, t, mask);
  const [pv, tv, mv] = [p.dataSync(), t.dataSync(), mask.dataSync()];
  assert.ok(Math.abs(loss.dataSync()[0] - regionMseRef(pv, tv, mv, 2)) < 1e-6);
  // Rewrite every target pixel outside the region: the loss is bit-for-bit the same.
  const outside = tf.tidy(() => tf.add(tf.mul(t, mask), tf.mul(tf.sub(1, mask), tf.randomUniform(t.shape, -5, 5, "float32", 9)))) as tf.Tensor4D;
  const again = maskedRegionMse(p, outside, mask);
  assert.equal(again.dataSync()[0], loss.dataSync()[0]);
  // ... while one pixel inside changes it.
  const inside = tf.tidy(() => tf.add(t, tf.mul(mask, 0.1))) as tf.Tensor4D;
  const changed = maskedRegionMse(p, inside, mask);
  assert.notEqual(changed.dataSync()[0], loss.dataSync()[0]);
  const grad = tf.grad((x: tf.Tensor) => maskedRegionMse(x as tf.Tensor4D, t, mask))(p);
  const gv = grad.dataSync();
  const h = 1e-4;
  for (const q of [0, 5, 17, 40, 71, 100, 143]) {
    const plus = Float64Array.from(pv);
    const minus = Float64Array.from(pv);
    plus[q] += h;
    minus[q] -= h;
    const fd = (regionMseRef(plus, tv, mv, 2) - regionMseRef(minus, tv, mv, 2)) / (2 * h);
    assert.ok(Math.abs(gv[q] - fd) < 1e-4, `d/dp[${q}]: ${gv[q]} vs ${fd}`);
  }
  tf.dispose([loss, outside, again, inside, changed, grad]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([p, t, mask]);
});

test("regionMask: the centre square exactly, random squares inside the image, seeded, placed differently per image", async () => {
  await tf.setBackend("cpu");
  const centre = regionMask(3, 28, 28, { size: 14 });
  const c = centre.arraySync() as number[][][][];
  for (let b = 0; b < 3; b++) for (let i = 0; i < 28; i++) for (let j = 0; j < 28; j++) {
    assert.equal(c[b][i][j][0], i >= 7 && i < 21 && j >= 7 && j < 21 ? 1 : 0);
  }
  const random = regionMask(32, 28, 28, { size: 10, placement: "random", seed: 3 });
  const same = regionMask(32, 28, 28, { size: 10, placement: "random", seed: 3 });
  assert.deepEqual(random.dataSync(), same.dataSync());
  const r = random.arraySync() as number[][][][];
  const corners = new Set<string>();
  for (let b = 0; b < 32; b++) {
    const cells: Array<[number, number]> = [];
    r[b].forEach((row, i) => row.forEach((v, j) => { if (v[0] === 1) cells.push([i, j]); }));
    assert.equal(cells.length, 100, "a full 10x10 square inside the image");
    const [top, left] = cells[0];
    assert.ok(cells.every(([i, j]) => i >= top && i < top + 10 && j >= left && j < left + 10));
    corners.add(`${top},${left}`);
  }
  assert.ok(corners.size >= 25, `${corners.size} distinct placements in 32 images`);
  assert.throws(() => regionMask(2, 28, 28, { size: 29 }), /regionMask: options.size must fit the 28x28 image, got 29/);
  assert.throws(() => regionMask(2, 28, 28, { placement: "corner" as never }), /regionMask: options.placement must be one of "center", "random", got "corner"/);
  tf.dispose([centre, random, same]);
});

test("createContextEncoder: the loss is maskedRegionMse of the decoded masked input, regionMse its value; inpaint keeps the context", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(16, 1);
  const ce = createContextEncoder({ encoder, encoderDim: 16, region: { size: 8, placement: "random" }, fill: 0.5, seed: 2 });
  const x = rngImages(4, 3);
  const before = tf.memory().numTensors;
  const [got, metric, want] = tf.tidy(() => {
    const out = ce.loss({ images: x }, ctxOf(11));
    const mask = regionMask(4, 28, 28, { size: 8, placement: "random", seed: 11 });
    const masked = tf.add(tf.mul(x, tf.sub(1, mask)), tf.mul(mask, 0.5));
    const decoded = ce.decoder.apply(encoder.apply(masked, { training: true }), { training: true }) as tf.Tensor4D;
    return [out.loss, out.metrics!.regionMse, maskedRegionMse(decoded, x, mask)];
  });
  assert.ok(Math.abs(got.dataSync()[0] - want.dataSync()[0]) < 1e-6);
  assert.equal(metric.dataSync()[0], got.dataSync()[0]);
  tf.dispose([got, metric, want]);
  const { masked, filled, mask } = ce.inpaint(x, 11);
  const [xv, mv, fv, kv] = [x.dataSync(), mask.dataSync(), filled.dataSync(), masked.dataSync()];
  for (let q = 0; q < xv.length; q++) {
    if (mv[q] === 0) assert.equal(fv[q], xv[q], "context pixels are kept");
    else assert.ok(kv[q] === 0.5 && fv[q] >= 0 && fv[q] <= 1, "the hole is grey in the input, a clipped prediction in the output");
  }
  tf.dispose([masked, filled, mask]);
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
  ce.dispose();
  encoder.dispose();
});

test("createContextEncoder trains a conv encoder on digits (wasm, batch 32): beats the mean-image baseline on held-out digits, no tensor leak", async () => {
  const { train, test: held } = loadMnist({ trainSize: 512, testSize: 200 });
  registerTrainingKernels(); // wasm has no Conv2DBackpropFilter of its own
  await onWasm(async () => {
    const encoder = smallCnnEncoder({ channels: [8, 16, 64], seed: 1 });
    const start = tf.memory().numTensors;
    const ce = createContextEncoder({ encoder, encoderDim: 64, region: { size: 12 }, seed: 1 });
    const e0 = snapshot(encoder);
    const optimizer = tf.train.adam(3e-3);
    const steps = 120;
    const { history, counts } = await trainCounting<VisionBatch>({ ...ce, optimizer, batches: visionBatches(train, { batchSize: 32 }), steps, seed: 3 });
    assertSteadyTensors(counts, steps);
    assert.ok(allMoved(snapshot(encoder), e0), "the encoder is trained through the decoder");
    const { x: trainX, y: trainY } = toTensors(train);
    const { x: testX, y: testY } = toTensors(held);
    const baseline = meanRegionBaselineMse(trainX, testX, { size: 12 });
    const { filled, mask, masked } = ce.inpaint(testX);
    const mse = maskedRegionMse(filled, testX, mask);
    const heldOut = mse.dataSync()[0];
    const first = history.loss.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = history.loss.slice(-5).reduce((a, b) => a + b) / 5;
    console.log(`context encoder: train loss ${first.toFixed(4)} -> ${last.toFixed(4)}; held-out region MSE ${heldOut.toFixed(4)} vs mean-image baseline ${baseline.toFixed(4)}`);
    assert.ok(last < first, "the training loss falls");
    assert.ok(heldOut < 0.9 * baseline, `held-out region MSE ${heldOut} vs baseline ${baseline}`);
    tf.dispose([trainX, trainY, testX, testY, filled, mask, masked, mse]);
    optimizer.dispose();
    ce.dispose();
    assert.equal(tf.memory().numTensors, start, "dispose frees the decoder, not the encoder");
    encoder.dispose();
  });
});

test("createContextEncoder, spatialDecoder and meanRegionBaselineMse reject bad options and inputs", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(16, 1);
  const bad: Array<[object, RegExp]> = [
    [{ encoder: {}, encoderDim: 16 }, /createContextEncoder: options.encoder must be a tf.LayersModel, got an object/],
    [{ encoder, encoderDim: 0 }, /createContextEncoder: options.encoderDim must be a positive integer, got 0/],
    [{ encoder, encoderDim: 16, fill: NaN }, /createContextEncoder: options.fill must be a finite number, got NaN/],
    [{ encoder, encoderDim: 16, region: { size: 30 } }, /createContextEncoder: options.region.size must fit the 28x28 image, got 30/],
    [{ encoder, encoderDim: 16, imageShape: [30, 30, 1] }, /spatialDecoder: options.outputShape must have height and width divisible by 4/],
  ];
  for (const [options, message] of bad) assert.throws(() => createContextEncoder(options as never), message);
  assert.throws(() => spatialDecoder({ codeDim: 4, outputShape: [28, 28] as never }), /spatialDecoder: options.outputShape must be \[height, width, channels\] of positive integers, got \[28,28\]/);
  const wrong = createContextEncoder({ encoder, encoderDim: 12 });
  const x = rngImages(4, 1);
  assert.throws(() => tf.tidy(() => { wrong.loss({ images: x }, ctxOf(1)); }), /ContextEncoder\.loss: encoder must map \[4,28,28,1\] to \[4,12\], got a tensor of shape \[4,16\]/);
  const rgb = tf.zeros([4, 28, 28, 3]) as tf.Tensor4D;
  assert.throws(() => wrong.loss({ images: rgb }, ctxOf(1)), /ContextEncoder\.loss: images must be \[B, 28, 28, 1\] \(options.imageShape\), got a tensor of shape \[4,28,28,3\]/);
  assert.throws(() => meanRegionBaselineMse(x, rgb), /meanRegionBaselineMse: test must be \[m, 28, 28, 1\] like train, got a tensor of shape \[4,28,28,3\]/);
  const p = tf.zeros([2, 4, 4, 1]) as tf.Tensor4D;
  assert.throws(() => maskedRegionMse(p, p, tf.zeros([2, 4, 4, 2]) as tf.Tensor4D), /maskedRegionMse: mask must be \[2,4,4,1\], got a tensor of shape \[2,4,4,2\]/);
  tf.dispose([x, rgb, p]);
  wrong.dispose();
  encoder.dispose();
});
