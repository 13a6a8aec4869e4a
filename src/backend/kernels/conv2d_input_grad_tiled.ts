/**
 * `Conv2DBackpropInput` on wasm for strided convolutions with a multiple of
 * 4 input channels, in WebAssembly SIMD on two threads, as a scatter: every
 * output pixel adds its share to the input pixels its filter covered,
 *
 *   dxp[n, oh*sh + kh*dh, ow*sw + kw*dw, ci] += sum over co of dy[n, oh, ow, co] * W[kh, kw, ci, co],
 *
 * into `dxp`, the input gradient with the forward pass's padding written
 * out (then cropped to `dx`). A "lane" is one (kh, kw, ci); four lanes of
 * consecutive `ci` are one vector of `dxp`. The generated loop takes four
 * output pixels and eight lanes at a time, sums over `co` with the eight
 * accumulator vectors in registers (four broadcasts of `dy`, two vectors of
 * the filter, eight multiply-adds per `co`), then adds the tile into `dxp`.
 * The multiply-adds are the forward convolution's, for any stride.
 *
 * Why: the phase route (conv2d_backprop_input.ts) runs one XNNPACK
 * convolution per phase with `Ci` output channels, few for XNNPACK, then
 * writes each phase into its pixels of `dx`. For the small ResNet's
 * [128,28,28,16] -> 32 stride-2 layer that took 14.3 ms (with the phases
 * interleaved in JavaScript then), against 3.6 ms for the layer's forward
 * convolution.
 *
 * Threads split the batch: each writes its own images of `dxp`.
 */
import { tf } from "../tf";
import { backendThreads, runSplit } from "../simd_threads";
import { addTo, I32, loopUntil, op, SimdFunction, simdKernels, V128, wasmBackendMemory } from "../wasm_simd";
import type { ConvGeometry } from "./conv_geometry";
import type { KernelHost } from "./host";
import { writeLaneOffsets } from "./conv2d_filter_grad_tiled";
import { copyPixels } from "./pixel_copy";

/** Output pixels per tile (broadcast `dy` values per `co`). */
export const TILE_PIXELS = 4;

/** Whether {@link tiledInputGrad} takes geometry `g` (on wasm with SIMD): `Ci` a multiple of 4. */
export function tiledInputGradApplies(g: ConvGeometry): boolean {
  return g.inChannels % 4 === 0 && g.inChannels > 0 && g.filterOutChannels > 0;
}

/** Lane vectors per tile for `lanes` (a multiple of 4) lanes: two, or one when `lanes` is not a multiple of 8. */
export function tileLaneVectors(lanes: number): number {
  return lanes % 8 === 0 ? 2 : 1;
}

// Parameters, then locals.
const DY = 0, WT = 1, DXP = 2, PIX = 3, LANES = 4, P0 = 5, P1 = 6;
const P = 7, T = 8, C = 9, DA = 10, WA = 11, AT = 12, L = AT + TILE_PIXELS;

/**
 * `fn(dy, wt, dxp, pixels, lanes, p0, p1)`: for output pixels `[p0, p1)`
 * (`dy` rows of `Co` floats; the int32 `pixels` table holds each one's
 * byte offset in `dxp`), adds every lane tile's sums into `dxp`. `wt` is
 * the filter in tile-major order `[tiles, Co, 4 * NR]` (zeros past the last
 * lane); the int32 `lanes` table holds each lane vector's byte offset from
 * a pixel's top-left.
 */
export function tiledInputGradSimd(Co: number, tiles: number, NR: number): SimdFunction {
  const { localGet: get, localSet: set } = op;
  const B = L + NR, S = B + NR, ACC = S + 1;
  // The tiles of `mr` pixels starting at P, then P += mr.
  const pixels = (mr: number): number[][] => {
    const acc = (i: number, j: number) => ACC + i * NR + j;
    const accs = Array.from({ length: mr * NR }, (_, k) => ACC + k);
    return [
      ...Array.from({ length: mr }, (_, i) => [get(DXP), get(PIX), get(P), op.i32Const(4), op.i32Mul, op.i32Add, op.i32Load(4 * i), op.i32Add, set(AT + i)]).flat(),
      op.i32Const(0), set(T),
      ...loopUntil(T, [op.i32Const(tiles)], addTo(T, 1), [
        ...Array.from({ length: NR }, (_, j) => [get(LANES), get(T), op.i32Const(4 * NR), op.i32Mul, op.i32Add, op.i32Load(4 * j), set(L + j)]).flat(),
        ...accs.flatMap((a) => [op.f32Const(0), op.f32x4Splat, set(a)]),
        get(WT), get(T), op.i32Const(16 * NR * Co), op.i32Mul, op.i32Add, set(WA),
        get(DY), get(P), op.i32Const(4 * Co), op.i32Mul, op.i32Add, set(DA),
        op.i32Const(0), set(C),
        ...loopUntil(C, [op.i32Const(Co)], [...addTo(C, 1), ...addTo(WA, 16 * NR), ...addTo(DA, 4)], [
          ...Array.from({ length: NR }, (_, j) => [get(WA), op.v128Load(16 * j), set(B + j)]).flat(),
          ...Array.from({ length: mr }, (_, i) => [
            get(DA), op.v128Load32Splat(4 * i * Co), set(S),
            ...Array.from({ length: NR }, (__, j) => [get(acc(i, j)), get(S), get(B + j), op.f32x4Mul, op.f32x4Add, set(acc(i, j))]).flat(),
          ]).flat(),
        ]),
        ...Array.from({ length: mr }, (_, i) => Array.from({ length: NR }, (__, j) => [
          get(AT + i), get(L + j), op.i32Add, set(WA), // WA is free until the next tile: the target address
          get(WA), get(WA), op.v128Load(), get(acc(i, j)), op.f32x4Add, op.v128Store(),
        ]).flat()).flat(),
      ]),
      ...addTo(P, mr),
    ];
  };
  return {
    name: "tiledInputGrad",
    params: [I32, I32, I32, I32, I32, I32, I32],
    results: [],
    locals: [
      ...Array.from({ length: L + NR - P }, () => I32),
      ...Array.from({ length: NR + 1 + TILE_PIXELS * NR }, () => V128),
    ],
    body: [
      get(P0), set(P),
      // Whole tiles of TILE_PIXELS pixels while they fit, then one pixel at a time.
      op.block, op.loop,
      get(P), op.i32Const(TILE_PIXELS), op.i32Add, get(P1), op.i32GtU, op.brIf(1),
      ...pixels(TILE_PIXELS),
      op.br(0), op.end, op.end,
      ...loopUntil(P, [get(P1)], [], pixels(1)),
    ],
  };
}

/**
 * The input gradient `[N,H,W,Ci]` of `dy` `[N,Ho,Wo,Co]` and `filter`
 * `[Kh,Kw,Ci,Co]` (NHWC float32 on the wasm backend) as new data, or null
 * where {@link tiledInputGradApplies} is false or the engine lacks SIMD.
 * With more than one backend thread, the helper thread takes half the images.
 *
 * @example
 * const dx = tiledInputGrad(host, dy, filter, g) ?? conv2dInputGradByPhases(host, dy, filter, g);
 */
export function tiledInputGrad(host: KernelHost, dy: tf.TensorInfo, filter: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo | null {
  if (host.backendName !== "wasm" || !tiledInputGradApplies(g)) return null;
  const memory = wasmBackendMemory(host.backend);
  if (memory === null) return null;
  const { batch: N, inHeight: H, inWidth: W, inChannels: Ci, outHeight: Ho, outWidth: Wo, filterHeight: Kh, filterWidth: Kw, filterOutChannels: Co } = g;
  const lanes = Kh * Kw * Ci;
  const NR = tileLaneVectors(lanes);
  const tiles = Math.ceil(lanes / (4 * NR));
  const kernels = simdKernels(host.backend, `tiledInputGrad:${Co}:${tiles}:${NR}`, () => [tiledInputGradSimd(Co, tiles, NR)]);
  if (kernels === null) return null;
  // dxp holds every pixel a tap reaches and every input pixel.
  const Hp = Math.max((Ho - 1) * g.strideHeight + (Kh - 1) * g.dilationHeight + 1, g.padTop + H);
  const Wp = Math.max((Wo - 1) * g.strideWidth + (Kw - 1) * g.dilationWidth + 1, g.padLeft + W);
  const pixels = N * Ho * Wo;
  const dxp = host.zeros([N, Hp, Wp, Ci]);
  const pixelTable = host.alloc([Math.max(1, pixels)], "int32");
  const laneTable = host.alloc([tiles * NR], "int32");
  const wt = host.zeros([tiles, Co, 4 * NR]);
  const dx = host.alloc([N, H, W, Ci]);
  let done = false;
  try {
    if (pixels > 0) {
      const pv = host.i32(pixelTable);
      for (let n = 0, p = 0; n < N; n++) {
        for (let oh = 0; oh < Ho; oh++) {
          for (let ow = 0; ow < Wo; ow++, p++) pv[p] = 4 * Ci * ((n * Hp + oh * g.strideHeight) * Wp + ow * g.strideWidth);
        }
      }
      const lv = host.i32(laneTable);
      // Lane vectors that pad the last tile add zeros at the pixel itself.
      lv.fill(0, writeLaneOffsets(lv, g, Wp, 4));
      const f = host.f32(filter), wv = host.f32(wt);
      const width = 4 * NR;
      for (let q = 0; q < lanes; q++) {
        const base = Math.floor(q / width) * Co * width + (q % width);
        for (let co = 0; co < Co; co++) wv[base + co * width] = f[q * Co + co];
      }
      const args = [host.f32(dy).byteOffset, wv.byteOffset, host.f32(dxp).byteOffset, pv.byteOffset, lv.byteOffset];
      const split = (N >> 1) * Ho * Wo;
      runSplit(memory, kernels, "tiledInputGrad", backendThreads(host.backend), [...args, split, pixels], [...args, 0, split]);
    }
    // dx is dxp without its padding.
    copyPixels(host,
      { view: host.f32(dxp), at: (g.padTop * Wp + g.padLeft) * Ci, pixel: Ci, row: Wp * Ci, image: Hp * Wp * Ci },
      { view: host.f32(dx), at: 0, pixel: Ci, row: W * Ci, image: H * W * Ci },
      { images: N, rows: H, cols: W, channels: Ci });
    done = true;
    return dx;
  } finally {
    if (!done) host.dispose(dx);
    host.dispose(dxp);
    host.dispose(pixelTable);
    host.dispose(laneTable);
    host.dispose(wt);
  }
}
