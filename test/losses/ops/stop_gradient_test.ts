import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { stopGradient } from "../../../src/losses/ops/stop_gradient";

test("stopGradient passes values and blocks gradients", async () => {
  await tf.setBackend("cpu");
  const x = tf.tensor1d([1, 2, 3]);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.add(tf.mul(t, t), stopGradient(tf.mul(t, t)))))(x);
  assert.deepEqual(Array.from(g.dataSync()), [2, 4, 6]);
  const y = tf.tidy(() => stopGradient(tf.mul(x, 2)));
  assert.deepEqual(Array.from(y.dataSync()), [2, 4, 6]);
  tf.dispose([x, g, y]);
});
