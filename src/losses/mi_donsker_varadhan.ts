/**
 * The Donsker-Varadhan lower bound on mutual information, the objective of
 * MINE, from a critic's score matrix.
 *
 * Donsker & Varadhan (1983); Belghazi, Baratin, Rajeswar, Ozair, Bengio,
 * Courville, Hjelm (2018), "Mutual Information Neural Estimation" (the MINE objective);
 * Poole, Ozair, van den Oord, Alemi, Tucker (2019), "On Variational Bounds of Mutual Information", sec. 2.2 (I_DV).
 */
import { tf } from "../backend/tf";
import { checkCriticScores, offDiagonalLogMeanExp, positiveScores } from "./ops/critic_scores";

/**
 * The Donsker-Varadhan bound of a batch of K pairs, in nats,
 *
 *   I_DV = 1/K sum_i s_ii - log( 1/(K(K-1)) sum_{i != j} exp(s_ij) ),
 *
 * with `scores[i][j] = f(x_i, y_j)`: the diagonal samples the joint, the
 * off-diagonal the product of marginals. The log-mean-exp is computed
 * stably (max-shifted, diagonal excluded exactly). The true DV bound is a
 * lower bound on I(X; Y), tight at f = log p(y|x)/p(y) + c; this minibatch
 * estimate of it is biased (the log of a mean is not the mean of a log),
 * which MINE corrects with a moving average in its gradient; this function
 * is the plain estimate. Its variance, like NWJ's, grows with the true MI.
 * Invariant to adding a constant to every score.
 *
 * Training maximises the bound: use `loss = -donskerVaradhanBound(scores)`.
 * Differentiable in `scores`.
 *
 * Shapes: `scores` `[K, K]` float32, K >= 2 -> scalar `[]` (nats).
 *
 * @example
 * const loss = tf.neg(donskerVaradhanBound(critic.scores(x, y))); // scores [K, K]
 */
export function donskerVaradhanBound(scores: tf.Tensor2D): tf.Scalar {
  checkCriticScores("donskerVaradhanBound", scores);
  return tf.tidy(() => tf.sub(tf.mean(positiveScores(scores)), offDiagonalLogMeanExp(scores)) as tf.Scalar);
}
