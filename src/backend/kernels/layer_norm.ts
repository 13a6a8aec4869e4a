/**
 * Layer normalization (Ba, Kiros & Hinton 2016) over the last axis as two
 * kernels, where tfjs composes it from nine kernels forward and about twenty
 * backward (`models.createLayerNorm` calls them when the backend has them):
 *
 * - `SslLayerNorm`: `x` `[..., D]`, `gain`, `bias` `[D]` -> `y` like `x`, and
 *   per row its `mean` and `invStd` = 1/sqrt(variance + epsilon) `[rows]`:
 *   `y = (x - mean) invStd gain + bias`, the variance biased, as tf.moments.
 * - `SslLayerNormGrad`: `dy`, `x`, `mean`, `invStd`, `gain` -> `dx` like `x`,
 *   `dgain`, `dbias` `[D]`; with `xhat = (x - mean) invStd` and
 *   `g = dy gain` per row of `D` values:
 *
 *     dbias = sum over rows of dy,  dgain = sum over rows of dy xhat,
 *     dx = invStd (g - mean(g) - xhat mean(g xhat)).
 *
 * Sums run in float64. The transformer's rows are short (32-64 values), so
 * what this saves is kernel calls: in a tiny model each costs more in
 * dispatch than in arithmetic.
 */
import { tf } from "../tf";
import { checkFloat32, checkFloat32Input, positiveAttr } from "./conv_geometry";
import { KernelBackendName, KernelHost } from "./host";

/** Name of the forward kernel. */
export const LAYER_NORM = "SslLayerNorm";
/** Name of the gradient kernel. */
export const LAYER_NORM_GRAD = "SslLayerNormGrad";

/** `[rows, D]` of a tensor `[..., D]`, checked: float32, rank >= 1, D >= 1. */
function rowsAndWidth(where: string, name: string, t: tf.TensorInfo): [number, number] {
  checkFloat32(where, name, t.dtype);
  const d = t.shape[t.shape.length - 1];
  if (t.shape.length < 1 || !(d >= 1)) throw new Error(`${where}: ${name} must be [..., D] with D >= 1, got [${t.shape}]`);
  return [t.shape.reduce((a, b) => a * b, 1) / d, d];
}

/**
 * The forward kernel function for `backendName` (see the module comment).
 *
 * @example
 * tf.registerKernel({ kernelName: LAYER_NORM, backendName: "wasm", kernelFunc: layerNormKernel("wasm") });
 * const [y, mean, invStd] = tf.engine().runKernel(LAYER_NORM, { x, gain, bias }, { epsilon: 1e-5 }) as tf.Tensor[];
 */
export function layerNormKernel(backendName: KernelBackendName): tf.KernelFunc {
  const where = `${LAYER_NORM} (${backendName})`;
  return ({ inputs, backend, attrs }) => {
    const { x, gain, bias } = inputs as Record<string, tf.TensorInfo | undefined>;
    if (x == null) throw new Error(`${where}: input x is required`);
    const [rows, D] = rowsAndWidth(where, "x", x);
    checkFloat32Input(where, "gain", gain, [D]);
    checkFloat32Input(where, "bias", bias, [D]);
    const epsilon = positiveAttr(where, attrs, "epsilon");
    const host = new KernelHost(backendName, backend);
    const y = host.alloc(x.shape);
    const meanOut = host.alloc([rows]);
    const invStdOut = host.alloc([rows]);
    const [xv, g, b, yv, mv, sv] = [host.f32(x), host.f32(gain!), host.f32(bias!), host.f32(y), host.f32(meanOut), host.f32(invStdOut)];
    for (let r = 0, o = 0; r < rows; r++, o += D) {
      let sum = 0;
      for (let j = 0; j < D; j++) sum += xv[o + j];
      const mean = sum / D;
      let squares = 0;
      for (let j = 0; j < D; j++) {
        const c = xv[o + j] - mean;
        squares += c * c;
      }
      const invStd = 1 / Math.sqrt(squares / D + epsilon);
      for (let j = 0; j < D; j++) yv[o + j] = (xv[o + j] - mean) * invStd * g[j] + b[j];
      mv[r] = mean;
      sv[r] = invStd;
    }
    return [y, meanOut, invStdOut];
  };
}

/**
 * The gradient kernel function for `backendName` (see the module comment).
 *
 * @example
 * tf.registerKernel({ kernelName: LAYER_NORM_GRAD, backendName: "wasm", kernelFunc: layerNormGradKernel("wasm") });
 * const [dx, dgain, dbias] = tf.engine().runKernel(LAYER_NORM_GRAD, { dy, x, mean, invStd, gain }) as tf.Tensor[];
 */
export function layerNormGradKernel(backendName: KernelBackendName): tf.KernelFunc {
  const where = `${LAYER_NORM_GRAD} (${backendName})`;
  return ({ inputs, backend }) => {
    const { dy, x, mean, invStd, gain } = inputs as Record<string, tf.TensorInfo | undefined>;
    if (x == null || dy == null) throw new Error(`${where}: inputs dy and x are required`);
    const [rows, D] = rowsAndWidth(where, "x", x);
    checkFloat32Input(where, "dy", dy, x.shape);
    checkFloat32Input(where, "mean", mean, [rows]);
    checkFloat32Input(where, "invStd", invStd, [rows]);
    checkFloat32Input(where, "gain", gain, [D]);
    const host = new KernelHost(backendName, backend);
    const dx = host.alloc(x.shape);
    const dgainOut = host.alloc([D]);
    const dbiasOut = host.alloc([D]);
    const [dv, xv, mv, sv, gv, out] = [host.f32(dy), host.f32(x), host.f32(mean!), host.f32(invStd!), host.f32(gain!), host.f32(dx)];
    const dgain = new Float64Array(D);
    const dbias = new Float64Array(D);
    for (let r = 0, o = 0; r < rows; r++, o += D) {
      const mu = mv[r], s = sv[r];
      let sumG = 0, sumGX = 0;
      for (let j = 0; j < D; j++) {
        const xhat = (xv[o + j] - mu) * s;
        const gj = dv[o + j] * gv[j];
        sumG += gj;
        sumGX += gj * xhat;
        dgain[j] += dv[o + j] * xhat;
        dbias[j] += dv[o + j];
      }
      const meanG = sumG / D, meanGX = sumGX / D;
      for (let j = 0; j < D; j++) {
        const xhat = (xv[o + j] - mu) * s;
        out[o + j] = s * (dv[o + j] * gv[j] - meanG - xhat * meanGX);
      }
    }
    host.f32(dgainOut).set(dgain);
    host.f32(dbiasOut).set(dbias);
    return [dx, dgainOut, dbiasOut];
  };
}
