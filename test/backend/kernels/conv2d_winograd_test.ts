import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import {
  conv2dWinograd, GEMM_ROWS, slabBytes, winogradApplies, winogradBlock, winogradFilter, winogradSimd,
} from "../../../src/backend/kernels/conv2d_winograd";
import { convGeometry } from "../../../src/backend/kernels/conv_geometry";
import { KernelHost } from "../../../src/backend/kernels/host";
import { assembleModule } from "../../../src/backend/wasm_simd";
import { ConvCase, conv2dInputGradRef, conv2dRef, maxRelError } from "./conv_reference";
import { TOLERANCE, attrsOf, caseData, inputGrad, label } from "./conv2d_cases";
import { assertRouteMatches, onTwoThreadsThenOne } from "./wasm_route_harness";

registerTrainingKernels();

const geometry = (c: ConvCase) => convGeometry("test", c.x, c.filter, { strides: c.strides, dilations: c.dilations, pad: c.pad }, false);
const s1: Pick<ConvCase, "strides" | "dilations" | "pad"> = { strides: [1, 1], dilations: [1, 1], pad: "same" };

/**
 * The small ResNet's stride-1 layers (scaled down in batch) and the loop's
 * edges: odd sizes (a padded last tile row and column), one pixel, more
 * tiles than a block (a short last block whose rows are not a multiple of
 * the register block), an odd number of tiles to split between threads,
 * output channels with a vector left over after the register blocks, and
 * explicit padding of 1.
 */
const CASES: ConvCase[] = [
  { x: [2, 14, 14, 32], filter: [3, 3, 32, 32], ...s1 }, // b1c2: 98 tiles, 64 per block
  { x: [3, 7, 7, 64], filter: [3, 3, 64, 64], ...s1 }, // b2c2: odd sizes
  { x: [2, 4, 4, 128], filter: [3, 3, 128, 128], ...s1 }, // b3c2: 16-tile blocks
  { x: [1, 1, 1, 8], filter: [3, 3, 8, 4], ...s1 }, // one pixel, one tile
  { x: [3, 9, 6, 12], filter: [3, 3, 12, 20], ...s1 }, // odd height; 20 = 2 register blocks of 8 and one vector
  { x: [5, 3, 3, 16], filter: [3, 3, 16, 12], ...s1 }, // 20 tiles, 10 per thread
  { x: [2, 14, 14, 8], filter: [3, 3, 8, 4], ...s1 }, // 98 tiles of 64-tile blocks: a last block of 34
  { x: [2, 6, 5, 8], filter: [3, 3, 8, 8], strides: [1, 1], dilations: [1, 1], pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
];

/** G g G^T by explicit matrix products in float64 (Lavin & Gray's G), for one channel pair. */
function filterTransformRef(g: number[][]): number[][] {
  const G = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]];
  const Gg = G.map((row) => [0, 1, 2].map((c) => row.reduce((s, v, k) => s + v * g[k][c], 0)));
  return Gg.map((row) => G.map((gRow) => row.reduce((s, v, k) => s + v * gRow[k], 0)));
}

test("winogradApplies takes 3x3 stride-1 convolutions padded by 1 with channels in multiples of 4 (at least 8 in)", () => {
  for (const c of CASES) assert.ok(winogradApplies(geometry(c)), label(c));
  const declined: ConvCase[] = [
    { x: [2, 8, 8, 8], filter: [3, 3, 8, 8], strides: [2, 2], dilations: [1, 1], pad: "same" }, // stride 2
    { x: [2, 8, 8, 8], filter: [1, 1, 8, 8], ...s1 }, // 1x1
    { x: [2, 8, 8, 8], filter: [5, 5, 8, 8], ...s1 }, // 5x5
    { x: [2, 8, 8, 8], filter: [3, 3, 8, 8], strides: [1, 1], dilations: [1, 1], pad: "valid" }, // no padding
    { x: [2, 8, 8, 8], filter: [3, 3, 8, 8], strides: [1, 1], dilations: [2, 2], pad: "same" }, // dilation
    { x: [2, 8, 8, 4], filter: [3, 3, 4, 8], ...s1 }, // 4 input channels
    { x: [2, 8, 8, 1], filter: [3, 3, 1, 16], ...s1 }, // a stem on images
    { x: [2, 8, 8, 8], filter: [3, 3, 8, 6], ...s1 }, // 6 output channels
    { x: [2, 8, 8, 8], filter: [3, 3, 8, 8], strides: [1, 1], dilations: [1, 1], pad: [[0, 0], [2, 0], [1, 1], [0, 0]] }, // uneven padding
  ];
  for (const c of declined) assert.ok(!winogradApplies(geometry(c)), label(c));
});

test("winogradFilter is G g G^T for every channel pair (float64 matrix products)", () => {
  const Ci = 3, Co = 5;
  const f = Float32Array.from({ length: 9 * Ci * Co }, (_, i) => Math.sin(1.7 * i + 0.3));
  const u = winogradFilter(f, Ci, Co);
  assert.equal(u.length, 16 * Ci * Co);
  for (let ci = 0; ci < Ci; ci++) {
    for (let co = 0; co < Co; co++) {
      const g = [0, 1, 2].map((kh) => [0, 1, 2].map((kw) => f[((kh * 3 + kw) * Ci + ci) * Co + co]));
      const want = filterTransformRef(g);
      for (let xi = 0; xi < 16; xi++) {
        const got = u[(xi * Ci + ci) * Co + co];
        assert.ok(Math.abs(got - want[xi >> 2][xi & 3]) < 1e-6, `ci ${ci} co ${co} xi ${xi}: ${got} vs ${want[xi >> 2][xi & 3]}`);
      }
    }
  }
  assert.throws(() => winogradFilter(new Float32Array(8), 1, 1), /winogradFilter: filter must hold 3\*3\*1\*1 = 9 floats, got 8/);
  // Read flipped, [3, 3, K, C] gives what the flipped, transposed copy gives read as it is.
  const flippedCopy = new Float32Array(9 * Ci * Co);
  for (let t = 0; t < 9; t++) {
    for (let ci = 0; ci < Ci; ci++) {
      for (let co = 0; co < Co; co++) flippedCopy[(t * Co + co) * Ci + ci] = f[((8 - t) * Ci + ci) * Co + co];
    }
  }
  assert.deepEqual(Array.from(winogradFilter(f, Co, Ci, "flipped")), Array.from(winogradFilter(flippedCopy, Co, Ci)));
});

test("winogradBlock keeps a block's scratch near 256 KB in multiples of the register block, at most 64 tiles", () => {
  for (const [C, K] of [[8, 4], [32, 32], [64, 64], [128, 128], [512, 512], [12, 20]]) {
    const b = winogradBlock(C, K);
    assert.ok(b % GEMM_ROWS === 0 && b >= GEMM_ROWS && b <= 64, `${C}x${K}: ${b}`);
    if (b > GEMM_ROWS) assert.ok(16 * 4 * b * (C + K) <= 256 * 1024, `${C}x${K}: ${b} tiles overflow`);
  }
  assert.equal(winogradBlock(128, 128), 16);
  // The 16 slabs of a block start in different L1 sets (64-byte lines, 4 KB per way).
  for (const [C, K] of [[32, 32], [64, 64], [128, 128]]) {
    const b = winogradBlock(C, K);
    for (const width of [C, K]) {
      const sets = new Set(Array.from({ length: 16 }, (_, xi) => Math.floor(((xi * slabBytes(b, width)) % 4096) / 64)));
      assert.equal(sets.size, 16, `${C}x${K}: slabs of ${width} channels share L1 sets`);
    }
  }
  assert.equal(winogradBlock(512, 512), GEMM_ROWS);
});

test("winogradSimd validates and rejects channel counts and blocks it cannot run", () => {
  for (const shape of [{ C: 8, K: 4, block: 64 }, { C: 12, K: 20, block: 8 }, { C: 128, K: 128, block: 16 }]) {
    assert.ok(WebAssembly.validate(assembleModule([winogradSimd(shape)], false)), JSON.stringify(shape));
  }
  assert.throws(() => winogradSimd({ C: 6, K: 4, block: 8 }), /winogradSimd: C must be a positive multiple of 4, got 6/);
  assert.throws(() => winogradSimd({ C: 8, K: 0, block: 8 }), /winogradSimd: K must be a positive multiple of 4, got 0/);
  assert.throws(() => winogradSimd({ C: 8, K: 4, block: 6 }), /winogradSimd: block must be a positive multiple of 4, got 6/);
});

test("conv2dWinograd on wasm matches the float64 reference on 2 threads and on 1, and leaves no data behind", async () => {
  await onTwoThreadsThenOne((host, threads) => {
    CASES.forEach((c, i) => {
      const d = caseData(c, 900 + i);
      const x = tf.tensor4d(d.x, c.x);
      const filter = tf.tensor4d(d.f, c.filter);
      const want = conv2dRef(c, d.x, d.f);
      const yShape = [c.x[0], c.x[1], c.x[2], c.filter[3]];
      assertRouteMatches(host, `${label(c)} on ${threads} thread(s)`, yShape, want, () => conv2dWinograd(host, x, filter, geometry(c)));
      tf.dispose([x, filter]);
    });
  });
});

test("Conv2D and FusedConv2D on wasm match the reference: the route where it applies, the stock kernel with a bias or ReLU", async () => {
  await tf.setBackend("wasm");
  for (const [i, c] of CASES.entries()) {
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

test("the stride-1 input gradient, itself a 3x3 'same' convolution, matches its reference through the route", async () => {
  await tf.setBackend("wasm");
  const cases: ConvCase[] = [
    { x: [2, 6, 6, 8], filter: [3, 3, 8, 12], ...s1 },
    { x: [3, 7, 5, 16], filter: [3, 3, 16, 8], ...s1 },
  ];
  for (const [i, c] of cases.entries()) {
    const d = caseData(c, 990 + i);
    // The gradient's convolution reads dy (Co channels) and writes Ci: both must suit the route.
    assert.ok(winogradApplies(geometry({ ...c, x: [c.x[0], c.x[1], c.x[2], c.filter[3]], filter: [3, 3, c.filter[3], c.filter[2]] })));
    assert.ok(maxRelError(inputGrad(d), conv2dInputGradRef(c, d.dy, d.f)) < TOLERANCE, label(c));
  }
});

test("conv2dWinograd declines the cpu backend and convolutions it does not compute", async () => {
  const c: ConvCase = { x: [1, 4, 4, 8], filter: [3, 3, 8, 8], ...s1 };
  await tf.setBackend("cpu");
  const cpuX = tf.zeros(c.x), cpuF = tf.zeros(c.filter);
  assert.equal(conv2dWinograd(new KernelHost("cpu", tf.backend()), cpuX, cpuF, geometry(c)), null);
  tf.dispose([cpuX, cpuF]);
  await tf.setBackend("wasm");
  const wasmX = tf.zeros(c.x), wasmF = tf.zeros([3, 3, 8, 6]);
  assert.equal(conv2dWinograd(new KernelHost("wasm", tf.backend()), wasmX, wasmF, geometry({ ...c, filter: [3, 3, 8, 6] })), null);
  tf.dispose([wasmX, wasmF]);
});
