import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import type { ImageSet } from "../../../src/data/mnist";
import { binarize, loadMnist } from "../../../src/data/mnist";
import { createRng } from "../../../src/data/random";
import { createPixelCnn } from "../../../src/models/masked_conv";
import { visionBatches } from "../../../src/methods/vision/batches";
import { createPixelCnnMethod, independentPixelNll, pixelCnnNll } from "../../../src/methods/vision/pixel_cnn";
import { assertSteadyTensors, ctxOf, onWasm, trainCounting } from "./helpers";

// Fast Conv2DBackpropFilter on cpu, the missing one on wasm.
registerTrainingKernels();

/** An image set of `n` random binary `[side, side, 1]` images. */
function binarySet(n: number, side: number, seed: number): ImageSet {
  const rng = createRng(seed);
  const images = Float32Array.from({ length: n * side * side }, () => (rng.next() < 0.4 ? 1 : 0));
  return { images, labels: new Int32Array(n), n, shape: [side, side, 1] };
}

/** Sum over pixels of softplus(l) - x l in float64, averaged over images. */
function referenceNll(logits: Float32Array, x: Float32Array, n: number): number {
  let total = 0;
  for (let i = 0; i < logits.length; i++) {
    const l = logits[i];
    const softplus = l > 0 ? l + Math.log1p(Math.exp(-l)) : Math.log1p(Math.exp(l));
    total += softplus - x[i] * l;
  }
  return total / n;
}

test("pixelCnnNll and the method's loss equal a float64 Bernoulli NLL of the logits, batched over uneven slices", async () => {
  await tf.setBackend("cpu");
  const before = tf.memory().numTensors;
  const model = createPixelCnn({ filters: 4, layers: 1, inputShape: [6, 6, 1], seed: 3 });
  const set = binarySet(7, 6, 1);
  const x = tf.tensor4d(set.images, [7, 6, 6, 1]);
  const logits = model.logits(x);
  const expected = referenceNll(logits.dataSync() as Float32Array, set.images, 7);
  logits.dispose();
  assert.ok(expected > 10, `a non-trivial NLL: ${expected}`);
  const afterModel = tf.memory().numTensors;
  for (const batchSize of [1, 3, 7, 256]) {
    const nats = pixelCnnNll(model, set, { batchSize });
    assert.ok(Math.abs(nats - expected) < 1e-4 * expected, `batch ${batchSize}: ${nats} vs ${expected}`);
  }
  assert.equal(tf.memory().numTensors, afterModel, "pixelCnnNll leaves no tensors");

  const method = createPixelCnnMethod({ model });
  assert.equal(method.name, "PixelCNN");
  assert.equal(method.trainable, model.trainable);
  assert.equal(method.itemsPerBatch!({ images: x }), 7);
  const [loss, bits] = tf.tidy(() => {
    const out = method.loss({ images: x }, ctxOf(1)) as { loss: tf.Tensor; metrics: Record<string, tf.Tensor> };
    return [out.loss.dataSync()[0], out.metrics.bitsPerPixel.dataSync()[0]];
  });
  assert.ok(Math.abs(loss - expected) < 1e-4 * expected, `loss ${loss} vs ${expected}`);
  assert.ok(Math.abs(bits - expected / (36 * Math.LN2)) < 1e-4, `bits per pixel ${bits}`);
  assert.equal(tf.memory().numTensors, afterModel, "the loss leaves no tensors outside its tidy");
  method.dispose();
  assert.equal(tf.memory().numTensors, afterModel, "the model was passed in: dispose frees nothing");
  x.dispose();
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test("independentPixelNll: add-one frequencies and the test NLL of a hand-computed case", () => {
  const shape: [number, number, number] = [2, 2, 1];
  const train: ImageSet = { images: Float32Array.from([1, 0, 0, 1, 1, 1, 0, 1]), labels: new Int32Array(2), n: 2, shape };
  const test1: ImageSet = { images: Float32Array.from([1, 0, 1, 1]), labels: new Int32Array(1), n: 1, shape };
  // Ones per pixel 2, 1, 0, 2 of n = 2 -> p = 3/4, 2/4, 1/4, 3/4; the test image is 1, 0, 1, 1.
  const expected = -(Math.log(3 / 4) + Math.log(1 - 2 / 4) + Math.log(1 / 4) + Math.log(3 / 4));
  assert.ok(Math.abs(independentPixelNll(train, test1) - expected) < 1e-12);
  // Two test images: the mean of their NLLs (the second is all zeros).
  const test2: ImageSet = { images: Float32Array.from([1, 0, 1, 1, 0, 0, 0, 0]), labels: new Int32Array(2), n: 2, shape };
  const zeros = -(Math.log(1 / 4) + Math.log(2 / 4) + Math.log(3 / 4) + Math.log(1 / 4));
  assert.ok(Math.abs(independentPixelNll(train, test2) - (expected + zeros) / 2) < 1e-12);

  assert.throws(() => independentPixelNll(train, { ...test1, images: Float32Array.from([1, 0, 0.5, 1]) }),
    /independentPixelNll: test.images must hold only 0 or 1 \(data.binarize\), got 0.5 at 2/);
  assert.throws(() => independentPixelNll(train, { ...binarySet(1, 3, 1) }),
    /independentPixelNll: test.shape must equal train.shape \[2,2,1\], got \[3,3,1\]/);
});

test("bad input is rejected naming the function and the argument", async () => {
  await tf.setBackend("cpu");
  const model = createPixelCnn({ filters: 2, layers: 0, inputShape: [6, 6, 1], seed: 1 });
  const before = tf.memory().numTensors;
  assert.throws(() => createPixelCnnMethod({ model: {} as never }), /createPixelCnnMethod: options.model must be a PixelCNN \(models.createPixelCnn\), got an object/);
  assert.throws(() => createPixelCnnMethod(undefined as never), /createPixelCnnMethod: options must be an object \{model, name\?\}, got undefined/);
  assert.throws(() => createPixelCnnMethod({ model, name: "" }), /createPixelCnnMethod: options.name must be a non-empty string, got ""/);
  const method = createPixelCnnMethod({ model, name: "tiny" });
  const wrong = tf.zeros([2, 5, 6, 1]) as tf.Tensor4D;
  assert.throws(() => tf.tidy(() => { method.loss({ images: wrong }, ctxOf(1)); }), /tiny.loss: batch.images must be a float32 tensor of shape \[B,6,6,1\], got a tensor of shape \[2,5,6,1\]/);
  wrong.dispose();
  assert.throws(() => pixelCnnNll(model, binarySet(2, 5, 1)), /pixelCnnNll: set.shape must be \[6,6,1\] like the model, got \[5,5,1\]/);
  assert.throws(() => pixelCnnNll(model, binarySet(2, 6, 1), { batchSize: 0 }), /pixelCnnNll: options.batchSize must be a positive integer, got 0/);
  const soft = binarySet(2, 6, 1);
  soft.images[5] = 0.25;
  assert.throws(() => pixelCnnNll(model, soft), /pixelCnnNll: set.images must hold only 0 or 1 \(data.binarize\), got 0.25 at 5/);
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test("on wasm: 40 steps on 256 binarised digits beat independent pixels on held-out digits, with no tensor growth per step", async () => {
  const { train: digits, test: heldOut } = loadMnist({ trainSize: 256, testSize: 128 });
  const train = binarize(digits);
  const test = binarize(heldOut);
  const baseline = independentPixelNll(train, test);
  await onWasm(async () => {
    const model = createPixelCnn({ filters: 16, layers: 2, seed: 1 });
    const method = createPixelCnnMethod({ model });
    const start = pixelCnnNll(model, test);
    const optimizer = tf.train.adam(5e-3);
    const steps = 40;
    const { history, counts } = await trainCounting({ ...method, optimizer, batches: visionBatches(train, { batchSize: 32 }), steps, seed: 1 });
    assertSteadyTensors(counts, steps);
    optimizer.dispose();
    const end = pixelCnnNll(model, test);
    // Independent pixels cost ~210 nats per digit here; 40 steps reach about half of that.
    assert.ok(end < 0.75 * baseline, `PixelCNN ${end} nats vs independent pixels ${baseline} (start ${start}, train loss ${history.loss[0]} -> ${history.loss[steps - 1]})`);
    console.log(`pixelcnn: independent ${baseline.toFixed(1)}, start ${start.toFixed(1)}, after ${steps} steps ${end.toFixed(1)} nats per image`);
    method.dispose();
    model.dispose();
  });
});
