/**
 * Row-wise log-sum-exp shared by the softmax-family losses (NT-Xent, InfoNCE).
 */
import { tf } from "../../backend/tf";

/**
 * Row-wise log-sum-exp `[m, k]` -> `[m]`, stable (max-shifted), whose
 * gradient is the softmax kept from the forward pass: tf.logSumExp
 * differentiates through its max with an Equal over the whole matrix.
 *
 * @example
 * rowLogSumExp(tf.tensor2d([[0, 0]])); // [log 2]
 */
export const rowLogSumExp = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
  const rowMax = tf.max(x, 1, true);
  const unnormalised = tf.exp(tf.sub(x, rowMax));
  const total = tf.sum(unnormalised, 1, true);
  save([tf.div(unnormalised, total)]);
  return {
    value: tf.squeeze(tf.add(tf.log(total), rowMax), [1]),
    gradFunc: (dy: tf.Tensor, [softmax]: tf.Tensor[]) => tf.mul(softmax, tf.expandDims(dy, 1)),
  };
}) as unknown as (x: tf.Tensor2D) => tf.Tensor1D;
