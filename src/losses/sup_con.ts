/**
 * Supervised contrastive loss (SupCon), the L_out form.
 *
 * Khosla et al. (2020), "Supervised Contrastive Learning", eq. 2.
 */
import { tf } from "../backend/tf";
import { rowLogSumExp } from "./ops/log_sum_exp";
import { labelMasks } from "./ops/masks";
import { gram, l2NormalizeRows } from "./ops/similarity";
import { checkMatrix, checkPositiveNumber, checkVector } from "../validation/arguments";

/** Options of {@link supConLoss}. */
export interface SupConOptions {
  /** Temperature dividing the cosine similarities; default 0.1. */
  temperature?: number;
}

// Added to the self-similarity logits so exp() underflows to exactly 0.
const SELF_MASK = -1e9;

/**
 * Rows z_i of `embeddings` are L2-normalised; for each anchor i with at least
 * one positive (same label, other row) P(i):
 *
 *   l_i = -1/|P(i)| sum_{p in P(i)} log( exp(z_i.z_p/t) / sum_{a != i} exp(z_i.z_a/t) )
 *
 * and the loss is the mean of l_i over those anchors. Anchors without a
 * positive are skipped; if no anchor has one the loss is 0 (no gradient).
 *
 * Shapes: `embeddings` `[B, D]` float32, `labels` `[B]` int32 -> scalar.
 *
 * @example
 * const loss = supConLoss(head.apply(x) as tf.Tensor2D, labels, { temperature: 0.1 });
 */
export function supConLoss(embeddings: tf.Tensor2D, labels: tf.Tensor1D, options: SupConOptions = {}): tf.Scalar {
  const fn = "supConLoss";
  checkMatrix(fn, "embeddings", embeddings, undefined, undefined, "float32");
  checkVector(fn, "labels", labels, embeddings.shape[0], "int32");
  const temperature = options.temperature ?? 0.1;
  checkPositiveNumber(fn, "options.temperature", temperature);
  const b = embeddings.shape[0];
  return tf.tidy(() => {
    const z = l2NormalizeRows(embeddings);
    const logits = tf.add(tf.div(gram(z), temperature), tf.mul(tf.eye(b), SELF_MASK)) as tf.Tensor2D;
    const { positive } = labelMasks(labels);
    const count = tf.sum(positive, 1);
    const hasPositive = tf.cast(tf.greater(count, 0), "float32");
    const positiveLogits = tf.sum(tf.mul(positive, logits), 1);
    const perAnchor = tf.div(tf.sub(tf.mul(count, rowLogSumExp(logits)), positiveLogits), tf.maximum(count, 1));
    return tf.div(tf.sum(tf.mul(perAnchor, hasPositive)), tf.maximum(tf.sum(hasPositive), 1)) as tf.Scalar;
  });
}
