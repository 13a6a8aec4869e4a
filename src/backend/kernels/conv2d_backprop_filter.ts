/**
 * `Conv2DBackpropFilter`: the gradient of a 2-D convolution with respect to
 * its filter, `dW[kh,kw,ci,co] = sum over n,oh,ow of x[n, ih, iw, ci] * dy[n, oh, ow, co]`
 * with `ih = oh*strideH + kh*dilationH - padTop` (TensorFlow's definition).
 *
 * Computed as matrix products of a patch matrix (im2col) with `dy`, one per
 * chunk of images, on the backend's own `BatchMatMul` (XNNPACK on wasm).
 * Chunking keeps the contraction length near {@link CHUNK_PIXELS}: XNNPACK
 * does not block the contraction dimension, and for [512,14,14,32] x
 * [512,14,14,64] one product over all 100k pixels took 193 ms where eight
 * over 12k took 104 ms (measured; 6k-24k within 10%).
 */
import { tf } from "../tf";
import {
  ConvAttrs,
  ConvGeometry,
  checkFloat32,
  checkShape,
  convGeometry,
  outShapeNHWC,
} from "./conv_geometry";
import { KernelBackendName, KernelHost } from "./host";
import { im2colPixelMajor, im2colTapMajor } from "./im2col";
import { MAX_SIMD_OUT_CHANNELS } from "./conv2d_filter_grad_simd";
import { tiledFilterGrad } from "./conv2d_filter_grad_tiled";
import { winogradFilterGrad } from "./conv2d_filter_grad_winograd";

/** Output pixels (rows of `dy`) per matrix product; a chunk holds whole images. */
export const CHUNK_PIXELS = 12288;

/**
 * The filter gradient for NHWC `x` `[N,H,W,Ci]` and `dy` `[N,Ho,Wo,Co]`;
 * returns new data of shape `[Kh,Kw,Ci,Co]`.
 *
 * Two layouts of the product. Tap-major, `patchesT [Kh*Kw*Ci, P] x dy [P, Co]`,
 * needs `x` transposed to `[Ci, N, H, W]` (free with one input channel);
 * pixel-major, `dyT [Co, P] x patches [P, Kh*Kw*Ci]`, needs `dy` transposed
 * and has XNNPACK pack the whole patch matrix as its "weights" on every call.
 * Tap-major is used when `Co <= Kh*Kw*Ci`, and for more than
 * {@link MAX_SIMD_OUT_CHANNELS} output channels (the small ResNet's 1x1 stride-2 projection
 * 64 -> 128: 4.0-4.9 ms per training step pixel-major, 2.6-3.2 tap-major).
 * The rest, first layers and 1x1 projections to up to 64 channels, runs
 * pixel-major.
 *
 * On wasm with SIMD, every geometry with a multiple of 4 output channels
 * skips the patch matrix altogether (conv2d_filter_grad_tiled.ts), and 3x3
 * convolutions at stride 1 or 2 with channels in multiples of 4 use
 * Winograd's minimal filtering (conv2d_filter_grad_winograd.ts); the
 * patch-matrix routes serve the `cpu` backend and the other channel counts.
 *
 * @example
 * const host = new KernelHost("wasm", backend);
 * const dw = conv2dFilterGradNHWC(host, x, dy, convGeometry("demo", x.shape, [3, 3, 32, 64], { pad: "same" }, false));
 */
export function conv2dFilterGradNHWC(host: KernelHost, x: tf.TensorInfo, dy: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const { batch: N, outHeight: Ho, outWidth: Wo, filterOutChannels: Co } = g;
  const taps = g.filterHeight * g.filterWidth * g.inChannels;
  const pixelsPerImage = Ho * Wo;
  // 3x3 at stride 1 or 2 on wasm: Winograd (conv2d_filter_grad_winograd.ts).
  const winograd = winogradFilterGrad(host, x, dy, g);
  if (winograd !== null) return winograd;
  // On wasm with Co a multiple of 4: no patch matrix (conv2d_filter_grad_tiled.ts).
  const tiled = tiledFilterGrad(host, x, dy, g);
  if (tiled !== null) return tiled;
  const acc = new Float64Array(taps * Co);
  if (N > 0 && pixelsPerImage > 0 && taps > 0 && Co > 0) {
    const imagesPerChunk = Math.max(1, Math.min(N, Math.floor(CHUNK_PIXELS / pixelsPerImage)));
    const tapMajor = Co <= taps || Co > MAX_SIMD_OUT_CHANNELS;
    // [Ci, N, H, W]: each patch-matrix row then copies contiguous input rows.
    const xT = !tapMajor
      ? null
      : g.inChannels === 1
        ? host.alias(x, [1, N, g.inHeight, g.inWidth])
        : host.run("Transpose", { x }, { perm: [3, 0, 1, 2] });
    try {
      for (let n0 = 0; n0 < N; n0 += imagesPerChunk) {
        const n1 = Math.min(N, n0 + imagesPerChunk);
        const P = (n1 - n0) * pixelsPerImage;
        if (tapMajor) {
          const patches = host.alloc([1, taps, P]);
          im2colTapMajor(host.f32(xT!), g, n0, n1, host.f32(patches));
          const dyChunk = sliceImages(host, dy, n0, n1, N, pixelsPerImage * Co, [1, P, Co]);
          try {
            const out = host.run("BatchMatMul", { a: patches, b: dyChunk.info }, { transposeA: false, transposeB: false });
            const o = host.f32(out);
            for (let i = 0; i < acc.length; i++) acc[i] += o[i];
            host.dispose(out);
          } finally {
            host.dispose(patches);
            if (dyChunk.owned) host.dispose(dyChunk.info);
          }
          continue;
        }
        const patches = host.alloc([1, P, taps]);
        try {
          im2colPixelMajor(host.f32(x), g, n0, n1, host.f32(patches));
          const dyChunk = sliceImages(host, dy, n0, n1, N, pixelsPerImage * Co, [1, P, Co]);
          try {
            const out = matMulTransposedA(host, dyChunk.info, patches, P, Co, taps);
            // out is [Co, taps]; the filter is [taps, Co].
            const o = host.f32(out);
            for (let co = 0; co < Co; co++) {
              for (let q = 0; q < taps; q++) acc[q * Co + co] += o[co * taps + q];
            }
            host.dispose(out);
          } finally {
            if (dyChunk.owned) host.dispose(dyChunk.info);
          }
        } finally {
          host.dispose(patches);
        }
      }
    } finally {
      if (xT != null && g.inChannels !== 1) host.dispose(xT);
    }
  }
  const result = host.alloc([g.filterHeight, g.filterWidth, g.inChannels, Co]);
  host.f32(result).set(acc);
  return result;
}

/** `a^T b` for `a` `[1, P, M]` and `b` `[1, P, K]`, as `[1, M, K]`. */
function matMulTransposedA(host: KernelHost, a: tf.TensorInfo, b: tf.TensorInfo, P: number, M: number, K: number): tf.TensorInfo {
  if (host.backendName === "cpu") {
    return host.run("BatchMatMul", { a, b }, { transposeA: true, transposeB: false });
  }
  // wasm's BatchMatMul takes a slow non-XNNPACK path for any transpose flag.
  const aT = host.run("Transpose", { x: host.alias(a, [P, M]) }, { perm: [1, 0] });
  try {
    return host.run("BatchMatMul", { a: host.alias(aT, [1, M, P]), b }, { transposeA: false, transposeB: false });
  } finally {
    host.dispose(aT);
  }
}

/**
 * Images `[n0, n1)` of a batch-major tensor as `shape`: an alias when that is
 * the whole batch, else a copy the caller must dispose.
 *
 * @example
 * const chunk = sliceImages(host, dy, 0, 128, 512, 14 * 14 * 64, [1, 128 * 14 * 14, 64]);
 * // ... use chunk.info ...
 * if (chunk.owned) host.dispose(chunk.info);
 */
export function sliceImages(
  host: KernelHost,
  t: tf.TensorInfo,
  n0: number,
  n1: number,
  N: number,
  perImage: number,
  shape: number[],
): { info: tf.TensorInfo; owned: boolean } {
  if (n0 === 0 && n1 === N) return { info: host.alias(t, shape), owned: false };
  const out = host.alloc(shape);
  const src = host.f32(t);
  host.f32(out).set(src.subarray(n0 * perImage, n1 * perImage));
  return { info: out, owned: true };
}

/** Attributes of the Conv2DBackpropFilter kernel (`dilations` is an extension tfjs-core never sets). */
export interface Conv2DBackpropFilterAttrs extends ConvAttrs {
  filterShape: number[];
}

/**
 * The kernel function for `backendName`: checks inputs `x` `[N,H,W,Ci]` and
 * `dy` `[N,Ho,Wo,Co]` (NCHW when `dataFormat` is `"NCHW"`) and returns the
 * filter gradient `[Kh,Kw,Ci,Co]`.
 *
 * @example
 * tf.registerKernel({ kernelName: "Conv2DBackpropFilter", backendName: "wasm",
 *   kernelFunc: conv2dBackpropFilterKernel("wasm") });
 */
export function conv2dBackpropFilterKernel(backendName: KernelBackendName): tf.KernelFunc {
  const where = `Conv2DBackpropFilter (${backendName})`;
  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x?: tf.TensorInfo; dy?: tf.TensorInfo };
    if (x == null || dy == null) throw new Error(`${where}: inputs x and dy are required`);
    const a = (attrs ?? {}) as unknown as Conv2DBackpropFilterAttrs;
    checkFloat32(where, "x", x.dtype);
    checkFloat32(where, "dy", dy.dtype);
    const g = convGeometry(where, x.shape, a.filterShape ?? [], a, false);
    const host = new KernelHost(backendName, backend);
    if (!g.channelsFirst) {
      checkShape(where, "dy", dy.shape, outShapeNHWC(g));
      return conv2dFilterGradNHWC(host, x, dy, g);
    }
    checkShape(where, "dy", dy.shape, [g.batch, g.outChannels, g.outHeight, g.outWidth]);
    const xNHWC = host.run("Transpose", { x }, { perm: [0, 2, 3, 1] });
    const dyNHWC = host.run("Transpose", { x: dy }, { perm: [0, 2, 3, 1] });
    try {
      return conv2dFilterGradNHWC(host, xNHWC, dyNHWC, g);
    } finally {
      host.dispose(xNHWC);
      host.dispose(dyNHWC);
    }
  };
}
