import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import { CHUNK_PIXELS, TILE_LANES, tileChannels, tiledFilterGrad, tiledFilterGradApplies } from "../../../src/backend/kernels/conv2d_filter_grad_tiled";
import { convGeometry } from "../../../src/backend/kernels/conv_geometry";
import { KernelHost } from "../../../src/backend/kernels/host";
import { ConvCase, conv2dFilterGradRef } from "./conv_reference";
import { CASES, caseData, label } from "./conv2d_cases";
import { assertRouteMatches, onTwoThreadsThenOne } from "./wasm_route_harness";

registerTrainingKernels();

const geometry = (c: ConvCase) => convGeometry("test", c.x, c.filter, { strides: c.strides, dilations: c.dilations, pad: c.pad, dimRoundingMode: c.dimRoundingMode }, false);
const s1: Pick<ConvCase, "strides" | "dilations"> = { strides: [1, 1], dilations: [1, 1] };
const s2: Pick<ConvCase, "strides" | "dilations"> = { strides: [2, 2], dilations: [1, 1] };

/** Beyond the shared cases: the encoders' layer kinds, tiles that pad, one vector per tile, several chunks. */
const TILED_CASES: ConvCase[] = [
  { x: [3, 14, 14, 8], filter: [3, 3, 8, 16], ...s1, pad: "same" }, // notebook 06's narrow encoder: 72 lanes, 18 tiles
  { x: [3, 8, 8, 16], filter: [3, 3, 16, 32], ...s2, pad: "same" }, // the small ResNet's strided 3x3 ('same' pads 0 on top, 1 below)
  { x: [2, 7, 7, 8], filter: [1, 1, 8, 16], ...s2, pad: "same" }, // its 1x1 projection: read in place, input pixels no output reads
  { x: [2, 6, 5, 4], filter: [3, 3, 4, 8], ...s1, pad: [[0, 0], [0, 2], [0, 1], [0, 0]] }, // nothing padded before, some after: copied, not read in place
  { x: [2, 6, 5, 3], filter: [3, 3, 3, 32], ...s1, pad: "same" }, // 27 lanes: the last tile pads with one lane
  { x: [2, 5, 6, 1], filter: [3, 3, 1, 8], ...s1, pad: "same" }, // 9 lanes, 3 tiles: the helper gets one
  { x: [1, 4, 4, 1], filter: [2, 1, 1, 4], ...s1, pad: "valid" }, // one tile: the helper's range is empty
  { x: [2, 9, 7, 5], filter: [3, 3, 5, 12], ...s1, pad: [[0, 0], [2, 0], [1, 3], [0, 0]] }, // Co 12: one vector per tile
  { x: [2, 9, 8, 3], filter: [3, 2, 3, 8], strides: [1, 2], dilations: [2, 1], pad: "same" }, // dilation and unequal strides
  { x: [1, 4, 3, 2], filter: [5, 5, 2, 8], ...s1, pad: "same" }, // a filter larger than the image
  { x: [45, 6, 5, 2], filter: [3, 3, 2, 8], ...s1, pad: "same" }, // 1,350 pixels: two chunks, the second shorter
];

test("tiledFilterGradApplies takes any geometry with a multiple of 4 output channels", () => {
  for (const c of TILED_CASES) assert.ok(tiledFilterGradApplies(geometry(c)), label(c));
  for (const Co of [1, 2, 3, 5, 6, 10]) assert.ok(!tiledFilterGradApplies(geometry({ x: [1, 5, 5, 2], filter: [3, 3, 2, Co], ...s1, pad: "same" })), `Co ${Co}`);
  assert.equal(tileChannels(16), 8);
  assert.equal(tileChannels(12), 4);
  assert.ok(45 * 6 * 5 > CHUNK_PIXELS && 45 * 6 * 5 < 2 * CHUNK_PIXELS, "the last case spans two chunks");
  assert.equal(Math.ceil(27 / TILE_LANES) * TILE_LANES - 27, 1);
});

test("tiledFilterGrad on wasm matches the float64 reference on 2 threads and on 1, and leaves no data behind", async () => {
  const taken = [...CASES.filter((c) => tiledFilterGradApplies(geometry(c))), ...TILED_CASES];
  assert.ok(taken.length >= TILED_CASES.length + 8, `the shared cases the route takes: ${taken.length - TILED_CASES.length}`);
  await onTwoThreadsThenOne((host, threads) => {
    taken.forEach((c, i) => {
      const d = caseData(c, 900 + i);
      const x = tf.tensor4d(d.x, c.x);
      const dy = tf.tensor4d(d.dy, d.dyShape);
      assertRouteMatches(host, `${label(c)} on ${threads} thread(s)`, c.filter, conv2dFilterGradRef(c, d.x, d.dy), () => tiledFilterGrad(host, x, dy, geometry(c)));
      tf.dispose([x, dy]);
    });
  });
});

test("tiledFilterGrad declines other channel counts and the cpu backend", async () => {
  const c: ConvCase = { x: [2, 5, 5, 2], filter: [3, 3, 2, 6], ...s1, pad: "same" };
  for (const backend of ["wasm", "cpu"] as const) {
    await tf.setBackend(backend);
    const x = tf.zeros(c.x);
    const dy = tf.zeros([2, 5, 5, 6]);
    const host = new KernelHost(backend, tf.backend());
    assert.equal(tiledFilterGrad(host, x, dy, geometry(c)), null);
    const dy8 = tf.zeros([2, 5, 5, 8]);
    if (backend === "cpu") assert.equal(tiledFilterGrad(host, x, dy8, geometry({ ...c, filter: [3, 3, 2, 8] })), null);
    tf.dispose([x, dy, dy8]);
  }
});

test("tiledFilterGrad of an empty batch is zeros of the filter's shape", async () => {
  await tf.setBackend("wasm");
  const host = new KernelHost("wasm", tf.backend());
  const c: ConvCase = { x: [0, 5, 5, 4], filter: [3, 3, 4, 8], ...s1, pad: "same" };
  const x = tf.zeros(c.x);
  const dy = tf.zeros([0, 5, 5, 8]);
  const dataIds = tf.engine().backend.numDataIds();
  const out = tiledFilterGrad(host, x, dy, geometry(c));
  assert.ok(out !== null);
  assert.deepEqual(out.shape, c.filter);
  assert.ok(host.f32(out).every((v) => v === 0));
  host.dispose(out);
  assert.equal(tf.engine().backend.numDataIds(), dataIds);
  tf.dispose([x, dy]);
});
