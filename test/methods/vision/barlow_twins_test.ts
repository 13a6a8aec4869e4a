import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { createBarlowTwins } from "../../../src/methods/vision/barlow_twins";
import type { VisionBatch } from "../../../src/methods/vision/method";
import { allMoved, assertSteadyTensors, ctxOf, denseEncoder, noiseViews as noise, randomImages as images, snapshot, trainCounting } from "./helpers";

// Float64 Barlow Twins loss of the paper's eq. 1, from plain arrays.
function barlowReference(z1: number[][], z2: number[][], lambda: number): number {
  const b = z1.length, d = z1[0].length;
  const standardise = (z: number[][]) => {
    const cols = Array.from({ length: d }, (_, k) => z.map((r) => r[k]));
    const stats = cols.map((c) => { const m = c.reduce((a, v) => a + v, 0) / b; return [m, Math.sqrt(c.reduce((a, v) => a + (v - m) ** 2, 0) / b)]; });
    return z.map((r) => r.map((v, k) => (v - stats[k][0]) / stats[k][1]));
  };
  const s1 = standardise(z1), s2 = standardise(z2);
  let loss = 0;
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
    let c = 0;
    for (let n = 0; n < b; n++) c += s1[n][i] * s2[n][j];
    c /= b;
    loss += i === j ? (1 - c) ** 2 : lambda * c * c;
  }
  return loss;
}

test("createBarlowTwins: the loss is eq. 1 of the projected views (float64 reference), default lambda = 1/D", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(12, 1);
  const method = createBarlowTwins({ encoder, encoderDim: 12, projectionDim: 8, augmentation: noise, seed: 2 });
  const projector = method.trainable[1] as tf.LayersModel;
  const x = images(10, 3);
  const before = tf.memory().numTensors;
  const [got, z1, z2] = tf.tidy(() => {
    const out = method.loss({ images: x }, ctxOf(4)).loss.dataSync()[0];
    const [v1, v2] = noise(x, 4);
    const z = (v: tf.Tensor) => (projector.apply(encoder.apply(v, { training: true }), { training: true }) as tf.Tensor).arraySync() as number[][];
    return [out, z(v1), z(v2)];
  }) as unknown as [number, number[][], number[][]];
  assert.equal(tf.memory().numTensors, before);
  const want = barlowReference(z1, z2, 1 / 8);
  assert.ok(Math.abs(got - want) < 1e-4 * (1 + want), `${got} vs ${want}`);
  assert.ok(Math.abs(got - barlowReference(z1, z2, 5e-3)) > 1e-4, "lambda is 1/D, not 5e-3");
  x.dispose();
  method.dispose();
  encoder.dispose();
});

test("createBarlowTwins trains through training.train: encoder and projector move, loss falls, no leak", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(12, 4);
  const start = tf.memory().numTensors;
  const method = createBarlowTwins({ encoder, encoderDim: 12, projectionDim: 8, augmentation: noise, lambda: 0.05, seed: 5 });
  const projector = method.trainable[1] as tf.LayersModel;
  const e0 = snapshot(encoder), p0 = snapshot(projector);
  const x = images(16, 6);
  const optimizer = tf.train.adam(1e-2);
  const { history, counts } = await trainCounting<VisionBatch>({
    ...method, optimizer, batches: () => Array.from({ length: 8 }, () => ({ images: x })),
    disposeBatches: false, steps: 8, seed: 7,
  });
  assert.ok(history.loss.every(Number.isFinite));
  assert.ok(history.loss[7] < history.loss[0], `loss ${history.loss}`);
  assert.ok(allMoved(snapshot(encoder), e0) && allMoved(snapshot(projector), p0));
  assertSteadyTensors(counts, 8);
  optimizer.dispose();
  x.dispose();
  method.dispose();
  assert.equal(tf.memory().numTensors, start);
  encoder.dispose();
});

test("createBarlowTwins rejects bad options", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(12, 1);
  const bad: Array<[object, RegExp]> = [
    [{ encoder, encoderDim: 12, lambda: -1 }, /createBarlowTwins: options.lambda must be a finite number > 0, got -1/],
    [{ encoder, encoderDim: 12, projectionDim: 0 }, /createBarlowTwins: options.projectionDim must be a positive integer, got 0/],
    [{ encoder, encoderDim: "12" }, /createBarlowTwins: options\.encoderDim must be a positive integer, got "12"/],
    [{ encoder, encoderDim: 12, hidden: 12 }, /createBarlowTwins: options.hidden must be an array of positive integers, got 12/],
  ];
  for (const [options, message] of bad) assert.throws(() => createBarlowTwins(options as never), message);
  encoder.dispose();
});
