import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { trainableVariables } from "../../../src/models/encoders";
import { createSimsiam } from "../../../src/methods/vision/simsiam";
import type { VisionBatch } from "../../../src/methods/vision/method";
import { allMoved, assertSteadyTensors, ctxOf, denseEncoder, negCos, noiseViews as noise, randomImages as images, snapshot, trainCounting } from "./helpers";

function gradients(f: () => tf.Scalar, vars: tf.Variable[]): Float64Array[] {
  const { value, grads } = tf.variableGrads(f, vars);
  const out = vars.map((v) => Float64Array.from(grads[v.name].dataSync()));
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}
function assertClose(a: Float64Array[], b: Float64Array[], what: string): void {
  a.forEach((g, i) => g.forEach((v, j) => assert.ok(Math.abs(v - b[i][j]) < 1e-5 + 1e-3 * Math.abs(b[i][j]), `${what}: grad ${i}[${j}] ${v} vs ${b[i][j]}`)));
}

test("createSimsiam: gradients match the paper's eq. 3 with and without the stop-gradient", async () => {
  await tf.setBackend("cpu");
  const x = images(6, 3);
  const ctx = ctxOf(9);
  const results: Record<string, Float64Array[]> = {};
  for (const stop of [true, false]) {
    const encoder = denseEncoder(12, 1);
    const method = createSimsiam({ encoder, encoderDim: 12, projectionDim: 8, predictorHidden: [8], augmentation: noise, stopGradient: stop, seed: 2 });
    const [, projector, predictor] = method.trainable as tf.LayersModel[];
    const vars = trainableVariables(encoder, projector, predictor);
    const before = tf.memory().numTensors;
    const got = gradients(() => method.loss({ images: x }, ctx).loss as tf.Scalar, vars);
    assert.equal(tf.memory().numTensors, before);
    const forward = () => {
      const [v1, v2] = noise(x, 9);
      const z1 = projector.apply(encoder.apply(v1, { training: true }), { training: true }) as tf.Tensor2D;
      const z2 = projector.apply(encoder.apply(v2, { training: true }), { training: true }) as tf.Tensor2D;
      return { z1, z2, p1: predictor.apply(z1, { training: true }) as tf.Tensor2D, p2: predictor.apply(z2, { training: true }) as tf.Tensor2D };
    };
    // With the stop-gradient the targets are constants: computed outside the gradient.
    const [c1, c2] = tf.tidy(() => { const { z1, z2 } = forward(); return [z1, z2]; });
    const want = gradients(() => {
      const { z1, z2, p1, p2 } = forward();
      return tf.mul(tf.add(negCos(p1, stop ? c2 : z2), negCos(p2, stop ? c1 : z1)), 0.5) as tf.Scalar;
    }, vars);
    assertClose(got, want, `stopGradient ${stop}`);
    const value = tf.tidy(() => method.loss({ images: x }, ctx).loss.dataSync()[0]);
    const wantValue = tf.tidy(() => { const { z1, z2, p1, p2 } = forward(); return tf.mul(tf.add(negCos(p1, z2), negCos(p2, z1)), 0.5).dataSync()[0]; });
    assert.ok(Math.abs(value - wantValue) < 1e-5, `loss value ${value} vs ${wantValue}`);
    results[String(stop)] = got;
    tf.dispose([c1, c2]);
    method.dispose();
    encoder.dispose();
  }
  assert.ok(results.true[0].some((v, j) => Math.abs(v - results.false[0][j]) > 1e-6), "the stop-gradient changes the encoder's gradient");
  x.dispose();
});

test("createSimsiam trains through training.train: everything trainable moves, no leak; predictor: false drops the head", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(12, 4);
  const start = tf.memory().numTensors;
  const method = createSimsiam({ encoder, encoderDim: 12, projectionDim: 8, augmentation: noise, seed: 5 });
  assert.equal(method.afterStep, undefined);
  const models = method.trainable as tf.LayersModel[];
  assert.equal(models.length, 3);
  const w0 = models.map(snapshot);
  const x = images(8, 6);
  const optimizer = tf.train.adam(1e-2);
  const { history, counts } = await trainCounting<VisionBatch>({
    ...method, optimizer, batches: () => [{ images: x }, { images: x }, { images: x }, { images: x }],
    disposeBatches: false, steps: 4, seed: 7,
  });
  assert.ok(history.loss.every((l) => Number.isFinite(l) && l >= -1 - 1e-6 && l <= 1 + 1e-6));
  assert.ok(history.metrics.std.every((s) => s > 0 && s <= 1));
  models.forEach((m, i) => assert.ok(allMoved(snapshot(m), w0[i]), `${m.name} moves`));
  assertSteadyTensors(counts, 4);
  optimizer.dispose();
  method.dispose();
  assert.equal(tf.memory().numTensors, start + 1, "only x is left");
  const noPredictor = createSimsiam({ encoder, encoderDim: 12, projectionDim: 8, augmentation: noise, predictor: false });
  assert.equal(noPredictor.trainable.length, 2);
  const l = tf.tidy(() => noPredictor.loss({ images: x }, ctxOf(1)).loss.dataSync()[0]);
  assert.ok(Number.isFinite(l));
  noPredictor.dispose();
  x.dispose();
  assert.equal(tf.memory().numTensors, start);
  encoder.dispose();
});

test("createSimsiam rejects bad options", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(12, 1);
  const bad: Array<[object, RegExp]> = [
    [{ encoder: null, encoderDim: 12 }, /createSimsiam: options.encoder must be a tf.LayersModel/],
    [{ encoder, encoderDim: -1 }, /createSimsiam: options.encoderDim must be a positive integer, got -1/],
    [{ encoder, encoderDim: 12, predictorHidden: [2.5] }, /createSimsiam: options.predictorHidden must be an array of positive integers/],
    [{ encoder, encoderDim: 12, stopGradient: "no" }, /createSimsiam: options.stopGradient must be a boolean, got no/],
    [{ encoder, encoderDim: 12, augmentation: 3 }, /createSimsiam: options.augmentation must be a function/],
  ];
  for (const [options, message] of bad) assert.throws(() => createSimsiam(options as never), message);
  encoder.dispose();
});
