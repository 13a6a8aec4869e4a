import { test } from "node:test";
import assert from "node:assert/strict";
import {
  combineCode, copiedIndex, F2_3, F2_3_STRIDE2, filterTransformSimd, STRIDE2_INPUT_GRAD, Terms, transposeTerms, WinogradScheme,
} from "../../../src/backend/kernels/winograd_scheme";
import { assembleModule, I32, op, V128 } from "../../../src/backend/wasm_simd";

/** A sparse row as a dense row of `length` coefficients. */
const dense = (terms: Terms, length: number) => {
  const row = new Array<number>(length).fill(0);
  for (const [i, c] of terms) row[i] += c;
  return row;
};
const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);

/** `A^T [(G g) ⊙ (B^T d)]` in float64, from the dense matrices. */
function apply1d(s: WinogradScheme, d: number[], g: number[]): number[] {
  const v = s.input.map((row) => dot(dense(row, s.patch), d));
  const u = s.filter.map((row) => dot(dense(row, 3), g));
  const m = v.map((x, i) => x * u[i]);
  return s.output.map((row) => dot(dense(row, s.positions), m));
}

const random = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(12.9898 * (i + 1) + 78.233 * seed));

test("each scheme's matrices compute its convolution exactly (float64, one dimension)", () => {
  for (let seed = 0; seed < 20; seed++) {
    // F(2, 3): y_i = sum_a d_{i+a} g_a.
    const d4 = random(4, seed), g = random(3, seed + 100);
    const want1 = [0, 1].map((i) => [0, 1, 2].reduce((s, a) => s + d4[i + a] * g[a], 0));
    apply1d(F2_3, d4, g).forEach((y, i) => assert.ok(Math.abs(y - want1[i]) < 1e-12, `F(2,3) y${i}`));
    // Stride 2: y_i = sum_a d_{2i+a} g_a.
    const d5 = random(5, seed + 200);
    const want2 = [0, 1].map((i) => [0, 1, 2].reduce((s, a) => s + d5[2 * i + a] * g[a], 0));
    apply1d(F2_3_STRIDE2, d5, g).forEach((y, i) => assert.ok(Math.abs(y - want2[i]) < 1e-12, `stride 2 y${i}`));
    // Stride-2 input gradient: dx'[4t + r] = sum over 2i + a = 4t + r of dy[i] g[a], with e = dy[2t-1 .. 2t+1] (t = 0 here, dy[-1] = e0).
    const e = random(3, seed + 300);
    const dyAt = (i: number) => e[i + 1];
    const want3 = [0, 1, 2, 3].map((r) => [0, 1, 2].reduce((s, a) => ((r - a) % 2 === 0 && (r - a) / 2 >= -1 && (r - a) / 2 <= 1 ? s + dyAt((r - a) / 2) * g[a] : s), 0));
    apply1d(STRIDE2_INPUT_GRAD, e, g).forEach((y, i) => assert.ok(Math.abs(y - want3[i]) < 1e-12, `input gradient dx'${i}`));
  }
  for (const s of [F2_3, F2_3_STRIDE2, STRIDE2_INPUT_GRAD]) {
    assert.equal(s.input.length, s.positions, s.name);
    assert.equal(s.filter.length, s.positions, s.name);
    assert.equal(s.output.length, s.outputs, s.name);
  }
});

test("transposeTerms gives the transposed matrix and names a column out of range", () => {
  const t = transposeTerms(F2_3.output, 4);
  for (let r = 0; r < 2; r++) {
    for (let c = 0; c < 4; c++) assert.equal(dense(t[c], 2)[r], dense(F2_3.output[r], 4)[c]);
  }
  assert.deepEqual(transposeTerms([[[0, 1], [1, 1]], [[1, 1], [2, -1]]], 3), [[[0, 1]], [[0, 1], [1, 1]], [[1, -1]]]);
  assert.throws(() => transposeTerms([[[3, 1]]], 3), /transposeTerms: row 0 names column 3, outside 0..2/);
});

test("copiedIndex finds rows that copy one value", () => {
  assert.equal(copiedIndex([[2, 1]]), 2);
  assert.equal(copiedIndex([[2, -1]]), null);
  assert.equal(copiedIndex([[2, 0.5]]), null);
  assert.equal(copiedIndex([[0, 1], [2, -1]]), null);
});

test("combineCode sums its terms, halves and negations included (run in wasm)", () => {
  // f(a, b, c, d) = the f32x4 combination of four splatted values, lane 0.
  const rows: Terms[] = [[[0, 1]], [[0, 1], [2, -1]], [[1, -1]], [[1, -1], [3, -1]], [[0, 0.5], [1, 0.5], [2, -0.5]], [[0, 1], [1, 0.5], [2, 0.5]]];
  const bytes = assembleModule(rows.map((row, i) => ({
    name: `f${i}`,
    params: [I32],
    results: [I32],
    locals: [V128, V128, V128, V128],
    body: [
      // Values 1, 2, 4, 8 into locals 1..4, then the combination stored at address 0 and its lane 0 returned as bits.
      ...[1, 2, 4, 8].flatMap((v, k) => [op.f32Const(v), op.f32x4Splat, op.localSet(1 + k)]),
      op.localGet(0), ...combineCode(row, (k) => 1 + k), op.v128Store(0),
      op.localGet(0), op.i32Load(0),
    ],
  })), false);
  const memory = new WebAssembly.Memory({ initial: 1 });
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as Record<string, (at: number) => number>;
  const bits = new Float32Array(1);
  const asFloat = (b: number) => (new Int32Array(bits.buffer)[0] = b, bits[0]);
  const values = [1, 2, 4, 8];
  rows.forEach((row, i) => {
    const want = row.reduce((s, [k, c]) => s + c * values[k], 0);
    assert.equal(asFloat(exports[`f${i}`](0)), want, JSON.stringify(row));
  });
  assert.throws(() => combineCode([], (k) => k), /combineCode: a row needs at least one term/);
  assert.throws(() => combineCode([[0, 0]], (k) => k), /combineCode: coefficients must be finite and nonzero, got 0/);
});

/** U = G g G^T by dense float64 matrix products, for one channel pair's 3x3 taps. */
function filterTransformRef(s: WinogradScheme, g: number[][]): number[][] {
  const G = s.filter.map((row) => dense(row, 3));
  const Gg = G.map((row) => [0, 1, 2].map((c) => row.reduce((acc, v, k) => acc + v * g[k][c], 0)));
  return Gg.map((row) => G.map((gRow) => row.reduce((acc, v, k) => acc + v * gRow[k], 0)));
}

/** filterTransformSimd run in its own memory: taps [3, 3, pairs] in, [P^2, pairs] out. */
function filterTransform(s: WinogradScheme, flipped: boolean, taps: Float32Array): Float32Array {
  const pairs = taps.length / 9;
  const out = s.positions ** 2 * pairs;
  const memory = new WebAssembly.Memory({ initial: Math.ceil((taps.length + out) * 4 / 65536) + 1 });
  const module = new WebAssembly.Module(assembleModule([filterTransformSimd(s, flipped)], false));
  const run = new WebAssembly.Instance(module, { env: { memory } }).exports[flipped ? "winogradFilterFlipped" : "winogradFilter"] as (src: number, dst: number, pairs: number) => void;
  new Float32Array(memory.buffer, 0, taps.length).set(taps);
  run(0, taps.length * 4, pairs);
  return new Float32Array(memory.buffer, taps.length * 4, out).slice();
}

test("filterTransformSimd is G g G^T for every channel pair, for every scheme, flipped or not (float64 matrix products)", () => {
  const C = 3, K = 8;
  const f = Float32Array.from({ length: 9 * C * K }, (_, i) => Math.sin(1.7 * i + 0.3));
  for (const s of [F2_3, F2_3_STRIDE2, STRIDE2_INPUT_GRAD]) {
    const P = s.positions;
    for (const flipped of [false, true]) {
      const u = filterTransform(s, flipped, f);
      for (let c = 0; c < C; c++) {
        for (let k = 0; k < K; k++) {
          const tap = (kh: number, kw: number) => (flipped ? (2 - kh) * 3 + 2 - kw : kh * 3 + kw);
          const g = [0, 1, 2].map((kh) => [0, 1, 2].map((kw) => f[(tap(kh, kw) * C + c) * K + k]));
          const want = filterTransformRef(s, g);
          for (let xi = 0; xi < P * P; xi++) {
            const got = u[(xi * C + c) * K + k];
            const w = want[Math.floor(xi / P)][xi % P];
            assert.ok(Math.abs(got - w) < 1e-6, `${s.name}${flipped ? " flipped" : ""} c ${c} k ${k} xi ${xi}: ${got} vs ${w}`);
          }
        }
      }
    }
  }
});
