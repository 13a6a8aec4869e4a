import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { extractFeatures, flattenInputs } from "../../src/evaluation/features";

function smallModel(batchNorm: boolean): tf.LayersModel {
  const layers: tf.layers.Layer[] = [
    tf.layers.flatten({ inputShape: [3, 3, 1] }),
    tf.layers.dense({ units: 5, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
  ];
  if (batchNorm) layers.push(tf.layers.batchNormalization({ movingMeanInitializer: "ones" }));
  return tf.sequential({ layers });
}

test("extractFeatures equals one predict over all inputs, whatever the batch size", async () => {
  await tf.setBackend("cpu");
  const model = smallModel(true);
  const x = tf.randomUniform([10, 3, 3, 1], 0, 1, "float32", 7);
  const expected = model.predict(x) as tf.Tensor; // inference mode, moving statistics
  const before = tf.memory().numTensors;
  for (const batchSize of [1, 3, 10, 64]) {
    const f = extractFeatures(model, x, { batchSize });
    assert.deepEqual(f.shape, [10, 5]);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(f, expected))).dataSync()[0]);
    assert.ok(diff < 1e-6, `batchSize ${batchSize}: max diff ${diff}`);
    f.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, expected]);
  model.dispose();
});

test("a function encoder works, and its output shape is checked", async () => {
  await tf.setBackend("cpu");
  const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2, 1]);
  const sums = extractFeatures((b) => tf.sum(b, [1, 2]), x, { batchSize: 1 });
  assert.deepEqual(sums.arraySync(), [[10], [26]]);
  assert.throws(
    () => extractFeatures((b) => b, x),
    /extractFeatures: encoder must return features \[2, dim\] for a batch of 2, got \[2,2,2,1\]/,
  );
  assert.throws(() => extractFeatures((b) => b, tf.zeros([3]) as tf.Tensor), /extractFeatures: inputs must be a tf.Tensor \[n, ...inputShape\], got shape \[3\]/);
  assert.throws(() => extractFeatures((b) => b, x, { batchSize: 0 }), /extractFeatures: batchSize must be a positive integer, got 0/);
  tf.dispose([x, sums]);
});

test("flattenInputs turns [n, h, w, c] into [n, h*w*c] in row-major order", async () => {
  await tf.setBackend("cpu");
  const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2, 1]);
  const flat = flattenInputs(x);
  assert.deepEqual(flat.arraySync(), [[1, 2, 3, 4], [5, 6, 7, 8]]);
  assert.throws(() => flattenInputs(tf.zeros([3]) as tf.Tensor), /flattenInputs: inputs must be a tf.Tensor \[n, ...inputShape\], got shape \[3\]/);
  tf.dispose([x, flat]);
});
