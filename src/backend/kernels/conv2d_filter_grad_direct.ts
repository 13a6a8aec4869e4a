/**
 * The filter gradient of a stride-1 convolution with few output channels,
 * computed without a patch matrix, in WebAssembly SIMD:
 *
 *   dW[kh, kw, ci, co] = sum over n, oh, ow of xp[n, oh + kh, ow + kw, ci] * dy[n, oh, ow, co],
 *
 * where `xp` is `x` with its padding written out (`[N, Ho+Kh-1, Wo+Kw-1, Ci]`).
 * Each tap-and-channel pair (a "lane": one row of the result) reads `xp` at a
 * fixed offset from the output pixel, so a generated loop walks the output
 * pixels once per group of lanes, with `dy`'s row in registers and every
 * lane's `Co` sums in accumulators (at most 16 vectors).
 *
 * Why: with few output channels the patch-matrix route spends most of its
 * time writing the patch matrix and in XNNPACK products with 8-32 result
 * columns. Notebook 06's narrow encoder, 300 images, 2 threads (medians of
 * ten calls): [28,28,1] -> 8 took 10.4 ms that way and 2.3 ms here,
 * [14,14,8] -> 16 10.5 against 5.3 ms; [7,7,16] -> 32 (144 taps) was not
 * faster here (6.4 against 5.7 ms) and stays on the patch matrix.
 */
import { tf } from "../tf";
import { I32, op, SimdFunction, simdKernels, V128 } from "../wasm_simd";
import type { ConvGeometry } from "./conv_geometry";
import type { KernelHost } from "./host";

/** Largest `Co` this route takes: eight vectors of `dy` per pixel. */
export const MAX_DIRECT_OUT_CHANNELS = 32;
/**
 * Largest `Kh*Kw*Ci` it takes with up to 16 output channels; above 16, first
 * layers only (`Kh*Kw*Ci` up to 27, a 3x3 filter on RGB). With 32 channels
 * a pass holds two lanes, and each pass reloads `dy`: for [128,28,28,32] ->
 * 32 (288 taps) this loop took 121 ms against 69 ms by the patch matrix,
 * where for [128,28,28,1] -> 32 it took 3.2 against 6.9 ms (2 threads).
 */
export const MAX_DIRECT_TAPS = 288;
export const MAX_DIRECT_TAPS_WIDE = 27;
/** Output pixels summed in float32 per call before the sums go into float64. */
const PIXELS_PER_CALL = 2048;
/** Accumulator vectors per generated function. */
const MAX_ACCUMULATORS = 16;

/** Whether {@link addDirectFilterGrad} takes geometry `g` (on a backend with SIMD). */
export function directFilterGradApplies(g: ConvGeometry): boolean {
  const taps = g.filterHeight * g.filterWidth * g.inChannels;
  return (
    !g.channelsFirst &&
    g.strideHeight === 1 && g.strideWidth === 1 && g.dilationHeight === 1 && g.dilationWidth === 1 &&
    g.filterOutChannels % 4 === 0 && g.filterOutChannels <= MAX_DIRECT_OUT_CHANNELS &&
    taps <= (g.filterOutChannels <= 16 ? MAX_DIRECT_TAPS : MAX_DIRECT_TAPS_WIDE)
  );
}

// Parameters, then locals.
const X = 0, DY = 1, OUT = 2, IMAGES = 3, XA = 4, DA = 5, IMG = 6, OH = 7, OW = 8, S = 9, B = 10;

/**
 * `fn(xp, dy, out, images)`: for `images` whole images from byte addresses
 * `xp` (padded input) and `dy`, writes `out[l, co] = sum over pixels of
 * xp[pixel + lanes[l]] * dy[pixel, co]` (float32, `[lanes, Co]`, overwritten).
 * `lanes` are byte offsets from an output pixel's top-left input pixel.
 */
function directFilterGradSimd(name: string, lanes: number[], Co: number, Ho: number, Wo: number, Wp: number, Ci: number, Kh: number): SimdFunction {
  const G = Co / 4;
  const bs = Array.from({ length: G }, (_, g) => B + g);
  const acc = (l: number, g: number) => B + G + l * G + g;
  const { localGet: get, localSet: set } = op;
  const addTo = (local: number, bytes: number): number[][] => [get(local), op.i32Const(bytes), op.i32Add, set(local)];
  const count = (local: number, limit: number[][], body: number[][]): number[][] => [
    op.i32Const(0), set(local),
    op.block, op.loop,
    get(local), ...limit, op.i32GeU, op.brIf(1),
    ...body,
    ...addTo(local, 1),
    op.br(0), op.end, op.end,
  ];
  const pixel: number[][] = [
    ...bs.flatMap((b, g) => [get(DA), op.v128Load(16 * g), set(b)]),
    ...lanes.flatMap((offset, l) => [
      get(XA), op.f32Load(offset), op.f32x4Splat, set(S),
      ...bs.flatMap((b, g) => [get(acc(l, g)), get(S), get(b), op.f32x4Mul, op.f32x4Add, set(acc(l, g))]),
    ]),
    ...addTo(XA, 4 * Ci),
    ...addTo(DA, 4 * Co),
  ];
  return {
    name,
    params: [I32, I32, I32, I32],
    results: [],
    locals: [I32, I32, I32, I32, I32, V128, ...bs.map(() => V128), ...lanes.flatMap(() => bs.map(() => V128))],
    body: [
      ...lanes.flatMap((_, l) => bs.flatMap((__, g) => [op.f32Const(0), op.f32x4Splat, set(acc(l, g))])),
      get(X), set(XA),
      get(DY), set(DA),
      ...count(IMG, [get(IMAGES)], [
        ...count(OH, [op.i32Const(Ho)], [
          ...count(OW, [op.i32Const(Wo)], [pixel.flat()]),
          ...addTo(XA, 4 * Ci * (Wp - Wo)), // the padding columns at the row's end
        ]),
        ...addTo(XA, 4 * Ci * Wp * (Kh - 1)), // the padding rows at the image's end
      ]),
      ...lanes.flatMap((_, l) => bs.flatMap((__, g) => [get(OUT), get(acc(l, g)), op.v128Store(4 * (l * Co + 4 * g))])),
    ],
  };
}

/**
 * Adds the filter gradient of `x` `[N,H,W,Ci]` and `dy` `[N,Ho,Wo,Co]` (NHWC
 * float32 on the wasm backend) to `acc` (float64 `[Kh*Kw*Ci*Co]`, filter
 * order) and returns true; returns false, with `acc` untouched, where
 * {@link directFilterGradApplies} is false or the engine lacks SIMD.
 *
 * @example
 * const acc = new Float64Array(3 * 3 * 8 * 16);
 * if (addDirectFilterGrad(host, x, dy, g, acc)) { ... } // else the patch-matrix route
 */
export function addDirectFilterGrad(host: KernelHost, x: tf.TensorInfo, dy: tf.TensorInfo, g: ConvGeometry, acc: Float64Array): boolean {
  if (host.backendName !== "wasm" || !directFilterGradApplies(g)) return false;
  const { batch: N, inHeight: H, inWidth: W, inChannels: Ci, outHeight: Ho, outWidth: Wo, filterHeight: Kh, filterWidth: Kw, filterOutChannels: Co } = g;
  const Hp = Ho + Kh - 1, Wp = Wo + Kw - 1;
  const lanesPerCall = Math.max(1, Math.floor(MAX_ACCUMULATORS / (Co / 4)));
  const offsets: number[] = [];
  for (let kh = 0; kh < Kh; kh++) for (let kw = 0; kw < Kw; kw++) for (let ci = 0; ci < Ci; ci++) offsets.push(4 * ((kh * Wp + kw) * Ci + ci));
  const groups: number[][] = [];
  for (let l0 = 0; l0 < offsets.length; l0 += lanesPerCall) groups.push(offsets.slice(l0, l0 + lanesPerCall));
  const key = `directFilterGrad:${Ci}:${Co}:${Ho}:${Wo}:${Kh}:${Kw}`;
  const kernels = simdKernels(host.backend, key, () => groups.map((lanes, i) => directFilterGradSimd(`g${i}`, lanes, Co, Ho, Wo, Wp, Ci, Kh)));
  if (kernels === null) return false;
  if (N === 0 || Ho === 0 || Wo === 0) return true;
  const xp = host.zeros([N, Hp, Wp, Ci]);
  const partial = host.alloc([lanesPerCall, Co]);
  try {
    const xpv = host.f32(xp), xv = host.f32(x), dyv = host.f32(dy), pv = host.f32(partial);
    // At stride 1 the padded image holds the whole input: Hp = padTop + H + padBottom, and so for the width.
    const rowFloats = W * Ci;
    for (let n = 0; n < N; n++) {
      for (let ih = 0; ih < H; ih++) {
        const from = (n * H + ih) * rowFloats;
        xpv.set(xv.subarray(from, from + rowFloats), ((n * Hp + ih + g.padTop) * Wp + g.padLeft) * Ci);
      }
    }
    const imagesPerCall = Math.max(1, Math.floor(PIXELS_PER_CALL / (Ho * Wo)));
    groups.forEach((lanes, i) => {
      const fn = kernels[`g${i}`] as (xp: number, dy: number, out: number, images: number) => void;
      const base = i * lanesPerCall * Co;
      for (let n0 = 0; n0 < N; n0 += imagesPerCall) {
        const images = Math.min(imagesPerCall, N - n0);
        fn(xpv.byteOffset + 4 * n0 * Hp * Wp * Ci, dyv.byteOffset + 4 * n0 * Ho * Wo * Co, pv.byteOffset, images);
        for (let k = 0; k < lanes.length * Co; k++) acc[base + k] += pv[k];
      }
    });
  } finally {
    host.dispose(xp);
    host.dispose(partial);
  }
  return true;
}
