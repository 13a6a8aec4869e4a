import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { createByol } from "../../../src/methods/vision/byol";
import type { VisionBatch } from "../../../src/methods/vision/method";
import { train } from "../../../src/training/loop";
import { assertEmaRuleUsed, assertSteadyTensors, ctxOf, denseEncoder, negCos, noiseViews as noise, randomImages as images, trainCounting } from "./helpers";

// Layer by layer (a frozen model lists `weights` trainable-first), without BatchNorm's moving statistics:
// the target's own forward passes move those (batch statistics), so only the rest follows the EMA rule exactly.
const averaged = (m: tf.LayersModel) => m.layers.flatMap((l) => l.weights).filter((w) => !/moving_/.test(w.name));
const values = (m: tf.LayersModel) => averaged(m).map((w) => Float64Array.from(w.read().dataSync()));

test("createByol: the target changes only by the EMA rule (float64 reference), online weights move, no leak", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(12, 1);
  const start = tf.memory().numTensors;
  const m = 0.8;
  const byol = createByol({ encoder, encoderDim: 12, projectionDim: 8, hidden: [10], predictorHidden: [10], augmentation: noise, momentum: m, seed: 2 });
  const [, projector, predictor] = byol.trainable as tf.LayersModel[];
  assert.equal(byol.trainable.length, 3);
  const target = byol.target!;
  assert.equal(target.encoder.trainableWeights.length + target.projector.trainableWeights.length, 0, "the target has nothing trainable");
  // Float64 EMA of the online weights, starting from the copy made at creation.
  let wantEncoder = values(encoder);
  let wantProjector = values(projector);
  assert.deepEqual(values(target.encoder), wantEncoder);
  const online0 = [values(encoder), values(projector), values(predictor)];
  const ema = (t: Float64Array[], o: Float64Array[]) => t.map((w, i) => w.map((v, j) => m * v + (1 - m) * o[i][j]));
  const x = images(8, 6);
  const optimizer = tf.train.adam(1e-2);
  const { history, counts } = await trainCounting<VisionBatch>({
    ...byol, optimizer, batches: () => [{ images: x }, { images: x }, { images: x }, { images: x }],
    disposeBatches: false, steps: 4, seed: 7,
    callbacks: {
      onStep: () => {
        wantEncoder = ema(wantEncoder, values(encoder));
        wantProjector = ema(wantProjector, values(projector));
      },
    },
  });
  assert.ok(history.loss.every((l) => Number.isFinite(l) && l >= -2 - 1e-6 && l <= 2 + 1e-6));
  for (const [got, want, what] of [[values(target.encoder), wantEncoder, "encoder"], [values(target.projector), wantProjector, "projector"]] as const) {
    got.forEach((w, i) => w.forEach((v, j) => assert.ok(Math.abs(v - want[i][j]) < 1e-5, `target ${what} weight ${i}[${j}]: ${v} vs ${want[i][j]}`)));
  }
  [encoder, projector, predictor].forEach((model, k) =>
    values(model).forEach((w, i) => assert.ok(w.some((v, j) => Math.abs(v - online0[k][i][j]) > 1e-7), `${model.name} weight ${i} moves`)));
  assert.ok(values(target.encoder).some((w, i) => w.some((v, j) => Math.abs(v - values(encoder)[i][j]) > 1e-6)), "the target lags the online encoder");
  assertSteadyTensors(counts, 4);
  optimizer.dispose();
  x.dispose();
  byol.dispose();
  assert.equal(tf.memory().numTensors, start, "dispose frees heads and target, not the encoder");
  encoder.dispose();
});

test("createByol: the loss is -cos(p1, z2') - cos(p2, z1') with the target's projections; a momentum schedule is used per step", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(12, 3);
  const steps: number[] = [];
  const byol = createByol({ encoder, encoderDim: 12, projectionDim: 8, predictorHidden: [8], augmentation: noise, momentum: (s) => (steps.push(s), 0), seed: 4 });
  const [, projector, predictor] = byol.trainable as tf.LayersModel[];
  const x = images(6, 2);
  const [got, want] = tf.tidy(() => {
    const out = byol.loss({ images: x }, ctxOf(5)).loss;
    const [v1, v2] = noise(x, 5);
    const p = (v: tf.Tensor) => predictor.apply(projector.apply(encoder.apply(v, { training: true }), { training: true }), { training: true }) as tf.Tensor;
    const t = (v: tf.Tensor) => byol.target!.projector.apply(byol.target!.encoder.apply(v, { training: true }), { training: true }) as tf.Tensor;
    return [out.dataSync()[0], tf.add(negCos(p(v1), t(v2)), negCos(p(v2), t(v1))).dataSync()[0]];
  });
  assert.ok(Math.abs(got - want) < 1e-5, `${got} vs ${want}`);
  const optimizer = tf.train.sgd(0.1);
  await train<VisionBatch>({ ...byol, optimizer, batches: () => [{ images: x }, { images: x }], disposeBatches: false, steps: 2, seed: 1, progress: false });
  assert.deepEqual(steps, [0, 1]);
  // Momentum 0 copies the online weights into the target.
  values(byol.target!.encoder).forEach((w, i) => assert.deepEqual(w, values(encoder)[i]));
  optimizer.dispose();
  x.dispose();
  byol.dispose();
  encoder.dispose();
});

test("createByol ablations (no predictor, no target/stop-gradient) and bad options", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(12, 1);
  const start = tf.memory().numTensors;
  const noPredictor = createByol({ encoder, encoderDim: 12, projectionDim: 8, augmentation: noise, predictor: false });
  assert.equal(noPredictor.trainable.length, 2);
  assert.equal(typeof noPredictor.afterStep, "function");
  const noTarget = createByol({ encoder, encoderDim: 12, projectionDim: 8, augmentation: noise, stopGradient: false });
  assert.equal(noTarget.afterStep, undefined);
  assert.equal(noTarget.target, undefined);
  const x = images(4, 1);
  for (const method of [noPredictor, noTarget]) {
    const l = tf.tidy(() => method.loss({ images: x }, ctxOf(2)).loss.dataSync()[0]);
    assert.ok(Number.isFinite(l) && l >= -2 - 1e-6 && l <= 2 + 1e-6);
  }
  // Without the target network the encoder gets gradient through both branches: it differs from the stopped one.
  const [, projector, predictor] = noTarget.trainable as tf.LayersModel[];
  const { value, grads } = tf.variableGrads(() => noTarget.loss({ images: x }, ctxOf(2)).loss as tf.Scalar, [encoder.trainableWeights[0].read() as tf.Variable]);
  const { value: value2, grads: grads2 } = tf.variableGrads(() => {
    const [v1, v2] = noise(x, 2);
    const z = (v: tf.Tensor) => projector.apply(encoder.apply(v, { training: true }), { training: true }) as tf.Tensor;
    const z1 = z(v1), z2 = z(v2);
    return tf.add(negCos(predictor.apply(z1, { training: true }) as tf.Tensor, z2), negCos(predictor.apply(z2, { training: true }) as tf.Tensor, z1)) as tf.Scalar;
  }, [encoder.trainableWeights[0].read() as tf.Variable]);
  const a = Object.values(grads)[0].dataSync(), b = Object.values(grads2)[0].dataSync();
  a.forEach((v, j) => assert.ok(Math.abs(v - b[j]) < 1e-5 + 1e-3 * Math.abs(b[j]), `grad[${j}] ${v} vs ${b[j]}`));
  tf.dispose([value, value2, ...Object.values(grads), ...Object.values(grads2), x]);
  noPredictor.dispose();
  noTarget.dispose();
  assert.equal(tf.memory().numTensors, start);
  const bad: Array<[object, RegExp]> = [
    [{ encoder, encoderDim: 12, momentum: 1.5 }, /createByol: options.momentum must be a number in \[0, 1\] or a function of the step, got 1.5/],
    [{ encoder, encoderDim: 12, predictor: 1 }, /createByol: options.predictor must be a boolean, got 1/],
    [{ encoder, encoderDim: 12, projectionDim: 0 }, /createByol: options.projectionDim must be a positive integer, got 0/],
    [{ encoder: "cnn", encoderDim: 12 }, /createByol: options\.encoder must be a tf\.LayersModel, got "cnn"/],
  ];
  for (const [options, message] of bad) assert.throws(() => createByol(options as never), message);
  assert.equal(tf.memory().numTensors, start, "rejected options create nothing");
  encoder.dispose();
});

test("createByol updates its target with the emaRule it is given, for encoder and projector", async () => {
  await tf.setBackend("cpu");
  assertEmaRuleUsed((encoder, emaRule) => createByol({ encoder, encoderDim: 16, projectionDim: 8, augmentation: noise, momentum: 0.7, seed: 2, emaRule }), 0.7);
});
