/**
 * Hard-negative sampling by importance weights, on top of the debiased loss.
 *
 * Robinson, Chuang, Sra, Jegelka (2021), "Contrastive Learning with Hard
 * Negative Samples", ICLR: negatives are drawn from
 * q_beta(x-) ∝ e^{beta f(x)^T f(x-)} p(x-) instead of p(x-), estimated by
 * reweighting the batch's negatives (no extra sampling), and debiased as in
 * Chuang et al. (2020) with the class prior tau+.
 */
import { tf } from "../backend/tf";
import {
  checkTauPlus,
  checkTwoViews,
  debiasedAnchorLoss,
  maskedRowLogSumExp,
  twoViewLogits,
} from "./debiased_contrastive";
import { checkNonNegativeNumber, checkOptions, checkPositiveNumber } from "../validation/arguments";

/** Options of {@link hardNegativeLoss}. */
export interface HardNegativeOptions {
  /** Temperature t dividing the cosine similarities; default 0.5. */
  temperature?: number;
  /**
   * Concentration beta >= 0 of the negative distribution on hard negatives:
   * 0 weighs all negatives alike, larger values put the weight on the
   * negatives closest to the anchor. Default 1.
   */
  beta?: number;
  /** Class prior tau+ in [0, 1) of the debiasing term; default 0.1 (0: no debiasing). */
  tauPlus?: number;
}

/**
 * Robinson et al.'s hard-negative contrastive loss in SimCLR's two-view
 * setting (N pairs, 2N anchors, M = 2N - 2 negatives each). With logits
 * s_ij = cos(z_i, z_j) / t, each negative gets the importance weight
 *
 *   w_ij = e^{beta s_ij} / ( (1/M) sum_{k in neg(i)} e^{beta s_ik} )     (mean weight 1)
 *
 * and the reweighted negative mass sum_j w_ij e^{s_ij} replaces the plain one
 * in the debiased term of Chuang et al.:
 *
 *   Ng_i = max( ( sum_{j in neg(i)} w_ij e^{s_ij} - tau+ M e^{s_i,pos} ) / (1 - tau+),  M e^{-1/t} )
 *   loss = 1/(2N) sum_i -log( e^{s_i,pos} / (e^{s_i,pos} + Ng_i) )
 *
 * beta = 0 gives every weight 1: the debiased loss, and with tau+ = 0 also
 * NT-Xent. As in the authors' code, beta multiplies the logit s (the cosine
 * over the temperature), so its scale depends on t.
 *
 * The role of beta: it sets how far the negatives the loss pushes away are
 * concentrated on the hardest ones (those the encoder already finds similar
 * to the anchor), which carry the most useful gradient. The paper reports
 * that accuracy first rises with beta and then falls when beta is large:
 * the hardest "negatives" are increasingly same-class false negatives, and
 * the loss chases them (the paper's sweeps over beta; tau+ partly compensates).
 *
 * Shapes: `z1`, `z2`: `[N, D]` float32, N >= 2 -> scalar.
 *
 * @example
 * const loss = hardNegativeLoss(z1, z2, { temperature: 0.5, beta: 1, tauPlus: 0.1 });
 */
export function hardNegativeLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, options: HardNegativeOptions = {}): tf.Scalar {
  const fn = "hardNegativeLoss";
  const temperature = options.temperature ?? 0.5;
  const beta = options.beta ?? 1;
  const tauPlus = options.tauPlus ?? 0.1;
  checkTwoViews(fn, z1, z2);
  checkPositiveNumber(fn, "options.temperature", temperature);
  checkNonNegativeNumber(fn, "options.beta", beta);
  checkTauPlus(fn, tauPlus);
  const negativeCount = 2 * z1.shape[0] - 2;
  return tf.tidy(() => {
    const { logits, positive, negativeMask } = twoViewLogits(z1, z2, temperature);
    // log sum_j w_ij e^{s_ij} = log M + logsumexp((1 + beta) s) - logsumexp(beta s), over neg(i).
    const weightedMass = maskedRowLogSumExp(tf.mul(logits, 1 + beta) as tf.Tensor2D, negativeMask);
    const weightTotal = maskedRowLogSumExp(tf.mul(logits, beta) as tf.Tensor2D, negativeMask);
    const logNegativeMass = tf.add(tf.sub(weightedMass, weightTotal), Math.log(negativeCount)) as tf.Tensor1D;
    return tf.mean(debiasedAnchorLoss(positive, logNegativeMass, negativeCount, temperature, tauPlus)) as tf.Scalar;
  });
}

/**
 * The hard-negative loss as the `ntXent` hook of `methods.createSimclr`
 * (`(z1, z2, temperature) => scalar`).
 *
 * @example
 * const simclr = methods.createSimclr({ ..., ntXent: hardNegativeNtXent({ beta: 1, tauPlus: 0.1 }) });
 */
export function hardNegativeNtXent(options: {
  beta: number;
  tauPlus: number;
}): (z1: tf.Tensor2D, z2: tf.Tensor2D, temperature: number) => tf.Scalar {
  const fn = "hardNegativeNtXent";
  checkOptions(fn, options, "{beta, tauPlus}");
  checkNonNegativeNumber(fn, "options.beta", options.beta);
  checkTauPlus(fn, options.tauPlus);
  const { beta, tauPlus } = options;
  return (z1, z2, temperature) => hardNegativeLoss(z1, z2, { temperature, beta, tauPlus });
}
