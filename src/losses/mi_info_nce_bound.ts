/**
 * The InfoNCE lower bound on mutual information, from a critic's score
 * matrix.
 *
 * van den Oord, Li, Vinyals (2018), "Representation Learning with
 * Contrastive Predictive Coding", sec. 2.3; Poole, Ozair, van den Oord,
 * Alemi, Tucker (2019), "On Variational Bounds of Mutual Information",
 * sec. 2.3 (I_NCE).
 */
import { tf } from "../backend/tf";
import { rowLogSumExp } from "./ops/log_sum_exp";
import { checkCriticScores, positiveScores } from "./ops/critic_scores";

/**
 * The InfoNCE bound of a batch of K pairs (x_i, y_i) ~ p(x, y), in nats,
 *
 *   I_NCE = log K + 1/K sum_i [ s_ii - log sum_j exp(s_ij) ],
 *
 * where `scores[i][j] = f(x_i, y_j)` is the critic: the positive pair on
 * the diagonal, y_j (j != i) serving as samples of p(y). In expectation it
 * is a lower bound on I(X; Y) for every critic f, tight at
 * f(x, y) = log p(y|x) + c(x) only as K grows.
 *
 * Why it can never exceed log K: each term s_ii - log sum_j exp(s_ij) is
 * the log of a softmax probability, log(exp(s_ii) / sum_j exp(s_ij)), which
 * is <= 0 because the sum includes exp(s_ii). So I_NCE <= log K for any
 * scores whatsoever, on every batch, not just on average: with K = 128 no
 * critic can report more than log 128 = 4.85 nats, however large the true
 * mutual information. That is the bias of InfoNCE; its reward is a low
 * variance.
 *
 * Training maximises the bound: use `loss = -infoNceBound(scores)`.
 * Differentiable in `scores`.
 *
 * Shapes: `scores` `[K, K]` float32, K >= 2 -> scalar `[]` (nats).
 *
 * @example
 * const scores = critic.scores(x, y);          // [K, K]
 * const bound = infoNceBound(scores);          // <= log K
 * const loss = tf.neg(bound);                  // what the optimizer minimises
 */
export function infoNceBound(scores: tf.Tensor2D): tf.Scalar {
  checkCriticScores("infoNceBound", scores);
  const k = scores.shape[0];
  return tf.tidy(() => tf.add(Math.log(k), tf.mean(tf.sub(positiveScores(scores), rowLogSumExp(scores)))) as tf.Scalar);
}
