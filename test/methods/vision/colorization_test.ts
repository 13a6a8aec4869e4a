import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import { chroma, coloredDigits, luminance } from "../../../src/data/colored_digits";
import { loadMnist, toTensors } from "../../../src/data/mnist";
import { createRng } from "../../../src/data/random";
import { smallCnnEncoder } from "../../../src/models/encoders";
import {
  annealedMean,
  chromaBinCentres,
  chromaBinCount,
  chromaBins,
  colorRebalanceWeights,
  createColorization,
  meanColorBaselineMse,
  rebalancedColorLoss,
} from "../../../src/methods/vision/colorization";
import { visionBatches } from "../../../src/methods/vision/batches";
import type { VisionBatch } from "../../../src/methods/vision/method";
import { allMoved, assertSteadyTensors, ctxOf, denseEncoder, onWasm, snapshot, trainCounting } from "./helpers";

/** `[b, 28, 28, 3]` uniform RGB pixels from `createRng(seed)`. */
const rgbImages = (b: number, seed: number): tf.Tensor4D => {
  const rng = createRng(seed);
  return tf.tensor4d(Float32Array.from({ length: b * 784 * 3 }, () => rng.next()), [b, 28, 28, 3]);
};

/** RGB from Y and (Cb, Cr) in float64: R = Y + 1.402 Cr, B = Y + 1.772 Cb, G = (Y - 0.299 R - 0.114 B) / 0.587. */
function rgbRef(y: number, cb: number, cr: number): number[] {
  const r = y + 1.402 * cr;
  const b = y + 1.772 * cb;
  return [r, (y - 0.299 * r - 0.114 * b) / 0.587, b];
}

/** Bin of a chroma value per axis, float64: floor((c + 0.25) / 0.05) clipped to 0..9. */
const binRef = (c: number): number => Math.min(9, Math.max(0, Math.floor((c + 0.25) / 0.05)));

test("chromaBins, chromaBinCentres and colorRebalanceWeights match float64 references (paper eq. 4)", async () => {
  await tf.setBackend("cpu");
  const x = rgbImages(2, 4);
  const before = tf.memory().numTensors;
  const cbcr = chroma(x);
  const bins = chromaBins(cbcr);
  const centres = chromaBinCentres();
  assert.deepEqual([bins.shape, bins.dtype, centres.shape], [[2, 28, 28], "int32", [100, 2]]);
  const [cv, bv, kv] = [cbcr.dataSync(), bins.dataSync(), centres.dataSync()];
  const share = new Float64Array(100);
  for (let q = 0; q < bv.length; q++) {
    assert.equal(bv[q], binRef(cv[2 * q]) * 10 + binRef(cv[2 * q + 1]));
    share[bv[q]] += 1 / bv.length;
  }
  for (let i = 0; i < 10; i++) for (let j = 0; j < 10; j++) {
    assert.ok(Math.abs(kv[2 * (i * 10 + j)] - (-0.225 + 0.05 * i)) < 1e-6 && Math.abs(kv[2 * (i * 10 + j) + 1] - (-0.225 + 0.05 * j)) < 1e-6);
  }
  const weights = colorRebalanceWeights(x, { lambda: 0.5 });
  const raw = Array.from(share, (p) => 1 / (0.5 * p + 0.5 / 100));
  const norm = raw.reduce((sum, w, k) => sum + share[k] * w, 0);
  raw.forEach((w, k) => assert.ok(Math.abs(weights[k] - w / norm) < 1e-4 * (w / norm), `weight of bin ${k}`));
  assert.ok(Math.abs(Array.from(weights).reduce((sum, w, k) => sum + share[k] * w, 0) - 1) < 1e-5, "an average pixel keeps weight 1");
  tf.dispose([cbcr, bins, centres]);
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});

test("rebalancedColorLoss and annealedMean: float64 values, the loss gradient matches finite differences", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(8);
  const [b, h, w, q] = [2, 2, 3, 4];
  const lv = Float64Array.from({ length: b * h * w * q }, () => 2 * rng.normal());
  const binsV = Int32Array.from({ length: b * h * w }, () => rng.int(q));
  const wv = [0.5, 2, 1, 3];
  const centresV = [[-0.2, 0.1], [0, 0], [0.1, -0.1], [0.2, 0.2]];
  const logits = tf.tensor4d(Float32Array.from(lv), [b, h, w, q]);
  const bins = tf.tensor3d(binsV, [b, h, w], "int32");
  const weights = tf.tensor1d(wv);
  const centres = tf.tensor2d(centresV);
  const before = tf.memory().numTensors;
  const lossRef = (l: ArrayLike<number>): number => {
    let total = 0;
    for (let p = 0; p < b * h * w; p++) {
      const row = Array.from({ length: q }, (_, k) => l[p * q + k]);
      const max = Math.max(...row);
      const logZ = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      total += wv[binsV[p]] * (logZ - row[binsV[p]]);
    }
    return total / (b * h * w);
  };
  const loss = rebalancedColorLoss(logits, bins, weights);
  assert.ok(Math.abs(loss.dataSync()[0] - lossRef(lv)) < 1e-5);
  const mean = annealedMean(logits, centres, 0.38);
  const mv = mean.dataSync();
  for (let p = 0; p < b * h * w; p++) {
    const e = Array.from({ length: q }, (_, k) => Math.exp(lv[p * q + k] / 0.38));
    const z = e.reduce((s, v) => s + v, 0);
    for (let c = 0; c < 2; c++) assert.ok(Math.abs(mv[2 * p + c] - e.reduce((s, v, k) => s + (v / z) * centresV[k][c], 0)) < 1e-5);
  }
  const grad = tf.grad((l: tf.Tensor) => rebalancedColorLoss(l as tf.Tensor4D, bins, weights))(logits);
  const gv = grad.dataSync();
  const step = 1e-4;
  for (const k of [0, 3, 9, 22, 47]) {
    const plus = Float64Array.from(lv);
    const minus = Float64Array.from(lv);
    plus[k] += step;
    minus[k] -= step;
    const fd = (lossRef(plus) - lossRef(minus)) / (2 * step);
    assert.ok(Math.abs(gv[k] - fd) < 1e-4, `d/dlogits[${k}]: ${gv[k]} vs ${fd}`);
  }
  tf.dispose([loss, mean, grad]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([logits, bins, weights, centres]);
});

test("createColorization: the loss is the rebalanced bin loss of the decoded grey image; metrics and colorize read the annealed mean", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(16, 1);
  const x = rgbImages(3, 4);
  const binWeights = colorRebalanceWeights(x);
  const col = createColorization({ encoder, encoderDim: 16, binWeights, seed: 2 });
  assert.equal(col.binCount, 100);
  const before = tf.memory().numTensors;
  const [got, chromaMse, colorMse, want, predicted, grey] = tf.tidy(() => {
    const out = col.loss({ images: x }, ctxOf(1));
    const y = luminance(x);
    const logits = col.decoder.apply([encoder.apply(y, { training: true }) as tf.Tensor, y], { training: true }) as tf.Tensor4D;
    const expected = rebalancedColorLoss(logits, chromaBins(chroma(x)), tf.tensor1d(binWeights));
    return [out.loss, out.metrics!.chromaMse, out.metrics!.colorMse, expected, annealedMean(logits, chromaBinCentres(), 0.38), y];
  });
  assert.ok(Math.abs(got.dataSync()[0] - want.dataSync()[0]) < 1e-5);
  const [xv, pv, yv] = [x.dataSync(), predicted.dataSync(), grey.dataSync()];
  let [chromaSum, colorSum] = [0, 0];
  for (let q = 0; q < yv.length; q++) {
    const [r, g, b] = [xv[3 * q], xv[3 * q + 1], xv[3 * q + 2]];
    const luma = 0.299 * r + 0.587 * g + 0.114 * b;
    chromaSum += (pv[2 * q] - (b - luma) / 1.772) ** 2 + (pv[2 * q + 1] - (r - luma) / 1.402) ** 2;
    rgbRef(yv[q], pv[2 * q], pv[2 * q + 1]).forEach((v, c) => { colorSum += (v - xv[3 * q + c]) ** 2; });
  }
  assert.ok(Math.abs(chromaMse.dataSync()[0] - chromaSum / (2 * yv.length)) < 1e-6);
  assert.ok(Math.abs(colorMse.dataSync()[0] - colorSum / xv.length) < 1e-5, `${colorMse.dataSync()[0]} vs ${colorSum / xv.length}`);
  // Inference: encoder and decoder hold no BatchNorm or dropout here, so colorize recolours the same prediction, clipped.
  const rgb = col.colorize(grey as tf.Tensor4D);
  assert.deepEqual(rgb.shape, [3, 28, 28, 3]);
  const rv = rgb.dataSync();
  for (let q = 0; q < yv.length; q++) {
    rgbRef(yv[q], pv[2 * q], pv[2 * q + 1]).forEach((v, c) => assert.ok(Math.abs(rv[3 * q + c] - Math.min(1, Math.max(0, v))) < 1e-5));
  }
  tf.dispose([got, chromaMse, colorMse, want, predicted, grey, rgb]);
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
  col.dispose();
  encoder.dispose();
});

test("meanColorBaselineMse: the train set's mean chroma on every test pixel, scored in chroma and in RGB (float64 reference)", async () => {
  await tf.setBackend("cpu");
  const train = rgbImages(2, 1);
  const test_ = rgbImages(3, 2);
  const before = tf.memory().numTensors;
  const { chromaMse, colorMse } = meanColorBaselineMse(train, test_);
  assert.equal(tf.memory().numTensors, before);
  const toYCbCr = (v: ArrayLike<number>, q: number) => {
    const [r, g, b] = [v[3 * q], v[3 * q + 1], v[3 * q + 2]];
    const y = 0.299 * r + 0.587 * g + 0.114 * b;
    return [y, (b - y) / 1.772, (r - y) / 1.402];
  };
  const tv = train.dataSync();
  let [mcb, mcr] = [0, 0];
  for (let q = 0; q < tv.length / 3; q++) { const [, cb, cr] = toYCbCr(tv, q); mcb += cb; mcr += cr; }
  mcb /= tv.length / 3;
  mcr /= tv.length / 3;
  const sv = test_.dataSync();
  let [chromaSum, colorSum] = [0, 0];
  for (let q = 0; q < sv.length / 3; q++) {
    const [y, cb, cr] = toYCbCr(sv, q);
    chromaSum += (cb - mcb) ** 2 + (cr - mcr) ** 2;
    rgbRef(y, mcb, mcr).forEach((v, c) => { colorSum += (v - sv[3 * q + c]) ** 2; });
  }
  assert.ok(Math.abs(chromaMse - chromaSum / ((sv.length / 3) * 2)) < 1e-6);
  assert.ok(Math.abs(colorMse - colorSum / sv.length) < 1e-6);
  tf.dispose([train, test_]);
});

test("createColorization trains a conv encoder on 64 coloured digits (wasm, batch 32): the loss falls and its colours beat the mean colour, no tensor leak", async () => {
  const mnist = loadMnist({ trainSize: 64, testSize: 1 });
  const train = coloredDigits(mnist.train, { seed: 1 });
  registerTrainingKernels(); // wasm has no Conv2DBackpropFilter of its own
  await onWasm(async () => {
    const encoder = smallCnnEncoder({ channels: [8, 16, 32], seed: 1 });
    const { x: trainX, y: trainY } = toTensors(train);
    const start = tf.memory().numTensors;
    const col = createColorization({ encoder, encoderDim: 32, binWeights: colorRebalanceWeights(trainX), seed: 1 });
    const e0 = snapshot(encoder);
    const optimizer = tf.train.adam(3e-3);
    const steps = 60;
    const { history, counts } = await trainCounting<VisionBatch>({ ...col, optimizer, batches: visionBatches(train, { batchSize: 32 }), steps, seed: 3 });
    assertSteadyTensors(counts, steps);
    assert.ok(allMoved(snapshot(encoder), e0), "the encoder is trained through the decoder");
    const baseline = meanColorBaselineMse(trainX, trainX);
    const scores = tf.tidy(() => {
      const grey = luminance(trainX);
      return tf.stack([tf.mean(tf.squaredDifference(col.predictChroma(grey), chroma(trainX))), tf.mean(tf.squaredDifference(col.colorize(grey), trainX))]);
    });
    const [chromaMse, colorMse] = Array.from(scores.dataSync());
    const mean5 = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;
    const [first, last] = [mean5(history.loss.slice(0, 5)), mean5(history.loss.slice(-5))];
    console.log(
      `colorization: train loss ${first.toFixed(3)} -> ${last.toFixed(3)}; chroma MSE ${chromaMse.toFixed(5)} vs mean-colour baseline ${baseline.chromaMse.toFixed(5)}; ` +
        `RGB MSE ${colorMse.toFixed(5)} vs ${baseline.colorMse.toFixed(5)}`,
    );
    assert.ok(last < first, "the training loss falls");
    assert.ok(chromaMse < baseline.chromaMse, `chroma MSE ${chromaMse} vs baseline ${baseline.chromaMse}`);
    tf.dispose([scores]);
    optimizer.dispose();
    col.dispose();
    assert.equal(tf.memory().numTensors, start, "dispose frees the decoder, bin weights and centres, not the encoder");
    tf.dispose([trainX, trainY]);
    encoder.dispose();
  });
});

test("createColorization and its parts reject bad options and inputs", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(16, 1);
  const col = createColorization({ encoder, encoderDim: 16, grid: { binSize: 0.1 } });
  assert.equal(col.binCount, 25);
  assert.deepEqual([chromaBinCount(), chromaBinCount({ binSize: 0.1 }), chromaBinCount({ binSize: 0.1, range: 0.3 })], [100, 25, 36]);
  const x = rgbImages(2, 1);
  const grey = luminance(x);
  const chromaOut = col.predictChroma(grey);
  assert.deepEqual(chromaOut.shape, [2, 28, 28, 2]);
  const bad: Array<[object, RegExp]> = [
    [{ encoder: {}, encoderDim: 16 }, /createColorization: options.encoder must be a tf.LayersModel, got an object/],
    [{ encoder, encoderDim: -1 }, /createColorization: options.encoderDim must be a positive integer, got -1/],
    [{ encoder, encoderDim: 16, imageSize: [28] }, /createColorization: options.imageSize must be \[height, width\], got \[28\]/],
    [{ encoder, encoderDim: 16, grid: { binSize: 0.07 } }, /createColorization: options.grid.binSize must divide 2 \* range into at least 2 bins, got binSize 0.07 for range 0.25/],
    [{ encoder, encoderDim: 16, binWeights: new Float32Array(25) }, /createColorization: options.binWeights must be a Float32Array of 100 finite weights >= 0 \(one per bin\), got a Float32Array of length 25/],
    [{ encoder, encoderDim: 16, temperature: 0 }, /createColorization: options.temperature must be a finite number > 0, got 0/],
    [{ encoder, encoderDim: 16, seed: 1.5 }, /createColorization: options.seed must be an integer, got 1.5/],
  ];
  for (const [options, message] of bad) assert.throws(() => createColorization(options as never), message);
  assert.throws(() => col.loss({ images: grey }, ctxOf(1)), /Colorization\.loss: images must be \[B, 28, 28, 3\], got a tensor of shape \[2,28,28,1\]/);
  assert.throws(() => col.colorize(x), /Colorization\.colorize: images must be \[B, 28, 28, 1\], got a tensor of shape \[2,28,28,3\]/);
  assert.throws(() => meanColorBaselineMse(grey, x), /meanColorBaselineMse: train must be RGB \[n, height, width, 3\], got a tensor of shape \[2,28,28,1\]/);
  assert.throws(() => colorRebalanceWeights(x, { lambda: 0 }), /colorRebalanceWeights: options.lambda must be a number in \(0, 1\], got 0/);
  assert.throws(() => chromaBins(grey), /chromaBins: cbcr must be \[batch, height, width, 2\], got a tensor of shape \[2,28,28,1\]/);
  const logits = tf.zeros([1, 2, 2, 4]) as tf.Tensor4D;
  const floatBins = tf.zeros([1, 2, 2]) as tf.Tensor3D;
  const weights = tf.ones([4]) as tf.Tensor1D;
  assert.throws(() => rebalancedColorLoss(logits, floatBins, weights), /rebalancedColorLoss: bins must be an int32 tensor of shape \[1,2,2\], got a tensor of shape \[1,2,2\]/);
  assert.throws(() => annealedMean(logits, chromaBinCentres(), 0.38), /annealedMean: centres must be \[4, 2\] \(one per bin of logits\), got a tensor of shape \[100,2\]/);
  tf.dispose([x, grey, chromaOut, logits, floatBins, weights]);
  col.dispose();
  encoder.dispose();
});
