import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import { tileLaneVectors, tiledInputGrad, tiledInputGradApplies } from "../../../src/backend/kernels/conv2d_input_grad_tiled";
import { convGeometry } from "../../../src/backend/kernels/conv_geometry";
import { KernelHost } from "../../../src/backend/kernels/host";
import { ConvCase, conv2dInputGradRef, maxRelError } from "./conv_reference";
import { TOLERANCE, caseData, inputGrad, label } from "./conv2d_cases";
import { assertRouteMatches, onTwoThreadsThenOne } from "./wasm_route_harness";

registerTrainingKernels();

const geometry = (c: ConvCase) => convGeometry("test", c.x, c.filter, { strides: c.strides, dilations: c.dilations, pad: c.pad, dimRoundingMode: c.dimRoundingMode }, false);
const s2: Pick<ConvCase, "strides" | "dilations"> = { strides: [2, 2], dilations: [1, 1] };

/** Strided layers of the encoders, and the edges of the loop: lane tiles that pad, pixel tails, one image, wide padding, dilation. */
const TILED_CASES: ConvCase[] = [
  { x: [3, 8, 8, 16], filter: [3, 3, 16, 32], ...s2, pad: "same" }, // the small ResNet's strided 3x3 ('same' pads 0 on top, 1 below): 48 pixels
  { x: [2, 7, 7, 8], filter: [3, 3, 8, 16], ...s2, pad: "same" }, // 7 -> 4: 32 pixels
  { x: [2, 7, 7, 4], filter: [3, 3, 4, 6], ...s2, pad: "same" }, // 36 lanes: one vector per tile
  { x: [3, 5, 7, 4], filter: [2, 3, 4, 5], strides: [2, 3], dilations: [1, 1], pad: "valid" }, // unequal strides: 2x2 output pixels per image
  { x: [1, 9, 9, 8], filter: [3, 3, 8, 3], strides: [3, 3], dilations: [1, 1], pad: "same" }, // one image: the helper's half is empty
  { x: [3, 6, 5, 4], filter: [2, 2, 4, 7], ...s2, pad: [[0, 0], [3, 1], [0, 3], [0, 0]] }, // padding wider than the filter
  { x: [2, 9, 8, 4], filter: [3, 2, 4, 5], strides: [2, 2], dilations: [2, 2], pad: "same" }, // stride and dilation
  { x: [2, 5, 5, 12], filter: [3, 3, 12, 9], ...s2, pad: "same" }, // 18 pixels: a tail of 2 after four tiles of 4
  { x: [2, 6, 6, 4], filter: [3, 3, 4, 8], strides: [1, 1], dilations: [1, 1], pad: "same" }, // stride 1 also holds (the kernel routes it to XNNPACK)
  { x: [2, 8, 8, 8], filter: [1, 1, 8, 16], ...s2, pad: "same" }, // 1x1 (the kernel routes it to the phases)
];

test("tiledInputGradApplies takes a multiple of 4 input channels; lane tiles are 8 lanes, or 4", () => {
  for (const c of TILED_CASES) assert.ok(tiledInputGradApplies(geometry(c)), label(c));
  for (const Ci of [1, 2, 3, 6]) assert.ok(!tiledInputGradApplies(geometry({ x: [1, 6, 6, Ci], filter: [3, 3, Ci, 8], ...s2, pad: "same" })), `Ci ${Ci}`);
  assert.equal(tileLaneVectors(3 * 3 * 16), 2);
  assert.equal(tileLaneVectors(3 * 3 * 4), 1);
});

test("tiledInputGrad on wasm matches the float64 reference on 2 threads and on 1, and leaves no data behind", async () => {
  await onTwoThreadsThenOne((host, threads) => {
    TILED_CASES.forEach((c, i) => {
      const d = caseData(c, 700 + i);
      const dy = tf.tensor4d(d.dy, d.dyShape);
      const filter = tf.tensor4d(d.f, c.filter);
      const want = conv2dInputGradRef(c, d.dy, d.f);
      assertRouteMatches(host, `${label(c)} on ${threads} thread(s)`, c.x, want, () => tiledInputGrad(host, dy, filter, geometry(c)));
      // Through the kernel, whichever route it picks.
      assert.ok(maxRelError(inputGrad(d), want) < TOLERANCE, `${label(c)}: the kernel`);
      tf.dispose([dy, filter]);
    });
  });
});

test("tiledInputGrad declines other channel counts and the cpu backend", async () => {
  for (const backend of ["wasm", "cpu"] as const) {
    await tf.setBackend(backend);
    const host = new KernelHost(backend, tf.backend());
    const c: ConvCase = { x: [2, 6, 6, 3], filter: [3, 3, 3, 8], ...s2, pad: "same" };
    const dy = tf.zeros([2, 3, 3, 8]);
    const f3 = tf.zeros(c.filter);
    assert.equal(tiledInputGrad(host, dy, f3, geometry(c)), null);
    const f4 = tf.zeros([3, 3, 4, 8]);
    if (backend === "cpu") assert.equal(tiledInputGrad(host, dy, f4, geometry({ ...c, x: [2, 6, 6, 4], filter: [3, 3, 4, 8] })), null);
    tf.dispose([dy, f3, f4]);
  }
});
