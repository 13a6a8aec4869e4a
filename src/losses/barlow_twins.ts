/**
 * Barlow Twins redundancy-reduction loss.
 *
 * Zbontar, Jing, Misra, LeCun, Deny (2021), "Barlow Twins: Self-Supervised
 * Learning via Redundancy Reduction", eq. 1 and 2.
 */
import { tf } from "../backend/tf";
import { checkMatrix, checkNonNegativeNumber } from "../validation/arguments";

/** Options of {@link barlowTwinsLoss}. */
export interface BarlowTwinsOptions {
  /** Weight of the off-diagonal (redundancy) term; default 5e-3 (paper). */
  lambda?: number;
}

// Variance floor: a constant feature would divide by 0; it is divided by 1e-6.
const MIN_VARIANCE = 1e-12;

function standardise(z: tf.Tensor2D): tf.Tensor2D {
  const { mean, variance } = tf.moments(z, 0, true);
  return tf.div(tf.sub(z, mean), tf.sqrt(tf.maximum(variance, MIN_VARIANCE))) as tf.Tensor2D;
}

/**
 * Each feature of `z1` and `z2` is standardised over the batch (mean 0,
 * population std 1), `C = z1^T z2 / B` is their `[D, D]` cross-correlation, and
 *
 *   loss = sum_i (1 - C_ii)^2 + lambda * sum_{i != j} C_ij^2
 *
 * (a sum over features, not a batch mean, as in the paper).
 *
 * Shapes: `z1`, `z2`: `[B, D]` float32 with B >= 2 -> scalar.
 *
 * @example
 * const loss = barlowTwinsLoss(projector.apply(view1) as tf.Tensor2D,
 *                              projector.apply(view2) as tf.Tensor2D, { lambda: 5e-3 });
 */
export function barlowTwinsLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, options: BarlowTwinsOptions = {}): tf.Scalar {
  const fn = "barlowTwinsLoss";
  checkMatrix(fn, "z1", z1, undefined, undefined, "float32");
  checkMatrix(fn, "z2", z2, z1.shape[0], z1.shape[1], "float32");
  if (z1.shape[0] < 2 || z1.shape[1] < 1) {
    throw new Error(`${fn}: z1 must have at least 2 rows and 1 column, got [${z1.shape.join(",")}]`);
  }
  const lambda = options.lambda ?? 5e-3;
  checkNonNegativeNumber(fn, "options.lambda", lambda);
  const b = z1.shape[0];
  return tf.tidy(() => {
    // Explicit transpose: matMul with a transposed operand is slow on wasm.
    const c = tf.div(tf.matMul(tf.transpose(standardise(z1)), standardise(z2)), b) as tf.Tensor2D;
    const diagonal = tf.sum(tf.mul(c, tf.eye(c.shape[0])), 1);
    const onDiagonal = tf.sum(tf.square(tf.sub(1, diagonal)));
    const offDiagonal = tf.sub(tf.sum(tf.square(c)), tf.sum(tf.square(diagonal)));
    return tf.add(onDiagonal, tf.mul(offDiagonal, lambda)) as tf.Scalar;
  });
}
