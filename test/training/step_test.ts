import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { runStep } from "../../src/training/step";
import type { StepContext, TrainOptions } from "../../src/training/types";

const ctx: StepContext = { step: 0, epoch: 0, stepInEpoch: 0, seed: 1, rng: createRng(1) };

function options(loss: TrainOptions<number>["loss"], w: tf.Variable, afterStep?: () => void): TrainOptions<number> {
  return { loss, optimizer: tf.train.sgd(0.5), trainable: [w], batches: () => [], afterStep };
}

test("runStep takes one gradient step, reads back loss and metrics, and leaks nothing", async () => {
  await tf.setBackend("cpu");
  const w = tf.variable(tf.tensor1d([1, -2]));
  let after = 0;
  const opts = options((scale) => ({ loss: tf.mul(scale, tf.sum(tf.square(w))), metrics: { norm: tf.norm(w) } }), w, () => after++);
  const before = tf.memory().numTensors;
  const result = runStep(opts, [w], 1, ctx);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(result.loss, 5);
  assert.ok(Math.abs(result.metrics.norm - Math.sqrt(5)) < 1e-6);
  // w - 0.5 * 2w = 0
  assert.deepEqual(Array.from(w.dataSync()), [0, 0]);
  assert.equal(after, 1);
  opts.optimizer.dispose();
  w.dispose();
});

test("a non-finite loss is returned but not applied", async () => {
  await tf.setBackend("cpu");
  const w = tf.variable(tf.tensor1d([1, 2]));
  let after = 0;
  const opts = options(() => tf.div(tf.sum(w), tf.scalar(0)), w, () => after++);
  const before = tf.memory().numTensors;
  const result = runStep(opts, [w], 1, ctx);
  assert.equal(result.loss, Infinity);
  assert.deepEqual(Array.from(w.dataSync()), [1, 2]);
  assert.equal(after, 0);
  assert.equal(tf.memory().numTensors, before);
  opts.optimizer.dispose();
  w.dispose();
});

test("a loss that is not a scalar, or a metric that is not one, throws and leaks nothing", async () => {
  await tf.setBackend("cpu");
  const w = tf.variable(tf.tensor1d([1, 2]));
  const vector = options(() => tf.mul(w, 2), w);
  const badMetric = options(() => ({ loss: tf.sum(w), metrics: { each: tf.square(w) } }), w);
  const before = tf.memory().numTensors;
  assert.throws(() => runStep(vector, [w], 1, ctx), /train: loss must return a scalar tf.Tensor \(shape \[\]\) or \{ loss, metrics \}, got shape \[2\]/);
  assert.throws(() => runStep(badMetric, [w], 1, ctx), /train: metrics.each must be a scalar tf.Tensor \(shape \[\]\), got shape \[2\]/);
  assert.equal(tf.memory().numTensors, before);
  vector.optimizer.dispose();
  badMetric.optimizer.dispose();
  w.dispose();
});
