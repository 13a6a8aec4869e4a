/**
 * Float64 NHWC references shared by the model tests: an activation, the
 * convolution with TensorFlow's "same" padding, ReLU, a residual sum and
 * BatchNorm.
 */

/** An NHWC activation in float64. */
export interface Act {
  n: number;
  h: number;
  w: number;
  c: number;
  v: Float64Array;
}

/** Flat index of `[n, y, x, c]` in `a`. */
export const at = (a: Act, n: number, y: number, x: number, c: number): number => ((n * a.h + y) * a.w + x) * a.c + c;

/** Options of {@link conv}. */
export interface ConvReferenceOptions {
  /** Stride of both axes; default 1. */
  stride?: number;
  /** Per-output-channel bias `[co]`; default none. */
  bias?: ArrayLike<number>;
  /** Which taps `(dy, dx)` take part (a PixelCNN mask); default all. */
  keep?: (dy: number, dx: number) => boolean;
}

/**
 * Convolution of `a` with a kernel `[k, k, ci, co]` (flat, row-major) and
 * TensorFlow's "same" padding (the extra row/column goes at the bottom/right).
 */
export function conv(a: Act, kernel: ArrayLike<number>, k: number, co: number, options: ConvReferenceOptions = {}): Act {
  const stride = options.stride ?? 1;
  const ho = Math.ceil(a.h / stride);
  const wo = Math.ceil(a.w / stride);
  const top = Math.floor(Math.max((ho - 1) * stride + k - a.h, 0) / 2);
  const left = Math.floor(Math.max((wo - 1) * stride + k - a.w, 0) / 2);
  const out: Act = { n: a.n, h: ho, w: wo, c: co, v: new Float64Array(a.n * ho * wo * co) };
  for (let n = 0; n < a.n; n++)
    for (let y = 0; y < ho; y++)
      for (let x = 0; x < wo; x++)
        for (let o = 0; o < co; o++) {
          let s = options.bias?.[o] ?? 0;
          for (let dy = 0; dy < k; dy++)
            for (let dx = 0; dx < k; dx++) {
              const iy = y * stride + dy - top;
              const ix = x * stride + dx - left;
              if ((options.keep && !options.keep(dy, dx)) || iy < 0 || iy >= a.h || ix < 0 || ix >= a.w) continue;
              for (let ci = 0; ci < a.c; ci++) s += a.v[at(a, n, iy, ix, ci)] * kernel[((dy * k + dx) * a.c + ci) * co + o];
            }
          out.v[at(out, n, y, x, o)] = s;
        }
  return out;
}

export const relu = (a: Act): Act => ({ ...a, v: a.v.map((z) => Math.max(0, z)) });
export const add = (a: Act, b: Act): Act => ({ ...a, v: a.v.map((z, i) => z + b.v[i]) });

/**
 * BatchNorm over every axis but the last of `v` (`c` channels, channel
 * fastest): gamma (v - mean) / sqrt(variance + eps) + beta per channel, with
 * the batch's mean and biased variance, or with `stats` (moving statistics)
 * when given. Returns the batch's moments either way.
 */
export function batchNormReference(
  v: ArrayLike<number>,
  c: number,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  eps: number,
  stats?: { mean: ArrayLike<number>; variance: ArrayLike<number> },
): { y: Float64Array; mean: number[]; variance: number[] } {
  const m = v.length / c;
  const mean = new Array(c).fill(0);
  const variance = new Array(c).fill(0);
  for (let i = 0; i < v.length; i++) mean[i % c] += v[i] / m;
  for (let i = 0; i < v.length; i++) variance[i % c] += (v[i] - mean[i % c]) ** 2 / m;
  const [mu, sigma2] = stats ? [stats.mean, stats.variance] : [mean, variance];
  const y = Float64Array.from({ length: v.length }, (_, i) => (gamma[i % c] * (v[i] - mu[i % c])) / Math.sqrt(sigma2[i % c] + eps) + beta[i % c]);
  return { y, mean, variance };
}
