/**
 * Stop-gradient, which TensorFlow.js has no op for: the target branch of
 * BYOL/SimSiam, the negative phase of contrastive divergence.
 */
import { tf } from "../../backend/tf";

const identityWithZeroGradient = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x] = args as [tf.Tensor];
  return { value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
});

/**
 * The identity whose gradient is zero: `x` is treated as a constant by the
 * tape.
 *
 * Shapes: any -> the same.
 *
 * @example
 * const target = stopGradient(z2); // d(anything of target)/d(weights) = 0
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return identityWithZeroGradient(x) as T;
}
