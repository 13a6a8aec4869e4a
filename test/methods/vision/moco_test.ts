import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { createMoco } from "../../../src/methods/vision/moco";
import type { VisionBatch } from "../../../src/methods/vision/method";
import { assertEmaRuleUsed, assertSteadyTensors, ctxOf, denseEncoder, dot, noiseViews as noise, randomImages as images, trainCounting, unitRows } from "./helpers";

const weightsOf = (m: tf.LayersModel) => m.layers.flatMap((l) => l.weights);
const values = (m: tf.LayersModel) => weightsOf(m).map((w) => Float64Array.from(w.read().dataSync()));

test("createMoco: the loss is InfoNCE of q against [own batch keys; queue] (float64 reference), keys come from the key network", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(12, 1);
  const moco = createMoco({ encoder, encoderDim: 12, projectionDim: 6, queueSize: 5, temperature: 0.2, augmentation: noise, seed: 2 });
  const projector = moco.trainable[1] as tf.LayersModel;
  const stored = tf.tidy(() => tf.randomNormal([5, 6], 0, 1, "float32", 9)) as tf.Tensor2D;
  moco.queue.enqueue(stored);
  const queueRows = stored.arraySync();
  const x = images(4, 3);
  const before = tf.memory().numTensors;
  const [got, accuracy, qRaw, kRaw] = tf.tidy(() => {
    const out = moco.loss({ images: x }, ctxOf(8));
    const [v1, v2] = noise(x, 8);
    const q = (projector.apply(encoder.apply(v1)) as tf.Tensor).arraySync() as number[][];
    const k = (moco.target.projector.apply(moco.target.encoder.apply(v2)) as tf.Tensor).arraySync() as number[][];
    return [out.loss.dataSync()[0], out.metrics!.accuracy.dataSync()[0], q, k];
  }) as unknown as [number, number, number[][], number[][]];
  assert.equal(tf.memory().numTensors, before + 1, "only this step's keys are kept, for afterStep");
  const q = unitRows(qRaw), k = unitRows(kRaw);
  let want = 0, hits = 0;
  q.forEach((qi, i) => {
    const logits = [...k, ...queueRows].map((c) => dot(qi, c) / 0.2);
    const max = Math.max(...logits);
    want += max + Math.log(logits.reduce((s, l) => s + Math.exp(l - max), 0)) - logits[i];
    if (logits.indexOf(max) === i) hits++;
  });
  want /= 4;
  assert.ok(Math.abs(got - want) < 1e-4, `${got} vs ${want}`);
  assert.ok(Math.abs(accuracy - hits / 4) < 1e-6);
  // afterStep enqueues exactly those keys, newest last.
  moco.afterStep!({ images: x }, ctxOf(8));
  assert.equal(tf.memory().numTensors, before);
  const held = moco.queue.keys();
  const rows = held.arraySync();
  held.dispose();
  assert.deepEqual(rows.slice(0, 1).map((r) => r.map((v) => +v.toFixed(5))), [queueRows[4].map((v) => +v.toFixed(5))]);
  rows.slice(1).forEach((r, i) => r.forEach((v, j) => assert.ok(Math.abs(v - k[i][j]) < 1e-5, `queue row ${i + 1}`)));
  assert.throws(() => moco.afterStep!({ images: x }, ctxOf(8)), /MoCo.afterStep: keys must come from this step's loss, got none/);
  tf.dispose([x, stored]);
  moco.dispose();
  encoder.dispose();
});

test("createMoco trains through training.train: key network follows the EMA rule, queue wraps FIFO, no leak, dispose frees all", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(12, 4);
  const start = tf.memory().numTensors;
  const m = 0.7;
  const moco = createMoco({ encoder, encoderDim: 12, projectionDim: 6, queueSize: 6, momentum: m, augmentation: noise, seed: 5 });
  const projector = moco.trainable[1] as tf.LayersModel;
  assert.equal(moco.target.encoder.trainableWeights.length + moco.target.projector.trainableWeights.length, 0);
  let wantEncoder = values(encoder), wantProjector = values(projector);
  const e0 = values(encoder), p0 = values(projector);
  const ema = (t: Float64Array[], o: Float64Array[]) => t.map((w, i) => w.map((v, j) => m * v + (1 - m) * o[i][j]));
  const x = images(4, 6);
  const keysPerStep: number[][][] = [];
  const optimizer = tf.train.adam(1e-2);
  const { history, counts } = await trainCounting<VisionBatch>({
    ...moco,
    // The keys each step must enqueue, from the key network as it is before the step.
    loss: (batch, ctx) => {
      keysPerStep.push(tf.tidy(() => {
        const [, v2] = noise(batch.images, ctx.seed);
        return unitRows((moco.target.projector.apply(moco.target.encoder.apply(v2)) as tf.Tensor).arraySync() as number[][]);
      }));
      return moco.loss(batch, ctx);
    },
    optimizer, batches: () => [{ images: x }, { images: x }, { images: x }, { images: x }],
    disposeBatches: false, steps: 4, seed: 7,
    callbacks: {
      onStep: () => {
        wantEncoder = ema(wantEncoder, values(encoder));
        wantProjector = ema(wantProjector, values(projector));
      },
    },
  });
  assert.ok(history.loss.every(Number.isFinite));
  assert.ok(history.metrics.accuracy.every((a) => a >= 0 && a <= 1));
  for (const [got, want, what] of [[values(moco.target.encoder), wantEncoder, "encoder"], [values(moco.target.projector), wantProjector, "projector"]] as const) {
    got.forEach((w, i) => w.forEach((v, j) => assert.ok(Math.abs(v - want[i][j]) < 1e-5, `key ${what} weight ${i}[${j}]: ${v} vs ${want[i][j]}`)));
  }
  assert.ok(values(encoder).every((w, i) => w.some((v, j) => Math.abs(v - e0[i][j]) > 1e-7)), "the encoder moves");
  assert.ok(values(projector).every((w, i) => w.some((v, j) => Math.abs(v - p0[i][j]) > 1e-7)), "the head moves");
  // 16 keys through a queue of 6: the last 6, oldest first.
  const wantQueue = keysPerStep.flat().slice(-6);
  const held = moco.queue.keys();
  held.arraySync().forEach((r, i) => r.forEach((v, j) => assert.ok(Math.abs(v - wantQueue[i][j]) < 1e-5, `queue row ${i}[${j}]: ${v} vs ${wantQueue[i][j]}`)));
  held.dispose();
  assertSteadyTensors(counts, 4);
  optimizer.dispose();
  x.dispose();
  moco.dispose();
  assert.equal(tf.memory().numTensors, start, "dispose frees head, key network and queue, not the encoder");
  encoder.dispose();
});

test("createMoco rejects bad options and batches larger than the queue", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(12, 1);
  const bad: Array<[object, RegExp]> = [
    [{ encoder, encoderDim: 12, queueSize: 0 }, /createMoco: options.queueSize must be a positive integer, got 0/],
    [{ encoder, encoderDim: 12, temperature: -0.2 }, /createMoco: options.temperature must be a finite number > 0, got -0.2/],
    [{ encoder, encoderDim: 12, momentum: 2 }, /createMoco: options.momentum must be a number in \[0, 1\], got 2/],
    [{ encoder, encoderDim: 12, hidden: [-1] }, /createMoco: options.hidden must be an array of positive integers/],
  ];
  for (const [options, message] of bad) assert.throws(() => createMoco(options as never), message);
  const moco = createMoco({ encoder, encoderDim: 12, queueSize: 3, augmentation: noise });
  const x = images(4, 1);
  assert.throws(() => moco.loss({ images: x }, ctxOf(1)), /MoCo.loss: batch.images must have at most queueSize = 3 rows, got \[4, 28, 28, 1\]/);
  x.dispose();
  moco.dispose();
  encoder.dispose();
});

test("createMoco updates its target with the emaRule it is given, for encoder and projector", async () => {
  await tf.setBackend("cpu");
  assertEmaRuleUsed((encoder, emaRule) => createMoco({ encoder, encoderDim: 16, projectionDim: 8, augmentation: noise, momentum: 0.7, seed: 2, queueSize: 16, emaRule }), 0.7);
});
