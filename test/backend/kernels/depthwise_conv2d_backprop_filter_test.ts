import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import { ConvCase, depthwiseFilterGradRef, depthwiseRef, maxRelError } from "./conv_reference";
import { CASES, CaseData, TOLERANCE, attrsOf, caseData, label, runFilterGrad } from "./depthwise_cases";

registerTrainingKernels("wasm");

test("the float64 depthwise reference agrees with tfjs's forward kernels (cpu, and wasm where cpu refuses)", async () => {
  for (const [i, c] of CASES.entries()) {
    // cpu's kernel refuses strides and dilations both above 1; wasm's (XNNPACK) takes them.
    const both = Math.max(...c.strides) > 1 && Math.max(...c.dilations) > 1;
    await tf.setBackend(both ? "wasm" : "cpu");
    const d = caseData(c, 10 + i);
    const got = tf.tidy(() =>
      (tf.engine().runKernel("DepthwiseConv2dNative", { x: tf.tensor4d(d.x, c.x), filter: tf.tensor4d(d.f, c.filter) }, attrsOf(c, { dataFormat: "NHWC" })) as tf.Tensor).dataSync(),
    );
    assert.ok(maxRelError(got, depthwiseRef(c, d.x, d.f)) < TOLERANCE, label(c));
  }
});
test("DepthwiseConv2dNativeBackpropFilter on wasm matches the float64 reference", async () => {
  await tf.setBackend("wasm");
  CASES.forEach((c, i) => {
    const d = caseData(c, 100 + i);
    const got = tf.tidy(() => {
      const out = runFilterGrad(d);
      assert.deepEqual(out.shape, c.filter);
      return out.dataSync();
    });
    const err = maxRelError(got, depthwiseFilterGradRef(c, d.x, d.dy));
    assert.ok(err < TOLERANCE, `${label(c)}: relative error ${err}`);
  });
});
test("DepthwiseConv2dNativeBackpropFilter on wasm agrees with the stock cpu kernel", async () => {
  // cpu's stock kernels run the dilation-1 cases (tfjs-core's gradient never passes other dilations).
  const cases = CASES.filter((c) => c.dilations[0] === 1 && c.dilations[1] === 1);
  const data = cases.map((c, i) => caseData(c, 300 + i));
  const run = (d: CaseData) => tf.tidy(() => runFilterGrad(d).dataSync());
  await tf.setBackend("cpu");
  const stock = data.map(run);
  await tf.setBackend("wasm");
  data.forEach((d, i) => {
    assert.ok(maxRelError(run(d), stock[i]) < TOLERANCE, label(d.c));
  });
});
test("tf.grad of a separable-conv loss on wasm matches float64 finite differences", async () => {
  await tf.setBackend("wasm");
  const c: ConvCase = { x: [2, 6, 5, 2], filter: [3, 2, 2, 2], strides: [1, 2], dilations: [1, 1], pad: "same" };
  const d = caseData(c, 400);
  const r = d.dy;
  const loss = (x: ArrayLike<number>, w: ArrayLike<number>) => depthwiseRef(c, x, w).reduce((s, v, i) => s + v * r[i], 0);
  const [gx, gw] = tf.tidy(() =>
    tf.grads((x: tf.Tensor, w: tf.Tensor) =>
      tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.strides, c.pad as "same").mul(tf.tensor4d(r, d.dyShape)).sum(),
    )([tf.tensor4d(d.x, c.x), tf.tensor4d(d.f, c.filter)]).map((g) => g.dataSync()),
  );
  const h = 1e-3;
  const check = (values: Float32Array, grad: ArrayLike<number>, isX: boolean) => {
    for (let i = 0; i < values.length; i += 2) {
      const plus = Float64Array.from(values);
      const minus = Float64Array.from(values);
      plus[i] += h;
      minus[i] -= h;
      const fd = isX ? (loss(plus, d.f) - loss(minus, d.f)) / (2 * h) : (loss(d.x, plus) - loss(d.x, minus)) / (2 * h);
      assert.ok(Math.abs(fd - grad[i]) < 1e-4 * Math.max(1, Math.abs(fd)), `${isX ? "x" : "w"}[${i}]: ${grad[i]} vs ${fd}`);
    }
  };
  check(d.x, gx, true);
  check(d.f, gw, false);
});
test("DepthwiseConv2dNativeBackpropFilter leaves tensor and backend-data counts unchanged", async () => {
  await tf.setBackend("wasm");
  for (const c of [CASES[1], CASES[2], CASES[9]]) {
    const d = caseData(c, 500);
    const x = tf.tensor4d(d.x, c.x);
    const dy = tf.tensor4d(d.dy, d.dyShape);
    const f = tf.tensor4d(d.f, c.filter);
    for (const call of [
      () => tf.engine().runKernel("DepthwiseConv2dNativeBackpropFilter", { x, dy }, attrsOf(c, { filterShape: c.filter })) as tf.Tensor,
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
test("DepthwiseConv2dNativeBackpropFilter rejects bad input with a message naming kernel and argument", async () => {
  await tf.setBackend("wasm");
  const x = tf.zeros([2, 7, 5, 3]);
  const dy = tf.zeros([2, 7, 5, 6]);
  const f = tf.zeros([3, 3, 3, 2]);
  const base = { strides: [1, 1], dilations: [1, 1], pad: "same" };
  const run = (name: string, inputs: tf.NamedTensorMap, attrs: Record<string, unknown>) => () =>
    tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap);
  const tensors = tf.memory().numTensors;
  assert.throws(run("DepthwiseConv2dNativeBackpropFilter", { x, dy }, { ...base, filterShape: [3, 3, 3, 3] }),
    /DepthwiseConv2dNativeBackpropFilter \(wasm\): dy must have shape \[2,7,5,9\], got \[2,7,5,6\]/);
  assert.throws(run("DepthwiseConv2dNativeBackpropFilter", { x, dy }, { ...base, dataFormat: "NCHW", filterShape: [3, 3, 3, 2] }),
    /DepthwiseConv2dNativeBackpropFilter \(wasm\): dataFormat must be 'NHWC', got 'NCHW'/);
  assert.equal(tf.memory().numTensors, tensors);
  tf.dispose([x, dy, f]);
});