import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels, unregisterTrainingKernels } from "../../../src/backend/kernels";

const WASM = [
  "wasm/Conv2D",
  "wasm/FusedConv2D",
  "wasm/Conv2DBackpropFilter",
  "wasm/Conv2DBackpropInput",
  "wasm/DepthwiseConv2dNativeBackpropFilter",
  "wasm/DepthwiseConv2dNativeBackpropInput",
  "wasm/UnsortedSegmentSum",
  "wasm/MaxPoolGrad",
  "wasm/Sum",
  "wasm/Mean",
  "wasm/BatchMatMul",
  "wasm/Identity",
  "wasm/GatherV2",
  "wasm/Tile",
  "wasm/Slice",
  "wasm/SslReluGrad",
  "wasm/SslBatchNorm",
  "wasm/SslBatchNormGrad",
  "wasm/SslLayerNorm",
  "wasm/SslLayerNormGrad",
];
const CPU = ["cpu/Conv2DBackpropFilter", "cpu/UnsortedSegmentSum", "cpu/MaxPoolGrad", "cpu/Sum", "cpu/Mean", "cpu/SslReluGrad", "cpu/SslBatchNorm", "cpu/SslBatchNormGrad", "cpu/SslLayerNorm", "cpu/SslLayerNormGrad"];

const kernelOf = (name: string) => {
  const [backend, kernel] = name.split("/");
  return tf.getKernel(kernel, backend);
};

test("registerTrainingKernels registers per backend, is idempotent, and unregister restores the stock kernels", async () => {
  await tf.setBackend("wasm");
  const stockInput = tf.getKernel("Conv2DBackpropInput", "wasm");
  const stockConv = tf.getKernel("Conv2D", "wasm");
  const stockCpuFilter = tf.getKernel("Conv2DBackpropFilter", "cpu");
  assert.ok(stockInput != null && stockCpuFilter != null);
  assert.equal(tf.getKernel("Conv2DBackpropFilter", "wasm"), undefined);

  assert.deepEqual(registerTrainingKernels("wasm"), WASM);
  assert.equal(kernelOf("cpu/Conv2DBackpropFilter"), stockCpuFilter, "cpu untouched when asking for wasm");
  const first = WASM.map(kernelOf);
  assert.ok(first.every((k) => k != null));
  assert.notEqual(first[WASM.indexOf("wasm/Conv2DBackpropInput")], stockInput);
  assert.notEqual(first[WASM.indexOf("wasm/Conv2D")], stockConv);
  assert.deepEqual(registerTrainingKernels(), [...WASM, ...CPU]);
  assert.deepEqual(WASM.map(kernelOf), first, "a second call leaves the registered configs in place");

  assert.deepEqual(unregisterTrainingKernels("wasm"), WASM);
  assert.equal(tf.getKernel("Conv2DBackpropInput", "wasm"), stockInput);
  assert.equal(tf.getKernel("Conv2D", "wasm"), stockConv);
  assert.equal(tf.getKernel("Conv2DBackpropFilter", "wasm"), undefined);
  assert.deepEqual(unregisterTrainingKernels("wasm"), [], "unregistering twice is a no-op");
  // The restored stock wasm kernel still runs (its C binding survives).
  const dx = tf.tidy(() =>
    (tf.engine().runKernel("Conv2DBackpropInput", { dy: tf.ones([1, 3, 3, 2]), filter: tf.ones([2, 2, 1, 2]) },
      { strides: 1, pad: "same", dataFormat: "NHWC", inputShape: [1, 3, 3, 1] } as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync(),
  );
  assert.deepEqual(Array.from(dx), [2, 4, 4, 4, 8, 8, 4, 8, 8]);
  assert.deepEqual(unregisterTrainingKernels(), CPU);
  assert.equal(tf.getKernel("Conv2DBackpropFilter", "cpu"), stockCpuFilter);

  assert.throws(() => registerTrainingKernels("webgl" as "wasm"), /registerTrainingKernels: backendName must be "wasm" or "cpu", got "webgl"/);
});
