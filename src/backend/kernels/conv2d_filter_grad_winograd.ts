/**
 * The filter gradient of the 3x3 convolutions conv2d_winograd.ts computes,
 * by the transpose of the same minimal filtering (Lavin & Gray 2016, "Fast
 * Algorithms for Convolutional Neural Networks", use it for the weight
 * update). The forward tile is `Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A`, so
 * by linearity
 *
 *   dW = G^T [ sum over tiles (B^T d B) ⊙ (A dY A^T) ] G,
 *
 * with `dY` the tile's block of `dy`. Summed over tiles, that is one matrix
 * product per position ξ, `M_ξ [Ci, Co] = sum over tiles of V_ξ[t, ci]
 * D_ξ[t, co]`, then one output transform per channel pair: for stride 1,
 * 16 multiply-adds per tile and channel pair where the direct gradient
 * spends 36; for stride 2, 25.
 *
 * One generated loop per block of tiles transforms the input patches and
 * the `dy` blocks into scratch and adds the block's products to an
 * accumulator; the two threads take half the tiles each, with an
 * accumulator each, summed in the output transform.
 */
import { tf } from "../tf";
import { backendThreads, runSplit } from "../simd_threads";
import { addTo, I32, loopUntil, op, SimdFunction, simdKernels, V128, wasmBackendMemory } from "../wasm_simd";
import { ConvGeometry } from "./conv_geometry";
import {
  acrossOutputChannels, advanceTile, blockCount, GEMM_LOCALS, GEMM_VECTORS, paddedInput, patchTransform, patchVectors, slabBytes, tileLayout,
  tilePosition, tileWalk, winogradBlock, winogradPlan,
} from "./conv2d_winograd";
import { KernelHost } from "./host";
import { copyPixels } from "./pixel_copy";
import { separableCode, span, transposeTerms, WinogradScheme } from "./winograd_scheme";

const { localGet: get, localSet: set } = op;

/** Input channels per register block of the products (rows of `M_ξ`). */
const GRAD_ROWS = 4;

/** The loop's compile-time shape: input and output channels, tiles per block. */
export interface WinogradGradShape {
  scheme: WinogradScheme;
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

/**
 * `winogradFilterGrad(src, dy, tiles, tx, ty, tilesWide, tilesHigh,
 * srcRowJump, srcImageJump, dyRowJump, dyImageJump, srcRowBytes, dyRowBytes,
 * acc, scratch)`: adds to `acc` (`[P^2, C, K]`, P = `scheme.positions`)
 * the products of `tiles` tiles, starting at tile column `tx` and row `ty`:
 * the transform `B^T d B` of each tile's patch of the zero-padded input
 * (`src`: byte address of the first tile's top-left padded pixel) and
 * `A dY A^T` of its outputs x outputs block of `dy` (`dy`: the block's
 * top-left pixel; `dy` is padded to whole blocks). Moving to the next tile
 * adds `step` pixels to `src` and `outputs` to `dy`, plus the row and image
 * jumps as the tile position wraps. `scratch` holds P^2 slabs of
 * {@link slabBytes}(block, C) and P^2 of slabBytes(block, K).
 */
export function winogradFilterGradSimd(shape: WinogradGradShape): SimdFunction {
  const { scheme, C, K, block: B } = shape;
  if (!Number.isInteger(C) || C < GRAD_ROWS || C % GRAD_ROWS !== 0) throw new Error(`winogradFilterGradSimd: C must be a positive multiple of ${GRAD_ROWS}, got ${C}`);
  if (!Number.isInteger(K) || K < 4 || K % 4 !== 0) throw new Error(`winogradFilterGradSimd: K must be a positive multiple of 4, got ${K}`);
  if (!Number.isInteger(B) || B < 1) throw new Error(`winogradFilterGradSimd: block must be a positive integer, got ${B}`);
  const { positions: Pn, outputs: m } = scheme;
  const XI = Pn * Pn;
  const cBytes = 4 * C, kBytes = 4 * K;
  const vSlab = slabBytes(B, C), dSlab = slabBytes(B, K);
  const v = (i: number) => L.V + i;

  // Input transform of one tile's patch, and A dY A^T of its block of dy, 4 channels at a time.
  const dyRows = transposeTerms(scheme.output, Pn);
  const inputVector = patchTransform(
    { src: P.SRC, rowBytes: P.ROWB_IN, channel: L.CB, slabRow: L.VPTR, row: L.ROW, address: L.A, vectors: L.V }, cBytes, vSlab, scheme.input, scheme.patch);
  const dyVector = patchTransform(
    { src: P.DY, rowBytes: P.ROWB_DY, channel: L.CB, slabRow: L.DPTR, row: L.ROW, address: L.A, vectors: L.V }, kBytes, dSlab, dyRows, m);

  // Products: acc_ξ[ci..ci+3][co..] += sum over the block's tiles of V_ξ[t][ci..ci+3] D_ξ[t][co..].
  const acc = (r: number, c: number) => v(r * GEMM_VECTORS + c);
  const dv = (c: number) => v(GRAD_ROWS * GEMM_VECTORS + c);
  const sv = v(GRAD_ROWS * GEMM_VECTORS + GEMM_VECTORS);
  const rows = span(GRAD_ROWS);
  const registerBlock = (w: number): number[][] => {
    const cols = span(w);
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
      ...advanceTile({ tx: P.TX, ty: P.TY, tilesWide: P.TW, tilesHigh: P.TH }, [[P.SRC, scheme.step * cBytes, P.SRJ, P.SIJ], [P.DY, m * kBytes, P.DRJ, P.DIJ]]),
    ], [
      op.i32Const(0), set(L.CB),
      ...loopUntil(L.CB, [op.i32Const(cBytes)], addTo(L.CB, 16), inputVector),
      op.i32Const(0), set(L.CB),
      ...loopUntil(L.CB, [op.i32Const(kBytes)], addTo(L.CB, 16), dyVector),
    ]),
    ...products,
  ];
  const vectors = Math.max(patchVectors(scheme.input, scheme.patch), patchVectors(dyRows, m), GEMM_LOCALS);
  return {
    name: "winogradFilterGrad",
    params: Array.from({ length: L.DONE }, () => I32),
    results: [],
    locals: [...Array.from({ length: I32_LOCALS }, () => I32), ...Array.from({ length: vectors }, () => V128)],
    body: [
      op.i32Const(0), set(L.DONE),
      ...loopUntil(L.DONE, [get(P.TILES)], [get(L.DONE), get(L.NB), op.i32Add, set(L.DONE)], blockBody),
    ],
  };
}

/**
 * `winogradGradOutput(acc0, acc1, dw)`: the output transform `G^T M G` of
 * the sum of two accumulators `M = acc0 + acc1` (`[P^2, C, K]` each, P =
 * `scheme.positions`) into the filter gradient `dw` `[3, 3, C, K]`, four
 * channel pairs at a time.
 */
export function winogradGradOutputSimd(scheme: WinogradScheme, C: number, K: number): SimdFunction {
  if (!Number.isInteger(C * K) || C < 1 || K < 4 || (C * K) % 4 !== 0) {
    throw new Error(`winogradGradOutputSimd: C * K must be a positive multiple of 4, got ${C} * ${K}`);
  }
  const Pn = scheme.positions;
  const XI = Pn * Pn;
  const slab = 4 * C * K;
  const [ACC0, ACC1, DST, AT] = [0, 1, 2, 3];
  const m = (xi: number) => 4 + xi;
  const transform = separableCode(transposeTerms(scheme.filter, 3), Pn, (i, j) => m(Pn * i + j), (a, j) => 4 + XI + Pn * a + j);
  const vector: number[][] = [
    ...span(XI).flatMap((xi) => [
      get(ACC0), get(AT), op.i32Add, op.v128Load(xi * slab), get(ACC1), get(AT), op.i32Add, op.v128Load(xi * slab), op.f32x4Add, set(m(xi)),
    ]),
    ...transform.first,
    ...span(3).flatMap((a) => span(3).flatMap((b) => [get(DST), get(AT), op.i32Add, ...transform.value(a, b), op.v128Store((3 * a + b) * slab)])),
  ];
  return {
    name: "winogradGradOutput",
    params: [I32, I32, I32],
    results: [],
    locals: [I32, ...Array.from({ length: XI + 3 * Pn }, () => V128)],
    body: [op.i32Const(0), set(AT), ...loopUntil(AT, [op.i32Const(slab)], addTo(AT, 16), vector)],
  };
}

/**
 * The filter gradient `[3, 3, Ci, Co]` of the convolution of geometry `g`
 * (one conv2d_winograd.ts computes: `winogradPlan`) for `x` `[N, H, W, Ci]`
 * and `dy` `[N, Ho, Wo, Co]` on wasm; null where Winograd does not apply or
 * the SIMD loop cannot run here (the caller falls back).
 *
 * @example
 * const dw = winogradFilterGrad(host, x, dy, g) ?? tiledFilterGrad(host, x, dy, g);
 */
export function winogradFilterGrad(host: KernelHost, x: tf.TensorInfo, dy: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo | null {
  const plan = winogradPlan(g);
  if (host.backendName !== "wasm" || plan === null) return null;
  const memory = wasmBackendMemory(host.backend);
  const { scheme } = plan;
  const XI = scheme.positions * scheme.positions;
  const { batch: N, inHeight: H, inWidth: W, inChannels: C, filterOutChannels: K, outHeight: Ho, outWidth: Wo } = g;
  const shape = { scheme, C, K, block: winogradBlock(C, K, XI) };
  const kernels = simdKernels(host.backend, `winogradFilterGrad:${scheme.name}:${C}:${K}:${shape.block}`,
    () => [winogradFilterGradSimd(shape), winogradGradOutputSimd(scheme, C, K)]);
  if (memory === null || kernels === null) return null;
  const layout = tileLayout(plan, H, W);
  const { tilesHigh: TH, tilesWide: TW, paddedHeight: Hp, paddedWidth: Wp, fullHeight: Hd, fullWidth: Wd } = layout;
  const tiles = N * TH * TW;
  const threads = backendThreads(host.backend);
  // One accumulator per thread; on one thread the second stays zero.
  const parts = 2;
  const owned: tf.TensorInfo[] = [];
  const keep = (t: tf.TensorInfo): tf.TensorInfo => (owned.push(t), t);
  try {
    const xp = keep(paddedInput(host, x, plan, layout));
    // dy with zero rows and columns after it up to whole blocks: the tiles' blocks then lie inside it.
    let dyFull = dy;
    if (Hd !== Ho || Wd !== Wo) {
      dyFull = keep(host.zeros([N, Hd, Wd, K]));
      copyPixels(host,
        { view: host.f32(dy), at: 0, pixel: K, row: Wo * K, image: Ho * Wo * K },
        { view: host.f32(dyFull), at: 0, pixel: K, row: Wd * K, image: Hd * Wd * K },
        { images: N, rows: Ho, cols: Wo, channels: K });
    }
    const acc = keep(host.zeros([parts, XI * C * K]));
    const scratchFloats = (XI * (slabBytes(shape.block, C) + slabBytes(shape.block, K))) / 4;
    const scratch = keep(host.alloc([parts, scratchFloats]));
    const src = tileWalk(layout, host.f32(xp).byteOffset, Hp, Wp * C * 4, C * 4, scheme.step);
    const dyWalk = tileWalk(layout, host.f32(dyFull).byteOffset, Hd, Wd * K * 4, K * 4, scheme.outputs);
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
