import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { createRng } from "../../../src/data/random";
import { createNnclr } from "../../../src/methods/vision/nnclr";
import type { VisionBatch } from "../../../src/methods/vision/method";
import { train } from "../../../src/training/loop";
import { anyMoved, assertSteadyTensors, ctxOf, dot, fixedViews, normalise, onWasm, rngImages, rows, snapshot, stdRef, tinyEncoder, trainCounting } from "./helpers";

/** z and p of both views (heads in training mode, as in the loss), normalised in float64. */
function embed(method: ReturnType<typeof createNnclr>, images: tf.Tensor4D) {
  const [encoder, projector, predictor] = method.trainable as tf.LayersModel[];
  const [g, q] = tf.tidy(() => {
    const gt = projector.apply(encoder.apply(tf.concat(fixedViews(images, 0), 0)), { training: true }) as tf.Tensor;
    return [gt, predictor.apply(gt, { training: true }) as tf.Tensor];
  });
  const z = rows(g).map(normalise);
  const p = rows(q).map(normalise);
  tf.dispose([g, q]);
  const b = images.shape[0];
  return { z1: z.slice(0, b), z2: z.slice(b), p1: p.slice(0, b), p2: p.slice(b) };
}

const infoNceRef = (a: Float64Array[], b: Float64Array[], t: number) =>
  a.reduce((s, ai, i) => {
    const logits = b.map((bk) => dot(ai, bk) / t);
    return s + Math.log(logits.reduce((u, l) => u + Math.exp(l), 0)) - logits[i];
  }, 0) / a.length;

const nearestRef = (z: Float64Array[], support: Float64Array[]) =>
  z.map((zi) => support.reduce((best, s) => (dot(zi, s) > dot(zi, best) ? s : best), support[0]));

test("NNCLR loss: nearest support-set neighbour of each view against the other view's prediction (float64 reference)", async () => {
  await tf.setBackend("cpu");
  const encoder = tinyEncoder(1);
  const method = createNnclr({ encoder, encoderDim: 16, hidden: [12], predictorHidden: [12], projectionDim: 6, queueSize: 20, temperature: 0.2, augmentation: fixedViews, seed: 2 });
  assert.equal(method.name, "NNCLR");
  const images = rngImages(5, 3);
  const ctx = ctxOf(1);

  // Empty support set: NN(z) = z.
  const first = embed(method, images);
  const got0 = tf.tidy(() => method.loss({ images }, ctx).loss.dataSync()[0]);
  const want0 = 0.5 * (infoNceRef(first.z1, first.p2, 0.2) + infoNceRef(first.z2, first.p1, 0.2));
  assert.ok(Math.abs(got0 - want0) < 1e-4, `empty queue: loss ${got0} vs float64 ${want0}`);

  const rng = createRng(4);
  const keys = tf.tensor2d(Array.from({ length: 12 }, () => Array.from(normalise(Float64Array.from({ length: 6 }, () => rng.normal())))));
  method.queue.enqueue(keys);
  const support = rows(keys);
  keys.dispose();
  const e = embed(method, images);
  const [got, gotStd] = tf.tidy(() => {
    const { loss, metrics } = method.loss({ images }, ctx);
    return [loss.dataSync()[0], metrics!.std.dataSync()[0]];
  });
  assert.ok(Math.abs(gotStd - stdRef(e.z1)) < 1e-5, `std of z1 ${gotStd} vs float64 ${stdRef(e.z1)}`);
  const want = 0.5 * (infoNceRef(nearestRef(e.z1, support), e.p2, 0.2) + infoNceRef(nearestRef(e.z2, support), e.p1, 0.2));
  assert.ok(Math.abs(got - want) < 1e-4, `loss ${got} vs float64 ${want}`);
  images.dispose();
  method.dispose();
  encoder.dispose();
});

test("NNCLR through training.train: queue holds each step's z1, models move, no leak", async () => {
  await tf.setBackend("cpu");
  const encoder = tinyEncoder(3);
  const method = createNnclr({ encoder, encoderDim: 16, hidden: [12], predictorHidden: [12], projectionDim: 6, queueSize: 10, augmentation: fixedViews, seed: 5 });
  const [, projector, predictor] = method.trainable as tf.LayersModel[];
  const batchImages = [0, 1, 2, 3].map((k) => rngImages(4, 50 + k));
  const optimizer = tf.train.adam(1e-2);
  const batches = (from: number, to: number) =>
    function* () {
      for (let k = from; k < to; k++) yield { images: batchImages[k].clone() };
    };

  const before = [encoder, projector, predictor].map(snapshot);
  const z1 = embed(method, batchImages[0]).z1;
  const first = await train<VisionBatch>({ ...method, optimizer, batches: batches(0, 1), steps: 1, progress: false });
  assert.ok(Number.isFinite(first.loss[0]));
  assert.equal(method.queue.filled, 4);
  const held = method.queue.keys();
  rows(held).forEach((r, i) => r.forEach((v, j) => assert.ok(Math.abs(v - z1[i][j]) < 1e-5, `queue row ${i}[${j}]: ${v} vs ${z1[i][j]}`)));
  held.dispose();
  [encoder, projector, predictor].forEach((m, i) => assert.ok(anyMoved(before[i], snapshot(m)), `${m.name} weights move`));

  const { history: rest, counts } = await trainCounting<VisionBatch>({
    ...method,
    optimizer,
    batches: batches(1, 4),
    steps: 3,
  });
  rest.loss.forEach((l) => assert.ok(Number.isFinite(l) && l > 0, `loss ${l}`));
  // The optimizer stepped in the first run: even its first step here makes nothing new.
  assertSteadyTensors(counts, 3, 0);
  assert.equal(method.queue.filled, 10, "16 keys enqueued into a queue of 10");
  tf.dispose(batchImages);
  const live = tf.memory().numTensors;
  method.dispose();
  assert.ok(tf.memory().numTensors < live, "dispose frees the heads and the queue");
  optimizer.dispose();
  encoder.dispose();
});

test("NNCLR rejects bad options and batches larger than the queue", async () => {
  await tf.setBackend("cpu");
  const encoder = tinyEncoder(4);
  assert.throws(() => createNnclr({ encoder, encoderDim: 16, queueSize: 0 }), /createNnclr: options.queueSize must be a positive integer, got 0/);
  assert.throws(() => createNnclr({ encoder, encoderDim: 16, temperature: 0 }), /createNnclr: options.temperature must be a finite number > 0, got 0/);
  assert.throws(() => createNnclr({ encoder, encoderDim: 16, predictorHidden: [2.5] }), /createNnclr: options.predictorHidden must be an array of positive integers, got \[2.5\]/);
  assert.throws(() => createNnclr({ encoder, encoderDim: 16, projectionDim: 1.5 }), /createNnclr: options.projectionDim must be a positive integer, got 1.5/);
  const method = createNnclr({ encoder, encoderDim: 16, projectionDim: 4, queueSize: 2, augmentation: fixedViews });
  const images = rngImages(3, 1);
  assert.throws(() => tf.tidy(() => method.loss({ images }, ctxOf(1)).loss), /NNCLR.loss: batch.images must have at most queueSize = 2 rows, got \[3, 28, 28, 1\]/);
  images.dispose();
  method.dispose();
  encoder.dispose();
});

test("NNCLR gives the cpu loss on wasm and trains there", async () => {
  await tf.setBackend("cpu");
  const encoder = tinyEncoder(7);
  const method = createNnclr({ encoder, encoderDim: 16, hidden: [12], predictorHidden: [12], projectionDim: 6, queueSize: 16, augmentation: fixedViews, seed: 8 });
  const rng = createRng(3);
  const keys = tf.tensor2d(Array.from({ length: 10 }, () => Array.from(normalise(Float64Array.from({ length: 6 }, () => rng.normal())))));
  method.queue.enqueue(keys);
  keys.dispose();
  const images = rngImages(4, 9);
  const lossOn = () => tf.tidy(() => method.loss({ images }, ctxOf(2)).loss.dataSync()[0]);
  const onCpu = lossOn();
  try {
    await onWasm(async () => {
      const wasmLoss = lossOn();
      assert.ok(Math.abs(wasmLoss - onCpu) < 1e-4, `wasm ${wasmLoss} vs cpu ${onCpu}`);
      const h = await train<VisionBatch>({ ...method, optimizer: tf.train.adam(1e-2), batches: () => [{ images: images.clone() }], steps: 1, progress: false });
      assert.ok(Number.isFinite(h.loss[0]));
      assert.equal(method.queue.filled, 14);
    });
  } finally {
    images.dispose();
    method.dispose();
    encoder.dispose();
  }
});
