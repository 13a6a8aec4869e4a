/**
 * 3x3 convolutions by Winograd's minimal filtering (Lavin & Gray 2016,
 * "Fast Algorithms for Convolutional Neural Networks"): each tile of output
 * pixels comes from a patch of input,
 *
 *   Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A,
 *
 * with the one-dimensional scheme's matrices along both axes
 * (winograd_scheme.ts). Summed over input channels, the elementwise product
 * is one matrix product per position ξ of the transformed patch:
 * `M_ξ [tiles, Co] = V_ξ [tiles, Ci] · U_ξ [Ci, Co]`. Three schemes run here:
 *
 * - F(2x2, 3x3) for stride 1: 16 products per 2x2 block of output and
 *   channel pair where the direct convolution spends 36.
 * - Its stride-2 form: 25 products per 2x2 block, against 36.
 * - The input gradient of a stride-2 convolution: 25 products per 4x4
 *   block of the gradient, against 36.
 *
 * One generated wasm SIMD loop ({@link winogradSimd}) takes a block of
 * 16-64 tiles at a time: the input transform of each tile's patch into a
 * scratch that stays in the L2 cache, the products in 4 x 2 register
 * blocks, and the output transform. The calling thread and the helper
 * claim blocks from a shared counter as they go: split in fixed halves,
 * the calling thread took about 20% longer for its half than the helper
 * inside the small ResNet's step, and the step, alternated with the fixed
 * split, took 4.7 ms less on average (five runs of 40 steps, 2 threads).
 * Handing the products to XNNPACK as 1x1 convolutions instead gained nothing
 * at 2 threads: each call packed 16 new weight matrices, and the transforms'
 * 4x larger data went through memory. The small ResNet runs its 3x3
 * convolutions' forward passes and input gradients this way (the stride-1
 * input gradient is itself a 3x3 'same' convolution of `dy`, by the filter
 * read flipped); the filter gradients use the schemes transposed
 * (conv2d_filter_grad_winograd.ts). The stride-2 forward pass gains least:
 * its 25 products run at about 70% of XNNPACK's direct rate, which spends
 * 36. In the small ResNet's step, alternated step by step with XNNPACK for
 * it, the step took 109.4 against 113.0 ms and 111.4 against 116.0 at 2
 * threads, 148.9 against 155.1 at 1.
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
import {
  F2_3, F2_3_STRIDE2, filterTransformSimd, FilterReading, separableCode, span, STRIDE2_INPUT_GRAD, Terms, WinogradScheme,
} from "./winograd_scheme";

/**
 * How one convolution runs as Winograd tiles: the scheme; where the input's
 * first row and column sit in the zero-padded copy the tiles read; how
 * many rows and columns of the tiles' output come before the result's
 * first; and the result's height and width.
 */
export interface WinogradPlan {
  scheme: WinogradScheme;
  padTop: number;
  padLeft: number;
  cropTop: number;
  cropLeft: number;
  outHeight: number;
  outWidth: number;
}

/** 3x3, dilation 1, NHWC, padding of 0 or 1 on the top and left, and a nonempty batch. */
function plainThreeByThree(g: ConvGeometry): boolean {
  return (
    !g.channelsFirst &&
    g.filterHeight === 3 && g.filterWidth === 3 &&
    g.dilationHeight === 1 && g.dilationWidth === 1 &&
    (g.padTop === 0 || g.padTop === 1) && (g.padLeft === 0 || g.padLeft === 1) &&
    g.batch > 0 && g.inHeight > 0 && g.inWidth > 0 && g.outHeight > 0 && g.outWidth > 0
  );
}

/** Channels the loop takes: multiples of 4 (the vectors), at least 8 in (images with 1 or 3 channels stay direct). */
function winogradChannels(inChannels: number, outChannels: number): boolean {
  return inChannels % 4 === 0 && inChannels >= 8 && outChannels % 4 === 0;
}

/**
 * How {@link conv2dWinograd} computes the convolution of geometry `g`, or
 * null where it does not: NHWC 3x3 filters, dilation 1, stride 1 (F(2x2,
 * 3x3)) or 2 (its stride-2 form) on both axes, padding 0 or 1 on the top
 * and left, channels in and out multiples of 4 and at least 8 in.
 *
 * @example
 * winogradPlan(convGeometry("demo", [128, 28, 28, 16], [3, 3, 16, 32], { strides: 2, pad: "same" }, false))?.scheme.name // "F(2,3)s2"
 */
export function winogradPlan(g: ConvGeometry): WinogradPlan | null {
  if (!plainThreeByThree(g) || !winogradChannels(g.inChannels, g.filterOutChannels)) return null;
  const stride = g.strideHeight === g.strideWidth ? g.strideHeight : 0;
  const scheme = stride === 1 ? F2_3 : stride === 2 ? F2_3_STRIDE2 : null;
  if (scheme === null) return null;
  return { scheme, padTop: g.padTop, padLeft: g.padLeft, cropTop: 0, cropLeft: 0, outHeight: g.outHeight, outWidth: g.outWidth };
}

/** How an input gradient runs as Winograd tiles over `dy`: the plan and how it reads the forward filter. */
export interface InputGradRoute {
  plan: WinogradPlan;
  reading: FilterReading;
}

/**
 * How the input gradient of the convolution of geometry `g` runs as
 * Winograd tiles over `dy`, or null: as {@link winogradPlan}'s conditions,
 * with the gradient's channels (`dy`'s in, `x`'s out) in multiples of 4
 * and at least 8 in. At stride 1 it is a 3x3 convolution of `dy` by the
 * filter read flipped, `dy` placed `2 - pad` after its zero border; at
 * stride 2 it is {@link STRIDE2_INPUT_GRAD} over `dy` with a border of 1,
 * whose tiles give the gradient of the padded input, cropped by the
 * padding.
 *
 * @example
 * const route = winogradInputGradRoute(g);
 * const dx = route && conv2dWinograd(host, dy, filter, route.plan, route.reading);
 */
export function winogradInputGradRoute(g: ConvGeometry): InputGradRoute | null {
  if (!plainThreeByThree(g) || g.strideHeight !== g.strideWidth || !winogradChannels(g.filterOutChannels, g.inChannels)) return null;
  const out = { outHeight: g.inHeight, outWidth: g.inWidth };
  if (g.strideHeight === 1) {
    return { plan: { scheme: F2_3, padTop: 2 - g.padTop, padLeft: 2 - g.padLeft, cropTop: 0, cropLeft: 0, ...out }, reading: "flipped" };
  }
  if (g.strideHeight === 2) {
    return { plan: { scheme: STRIDE2_INPUT_GRAD, padTop: 1, padLeft: 1, cropTop: g.padTop, cropLeft: g.padLeft, ...out }, reading: "transposed" };
  }
  return null;
}

const { localGet: get, localSet: set } = op;

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
  /** The first of {@link patchVectors} v128 locals. */
  vectors: number;
}

/** The v128 locals {@link patchTransform} needs for `rows` over `n` x `n` values. */
export function patchVectors(rows: readonly Terms[], n: number): number {
  return n * n + rows.length * n;
}

/**
 * Code for the transform `T d T^T` of four channels of one tile's `n` x `n`
 * block (`T`: `rows`, each over `n` values): the block's loads, `T` over
 * its rows, then over its columns, and position ξ's vector stored at
 * `slabRow + channel + ξ * slabStride`. It transforms the input patches
 * (`B^T`, the scheme's `input`) and, in the filter gradient, the blocks of
 * `dy` (`A`).
 *
 * @param pixelBytes Bytes between pixels of the block's buffer (4 x channels).
 */
export function patchTransform(at: PatchLocals, pixelBytes: number, slabStride: number, rows: readonly Terms[], n: number): number[][] {
  const P = rows.length;
  const d = (i: number, j: number) => at.vectors + n * i + j;
  const transform = separableCode(rows, n, d, (r, j) => at.vectors + n * n + n * r + j);
  return [
    get(at.src), get(at.channel), op.i32Add, set(at.row),
    ...span(n).flatMap((i) => [
      ...(i === 0 ? [] : addLocalTo(at.row, at.rowBytes)),
      ...span(n).flatMap((j) => [get(at.row), op.v128Load(j * pixelBytes), set(d(i, j))]),
    ]),
    ...transform.first,
    get(at.slabRow), get(at.channel), op.i32Add, set(at.address),
    ...span(P).flatMap((r) => span(P).flatMap((s) => [get(at.address), ...transform.value(r, s), op.v128Store((P * r + s) * slabStride)])),
  ];
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

/** The fused loop's compile-time shape: the scheme, channels in and out, tiles per block. */
export interface WinogradShape {
  scheme: WinogradScheme;
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
 * block {@link winogradBlock} picks with F(2x2, 3x3)) would map all 16
 * positions' rows to the same L1 set, and the transforms' 16 stores per
 * tile would evict each other; the filter gradient's input and `dy`
 * transforms for [128,14,14,32] took 8.5 ms that way at 1 thread.
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
 * Tiles per block for `C` input and `K` output channels and `positions`
 * products per tile: the block's transformed inputs and products
 * (positions x block x (C + K) floats) stay near 256 KB, inside a core's L2
 * cache, and the block is a multiple of {@link GEMM_ROWS}, at most 64.
 *
 * @example
 * winogradBlock(32, 32, 16) // 64
 */
export function winogradBlock(C: number, K: number, positions: number): number {
  const tiles = Math.floor((256 * 1024) / (positions * 4 * (C + K)));
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

/** A batch laid out in a plan's tiles: tiles per column and row, the padded input's size and the tiles' whole output's. */
export interface TileLayout {
  tilesHigh: number;
  tilesWide: number;
  /** The zero-padded input: every tile's patch lies inside it, and so does the input at the plan's offsets. */
  paddedHeight: number;
  paddedWidth: number;
  /** The tiles' output: `outputs` x tiles per axis, cropped to the result. */
  fullHeight: number;
  fullWidth: number;
}

/**
 * The tiles of `plan` over an input of `inHeight` x `inWidth` pixels.
 *
 * @example
 * tileLayout(winogradPlan(g)!, 14, 14) // F(2x2, 3x3), 'same': { tilesHigh: 7, tilesWide: 7, paddedHeight: 16, paddedWidth: 16, fullHeight: 14, fullWidth: 14 }
 */
export function tileLayout(plan: WinogradPlan, inHeight: number, inWidth: number): TileLayout {
  const { patch, step, outputs: m } = plan.scheme;
  const tilesHigh = Math.ceil((plan.cropTop + plan.outHeight) / m);
  const tilesWide = Math.ceil((plan.cropLeft + plan.outWidth) / m);
  return {
    tilesHigh,
    tilesWide,
    paddedHeight: Math.max(step * (tilesHigh - 1) + patch, plan.padTop + inHeight),
    paddedWidth: Math.max(step * (tilesWide - 1) + patch, plan.padLeft + inWidth),
    fullHeight: m * tilesHigh,
    fullWidth: m * tilesWide,
  };
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
  /** Bytes added after the last tile of a row of tiles, beyond its step. */
  rowJump: number;
  /** Bytes added after the last row of tiles of an image, beyond its row jump. */
  imageJump: number;
  /** Bytes between the buffer's images. */
  imageBytes: number;
}

/**
 * The walk over a buffer at byte `base` whose images are `imageRows` rows
 * of `rowBytes`, pixels `pixelBytes` apart, its tiles `step` pixels apart
 * in both directions.
 *
 * @example
 * const src = tileWalk(layout, host.f32(xp).byteOffset, layout.paddedHeight, layout.paddedWidth * C * 4, C * 4, plan.scheme.step);
 */
export function tileWalk(layout: TileLayout, base: number, imageRows: number, rowBytes: number, pixelBytes: number, step: number): TileWalk {
  const { tilesHigh: TH, tilesWide: TW } = layout;
  return {
    at: (t) => {
      const { tx, ty } = tilePosition(layout, t);
      return base + Math.floor(t / (TH * TW)) * imageRows * rowBytes + step * ty * rowBytes + step * tx * pixelBytes;
    },
    rowBytes,
    rowJump: step * rowBytes - TW * step * pixelBytes,
    imageJump: imageRows * rowBytes - TH * step * rowBytes,
    imageBytes: imageRows * rowBytes,
  };
}

/**
 * `x` `[N, H, W, C]` inside a zero border as new data `[N, paddedHeight,
 * paddedWidth, C]`, its first pixel at the plan's `padTop`, `padLeft`:
 * every tile's patch lies inside it.
 */
export function paddedInput(host: KernelHost, x: tf.TensorInfo, plan: WinogradPlan, layout: TileLayout): tf.TensorInfo {
  const [N, H, W, C] = x.shape;
  const { paddedHeight: Hp, paddedWidth: Wp } = layout;
  const xp = host.zeros([N, Hp, Wp, C]);
  copyPixels(host,
    { view: host.f32(x), at: 0, pixel: C, row: W * C, image: H * W * C },
    { view: host.f32(xp), at: (plan.padTop * Wp + plan.padLeft) * C, pixel: C, row: Wp * C, image: Hp * Wp * C },
    { images: N, rows: H, cols: W, channels: C });
  return xp;
}

// Parameters, then i32 locals, then v128 locals.
const P = {
  SRC0: 0, DST0: 1, TILES: 2, NEXT: 3, TW: 4, TH: 5, SRJ: 6, SIJ: 7, DRJ: 8, DIJ: 9, ROWB_IN: 10, ROWB_OUT: 11, U: 12, SCR: 13, SIMG: 14, DIMG: 15,
} as const;
const L = {
  SRC: 16, DST: 17, TX: 18, TY: 19, DONE: 20, NB: 21, TX0: 22, TY0: 23, DST0: 24, TILE: 25, PTR: 26, CB: 27, ROW: 28, XI: 29,
  VB: 30, MB: 31, UB: 32, T: 33, CO: 34, CI: 35, VP: 36, UP: 37, MP: 38, NBR: 39, A: 40, IMG: 41, V: 42,
} as const;
const I32_LOCALS = L.V - L.SRC;

/** Vectors of one register block of the products: accumulators, a row of `U`, a splat. */
export const GEMM_LOCALS = GEMM_ROWS * GEMM_VECTORS + GEMM_VECTORS + 1;

/**
 * `winograd(src, dst, tiles, next, tilesWide, tilesHigh, srcRowJump,
 * srcImageJump, dstRowJump, dstImageJump, srcRowBytes, dstRowBytes, u,
 * scratch, srcImageBytes, dstImageBytes)`: tiles of `shape.scheme` in two
 * dimensions, in blocks of `shape.block` claimed from the shared counter
 * at `next` (an i32, zero before the first call) until all `tiles` are
 * taken, so the threads that run it at once share the tiles however fast
 * each one goes (every tile's output is its own: the result does not
 * depend on who computed what). Per block: the input transform of each
 * tile's patch of the zero-padded NHWC input (`src`: byte address of tile
 * 0's top-left padded pixel) into `scratch`, the P^2 products (P =
 * `scheme.positions`) with the transformed filter `u` (`[P^2, C, K]`), and
 * the output transform into the tile's outputs x outputs pixels of the NHWC
 * output (`dst`: tile 0's top-left pixel). Moving to the next tile adds
 * `step` pixels to `src` and `outputs` to `dst`, plus the row jump after
 * the last tile of a row and the image jump after the last row of an
 * image. `scratch` holds P^2 slabs of {@link slabBytes}(block, C) and P^2
 * of slabBytes(block, K).
 */
export function winogradSimd(shape: WinogradShape): SimdFunction {
  const { scheme, C, K, block: B } = shape;
  for (const [name, v] of [["C", C], ["K", K]] as const) {
    if (!Number.isInteger(v) || v < 4 || v % 4 !== 0) throw new Error(`winogradSimd: ${name} must be a positive multiple of 4, got ${v}`);
  }
  if (!Number.isInteger(B) || B < GEMM_ROWS || B % GEMM_ROWS !== 0) {
    throw new Error(`winogradSimd: block must be a positive multiple of ${GEMM_ROWS}, got ${B}`);
  }
  const { positions: Pn, outputs: m } = scheme;
  const XI = Pn * Pn;
  const cBytes = 4 * C, kBytes = 4 * K;
  const vSlab = slabBytes(B, C), mSlab = slabBytes(B, K);
  const v = (i: number) => L.V + i;
  const zero = [op.f32Const(0), op.f32x4Splat];

  const advance = (pointer: number, step: number, rowJump: number, imageJump: number) =>
    advanceTile({ tx: L.TX, ty: L.TY, tilesWide: P.TW, tilesHigh: P.TH }, [[pointer, step, rowJump, imageJump]]);

  // Input transform of one tile, 4 channels at a time.
  const inputVector = patchTransform(
    { src: L.SRC, rowBytes: P.ROWB_IN, channel: L.CB, slabRow: L.PTR, row: L.ROW, address: L.A, vectors: L.V }, cBytes, vSlab, scheme.input, scheme.patch);

  // Output transform of one tile: P^2 loads, A^T over rows, then columns, m^2 stores.
  const transform = separableCode(scheme.output, Pn, (i, j) => v(Pn * i + j), (a, j) => v(XI + Pn * a + j));
  const outputVector: number[][] = [
    get(L.PTR), get(L.CB), op.i32Add, set(L.A),
    ...span(XI).flatMap((xi) => [get(L.A), op.v128Load(xi * mSlab), set(v(xi))]),
    ...transform.first,
    get(L.DST), get(L.CB), op.i32Add, set(L.A),
    ...span(m).flatMap((a) => [
      ...(a > 0 ? addLocalTo(L.A, P.ROWB_OUT) : []),
      ...span(m).flatMap((b) => [get(L.A), ...transform.value(a, b), op.v128Store(b * kBytes)]),
    ]),
  ];

  // Products: a register block of GEMM_ROWS tiles x `w` vectors of output channels.
  const acc = (r: number, c: number) => v(r * GEMM_VECTORS + c);
  const uv = (c: number) => v(GEMM_ROWS * GEMM_VECTORS + c);
  const sv = v(GEMM_ROWS * GEMM_VECTORS + GEMM_VECTORS);
  const rows = span(GEMM_ROWS);
  const registerBlock = (w: number): number[][] => {
    const cols = span(w);
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

  // Tile `done`'s column, row and image, and its pointers into the input and output.
  const tilesPerImage = [get(P.TW), get(P.TH), op.i32Mul];
  const startAt: number[][] = [
    get(L.DONE), get(P.TW), op.i32RemU, set(L.TX),
    get(L.DONE), get(P.TW), op.i32DivU, get(P.TH), op.i32RemU, set(L.TY),
    get(L.DONE), ...tilesPerImage, op.i32DivU, set(L.IMG),
    get(P.SRC0), get(L.IMG), get(P.SIMG), op.i32Mul, op.i32Add,
    get(L.TY), get(P.ROWB_IN), op.i32Mul, op.i32Const(scheme.step), op.i32Mul, op.i32Add,
    get(L.TX), op.i32Const(scheme.step * cBytes), op.i32Mul, op.i32Add, set(L.SRC),
    get(P.DST0), get(L.IMG), get(P.DIMG), op.i32Mul, op.i32Add,
    get(L.TY), get(P.ROWB_OUT), op.i32Mul, op.i32Const(m), op.i32Mul, op.i32Add,
    get(L.TX), op.i32Const(m * kBytes), op.i32Mul, op.i32Add, set(L.DST),
  ];
  const blockBody: number[][] = [
    // nb = min(block, tiles - done); the products run on nb rounded up to GEMM_ROWS (extra rows are scratch).
    ...blockCount(L.NB, P.TILES, L.DONE, B),
    get(L.NB), op.i32Const(GEMM_ROWS - 1), op.i32Add, op.i32Const(GEMM_ROWS), op.i32DivU, op.i32Const(GEMM_ROWS), op.i32Mul, set(L.NBR),
    ...startAt,
    get(L.TX), set(L.TX0), get(L.TY), set(L.TY0), get(L.DST), set(L.DST0),
    get(P.SCR), set(L.PTR),
    op.i32Const(0), set(L.TILE),
    ...loopUntil(L.TILE, [get(L.NB)], [...addTo(L.TILE, 1), ...addTo(L.PTR, cBytes), ...advance(L.SRC, scheme.step * cBytes, P.SRJ, P.SIJ)], [
      op.i32Const(0), set(L.CB),
      ...loopUntil(L.CB, [op.i32Const(cBytes)], addTo(L.CB, 16), inputVector),
    ]),
    ...products,
    get(L.TX0), set(L.TX), get(L.TY0), set(L.TY), get(L.DST0), set(L.DST),
    get(P.SCR), op.i32Const(XI * vSlab), op.i32Add, set(L.PTR),
    op.i32Const(0), set(L.TILE),
    ...loopUntil(L.TILE, [get(L.NB)], [...addTo(L.TILE, 1), ...addTo(L.PTR, kBytes), ...advance(L.DST, m * kBytes, P.DRJ, P.DIJ)], [
      op.i32Const(0), set(L.CB),
      ...loopUntil(L.CB, [op.i32Const(kBytes)], addTo(L.CB, 16), outputVector),
    ]),
  ];
  const vectors = Math.max(patchVectors(scheme.input, scheme.patch), XI + m * Pn, GEMM_LOCALS);
  return {
    name: "winograd",
    params: Array.from({ length: L.SRC }, () => I32),
    results: [],
    locals: [...Array.from({ length: I32_LOCALS }, () => I32), ...Array.from({ length: vectors }, () => V128)],
    body: [
      // done = the first tile of the next unclaimed block; the loop ends once it passes the last tile.
      get(P.NEXT), op.i32Const(B), op.i32AtomicRmwAdd(), set(L.DONE),
      ...loopUntil(L.DONE, [get(P.TILES)], [get(P.NEXT), op.i32Const(B), op.i32AtomicRmwAdd(), set(L.DONE)], blockBody),
    ],
  };
}

/**
 * The convolution `plan` describes of `x` `[N, H, W, C]` by `filter` on
 * wasm, `[N, plan.outHeight, plan.outWidth, K]`; null when the SIMD loop
 * cannot run here (the caller falls back). `filter` is `[3, 3, C, K]` read
 * "as-is", or `[3, 3, K, C]` read "flipped" (the stride-1 input gradient
 * of the convolution by that filter, for `x` = `dy`) or "transposed" (the
 * stride-2 input gradient; see {@link winogradInputGradRoute}).
 *
 * @example
 * const y = conv2dWinograd(host, x, filter, winogradPlan(g)!) ?? stockConv2D(...);
 * const dx = conv2dWinograd(host, dy, forwardFilter, winogradInputGradRoute(g)!.plan, winogradInputGradRoute(g)!.reading);
 */
export function conv2dWinograd(
  host: KernelHost,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  plan: WinogradPlan,
  reading: FilterReading = "as-is",
): tf.TensorInfo | null {
  const [N, H, W, C] = x.shape;
  const [K, filterC] = reading === "as-is" ? [filter.shape[3], filter.shape[2]] : [filter.shape[2], filter.shape[3]];
  if (x.shape.length !== 4 || filter.shape.length !== 4 || filter.shape[0] !== 3 || filter.shape[1] !== 3 || filterC !== C) {
    const want = reading === "as-is" ? `[3, 3, ${C}, K]` : `[3, 3, K, ${C}]`;
    throw new Error(`conv2dWinograd: x [${x.shape}] and filter [${filter.shape}] read ${reading}: the filter must be ${want} for x [N, H, W, C]`);
  }
  if (host.backendName !== "wasm") return null;
  const memory = wasmBackendMemory(host.backend);
  const { scheme } = plan;
  const XI = scheme.positions * scheme.positions;
  const shape = { scheme, C, K, block: winogradBlock(C, K, XI) };
  const kernels = simdKernels(host.backend, `winograd:${scheme.name}:${C}:${K}:${shape.block}`,
    () => [winogradSimd(shape), filterTransformSimd(scheme, false), filterTransformSimd(scheme, true)]);
  if (memory === null || kernels === null) return null;
  const layout = tileLayout(plan, H, W);
  const { tilesHigh: TH, tilesWide: TW, paddedHeight: Hp, paddedWidth: Wp, fullHeight: Hf, fullWidth: Wf } = layout;
  const { outHeight: Ho, outWidth: Wo } = plan;
  const tiles = N * TH * TW;
  const direct = Hf === Ho && Wf === Wo && plan.cropTop === 0 && plan.cropLeft === 0;
  const owned: tf.TensorInfo[] = [];
  const keep = (t: tf.TensorInfo): tf.TensorInfo => (owned.push(t), t);
  const threads = backendThreads(host.backend);
  const scratchFloats = (XI * (slabBytes(shape.block, C) + slabBytes(shape.block, K))) / 4;
  try {
    const xp = keep(paddedInput(host, x, plan, layout));
    // The filter transform reads [3, 3, C, K]; the gradients' readings swap the channels of [3, 3, K, C] first.
    const taps = reading === "as-is" ? filter : keep(host.run("Transpose", { x: filter }, { perm: [0, 1, 3, 2] }));
    const u = keep(host.alloc([XI, C, K]));
    const transform = kernels[reading === "flipped" ? "winogradFilterFlipped" : "winogradFilter"] as (src: number, dst: number, pairs: number) => void;
    transform(host.f32(taps).byteOffset, host.f32(u).byteOffset, C * K);
    // Zeroed so the rows past a short last block never hold denormals.
    const scratch = keep(host.zeros([threads >= 2 ? 2 : 1, scratchFloats]));
    // The blocks' counter, shared by the threads (int32 0, as a zeroed float).
    const next = keep(host.zeros([1]));
    const y = host.alloc([N, Ho, Wo, K]);
    try {
      const full = direct ? y : keep(host.alloc([N, Hf, Wf, K]));
      const src = tileWalk(layout, host.f32(xp).byteOffset, Hp, Wp * C * 4, C * 4, scheme.step);
      const dst = tileWalk(layout, host.f32(full).byteOffset, Hf, Wf * K * 4, K * 4, scheme.outputs);
      const args = (part: number) => [
        src.at(0), dst.at(0), tiles, host.f32(next).byteOffset, TW, TH, src.rowJump, src.imageJump, dst.rowJump, dst.imageJump,
        src.rowBytes, dst.rowBytes, host.f32(u).byteOffset, host.f32(scratch).byteOffset + part * scratchFloats * 4, src.imageBytes, dst.imageBytes,
      ];
      // Both threads claim blocks from the counter; on one thread the second call finds none left.
      runSplit(memory, kernels, "winograd", threads, args(0), args(threads >= 2 ? 1 : 0));
      if (!direct) {
        copyPixels(host,
          { view: host.f32(full), at: (plan.cropTop * Wf + plan.cropLeft) * K, pixel: K, row: Wf * K, image: Hf * Wf * K },
          { view: host.f32(y), at: 0, pixel: K, row: Wo * K, image: Ho * Wo * K },
          { images: N, rows: Ho, cols: Wo, channels: K });
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
    const plan = winogradPlan(convGeometry(where, x.shape, filter.shape, attrs, false));
    if (plan === null) return stock.kernelFunc(args);
    return conv2dWinograd(new KernelHost(backendName, args.backend), x, filter, plan) ?? stock.kernelFunc(args);
  };
}
