import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import { depthwiseInputGradRef, maxRelError } from "./conv_reference";
import { CASES, CaseData, TOLERANCE, attrsOf, caseData, label, runInputGrad } from "./depthwise_cases";

registerTrainingKernels("wasm");

test("DepthwiseConv2dNativeBackpropInput on wasm matches the float64 reference", async () => {
  await tf.setBackend("wasm");
  CASES.forEach((c, i) => {
    const d = caseData(c, 200 + i);
    const got = tf.tidy(() => {
      const out = runInputGrad(d);
      assert.deepEqual(out.shape, c.x);
      return out.dataSync();
    });
    const err = maxRelError(got, depthwiseInputGradRef(c, d.dy, d.f));
    assert.ok(err < TOLERANCE, `${label(c)}: relative error ${err}`);
  });
});
test("DepthwiseConv2dNativeBackpropInput on wasm agrees with the stock cpu kernel", async () => {
  // cpu's stock kernels run the dilation-1 cases (tfjs-core's gradient never passes other dilations).
  const cases = CASES.filter((c) => c.dilations[0] === 1 && c.dilations[1] === 1);
  const data = cases.map((c, i) => caseData(c, 300 + i));
  const run = (d: CaseData) => tf.tidy(() => runInputGrad(d).dataSync());
  await tf.setBackend("cpu");
  const stock = data.map(run);
  await tf.setBackend("wasm");
  data.forEach((d, i) => {
    assert.ok(maxRelError(run(d), stock[i]) < TOLERANCE, label(d.c));
  });
});
test("DepthwiseConv2dNativeBackpropInput leaves tensor and backend-data counts unchanged", async () => {
  await tf.setBackend("wasm");
  for (const c of [CASES[1], CASES[2], CASES[9]]) {
    const d = caseData(c, 500);
    const x = tf.tensor4d(d.x, c.x);
    const dy = tf.tensor4d(d.dy, d.dyShape);
    const f = tf.tensor4d(d.f, c.filter);
    for (const call of [
      () => tf.engine().runKernel("DepthwiseConv2dNativeBackpropInput", { dy, filter: f }, attrsOf(c, { inputShape: c.x })) as tf.Tensor,
    ]) {
      const tensors = tf.memory().numTensors;
      const data = tf.engine().backend.numDataIds();
      const out = call();
      assert.equal(tf.memory().numTensors, tensors + 1);
      assert.equal(tf.engine().backend.numDataIds(), data + 1);
      out.dispose();
    }
    tf.dispose([x, dy, f]);
  }
});
test("DepthwiseConv2dNativeBackpropInput rejects bad input with a message naming kernel and argument", async () => {
  await tf.setBackend("wasm");
  const x = tf.zeros([2, 7, 5, 3]);
  const dy = tf.zeros([2, 7, 5, 6]);
  const f = tf.zeros([3, 3, 3, 2]);
  const base = { strides: [1, 1], dilations: [1, 1], pad: "same" };
  const run = (name: string, inputs: tf.NamedTensorMap, attrs: Record<string, unknown>) => () =>
    tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap);
  const tensors = tf.memory().numTensors;
  assert.throws(run("DepthwiseConv2dNativeBackpropInput", { dy, filter: f }, { ...base, dilations: [0, 1], inputShape: [2, 7, 5, 3] }),
    /DepthwiseConv2dNativeBackpropInput \(wasm\): dilations must be a positive integer or a pair of them, got \[0,1\]/);
  assert.throws(run("DepthwiseConv2dNativeBackpropInput", { dy, filter: f }, { ...base, inputShape: [2, 7, 5, 4] }),
    /DepthwiseConv2dNativeBackpropInput \(wasm\): filter must have 4 input channels/);
  assert.throws(run("DepthwiseConv2dNativeBackpropInput", { dy, filter: f }, { ...base, strides: 2, inputShape: [2, 7, 5, 3] }),
    /DepthwiseConv2dNativeBackpropInput \(wasm\): dy must have shape \[2,4,3,6\], got \[2,7,5,6\]/);
  assert.throws(run("DepthwiseConv2dNativeBackpropInput", { dy, filter: f }, { ...base, dataFormat: "NCHW", inputShape: [2, 7, 5, 3] }),
    /DepthwiseConv2dNativeBackpropInput \(wasm\): dataFormat must be 'NHWC', got 'NCHW'/);
  assert.equal(tf.memory().numTensors, tensors);
  tf.dispose([x, dy, f]);
});