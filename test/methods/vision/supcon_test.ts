import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { createSupCon } from "../../../src/methods/vision/supcon";
import type { VisionBatch } from "../../../src/methods/vision/method";
import { train } from "../../../src/training/loop";
import { anyMoved, assertSteadyTensors, ctxOf, dot, fixedViews, onWasm, rngImages, rows, snapshot, stdRef, tinyEncoder, trainCounting } from "./helpers";

/** Khosla et al. eq. 2 in float64 loops. */
function supConReference(z: Float64Array[], labels: number[], t: number): number {
  const n = z.map((r) => {
    const norm = Math.hypot(...r);
    return r.map((v) => v / norm);
  });
  let total = 0;
  let anchors = 0;
  for (let i = 0; i < n.length; i++) {
    let lse = 0;
    for (let a = 0; a < n.length; a++) if (a !== i) lse += Math.exp(dot(n[i], n[a]) / t);
    const positives = labels.map((l, j) => j).filter((j) => j !== i && labels[j] === labels[i]);
    if (positives.length === 0) continue;
    anchors++;
    total += positives.reduce((s, p) => s - (dot(n[i], n[p]) / t - Math.log(lse)), 0) / positives.length;
  }
  return total / anchors;
}

test("SupCon loss matches Khosla et al. eq. 2 over the 2B views with labels repeated", async () => {
  await tf.setBackend("cpu");
  const encoder = tinyEncoder(1);
  const method = createSupCon({ encoder, encoderDim: 16, projectionDim: 8, augmentation: fixedViews, temperature: 0.2, seed: 3 });
  assert.equal(method.name, "SupCon");
  assert.equal(method.trainable.length, 2);
  const projector = method.trainable[1] as tf.LayersModel;
  const labelList = [0, 1, 0, 2, 1, 3];
  const images = rngImages(6, 5);
  const labels = tf.tensor1d(labelList, "int32");
  const [got, gotStd] = tf.tidy(() => {
    const { loss, metrics } = method.loss({ images, labels }, ctxOf(1));
    return [loss.dataSync()[0], metrics!.std.dataSync()[0]];
  });
  const z = tf.tidy(() => projector.predict(encoder.predict(tf.concat(fixedViews(images, 0), 0))) as tf.Tensor);
  const want = supConReference(rows(z), [...labelList, ...labelList], 0.2);
  assert.ok(Math.abs(got - want) < 1e-4, `loss ${got} vs float64 ${want}`);
  const wantStd = stdRef(rows(z).slice(0, 6));
  assert.ok(Math.abs(gotStd - wantStd) < 1e-5, `std of the first views' projections ${gotStd} vs float64 ${wantStd}`);
  tf.dispose([z, images, labels]);
  method.dispose();
  encoder.dispose();
});

test("SupCon trains through training.train: finite loss, encoder and head move, no leak", async () => {
  await tf.setBackend("cpu");
  const encoder = tinyEncoder(2);
  const method = createSupCon({ encoder, encoderDim: 16, projectionDim: 8, seed: 4 });
  const projector = method.trainable[1] as tf.LayersModel;
  const before = [snapshot(encoder), snapshot(projector)];
  const { history, counts } = await trainCounting<VisionBatch>({
    ...method,
    optimizer: tf.train.adam(1e-2),
    // A generator: one batch alive at a time, so the tensor count is comparable across steps.
    batches: function* (epoch, rng) {
      for (let k = 0; k < 4; k++) {
        yield { images: rngImages(8, 100 * epoch + k), labels: tf.tensor1d(Array.from({ length: 8 }, () => rng.int(3)), "int32") };
      }
    },
    steps: 4,
  });
  assert.equal(history.loss.length, 4);
  history.loss.forEach((l) => assert.ok(Number.isFinite(l) && l > 0, `loss ${l}`));
  assert.ok(anyMoved(before[0], snapshot(encoder)), "encoder weights move");
  assert.ok(anyMoved(before[1], snapshot(projector)), "projector weights move");
  assertSteadyTensors(counts, 4);
  const live = tf.memory().numTensors;
  method.dispose();
  assert.ok(tf.memory().numTensors < live, "dispose frees the head");
  encoder.dispose();
});

test("SupCon rejects bad options and batches without labels", async () => {
  await tf.setBackend("cpu");
  const encoder = tinyEncoder(3);
  assert.throws(() => createSupCon({ encoder, encoderDim: 0 }), /createSupCon: options.encoderDim must be a positive integer, got 0/);
  assert.throws(() => createSupCon({ encoder, encoderDim: 16, temperature: -1 }), /createSupCon: options.temperature must be a finite number > 0, got -1/);
  assert.throws(() => createSupCon({ encoder: {} as tf.LayersModel, encoderDim: 16 }), /createSupCon: options.encoder must be a tf.LayersModel/);
  assert.throws(() => createSupCon({ encoder, encoderDim: 16, hidden: [8, 0] }), /createSupCon: options.hidden must be an array of positive integers, got \[8,0\]/);
  const method = createSupCon({ encoder, encoderDim: 16, projectionDim: 8, augmentation: fixedViews });
  const images = rngImages(4, 1);
  const ctx = ctxOf(1);
  assert.throws(() => tf.tidy(() => method.loss({ images }, ctx).loss), /SupCon.loss: batch.labels must be an int32 tf.Tensor1D of shape \[4\]/);
  const wrong = tf.tensor1d([0, 1, 2], "int32");
  assert.throws(() => tf.tidy(() => method.loss({ images, labels: wrong }, ctx).loss), /got int32 \[3\]/);
  tf.dispose([images, wrong]);
  method.dispose();
  encoder.dispose();
});

test("SupCon gives the cpu loss on wasm and trains there", async () => {
  await tf.setBackend("cpu");
  const encoder = tinyEncoder(7);
  const method = createSupCon({ encoder, encoderDim: 16, projectionDim: 8, augmentation: fixedViews, seed: 8 });
  const images = rngImages(6, 9);
  const labels = tf.tensor1d([0, 1, 0, 2, 1, 2], "int32");
  const lossOn = () => tf.tidy(() => method.loss({ images, labels }, ctxOf(1)).loss.dataSync()[0]);
  const onCpu = lossOn();
  try {
    await onWasm(async () => {
      const wasmLoss = lossOn();
      assert.ok(Math.abs(wasmLoss - onCpu) < 1e-4, `wasm ${wasmLoss} vs cpu ${onCpu}`);
      const h = await train<VisionBatch>({ ...method, optimizer: tf.train.adam(1e-2), batches: () => [{ images: images.clone(), labels: labels.clone() }], steps: 1, progress: false });
      assert.ok(Number.isFinite(h.loss[0]));
    });
  } finally {
    tf.dispose([images, labels]);
    method.dispose();
    encoder.dispose();
  }
});
