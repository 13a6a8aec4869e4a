/**
 * Debiased contrastive loss: NT-Xent with the false negatives corrected for.
 *
 * Chuang, Robinson, Lin, Torralba, Jegelka (2020), "Debiased Contrastive
 * Learning", NeurIPS: the debiased objective with the estimator g
 * of the true negatives, and the clamp of the authors' code.
 *
 * The "negatives" of SimCLR are the other images of the batch, and a share
 * tau+ of them (1/C for C balanced classes) are of the anchor's own class.
 * The paper writes the negative distribution as p = tau+ p+ + (1 - tau+) p-
 * and recovers the true negatives p- = (p - tau+ p+) / (1 - tau+), using the
 * positive pair as the sample of p+.
 */
import { tf } from "../backend/tf";
import { labelMasks } from "./ops/masks";
import { rowLogSumExp } from "./ops/log_sum_exp";
import { gram, l2NormalizeRows } from "./ops/similarity";
import { stopGradient } from "./ops/stop_gradient";
import { checkMatrix, checkNumberInRange, checkOptions, checkPositiveNumber, describe } from "../validation/arguments";

/** Options of {@link debiasedContrastiveLoss}. */
export interface DebiasedContrastiveOptions {
  /** Temperature t dividing the cosine similarities; default 0.5. */
  temperature?: number;
  /**
   * Class prior tau+ in [0, 1): the probability that a negative drawn from
   * the batch is of the anchor's class (1/C for C balanced classes).
   * Default 0.1; 0 gives NT-Xent.
   */
  tauPlus?: number;
}

/** The logits of the SimCLR two-view batch, as every debiased loss reads them. */
export interface TwoViewLogits {
  /** Cosine similarities over temperature, `[2N, 2N]`: rows and columns are `[z1; z2]`. */
  logits: tf.Tensor2D;
  /** The logit of each anchor's positive (the other view of its example), `[2N]`. */
  positive: tf.Tensor1D;
  /** 1 where column j is a negative of anchor i (another example, either view), else 0, `[2N, 2N]`. */
  negativeMask: tf.Tensor2D;
}

// Added to the logits outside the negatives so exp() underflows to exactly 0
// in float32; finite (not -Infinity) so 0 * logit stays finite in gradients.
const OUTSIDE_MASK = -1e9;

/**
 * The logits of NT-Xent's 2N anchors with each anchor's positive and its
 * 2N - 2 negatives marked, for the losses that treat negatives one by one.
 *
 * Shapes: `z1`, `z2` `[N, D]` (row k of each: two views of example k) ->
 * `logits` `[2N, 2N]`, `positive` `[2N]`, `negativeMask` `[2N, 2N]`.
 * Call inside `tf.tidy`; the caller owns the three tensors.
 *
 * @example
 * const { logits, positive, negativeMask } = twoViewLogits(z1, z2, 0.5);
 */
export function twoViewLogits(z1: tf.Tensor2D, z2: tf.Tensor2D, temperature: number): TwoViewLogits {
  return tf.tidy(() => {
    const n = z1.shape[0];
    const unit = l2NormalizeRows(tf.concat([z1, z2], 0) as tf.Tensor2D);
    const logits = tf.mul(gram(unit), 1 / temperature) as tf.Tensor2D;
    const example = tf.range(0, n, 1, "int32");
    const { positive: positiveMask, negative: negativeMask } = labelMasks(tf.concat([example, example]) as tf.Tensor1D);
    const positive = tf.sum(tf.mul(logits, positiveMask), 1) as tf.Tensor1D;
    return { logits, positive, negativeMask };
  });
}

/**
 * Log of the summed exponentiated logits over each row's negatives,
 * log sum_{j in neg(i)} exp(logits_ij), stable. Shapes: `[m, k]` twice -> `[m]`.
 *
 * @example
 * maskedRowLogSumExp(tf.tensor2d([[0, 5, 0]]), tf.tensor2d([[1, 0, 1]])); // [log 2]
 */
export function maskedRowLogSumExp(logits: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => rowLogSumExp(tf.add(logits, tf.mul(tf.sub(1, mask), OUTSIDE_MASK)) as tf.Tensor2D));
}

/**
 * The debiased loss of each anchor from its positive logit and the log of its
 * (possibly reweighted) negative mass, Chuang et al.'s debiased objective with the clamp of
 * their reference code:
 *
 *   Ng_i  = max( (negMass_i - tau+ * M * exp(pos_i)) / (1 - tau+),  M * e^{-1/t} )
 *   loss_i = -log( exp(pos_i) / (exp(pos_i) + Ng_i) )
 *
 * where M is the number of negatives per anchor and negMass_i =
 * sum_{j in neg(i)} exp(logit_ij) (M times the paper's mean). The floor
 * M e^{-1/t} is the smallest value the true negative term can take (every
 * cosine >= -1), so the estimate never goes below what is possible.
 * Computed shifted by a per-anchor constant (the larger of pos_i and
 * logNegMass_i, outside the gradient: the loss does not depend on it), so no
 * exp() overflows at small temperatures.
 *
 * Shapes: `positive` `[m]`, `logNegativeMass` `[m]` -> `[m]`.
 *
 * @example
 * const perAnchor = debiasedAnchorLoss(positive, maskedRowLogSumExp(logits, negativeMask), 2 * n - 2, 0.5, 0.1);
 */
export function debiasedAnchorLoss(
  positive: tf.Tensor1D,
  logNegativeMass: tf.Tensor1D,
  negativeCount: number,
  temperature: number,
  tauPlus: number,
): tf.Tensor1D {
  return tf.tidy(() => {
    const shift = stopGradient(tf.maximum(positive, logNegativeMass));
    const positiveShifted = tf.exp(tf.sub(positive, shift));
    const negativeShifted = tf.exp(tf.sub(logNegativeMass, shift));
    const corrected = tf.div(tf.sub(negativeShifted, tf.mul(positiveShifted, tauPlus * negativeCount)), 1 - tauPlus);
    const floor = tf.mul(tf.exp(tf.sub(-1 / temperature, shift)), negativeCount);
    const negativeTerm = tf.maximum(corrected, floor);
    // -log(p / (p + Ng)) = log(p + Ng) - log p, with log p = positive - shift read exactly.
    return tf.sub(tf.add(tf.log(tf.add(positiveShifted, negativeTerm)), shift), positive) as tf.Tensor1D;
  });
}

/**
 * Chuang et al.'s debiased contrastive loss in SimCLR's two-view setting:
 * N pairs of views, each of the 2N rows an anchor whose positive is the other
 * view of its example and whose M = 2N - 2 negatives are the other examples'
 * views. With logits s_ij = cos(z_i, z_j) / t,
 *
 *   g_i   = max( (1/(1 - tau+)) * ( (1/M) sum_{j in neg(i)} e^{s_ij} - tau+ e^{s_i,pos} ),  e^{-1/t} )
 *   loss  = 1/(2N) sum_i -log( e^{s_i,pos} / (e^{s_i,pos} + M g_i) )
 *
 * At tau+ = 0 this is NT-Xent exactly (g_i is then the plain mean, never
 * below e^{-1/t}). tau+ > 0 subtracts the expected share of same-class
 * "negatives"; the paper finds tau+ near the true class prior (0.1 for
 * CIFAR-10) helps, and too large a tau+ hurts.
 *
 * Shapes: `z1`, `z2`: `[N, D]` float32, N >= 2 -> scalar.
 *
 * @example
 * const loss = debiasedContrastiveLoss(z1, z2, { temperature: 0.5, tauPlus: 0.1 });
 */
export function debiasedContrastiveLoss(
  z1: tf.Tensor2D,
  z2: tf.Tensor2D,
  options: DebiasedContrastiveOptions = {},
): tf.Scalar {
  const fn = "debiasedContrastiveLoss";
  const temperature = options.temperature ?? 0.5;
  const tauPlus = options.tauPlus ?? 0.1;
  checkTwoViews(fn, z1, z2);
  checkPositiveNumber(fn, "options.temperature", temperature);
  checkTauPlus(fn, tauPlus);
  const negativeCount = 2 * z1.shape[0] - 2;
  return tf.tidy(() => {
    const { logits, positive, negativeMask } = twoViewLogits(z1, z2, temperature);
    const logNegativeMass = maskedRowLogSumExp(logits, negativeMask);
    return tf.mean(debiasedAnchorLoss(positive, logNegativeMass, negativeCount, temperature, tauPlus)) as tf.Scalar;
  });
}

/**
 * The debiased loss as the `ntXent` hook of `methods.createSimclr`
 * (`(z1, z2, temperature) => scalar`), so SimCLR trains with it unchanged.
 *
 * @example
 * const simclr = methods.createSimclr({ ..., ntXent: debiasedNtXent({ tauPlus: 0.1 }) });
 */
export function debiasedNtXent(options: { tauPlus: number }): (z1: tf.Tensor2D, z2: tf.Tensor2D, temperature: number) => tf.Scalar {
  checkOptions("debiasedNtXent", options, "{tauPlus}");
  const { tauPlus } = options;
  checkTauPlus("debiasedNtXent", tauPlus);
  return (z1, z2, temperature) => debiasedContrastiveLoss(z1, z2, { temperature, tauPlus });
}

/**
 * Checks the two views of a debiased loss: float32 `[N, D]` each with N >= 2
 * (an anchor needs at least one negative) and D >= 1. Shared with the
 * hard-negative loss.
 */
export function checkTwoViews(fn: string, z1: unknown, z2: unknown): asserts z1 is tf.Tensor2D {
  checkMatrix(fn, "z1", z1, undefined, undefined, "float32");
  if (z1.shape[0] < 2 || z1.shape[1] < 1) {
    throw new Error(`${fn}: z1 must have at least two rows (each anchor needs a negative) and one column, got ${describe(z1)}`);
  }
  checkMatrix(fn, "z2", z2, z1.shape[0], z1.shape[1], "float32");
}

/** Checks a class prior tau+ in [0, 1). */
export function checkTauPlus(fn: string, tauPlus: unknown, arg = "options.tauPlus"): asserts tauPlus is number {
  checkNumberInRange(fn, arg, tauPlus, 0, 1, { maxExclusive: true });
}
