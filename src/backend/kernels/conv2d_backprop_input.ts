/**
 * `Conv2DBackpropInput`: the gradient of a 2-D convolution with respect to
 * its input, computed as forward convolutions (the backend's fast `Conv2D`,
 * XNNPACK on wasm) of `dy` with the filter flipped in space and transposed
 * in channels. On wasm, 3x3 convolutions at stride 1
 * or 2 with channels in multiples of 4 take Winograd over `dy` first
 * (`winogradInputGradRoute`: at stride 1 the flipped filter's convolution,
 * at stride 2 the scheme of winograd_scheme.ts for input gradients).
 *
 * Stride 1: one convolution, `dx = conv(dy, flip(W)^T)`. Derivation:
 * `dx[i] = sum_k dy[i + padTop - k*dilation] * W[k]`; substituting
 * `k = Kh-1-k'` makes it a correlation with the flipped filter, dilation
 * unchanged, stride 1, top padding `(Kh-1)*dilation - padTop` and bottom
 * padding `H - Ho + padTop`. A negative padding means rows of `dy` that touch
 * no input pixel: they are cropped.
 *
 * Stride s > 1 (dilation 1): one convolution per phase, the input positions
 * `s*i + r` for r = 0..s-1 along each axis ({@link phaseAxis}). Only the taps
 * `k = r + padTop (mod s)` reach a phase, and they read `dy` at stride 1, so
 * each phase is a stride-1 correlation of `dy` with those taps; the phases'
 * taps add up to the filter, so the multiply-adds are the forward pass's.
 * The transposed convolution on `dy` with `s - 1` zeros between pixels
 * would spend s^2 times that, most of it on the zeros. With dilation and
 * stride both above 1 (no tfjs layer makes it) that zero-inserted form is
 * still used.
 *
 * On wasm with SIMD, strided filters with more than one tap and a multiple
 * of 4 input channels take neither: a scatter loop of our own
 * (conv2d_input_grad_tiled.ts) was 2.4x faster for the small ResNet's
 * [128,28,28,16] -> 32 layer (6.6 against 16.1 ms, 2 threads) and as fast
 * for its deeper strided layers. Strided 1x1 filters stay on the phases:
 * one phase, one plain XNNPACK convolution (2.0 ms here against 2.7 ms for
 * the scatter, which zeroes and crops a padded gradient 4 times the size
 * of what it computes).
 */
import { tf } from "../tf";
import { ConvAttrs, ConvGeometry, checkFloat32, checkShape, convGeometry } from "./conv_geometry";
import { KernelBackendName, KernelHost } from "./host";
import { tiledInputGrad } from "./conv2d_input_grad_tiled";
import { copyPixels } from "./pixel_copy";
import { conv2dWinograd, winogradInputGradRoute } from "./conv2d_winograd";

/** How `dy'` sits in the convolution's input along one spatial axis. */
export interface TransposedAxis {
  /** Length of `dy` with zeros inserted: `(out-1)*stride + 1`. */
  dilatedLength: number;
  /** Leading rows of `dy'` to drop (negative front padding). */
  cropFront: number;
  /** Trailing rows of `dy'` to drop (negative back padding). */
  cropBack: number;
  /** Non-negative zero padding before and after what is kept. */
  padFront: number;
  padBack: number;
}

/**
 * The transposed-convolution layout of one axis.
 *
 * @param inSize Input length (`H` or `W`) of the forward convolution.
 * @param outSize Its output length (`Ho` or `Wo`).
 * @example
 * transposedAxis(7, 4, 3, 2, 1, 1) // stride 2, 'same' on 7: { dilatedLength: 7, padFront: 1, padBack: 1, .. }
 */
export function transposedAxis(
  inSize: number,
  outSize: number,
  filterSize: number,
  stride: number,
  dilation: number,
  padFront: number,
): TransposedAxis {
  const dilatedLength = (outSize - 1) * stride + 1;
  const front = (filterSize - 1) * dilation - padFront;
  const back = inSize - dilatedLength + padFront;
  return {
    dilatedLength,
    cropFront: Math.max(0, -front),
    cropBack: Math.max(0, -back),
    padFront: Math.max(0, front),
    padBack: Math.max(0, back),
  };
}

/** How the input positions `stride*i + phase` of one axis read `dy` (stride > 1, dilation 1). */
export interface PhaseAxis {
  /** Filter taps of the phase in the order its stride-1 correlation applies them (descending). */
  taps: number[];
  /** Input positions in the phase: `ceil((inSize - phase) / stride)`. */
  length: number;
  /** Leading and trailing rows of `dy` to drop (negative padding). */
  cropFront: number;
  cropBack: number;
  /** Non-negative zero padding of `dy` before and after. */
  padFront: number;
  padBack: number;
}

/**
 * The stride-1 correlation that gives the input gradient at positions
 * `stride*i + phase` along one axis.
 *
 * Input position `ih` receives `dy[oh] W[k]` where `oh*stride + k - padFront
 * = ih`, so only taps `k = phase + padFront (mod stride)` reach the phase:
 * `k0, k0 + stride, ..`. With `c = (phase + padFront - k0) / stride`,
 * `dx[stride*i + phase] = sum_j dy[i + c - j] W[k0 + j*stride]`, a
 * correlation of `dy` with those taps in reverse, padded by `J - 1 - c` in
 * front (J taps) and by whatever makes the output `length` long behind.
 *
 * @param inSize Input length (`H` or `W`) of the forward convolution.
 * @param outSize Its output length (`Ho` or `Wo`).
 * @example
 * phaseAxis(28, 14, 3, 2, 0, 0) // { taps: [2, 0], length: 14, padFront: 1, padBack: 0, .. }
 */
export function phaseAxis(inSize: number, outSize: number, filterSize: number, stride: number, padFront: number, phase: number): PhaseAxis {
  const length = phase < inSize ? Math.ceil((inSize - phase) / stride) : 0;
  const k0 = (((phase + padFront) % stride) + stride) % stride;
  const taps: number[] = [];
  for (let k = k0; k < filterSize; k += stride) taps.unshift(k);
  const c = (phase + padFront - k0) / stride;
  const front = taps.length - 1 - c;
  const back = length - outSize - front + taps.length - 1;
  return { taps, length, cropFront: Math.max(0, -front), cropBack: Math.max(0, -back), padFront: Math.max(0, front), padBack: Math.max(0, back) };
}

/** One phase of a strided input gradient: its axes and the rows and columns of `dy` it keeps. */
interface Phase {
  ph: number;
  pw: number;
  rows: PhaseAxis;
  cols: PhaseAxis;
  keptH: number;
  keptW: number;
}

/**
 * The input gradient of a strided convolution (dilation 1), one stride-1
 * convolution per phase ({@link phaseAxis}), each written into every
 * `stride`-th pixel of `dx`; phases no tap reaches stay zero.
 */
function conv2dInputGradByPhases(host: KernelHost, dy: tf.TensorInfo, filter: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const { batch: N, inHeight: H, inWidth: W, inChannels: Ci, strideHeight: sh, strideWidth: sw } = g;
  const phases: Phase[] = [];
  for (let ph = 0; ph < sh; ph++) {
    const rows = phaseAxis(H, g.outHeight, g.filterHeight, sh, g.padTop, ph);
    for (let pw = 0; pw < sw; pw++) {
      const cols = phaseAxis(W, g.outWidth, g.filterWidth, sw, g.padLeft, pw);
      const keptH = g.outHeight - rows.cropFront - rows.cropBack;
      const keptW = g.outWidth - cols.cropFront - cols.cropBack;
      if (rows.length > 0 && cols.length > 0) phases.push({ ph, pw, rows, cols, keptH, keptW });
    }
  }
  // A phase no tap reaches, or whose dy is all cropped, is zero; when every phase is computed nothing needs zeroing.
  const reached = phases.filter((p) => p.rows.taps.length > 0 && p.cols.taps.length > 0 && p.keptH > 0 && p.keptW > 0);
  const dx = reached.length === phases.length ? host.alloc([N, H, W, Ci]) : host.zeros([N, H, W, Ci]);
  try {
    for (const p of reached) {
      const out = phaseConv(host, dy, filter, g, p);
      const { length: rows } = p.rows, { length: cols } = p.cols;
      try {
        copyPixels(host,
          { view: host.f32(out), at: 0, pixel: Ci, row: cols * Ci, image: rows * cols * Ci },
          { view: host.f32(dx), at: (p.ph * W + p.pw) * Ci, pixel: sw * Ci, row: sh * W * Ci, image: H * W * Ci },
          { images: N, rows, cols, channels: Ci });
      } finally {
        host.dispose(out);
      }
    }
  } catch (err) {
    host.dispose(dx);
    throw err;
  }
  return dx;
}

/** One phase's stride-1 convolution of (cropped) `dy` with its taps of the filter, `[N, rows.length, cols.length, Ci]`. */
function phaseConv(host: KernelHost, dy: tf.TensorInfo, filter: tf.TensorInfo, g: ConvGeometry, p: Phase): tf.TensorInfo {
  const { batch: N, inChannels: Ci, filterOutChannels: Co } = g;
  const { rows, cols } = p;
  const sub = filterTapsTransposed(host, filter, g, rows.taps, cols.taps);
  let cropped: tf.TensorInfo | null = null;
  try {
    if (rows.cropFront + rows.cropBack + cols.cropFront + cols.cropBack > 0) {
      cropped = host.run("Slice", { x: dy }, { begin: [0, rows.cropFront, cols.cropFront, 0], size: [N, p.keptH, p.keptW, Co] });
    }
    const out = host.run("Conv2D", { x: cropped ?? dy, filter: sub }, {
      strides: [1, 1],
      dilations: [1, 1],
      pad: [[0, 0], [rows.padFront, rows.padBack], [cols.padFront, cols.padBack], [0, 0]],
      dataFormat: "NHWC",
    });
    return checkedResult(host, out, [N, rows.length, cols.length, Ci], "Conv2D");
  } finally {
    host.dispose(sub);
    if (cropped != null) host.dispose(cropped);
  }
}

/**
 * The filter's taps `rowTaps` x `colTaps` with input and output channels
 * swapped, `sub[jh, jw, co, ci] = filter[rowTaps[jh], colTaps[jw], ci, co]`,
 * as new data `[rowTaps.length, colTaps.length, Co, Ci]`: the filter of the
 * forward convolutions that give the input gradient.
 */
function filterTapsTransposed(host: KernelHost, filter: tf.TensorInfo, g: ConvGeometry, rowTaps: number[], colTaps: number[]): tf.TensorInfo {
  const { inChannels: Ci, filterOutChannels: Co, filterWidth: Kw } = g;
  const [Jh, Jw] = [rowTaps.length, colTaps.length];
  const sub = host.alloc([Jh, Jw, Co, Ci]);
  const f = host.f32(filter);
  const t = host.f32(sub);
  for (let jh = 0; jh < Jh; jh++) {
    for (let jw = 0; jw < Jw; jw++) {
      const src = (rowTaps[jh] * Kw + colTaps[jw]) * Ci * Co;
      const dst = (jh * Jw + jw) * Co * Ci;
      for (let ci = 0; ci < Ci; ci++) {
        for (let co = 0; co < Co; co++) t[dst + co * Ci + ci] = f[src + ci * Co + co];
      }
    }
  }
  return sub;
}

/**
 * `dy` `[N,Ho,Wo,C]` with `stride-1` zeros between pixels and the crops
 * applied, as new data the caller must dispose.
 *
 * @example
 * // stride 2: dy [N,4,3,C] becomes [N,7,5,C] with zeros between pixels
 * const dyz = dilateAndCrop(host, dy, g, transposedAxis(7, 4, 3, 2, 1, 1), transposedAxis(5, 3, 2, 2, 1, 0));
 */
export function dilateAndCrop(
  host: KernelHost,
  dy: tf.TensorInfo,
  g: ConvGeometry,
  rows: TransposedAxis,
  cols: TransposedAxis,
): tf.TensorInfo {
  const C = g.outChannels;
  const outH = rows.dilatedLength - rows.cropFront - rows.cropBack;
  const outW = cols.dilatedLength - cols.cropFront - cols.cropBack;
  const out = host.zeros([g.batch, outH, outW, C]);
  const src = host.f32(dy);
  const dst = host.f32(out);
  const sh = g.strideHeight;
  const sw = g.strideWidth;
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      const r = oh * sh - rows.cropFront;
      if (r < 0 || r >= outH) continue;
      for (let ow = 0; ow < g.outWidth; ow++) {
        const c = ow * sw - cols.cropFront;
        if (c < 0 || c >= outW) continue;
        const s = ((n * g.outHeight + oh) * g.outWidth + ow) * C;
        dst.set(src.subarray(s, s + C), ((n * outH + r) * outW + c) * C);
      }
    }
  }
  return out;
}

/**
 * Whether `dy` can be fed to the convolution as it is.
 *
 * @example
 * needsDilateOrCrop(g, rows, cols) // false for stride 1 and padding no wider than the filter
 */
export function needsDilateOrCrop(g: ConvGeometry, rows: TransposedAxis, cols: TransposedAxis): boolean {
  return g.strideHeight > 1 || g.strideWidth > 1 ||
    rows.cropFront + rows.cropBack + cols.cropFront + cols.cropBack > 0;
}

/**
 * The input gradient `[N,H,W,Ci]` for NHWC `dy` `[N,Ho,Wo,Co]` and filter
 * `[Kh,Kw,Ci,Co]`, as new data.
 *
 * @example
 * const dx = conv2dInputGradNHWC(host, dy, filter, convGeometry("demo", [512, 14, 14, 32], filter.shape, { pad: "same" }, false));
 */
export function conv2dInputGradNHWC(host: KernelHost, dy: tf.TensorInfo, filter: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const { filterHeight: Kh, filterWidth: Kw, inChannels: Ci, filterOutChannels: Co } = g;
  // 3x3 at stride 1 or 2 on wasm: Winograd over dy (conv2d_winograd.ts).
  const route = winogradInputGradRoute(g);
  const winograd = route === null ? null : conv2dWinograd(host, dy, filter, route.plan, route.reading);
  if (winograd !== null) return winograd;
  // Strided, with more than one tap, on wasm: a SIMD scatter (conv2d_input_grad_tiled.ts).
  if ((g.strideHeight > 1 || g.strideWidth > 1) && Kh * Kw > 1) {
    const tiled = tiledInputGrad(host, dy, filter, g);
    if (tiled !== null) return tiled;
  }
  if ((g.strideHeight > 1 || g.strideWidth > 1) && g.dilationHeight === 1 && g.dilationWidth === 1 && g.batch > 0 && Co > 0) {
    return conv2dInputGradByPhases(host, dy, filter, g);
  }
  const rows = transposedAxis(g.inHeight, g.outHeight, Kh, g.strideHeight, g.dilationHeight, g.padTop);
  const cols = transposedAxis(g.inWidth, g.outWidth, Kw, g.strideWidth, g.dilationWidth, g.padLeft);
  const keptH = rows.dilatedLength - rows.cropFront - rows.cropBack;
  const keptW = cols.dilatedLength - cols.cropFront - cols.cropBack;
  if (g.batch === 0 || g.outHeight === 0 || g.outWidth === 0 || keptH <= 0 || keptW <= 0 || Co === 0) {
    return host.zeros([g.batch, g.inHeight, g.inWidth, Ci]);
  }
  // The whole filter flipped in space: taps Kh-1..0 and Kw-1..0.
  const descending = (size: number) => Array.from({ length: size }, (_, j) => size - 1 - j);
  const flipped = filterTapsTransposed(host, filter, g, descending(Kh), descending(Kw));
  const dilated = needsDilateOrCrop(g, rows, cols) ? dilateAndCrop(host, dy, g, rows, cols) : null;
  let dx: tf.TensorInfo;
  try {
    dx = host.run("Conv2D", { x: dilated ?? dy, filter: flipped }, {
      strides: [1, 1],
      dilations: [g.dilationHeight, g.dilationWidth],
      pad: [[0, 0], [rows.padFront, rows.padBack], [cols.padFront, cols.padBack], [0, 0]],
      dataFormat: "NHWC",
    });
  } finally {
    host.dispose(flipped);
    if (dilated != null) host.dispose(dilated);
  }
  return checkedResult(host, dx, [g.batch, g.inHeight, g.inWidth, Ci], "Conv2D");
}

/**
 * Returns `t` if it has `shape`; else frees it and throws (a bug here, not bad input).
 *
 * @example
 * const dx = checkedResult(host, host.run("Conv2D", inputs, attrs), [N, H, W, Ci], "Conv2D");
 */
export function checkedResult(host: KernelHost, t: tf.TensorInfo, shape: number[], kernelName: string): tf.TensorInfo {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    host.dispose(t);
    throw new Error(`${kernelName} (${host.backendName}) gave shape [${t.shape}] where the gradient needs [${shape}]`);
  }
  return t;
}

/** Attributes of the Conv2DBackpropInput kernel (`dilations` is an extension tfjs-core never sets). */
export interface Conv2DBackpropInputAttrs extends ConvAttrs {
  inputShape: number[];
}

/**
 * The kernel function for `backendName`: checks inputs `dy` `[N,Ho,Wo,Co]`
 * and `filter` `[Kh,Kw,Ci,Co]` (NCHW `dy` when `dataFormat` is `"NCHW"`) and
 * returns the input gradient of shape `inputShape`.
 *
 * @example
 * tf.registerKernel({ kernelName: "Conv2DBackpropInput", backendName: "wasm",
 *   kernelFunc: conv2dBackpropInputKernel("wasm") });
 */
export function conv2dBackpropInputKernel(backendName: KernelBackendName): tf.KernelFunc {
  const where = `Conv2DBackpropInput (${backendName})`;
  return ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy?: tf.TensorInfo; filter?: tf.TensorInfo };
    if (dy == null || filter == null) throw new Error(`${where}: inputs dy and filter are required`);
    const a = (attrs ?? {}) as unknown as Conv2DBackpropInputAttrs;
    checkFloat32(where, "dy", dy.dtype);
    checkFloat32(where, "filter", filter.dtype);
    const g = convGeometry(where, a.inputShape ?? [], filter.shape, a, false);
    const host = new KernelHost(backendName, backend);
    if (!g.channelsFirst) {
      checkShape(where, "dy", dy.shape, [g.batch, g.outHeight, g.outWidth, g.outChannels]);
      return conv2dInputGradNHWC(host, dy, filter, g);
    }
    checkShape(where, "dy", dy.shape, [g.batch, g.outChannels, g.outHeight, g.outWidth]);
    const dyNHWC = host.run("Transpose", { x: dy }, { perm: [0, 2, 3, 1] });
    try {
      const dxNHWC = conv2dInputGradNHWC(host, dyNHWC, filter, g);
      try {
        return host.run("Transpose", { x: dxNHWC }, { perm: [0, 3, 1, 2] });
      } finally {
        host.dispose(dxNHWC);
      }
    } finally {
      host.dispose(dyNHWC);
    }
  };
}
