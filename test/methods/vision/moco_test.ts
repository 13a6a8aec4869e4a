import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { createMoco } from "../../../src/methods/vision/moco";
import type { VisionBatch } from "../../../src/methods/vision/method";
import { infoNceWithSynthetic, mochiNegatives } from "../../../src/methods/vision/mochi";
import { l2NormalizeRows } from "../../../src/losses/ops/similarity";
import { deriveSeed } from "../../../src/training/seeds";
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

/** A MoCo on a dense encoder with `stored` keys already in its queue. */
function mocoWithQueue(encoder: tf.LayersModel, stored: tf.Tensor2D, extra: object = {}) {
  const moco = createMoco({ encoder, encoderDim: 12, projectionDim: 6, queueSize: 16, temperature: 0.2, augmentation: noise, seed: 2, ...extra });
  moco.queue.enqueue(stored);
  return moco;
}

const lossOf = (moco: ReturnType<typeof createMoco>, x: tf.Tensor4D, seed: number, step = 0): number => {
  const value = tf.tidy(() => moco.loss({ images: x }, ctxOf(seed, step)).loss.dataSync()[0]);
  moco.afterStep!({ images: x }, ctxOf(seed, step)); // frees the kept keys
  return value;
};

test("createMoco with mochi: s1 = s2 = 0 is plain MoCo exactly; otherwise the query's own synthetic negatives join its logits from startStep on", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(12, 1);
  const stored = tf.tidy(() => l2NormalizeRows(tf.randomNormal([10, 6], 0, 1, "float32", 9) as tf.Tensor2D));
  const x = images(4, 3);
  const plain = mocoWithQueue(encoder, stored);
  const plainLoss = lossOf(plain, x, 8);
  const makers = {
    zero: () => mocoWithQueue(encoder, stored, { mochi: { hardest: 4, mixed: 0, queryMixed: 0 } }),
    mixing: () => mocoWithQueue(encoder, stored, { mochi: { hardest: 4, mixed: 5, queryMixed: 2 } }),
    later: () => mocoWithQueue(encoder, stored, { mochi: { hardest: 4, mixed: 5, queryMixed: 2, startStep: 3 } }),
  };
  const zero = makers.zero();
  assert.equal(lossOf(zero, x, 8), plainLoss, "no synthetic negatives: MoCo's loss, bit for bit");
  const mixing = makers.mixing();
  assert.equal(mixing.name, "MoCo v2 + MoCHi");
  assert.deepEqual(mixing.mochi, { hardest: 4, mixed: 5, queryMixed: 2, startStep: 0 });
  const projector = mixing.trainable[1] as tf.LayersModel;
  // The reference from the parts: q, k and the queue as the method sees them, negatives drawn with the step's MoCHi seed.
  const want = tf.tidy(() => {
    const [v1, v2] = noise(x, 8);
    const q = l2NormalizeRows(projector.apply(encoder.apply(v1)) as tf.Tensor2D);
    const k = l2NormalizeRows(mixing.target.projector.apply(mixing.target.encoder.apply(v2)) as tf.Tensor2D);
    const queue = mixing.queue.keys();
    const synthetic = mochiNegatives(q, queue, { hardest: 4, mixed: 5, queryMixed: 2, seed: deriveSeed(8, 6) });
    return infoNceWithSynthetic(q, k, { temperature: 0.2, negatives: queue, synthetic }).dataSync()[0];
  });
  const got = lossOf(mixing, x, 8);
  assert.ok(Math.abs(got - want) < 1e-5, `${got} vs ${want}`);
  assert.ok(got > plainLoss + 1e-3, `more negatives, larger loss: ${got} vs ${plainLoss}`);
  const later = makers.later();
  assert.equal(lossOf(later, x, 8, 2), plainLoss, "before startStep: plain MoCo");
  for (const m of [plain, zero, mixing, later]) m.dispose();
  tf.dispose([stored, x]);
  encoder.dispose();
});

test("createMoco with mochi trains through training.train without a leak, and its negatives' similarities show the synthetic ones harder", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(12, 4);
  const moco = createMoco({ encoder, encoderDim: 12, projectionDim: 6, queueSize: 12, augmentation: noise, seed: 5, mochi: { hardest: 6, mixed: 8, queryMixed: 4 } });
  const x = images(4, 6);
  const empty = moco.negativeSimilarities(x);
  assert.deepEqual([empty.queue.length, empty.synthetic.length], [0, 0], "nothing before the first enqueue");
  const optimizer = tf.train.adam(1e-2);
  const { history, counts } = await trainCounting<VisionBatch>({ ...moco, optimizer, batches: () => Array(5).fill({ images: x }), disposeBatches: false, steps: 5, seed: 3 });
  assert.ok(history.loss.every(Number.isFinite), `losses ${history.loss}`);
  assertSteadyTensors(counts, 5);
  const before = tf.memory().numTensors;
  const sims = moco.negativeSimilarities(x, { seed: 1 });
  const again = moco.negativeSimilarities(x, { seed: 1 });
  const plain = moco.negativeSimilarities(x, { mochi: { hardest: 6, mixed: 0, queryMixed: 0 } });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(sims.queue.length, 4 * 12);
  assert.equal(sims.synthetic.length, 4 * 12);
  assert.deepEqual(Array.from(again.synthetic), Array.from(sims.synthetic), "seeded");
  assert.deepEqual(Array.from(plain.queue), Array.from(sims.queue));
  assert.equal(plain.synthetic.length, 0);
  const mean = (xs: Float32Array) => xs.reduce((s, v) => s + v, 0) / xs.length;
  assert.ok(mean(sims.synthetic) > mean(sims.queue), `synthetic ${mean(sims.synthetic)} vs queue ${mean(sims.queue)}`);
  assert.throws(() => moco.negativeSimilarities(x, { seed: 0.5 }), /MoCo.negativeSimilarities: options.seed must be an integer, got 0.5/);
  assert.throws(() => moco.negativeSimilarities(x, { mochi: { hardest: 13 } }), /MoCo.negativeSimilarities: options.mochi.hardest must be an integer in \[1, 12\], got 13/);
  optimizer.dispose();
  x.dispose();
  moco.dispose();
  encoder.dispose();
});

test("createMoco's knobs: momentum 0 makes the key network a copy of the query network after every step, 1 freezes it; queue lengths down to one batch", async () => {
  await tf.setBackend("cpu");
  const x = images(4, 2);
  for (const momentum of [0, 0.9, 0.99, 0.999, 1]) {
    const encoder = denseEncoder(12, 3);
    const moco = createMoco({ encoder, encoderDim: 12, projectionDim: 6, queueSize: 8, momentum, augmentation: noise, seed: 1 });
    const projector = moco.trainable[1] as tf.LayersModel;
    const initial = [values(moco.target.encoder), values(moco.target.projector)];
    const optimizer = tf.train.sgd(0.5);
    const { history } = await trainCounting<VisionBatch>({ ...moco, optimizer, batches: () => Array(3).fill({ images: x }), disposeBatches: false, steps: 3, seed: 2 });
    assert.ok(history.loss.every(Number.isFinite), `momentum ${momentum}: losses ${history.loss}`);
    const pairs = [[values(moco.target.encoder), values(encoder), initial[0]], [values(moco.target.projector), values(projector), initial[1]]] as const;
    for (const [target, online, start] of pairs) {
      const same = (a: Float64Array[], b: Float64Array[]) => a.every((w, i) => w.every((v, j) => v === b[i][j]));
      if (momentum === 0) assert.ok(same(target, online), "m = 0: the key network is the query network");
      else if (momentum === 1) assert.ok(same(target, start), "m = 1: the key network never moves");
      else assert.ok(!same(target, online) && !same(target, start), `m = ${momentum}: in between`);
    }
    optimizer.dispose();
    moco.dispose();
    encoder.dispose();
  }
  // K = B: the queue holds exactly the previous batch's keys.
  const encoder = denseEncoder(12, 3);
  const moco = createMoco({ encoder, encoderDim: 12, projectionDim: 6, queueSize: 4, augmentation: noise, seed: 1 });
  const optimizer = tf.train.adam(1e-2);
  const { history } = await trainCounting<VisionBatch>({ ...moco, optimizer, batches: () => Array(3).fill({ images: x }), disposeBatches: false, steps: 3, seed: 2 });
  assert.ok(history.loss.every(Number.isFinite));
  assert.equal(moco.queue.filled, 4);
  optimizer.dispose();
  moco.dispose();
  encoder.dispose();
  x.dispose();
});

test("createMoco rejects bad momentum and mochi options", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(12, 1);
  const bad: Array<[object, RegExp]> = [
    [{ momentum: -0.1 }, /createMoco: options.momentum must be a number in \[0, 1\], got -0.1/],
    [{ momentum: Number.NaN }, /createMoco: options.momentum must be a number in \[0, 1\], got NaN/],
    [{ queueSize: 2.5 }, /createMoco: options.queueSize must be a positive integer, got 2.5/],
    [{ mochi: null }, /createMoco: options.mochi must be an object \{hardest\?, mixed\?, queryMixed\?, startStep\?\}, got null/],
    [{ queueSize: 8, mochi: { hardest: 9 } }, /createMoco: options.mochi.hardest must be an integer in \[1, 8\], got 9/],
    [{ mochi: { mixed: -1 } }, /createMoco: options.mochi.mixed must be a non-negative integer, got -1/],
    [{ mochi: { queryMixed: 0.5 } }, /createMoco: options.mochi.queryMixed must be a non-negative integer, got 0.5/],
    [{ mochi: { startStep: -2 } }, /createMoco: options.mochi.startStep must be a non-negative integer, got -2/],
  ];
  for (const [options, message] of bad) assert.throws(() => createMoco({ encoder, encoderDim: 12, ...options } as never), message);
  const defaults = createMoco({ encoder, encoderDim: 12, queueSize: 100, mochi: {} });
  assert.deepEqual(defaults.mochi, { hardest: 100, mixed: 256, queryMixed: 64, startStep: 0 });
  defaults.dispose();
  encoder.dispose();
});
