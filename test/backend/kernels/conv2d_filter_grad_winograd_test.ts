import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import { winogradFilterGrad, winogradFilterGradSimd, winogradGradOutputSimd } from "../../../src/backend/kernels/conv2d_filter_grad_winograd";
import { winogradBlock } from "../../../src/backend/kernels/conv2d_winograd";
import { F2_3, F2_3_STRIDE2 } from "../../../src/backend/kernels/winograd_scheme";
import { convGeometry } from "../../../src/backend/kernels/conv_geometry";
import { KernelHost } from "../../../src/backend/kernels/host";
import { assembleModule } from "../../../src/backend/wasm_simd";
import { ConvCase, conv2dFilterGradRef, maxRelError } from "./conv_reference";
import { TOLERANCE, WINOGRAD_STRIDE1_CASES, WINOGRAD_STRIDE2_CASES, caseData, filterGrad, label } from "./conv2d_cases";
import { assertRouteMatches, onTwoThreadsThenOne } from "./wasm_route_harness";

registerTrainingKernels();

const geometry = (c: ConvCase) => convGeometry("test", c.x, c.filter, { strides: c.strides, dilations: c.dilations, pad: c.pad }, false);

test("the generated loops validate, and reject shapes they cannot run", () => {
  for (const scheme of [F2_3, F2_3_STRIDE2]) {
    for (const [C, K] of [[8, 4], [12, 20], [128, 128]]) {
      const bytes = assembleModule([winogradFilterGradSimd({ scheme, C, K, block: winogradBlock(C, K, scheme.positions ** 2) }), winogradGradOutputSimd(scheme, C, K)], false);
      assert.ok(WebAssembly.validate(bytes), `${scheme.name} ${C} x ${K}`);
    }
  }
  assert.throws(() => winogradFilterGradSimd({ scheme: F2_3, C: 6, K: 4, block: 8 }), /winogradFilterGradSimd: C must be a positive multiple of 4, got 6/);
  assert.throws(() => winogradFilterGradSimd({ scheme: F2_3, C: 8, K: 2, block: 8 }), /winogradFilterGradSimd: K must be a positive multiple of 4, got 2/);
  assert.throws(() => winogradFilterGradSimd({ scheme: F2_3, C: 8, K: 4, block: 0 }), /winogradFilterGradSimd: block must be a positive integer, got 0/);
  assert.throws(() => winogradGradOutputSimd(F2_3, 3, 3), /winogradGradOutputSimd: C \* K must be a positive multiple of 4, got 3 \* 3/);
});

test("winogradFilterGrad on wasm matches the float64 reference at stride 1 and 2, on 2 threads and on 1, and leaves no data behind", async () => {
  await onTwoThreadsThenOne((host, threads) => {
    [...WINOGRAD_STRIDE1_CASES, ...WINOGRAD_STRIDE2_CASES].forEach((c, i) => {
      const d = caseData(c, 1100 + i);
      const x = tf.tensor4d(d.x, c.x);
      const dy = tf.tensor4d(d.dy, d.dyShape);
      const want = conv2dFilterGradRef(c, d.x, d.dy);
      assertRouteMatches(host, `${label(c)} on ${threads} thread(s)`, c.filter, want, () => winogradFilterGrad(host, x, dy, geometry(c)));
      // Through the kernel, which takes this route for these cases.
      assert.ok(maxRelError(filterGrad(d), want) < TOLERANCE, `${label(c)}: the kernel`);
      tf.dispose([x, dy]);
    });
  });
});

test("winogradFilterGrad declines the cpu backend and convolutions Winograd does not compute", async () => {
  const c: ConvCase = { x: [1, 4, 4, 8], filter: [3, 3, 8, 8], strides: [1, 1], dilations: [1, 1], pad: "same" };
  await tf.setBackend("cpu");
  const cpuX = tf.zeros(c.x), cpuDy = tf.zeros([1, 4, 4, 8]);
  assert.equal(winogradFilterGrad(new KernelHost("cpu", tf.backend()), cpuX, cpuDy, geometry(c)), null);
  tf.dispose([cpuX, cpuDy]);
  await tf.setBackend("wasm");
  const strided: ConvCase = { ...c, strides: [3, 3] };
  const x = tf.zeros(c.x), dy = tf.zeros([1, 2, 2, 8]);
  assert.equal(winogradFilterGrad(new KernelHost("wasm", tf.backend()), x, dy, geometry(strided)), null);
  tf.dispose([x, dy]);
});
