import { tf } from "../backend/tf";
import { DISTANCE_EPSILON, rowSquaredDistances } from "./ops/distances";
import { checkMatrix, checkNonNegativeNumber, checkVector } from "../validation/arguments";

/** Options of {@link contrastiveLoss}. */
export interface ContrastiveOptions {
  /** Dissimilar pairs closer than this are pushed apart; default 1. */
  margin?: number;
}

/**
 * Contrastive (pair) loss (Chopra, Hadsell, LeCun 2005):
 * mean_i same_i d_i^2 + (1 - same_i) max(0, margin - d_i)^2, with d_i = |x1_i - x2_i|
 * (Euclidean; sqrt(max(d^2, DISTANCE_EPSILON)) so coincident pairs have a finite gradient).
 *
 * Shapes: `x1`, `x2` `[batch, dim]` float32; `same` `[batch]` float32 of exactly 0 or 1
 * (1 = same class) -> scalar. Values other than 0/1 throw.
 *
 * @example
 * const loss = contrastiveLoss(x1, x2, tf.tensor1d([1, 0, 1]), { margin: 1 });
 */
export function contrastiveLoss(
  x1: tf.Tensor2D,
  x2: tf.Tensor2D,
  same: tf.Tensor1D,
  options: ContrastiveOptions = {},
): tf.Scalar {
  const fn = "contrastiveLoss";
  checkMatrix(fn, "x1", x1, undefined, undefined, "float32");
  const [b, d] = x1.shape;
  checkMatrix(fn, "x2", x2, b, d, "float32");
  checkVector(fn, "same", same, b, "float32");
  const bad = Array.from(same.dataSync()).find((v) => v !== 0 && v !== 1);
  if (bad !== undefined) throw new Error(`${fn}: same must hold only 0 or 1, got ${bad}`);
  const margin = options.margin ?? 1;
  checkNonNegativeNumber(fn, "options.margin", margin);
  return tf.tidy(() => {
    const d2 = rowSquaredDistances(x1, x2);
    const dist = tf.sqrt(tf.maximum(d2, DISTANCE_EPSILON));
    const push = tf.square(tf.relu(tf.sub(margin, dist)));
    return tf.mean(tf.add(tf.mul(same, d2), tf.mul(tf.sub(1, same), push)));
  }) as tf.Scalar;
}
