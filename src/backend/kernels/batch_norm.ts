/**
 * Training-mode batch normalization (Ioffe & Szegedy 2015) over every axis
 * but the last, as two kernels of two passes each, where tfjs composes it
 * from about ten kernels over the whole activation per direction
 * (`models.batchNormTraining` calls them when the backend has them):
 *
 * - `SslBatchNorm`: `x` `[..., C]`, `gamma`, `beta` `[C]` -> `y` like `x`,
 *   the batch `mean` and biased `variance` `[C]`. Pass 1 sums `x - x[0]` and
 *   its square per channel (shifted by the first row, so the variance does
 *   not cancel when the mean is large); pass 2 writes
 *   `y = (x - mean) * gamma s + beta`, `s = 1/sqrt(variance + epsilon)`.
 * - `SslBatchNormGrad`: `dy`, `x`, `mean`, `variance`, `gamma` -> `dx` like
 *   `x`, `dgamma`, `dbeta` `[C]`, the closed form of the paper's Sec. 3 with
 *   `m` rows and `xc = x - mean`:
 *
 *     dbeta = sum(dy),  dgamma = s sum(dy xc),
 *     dx = gamma s (dy - dbeta / m - xc s^2 sum(dy xc) / m).
 *
 *   Pass 1 takes both sums, pass 2 writes `dx`.
 *
 * Sums are float64 totals of float32 sums over blocks of 128 rows (SIMD)
 * or float64 throughout (plain loops).
 *
 * On wasm, with `C` a multiple of 4, the passes are WebAssembly SIMD loops
 * (batch_norm_simd.ts); elsewhere plain loops. In the small ResNet's
 * training step (2 threads) the composed BatchNorm took about 45 ms of 258
 * in Multiply, Add, Sub, Square, Mean and Sum kernels (timed per kernel);
 * plain loops took 70, these SIMD loops 11 (4 forward, 7 backward): a step
 * went from 249 to 219 ms (interleaved in one process).
 */
import { tf } from "../tf";
import { checkFloat32, checkFloat32Input, positiveAttr } from "./conv_geometry";
import { KernelBackendName, KernelHost } from "./host";
import { simdKernels } from "../wasm_simd";
import { affineSimd, blockSumsSimd, gradAffineSimd, gradSumsSimd, momentsSimd, SUM_BLOCK_ROWS } from "./batch_norm_simd";

/** Name of the forward kernel. */
export const BATCH_NORM = "SslBatchNorm";
/** Name of the gradient kernel. */
export const BATCH_NORM_GRAD = "SslBatchNormGrad";

/**
 * Runs the SIMD passes on wasm, when `C` is a multiple of 4, on the calling
 * thread. Split with the helper thread (simd_threads.ts), a pass on
 * [128,28,28,16] alone ran 0.88 -> 0.67 ms; but inside the small ResNet's
 * step (2 threads) the ten layers' BatchNorm kernels took 17.4 ms split
 * and 12.2-13.1 ms unsplit (wall time per kernel, unprofiled, three runs):
 * the passes are bound by memory, and a call follows an XNNPACK convolution
 * whose worker still holds the second core.
 */
class SimdPasses {
  private constructor(private readonly exports: WebAssembly.Exports) {}

  /** The passes for `C` channels, or null (plain loops). */
  static on(host: KernelHost, C: number): SimdPasses | null {
    if (host.backendName !== "wasm" || C % 4 !== 0) return null;
    const exports = simdKernels(host.backend, "batchNorm", () => [
      momentsSimd(), affineSimd(), gradSumsSimd(), gradAffineSimd(),
      // Indices 0 and 2: the passes they call.
      blockSumsSimd("moments", 0, 1, 1), blockSumsSimd("gradSums", 2, 2, 1),
    ]);
    return exports === null ? null : new SimdPasses(exports);
  }

  /** `name(...streamsAt, ...fixed, rows, rowBytes)`. */
  rows(name: "affine" | "gradAffine", streams: Float32Array[], fixed: number[], rows: number, C: number): void {
    this.call(name, [...streams.map((t) => t.byteOffset), ...fixed, rows, 4 * C]);
  }

  /** Floats of the partial sums {@link sums} needs for `rows` rows of `C` channels. */
  static partialsLength(rows: number, C: number): number {
    return 2 * Math.ceil(rows / SUM_BLOCK_ROWS) * C;
  }

  /**
   * Per-channel float64 sums of a summing pass, float32 within blocks of
   * {@link SUM_BLOCK_ROWS} rows: each block's two sums go into `partials`
   * ({@link partialsLength} floats, taken with the caller's other views, so
   * no allocation here moves them) and then into `s1`, `s2`.
   */
  sums(name: "momentsBlocks" | "gradSumsBlocks", streams: Float32Array[], fixed: number[], partials: Float32Array, rows: number, C: number, s1: Float64Array, s2: Float64Array): void {
    const blocks = Math.ceil(rows / SUM_BLOCK_ROWS);
    partials.fill(0);
    const common = [...streams.map((t) => t.byteOffset), ...fixed, partials.byteOffset, rows, 4 * C];
    this.call(name, [...common, 0, blocks]);
    for (let b = 0; b < blocks; b++) {
      const o = 2 * b * C;
      for (let c = 0; c < C; c++) {
        s1[c] += partials[o + c];
        s2[c] += partials[o + C + c];
      }
    }
  }

  private call(name: string, args: number[]): void {
    (this.exports[name] as (...a: number[]) => void)(...args);
  }
}

/** `[rows, C]` of a tensor `[..., C]`, checked: float32, rank >= 2, at least one element. */
function rowsAndChannels(where: string, name: string, t: tf.TensorInfo): [number, number] {
  checkFloat32(where, name, t.dtype);
  const size = t.shape.reduce((a, b) => a * b, 1);
  if (t.shape.length < 2 || size === 0) throw new Error(`${where}: ${name} must be [..., C] of rank at least 2 with at least one element, got [${t.shape}]`);
  const c = t.shape[t.shape.length - 1];
  return [size / c, c];
}

/**
 * The forward kernel function for `backendName` (see the module comment).
 *
 * @example
 * tf.registerKernel({ kernelName: BATCH_NORM, backendName: "wasm", kernelFunc: batchNormKernel("wasm") });
 * const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM, { x, gamma, beta }, { epsilon: 1e-3 }) as tf.Tensor[];
 */
export function batchNormKernel(backendName: KernelBackendName): tf.KernelFunc {
  const where = `${BATCH_NORM} (${backendName})`;
  return ({ inputs, backend, attrs }) => {
    const { x, gamma, beta } = inputs as Record<string, tf.TensorInfo | undefined>;
    if (x == null) throw new Error(`${where}: input x is required`);
    const [rows, C] = rowsAndChannels(where, "x", x);
    checkFloat32Input(where, "gamma", gamma, [C]);
    checkFloat32Input(where, "beta", beta, [C]);
    const epsilon = positiveAttr(where, attrs, "epsilon");
    const host = new KernelHost(backendName, backend);
    const y = host.alloc(x.shape);
    const meanOut = host.alloc([C]);
    const varianceOut = host.alloc([C]);
    const simd = SimdPasses.on(host, C);
    // float32 scratch on the backend for the SIMD passes: shift, scale, offset, then the partial sums.
    const scratch = simd === null ? null : host.alloc([3 * C + SimdPasses.partialsLength(rows, C)]);
    try {
      const [xv, g, b, yv] = [host.f32(x), host.f32(gamma!), host.f32(beta!), host.f32(y)];
      const shift = Float64Array.from(xv.subarray(0, C));
      const s1 = new Float64Array(C);
      const s2 = new Float64Array(C);
      const sv = scratch === null ? null : host.f32(scratch);
      if (simd !== null && sv !== null) {
        sv.set(shift);
        simd.sums("momentsBlocks", [xv], [sv.byteOffset], sv.subarray(3 * C), rows, C, s1, s2);
      } else {
        for (let r = 0, o = 0; r < rows; r++, o += C) {
          for (let c = 0; c < C; c++) {
            const d = xv[o + c] - shift[c];
            s1[c] += d;
            s2[c] += d * d;
          }
        }
      }
      const mean = new Float64Array(C);
      const scale = new Float64Array(C);
      const [meanView, varianceView] = [host.f32(meanOut), host.f32(varianceOut)];
      for (let c = 0; c < C; c++) {
        const m1 = s1[c] / rows;
        const variance = Math.max(0, s2[c] / rows - m1 * m1);
        mean[c] = shift[c] + m1;
        scale[c] = g[c] / Math.sqrt(variance + epsilon);
        meanView[c] = mean[c];
        varianceView[c] = variance;
      }
      if (simd !== null && sv !== null) {
        // mean, scale and offset side by side in the scratch.
        sv.set(mean, 0);
        sv.set(scale, C);
        sv.set(b, 2 * C);
        simd.rows("affine", [xv, yv], [sv.byteOffset, sv.byteOffset + 4 * C, sv.byteOffset + 8 * C], rows, C);
      } else {
        for (let r = 0, o = 0; r < rows; r++, o += C) {
          for (let c = 0; c < C; c++) yv[o + c] = (xv[o + c] - mean[c]) * scale[c] + b[c];
        }
      }
    } finally {
      if (scratch !== null) host.dispose(scratch);
    }
    return [y, meanOut, varianceOut];
  };
}

/**
 * The gradient kernel function for `backendName` (see the module comment).
 *
 * @example
 * tf.registerKernel({ kernelName: BATCH_NORM_GRAD, backendName: "wasm", kernelFunc: batchNormGradKernel("wasm") });
 * const [dx, dgamma, dbeta] = tf.engine().runKernel(BATCH_NORM_GRAD, { dy, x, mean, variance, gamma }, { epsilon: 1e-3 }) as tf.Tensor[];
 */
export function batchNormGradKernel(backendName: KernelBackendName): tf.KernelFunc {
  const where = `${BATCH_NORM_GRAD} (${backendName})`;
  return ({ inputs, backend, attrs }) => {
    const { dy, x, mean, variance, gamma } = inputs as Record<string, tf.TensorInfo | undefined>;
    if (x == null || dy == null) throw new Error(`${where}: inputs dy and x are required`);
    const [rows, C] = rowsAndChannels(where, "x", x);
    checkFloat32Input(where, "dy", dy, x.shape);
    for (const [name, t] of [["mean", mean], ["variance", variance], ["gamma", gamma]] as const) checkFloat32Input(where, name, t, [C]);
    const epsilon = positiveAttr(where, attrs, "epsilon");
    const host = new KernelHost(backendName, backend);
    const dx = host.alloc(x.shape);
    const dgammaOut = host.alloc([C]);
    const dbetaOut = host.alloc([C]);
    const simd = SimdPasses.on(host, C);
    // float32 scratch for the SIMD passes: mean, A, B, D, then the partial sums.
    const scratch = simd === null ? null : host.alloc([4 * C + SimdPasses.partialsLength(rows, C)]);
    try {
      const [dv, xv, mv, vv, g, out] = [host.f32(dy), host.f32(x), host.f32(mean!), host.f32(variance!), host.f32(gamma!), host.f32(dx)];
      const mu = Float64Array.from(mv);
      const sumDy = new Float64Array(C);
      const sumDyXc = new Float64Array(C);
      const sv = scratch === null ? null : host.f32(scratch);
      if (simd !== null && sv !== null) {
        sv.set(mv);
        simd.sums("gradSumsBlocks", [dv, xv], [sv.byteOffset], sv.subarray(4 * C), rows, C, sumDy, sumDyXc);
      } else {
        for (let r = 0, o = 0; r < rows; r++, o += C) {
          for (let c = 0; c < C; c++) {
            const d = dv[o + c];
            sumDy[c] += d;
            sumDyXc[c] += d * (xv[o + c] - mu[c]);
          }
        }
      }
      // dx = dy * A + xc * B + D per channel.
      const A = new Float64Array(C);
      const B = new Float64Array(C);
      const D = new Float64Array(C);
      const [dgammaView, dbetaView] = [host.f32(dgammaOut), host.f32(dbetaOut)];
      for (let c = 0; c < C; c++) {
        const s = 1 / Math.sqrt(vv[c] + epsilon);
        A[c] = g[c] * s;
        B[c] = (-A[c] * s * s * sumDyXc[c]) / rows;
        D[c] = (-A[c] * sumDy[c]) / rows;
        dgammaView[c] = sumDyXc[c] * s;
        dbetaView[c] = sumDy[c];
      }
      if (simd !== null && sv !== null) {
        sv.set(A, C);
        sv.set(B, 2 * C);
        sv.set(D, 3 * C);
        const at = (k: number) => sv.byteOffset + 4 * k * C;
        simd.rows("gradAffine", [dv, xv, out], [at(0), at(1), at(2), at(3)], rows, C);
      } else {
        for (let r = 0, o = 0; r < rows; r++, o += C) {
          for (let c = 0; c < C; c++) out[o + c] = dv[o + c] * A[c] + (xv[o + c] - mu[c]) * B[c] + D[c];
        }
      }
    } finally {
      if (scratch !== null) host.dispose(scratch);
    }
    return [dx, dgammaOut, dbetaOut];
  };
}
