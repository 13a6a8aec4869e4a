/**
 * `Conv2DBackpropInput`: the gradient of a 2-D convolution with respect to
 * its input, computed as a forward convolution (the backend's fast `Conv2D`,
 * XNNPACK on wasm) of `dy` with the filter flipped in space and transposed
 * in channels, `dx = conv(dy', flip(W)^T)`, where `dy'` is `dy` with
 * `stride - 1` zeros inserted between pixels (only when a stride exceeds 1).
 *
 * Derivation: `dx[i] = sum_k dy'[i + padTop - k*dilation] * W[k]`; substituting
 * `k = Kh-1-k'` makes it a correlation with the flipped filter, dilation
 * unchanged, stride 1, top padding `(Kh-1)*dilation - padTop` and bottom
 * padding `H - len(dy') + padTop`. A negative padding means rows of `dy'`
 * that touch no input pixel: they are cropped.
 */
import { tf } from "../tf";
import { ConvAttrs, ConvGeometry, checkFloat32, checkShape, convGeometry } from "./conv_geometry";
import { KernelBackendName, KernelHost } from "./host";

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
  const rows = transposedAxis(g.inHeight, g.outHeight, Kh, g.strideHeight, g.dilationHeight, g.padTop);
  const cols = transposedAxis(g.inWidth, g.outWidth, Kw, g.strideWidth, g.dilationWidth, g.padLeft);
  const keptH = rows.dilatedLength - rows.cropFront - rows.cropBack;
  const keptW = cols.dilatedLength - cols.cropFront - cols.cropBack;
  if (g.batch === 0 || g.outHeight === 0 || g.outWidth === 0 || keptH <= 0 || keptW <= 0 || Co === 0) {
    return host.zeros([g.batch, g.inHeight, g.inWidth, Ci]);
  }
  // flipped[kh,kw,co,ci] = filter[Kh-1-kh, Kw-1-kw, ci, co]
  const flipped = host.alloc([Kh, Kw, Co, Ci]);
  {
    const f = host.f32(filter);
    const t = host.f32(flipped);
    for (let kh = 0; kh < Kh; kh++) {
      for (let kw = 0; kw < Kw; kw++) {
        const src = ((Kh - 1 - kh) * Kw + (Kw - 1 - kw)) * Ci * Co;
        const dst = (kh * Kw + kw) * Co * Ci;
        for (let ci = 0; ci < Ci; ci++) {
          for (let co = 0; co < Co; co++) t[dst + co * Ci + ci] = f[src + ci * Co + co];
        }
      }
    }
  }
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
