import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { differentiableLeaves, gradientsOf, gradientWeights } from "../../src/check/gradient";

test("differentiableLeaves: float32 tensors, nested ones too, never variables or ints", async () => {
  await tf.setBackend("cpu");
  const z = tf.zeros([2]);
  const v = tf.variable(tf.zeros([2]));
  const labels = tf.tensor1d([0, 1], "int32");
  const w = tf.ones([3]);
  const leaves = differentiableLeaves([z, v, labels, [w], 0.5], ["z", "v", "labels", "ws", "tau"]);
  assert.deepEqual(leaves.map((l) => l.path), ["z", "ws[0]"]);
  tf.dispose([z, v, labels, w]);
});

test("gradientWeights: none for one scalar, seeded random weights otherwise", async () => {
  await tf.setBackend("cpu");
  assert.deepEqual(gradientWeights([[]], 0), [null]);
  const [a, b] = gradientWeights([[2, 3], []], 4);
  const [c] = gradientWeights([[2, 3]], 4);
  assert.deepEqual(a!.shape, [2, 3]);
  assert.deepEqual(b!.shape, []);
  assert.deepEqual(Array.from(a!.dataSync()), Array.from(c!.dataSync()));
  assert.ok(new Set(a!.dataSync()).size === 6);
  tf.dispose([a!, b!, c!]);
});

test("gradientsOf: the weighted sum's gradient, null where nothing flows back, nothing left allocated", async () => {
  await tf.setBackend("cpu");
  const x = tf.tensor1d([1, 2, 3]);
  const y = tf.tensor1d([4, 5, 6]);
  const before = tf.memory().numTensors;
  const weights = [tf.tensor1d([1, 10, 100])];
  const { threw, grads } = gradientsOf((a: tf.Tensor) => tf.square(a), [x, y], differentiableLeaves([x, y], ["x", "y"]), weights);
  assert.equal(threw, false);
  assert.deepEqual(Array.from(grads[0]!.dataSync()), [2, 40, 600]);
  assert.equal(grads[1], null);
  tf.dispose([...weights, grads[0]!]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, y]);
});

test("gradientsOf: a throw while differentiating is reported and its tape freed", async () => {
  await tf.setBackend("cpu");
  const x = tf.tensor1d([1, 2]);
  const before = tf.memory().numTensors;
  const noGradient = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [a, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([a]);
    return {
      value: tf.sum(tf.exp(a)),
      gradFunc: () => {
        throw new Error("no gradient here");
      },
    };
  });
  const result = gradientsOf((a: tf.Tensor) => noGradient(a), [x], differentiableLeaves([x], ["x"]), [null]);
  assert.equal(result.threw, true);
  assert.equal((result.thrown as Error).message, "no gradient here");
  assert.equal(tf.memory().numTensors, before);
  assert.equal(tf.engine().state.activeTape, null);
  assert.equal(tf.engine().state.gradientDepth, 0);
  x.dispose();
});
