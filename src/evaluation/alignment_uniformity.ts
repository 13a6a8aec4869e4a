/**
 * Alignment and uniformity of representations on the unit hypersphere
 * (Wang & Isola 2020, "Understanding Contrastive Representation Learning
 * through Alignment and Uniformity on the Hypersphere", ICML): alignment asks
 * whether positive pairs map close together, uniformity whether the features
 * spread over the sphere. Both are differentiable scalars, so they serve as
 * diagnostics and, as in the paper, as training losses. Lower is better for
 * both.
 */
import { tf } from "../backend/tf";
import { l2NormalizeRows } from "../losses/ops/similarity";
import { checkMatrix, checkPositiveInteger, checkPositiveNumber } from "../validation/arguments";

/** Options of {@link alignment}. */
export interface AlignmentOptions {
  /** Exponent of the distance; default 2 (the paper's alpha). */
  alpha?: number;
  /** L2-normalise rows first (default true); pass false for features already on the sphere. */
  normalize?: boolean;
}

/** Options of {@link uniformity}. */
export interface UniformityOptions {
  /** Gaussian-potential scale; default 2 (the paper's t). */
  t?: number;
  /** L2-normalise rows first (default true). */
  normalize?: boolean;
  /** Rows per distance block; default about 4M entries per block (`2^22 / n`). The result does not depend on it. */
  chunkSize?: number;
}

/** Options of {@link alignmentUniformity}. */
export interface AlignmentUniformityOptions extends AlignmentOptions {
  /** Gaussian-potential scale of uniformity; default 2. */
  t?: number;
  /** Rows per distance block of uniformity. */
  chunkSize?: number;
}

/** What {@link alignmentUniformity} returns. */
export interface AlignmentUniformityResult {
  /** `E ||f(x) - f(y)||^alpha` over the positive pairs (in [0, 2^alpha] on the sphere). */
  alignment: number;
  /** `(uniformity(x) + uniformity(y)) / 2`, as in the paper's code (in [-4t, 0]). */
  uniformity: number;
}

/**
 * Alignment loss `E_i ||x_i - y_i||_2^alpha` of positive pairs: row i of `x`
 * `[n, d]` with row i of `y` `[n, d]` (two views of one example). Rows are
 * L2-normalised first unless `normalize: false`.
 *
 * Shapes: `[n, d]`, `[n, d]` -> scalar `[]`.
 *
 * @example
 * const lAlign = alignment(z1, z2);            // 0 when the views coincide
 * const lAlign1 = alignment(z1, z2, { alpha: 1 });
 */
export function alignment(x: tf.Tensor2D, y: tf.Tensor2D, options: AlignmentOptions = {}): tf.Scalar {
  const fn = "alignment";
  checkMatrix(fn, "x", x);
  const [n, d] = x.shape;
  checkMatrix(fn, "y", y, n, d);
  if (n < 1) throw new Error(`${fn}: x must have at least 1 row, got [${x.shape}]`);
  const alpha = options.alpha ?? 2;
  checkPositiveNumber(fn, "options.alpha", alpha);
  const normalize = options.normalize ?? true;
  return tf.tidy(() => {
    const a = normalize ? l2NormalizeRows(x) : x;
    const b = normalize ? l2NormalizeRows(y) : y;
    const squared = tf.sum(tf.square(tf.sub(a, b)), 1);
    // alpha = 2 avoids the sqrt, whose gradient is infinite at identical views.
    const powered = alpha === 2 ? squared : tf.pow(squared, alpha / 2);
    return tf.mean(powered) as tf.Scalar;
  });
}

/**
 * Uniformity loss `log E_{i<j} exp(-t ||x_i - x_j||_2^2)` over all distinct
 * pairs of rows of `x` `[n, d]` (the log of the mean Gaussian potential).
 * Rows are L2-normalised first unless `normalize: false`. The pairwise
 * squared distances are computed one block of rows at a time as `||a||^2 +
 * ||b||^2 - 2 a.b` (one matMul per block), so n = 10000 never holds an
 * n x n matrix (about 1.5 s on wasm at 10000 x 128); pairs of a row with
 * itself are excluded exactly.
 *
 * Shapes: `[n, d]` (n >= 2) -> scalar `[]`.
 *
 * @example
 * uniformity(features); // near -2t = -4 for features spread over a high-dimensional sphere, 0 when collapsed
 */
export function uniformity(x: tf.Tensor2D, options: UniformityOptions = {}): tf.Scalar {
  const fn = "uniformity";
  checkMatrix(fn, "x", x);
  const [n] = x.shape;
  if (n < 2) throw new Error(`${fn}: x must have at least 2 rows (pairs of distinct rows), got [${x.shape}]`);
  const t = options.t ?? 2;
  checkPositiveNumber(fn, "options.t", t);
  const chunkSize = options.chunkSize ?? Math.max(1, Math.floor(4194304 / n));
  checkPositiveInteger(fn, "options.chunkSize", chunkSize);
  const normalize = options.normalize ?? true;
  return tf.tidy(() => {
    const z = normalize ? l2NormalizeRows(x) : x;
    const scaledNorms = tf.mul(-t, tf.sum(tf.square(z), 1));
    // Transposed once: wasm's matMul leaves its fast path for a transposed operand.
    const zT = tf.transpose(z);
    const columnNorms = scaledNorms.reshape([1, n]);
    let total: tf.Tensor = tf.scalar(0);
    for (let start = 0; start < n; start += chunkSize) {
      const size = Math.min(chunkSize, n - start);
      // Each block is freed before the next, so memory stays at one block (gradients keep what they need).
      const blockSum = tf.tidy(() => {
        const block = tf.slice(z, [start, 0], [size, -1]);
        // -t ||a - b||^2 = -t ||a||^2 - t ||b||^2 + 2t a.b; the self-pair gets -1e9, so exp gives exactly 0.
        // (int32 oneHot then cast: wasm's float32 OneHot writes its on-value's integer bits, tfjs 4.22.)
        const selfPairs = tf.cast(tf.oneHot(tf.range(start, start + size, 1, "int32"), n, -1e9, 0), "float32");
        const exponent = tf.add(tf.add(tf.add(tf.slice(scaledNorms, [start], [size]).reshape([size, 1]), columnNorms), tf.matMul(tf.mul(2 * t, block), zT)), selfPairs);
        return tf.sum(tf.exp(exponent));
      });
      total = tf.add(total, blockSum);
    }
    // Each unordered pair appears twice among the ordered pairs i != j: their means agree.
    return tf.log(tf.div(total, n * (n - 1))) as tf.Scalar;
  });
}

/**
 * Both diagnostics of two views `x`, `y` `[n, d]` as numbers: alignment of
 * the row pairs, and uniformity averaged over the two views (the paper's
 * `(uniform_loss(x) + uniform_loss(y)) / 2`). Plot one point per model:
 * lower-left (aligned and uniform) goes with better linear-probe accuracy.
 *
 * @example
 * const { alignment, uniformity } = alignmentUniformity(encode(view1), encode(view2));
 */
export function alignmentUniformity(x: tf.Tensor2D, y: tf.Tensor2D, options: AlignmentUniformityOptions = {}): AlignmentUniformityResult {
  const fn = "alignmentUniformity";
  checkMatrix(fn, "x", x);
  const [n, d] = x.shape;
  checkMatrix(fn, "y", y, n, d);
  if (n < 2) throw new Error(`${fn}: x must have at least 2 rows, got [${x.shape}]`);
  const uOptions: UniformityOptions = { t: options.t, normalize: options.normalize, chunkSize: options.chunkSize };
  const [a, ux, uy] = tf.tidy(() => [
    alignment(x, y, { alpha: options.alpha, normalize: options.normalize }),
    uniformity(x, uOptions),
    uniformity(y, uOptions),
  ]);
  const values = [a.dataSync()[0], ux.dataSync()[0], uy.dataSync()[0]];
  tf.dispose([a, ux, uy]);
  return { alignment: values[0], uniformity: (values[1] + values[2]) / 2 };
}
