/**
 * 3x3 stride-1 convolutions by Winograd's minimal filtering, F(2x2, 3x3)
 * (Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural Networks"):
 * each 2x2 block of output pixels comes from a 4x4 patch of input,
 *
 *   Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A,
 *
 * so the 36 multiply-adds per block and channel pair of the direct
 * convolution become 16. Summed over input channels, the elementwise
 * product is 16 independent matrix products, one per position ξ of the 4x4
 * transformed patch: `M_ξ [tiles, Co] = V_ξ [tiles, Ci] · U_ξ [Ci, Co]`.
 *
 * Here one generated wasm SIMD loop ({@link winogradSimd}) takes a block of
 * 16-64 tiles at a time: the input transform of each tile's patch into a
 * scratch that stays in the L2 cache, the 16 products in 4 x 2 register
 * blocks, and the output transform; the helper thread takes half the tiles.
 * Handing the products to XNNPACK as 1x1 convolutions instead gained nothing
 * at 2 threads: each call packed 16 new weight matrices, and the transforms'
 * 4x larger data went through memory. The small ResNet's stride-1 layers
 * ([128,14,14,32] -> 32, [128,7,7,64] -> 64, [128,4,4,128] -> 128) run
 * their forward pass this way and, reading the filter flipped, their input
 * gradient (`Conv2DBackpropInput`'s stride-1 route, itself a 3x3 'same'
 * convolution of `dy`).
 *
 * Matrices (Lavin & Gray's):
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *   A^T = [1 1 1 0; 0 1 -1 -1]
 *
 * Rounding: in float32 the result differs from the direct convolution's by
 * about 1e-6 of its largest value (tested against float64 references).
 */
import { tf } from "../tf";
import { backendThreads, runSplit } from "../simd_threads";
import { addLocalTo, addTo, I32, loopUntil, op, SimdFunction, simdKernels, V128, wasmBackendMemory } from "../wasm_simd";
import { ConvAttrs, ConvGeometry, convGeometry } from "./conv_geometry";
import { KernelBackendName, KernelHost } from "./host";
import { copyPixels } from "./pixel_copy";

/** Positions of the transformed 4x4 patch: the number of matrix products. */
export const XI = 16;

/**
 * Whether {@link conv2dWinograd} computes the convolution of geometry `g`:
 * NHWC, 3x3, stride 1, dilation 1, padding 1 on every side (a 'same'
 * output), channels in and out multiples of 4 (the transforms' vectors),
 * and at least 8 input channels (first layers on images, with 1 or 3
 * channels, stay direct).
 *
 * @example
 * winogradApplies(convGeometry("demo", [128, 14, 14, 32], [3, 3, 32, 32], { strides: 1, pad: "same" }, false)) // true
 */
export function winogradApplies(g: ConvGeometry): boolean {
  return (
    !g.channelsFirst &&
    g.filterHeight === 3 && g.filterWidth === 3 &&
    g.strideHeight === 1 && g.strideWidth === 1 &&
    g.dilationHeight === 1 && g.dilationWidth === 1 &&
    g.padTop === 1 && g.padLeft === 1 &&
    g.outHeight === g.inHeight && g.outWidth === g.inWidth &&
    g.inChannels % 4 === 0 && g.inChannels >= 8 && g.filterOutChannels % 4 === 0 &&
    g.batch > 0 && g.inHeight > 0 && g.inWidth > 0
  );
}

/** One row `a b c` of `G g` times `G^T`: four values, `step` apart from `at`. */
function put(u: Float32Array, at: number, step: number, a: number, b: number, c: number): void {
  u[at] = a;
  u[at + step] = (a + b + c) / 2;
  u[at + 2 * step] = (a - b + c) / 2;
  u[at + 3 * step] = c;
}

/**
 * How {@link winogradFilter} reads the filter: as it is (`[3, 3, C, K]`, a
 * convolution), or flipped in space with its channels swapped (`[3, 3, K,
 * C]`, read as `g[kh][kw][c][k] = filter[2-kh][2-kw][k][c]`: the convolution
 * of `dy` that gives an input gradient).
 */
export type FilterReading = "as-is" | "flipped";

/**
 * The filter transform `U_ξ = G g G^T` for every channel pair: `filter`
 * (flattened; see {@link FilterReading}) to `[16, C, K]`, position
 * `ξ = 4 * row + col` of the 4x4 result first, in float64 then rounded.
 *
 * @example
 * winogradFilter(new Float32Array(9).fill(1), 1, 1) // U for an all-ones 3x3 filter: [1, 1.5, 0.5, 1, 1.5, 2.25, ...]
 */
export function winogradFilter(filter: Float32Array, C: number, K: number, reading: FilterReading = "as-is"): Float32Array {
  if (filter.length !== 9 * C * K) {
    throw new Error(`winogradFilter: filter must hold 3*3*${C}*${K} = ${9 * C * K} floats, got ${filter.length}`);
  }
  const u = new Float32Array(XI * C * K);
  const pairs = C * K;
  const flipped = reading === "flipped";
  // Tap t = 3 kh + kw of pair p = c * K + k sits at t * pairs + p, or, flipped, at (8 - t) * pairs + k * C + c.
  for (let c = 0, p = 0; c < C; c++) {
    for (let k = 0; k < K; k++, p++) {
      const first = flipped ? 8 * pairs + k * C + c : p;
      const step = flipped ? -pairs : pairs;
      const g0 = filter[first], g1 = filter[first + step], g2 = filter[first + 2 * step];
      const g3 = filter[first + 3 * step], g4 = filter[first + 4 * step], g5 = filter[first + 5 * step];
      const g6 = filter[first + 6 * step], g7 = filter[first + 7 * step], g8 = filter[first + 8 * step];
      // Rows of G g: row 0, half the sum and half the alternating sum of the three rows, row 2.
      const s0 = (g0 + g3 + g6) / 2, s1 = (g1 + g4 + g7) / 2, s2 = (g2 + g5 + g8) / 2;
      const d0 = (g0 - g3 + g6) / 2, d1 = (g1 - g4 + g7) / 2, d2 = (g2 - g5 + g8) / 2;
      put(u, p, pairs, g0, g1, g2);
      put(u, 4 * pairs + p, pairs, s0, s1, s2);
      put(u, 8 * pairs + p, pairs, d0, d1, d2);
      put(u, 12 * pairs + p, pairs, g6, g7, g8);
    }
  }
  return u;
}

const { localGet: get, localSet: set } = op;

/**
 * Row `m` of `B^T` applied to four values held in locals `e(0..3)`:
 * `e0 - e2`, `e1 + e2`, `e2 - e1`, then `e1 - e3` for F(2, 3) (the
 * convolution) or `e3 - e1` for F(3, 2) (the filter gradient).
 */
function inputCombine(m: number, e: (k: number) => number, lastRow: "e1 - e3" | "e3 - e1"): number[][] {
  const [a, b, sub] = [[0, 2, true], [1, 2, false], [2, 1, true], lastRow === "e1 - e3" ? [1, 3, true] : [3, 1, true]][m] as [number, number, boolean];
  return [get(e(a)), get(e(b)), sub ? op.f32x4Sub : op.f32x4Add];
}

/** The locals {@link patchTransform}'s code uses. */
export interface PatchLocals {
  /** The tile's top-left padded pixel (byte address). */
  src: number;
  /** Bytes between padded rows. */
  rowBytes: number;
  /** Byte offset of the four channels within a pixel. */
  channel: number;
  /** The tile's row in the first slab of the scratch (byte address). */
  slabRow: number;
  /** Two i32 temporaries. */
  row: number;
  address: number;
  /** The first of 32 v128 locals. */
  vectors: number;
}

/**
 * Code for the input transform `B^T d B` of four channels of one tile's 4x4
 * patch: 16 loads, `B^T` over the rows, then over the columns, and position
 * ξ's vector stored at `slabRow + channel + ξ * slabStride`.
 *
 * @param pixelBytes Bytes between pixels of the padded input (4 x channels).
 * @param lastRow The last row of `B^T`: F(2, 3)'s or F(3, 2)'s (see inputCombine).
 */
export function patchTransform(at: PatchLocals, pixelBytes: number, slabStride: number, lastRow: "e1 - e3" | "e3 - e1"): number[][] {
  const d = (i: number, j: number) => at.vectors + 4 * i + j;
  const t = (i: number, j: number) => at.vectors + 16 + 4 * i + j;
  return [
    get(at.src), get(at.channel), op.i32Add, set(at.row),
    ...[0, 1, 2, 3].flatMap((i) => [
      ...(i === 0 ? [] : addLocalTo(at.row, at.rowBytes)),
      ...[0, 1, 2, 3].flatMap((j) => [get(at.row), op.v128Load(j * pixelBytes), set(d(i, j))]),
    ]),
    ...[0, 1, 2, 3].flatMap((i) => [0, 1, 2, 3].flatMap((j) => [...inputCombine(i, (k) => d(k, j), lastRow), set(t(i, j))])),
    get(at.slabRow), get(at.channel), op.i32Add, set(at.address),
    ...[0, 1, 2, 3].flatMap((i) => [0, 1, 2, 3].flatMap((j) => [
      get(at.address), ...inputCombine(j, (k) => t(i, k), lastRow), op.v128Store((4 * i + j) * slabStride),
    ])),
  ];
}

/** Row `m` of `A^T` applied to `e(0..3)`: `e0 + e1 + e2` or `e1 - e2 - e3`. */
function outputCombine(m: number, e: (k: number) => number): number[][] {
  return m === 0
    ? [get(e(0)), get(e(1)), op.f32x4Add, get(e(2)), op.f32x4Add]
    : [get(e(1)), get(e(2)), op.f32x4Sub, get(e(3)), op.f32x4Sub];
}

/**
 * Code for the register blocks across all `K` output channels: full blocks
 * of {@link GEMM_VECTORS} vectors in a loop over `co` (a byte offset), then
 * one narrower block for the vectors left over.
 */
export function acrossOutputChannels(co: number, K: number, registerBlock: (vectors: number) => number[][]): number[][] {
  const full = Math.floor(K / 4 / GEMM_VECTORS);
  const rest = (K / 4) % GEMM_VECTORS;
  const fullBytes = full * GEMM_VECTORS * 16;
  return [
    op.i32Const(0), set(co),
    ...loopUntil(co, [op.i32Const(fullBytes)], addTo(co, GEMM_VECTORS * 16), registerBlock(GEMM_VECTORS)),
    ...(rest > 0 ? [op.i32Const(fullBytes), set(co), ...registerBlock(rest)] : []),
  ];
}

/** Code for `count = min(block, tiles - done)` (i32 locals; `count` may be used as a temporary first). */
export function blockCount(count: number, tiles: number, done: number, block: number): number[][] {
  return [
    get(tiles), get(done), op.i32Sub, set(count),
    get(count), op.i32Const(block), get(count), op.i32Const(block), op.i32LtU, op.select, set(count),
  ];
}

/** The fused loop's compile-time shape: channels in and out, tiles per block. */
export interface WinogradShape {
  /** Input channels, a multiple of 4. */
  C: number;
  /** Output channels, a multiple of 4. */
  K: number;
  /** Tiles transformed, multiplied and transformed back per block; a multiple of {@link GEMM_ROWS}. */
  block: number;
}

/** Tiles (rows of each product) and vectors of output channels in one register block of the products. */
export const GEMM_ROWS = 4;
export const GEMM_VECTORS = 2;

/**
 * Bytes between the scratch slabs of consecutive positions ξ beyond the
 * slab itself: one cache line. Slabs of a power-of-two size (8 KB for every
 * block {@link winogradBlock} picks) would map all 16 positions' rows to the
 * same L1 set, and the transforms' 16 stores per tile would evict each
 * other; F(3x3, 2x2)'s input and `dy` transforms for [128,14,14,32] took
 * 8.5 ms that way at 1 thread.
 */
export const SLAB_PAD_BYTES = 64;

/**
 * Bytes of one scratch slab of `rows` rows of `channels` floats, padded.
 *
 * @example
 * slabBytes(64, 32) // 8256
 */
export function slabBytes(rows: number, channels: number): number {
  return rows * channels * 4 + SLAB_PAD_BYTES;
}

/**
 * Tiles per block for `C` input and `K` output channels: the block's
 * transformed inputs and products (16 x block x (C + K) floats) stay near
 * 256 KB, inside a core's L2 cache, and the block is a multiple of
 * {@link GEMM_ROWS}, at most 64.
 *
 * @example
 * winogradBlock(32, 32) // 64
 */
export function winogradBlock(C: number, K: number): number {
  const tiles = Math.floor((256 * 1024) / (XI * 4 * (C + K)));
  return Math.max(GEMM_ROWS, Math.min(64, tiles - (tiles % GEMM_ROWS)));
}

/** The i32 locals (or parameters) that hold a tile loop's position. */
export interface TileCounters {
  tx: number;
  ty: number;
  tilesWide: number;
  tilesHigh: number;
}

/**
 * Code that moves a tile loop to its next tile: each `[pointer, step,
 * rowJump, imageJump]` (a local, a constant and two locals) advances by
 * `step` bytes, plus `rowJump` after the last tile of a row and `imageJump`
 * after the last row of an image, as `tx` and `ty` wrap.
 *
 * @example
 * advanceTile({ tx: TX, ty: TY, tilesWide: TW, tilesHigh: TH }, [[SRC, 8 * C, SRC_ROW_JUMP, SRC_IMAGE_JUMP]])
 */
export function advanceTile(at: TileCounters, pointers: Array<[number, number, number, number]>): number[][] {
  return [
    ...pointers.flatMap(([pointer, step]) => addTo(pointer, step)), ...addTo(at.tx, 1),
    get(at.tx), get(at.tilesWide), op.i32Eq, op.if,
    op.i32Const(0), set(at.tx), ...addTo(at.ty, 1), ...pointers.flatMap(([pointer, , rowJump]) => addLocalTo(pointer, rowJump)),
    get(at.ty), get(at.tilesHigh), op.i32Eq, op.if,
    op.i32Const(0), set(at.ty), ...pointers.flatMap(([pointer, , , imageJump]) => addLocalTo(pointer, imageJump)),
    op.end,
    op.end,
  ];
}

/** A batch laid out in F(2x2, 3x3) tiles: its tiles per column and row, and the padded sizes. */
export interface TileLayout {
  tilesHigh: number;
  tilesWide: number;
  /** Padded input height and width: a zero border of 1 (2 after an odd size). */
  paddedHeight: number;
  paddedWidth: number;
}

/** The tiles of a 'same' 3x3 convolution of `H` x `W` images. */
export function tileLayout(H: number, W: number): TileLayout {
  const tilesHigh = Math.ceil(H / 2), tilesWide = Math.ceil(W / 2);
  return { tilesHigh, tilesWide, paddedHeight: 2 * tilesHigh + 2, paddedWidth: 2 * tilesWide + 2 };
}

/** Tile `t`'s column and row within its image (tiles counted row-major over images, rows, columns). */
export function tilePosition(layout: TileLayout, t: number): { tx: number; ty: number } {
  return { tx: t % layout.tilesWide, ty: Math.floor(t / layout.tilesWide) % layout.tilesHigh };
}

/** How a tile loop walks one NHWC buffer: where a tile starts, and {@link advanceTile}'s jumps. */
export interface TileWalk {
  /** Byte address of tile `t`'s top-left pixel. */
  at(t: number): number;
  /** Bytes between the buffer's rows. */
  rowBytes: number;
  /** Bytes added after the last tile of a row of tiles, beyond its step of two pixels. */
  rowJump: number;
  /** Bytes added after the last row of tiles of an image, beyond its row jump. */
  imageJump: number;
}

/**
 * The walk over a buffer at byte `base` whose images are `imageRows` rows
 * of `rowBytes`, pixels `pixelBytes` apart, its tiles 2 pixels apart.
 *
 * @example
 * const src = tileWalk(layout, host.f32(xp).byteOffset, layout.paddedHeight, layout.paddedWidth * C * 4, C * 4);
 */
export function tileWalk(layout: TileLayout, base: number, imageRows: number, rowBytes: number, pixelBytes: number): TileWalk {
  const { tilesHigh: TH, tilesWide: TW } = layout;
  return {
    at: (t) => {
      const { tx, ty } = tilePosition(layout, t);
      return base + Math.floor(t / (TH * TW)) * imageRows * rowBytes + 2 * ty * rowBytes + 2 * tx * pixelBytes;
    },
    rowBytes,
    rowJump: 2 * rowBytes - TW * 2 * pixelBytes,
    imageJump: imageRows * rowBytes - TH * 2 * rowBytes,
  };
}

/**
 * `x` `[N, H, W, C]` with its zero border as new data `[N, paddedHeight,
 * paddedWidth, C]`: every tile's 4x4 patch lies inside it.
 */
export function paddedInput(host: KernelHost, x: tf.TensorInfo, layout: TileLayout): tf.TensorInfo {
  const [N, H, W, C] = x.shape;
  const { paddedHeight: Hp, paddedWidth: Wp } = layout;
  const xp = host.zeros([N, Hp, Wp, C]);
  copyPixels(host,
    { view: host.f32(x), at: 0, pixel: C, row: W * C, image: H * W * C },
    { view: host.f32(xp), at: (Wp + 1) * C, pixel: C, row: Wp * C, image: Hp * Wp * C },
    { images: N, rows: H, cols: W, channels: C });
  return xp;
}

// Parameters, then i32 locals, then v128 locals.
const P = { SRC: 0, DST: 1, TILES: 2, TX: 3, TY: 4, TW: 5, TH: 6, SRJ: 7, SIJ: 8, DRJ: 9, DIJ: 10, ROWB_IN: 11, ROWB_OUT: 12, U: 13, SCR: 14 } as const;
const L = {
  DONE: 15, NB: 16, TX0: 17, TY0: 18, DST0: 19, TILE: 20, PTR: 21, CB: 22, ROW: 23, XI: 24,
  VB: 25, MB: 26, UB: 27, T: 28, CO: 29, CI: 30, VP: 31, UP: 32, MP: 33, NBR: 34, A: 35, V: 36,
} as const;
const I32_LOCALS = L.V - L.DONE;
const V128_LOCALS = 32;

/**
 * `winograd(src, dst, tiles, tx, ty, tilesWide, tilesHigh, srcRowJump,
 * srcImageJump, dstRowJump, dstImageJump, srcRowBytes, dstRowBytes, u,
 * scratch)`: `tiles` tiles of F(2x2, 3x3), starting at tile column `tx` and
 * row `ty`, in blocks of `shape.block`. Per block: the input transform of
 * each tile's 4x4 patch of the zero-padded NHWC input (`src`: byte address
 * of the first tile's top-left padded pixel) into `scratch`, the 16 products
 * with the transformed filter `u` (`[16, C, K]`), and the output transform
 * into the tile's 2x2 pixels of the NHWC output (`dst`: the first tile's
 * top-left pixel). Moving to the next tile adds 8C bytes to `src` and 8K to
 * `dst`, plus the row jump after the last tile of a row and the image jump
 * after the last row of an image. `scratch` holds 16 slabs of
 * {@link slabBytes}(block, C) and 16 of slabBytes(block, K).
 */
export function winogradSimd(shape: WinogradShape): SimdFunction {
  const { C, K, block: B } = shape;
  for (const [name, v] of [["C", C], ["K", K]] as const) {
    if (!Number.isInteger(v) || v < 4 || v % 4 !== 0) throw new Error(`winogradSimd: ${name} must be a positive multiple of 4, got ${v}`);
  }
  if (!Number.isInteger(B) || B < GEMM_ROWS || B % GEMM_ROWS !== 0) {
    throw new Error(`winogradSimd: block must be a positive multiple of ${GEMM_ROWS}, got ${B}`);
  }
  const cBytes = 4 * C, kBytes = 4 * K;
  const vSlab = slabBytes(B, C), mSlab = slabBytes(B, K);
  const v = (i: number) => L.V + i;
  const zero = [op.f32Const(0), op.f32x4Splat];

  const advance = (pointer: number, step: number, rowJump: number, imageJump: number) =>
    advanceTile({ tx: P.TX, ty: P.TY, tilesWide: P.TW, tilesHigh: P.TH }, [[pointer, step, rowJump, imageJump]]);

  // Input transform of one tile, 4 channels at a time.
  const inputVector = patchTransform(
    { src: P.SRC, rowBytes: P.ROWB_IN, channel: L.CB, slabRow: L.PTR, row: L.ROW, address: L.A, vectors: L.V }, cBytes, vSlab, "e1 - e3");

  // Output transform of one tile: 16 loads, A^T over rows, then columns, 4 stores.
  const Mv = (xi: number) => v(xi);
  const Ov = (a: number, j: number) => v(16 + 4 * a + j);
  const outputVector: number[][] = [
    get(L.PTR), get(L.CB), op.i32Add, set(L.A),
    ...Array.from({ length: XI }, (_, xi) => [get(L.A), op.v128Load(xi * mSlab), set(Mv(xi))]).flat(),
    ...[0, 1].flatMap((a) => [0, 1, 2, 3].flatMap((j) => [...outputCombine(a, (k) => Mv(4 * k + j)), set(Ov(a, j))])),
    get(P.DST), get(L.CB), op.i32Add, set(L.A),
    ...[0, 1].flatMap((a) => [
      ...(a === 1 ? addLocalTo(L.A, P.ROWB_OUT) : []),
      ...[0, 1].flatMap((b) => [get(L.A), ...outputCombine(b, (k) => Ov(a, k)), op.v128Store(b * kBytes)]),
    ]),
  ];

  // Products: a register block of GEMM_ROWS tiles x `w` vectors of output channels.
  const acc = (r: number, c: number) => v(r * GEMM_VECTORS + c);
  const uv = (c: number) => v(GEMM_ROWS * GEMM_VECTORS + c);
  const sv = v(GEMM_ROWS * GEMM_VECTORS + GEMM_VECTORS);
  const rows = Array.from({ length: GEMM_ROWS }, (_, r) => r);
  const registerBlock = (w: number): number[][] => {
    const cols = Array.from({ length: w }, (_, c) => c);
    return [
      ...rows.flatMap((r) => cols.flatMap((c) => [...zero, set(acc(r, c))])),
      get(L.VB), get(L.T), op.i32Const(cBytes), op.i32Mul, op.i32Add, set(L.VP),
      get(L.UB), get(L.CO), op.i32Add, set(L.UP),
      op.i32Const(0), set(L.CI),
      ...loopUntil(L.CI, [op.i32Const(C)], [...addTo(L.CI, 1), ...addTo(L.VP, 4), ...addTo(L.UP, kBytes)], [
        ...cols.flatMap((c) => [get(L.UP), op.v128Load(16 * c), set(uv(c))]),
        ...rows.flatMap((r) => [
          get(L.VP), op.v128Load32Splat(r * cBytes), set(sv),
          ...cols.flatMap((c) => [get(acc(r, c)), get(sv), get(uv(c)), op.f32x4Mul, op.f32x4Add, set(acc(r, c))]),
        ]),
      ]),
      get(L.MB), get(L.T), op.i32Const(kBytes), op.i32Mul, op.i32Add, get(L.CO), op.i32Add, set(L.MP),
      ...rows.flatMap((r) => cols.flatMap((c) => [get(L.MP), get(acc(r, c)), op.v128Store(r * kBytes + 16 * c)])),
    ];
  };
  const products: number[][] = [
    get(P.SCR), set(L.VB), get(P.SCR), op.i32Const(XI * vSlab), op.i32Add, set(L.MB), get(P.U), set(L.UB),
    op.i32Const(0), set(L.XI),
    ...loopUntil(L.XI, [op.i32Const(XI)], [...addTo(L.XI, 1), ...addTo(L.VB, vSlab), ...addTo(L.MB, mSlab), ...addTo(L.UB, C * kBytes)], [
      op.i32Const(0), set(L.T),
      ...loopUntil(L.T, [get(L.NBR)], addTo(L.T, GEMM_ROWS), acrossOutputChannels(L.CO, K, registerBlock)),
    ]),
  ];

  const blockBody: number[][] = [
    // nb = min(block, tiles - done); the products run on nb rounded up to GEMM_ROWS (extra rows are scratch).
    ...blockCount(L.NB, P.TILES, L.DONE, B),
    get(L.NB), op.i32Const(GEMM_ROWS - 1), op.i32Add, op.i32Const(GEMM_ROWS), op.i32DivU, op.i32Const(GEMM_ROWS), op.i32Mul, set(L.NBR),
    get(P.TX), set(L.TX0), get(P.TY), set(L.TY0), get(P.DST), set(L.DST0),
    get(P.SCR), set(L.PTR),
    op.i32Const(0), set(L.TILE),
    ...loopUntil(L.TILE, [get(L.NB)], [...addTo(L.TILE, 1), ...addTo(L.PTR, cBytes), ...advance(P.SRC, 2 * cBytes, P.SRJ, P.SIJ)], [
      op.i32Const(0), set(L.CB),
      ...loopUntil(L.CB, [op.i32Const(cBytes)], addTo(L.CB, 16), inputVector),
    ]),
    ...products,
    get(L.TX0), set(P.TX), get(L.TY0), set(P.TY), get(L.DST0), set(P.DST),
    get(P.SCR), op.i32Const(XI * vSlab), op.i32Add, set(L.PTR),
    op.i32Const(0), set(L.TILE),
    ...loopUntil(L.TILE, [get(L.NB)], [...addTo(L.TILE, 1), ...addTo(L.PTR, kBytes), ...advance(P.DST, 2 * kBytes, P.DRJ, P.DIJ)], [
      op.i32Const(0), set(L.CB),
      ...loopUntil(L.CB, [op.i32Const(kBytes)], addTo(L.CB, 16), outputVector),
    ]),
  ];
  return {
    name: "winograd",
    params: Array.from({ length: L.DONE }, () => I32),
    results: [],
    locals: [...Array.from({ length: I32_LOCALS }, () => I32), ...Array.from({ length: V128_LOCALS }, () => V128)],
    body: [
      op.i32Const(0), set(L.DONE),
      ...loopUntil(L.DONE, [get(P.TILES)], [get(L.DONE), get(L.NB), op.i32Add, set(L.DONE)], blockBody),
    ],
  };
}

/**
 * The convolution of `x` `[N, H, W, Ci]` with `filter` `[3, 3, Ci, Co]`
 * (stride 1, padding 1: {@link winogradApplies}) on wasm, `[N, H, W, Co]`;
 * null when the SIMD loop cannot run here (the caller falls back). With
 * `reading` "flipped", `filter` is `[3, 3, Co, Ci]`, read flipped and
 * transposed: the input gradient of the convolution by that filter, for
 * `x` = `dy`, without building the flipped filter.
 *
 * @example
 * const y = conv2dWinograd(host, x, filter, g) ?? stockConv2D(...);
 * const dx = conv2dWinograd(host, dy, forwardFilter, gradientGeometry, "flipped");
 */
export function conv2dWinograd(
  host: KernelHost,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  g: ConvGeometry,
  reading: FilterReading = "as-is",
): tf.TensorInfo | null {
  if (host.backendName !== "wasm" || !winogradApplies(g)) return null;
  const memory = wasmBackendMemory(host.backend);
  const { batch: N, inHeight: H, inWidth: W, inChannels: C, filterOutChannels: K } = g;
  const shape = { C, K, block: winogradBlock(C, K) };
  const kernels = simdKernels(host.backend, `winograd:${C}:${K}:${shape.block}`, () => [winogradSimd(shape)]);
  if (memory === null || kernels === null) return null;
  const layout = tileLayout(H, W);
  const { tilesHigh: TH, tilesWide: TW, paddedHeight: Hp, paddedWidth: Wp } = layout;
  const tiles = N * TH * TW;
  // The output rounded up to even sizes.
  const [Ho, Wo] = [2 * TH, 2 * TW];
  const even = Ho === H && Wo === W;
  const owned: tf.TensorInfo[] = [];
  const keep = (t: tf.TensorInfo): tf.TensorInfo => (owned.push(t), t);
  const threads = backendThreads(host.backend);
  const scratchFloats = (XI * (slabBytes(shape.block, C) + slabBytes(shape.block, K))) / 4;
  try {
    const xp = keep(paddedInput(host, x, layout));
    const u = keep(host.alloc([XI, C, K]));
    host.f32(u).set(winogradFilter(host.f32(filter), C, K, reading));
    // Zeroed so the rows past a short last block never hold denormals.
    const scratch = keep(host.zeros([threads >= 2 ? 2 : 1, scratchFloats]));
    const y = host.alloc([N, H, W, K]);
    try {
      const full = even ? y : keep(host.alloc([N, Ho, Wo, K]));
      const src = tileWalk(layout, host.f32(xp).byteOffset, Hp, Wp * C * 4, C * 4);
      const dst = tileWalk(layout, host.f32(full).byteOffset, Ho, Wo * K * 4, K * 4);
      const args = (first: number, count: number, part: number) => {
        const { tx, ty } = tilePosition(layout, first);
        return [
          src.at(first), dst.at(first), count, tx, ty, TW, TH, src.rowJump, src.imageJump, dst.rowJump, dst.imageJump,
          src.rowBytes, dst.rowBytes, host.f32(u).byteOffset, host.f32(scratch).byteOffset + part * scratchFloats * 4,
        ];
      };
      const half = threads >= 2 ? tiles >> 1 : 0;
      runSplit(memory, kernels, "winograd", threads, args(half, tiles - half, 0), args(0, half, threads >= 2 ? 1 : 0));
      if (!even) {
        copyPixels(host,
          { view: host.f32(full), at: 0, pixel: K, row: Wo * K, image: Ho * Wo * K },
          { view: host.f32(y), at: 0, pixel: K, row: W * K, image: H * W * K },
          { images: N, rows: H, cols: W, channels: K });
      }
    } catch (err) {
      host.dispose(y);
      throw err;
    }
    return y;
  } finally {
    for (const t of owned) host.dispose(t);
  }
}

/** Attributes of `Conv2D` and `FusedConv2D` this kernel reads. */
interface ConvKernelAttrs extends ConvAttrs {
  activation?: string;
}

/**
 * A `Conv2D` or `FusedConv2D` kernel function for wasm that runs
 * {@link conv2dWinograd} where it applies (for `FusedConv2D`: no bias, no
 * PReLU weights, linear activation) and `stock` otherwise.
 *
 * @example
 * const stock = tf.getKernel("Conv2D", "wasm");
 * tf.unregisterKernel("Conv2D", "wasm");
 * tf.registerKernel({ ...stock, kernelFunc: conv2dWinogradKernel("wasm", stock) });
 */
export function conv2dWinogradKernel(backendName: KernelBackendName, stock: tf.KernelConfig | undefined): tf.KernelFunc {
  if (stock == null) throw new Error(`conv2dWinogradKernel: backend '${backendName}' has no stock convolution kernel to fall back on`);
  const where = `${stock.kernelName} (${backendName}, Winograd)`;
  return (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const attrs = (args.attrs ?? {}) as unknown as ConvKernelAttrs;
    const plain = bias == null && preluActivationWeights == null && (attrs.activation == null || attrs.activation === "linear");
    if (backendName !== "wasm" || !plain || x == null || filter == null || x.dtype !== "float32" || filter.dtype !== "float32") {
      return stock.kernelFunc(args);
    }
    if (x.shape.length !== 4 || filter.shape.length !== 4 || x.shape[3] !== filter.shape[2]) return stock.kernelFunc(args);
    const g = convGeometry(where, x.shape, filter.shape, attrs, false);
    return conv2dWinograd(new KernelHost(backendName, args.backend), x, filter, g) ?? stock.kernelFunc(args);
  };
}
