/**
 * `Conv2DBackpropFilter` on wasm for any NHWC convolution with a multiple
 * of 4 output channels, computed without a patch matrix, in WebAssembly SIMD
 * on two threads, in tiles of 4 lanes by 8 channels (4 channels when `Co`
 * is not a multiple of 8):
 *
 *   dW[kh, kw, ci, co] = sum over n, oh, ow of xp[n, oh*sh + kh*dh, ow*sw + kw*dw, ci] * dy[n, oh, ow, co],
 *
 * where `xp` is `x` with its padding written out, or `x` itself when
 * nothing is padded before the first pixel and every read is inside the
 * image (valid convolutions and the strided 1x1 projections: the small
 * ResNet's [128,28,28,16] -> 32 went from 2.9 to 1.6 ms without the copy of
 * 6.4 MB). A "lane" is one
 * (kh, kw, ci), one row of the result; it reads `xp` at a fixed offset from
 * an output pixel's top-left input pixel. The generated loop walks the
 * output pixels of a chunk of images once per tile with the tile's eight
 * accumulator vectors in registers: per pixel four broadcasts of `x`, two
 * loads of `dy` and eight multiply-adds. That is the register blocking of a
 * matrix product's inner kernel, without writing the patch matrix.
 *
 * Why: the patch-matrix route writes `Kh*Kw` copies of the input and runs
 * XNNPACK on a product whose contraction (pixels) is far longer than its
 * result, which XNNPACK does not block. The small ResNet's ten layers
 * (128 images, 2 threads) took 93 ms that way and 50 ms here; [128,14,14,32]
 * -> 32 went from 20.6 to 7.2 ms, as fast as the forward convolution.
 * Tiles of 3 lanes by 16 channels (12 accumulators) or 6 by 8 were slower
 * (133 and 141 ms single-threaded, against 77 ms for 4 by 8): with the
 * broadcast and the two `dy` vectors they need more than the 16 vector
 * registers of x86-64, and V8 spills.
 *
 * Tiles are split into two ranges, one per thread (simd_threads.ts); each
 * range writes its own rows of the result, so the threads need no
 * reduction. Sums run in float32 within a chunk of images (about
 * {@link CHUNK_PIXELS} output pixels) and then add into the float32 result.
 */
import { tf } from "../tf";
import { backendThreads, runSplit } from "../simd_threads";
import { addLocalTo, addTo, I32, loopUntil, op, SimdFunction, simdKernels, V128, wasmBackendMemory } from "../wasm_simd";
import type { ConvGeometry } from "./conv_geometry";
import type { KernelHost } from "./host";
import { copyPixels } from "./pixel_copy";

/** Lanes per tile (broadcast `x` values per pixel). */
export const TILE_LANES = 4;
/** Output pixels per chunk: its `dy` and `x` stay in cache while every tile walks it (512 and 2048 were slower). */
export const CHUNK_PIXELS = 1024;

/**
 * Whether {@link tiledFilterGrad} takes geometry `g` (on wasm with SIMD):
 * `Co` a multiple of 4. The geometry's layout does not matter: the kernel
 * hands this route NHWC tensors.
 */
export function tiledFilterGradApplies(g: ConvGeometry): boolean {
  return g.filterOutChannels % 4 === 0 && g.filterOutChannels > 0;
}

/** Output channels per tile for `Co` output channels: two vectors, or one when `Co` is not a multiple of 8. */
export function tileChannels(Co: number): number {
  return Co % 8 === 0 ? 8 : 4;
}

// Parameters, then locals.
const XP = 0, DY = 1, OUT = 2, TABLE = 3, NIMG = 4, CHUNK = 5, G0 = 6, G1 = 7;
const N0 = 8, IMGS = 9, CB = 10, G = 11, XA = 12, DA = 13, IMG = 14, OH = 15, OW = 16, XBASE = 17, DBASE = 18, OROW = 19, LANE = 20;
const S = LANE + TILE_LANES, BV = S + 1;

/** The shape of the loop: everything the generated code bakes in. */
export interface TiledFilterGradShape {
  Ci: number;
  Co: number;
  Ho: number;
  Wo: number;
  /** Height and width of the image the loop reads: the padded copy, or `x` itself when nothing needs padding. */
  Hp: number;
  Wp: number;
  strideH: number;
  strideW: number;
}

/** The shape of geometry `g`'s loop: the padded image holds every pixel an output pixel reads. */
export function tiledFilterGradShape(g: ConvGeometry): TiledFilterGradShape {
  return {
    Ci: g.inChannels,
    Co: g.filterOutChannels,
    Ho: g.outHeight,
    Wo: g.outWidth,
    Hp: (g.outHeight - 1) * g.strideHeight + (g.filterHeight - 1) * g.dilationHeight + 1,
    Wp: (g.outWidth - 1) * g.strideWidth + (g.filterWidth - 1) * g.dilationWidth + 1,
    strideH: g.strideHeight,
    strideW: g.strideWidth,
  };
}

/**
 * `fn(xp, dy, out, table, images, chunk, g0, g1)`: for tiles `[g0, g1)` of
 * lanes (lane byte offsets in the int32 `table`, {@link TILE_LANES} per
 * tile), adds `sum over pixels of xp[pixel + lane] * dy[pixel, co]` to
 * `out[lane row, co]` (float32 `[tiles * TILE_LANES, Co]`), for `images` whole images of
 * `xp` (padded, `[N, Hp, Wp, Ci]`) and `dy` (`[N, Ho, Wo, Co]`), `chunk`
 * images at a time.
 */
export function tiledFilterGradSimd(shape: TiledFilterGradShape): SimdFunction {
  const { Ci, Co, Ho, Wo, Hp, Wp, strideH, strideW } = shape;
  const tileCo = tileChannels(Co);
  const NR = tileCo / 4;
  const ACC = BV + NR;
  const acc = (i: number, j: number) => ACC + i * NR + j;
  const accs = Array.from({ length: TILE_LANES * NR }, (_, k) => ACC + k);
  const { localGet: get, localSet: set } = op;
  const imageXBytes = 4 * Hp * Wp * Ci, imageDyBytes = 4 * Ho * Wo * Co;
  const pixel: number[][] = [
    ...Array.from({ length: NR }, (_, j) => [get(DA), op.v128Load(16 * j), set(BV + j)]).flat(),
    ...Array.from({ length: TILE_LANES }, (_, i) => [
      get(XA), get(LANE + i), op.i32Add, op.v128Load32Splat(), set(S),
      ...Array.from({ length: NR }, (__, j) => [get(acc(i, j)), get(S), get(BV + j), op.f32x4Mul, op.f32x4Add, set(acc(i, j))]).flat(),
    ]).flat(),
    ...addTo(XA, 4 * Ci * strideW),
    ...addTo(DA, 4 * Co),
  ];
  const tile: number[][] = [
    ...Array.from({ length: TILE_LANES }, (_, i) => [get(TABLE), get(G), op.i32Const(4 * TILE_LANES), op.i32Mul, op.i32Add, op.i32Load(4 * i), set(LANE + i)]).flat(),
    ...accs.flatMap((a) => [op.f32Const(0), op.f32x4Splat, set(a)]),
    get(XBASE), set(XA),
    get(DBASE), get(CB), op.i32Const(4 * tileCo), op.i32Mul, op.i32Add, set(DA),
    op.i32Const(0), set(IMG),
    ...loopUntil(IMG, [get(IMGS)], addTo(IMG, 1), [
      op.i32Const(0), set(OH),
      ...loopUntil(OH, [op.i32Const(Ho)], addTo(OH, 1), [
        op.i32Const(0), set(OW),
        ...loopUntil(OW, [op.i32Const(Wo)], addTo(OW, 1), pixel),
        ...addTo(XA, 4 * Ci * strideH * Wp - 4 * Ci * strideW * Wo), // to the next output row's first input pixel
      ]),
      ...addTo(XA, imageXBytes - 4 * Ci * strideH * Wp * Ho), // to the next image
    ]),
    // out rows g*TILE_LANES + i, columns from cb*tileCo.
    get(OUT), get(G), op.i32Const(4 * TILE_LANES * Co), op.i32Mul, op.i32Add,
    get(CB), op.i32Const(4 * tileCo), op.i32Mul, op.i32Add, set(OROW),
    ...Array.from({ length: TILE_LANES }, (_, i) => Array.from({ length: NR }, (__, j) => {
      const at = 4 * (i * Co) + 16 * j;
      return [get(OROW), get(OROW), op.v128Load(at), get(acc(i, j)), op.f32x4Add, op.v128Store(at)];
    }).flat()).flat(),
  ];
  return {
    name: "tiledFilterGrad",
    params: [I32, I32, I32, I32, I32, I32, I32, I32],
    results: [],
    locals: [
      ...Array.from({ length: LANE + TILE_LANES - N0 }, () => I32),
      V128,
      ...Array.from({ length: NR }, () => V128),
      ...accs.map(() => V128),
    ],
    body: [
      op.i32Const(0), set(N0),
      ...loopUntil(N0, [get(NIMG)], addLocalTo(N0, CHUNK), [
        // IMGS = min(CHUNK, NIMG - N0)
        get(CHUNK), get(NIMG), get(N0), op.i32Sub, get(CHUNK), get(NIMG), get(N0), op.i32Sub, op.i32LtU, op.select, set(IMGS),
        get(XP), get(N0), op.i32Const(imageXBytes), op.i32Mul, op.i32Add, set(XBASE),
        get(DY), get(N0), op.i32Const(imageDyBytes), op.i32Mul, op.i32Add, set(DBASE),
        op.i32Const(0), set(CB),
        ...loopUntil(CB, [op.i32Const(Co / tileCo)], addTo(CB, 1), [
          get(G0), set(G),
          ...loopUntil(G, [get(G1)], addTo(G, 1), tile),
        ]),
      ]),
    ],
  };
}

/**
 * The filter gradient `[Kh,Kw,Ci,Co]` of `x` `[N,H,W,Ci]` and `dy`
 * `[N,Ho,Wo,Co]` (NHWC float32 on the wasm backend) as new data, or null
 * where {@link tiledFilterGradApplies} is false or the engine lacks SIMD.
 * With more than one backend thread, the helper thread takes half the tiles.
 *
 * @example
 * const dw = tiledFilterGrad(host, x, dy, g) ?? patchMatrixRoute(host, x, dy, g);
 */
export function tiledFilterGrad(host: KernelHost, x: tf.TensorInfo, dy: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo | null {
  if (host.backendName !== "wasm" || !tiledFilterGradApplies(g)) return null;
  const memory = wasmBackendMemory(host.backend);
  if (memory === null) return null;
  const { batch: N, inChannels: Ci, outHeight: Ho, outWidth: Wo, filterHeight: Kh, filterWidth: Kw, filterOutChannels: Co } = g;
  // No output pixels: a sum over nothing (and no padded image to size).
  if (N === 0 || Ho <= 0 || Wo <= 0) return host.zeros([Kh, Kw, Ci, Co]);
  const padded = tiledFilterGradShape(g);
  // With no padding before the first pixel and every read inside the image
  // (valid convolutions, strided 1x1 projections), x is its own padded image.
  const inPlace = g.padTop === 0 && g.padLeft === 0 && padded.Hp <= g.inHeight && padded.Wp <= g.inWidth;
  const shape = inPlace ? { ...padded, Hp: g.inHeight, Wp: g.inWidth } : padded;
  const kernels = simdKernels(host.backend, tiledFilterGradKey(shape), () => [tiledFilterGradSimd(shape)]);
  if (kernels === null) return null;
  const { Hp, Wp } = shape;
  const lanes = Kh * Kw * Ci;
  const tiles = Math.ceil(lanes / TILE_LANES);
  const xp = inPlace ? null : host.zeros([N, Hp, Wp, Ci]);
  const table = host.alloc([tiles * TILE_LANES], "int32");
  const out = host.zeros([tiles * TILE_LANES, Co]);
  try {
    if (xp !== null) writePadded(host, x, g, Hp, Wp, xp);
    const tv = host.i32(table);
    // Lanes that pad the last tile read the pixel itself and write rows past the filter's.
    tv.fill(0, writeLaneOffsets(tv, g, Wp, 1));
    const chunkImages = Math.max(1, Math.floor(CHUNK_PIXELS / (Ho * Wo)));
    const args = [host.f32(xp ?? x).byteOffset, host.f32(dy).byteOffset, host.f32(out).byteOffset, tv.byteOffset, N, chunkImages];
    const half = tiles >> 1;
    runSplit(memory, kernels, "tiledFilterGrad", backendThreads(host.backend), [...args, half, tiles], [...args, 0, half]);
    const result = host.alloc([Kh, Kw, Ci, Co]);
    host.f32(result).set(host.f32(out).subarray(0, lanes * Co));
    return result;
  } finally {
    if (xp !== null) host.dispose(xp);
    host.dispose(table);
    host.dispose(out);
  }
}

/**
 * Writes into `table` the byte offset, in a padded NHWC image `Wp` pixels
 * wide, of every (kh, kw, ci) a filter reads from an output pixel's top-left
 * input pixel, `ci` in steps of `ciStep` (1 for lanes, 4 for vectors of
 * lanes), in filter order; returns how many it wrote. Shared with the input
 * gradient's scatter (conv2d_input_grad_tiled.ts).
 */
export function writeLaneOffsets(table: Int32Array, g: ConvGeometry, Wp: number, ciStep: number): number {
  const { filterHeight: Kh, filterWidth: Kw, inChannels: Ci } = g;
  let l = 0;
  for (let kh = 0; kh < Kh; kh++) {
    for (let kw = 0; kw < Kw; kw++) {
      for (let ci = 0; ci < Ci; ci += ciStep) table[l++] = 4 * ((kh * g.dilationHeight * Wp + kw * g.dilationWidth) * Ci + ci);
    }
  }
  return l;
}

/**
 * Writes `x` `[N,H,W,Ci]` into `xp` `[N,Hp,Wp,Ci]` (zeros) at the geometry's
 * top/left padding; input pixels no output reads (past `Hp` or `Wp`) are left out.
 */
function writePadded(host: KernelHost, x: tf.TensorInfo, g: ConvGeometry, Hp: number, Wp: number, xp: tf.TensorInfo): void {
  const { batch: N, inHeight: H, inWidth: W, inChannels: Ci, padTop, padLeft } = g;
  const iw0 = Math.max(0, -padLeft), iw1 = Math.min(W, Wp - padLeft);
  const ih0 = Math.max(0, -padTop), ih1 = Math.min(H, Hp - padTop);
  if (iw1 <= iw0 || ih1 <= ih0) return;
  copyPixels(host,
    { view: host.f32(x), at: (ih0 * W + iw0) * Ci, pixel: Ci, row: W * Ci, image: H * W * Ci },
    { view: host.f32(xp), at: ((ih0 + padTop) * Wp + iw0 + padLeft) * Ci, pixel: Ci, row: Wp * Ci, image: Hp * Wp * Ci },
    { images: N, rows: ih1 - ih0, cols: iw1 - iw0, channels: Ci });
}

/** The key of the generated function for `shape`. */
function tiledFilterGradKey(shape: TiledFilterGradShape): string {
  const { Ci, Co, Ho, Wo, Hp, Wp, strideH, strideW } = shape;
  return `tiledFilterGrad:${Ci}:${Co}:${Ho}:${Wo}:${Hp}:${Wp}:${strideH}:${strideW}`;
}
