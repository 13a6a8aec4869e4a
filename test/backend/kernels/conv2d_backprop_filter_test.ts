import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels, unregisterTrainingKernels } from "../../../src/backend/kernels";
import { CHUNK_PIXELS } from "../../../src/backend/kernels/conv2d_backprop_filter";
import { conv2dFilterGradRef, conv2dRef, maxRelError } from "./conv_reference";
import {
  CASES,
  CHUNKED_CASE,
  EXPLICIT_CASE,
  TOLERANCE,
  assertOneNewTensor,
  attrsOf,
  caseData,
  filterGrad,
  label,
} from "./conv2d_cases";

registerTrainingKernels();

test("the float64 reference agrees with tfjs's own forward Conv2D kernel (cpu), so it shares tfjs's conventions", async () => {
  await tf.setBackend("cpu");
  CASES.forEach((c, i) => {
    if (c.x[0] * c.x[1] * c.x[2] > 2000) return;
    const d = caseData(c, 100 + i);
    // The kernel, not tf.conv2d: the op refuses strides and dilations both above 1.
    const got = tf.tidy(() =>
      (tf.engine().runKernel("Conv2D", { x: tf.tensor4d(d.x, c.x), filter: tf.tensor4d(d.f, c.filter) }, attrsOf(c, {})) as tf.Tensor).dataSync(),
    );
    assert.ok(maxRelError(got, conv2dRef(c, d.x, d.f)) < TOLERANCE, label(c));
  });
  const pixels = (i: number) => CASES[i].x[0] * CASES[i].x[1] * CASES[i].x[2];
  assert.ok(CHUNK_PIXELS < pixels(CHUNKED_CASE) && CHUNK_PIXELS < pixels(CHUNKED_CASE - 1), "two cases must span several chunks");
});

for (const backend of ["wasm", "cpu"] as const) {
  test(`Conv2DBackpropFilter on ${backend} matches the float64 reference`, async () => {
    await tf.setBackend(backend);
    CASES.forEach((c, i) => {
      const d = caseData(c, 200 + i);
      const err = maxRelError(filterGrad(d), conv2dFilterGradRef(c, d.x, d.dy));
      assert.ok(err < TOLERANCE, `${label(c)}: relative error ${err}`);
    });
  });

  test(`Conv2DBackpropFilter on ${backend} takes NCHW tensors`, async () => {
    await tf.setBackend(backend);
    const c = CASES[EXPLICIT_CASE];
    const d = caseData(c, 400);
    const pad = c.pad as number[][];
    const dw = tf.tidy(() => {
      const x = tf.tensor4d(d.x, c.x).transpose([0, 3, 1, 2]);
      const dy = tf.tensor4d(d.dy, d.dyShape).transpose([0, 3, 1, 2]);
      const attrs = { strides: c.strides, dilations: c.dilations, pad: [[0, 0], [0, 0], pad[1], pad[2]], dataFormat: "NCHW", filterShape: c.filter };
      return (tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync();
    });
    assert.ok(maxRelError(dw, conv2dFilterGradRef(c, d.x, d.dy)) < TOLERANCE);
  });

  test(`Conv2DBackpropFilter on ${backend} leaves tensor and backend-data counts unchanged`, async () => {
    await tf.setBackend(backend);
    // Every layout: tap-major in chunks and strided; pixel-major in chunks, by the SIMD loop (wasm) and by matrix product.
    for (const [i, c] of [[CHUNKED_CASE, CASES[CHUNKED_CASE]], [1, CASES[1]], [11, CASES[11]], [10, CASES[10]], [18, CASES[18]]] as const) {
      const d = caseData(c, 600 + i);
      const x = tf.tensor4d(d.x, c.x);
      const dy = tf.tensor4d(d.dy, d.dyShape);
      assertOneNewTensor(() => tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, attrsOf(c, { filterShape: c.filter })) as tf.Tensor);
      tf.dispose([x, dy]);
    }
  });

  test(`Conv2DBackpropFilter on ${backend} rejects bad input with a message naming kernel and argument`, async () => {
    await tf.setBackend(backend);
    const x = tf.zeros([2, 7, 5, 3]);
    const dy = tf.zeros([2, 7, 5, 4]);
    const xInt = x.toInt();
    const dyNarrow = tf.zeros([2, 7, 4, 4]);
    const run = (inputs: tf.NamedTensorMap, attrs: Record<string, unknown>) => () =>
      tf.engine().runKernel("Conv2DBackpropFilter", inputs, { strides: [1, 1], pad: "same", dataFormat: "NHWC", filterShape: [3, 3, 3, 4], ...attrs } as unknown as tf.NamedAttrMap);
    const where = `Conv2DBackpropFilter \\(${backend}\\)`;
    const tensors = tf.memory().numTensors;
    assert.throws(run({ x, dy: dyNarrow }, {}), new RegExp(`${where}: dy must have shape \\[2,7,5,4\\], got \\[2,7,4,4\\]`));
    assert.throws(run({ x, dy }, { filterShape: [3, 3, 2, 4] }), new RegExp(`${where}: filter must have 3 input channels`));
    assert.throws(run({ x, dy }, { dataFormat: "NCWH" }), new RegExp(`${where}: dataFormat must be 'NHWC' or 'NCHW', got 'NCWH'`));
    assert.throws(run({ x: xInt, dy }, {}), new RegExp(`${where}: x must be float32, got int32`));
    assert.throws(run({ x, dy }, { strides: [1, 1.5] }), new RegExp(`${where}: strides must be a positive integer or a pair of them, got \\[1,1.5\\]`));
    assert.throws(run({ x, dy }, { pad: [[1, 0], [1, 1], [1, 1], [0, 0]] }), new RegExp(`${where}: explicit pad may only pad the spatial axes`));
    assert.throws(run({ x, dy }, { dimRoundingMode: "up" }), new RegExp(`${where}: dimRoundingMode must be 'floor', 'round' or 'ceil', got 'up'`));
    assert.throws(run({ x, dy }, { filterShape: [3, 3, 3] }), new RegExp(`${where}: filter shape must be a rank-4 shape, got \\[3,3,3\\]`));
    assert.equal(tf.memory().numTensors, tensors);
    tf.dispose([x, dy, xInt, dyNarrow]);
  });
}

test("the replacement cpu Conv2DBackpropFilter agrees with the stock cpu kernel", async () => {
  await tf.setBackend("cpu");
  // The stock kernel assumes dilation 1 and is slow: small dilation-1 cases only.
  const cases = CASES.filter((c) => c.dilations[0] === 1 && c.dilations[1] === 1 && c.x[0] * c.x[1] * c.x[2] < 2000);
  const data = cases.map((c, i) => caseData(c, 700 + i));
  unregisterTrainingKernels("cpu");
  const stock = data.map(filterGrad);
  registerTrainingKernels("cpu");
  data.forEach((d, i) => {
    const err = maxRelError(filterGrad(d), stock[i]);
    assert.ok(err < TOLERANCE, `${label(d.c)}: relative error ${err}`);
  });
});
