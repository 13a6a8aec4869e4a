/**
 * `DepthwiseConv2dNativeBackpropFilter`: the gradient of a depthwise
 * convolution with respect to its filter `[Kh,Kw,Ci,M]`,
 * `dW[kh,kw,ci,m] = sum over n,oh,ow of x[n, ih, iw, ci] * dy[n, oh, ow, ci*M+m]`.
 *
 * Each filter tap is a per-channel dot product with no shared operand that
 * a matrix product could exploit, so this is one pass of plain loops over
 * `dy` with the channel loop innermost (contiguous in both tensors).
 */
import { tf } from "../tf";
import { ConvAttrs, ConvGeometry, checkFloat32, checkShape, convGeometry, outShapeNHWC, validRange } from "./conv_geometry";
import { KernelBackendName, KernelHost } from "./host";

/**
 * The filter gradient `[Kh,Kw,Ci,M]` for `x` `[N,H,W,Ci]` and `dy` `[N,Ho,Wo,Ci*M]`, as new data.
 *
 * @example
 * const dw = depthwiseFilterGrad(host, x, dy, convGeometry("demo", x.shape, [3, 3, 16, 2], { pad: "same" }, true));
 */
export function depthwiseFilterGrad(host: KernelHost, x: tf.TensorInfo, dy: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const { inHeight: H, inWidth: W, inChannels: Ci, outHeight: Ho, outWidth: Wo, filterOutChannels: M } = g;
  const C = Ci * M;
  const acc = new Float64Array(g.filterHeight * g.filterWidth * C);
  const xv = host.f32(x);
  const dv = host.f32(dy);
  for (let kh = 0; kh < g.filterHeight; kh++) {
    const [ohLo, ohHi] = validRange(kh, g.strideHeight, g.dilationHeight, g.padTop, H, Ho);
    for (let kw = 0; kw < g.filterWidth; kw++) {
      const [owLo, owHi] = validRange(kw, g.strideWidth, g.dilationWidth, g.padLeft, W, Wo);
      const tap = (kh * g.filterWidth + kw) * C;
      for (let n = 0; n < g.batch; n++) {
        for (let oh = ohLo; oh < ohHi; oh++) {
          const ih = oh * g.strideHeight + kh * g.dilationHeight - g.padTop;
          for (let ow = owLo; ow < owHi; ow++) {
            const iw = ow * g.strideWidth + kw * g.dilationWidth - g.padLeft;
            const xs = ((n * H + ih) * W + iw) * Ci;
            const ds = ((n * Ho + oh) * Wo + ow) * C;
            if (M === 1) {
              for (let c = 0; c < C; c++) acc[tap + c] += xv[xs + c] * dv[ds + c];
            } else {
              for (let ci = 0; ci < Ci; ci++) {
                const xval = xv[xs + ci];
                const base = ci * M;
                for (let m = 0; m < M; m++) acc[tap + base + m] += xval * dv[ds + base + m];
              }
            }
          }
        }
      }
    }
  }
  const out = host.alloc([g.filterHeight, g.filterWidth, Ci, M]);
  host.f32(out).set(acc);
  return out;
}

/** Attributes of the DepthwiseConv2dNativeBackpropFilter kernel. */
export interface DepthwiseBackpropFilterAttrs extends ConvAttrs {
  filterShape: number[];
}

/**
 * The kernel function for `backendName`: checks `x` `[N,H,W,Ci]` and `dy`
 * `[N,Ho,Wo,Ci*M]` (NHWC only, as in tfjs-core) and returns the filter
 * gradient of shape `filterShape` `[Kh,Kw,Ci,M]`.
 *
 * @example
 * tf.registerKernel({ kernelName: "DepthwiseConv2dNativeBackpropFilter", backendName: "wasm",
 *   kernelFunc: depthwiseConv2dBackpropFilterKernel("wasm") });
 */
export function depthwiseConv2dBackpropFilterKernel(backendName: KernelBackendName): tf.KernelFunc {
  const where = `DepthwiseConv2dNativeBackpropFilter (${backendName})`;
  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x?: tf.TensorInfo; dy?: tf.TensorInfo };
    if (x == null || dy == null) throw new Error(`${where}: inputs x and dy are required`);
    const a = (attrs ?? {}) as unknown as DepthwiseBackpropFilterAttrs;
    if (a.dataFormat != null && a.dataFormat !== "NHWC") {
      throw new Error(`${where}: dataFormat must be 'NHWC', got '${a.dataFormat}'`);
    }
    checkFloat32(where, "x", x.dtype);
    checkFloat32(where, "dy", dy.dtype);
    const g = convGeometry(where, x.shape, a.filterShape ?? [], a, true);
    checkShape(where, "dy", dy.shape, outShapeNHWC(g));
    return depthwiseFilterGrad(new KernelHost(backendName, backend), x, dy, g);
  };
}
