/**
 * `DepthwiseConv2dNativeBackpropInput`: the gradient of a depthwise
 * convolution (filter `[Kh,Kw,Ci,M]`, output channel `ci*M + m`) with respect
 * to its input, `dx[n,i,j,ci] = sum over kh,kw,m of dy'[.., ci*M+m] * W[kh,kw,ci,m]`.
 *
 * Computed like {@link conv2dInputGradNHWC}: a forward depthwise convolution
 * (the backend's `DepthwiseConv2dNative`, XNNPACK on wasm) of the zero-
 * inserted `dy` over its `Ci*M` channels with the flipped filter reshaped to
 * `[Kh,Kw,Ci*M,1]`, then a sum over each input channel's `M` outputs.
 */
import { tf } from "../tf";
import { ConvAttrs, ConvGeometry, checkFloat32, checkShape, convGeometry, outShapeNHWC } from "./conv_geometry";
import { checkedResult, dilateAndCrop, needsDilateOrCrop, transposedAxis } from "./conv2d_backprop_input";
import { KernelBackendName, KernelHost } from "./host";

/**
 * The input gradient `[N,H,W,Ci]` for `dy` `[N,Ho,Wo,Ci*M]` and filter
 * `[Kh,Kw,Ci,M]`, as new data.
 *
 * @example
 * const dx = depthwiseInputGrad(host, dy, filter, convGeometry("demo", [8, 14, 14, 16], filter.shape, { pad: "same" }, true));
 */
export function depthwiseInputGrad(host: KernelHost, dy: tf.TensorInfo, filter: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const { filterHeight: Kh, filterWidth: Kw, inChannels: Ci, filterOutChannels: M } = g;
  const rows = transposedAxis(g.inHeight, g.outHeight, Kh, g.strideHeight, g.dilationHeight, g.padTop);
  const cols = transposedAxis(g.inWidth, g.outWidth, Kw, g.strideWidth, g.dilationWidth, g.padLeft);
  const keptH = rows.dilatedLength - rows.cropFront - rows.cropBack;
  const keptW = cols.dilatedLength - cols.cropFront - cols.cropBack;
  if (g.batch === 0 || g.outHeight === 0 || g.outWidth === 0 || keptH <= 0 || keptW <= 0 || M === 0) {
    return host.zeros([g.batch, g.inHeight, g.inWidth, Ci]);
  }
  // flipped[kh,kw,c,0] = filter[Kh-1-kh, Kw-1-kw, c] over the Ci*M channels c = ci*M+m.
  const C = Ci * M;
  const flipped = host.alloc([Kh, Kw, C, 1]);
  {
    const f = host.f32(filter);
    const t = host.f32(flipped);
    for (let kh = 0; kh < Kh; kh++) {
      for (let kw = 0; kw < Kw; kw++) {
        const src = ((Kh - 1 - kh) * Kw + (Kw - 1 - kw)) * C;
        t.set(f.subarray(src, src + C), (kh * Kw + kw) * C);
      }
    }
  }
  const dilated = needsDilateOrCrop(g, rows, cols) ? dilateAndCrop(host, dy, g, rows, cols) : null;
  let perOutput: tf.TensorInfo;
  try {
    perOutput = host.run("DepthwiseConv2dNative", { x: dilated ?? dy, filter: flipped }, {
      strides: [1, 1],
      dilations: [g.dilationHeight, g.dilationWidth],
      pad: [[0, 0], [rows.padFront, rows.padBack], [cols.padFront, cols.padBack], [0, 0]],
      dataFormat: "NHWC",
    });
  } finally {
    host.dispose(flipped);
    if (dilated != null) host.dispose(dilated);
  }
  perOutput = checkedResult(host, perOutput, [g.batch, g.inHeight, g.inWidth, C], "DepthwiseConv2dNative");
  if (M === 1) return perOutput;
  try {
    return host.run("Sum", { x: host.alias(perOutput, [g.batch, g.inHeight, g.inWidth, Ci, M]) }, { axis: [4], keepDims: false });
  } finally {
    host.dispose(perOutput);
  }
}

/** Attributes of the DepthwiseConv2dNativeBackpropInput kernel. */
export interface DepthwiseBackpropInputAttrs extends ConvAttrs {
  inputShape: number[];
}

/**
 * The kernel function for `backendName`: checks `dy` `[N,Ho,Wo,Ci*M]` and
 * `filter` `[Kh,Kw,Ci,M]` (NHWC only, as in tfjs-core) and returns the input
 * gradient of shape `inputShape`.
 *
 * @example
 * tf.registerKernel({ kernelName: "DepthwiseConv2dNativeBackpropInput", backendName: "wasm",
 *   kernelFunc: depthwiseConv2dBackpropInputKernel("wasm") });
 */
export function depthwiseConv2dBackpropInputKernel(backendName: KernelBackendName): tf.KernelFunc {
  const where = `DepthwiseConv2dNativeBackpropInput (${backendName})`;
  return ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy?: tf.TensorInfo; filter?: tf.TensorInfo };
    if (dy == null || filter == null) throw new Error(`${where}: inputs dy and filter are required`);
    const a = (attrs ?? {}) as unknown as DepthwiseBackpropInputAttrs;
    if (a.dataFormat != null && a.dataFormat !== "NHWC") {
      throw new Error(`${where}: dataFormat must be 'NHWC', got '${a.dataFormat}'`);
    }
    checkFloat32(where, "dy", dy.dtype);
    checkFloat32(where, "filter", filter.dtype);
    const g = convGeometry(where, a.inputShape ?? [], filter.shape, a, true);
    checkShape(where, "dy", dy.shape, outShapeNHWC(g));
    return depthwiseInputGrad(new KernelHost(backendName, backend), dy, filter, g);
  };
}
