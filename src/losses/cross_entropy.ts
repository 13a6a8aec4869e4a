/**
 * Cross-entropy against target distributions: the classification loss of
 * DeepCluster (Caron et al. 2018, one-hot k-means pseudo-labels) and the
 * swapped prediction of SwAV (Caron et al. 2020, eq. 1-2, Sinkhorn codes as
 * soft targets).
 */
import { tf } from "../backend/tf";
import { rowLogSumExp } from "./ops/log_sum_exp";
import { checkMatrix, checkPositiveNumber } from "../validation/arguments";

/** Options of {@link softTargetCrossEntropy}. */
export interface SoftTargetCrossEntropyOptions {
  /** Temperature tau dividing the logits before the softmax; default 1 (SwAV uses 0.1 on cosine scores). */
  temperature?: number;
}

/**
 * `-1/B sum_i sum_k t_ik log softmax(s_i / tau)_k`: the cross-entropy of the
 * softmax of each row of `logits` against the matching row of `targets`.
 * Rows of `targets` are meant to be distributions (one-hot labels, or
 * Sinkhorn codes); they are not checked, since that would read the tensor
 * back every step. Gradient flows into both arguments: pass targets that
 * carry none (Sinkhorn codes, one-hot labels) for SwAV and DeepCluster.
 *
 * Shapes: `logits`, `targets` `[B, K]` float32 -> scalar.
 *
 * @example
 * const codes = methods.sinkhorn(scores2);              // [B, K], no gradient
 * const loss = softTargetCrossEntropy(scores1, codes, { temperature: 0.1 });
 * const ce = softTargetCrossEntropy(logits, tf.oneHot(labels, K).toFloat()); // hard labels
 */
export function softTargetCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D, options: SoftTargetCrossEntropyOptions = {}): tf.Scalar {
  const fn = "softTargetCrossEntropy";
  checkMatrix(fn, "logits", logits, undefined, undefined, "float32");
  checkMatrix(fn, "targets", targets, logits.shape[0], logits.shape[1], "float32");
  if (logits.shape[0] < 1 || logits.shape[1] < 1) {
    throw new Error(`${fn}: logits must have at least one row and one column, got [${logits.shape.join(",")}]`);
  }
  const temperature = options.temperature ?? 1;
  checkPositiveNumber(fn, "options.temperature", temperature);
  return tf.tidy(() => {
    const scaled = temperature === 1 ? logits : tf.div(logits, temperature);
    const logSoftmax = tf.sub(scaled, tf.expandDims(rowLogSumExp(scaled as tf.Tensor2D), 1));
    return tf.neg(tf.mean(tf.sum(tf.mul(targets, logSoftmax), 1))) as tf.Scalar;
  });
}
