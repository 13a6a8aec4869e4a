/**
 * The one-dimensional minimal filtering algorithms the Winograd kernels
 * (conv2d_winograd.ts, conv2d_filter_grad_winograd.ts) apply along both
 * axes of an image (Lavin & Gray 2016, "Fast Algorithms for Convolutional
 * Neural Networks"). A scheme computes `outputs` values from a tile of
 * `patch` inputs, the next tile starting `step` inputs further on, as
 *
 *   y = A^T [ (G g) ⊙ (B^T d) ],
 *
 * with `positions` products where the direct form spends 3 per output. In
 * two dimensions, `Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A`: positions^2
 * products per tile of outputs^2 values.
 *
 * The rows of `B^T`, `G` and `A^T` are kept as sparse sums of terms,
 * `[index, coefficient]`, so one code generator emits every scheme's
 * transforms and the filter gradient reads the transposed matrices
 * ({@link transposeTerms}) from the same definition:
 *
 *   dW = G^T [ sum over tiles (B^T d B) ⊙ (A dY A^T) ] G.
 */
import { addTo, I32, loopUntil, op, SimdFunction, V128 } from "../wasm_simd";

/** A row of a transform: the sum of `coefficient * value[index]`. */
export type Terms = ReadonlyArray<readonly [index: number, coefficient: number]>;

/** A one-dimensional minimal filtering algorithm for a 3-tap filter (see the module comment). */
export interface WinogradScheme {
  /** Names the scheme in cache keys and messages. */
  name: string;
  /** Inputs one tile reads. */
  patch: number;
  /** Inputs between consecutive tiles. */
  step: number;
  /** Products per tile: rows of `B^T` and `G`, columns of `A^T`. */
  positions: number;
  /** Outputs per tile: rows of `A^T`. */
  outputs: number;
  /** `B^T`: `positions` rows over the `patch` inputs. */
  input: Terms[];
  /** `G`: `positions` rows over the 3 filter taps. */
  filter: Terms[];
  /** `A^T`: `outputs` rows over the `positions` products. */
  output: Terms[];
}

/**
 * F(2, 3) for stride-1 convolutions: 2 outputs from 4 inputs by 4 products
 * (6 direct). Lavin & Gray's matrices with the sign of `B^T`'s last row and
 * `A^T`'s last column both flipped (the same products, negated twice), so
 * that every row of `A` begins with a positive term:
 *
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 -1 0 1]
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *   A^T = [1 1 1 0; 0 1 -1 1]
 */
export const F2_3: WinogradScheme = {
  name: "F(2,3)",
  patch: 4,
  step: 2,
  positions: 4,
  outputs: 2,
  input: [[[0, 1], [2, -1]], [[1, 1], [2, 1]], [[2, 1], [1, -1]], [[3, 1], [1, -1]]],
  filter: [[[0, 1]], [[0, 0.5], [1, 0.5], [2, 0.5]], [[0, 0.5], [1, -0.5], [2, 0.5]], [[2, 1]]],
  output: [[[0, 1], [1, 1], [2, 1]], [[1, 1], [2, -1], [3, 1]]],
};

/**
 * Stride-2 convolutions: 2 outputs from 5 inputs by 5 products (6 direct).
 * `y0 = d0 g0 + d1 g1 + d2 g2` and `y1 = d2 g0 + d3 g1 + d4 g2` split by
 * the parity of the input: the even taps `g0`, `g2` meet `d0, d2, d4` as a
 * stride-1 F(2, 2) (3 products: `(d0 - d2) g0`, `d2 (g0 + g2)`, `(d4 - d2)
 * g2`), and the odd tap `g1` meets `d1` and `d3` directly (2 products).
 * This is the decomposition Huang et al. 2020 ("DWM: A Decomposable
 * Winograd Method for Convolution Acceleration") apply to strided layers.
 *
 *   B^T = [1 0 -1 0 0; 0 0 1 0 0; 0 0 -1 0 1; 0 1 0 0 0; 0 0 0 1 0]
 *   G   = [1 0 0; 1 0 1; 0 0 1; 0 1 0; 0 1 0]
 *   A^T = [1 1 0 1 0; 0 1 1 0 1]
 */
export const F2_3_STRIDE2: WinogradScheme = {
  name: "F(2,3)s2",
  patch: 5,
  step: 4,
  positions: 5,
  outputs: 2,
  input: [[[0, 1], [2, -1]], [[2, 1]], [[4, 1], [2, -1]], [[1, 1]], [[3, 1]]],
  filter: [[[0, 1]], [[0, 1], [2, 1]], [[2, 1]], [[1, 1]], [[1, 1]]],
  output: [[[0, 1], [1, 1], [3, 1]], [[1, 1], [2, 1], [4, 1]]],
};

/**
 * The input gradient of a stride-2 convolution by a 3-tap filter: 4
 * gradient values from 3 values of `dy` by 5 products (6 direct). With
 * `dx'` the gradient of the padded input (`dx'[r] = sum over 2i + a = r
 * of dy[i] g[a]`) and `e0, e1, e2 = dy[2t-1], dy[2t], dy[2t+1]`, tile `t`
 * gives `dx'[4t .. 4t+3] = e0 g2 + e1 g0, e1 g1, e1 g2 + e2 g0, e2 g1`: the
 * even positions a stride-1 F(2, 2) of `e` with `(g2, g0)`, the odd ones
 * one product each. The filter is read with its channels transposed (see
 * `FilterReading`), not flipped: `G` picks the taps.
 *
 *   B^T = [1 -1 0; 0 1 0; 0 -1 1; 0 1 0; 0 0 1]
 *   G   = [0 0 1; 1 0 1; 1 0 0; 0 1 0; 0 1 0]
 *   A^T = [1 1 0 0 0; 0 0 0 1 0; 0 1 1 0 0; 0 0 0 0 1]
 */
export const STRIDE2_INPUT_GRAD: WinogradScheme = {
  name: "dx(2,3)s2",
  patch: 3,
  step: 2,
  positions: 5,
  outputs: 4,
  input: [[[0, 1], [1, -1]], [[1, 1]], [[2, 1], [1, -1]], [[1, 1]], [[2, 1]]],
  filter: [[[2, 1]], [[0, 1], [2, 1]], [[0, 1]], [[1, 1]], [[1, 1]]],
  output: [[[0, 1], [1, 1]], [[3, 1]], [[1, 1], [2, 1]], [[4, 1]]],
};

/**
 * The rows of the transpose of a matrix given by `rows` sparse rows of
 * `columns` columns: `A` from `A^T`, `G^T` from `G`.
 *
 * @example
 * transposeTerms([[[0, 1], [1, 1]], [[1, 1], [2, -1]]], 3) // [[[0, 1]], [[0, 1], [1, 1]], [[1, -1]]]
 */
export function transposeTerms(rows: readonly Terms[], columns: number): Terms[] {
  const out: Array<Array<[number, number]>> = Array.from({ length: columns }, () => []);
  rows.forEach((row, r) => {
    for (const [c, coefficient] of row) {
      if (!Number.isInteger(c) || c < 0 || c >= columns) throw new Error(`transposeTerms: row ${r} names column ${c}, outside 0..${columns - 1}`);
      out[c].push([r, coefficient]);
    }
  });
  return out;
}

const { localGet: get } = op;

/**
 * Code that pushes the f32x4 sum of `terms` over the v128 locals
 * `value(index)`. Terms are summed by coefficient magnitude: ±1 terms
 * added and subtracted, other magnitudes summed and then multiplied by
 * that magnitude.
 *
 * @example
 * combineCode([[0, 1], [2, -1]], (k) => D + k) // get(D), get(D+2), f32x4Sub
 */
export function combineCode(terms: Terms, value: (index: number) => number): number[][] {
  if (terms.length === 0) throw new Error("combineCode: a row needs at least one term");
  const magnitudes = [...new Set(terms.map(([, c]) => Math.abs(c)))];
  const code: number[][] = [];
  magnitudes.forEach((magnitude, g) => {
    if (!(magnitude > 0) || !Number.isFinite(magnitude)) throw new Error(`combineCode: coefficients must be finite and nonzero, got ${magnitude}`);
    const group = terms.filter(([, c]) => Math.abs(c) === magnitude);
    // A positive term first, so the sum starts without a negation.
    const ordered = [...group.filter(([, c]) => c > 0), ...group.filter(([, c]) => c < 0)];
    if (ordered[0][1] < 0) code.push(op.f32Const(0), op.f32x4Splat);
    ordered.forEach(([index, c], k) => {
      code.push(get(value(index)));
      if (k > 0 || c < 0) code.push(c > 0 ? op.f32x4Add : op.f32x4Sub);
    });
    if (magnitude !== 1) code.push(op.f32Const(magnitude), op.f32x4Splat, op.f32x4Mul);
    if (g > 0) code.push(op.f32x4Add);
  });
  return code;
}

/**
 * The index a row copies unchanged (a single `+1` term), or null: such
 * rows need no code, their value is the input's.
 */
export function copiedIndex(terms: Terms): number | null {
  return terms.length === 1 && terms[0][1] === 1 ? terms[0][0] : null;
}

/** `[0, 1, ..., length - 1]`: the indices a generator unrolls over. */
export function span(length: number): number[] {
  return Array.from({ length }, (_, i) => i);
}

/** The code of a separable transform (see {@link separableCode}). */
export interface SeparableCode {
  /** Computes the first stage into the temporaries. */
  first: number[][];
  /** Pushes `Y[r][s]`. */
  value: (r: number, s: number) => number[][];
}

/**
 * Code for the separable transform `Y = T X T^T` of v128 locals, as every
 * Winograd transform is: `rows` (`T`, each a row over `n` values) applied
 * down the columns of `X` (`x(i, j)`, n x n) into `temp(r, j)`, then along
 * the rows. Rows of `T` that copy one value take no temporaries.
 *
 * @example
 * const t = separableCode(scheme.input, scheme.patch, (i, j) => D + n * i + j, (r, j) => T + n * r + j);
 * [...loads, ...t.first, ...span(P).flatMap((r) => span(P).flatMap((s) => [...address, ...t.value(r, s), store]))]
 */
export function separableCode(rows: readonly Terms[], n: number, x: (i: number, j: number) => number, temp: (r: number, j: number) => number): SeparableCode {
  const down = (r: number, j: number) => {
    const copied = copiedIndex(rows[r]);
    return copied === null ? temp(r, j) : x(copied, j);
  };
  return {
    first: span(rows.length).flatMap((r) =>
      copiedIndex(rows[r]) !== null ? [] : span(n).flatMap((j) => [...combineCode(rows[r], (k) => x(k, j)), op.localSet(temp(r, j))])),
    value: (r, s) => combineCode(rows[s], (k) => down(r, k)),
  };
}

/**
 * `winogradFilter(src, dst, pairs)`: the filter transform `U_ξ = G g G^T`
 * of `scheme` for `pairs` channel pairs (a multiple of 4), four at a time,
 * in float32: taps `[3, 3, pairs]` at `src` (flipped in space when
 * `flipped`: tap `(kh, kw)` read from `(2-kh, 2-kw)`) to `[P^2, pairs]`
 * at `dst`, P = `scheme.positions`, position `ξ = P * row + col` first.
 * Byte addresses in the wasm backend's memory.
 */
export function filterTransformSimd(scheme: WinogradScheme, flipped: boolean): SimdFunction {
  const P = scheme.positions;
  const [SRC, DST, PAIRS, AT, STRIDE] = [0, 1, 2, 3, 4];
  const tap = (t: number) => 5 + t;
  const gG = (i: number, col: number) => 5 + 9 + 3 * i + col;
  // Address of row `r` of a [rows, pairs] array at `base`, at the current pairs: base + r * stride + at.
  const address = (base: number, r: number) => [get(base), get(STRIDE), op.i32Const(r), op.i32Mul, op.i32Add, get(AT), op.i32Add];
  const transform = separableCode(scheme.filter, 3, (i, j) => tap(3 * i + j), gG);
  const vector: number[][] = [
    ...span(9).flatMap((t) => [...address(SRC, flipped ? 8 - t : t), op.v128Load(), op.localSet(tap(t))]),
    ...transform.first,
    ...span(P).flatMap((i) => span(P).flatMap((j) => [...address(DST, P * i + j), ...transform.value(i, j), op.v128Store()])),
  ];
  return {
    name: flipped ? "winogradFilterFlipped" : "winogradFilter",
    params: [I32, I32, I32],
    results: [],
    locals: [I32, I32, ...Array.from({ length: 9 + 3 * P }, () => V128)],
    body: [
      get(PAIRS), op.i32Const(4), op.i32Mul, op.localSet(STRIDE),
      op.i32Const(0), op.localSet(AT),
      ...loopUntil(AT, [get(STRIDE)], addTo(AT, 16), vector),
    ],
  };
}

/**
 * How the filter transform reads `filter`: as it is (`[3, 3, C, K]`, a
 * convolution); flipped in space with its channels swapped (`[3, 3, K, C]`
 * read as `g[kh][kw][c][k] = filter[2-kh][2-kw][k][c]`: the stride-1
 * convolution of `dy` that gives an input gradient); or with its channels
 * swapped only (`g[kh][kw][c][k] = filter[kh][kw][k][c]`, for
 * {@link STRIDE2_INPUT_GRAD}, whose `G` picks the taps itself).
 */
export type FilterReading = "as-is" | "flipped" | "transposed";
