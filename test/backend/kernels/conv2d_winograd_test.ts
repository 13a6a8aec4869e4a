import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import {
  conv2dWinograd, GEMM_ROWS, slabBytes, winogradBlock, winogradInputGradRoute, winogradPlan, winogradSimd,
} from "../../../src/backend/kernels/conv2d_winograd";
import { F2_3, F2_3_STRIDE2, STRIDE2_INPUT_GRAD } from "../../../src/backend/kernels/winograd_scheme";
import { convGeometry } from "../../../src/backend/kernels/conv_geometry";
import { KernelHost } from "../../../src/backend/kernels/host";
import { assembleModule } from "../../../src/backend/wasm_simd";
import { ConvCase, conv2dInputGradRef, conv2dRef, maxRelError } from "./conv_reference";
import { TOLERANCE, WINOGRAD_STRIDE1_CASES as CASES, WINOGRAD_STRIDE2_CASES as STRIDE2, attrsOf, caseData, inputGrad, label } from "./conv2d_cases";
import { assertRouteMatches, onTwoThreadsThenOne } from "./wasm_route_harness";

registerTrainingKernels();

const geometry = (c: ConvCase) => convGeometry("test", c.x, c.filter, { strides: c.strides, dilations: c.dilations, pad: c.pad }, false);
const s1: Pick<ConvCase, "strides" | "dilations" | "pad"> = { strides: [1, 1], dilations: [1, 1], pad: "same" };
const outShape = (c: ConvCase) => {
  const g = geometry(c);
  return [g.batch, g.outHeight, g.outWidth, g.filterOutChannels];
};

test("winogradPlan takes 3x3 convolutions at stride 1 or 2, padded by 0 or 1 before, with channels in multiples of 4 (at least 8 in)", () => {
  for (const c of CASES) {
    assert.equal(winogradPlan(geometry(c))?.scheme, F2_3, label(c));
  }
  for (const c of STRIDE2) assert.equal(winogradPlan(geometry(c))?.scheme, F2_3_STRIDE2, label(c));
  // 'same' at stride 2 pads 28 by 0 before and 1 after, 7 by 1 on both sides: the plan keeps the input where the convolution reads it.
  const plan = winogradPlan(geometry(STRIDE2[0]))!;
  assert.deepEqual([plan.padTop, plan.padLeft, plan.cropTop, plan.outHeight, plan.outWidth], [0, 0, 0, 14, 14]);
  assert.deepEqual([winogradPlan(geometry(STRIDE2[2]))!.padTop, winogradPlan(geometry(STRIDE2[2]))!.outHeight], [1, 4]);
  const declined: ConvCase[] = [
    { x: [2, 8, 8, 8], filter: [3, 3, 8, 8], strides: [3, 3], dilations: [1, 1], pad: "same" }, // stride 3
    { x: [2, 8, 8, 8], filter: [3, 3, 8, 8], strides: [1, 2], dilations: [1, 1], pad: "same" }, // unequal strides
    { x: [2, 8, 8, 8], filter: [1, 1, 8, 8], ...s1 }, // 1x1
    { x: [2, 8, 8, 8], filter: [5, 5, 8, 8], ...s1 }, // 5x5
    { x: [2, 8, 8, 8], filter: [3, 3, 8, 8], strides: [1, 1], dilations: [2, 2], pad: "same" }, // dilation
    { x: [2, 8, 8, 4], filter: [3, 3, 4, 8], ...s1 }, // 4 input channels
    { x: [2, 8, 8, 1], filter: [3, 3, 1, 16], ...s1 }, // a stem on images
    { x: [2, 8, 8, 8], filter: [3, 3, 8, 6], ...s1 }, // 6 output channels
    { x: [2, 8, 8, 8], filter: [3, 3, 8, 8], strides: [1, 1], dilations: [1, 1], pad: [[0, 0], [2, 0], [1, 1], [0, 0]] }, // 2 rows of padding before
  ];
  for (const c of declined) assert.equal(winogradPlan(geometry(c)), null, label(c));
});

test("winogradInputGradRoute reads the filter flipped at stride 1 and transposed at stride 2, where dy has 8 or more channels in fours", () => {
  for (const c of [...CASES, ...STRIDE2]) {
    const route = winogradInputGradRoute(geometry(c));
    if (c.filter[3] < 8) {
      assert.equal(route, null, label(c));
      continue;
    }
    const g = geometry(c);
    const stride2 = g.strideHeight === 2;
    assert.equal(route?.plan.scheme, stride2 ? STRIDE2_INPUT_GRAD : F2_3, label(c));
    assert.equal(route!.reading, stride2 ? "transposed" : "flipped", label(c));
    const { padTop, padLeft, cropTop, cropLeft, outHeight, outWidth } = route!.plan;
    const want = stride2 ? [1, 1, g.padTop, g.padLeft] : [2 - g.padTop, 2 - g.padLeft, 0, 0];
    assert.deepEqual([padTop, padLeft, cropTop, cropLeft, outHeight, outWidth], [...want, g.inHeight, g.inWidth], label(c));
  }
  assert.equal(winogradInputGradRoute(geometry({ ...STRIDE2[0], filter: [3, 3, 16, 4] })), null, "4 channels of dy");
  assert.equal(winogradInputGradRoute(geometry({ ...STRIDE2[1], x: [2, 14, 14, 6], filter: [3, 3, 6, 64] })), null, "6 channels of dx");
  assert.equal(winogradInputGradRoute(geometry({ ...STRIDE2[1], strides: [3, 3] })), null, "stride 3");
});

test("winogradBlock keeps a block's scratch near 256 KB in multiples of the register block, at most 64 tiles", () => {
  for (const positions of [16, 25]) {
    for (const [C, K] of [[8, 4], [32, 32], [64, 64], [128, 128], [512, 512], [12, 20]]) {
      const b = winogradBlock(C, K, positions);
      assert.ok(b % GEMM_ROWS === 0 && b >= GEMM_ROWS && b <= 64, `${C}x${K}: ${b}`);
      if (b > GEMM_ROWS) assert.ok(positions * 4 * b * (C + K) <= 256 * 1024, `${C}x${K}: ${b} tiles overflow`);
    }
  }
  assert.equal(winogradBlock(128, 128, 16), 16);
  assert.equal(winogradBlock(16, 32, 25), 52);
  // The 16 slabs of a block start in different L1 sets (64-byte lines, 4 KB per way).
  for (const [C, K] of [[32, 32], [64, 64], [128, 128]]) {
    const b = winogradBlock(C, K, 16);
    for (const width of [C, K]) {
      const sets = new Set(Array.from({ length: 16 }, (_, xi) => Math.floor(((xi * slabBytes(b, width)) % 4096) / 64)));
      assert.equal(sets.size, 16, `${C}x${K}: slabs of ${width} channels share L1 sets`);
    }
  }
  assert.equal(winogradBlock(512, 512, 16), GEMM_ROWS);
});

test("winogradSimd validates and rejects channel counts and blocks it cannot run", () => {
  for (const scheme of [F2_3, F2_3_STRIDE2, STRIDE2_INPUT_GRAD]) {
    for (const shape of [{ C: 8, K: 4, block: 64 }, { C: 12, K: 20, block: 8 }, { C: 128, K: 128, block: 16 }]) {
      assert.ok(WebAssembly.validate(assembleModule([winogradSimd({ scheme, ...shape })], false)), `${scheme.name} ${JSON.stringify(shape)}`);
    }
  }
  assert.throws(() => winogradSimd({ scheme: F2_3, C: 6, K: 4, block: 8 }), /winogradSimd: C must be a positive multiple of 4, got 6/);
  assert.throws(() => winogradSimd({ scheme: F2_3, C: 8, K: 0, block: 8 }), /winogradSimd: K must be a positive multiple of 4, got 0/);
  assert.throws(() => winogradSimd({ scheme: F2_3, C: 8, K: 4, block: 6 }), /winogradSimd: block must be a positive multiple of 4, got 6/);
});

test("conv2dWinograd on wasm matches the float64 reference at stride 1 and 2, and for their input gradients, on 2 threads and on 1, the same to the bit, and leaves no data behind", async () => {
  // Outputs by case and thread count: the threads claim blocks of tiles as they go, and no tile's output may depend on which one computed it.
  const outputs = new Map<string, Float32Array[]>();
  await onTwoThreadsThenOne((host, threads) => {
    [...CASES, ...STRIDE2].forEach((c, i) => {
      const d = caseData(c, 900 + i);
      const x = tf.tensor4d(d.x, c.x);
      const filter = tf.tensor4d(d.f, c.filter);
      const dy = tf.tensor4d(d.dy, d.dyShape);
      const plan = winogradPlan(geometry(c))!;
      assertRouteMatches(host, `${label(c)} on ${threads} thread(s)`, outShape(c), conv2dRef(c, d.x, d.f), () => {
        const y = conv2dWinograd(host, x, filter, plan);
        if (y !== null) outputs.set(label(c), [...(outputs.get(label(c)) ?? []), host.f32(y).slice()]);
        return y;
      });
      const route = winogradInputGradRoute(geometry(c));
      if (route !== null) {
        assertRouteMatches(host, `${label(c)}: the input gradient on ${threads} thread(s)`, c.x, conv2dInputGradRef(c, d.dy, d.f),
          () => conv2dWinograd(host, dy, filter, route.plan, route.reading));
      }
      tf.dispose([x, filter, dy]);
    });
  });
  for (const [what, [two, one]] of outputs) assert.deepEqual(Array.from(two), Array.from(one), `${what}: 2 threads and 1 differ`);
  assert.equal(outputs.size, CASES.length + STRIDE2.length);
});

test("Conv2D and FusedConv2D on wasm match the reference: the route where it applies, the stock kernel with a bias or ReLU", async () => {
  await tf.setBackend("wasm");
  for (const [i, c] of [...CASES, ...STRIDE2].entries()) {
    const d = caseData(c, 950 + i);
    const want = conv2dRef(c, d.x, d.f);
    const K = c.filter[3];
    const bias = Float32Array.from({ length: K }, (_, k) => 0.1 * k - 0.5);
    const withBias = want.map((v, j) => Math.max(0, v + bias[j % K]));
    tf.tidy(() => {
      const x = tf.tensor4d(d.x, c.x);
      const filter = tf.tensor4d(d.f, c.filter);
      const before = tf.memory().numTensors;
      const plain = tf.engine().runKernel("Conv2D", { x, filter }, attrsOf(c, {})) as tf.Tensor;
      const fused = tf.engine().runKernel("FusedConv2D", { x, filter }, attrsOf(c, { activation: "linear" })) as tf.Tensor;
      const biased = tf.engine().runKernel("FusedConv2D", { x, filter, bias: tf.tensor1d(bias) }, attrsOf(c, { activation: "relu" })) as tf.Tensor;
      assert.equal(tf.memory().numTensors, before + 4, `${label(c)}: three outputs and the bias`);
      assert.ok(maxRelError(plain.dataSync(), want) < TOLERANCE, `${label(c)}: Conv2D`);
      assert.ok(maxRelError(fused.dataSync(), want) < TOLERANCE, `${label(c)}: FusedConv2D`);
      assert.ok(maxRelError(biased.dataSync(), withBias) < TOLERANCE, `${label(c)}: FusedConv2D with bias and ReLU`);
    });
  }
});

test("Conv2DBackpropInput on wasm matches the reference through the routes: stride 1 (a 3x3 'same' convolution) and stride 2", async () => {
  await tf.setBackend("wasm");
  const cases: ConvCase[] = [
    { x: [2, 6, 6, 8], filter: [3, 3, 8, 12], ...s1 },
    { x: [3, 7, 5, 16], filter: [3, 3, 16, 8], ...s1 },
  ];
  for (const [i, c] of cases.entries()) {
    const d = caseData(c, 990 + i);
    // The gradient reads dy (Co channels) and writes Ci: both must suit the route.
    assert.equal(winogradInputGradRoute(geometry(c))?.reading, "flipped");
    assert.ok(maxRelError(inputGrad(d), conv2dInputGradRef(c, d.dy, d.f)) < TOLERANCE, label(c));
  }
  for (const [i, c] of STRIDE2.entries()) {
    const d = caseData(c, 995 + i);
    assert.ok(maxRelError(inputGrad(d), conv2dInputGradRef(c, d.dy, d.f)) < TOLERANCE, label(c));
  }
});

test("conv2dWinograd declines the cpu backend and names a filter that does not fit x", async () => {
  const c: ConvCase = { x: [1, 4, 4, 8], filter: [3, 3, 8, 8], ...s1 };
  await tf.setBackend("cpu");
  const host = new KernelHost("cpu", tf.backend());
  const cpuX = tf.zeros(c.x), cpuF = tf.zeros(c.filter), wide = tf.zeros([3, 3, 12, 8]), fiveByFive = tf.zeros([5, 5, 8, 8]);
  const plan = winogradPlan(geometry(c))!;
  assert.equal(conv2dWinograd(host, cpuX, cpuF, plan), null);
  assert.throws(() => conv2dWinograd(host, cpuX, wide, plan),
    /conv2dWinograd: x \[1,4,4,8\] and filter \[3,3,12,8\] read as-is: the filter must be \[3, 3, 8, K\] for x \[N, H, W, C\]/);
  const tall = tf.zeros([3, 3, 8, 12]);
  assert.throws(() => conv2dWinograd(host, cpuX, tall, plan, "transposed"), /filter \[3,3,8,12\] read transposed: the filter must be \[3, 3, K, 8\]/);
  assert.throws(() => conv2dWinograd(host, cpuX, fiveByFive, plan), /filter \[5,5,8,8\]/);
  tf.dispose([cpuX, cpuF, wide, tall, fiveByFive]);
});
