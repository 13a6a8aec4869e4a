import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import { addDirectFilterGrad, directFilterGradApplies, MAX_DIRECT_OUT_CHANNELS, MAX_DIRECT_TAPS_WIDE } from "../../../src/backend/kernels/conv2d_filter_grad_direct";
import { convGeometry } from "../../../src/backend/kernels/conv_geometry";
import { KernelHost } from "../../../src/backend/kernels/host";
import { ConvCase, conv2dFilterGradRef, maxRelError } from "./conv_reference";
import { CASES, TOLERANCE, caseData, label } from "./conv2d_cases";

registerTrainingKernels();

const geometry = (c: ConvCase) => convGeometry("test", c.x, c.filter, { strides: c.strides, dilations: c.dilations, pad: c.pad, dimRoundingMode: c.dimRoundingMode }, false);
const s1: Pick<ConvCase, "strides" | "dilations"> = { strides: [1, 1], dilations: [1, 1] };

/** Stride-1 cases the route takes, beyond the shared ones: notebook 06's narrow encoder, explicit padding, several calls per lane group. */
const DIRECT_CASES: ConvCase[] = [
  { x: [3, 14, 14, 8], filter: [3, 3, 8, 16], ...s1, pad: "same" }, // 72 lanes in 18 groups of 4
  { x: [5, 28, 28, 1], filter: [3, 3, 1, 8], ...s1, pad: "same" }, // 2 images per call: three calls, the last with one image
  { x: [2, 9, 7, 5], filter: [3, 3, 5, 8], ...s1, pad: [[0, 0], [2, 0], [1, 3], [0, 0]] },
  { x: [2, 8, 6, 3], filter: [3, 2, 3, 4], ...s1, pad: "valid" },
  { x: [2, 5, 5, 8], filter: [1, 1, 8, 16], ...s1, pad: "valid" },
  { x: [2, 6, 5, 3], filter: [3, 3, 3, MAX_DIRECT_OUT_CHANNELS], ...s1, pad: "same" }, // a first layer on RGB: two lanes per pass
  { x: [2, 6, 5, 2], filter: [3, 3, 2, 24], ...s1, pad: "same" },
  { x: [1, 4, 3, 2], filter: [5, 5, 2, 12], ...s1, pad: "same" }, // a filter larger than the image
];

test("directFilterGradApplies: stride 1, no dilation, NHWC, Co a multiple of 4 up to the limit, few taps (fewer above 16 channels)", () => {
  for (const c of DIRECT_CASES) assert.ok(directFilterGradApplies(geometry(c)), label(c));
  const base: ConvCase = { x: [2, 8, 8, 4], filter: [3, 3, 4, 8], ...s1, pad: "same" };
  assert.ok(directFilterGradApplies(geometry(base)));
  const declined: ConvCase[] = [
    { ...base, strides: [2, 2] },
    { ...base, strides: [1, 2] },
    { ...base, dilations: [2, 2] },
    { ...base, filter: [3, 3, 4, 6] },
    { ...base, filter: [3, 3, 4, MAX_DIRECT_OUT_CHANNELS + 4] },
    { ...base, x: [2, 8, 8, 33], filter: [3, 3, 33, 8] }, // 297 taps
    { ...base, x: [2, 8, 8, 4], filter: [3, 3, 4, 20] }, // 36 taps, more than first layers have, with 20 channels
    { ...base, x: [2, 8, 8, 1], filter: [MAX_DIRECT_TAPS_WIDE + 1, 1, 1, 32] },
  ];
  for (const c of declined) assert.ok(!directFilterGradApplies(geometry(c)), label(c));
  assert.ok(!directFilterGradApplies({ ...geometry(base), channelsFirst: true }));
});

test("addDirectFilterGrad on wasm adds the float64 reference's filter gradient to acc, and leaves no data behind", async () => {
  await tf.setBackend("wasm");
  const host = new KernelHost("wasm", tf.backend());
  const taken = [...CASES.filter((c) => directFilterGradApplies(geometry(c))), ...DIRECT_CASES];
  assert.ok(taken.length >= DIRECT_CASES.length + 4, `the shared cases the route takes: ${taken.length - DIRECT_CASES.length}`);
  taken.forEach((c, i) => {
    const d = caseData(c, 900 + i);
    const x = tf.tensor4d(d.x, c.x);
    const dy = tf.tensor4d(d.dy, d.dyShape);
    const want = conv2dFilterGradRef(c, d.x, d.dy);
    const acc = new Float64Array(want.length).fill(0.5); // added to, not overwritten
    const dataIds = tf.engine().backend.numDataIds();
    assert.ok(addDirectFilterGrad(host, x, dy, geometry(c), acc), label(c));
    assert.equal(tf.engine().backend.numDataIds(), dataIds, `${label(c)}: backend data left behind`);
    const err = maxRelError(acc.map((v) => v - 0.5), want);
    assert.ok(err < TOLERANCE, `${label(c)}: relative error ${err}`);
    tf.dispose([x, dy]);
  });
});

test("addDirectFilterGrad declines geometries it does not take, and the cpu backend, with acc untouched", async () => {
  await tf.setBackend("wasm");
  const strided: ConvCase = { x: [2, 8, 8, 4], filter: [3, 3, 4, 8], strides: [2, 2], dilations: [1, 1], pad: "same" };
  const x = tf.zeros(strided.x);
  const dy = tf.zeros([2, 4, 4, 8]);
  const acc = new Float64Array(3 * 3 * 4 * 8).fill(7);
  assert.equal(addDirectFilterGrad(new KernelHost("wasm", tf.backend()), x, dy, geometry(strided), acc), false);
  tf.dispose([x, dy]);
  await tf.setBackend("cpu");
  const c = DIRECT_CASES[3];
  const xc = tf.zeros(c.x);
  const dyc = tf.zeros([2, 6, 5, 4]);
  assert.equal(addDirectFilterGrad(new KernelHost("cpu", tf.backend()), xc, dyc, geometry(c), acc), false);
  assert.ok(acc.every((v) => v === 7));
  tf.dispose([xc, dyc]);
});
