/**
 * Alignment plus uniformity as a training loss (Wang & Isola 2020,
 * "Understanding Contrastive Representation Learning through Alignment and
 * Uniformity on the Hypersphere", ICML: its L_align and L_uniform, and its
 * training with their weighted sum).
 *
 * The two terms are the metrics of evaluation/alignment_uniformity.ts, which
 * are differentiable TensorFlow.js ops: this module only weighs and adds them,
 * so the math lives in one place.
 */
import { tf } from "../backend/tf";
import { alignment, uniformity } from "../evaluation/alignment_uniformity";
import { checkMatrix, checkOptions, checkPositiveNumber, checkNonNegativeNumber, describe } from "../validation/arguments";

/** Options of {@link alignUniformLoss}. */
export interface AlignUniformOptions {
  /** Weight lambda of the uniformity term; default 1 (the paper's ImageNet-100 runs use 1, its STL-10 sweep 0.5 to 4). */
  lambda?: number;
  /** Exponent alpha of the alignment distance; default 2. */
  alpha?: number;
  /** Gaussian-potential scale t of uniformity; default 2. */
  t?: number;
  /** L2-normalise the rows first (default true); pass false when `z1`, `z2` already lie on the sphere. */
  normalize?: boolean;
}

/**
 * Wang & Isola's loss on two views' embeddings:
 *
 *   L = L_align(alpha) + lambda * (L_uniform(z1; t) + L_uniform(z2; t)) / 2,
 *
 * with L_align = mean_i ||u1_i - u2_i||^alpha and L_uniform(u; t) =
 * log mean_{i != j} exp(-t ||u_i - u_j||^2) over the L2-normalised rows u
 * (the paper's training code averages the uniformity of the two views the same way).
 * Its minimum trades aligned positives (L_align = 0) against features spread
 * over the sphere (L_uniform near -2t in high dimension); lambda sets the trade.
 *
 * Shapes: `z1`, `z2`: `[B, D]` float32, B >= 2 (row i of each are two views of example i) -> scalar.
 *
 * @example
 * const loss = alignUniformLoss(encoder.apply(view1) as tf.Tensor2D, encoder.apply(view2) as tf.Tensor2D, { lambda: 1 });
 */
export function alignUniformLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, options: AlignUniformOptions = {}): tf.Scalar {
  const fn = "alignUniformLoss";
  checkMatrix(fn, "z1", z1, undefined, undefined, "float32");
  const [b, d] = z1.shape;
  if (b < 2 || d < 1) throw new Error(`${fn}: z1 must have at least 2 rows and 1 column, got ${describe(z1)}`);
  checkMatrix(fn, "z2", z2, b, d, "float32");
  checkOptions(fn, options, "{lambda?, alpha?, t?, normalize?}");
  const lambda = options.lambda ?? 1;
  checkNonNegativeNumber(fn, "options.lambda", lambda);
  const alpha = options.alpha ?? 2;
  checkPositiveNumber(fn, "options.alpha", alpha);
  const t = options.t ?? 2;
  checkPositiveNumber(fn, "options.t", t);
  const normalize = options.normalize ?? true;
  if (typeof normalize !== "boolean") throw new Error(`${fn}: options.normalize must be a boolean, got ${describe(normalize)}`);
  return tf.tidy(() => {
    const align = alignment(z1, z2, { alpha, normalize });
    const uniform = tf.div(tf.add(uniformity(z1, { t, normalize }), uniformity(z2, { t, normalize })), 2);
    return tf.add(align, tf.mul(uniform, lambda)) as tf.Scalar;
  });
}
