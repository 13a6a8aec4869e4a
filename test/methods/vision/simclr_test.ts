import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import * as losses from "../../../src/losses";
import { createSimclr } from "../../../src/methods/vision/simclr";
import type { VisionBatch } from "../../../src/methods/vision/method";
import { allMoved, assertSteadyTensors, ctxOf, denseEncoder, noiseViews as noise, randomImages as images, snapshot, trainCounting } from "./helpers";

test("createSimclr: the loss is NT-Xent of the projected views, accuracy matches a float64 count", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(16, 1);
  const simclr = createSimclr({ encoder, encoderDim: 16, projectionDim: 8, augmentation: noise, temperature: 0.3, seed: 2 });
  const projector = simclr.trainable[1] as tf.LayersModel;
  const x = images(6, 3);
  const before = tf.memory().numTensors;
  const [got, accuracy, want, z] = tf.tidy(() => {
    const out = simclr.loss({ images: x }, ctxOf(11));
    const [v1, v2] = noise(x, 11);
    const z1 = projector.apply(encoder.apply(v1, { training: true }), { training: true }) as tf.Tensor2D;
    const z2 = projector.apply(encoder.apply(v2, { training: true }), { training: true }) as tf.Tensor2D;
    return [out.loss, out.metrics!.accuracy, losses.ntXentLoss(z1, z2, { temperature: 0.3 }), tf.concat([z1, z2], 0)];
  });
  assert.ok(Number.isFinite(got.dataSync()[0]));
  assert.ok(Math.abs(got.dataSync()[0] - want.dataSync()[0]) < 1e-5, `${got.dataSync()[0]} vs ${want.dataSync()[0]}`);
  // Float64 reference of the positive-pair accuracy.
  const rows = z.arraySync() as number[][];
  const unit = rows.map((r) => { const n = Math.hypot(...r); return r.map((v) => v / n); });
  let hits = 0;
  unit.forEach((u, i) => {
    let best = -1, bestSim = -Infinity;
    unit.forEach((v, j) => { if (j === i) return; const s = u.reduce((a, ui, k) => a + ui * v[k], 0); if (s > bestSim) { bestSim = s; best = j; } });
    if (best === (i + 6) % 12) hits++;
  });
  assert.ok(Math.abs(accuracy.dataSync()[0] - hits / 12) < 1e-6);
  tf.dispose([got, accuracy, want, z]);
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
  simclr.dispose();
  encoder.dispose();
});

test("createSimclr trains through training.train: encoder and projector move, no tensor leak, dispose frees the head", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(16, 4);
  const start = tf.memory().numTensors;
  // The default augmentation (simclrAugment) on 8 digits.
  const simclr = createSimclr({ encoder, encoderDim: 16, projectionDim: 8, seed: 5 });
  const projector = simclr.trainable[1] as tf.LayersModel;
  const e0 = snapshot(encoder);
  const p0 = snapshot(projector);
  const x = images(8, 6);
  const optimizer = tf.train.adam(1e-2);
  const { history, counts } = await trainCounting<VisionBatch>({
    ...simclr,
    optimizer,
    batches: () => [{ images: x }, { images: x }, { images: x }, { images: x }],
    disposeBatches: false,
    steps: 4,
    seed: 7,
  });
  assert.equal(history.loss.length, 4);
  assert.ok(history.loss.every(Number.isFinite));
  assert.ok(history.metrics.accuracy.every((a) => a >= 0 && a <= 1));
  assert.ok(history.metrics.std.every((s) => s > 0));
  assert.ok(allMoved(snapshot(encoder), e0), "every encoder weight moves");
  assert.ok(allMoved(snapshot(projector), p0), "every projector weight moves");
  assertSteadyTensors(counts, 4);
  optimizer.dispose();
  x.dispose();
  simclr.dispose();
  assert.equal(tf.memory().numTensors, start, "dispose frees the projector, not the encoder");
  assert.ok(!encoder.weights[0].read().isDisposed);
  encoder.dispose();
});

test("createSimclr rejects bad options and batches", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(16, 1);
  const bad: Array<[object, RegExp]> = [
    [{ encoder: {}, encoderDim: 16 }, /createSimclr: options.encoder must be a tf.LayersModel/],
    [{ encoder, encoderDim: 0 }, /createSimclr: options.encoderDim must be a positive integer, got 0/],
    [{ encoder, encoderDim: 16, temperature: 0 }, /createSimclr: options.temperature must be a finite number > 0, got 0/],
    [{ encoder, encoderDim: 16, projectionDim: 2.5 }, /createSimclr: options.projectionDim must be a positive integer, got 2.5/],
    [{ encoder, encoderDim: 16, hidden: [0] }, /createSimclr: options.hidden must be an array of positive integers/],
    [{ encoder, encoderDim: 16, seed: 0.5 }, /createSimclr: options.seed must be an integer, got 0.5/],
  ];
  for (const [options, message] of bad) assert.throws(() => createSimclr(options as never), message);
  const wrongDim = createSimclr({ encoder, encoderDim: 12, augmentation: noise });
  const x = images(4, 1);
  assert.throws(() => tf.tidy(() => wrongDim.loss({ images: x }, ctxOf(1)).loss), /SimCLR\.loss: encoder must map \[4,28,28,1\] to \[4,12\], got a tensor of shape \[4,16\]/);
  const one = images(1, 1);
  assert.throws(() => wrongDim.loss({ images: one }, ctxOf(1)), /SimCLR\.loss: batch\.images must be a batch \[B, height, width, channels\] with B >= 2, got a tensor of shape \[1,28,28,1\]/);
  tf.dispose([x, one]);
  wrongDim.dispose();
  encoder.dispose();
});

test("createSimclr trains with the ntXent it is given: same projections, that function's loss", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(16, 1);
  const seen: number[] = [];
  const doubled = (z1: tf.Tensor2D, z2: tf.Tensor2D, t: number) => { seen.push(t); return tf.mul(losses.ntXentLoss(z1, z2, { temperature: t }), 2) as tf.Scalar; };
  const mine = createSimclr({ encoder, encoderDim: 16, projectionDim: 8, augmentation: noise, temperature: 0.3, seed: 2, ntXent: doubled });
  const stock = createSimclr({ encoder, encoderDim: 16, projectionDim: 8, augmentation: noise, temperature: 0.3, seed: 2 });
  const x = images(6, 3);
  const [a, b] = tf.tidy(() => [mine.loss({ images: x }, ctxOf(11)).loss.dataSync()[0], stock.loss({ images: x }, ctxOf(11)).loss.dataSync()[0]]);
  assert.ok(Math.abs(a - 2 * b) < 1e-5, `${a} vs 2 * ${b}`);
  assert.deepEqual(seen, [0.3]);
  const perRow = createSimclr({ encoder, encoderDim: 16, augmentation: noise, seed: 2, ntXent: (z1) => tf.sum(z1, 1) as unknown as tf.Scalar });
  assert.throws(() => tf.tidy(() => { perRow.loss({ images: x }, ctxOf(11)); }), /SimCLR.loss: options.ntXent must return a scalar loss, got shape \[6\]/);
  assert.throws(() => createSimclr({ encoder, encoderDim: 16, ntXent: "nt-xent" as never }), /createSimclr: options.ntXent must be a function \(z1, z2, temperature\) => scalar, got string/);
  [mine, stock, perRow].forEach((m) => m.dispose());
  x.dispose();
  encoder.dispose();
});

