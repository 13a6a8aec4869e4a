/**
 * The NWJ lower bound on mutual information, from a critic's score matrix.
 *
 * Nguyen, Wainwright, Jordan (2010), "Estimating divergence functionals and
 * the likelihood ratio by convex risk minimization"; in the form of Poole,
 * Ozair, van den Oord, Alemi, Tucker (2019), "On Variational Bounds of
 * Mutual Information", sec. 2.2 (I_NWJ, also called f-GAN KL or MINE-f).
 */
import { tf } from "../backend/tf";
import { checkCriticScores, offDiagonalLogMeanExp, positiveScores } from "./ops/critic_scores";

/**
 * The NWJ bound of a batch of K pairs, in nats,
 *
 *   I_NWJ = 1/K sum_i s_ii - e^{-1} 1/(K(K-1)) sum_{i != j} exp(s_ij),
 *
 * with `scores[i][j] = f(x_i, y_j)`: the diagonal samples the joint, the
 * off-diagonal the product of marginals. A lower bound on I(X; Y) for every
 * critic, tight at f(x, y) = 1 + log p(y|x)/p(y). Unlike InfoNCE it is not
 * capped at log K, but the exp of the marginal scores makes its variance
 * grow exponentially with the true MI (Poole et al., sec. 2.2, and
 * McAllester & Stratos 2020). The second term is computed as
 * exp(logMeanExp - 1), so it overflows only where the bound itself would.
 *
 * Training maximises the bound: use `loss = -nwjBound(scores)`.
 * Differentiable in `scores`.
 *
 * Shapes: `scores` `[K, K]` float32, K >= 2 -> scalar `[]` (nats).
 *
 * @example
 * const loss = tf.neg(nwjBound(critic.scores(x, y))); // scores [K, K]
 */
export function nwjBound(scores: tf.Tensor2D): tf.Scalar {
  checkCriticScores("nwjBound", scores);
  return tf.tidy(() => tf.sub(tf.mean(positiveScores(scores)), tf.exp(tf.sub(offDiagonalLogMeanExp(scores), 1))) as tf.Scalar);
}
