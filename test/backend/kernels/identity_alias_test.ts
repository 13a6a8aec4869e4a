import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";

registerTrainingKernels("wasm");

test("Identity on wasm shares data with its input and frees it with the last reference", async () => {
  await tf.setBackend("wasm");
  const data = tf.engine().backend.numDataIds();
  const x = tf.tensor([1, 2, 3, 4], [2, 2]);
  const y = tf.engine().runKernel("Identity", { x }) as tf.Tensor;
  assert.equal(tf.engine().backend.numDataIds(), data + 1, "no copy");
  assert.deepEqual(y.shape, [2, 2]);
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4], "the alias outlives the input");
  y.dispose();
  assert.equal(tf.engine().backend.numDataIds(), data);
  const s = tf.tensor(["a", "b"]);
  const sc = tf.engine().runKernel("Identity", { x: s }) as tf.Tensor;
  assert.deepEqual(sc.arraySync(), ["a", "b"]);
  tf.dispose([s, sc]);
});

test("gradients through saved activations on wasm are unchanged by the alias", async () => {
  await tf.setBackend("wasm");
  // d/dx sum(relu(x) * x) = x>0 ? 2x : 0; the tape saves x through Identity.
  const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.relu(x).mul(x).sum())(tf.tensor([-2, -0.5, 0.5, 3])).dataSync());
  assert.deepEqual(Array.from(g), [0, 0, 1, 6]);
});
