import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels, unregisterTrainingKernels } from "../../../src/backend/kernels";
import { createRng } from "../../../src/data/random";
import { maxRelError, randomValues } from "./conv_reference";
import { simdKernels } from "../../../src/backend/wasm_simd";

interface PoolCase {
  x: [number, number, number, number];
  filterSize: [number, number];
  strides: [number, number];
  pad: "same" | "valid" | number;
  dimRoundingMode?: "floor" | "round" | "ceil";
}

const CASES: PoolCase[] = [
  { x: [2, 8, 8, 3], filterSize: [2, 2], strides: [2, 2], pad: "valid" },
  // 2x2 stride 2 over odd sizes: the last row and column are in no window.
  { x: [2, 7, 9, 3], filterSize: [2, 2], strides: [2, 2], pad: "valid" },
  { x: [2, 7, 5, 4], filterSize: [3, 3], strides: [2, 2], pad: "same" },
  { x: [1, 7, 5, 2], filterSize: [3, 2], strides: [1, 1], pad: "valid" },
  { x: [2, 9, 8, 3], filterSize: [2, 2], strides: [3, 3], pad: "same" },
  { x: [2, 7, 7, 2], filterSize: [3, 3], strides: [2, 2], pad: 1, dimRoundingMode: "ceil" },
  // Channels in fours: on wasm the 2x2 windows run in SIMD.
  { x: [2, 8, 6, 4], filterSize: [2, 2], strides: [2, 2], pad: "valid" },
  { x: [3, 7, 9, 8], filterSize: [2, 2], strides: [2, 2], pad: "valid" },
];

/** Output size and top/left padding by TensorFlow's rules (numeric pad: tfjs uses the height's filter and stride for both axes). */
function poolGeometry(c: PoolCase) {
  const [, H, W] = c.x;
  const [fh, fw] = c.filterSize;
  const [sh, sw] = c.strides;
  if (c.pad === "same") {
    const oh = Math.ceil(H / sh);
    const ow = Math.ceil(W / sw);
    return { oh, ow, top: Math.floor(Math.max(0, (oh - 1) * sh + fh - H) / 2), left: Math.floor(Math.max(0, (ow - 1) * sw + fw - W) / 2) };
  }
  if (c.pad === "valid") return { oh: Math.ceil((H - fh + 1) / sh), ow: Math.ceil((W - fw + 1) / sw), top: 0, left: 0 };
  const round = c.dimRoundingMode === "ceil" ? Math.ceil : c.dimRoundingMode === "round" ? Math.round : Math.floor;
  const p = c.pad;
  return { oh: round((H - fh + 2 * p) / sh + 1), ow: round((W - fh + 2 * p) / sh + 1), top: p, left: p };
}

/** Float64 max pooling and its gradient: dy goes to the first maximum of each window (row-major), none if no value beats -Infinity. */
function poolRef(c: PoolCase, x: ArrayLike<number>, dy?: ArrayLike<number>) {
  const [N, H, W, C] = c.x;
  const g = poolGeometry(c);
  const y = new Float64Array(N * g.oh * g.ow * C);
  const dx = new Float64Array(N * H * W * C);
  for (let n = 0; n < N; n++) for (let oh = 0; oh < g.oh; oh++) for (let ow = 0; ow < g.ow; ow++) for (let ch = 0; ch < C; ch++) {
    let best = -Infinity;
    let at = -1;
    for (let i = 0; i < c.filterSize[0]; i++) for (let j = 0; j < c.filterSize[1]; j++) {
      const r = oh * c.strides[0] - g.top + i;
      const col = ow * c.strides[1] - g.left + j;
      if (r < 0 || r >= H || col < 0 || col >= W) continue;
      const k = ((n * H + r) * W + col) * C + ch;
      if (x[k] > best) {
        best = x[k];
        at = k;
      }
    }
    const o = ((n * g.oh + oh) * g.ow + ow) * C + ch;
    y[o] = best;
    if (dy != null && at >= 0) dx[at] += dy[o];
  }
  return { y, dx, dyShape: [N, g.oh, g.ow, C] };
}

/** Random data; `ties` rounds it to a few levels so windows often hold equal maxima. */
function poolData(c: PoolCase, seed: number, ties: boolean) {
  const rng = createRng(seed);
  const size = c.x.reduce((a, b) => a * b, 1);
  const x = randomValues(size, rng.next).map((v) => (ties ? Math.round(v * 2) : v));
  const { dyShape } = poolRef(c, x);
  const dy = randomValues(dyShape.reduce((a, b) => a * b, 1), rng.next);
  return { x, dy, dyShape };
}

/** Runs MaxPoolGrad with `output` from the backend's MaxPool, or with `fakeOutput` in its place. */
function maxPoolGrad(c: PoolCase, x: Float32Array, dy: Float32Array, dyShape: number[], fakeOutput?: number): Float32Array {
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, c.x);
    const y = fakeOutput != null ? tf.fill(dyShape, fakeOutput) :
      tf.engine().runKernel("MaxPool", { x: xt }, { filterSize: c.filterSize, strides: c.strides, pad: c.pad, dimRoundingMode: c.dimRoundingMode } as unknown as tf.NamedAttrMap) as tf.Tensor;
    const out = tf.engine().runKernel("MaxPoolGrad", { dy: tf.tensor(dy, dyShape), input: xt, output: y },
      { filterSize: c.filterSize, strides: c.strides, pad: c.pad, dimRoundingMode: c.dimRoundingMode } as unknown as tf.NamedAttrMap) as tf.Tensor;
    assert.deepEqual(out.shape, c.x);
    return out.dataSync() as Float32Array;
  });
}

registerTrainingKernels();

for (const backend of ["wasm", "cpu"] as const) {
  test(`MaxPoolGrad on ${backend} matches the float64 reference, with and without tied maxima`, async () => {
    await tf.setBackend(backend);
    CASES.forEach((c, i) => {
      for (const ties of [false, true]) {
        const d = poolData(c, 10 + i, ties);
        const ref = poolRef(c, d.x, d.dy).dx;
        const err = maxRelError(maxPoolGrad(c, d.x, d.dy, d.dyShape), ref);
        assert.ok(err < 1e-6, `${JSON.stringify(c)} ties=${ties}: ${err}`);
        // An output found in no window (or NaN) sends every window to the scanning path.
        for (const fake of [7, NaN]) {
          assert.ok(maxRelError(maxPoolGrad(c, d.x, d.dy, d.dyShape, fake), ref) < 1e-6, `${JSON.stringify(c)} output=${fake}`);
        }
      }
    });
  });

  test(`MaxPoolGrad on ${backend} picks the maximum of a negative window, skips NaN, and passes nothing from an all -Infinity window`, async () => {
    await tf.setBackend(backend);
    const c: PoolCase = { x: [1, 2, 8, 1], filterSize: [2, 2], strides: [2, 2], pad: "valid" };
    const x = Float32Array.from([NaN, 1, 5, 5, -Infinity, -Infinity, -3, -2, 3, NaN, 2, 5, -Infinity, -Infinity, -5, -4]);
    const got = maxPoolGrad(c, x, Float32Array.from([10, 20, 30, 40]), [1, 1, 4, 1]);
    assert.deepEqual(Array.from(got), [0, 0, 20, 0, 0, 0, 0, 40, 10, 0, 0, 0, 0, 0, 0, 0]);
    // Non-finite dy reaches the winner only: the losers stay 0, not 0 * Infinity.
    const wild = maxPoolGrad(c, x, Float32Array.from([Infinity, -Infinity, NaN, 1]), [1, 1, 4, 1]);
    assert.deepEqual(Array.from(wild), [0, 0, -Infinity, 0, 0, 0, 0, 1, Infinity, 0, 0, 0, 0, 0, 0, 0]);
  });

  test(`tf.grad of a max-pool loss on ${backend} matches float64 finite differences`, async () => {
    await tf.setBackend(backend);
    const c = CASES[1];
    const d = poolData(c, 40, false);
    const loss = (x: ArrayLike<number>) => poolRef(c, x).y.reduce((s, v, i) => s + v * d.dy[i], 0);
    const grad = tf.tidy(() =>
      tf.grad((x: tf.Tensor) => tf.maxPool(x as tf.Tensor4D, c.filterSize, c.strides, c.pad as "same").mul(tf.tensor(d.dy, d.dyShape)).sum())(
        tf.tensor4d(d.x, c.x),
      ).dataSync(),
    );
    const h = 1e-4; // far below the gaps between random values, so no window changes its winner
    for (let i = 0; i < d.x.length; i += 2) {
      const plus = Float64Array.from(d.x);
      const minus = Float64Array.from(d.x);
      plus[i] += h;
      minus[i] -= h;
      const fd = (loss(plus) - loss(minus)) / (2 * h);
      assert.ok(Math.abs(fd - grad[i]) < 1e-4, `x[${i}]: ${grad[i]} vs ${fd}`);
    }
  });

  test(`MaxPoolGrad on ${backend} leaves counts unchanged and rejects bad input`, async () => {
    await tf.setBackend(backend);
    const x = tf.zeros([2, 8, 8, 3]);
    const y = tf.zeros([2, 4, 4, 3]);
    const dy = tf.ones([2, 4, 4, 3]);
    const attrs = { filterSize: 2, strides: 2, pad: "valid" };
    const run = (inputs: tf.NamedTensorMap, extra: Record<string, unknown>) => () =>
      tf.engine().runKernel("MaxPoolGrad", inputs, { ...attrs, ...extra } as unknown as tf.NamedAttrMap) as tf.Tensor;
    const tensors = tf.memory().numTensors;
    const data = tf.engine().backend.numDataIds();
    const out = run({ dy, input: x, output: y }, {})();
    assert.equal(tf.memory().numTensors, tensors + 1);
    assert.equal(tf.engine().backend.numDataIds(), data + 1);
    out.dispose();
    const where = `MaxPoolGrad \\(${backend}\\)`;
    assert.throws(run({ dy, input: x, output: y }, { strides: 3 }), new RegExp(`${where}: dy must have shape \\[2,3,3,3\\], got \\[2,4,4,3\\]`));
    assert.throws(run({ dy, input: x, output: y }, { filterSize: [2, 0] }), new RegExp(`${where}: filterSize must be a positive integer or a pair of them, got \\[2,0\\]`));
    assert.throws(run({ dy, input: x, output: y }, { pad: [[0, 0], [1, 1], [1, 1], [0, 0]] }), new RegExp(`${where}: pad must be 'same', 'valid' or a non-negative integer`));
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(tf.engine().backend.numDataIds(), data);
    tf.dispose([x, y, dy]);
  });
}

test("MaxPoolGrad agrees with the stock cpu kernel on tied maxima and the stock wasm kernel on distinct positive ones", async () => {
  // Stock wasm starts each window's running maximum at 0, not -Infinity: a
  // window of negative values sends its gradient to its first pixel, not its
  // maximum (tfjs 4.22). So it is compared on positive values only.
  const positive = (d: ReturnType<typeof poolData>) => ({ ...d, x: d.x.map((v) => v + 1.5) });
  const data = CASES.map((c, i) => ({ tied: poolData(c, 60 + i, true), distinct: positive(poolData(c, 70 + i, false)) }));
  const runAll = (which: "tied" | "distinct") => CASES.map((c, i) => maxPoolGrad(c, data[i][which].x, data[i][which].dy, data[i][which].dyShape));
  await tf.setBackend("cpu");
  unregisterTrainingKernels("cpu");
  const stockCpu = runAll("tied");
  registerTrainingKernels("cpu");
  await tf.setBackend("wasm");
  unregisterTrainingKernels("wasm");
  const stockWasm = runAll("distinct");
  registerTrainingKernels("wasm");
  runAll("distinct").forEach((got, i) => assert.ok(maxRelError(got, stockWasm[i]) < 1e-6, `wasm ${JSON.stringify(CASES[i])}`));
  await tf.setBackend("cpu");
  runAll("tied").forEach((got, i) => assert.ok(maxRelError(got, stockCpu[i]) < 1e-6, `cpu ${JSON.stringify(CASES[i])}`));
});

test("MaxPoolGrad's SIMD windows on wasm are bit-identical to the JavaScript loop on cpu, signed zeros, ties and unsettled windows included", async () => {
  await tf.setBackend("wasm");
  assert.notEqual(simdKernels(tf.backend(), "maxPoolGrad", () => []), null, "the wasm backend's memory is reachable, so the SIMD loop runs");
  const c: PoolCase = { x: [4, 14, 14, 32], filterSize: [2, 2], strides: [2, 2], pad: "valid" };
  const d = poolData(c, 90, true); // ties, and negative dy: losers get -0
  const unsettled = Float32Array.from(d.x);
  unsettled[5] = NaN; // one window holding NaN: the whole tensor goes through the JavaScript loop
  const wildDy = Float32Array.from(d.dy);
  wildDy[3] = Infinity;
  const runs = (): Float32Array[] => [
    maxPoolGrad(c, d.x, d.dy, d.dyShape),
    maxPoolGrad(c, unsettled, d.dy, d.dyShape),
    maxPoolGrad(c, d.x, wildDy, d.dyShape),
    maxPoolGrad({ ...c, x: [2, 9, 7, 4] }, d.x.subarray(0, 2 * 9 * 7 * 4), d.dy.subarray(0, 2 * 4 * 3 * 4), [2, 4, 3, 4]),
  ];
  const wasm = runs();
  await tf.setBackend("cpu");
  const cpu = runs();
  wasm.forEach((got, r) => {
    assert.equal(got.length, cpu[r].length);
    for (let i = 0; i < got.length; i++) assert.ok(Object.is(got[i], cpu[r][i]), `run ${r}, element ${i}: wasm ${got[i]} vs cpu ${cpu[r][i]}`);
  });
  assert.ok(wasm[0].some((v) => Object.is(v, -0)), "some loser holds -0, as 0 * negative dy");
});
