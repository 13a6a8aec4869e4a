import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { createRng } from "../../../src/data/random";
import { createInstDisc } from "../../../src/methods/vision/instdisc";
import type { VisionBatch } from "../../../src/methods/vision/method";
import { train } from "../../../src/training/loop";
import type { Augmentation } from "../../../src/augment/augmentation";
import { anyMoved, assertSteadyTensors, ctxOf, dot, normalise, onWasm, rngImages, rows, snapshot, stdRef, tinyEncoder, trainCounting } from "./helpers";

// The identity view, so the test can recompute the features.
const identity: Augmentation = (images) => images.clone();

/** Features f = normalise(head(encoder(x))) in float64 from the float32 outputs. */
function features(encoder: tf.LayersModel, head: tf.LayersModel, images: tf.Tensor4D): Float64Array[] {
  const out = tf.tidy(() => head.predict(encoder.predict(images)) as tf.Tensor);
  const f = rows(out).map(normalise);
  out.dispose();
  return f;
}

test("InstDisc loss is the softmax over the batch's bank rows and K sampled rows (float64 reference)", async () => {
  await tf.setBackend("cpu");
  const encoder = tinyEncoder(1);
  const method = createInstDisc({ encoder, encoderDim: 16, datasetSize: 40, featureDim: 8, negatives: 12, temperature: 0.1, augmentation: identity, seed: 2 });
  assert.equal(method.name, "InstDisc");
  const head = method.trainable[1] as tf.LayersModel;
  const images = rngImages(5, 3);
  const indices = Int32Array.from([4, 17, 0, 39, 22]);
  const [got, gotStd] = tf.tidy(() => {
    const { loss, metrics } = method.loss({ images, indices }, ctxOf(7));
    return [loss.dataSync()[0], metrics!.std.dataSync()[0]];
  });
  const f = features(encoder, head, images);
  assert.ok(Math.abs(gotStd - stdRef(f)) < 1e-5, `std of f ${gotStd} vs float64 ${stdRef(f)}`);
  const bankRows = rows(method.bank.vectors);
  const sampled = method.bank.sampleNegatives(12, createRng(7), indices);
  const candidates = [...Array.from(indices, (i) => bankRows[i]), ...rows(sampled)];
  sampled.dispose();
  let want = 0;
  f.forEach((fi, i) => {
    const logits = candidates.map((v) => dot(fi, v) / 0.1);
    want += Math.log(logits.reduce((s, l) => s + Math.exp(l), 0)) - logits[i];
  });
  want /= f.length;
  assert.ok(Math.abs(got - want) < 1e-4, `loss ${got} vs float64 ${want}`);
  images.dispose();
  method.dispose();
  encoder.dispose();
});

test("InstDisc through training.train: bank rows move by the momentum rule, models move, no leak", async () => {
  await tf.setBackend("cpu");
  const encoder = tinyEncoder(3);
  const method = createInstDisc({ encoder, encoderDim: 16, datasetSize: 30, featureDim: 8, negatives: 10, augmentation: identity, seed: 5 });
  const head = method.trainable[1] as tf.LayersModel;
  const batchIndices = [Int32Array.from([3, 11, 29, 0]), Int32Array.from([7, 3, 18, 21]), Int32Array.from([1, 2, 5, 9]), Int32Array.from([10, 12, 14, 16])];
  const batchImages = batchIndices.map((_, k) => rngImages(4, 50 + k));
  const optimizer = tf.train.adam(1e-2);
  const batches = (from: number, to: number) =>
    function* () {
      for (let k = from; k < to; k++) yield { images: batchImages[k].clone(), indices: batchIndices[k] };
    };

  // One step: the bank rows of the batch become normalise(0.5 v + 0.5 f) with f from the pre-step weights.
  const bank0 = rows(method.bank.vectors);
  const f0 = features(encoder, head, batchImages[0]);
  const enc0 = snapshot(encoder);
  const head0 = snapshot(head);
  const first = await train<VisionBatch>({ ...method, optimizer, batches: batches(0, 1), steps: 1, progress: false });
  assert.ok(Number.isFinite(first.loss[0]));
  const bank1 = rows(method.bank.vectors);
  bank1.forEach((row, r) => {
    const k = batchIndices[0].indexOf(r);
    const want = k < 0 ? bank0[r] : normalise(bank0[r].map((v, j) => 0.5 * v + 0.5 * f0[k][j]));
    row.forEach((v, j) => assert.ok(Math.abs(v - want[j]) < 1e-5, `bank row ${r}[${j}]: ${v} vs ${want[j]}`));
  });
  assert.ok(anyMoved(enc0, snapshot(encoder)), "encoder weights move");
  assert.ok(anyMoved(head0, snapshot(head)), "head weights move");
  assert.equal(method.bank.vectors.trainable, false);

  const { history: rest, counts } = await trainCounting<VisionBatch>({
    ...method,
    optimizer,
    batches: batches(1, 4),
    steps: 3,
  });
  rest.loss.forEach((l) => assert.ok(Number.isFinite(l) && l > 0, `loss ${l}`));
  assert.equal(rest.metrics.accuracy.length, 3);
  // The optimizer stepped in the first run: even its first step here makes nothing new.
  assertSteadyTensors(counts, 3, 0);
  const bank4 = rows(method.bank.vectors);
  for (const r of [7, 18, 21, 1, 2, 5, 9, 10, 12, 14, 16]) assert.ok(anyMoved([bank1[r]], [bank4[r]]), `bank row ${r} was updated`);
  for (const r of [4, 6, 8, 13]) assert.deepEqual(bank4[r], bank1[r], `bank row ${r} outside every batch is unchanged`);
  tf.dispose(batchImages);
  const live = tf.memory().numTensors;
  method.dispose();
  assert.ok(tf.memory().numTensors < live, "dispose frees the head and the bank");
  optimizer.dispose();
  encoder.dispose();
});

test("InstDisc rejects bad options and batches without distinct indices", async () => {
  await tf.setBackend("cpu");
  const encoder = tinyEncoder(4);
  assert.throws(() => createInstDisc({ encoder, encoderDim: 16, datasetSize: 0 }), /createInstDisc: options.datasetSize must be a positive integer, got 0/);
  assert.throws(() => createInstDisc({ encoder, encoderDim: 16, datasetSize: 10, bankMomentum: 1 }), /createInstDisc: options.bankMomentum must be a number in \[0, 1\), got 1/);
  assert.throws(() => createInstDisc({ encoder, encoderDim: 16.5, datasetSize: 10 }), /createInstDisc: options.encoderDim must be a positive integer, got 16.5/);
  assert.throws(() => createInstDisc({ encoder, encoderDim: 16, datasetSize: 10, seed: 0.5 }), /createInstDisc: options.seed must be an integer, got 0.5/);
  assert.throws(() => createInstDisc({ encoder, encoderDim: 16, datasetSize: 10, negatives: 2.5 }), /createInstDisc: options\.negatives must be a non-negative integer, got 2\.5/);
  const method = createInstDisc({ encoder, encoderDim: 16, datasetSize: 10, featureDim: 4, negatives: 3, augmentation: identity });
  const images = rngImages(3, 1);
  const start = tf.memory().numTensors;
  assert.throws(() => tf.tidy(() => method.loss({ images }, ctxOf(1)).loss), /InstDisc.loss: batch.indices must be an Int32Array of length 3/);
  assert.throws(() => tf.tidy(() => method.loss({ images, indices: Int32Array.from([1, 1, 2]) }, ctxOf(1)).loss), /InstDisc.loss: batch.indices must be distinct, got \[1,1,2\]/);
  assert.throws(() => tf.tidy(() => method.loss({ images, indices: Int32Array.from([1, 2, 10]) }, ctxOf(1)).loss), /MemoryBank\.gather: indices\[2\] must be an integer in \[0, 10\), got 10/);
  assert.equal(tf.memory().numTensors, start);
  images.dispose();
  method.dispose();
  encoder.dispose();
});

test("InstDisc gives the cpu loss on wasm and trains there", async () => {
  await tf.setBackend("cpu");
  const encoder = tinyEncoder(7);
  const method = createInstDisc({ encoder, encoderDim: 16, datasetSize: 20, featureDim: 8, negatives: 6, augmentation: identity, seed: 8 });
  const images = rngImages(4, 9);
  const indices = Int32Array.from([3, 9, 0, 17]);
  const lossOn = () => tf.tidy(() => method.loss({ images, indices }, ctxOf(2)).loss.dataSync()[0]);
  const onCpu = lossOn();
  try {
    await onWasm(async () => {
      const wasmLoss = lossOn();
      assert.ok(Math.abs(wasmLoss - onCpu) < 1e-4, `wasm ${wasmLoss} vs cpu ${onCpu}`);
      const h = await train<VisionBatch>({ ...method, optimizer: tf.train.adam(1e-2), batches: () => [{ images: images.clone(), indices }], steps: 1, progress: false });
      assert.ok(Number.isFinite(h.loss[0]));
    });
  } finally {
    images.dispose();
    method.dispose();
    encoder.dispose();
  }
});
