/**
 * Pairwise Euclidean distances shared by the distance-family losses
 * (contrastive, triplet, lifted structured) and the miners.
 */
import { tf } from "../../backend/tf";

/**
 * Floor under squared distances before the square root: sqrt'(x) = 1/(2 sqrt x)
 * is infinite at 0 (a point and itself), so distances are sqrt(max(d2, eps)).
 * Distances below sqrt(1e-12) = 1e-6 read as 1e-6 and carry no gradient.
 */
export const DISTANCE_EPSILON = 1e-12;

/**
 * Squared Euclidean distances |a_i - b_j|^2, clamped at >= 0 (the expansion
 * |a|^2 - 2 a.b + |b|^2 can round slightly negative).
 *
 * Shapes: `a` `[n, dim]`, `b` `[m, dim]` -> `[n, m]`.
 *
 * @example
 * pairwiseSquaredDistances(tf.tensor2d([[0, 0]]), tf.tensor2d([[3, 4]])); // [[25]]
 */
export function pairwiseSquaredDistances(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const aa = tf.sum(tf.square(a), 1, true);
    const bb = tf.reshape(tf.sum(tf.square(b), 1), [1, b.shape[0]]);
    // Explicit transpose: matMul with a transposed operand is slow on wasm.
    const ab = tf.matMul(a, tf.transpose(b));
    return tf.relu(tf.add(tf.sub(aa, tf.mul(2, ab)), bb)) as tf.Tensor2D;
  });
}

/**
 * Euclidean distances sqrt(max(|a_i - b_j|^2, DISTANCE_EPSILON)), with a finite
 * gradient where points coincide.
 *
 * Shapes: `a` `[n, dim]`, `b` `[m, dim]` -> `[n, m]`.
 *
 * @example
 * pairwiseDistances(tf.tensor2d([[0, 0]]), tf.tensor2d([[3, 4]])); // [[5]]
 */
export function pairwiseDistances(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.sqrt(tf.maximum(pairwiseSquaredDistances(a, b), DISTANCE_EPSILON)) as tf.Tensor2D);
}

/**
 * Row-wise squared distances |a_i - b_i|^2 (computed as a difference, exact
 * and never negative). Shapes: `[batch, dim]` twice -> `[batch]`.
 */
export function rowSquaredDistances(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.square(tf.sub(a, b)), 1) as tf.Tensor1D);
}
