/**
 * The plumbing the variational mutual-information bounds share (InfoNCE,
 * NWJ, Donsker-Varadhan; Poole et al. 2019): a critic score matrix
 * `scores[i][j] = f(x_i, y_j)` over a batch of K pairs holds K samples of
 * the joint p(x, y) on its diagonal and K(K-1) samples of the product of
 * marginals p(x)p(y) off it. The bounds differ only in how they combine
 * the two parts.
 */
import { tf } from "../../backend/tf";
import { describe } from "../../validation/arguments";
import { rowLogSumExp } from "./log_sum_exp";

/**
 * Checks that `scores` is a square float32 critic matrix `[K, K]` with
 * K >= 2 (a bound needs at least one off-diagonal, i.e. marginal, pair).
 *
 * @example
 * checkCriticScores("nwjBound", tf.zeros([1, 1]));
 * // Error: nwjBound: scores must be a square float32 tensor [K,K] with K >= 2, got a float32 tensor of shape [1,1]
 */
export function checkCriticScores(fn: string, scores: unknown): asserts scores is tf.Tensor2D {
  const fits =
    scores instanceof tf.Tensor && scores.rank === 2 && scores.dtype === "float32" && scores.shape[0] === scores.shape[1] && scores.shape[0] >= 2;
  if (!fits) {
    const got = scores instanceof tf.Tensor ? `${/^[aeiou]/.test(scores.dtype) ? "an" : "a"} ${scores.dtype} tensor of shape [${scores.shape.join(",")}]` : describe(scores);
    throw new Error(`${fn}: scores must be a square float32 tensor [K,K] with K >= 2, got ${got}`);
  }
}

/**
 * The positive (joint) scores: the diagonal `s_ii`.
 *
 * Shapes: `scores` `[K, K]` -> `[K]`.
 *
 * @example
 * positiveScores(tf.tensor2d([[1, 2], [3, 4]])); // [1, 4]
 */
export function positiveScores(scores: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.mul(scores, tf.eye(scores.shape[0])), 1) as tf.Tensor1D);
}

/**
 * log of the mean of exp over the off-diagonal (marginal) scores,
 *
 *   log( 1/(K(K-1)) sum_{i != j} exp(s_ij) ),
 *
 * computed stably: the diagonal is set to -Infinity (exp gives exactly 0,
 * and so does its gradient) and one max-shifted log-sum-exp runs over all
 * K^2 entries.
 *
 * Shapes: `scores` `[K, K]`, K >= 2 -> scalar `[]`.
 *
 * @example
 * offDiagonalLogMeanExp(tf.tensor2d([[9, 0], [0, 9]])); // 0
 */
export function offDiagonalLogMeanExp(scores: tf.Tensor2D): tf.Scalar {
  const k = scores.shape[0];
  return tf.tidy(() => {
    const isDiagonal = tf.cast(tf.eye(k), "bool");
    const offDiagonal = tf.where(isDiagonal, tf.fill([k, k], -Infinity), scores);
    const logSum = rowLogSumExp(tf.reshape(offDiagonal, [1, k * k]) as tf.Tensor2D);
    return tf.sub(tf.squeeze(logSum), Math.log(k * (k - 1))) as tf.Scalar;
  });
}

