/**
 * The filter gradient of 3x3 stride-1 'same' convolutions by Winograd's
 * F(3x3, 2x2) (Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural
 * Networks", which uses it for the weight update: the weight gradient is a
 * correlation of the input with `dy`, whose 3x3 "outputs" are the filter's
 * taps and whose 2x2 "filter" is a block of `dy`). For each 2x2 block of `dy` and the 4x4 input patch it read,
 *
 *   dW += A^T [ (G dy G^T) ⊙ (B^T d B) ] A,
 *
 * and since `A` is the same for every tile the sum moves inside: 16 matrix
 * products `M_ξ [Ci, Co] = sum over tiles of V_ξ[t, ci] D_ξ[t, co]`, then one
 * output transform per channel pair. 16 multiply-adds per tile and channel
 * pair where the direct gradient spends 36.
 *
 * Matrices of F(3, 2) (each output of the 1-D form, `d_i g_0 + d_{i+1} g_1`,
 * expands to these; the tests check the whole gradient against float64):
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 -1 0 1]
 *   G   = [1 0; 1/2 1/2; 1/2 -1/2; 0 1]
 *   A^T = [1 1 1 0; 0 1 -1 0; 0 1 1 1]
 *
 * One generated loop per block of tiles transforms the input patches and
 * the `dy` blocks into scratch and adds the block's products to an
 * accumulator; the two threads take half the tiles each, with an
 * accumulator each, summed at the end.
 */
import { tf } from "../tf";
import { backendThreads, runSplit } from "../simd_threads";
import { addLocalTo, addTo, I32, loopUntil, op, SimdFunction, simdKernels, V128, wasmBackendMemory } from "../wasm_simd";
import { ConvGeometry } from "./conv_geometry";
import { acrossOutputChannels, advanceTile, blockCount, GEMM_VECTORS, paddedInput, patchTransform, slabBytes, tileLayout, tilePosition, tileWalk, winogradApplies, winogradBlock, XI } from "./conv2d_winograd";
import { KernelHost } from "./host";
import { copyPixels } from "./pixel_copy";

const { localGet: get, localSet: set } = op;

/** Input channels per register block of the products (rows of `M_ξ`). */
const GRAD_ROWS = 4;

/** Row `m` of `G` applied to `e(0..1)`: `e0`, `(e0 + e1) / 2`, `(e0 - e1) / 2`, `e1`; `half` holds 0.5 in every lane. */
function dyCombine(m: number, e: (k: number) => number, half: number): number[][] {
  if (m === 0) return [get(e(0))];
  if (m === 3) return [get(e(1))];
  return [get(e(0)), get(e(1)), m === 1 ? op.f32x4Add : op.f32x4Sub, get(half), op.f32x4Mul];
}

/** The loop's compile-time shape: input and output channels, tiles per block. */
export interface WinogradGradShape {
  /** Input channels (of `x`), a multiple of {@link GRAD_ROWS}. */
  C: number;
  /** Output channels (of `dy`), a multiple of 4. */
  K: number;
  /** Tiles transformed and summed per block. */
  block: number;
}

// Parameters, then i32 locals, then v128 locals.
const P = {
  SRC: 0, DY: 1, TILES: 2, TX: 3, TY: 4, TW: 5, TH: 6, SRJ: 7, SIJ: 8, DRJ: 9, DIJ: 10, ROWB_IN: 11, ROWB_DY: 12, ACC: 13, SCR: 14,
} as const;
const L = { DONE: 15, NB: 16, TILE: 17, VPTR: 18, DPTR: 19, CB: 20, ROW: 21, A: 22, XI: 23, VB: 24, DB: 25, AB: 26, CI: 27, CO: 28, B: 29, VP: 30, DP: 31, AP: 32, V: 33 } as const;
const I32_LOCALS = L.V - L.DONE;
const V128_LOCALS = 33;

/**
 * `winogradFilterGrad(src, dy, tiles, tx, ty, tilesWide, tilesHigh,
 * srcRowJump, srcImageJump, dyRowJump, dyImageJump, srcRowBytes, dyRowBytes,
 * acc, scratch)`: adds to `acc` (`[16, C, K]`) the products of `tiles`
 * tiles, starting at tile column `tx` and row `ty`: the F(3, 2) transform of
 * each tile's 4x4 patch of the zero-padded input (`src`: byte address of the
 * first tile's top-left padded pixel) and of its 2x2 block of `dy` (`dy`:
 * the block's top-left pixel; `dy` has even height and width). Moving to
 * the next tile adds 8C bytes to `src` and 8K to `dy`, plus the row and
 * image jumps as the tile position wraps. `scratch` holds 16 slabs of
 * {@link slabBytes}(block, C) and 16 of slabBytes(block, K).
 */
export function winogradFilterGradSimd(shape: WinogradGradShape): SimdFunction {
  const { C, K, block: B } = shape;
  if (!Number.isInteger(C) || C < GRAD_ROWS || C % GRAD_ROWS !== 0) throw new Error(`winogradFilterGradSimd: C must be a positive multiple of ${GRAD_ROWS}, got ${C}`);
  if (!Number.isInteger(K) || K < 4 || K % 4 !== 0) throw new Error(`winogradFilterGradSimd: K must be a positive multiple of 4, got ${K}`);
  if (!Number.isInteger(B) || B < 1) throw new Error(`winogradFilterGradSimd: block must be a positive integer, got ${B}`);
  const cBytes = 4 * C, kBytes = 4 * K;
  const vSlab = slabBytes(B, C), dSlab = slabBytes(B, K);
  const v = (i: number) => L.V + i;
  const half = v(32);

  // Input transform of one tile's patch, 4 channels at a time.
  const inputVector = patchTransform(
    { src: P.SRC, rowBytes: P.ROWB_IN, channel: L.CB, slabRow: L.VPTR, row: L.ROW, address: L.A, vectors: L.V }, cBytes, vSlab, "e3 - e1");

  // dy transform of one tile's 2x2 block: G over rows, then columns.
  const Ev = (i: number, j: number) => v(2 * i + j);
  const Gv = (i: number, j: number) => v(4 + 2 * i + j);
  const dyVector: number[][] = [
    get(P.DY), get(L.CB), op.i32Add, set(L.ROW),
    get(L.ROW), op.v128Load(0), set(Ev(0, 0)), get(L.ROW), op.v128Load(kBytes), set(Ev(0, 1)),
    ...addLocalTo(L.ROW, P.ROWB_DY),
    get(L.ROW), op.v128Load(0), set(Ev(1, 0)), get(L.ROW), op.v128Load(kBytes), set(Ev(1, 1)),
    ...[0, 1, 2, 3].flatMap((i) => [0, 1].flatMap((j) => [...dyCombine(i, (k) => Ev(k, j), half), set(Gv(i, j))])),
    get(L.DPTR), get(L.CB), op.i32Add, set(L.A),
    ...[0, 1, 2, 3].flatMap((i) => [0, 1, 2, 3].flatMap((j) => [
      get(L.A), ...dyCombine(j, (k) => Gv(i, k), half), op.v128Store((4 * i + j) * dSlab),
    ])),
  ];

  // Products: acc_ξ[ci..ci+3][co..] += sum over the block's tiles of V_ξ[t][ci..ci+3] D_ξ[t][co..].
  const acc = (r: number, c: number) => v(r * GEMM_VECTORS + c);
  const dv = (c: number) => v(GRAD_ROWS * GEMM_VECTORS + c);
  const sv = v(GRAD_ROWS * GEMM_VECTORS + GEMM_VECTORS);
  const rows = Array.from({ length: GRAD_ROWS }, (_, r) => r);
  const registerBlock = (w: number): number[][] => {
    const cols = Array.from({ length: w }, (_, c) => c);
    return [
      get(L.AB), get(L.CI), op.i32Const(kBytes), op.i32Mul, op.i32Add, get(L.CO), op.i32Add, set(L.AP),
      ...rows.flatMap((r) => cols.flatMap((c) => [get(L.AP), op.v128Load(r * kBytes + 16 * c), set(acc(r, c))])),
      get(L.VB), get(L.CI), op.i32Const(4), op.i32Mul, op.i32Add, set(L.VP),
      get(L.DB), get(L.CO), op.i32Add, set(L.DP),
      op.i32Const(0), set(L.B),
      ...loopUntil(L.B, [get(L.NB)], [...addTo(L.B, 1), ...addTo(L.VP, cBytes), ...addTo(L.DP, kBytes)], [
        ...cols.flatMap((c) => [get(L.DP), op.v128Load(16 * c), set(dv(c))]),
        ...rows.flatMap((r) => [
          get(L.VP), op.v128Load32Splat(4 * r), set(sv),
          ...cols.flatMap((c) => [get(acc(r, c)), get(sv), get(dv(c)), op.f32x4Mul, op.f32x4Add, set(acc(r, c))]),
        ]),
      ]),
      ...rows.flatMap((r) => cols.flatMap((c) => [get(L.AP), get(acc(r, c)), op.v128Store(r * kBytes + 16 * c)])),
    ];
  };
  const products: number[][] = [
    get(P.SCR), set(L.VB), get(P.SCR), op.i32Const(XI * vSlab), op.i32Add, set(L.DB), get(P.ACC), set(L.AB),
    op.i32Const(0), set(L.XI),
    ...loopUntil(L.XI, [op.i32Const(XI)], [...addTo(L.XI, 1), ...addTo(L.VB, vSlab), ...addTo(L.DB, dSlab), ...addTo(L.AB, C * kBytes)], [
      op.i32Const(0), set(L.CI),
      ...loopUntil(L.CI, [op.i32Const(C)], addTo(L.CI, GRAD_ROWS), acrossOutputChannels(L.CO, K, registerBlock)),
    ]),
  ];

  const blockBody: number[][] = [
    ...blockCount(L.NB, P.TILES, L.DONE, B),
    get(P.SCR), set(L.VPTR), get(P.SCR), op.i32Const(XI * vSlab), op.i32Add, set(L.DPTR),
    op.i32Const(0), set(L.TILE),
    ...loopUntil(L.TILE, [get(L.NB)], [
      ...addTo(L.TILE, 1), ...addTo(L.VPTR, cBytes), ...addTo(L.DPTR, kBytes),
      ...advanceTile({ tx: P.TX, ty: P.TY, tilesWide: P.TW, tilesHigh: P.TH }, [[P.SRC, 2 * cBytes, P.SRJ, P.SIJ], [P.DY, 2 * kBytes, P.DRJ, P.DIJ]]),
    ], [
      op.i32Const(0), set(L.CB),
      ...loopUntil(L.CB, [op.i32Const(cBytes)], addTo(L.CB, 16), inputVector),
      op.i32Const(0), set(L.CB),
      ...loopUntil(L.CB, [op.i32Const(kBytes)], addTo(L.CB, 16), dyVector),
    ]),
    ...products,
  ];
  return {
    name: "winogradFilterGrad",
    params: Array.from({ length: L.DONE }, () => I32),
    results: [],
    locals: [...Array.from({ length: I32_LOCALS }, () => I32), ...Array.from({ length: V128_LOCALS }, () => V128)],
    body: [
      op.f32Const(0.5), op.f32x4Splat, set(half),
      op.i32Const(0), set(L.DONE),
      ...loopUntil(L.DONE, [get(P.TILES)], [get(L.DONE), get(L.NB), op.i32Add, set(L.DONE)], blockBody),
    ],
  };
}

/**
 * `winogradGradOutput(acc0, acc1, dw)`: the output transform `A^T M A` of
 * the sum of two accumulators `M = acc0 + acc1` (`[16, C, K]` each) into the
 * filter gradient `dw` `[3, 3, C, K]`, four channel pairs at a time.
 */
export function winogradGradOutputSimd(C: number, K: number): SimdFunction {
  if (!Number.isInteger(C * K) || C < 1 || K < 4 || (C * K) % 4 !== 0) {
    throw new Error(`winogradGradOutputSimd: C * K must be a positive multiple of 4, got ${C} * ${K}`);
  }
  const slab = 4 * C * K;
  const [ACC0, ACC1, DST, AT] = [0, 1, 2, 3];
  const m = (xi: number) => 4 + xi;
  const t = (a: number, j: number) => 20 + 4 * a + j;
  const [mv, tv] = [(i: number, j: number) => m(4 * i + j), t];
  // Rows of A^T: [1 1 1 0; 0 1 -1 0; 0 1 1 1], as code over e(0..3).
  const combine = (a: number, e: (k: number) => number): number[][] =>
    a === 0 ? [get(e(0)), get(e(1)), op.f32x4Add, get(e(2)), op.f32x4Add]
      : a === 1 ? [get(e(1)), get(e(2)), op.f32x4Sub]
        : [get(e(1)), get(e(2)), op.f32x4Add, get(e(3)), op.f32x4Add];
  const vector: number[][] = [
    ...Array.from({ length: XI }, (_, xi) => [
      get(ACC0), get(AT), op.i32Add, op.v128Load(xi * slab), get(ACC1), get(AT), op.i32Add, op.v128Load(xi * slab), op.f32x4Add, set(m(xi)),
    ]).flat(),
    ...[0, 1, 2].flatMap((a) => [0, 1, 2, 3].flatMap((j) => [...combine(a, (k) => mv(k, j)), set(tv(a, j))])),
    ...[0, 1, 2].flatMap((a) => [0, 1, 2].flatMap((b) => [
      get(DST), get(AT), op.i32Add, ...combine(b, (k) => tv(a, k)), op.v128Store((3 * a + b) * slab),
    ])),
  ];
  return {
    name: "winogradGradOutput",
    params: [I32, I32, I32],
    results: [],
    locals: [I32, ...Array.from({ length: XI + 12 }, () => V128)],
    body: [op.i32Const(0), set(AT), ...loopUntil(AT, [op.i32Const(slab)], addTo(AT, 16), vector)],
  };
}

/**
 * The filter gradient `[3, 3, Ci, Co]` of the convolution of geometry `g`
 * ({@link winogradApplies}) for `x` `[N, H, W, Ci]` and `dy` `[N, H, W, Co]`
 * on wasm; null when the SIMD loop cannot run here (the caller falls back).
 *
 * @example
 * const dw = winogradFilterGrad(host, x, dy, g) ?? tiledFilterGrad(host, x, dy, g);
 */
export function winogradFilterGrad(host: KernelHost, x: tf.TensorInfo, dy: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo | null {
  if (host.backendName !== "wasm" || !winogradApplies(g)) return null;
  const memory = wasmBackendMemory(host.backend);
  const { batch: N, inHeight: H, inWidth: W, inChannels: C, filterOutChannels: K } = g;
  const shape = { C, K, block: winogradBlock(C, K) };
  const kernels = simdKernels(host.backend, `winogradFilterGrad:${C}:${K}:${shape.block}`, () => [winogradFilterGradSimd(shape), winogradGradOutputSimd(C, K)]);
  if (memory === null || kernels === null) return null;
  const layout = tileLayout(H, W);
  const { tilesHigh: TH, tilesWide: TW, paddedHeight: Hp, paddedWidth: Wp } = layout;
  const tiles = N * TH * TW;
  const [Hd, Wd] = [2 * TH, 2 * TW];
  const threads = backendThreads(host.backend);
  // One accumulator per thread; on one thread the second stays zero.
  const parts = 2;
  const owned: tf.TensorInfo[] = [];
  const keep = (t: tf.TensorInfo): tf.TensorInfo => (owned.push(t), t);
  try {
    const xp = keep(paddedInput(host, x, layout));
    // dy with a zero last row and column where the size is odd: the tiles' 2x2 blocks then lie inside it.
    let dyEven = dy;
    if (Hd !== H || Wd !== W) {
      dyEven = keep(host.zeros([N, Hd, Wd, K]));
      copyPixels(host,
        { view: host.f32(dy), at: 0, pixel: K, row: W * K, image: H * W * K },
        { view: host.f32(dyEven), at: 0, pixel: K, row: Wd * K, image: Hd * Wd * K },
        { images: N, rows: H, cols: W, channels: K });
    }
    const acc = keep(host.zeros([parts, XI * C * K]));
    const scratchFloats = (XI * (slabBytes(shape.block, C) + slabBytes(shape.block, K))) / 4;
    const scratch = keep(host.alloc([parts, scratchFloats]));
    const src = tileWalk(layout, host.f32(xp).byteOffset, Hp, Wp * C * 4, C * 4);
    const dyWalk = tileWalk(layout, host.f32(dyEven).byteOffset, Hd, Wd * K * 4, K * 4);
    const args = (first: number, count: number, part: number) => {
      const { tx, ty } = tilePosition(layout, first);
      return [
        src.at(first), dyWalk.at(first), count, tx, ty, TW, TH, src.rowJump, src.imageJump, dyWalk.rowJump, dyWalk.imageJump,
        src.rowBytes, dyWalk.rowBytes, host.f32(acc).byteOffset + part * XI * C * K * 4, host.f32(scratch).byteOffset + part * scratchFloats * 4,
      ];
    };
    const half = threads >= 2 ? tiles >> 1 : 0;
    runSplit(memory, kernels, "winogradFilterGrad", threads, args(half, tiles - half, 0), args(0, half, 1));
    const dw = host.alloc([3, 3, C, K]);
    const at = host.f32(acc).byteOffset;
    (kernels.winogradGradOutput as (acc0: number, acc1: number, dw: number) => void)(at, at + XI * C * K * 4, host.f32(dw).byteOffset);
    return dw;
  } finally {
    for (const t of owned) host.dispose(t);
  }
}
