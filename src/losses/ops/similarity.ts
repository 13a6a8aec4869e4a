/**
 * Similarity matrices shared by the softmax-family losses (NT-Xent, SupCon).
 */
import { tf } from "../../backend/tf";

// Squared-norm floor: rows are divided by max(|z|, 1e-12) as in PyTorch's
// F.normalize, and the floor keeps the gradient of sqrt finite on zero rows.
const MIN_SQUARED_NORM = 1e-24;

/**
 * Rows scaled to unit L2 norm (zero rows stay zero).
 * Shapes: `[m, d]` -> `[m, d]`.
 *
 * @example
 * l2NormalizeRows(tf.tensor2d([[3, 4]])); // [[0.6, 0.8]]
 */
export function l2NormalizeRows(z: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() =>
    tf.mul(z, tf.rsqrt(tf.maximum(tf.sum(tf.square(z), 1, true), MIN_SQUARED_NORM))) as tf.Tensor2D,
  );
}

/**
 * Gram matrix `u u^T` of `[m, d]` rows -> `[m, m]`. Its gradient
 * `(dy + dy^T) u` is written with explicit transposes: the wasm backend's
 * matMul leaves its fast (XNNPACK) path when an operand is transposed, as
 * autodiff's would be.
 *
 * @example
 * gram(tf.tensor2d([[1, 2]])); // [[5]]
 */
export const gram = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [u, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
  save([u]);
  return {
    value: tf.matMul(u, tf.transpose(u)),
    gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) =>
      tf.matMul(tf.add(dy, tf.transpose(dy)) as tf.Tensor2D, saved as tf.Tensor2D),
  };
}) as unknown as (u: tf.Tensor2D) => tf.Tensor2D;
