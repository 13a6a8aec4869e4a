import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { loadMnist } from "../../../src/data/mnist";
import { movingDigitClips } from "../../../src/data/moving_digits";
import { timeContrastiveBatch, videoTaskBatches, type TimeContrastiveBatch } from "../../../src/data/video_tasks";
import { createTimeContrastive } from "../../../src/methods/video/time_contrastive";
import { createFrameEncoder } from "../../../src/methods/video/method";
import { allMoved, assertSteadyTensors, ctxOf, denseEncoder, snapshot, trainCounting } from "../vision/helpers";

const { train: digits, test: heldOut } = loadMnist({ trainSize: 300, testSize: 100 });
const CLIP = { frames: 6, frameSize: 16, digitSize: 8, velocityStd: 1.5 };
const VIEWS = [{}, { zoom: 0.7, blur: 0.8, noise: 0.05 }] as const;
const tinyEncoder = (seed: number) => createFrameEncoder({ frameSize: 16, channels: [4, 8], dim: 8, seed });

test("createTimeContrastive: the triplet loss of the L2-normalised embeddings and the triplet accuracy (float64 reference)", async () => {
  await tf.setBackend("cpu");
  const encoder = tinyEncoder(1);
  const tcn = createTimeContrastive({ encoder, encoderDim: 8, margin: 0.3 });
  const batch = timeContrastiveBatch(movingDigitClips(digits, { ...CLIP, seed: 1, clips: 7 }), { seed: 2, views: [VIEWS[0], VIEWS[1]] });
  const before = tf.memory().numTensors;
  const [loss, accuracy] = tf.tidy(() => { const out = tcn.loss(batch, ctxOf(1)); return [out.loss, out.metrics!.accuracy]; });
  const unit = (x: tf.Tensor4D) => {
    const y = encoder.predict(x) as tf.Tensor;
    const rows = y.arraySync() as number[][];
    y.dispose();
    return rows.map((r) => { const n = Math.hypot(...r); return r.map((v) => v / n); });
  };
  const [a, p, n] = [batch.anchor, batch.positive, batch.negative].map(unit);
  const d2 = (u: number[], v: number[]) => u.reduce((s, ui, k) => s + (ui - v[k]) ** 2, 0);
  let ref = 0, hits = 0;
  for (let i = 0; i < 7; i++) {
    ref += Math.max(0, d2(a[i], p[i]) - d2(a[i], n[i]) + 0.3) / 7;
    if (d2(a[i], p[i]) < d2(a[i], n[i])) hits++;
  }
  assert.ok(Math.abs(loss.dataSync()[0] - ref) < 1e-5, `${loss.dataSync()[0]} vs ${ref}`);
  assert.ok(Math.abs(accuracy.dataSync()[0] - hits / 7) < 1e-6);
  tf.dispose([loss, accuracy]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose(batch as unknown as tf.TensorContainer);
  encoder.dispose();
});

test("createTimeContrastive trains through training.train (multi-view): held-out triplet accuracy rises, no tensor leak", async () => {
  await tf.setBackend("cpu");
  const start = tf.memory().numTensors;
  // A dense frame encoder: on the cpu backend it trains 25 times faster than the conv one.
  const encoder = denseEncoder(16, 2, { inputShape: [16, 16, 1] });
  const tcn = createTimeContrastive({ encoder, encoderDim: 16 });
  const heldOutBatch = timeContrastiveBatch(movingDigitClips(heldOut, { ...CLIP, seed: 5, clips: 300 }), { seed: 6, views: [VIEWS[0], VIEWS[1]] });
  const tripletAccuracy = () => tf.tidy(() => tcn.loss(heldOutBatch, ctxOf(0)).metrics!.accuracy.dataSync()[0]);
  const before = tripletAccuracy();
  const e0 = snapshot(encoder);
  const optimizer = tf.train.adam(1e-2);
  const { counts } = await trainCounting<TimeContrastiveBatch>({
    ...tcn, optimizer, steps: 60, seed: 3,
    batches: videoTaskBatches(digits, { clips: CLIP, clipsPerBatch: 16, task: (clips, seed) => timeContrastiveBatch(clips, { seed, views: [VIEWS[0], VIEWS[1]] }) }),
  });
  assertSteadyTensors(counts, 60);
  assert.ok(allMoved(snapshot(encoder), e0));
  const after = tripletAccuracy();
  assert.ok(after > 0.8 && after > before + 0.1, `held-out triplet accuracy ${before} -> ${after}`);
  tf.dispose(heldOutBatch as unknown as tf.TensorContainer);
  optimizer.dispose();
  tcn.dispose();
  encoder.dispose();
  assert.equal(tf.memory().numTensors, start);
});

test("createTimeContrastive rejects bad options and batches", async () => {
  await tf.setBackend("cpu");
  const encoder = tinyEncoder(1);
  assert.throws(() => createTimeContrastive({ encoder: {} as never, encoderDim: 8 }), /createTimeContrastive: options.encoder must be a tf.LayersModel, got an object/);
  assert.throws(() => createTimeContrastive({ encoder, encoderDim: 8, margin: -1 }), /createTimeContrastive: options.margin must be a finite number >= 0, got -1/);
  const tcn = createTimeContrastive({ encoder, encoderDim: 8 });
  const x = tf.zeros([3, 16, 16, 1]) as tf.Tensor4D, y = tf.zeros([2, 16, 16, 1]) as tf.Tensor4D;
  assert.throws(() => tf.tidy(() => { tcn.loss({ anchor: x, positive: x, negative: y }, ctxOf(1)); }), /TCN\.loss: batch\.negative must have the anchor's shape \[3,16,16,1\], got a tensor of shape \[2,16,16,1\]/);
  assert.throws(() => tf.tidy(() => { tcn.loss({ anchor: x, positive: x } as never, ctxOf(1)); }), /TCN\.loss: batch\.negative must be/);
  tf.dispose([x, y]);
  encoder.dispose();
});
