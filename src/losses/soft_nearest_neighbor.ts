/**
 * Soft nearest neighbour loss.
 *
 * Frosst, Papernot, Hinton (2019), "Analyzing and Improving Representations
 * with the Soft Nearest Neighbor Loss", eq. 1.
 */
import { tf } from "../backend/tf";
import { pairwiseSquaredDistances } from "./ops/distances";
import { rowLogSumExp } from "./ops/log_sum_exp";
import { labelMasks } from "./ops/masks";
import { checkMatrix, checkPositiveNumber, checkVector } from "../validation/arguments";

/** Options of {@link softNearestNeighborLoss}. */
export interface SoftNearestNeighborOptions {
  /** Temperature T dividing the squared distances; default 1. */
  temperature?: number;
}

// Added to excluded logits so exp() underflows to exactly 0 in float32.
const EXCLUDED = -1e9;

/**
 * With f the squared Euclidean distance:
 *
 *   loss = -1/B' sum_i log( sum_{j != i, y_j = y_i} exp(-|x_i-x_j|^2/T) / sum_{k != i} exp(-|x_i-x_k|^2/T) )
 *
 * Anchors with no same-label partner are skipped and B' counts the others;
 * if no anchor has a partner the loss is 0 (no gradient).
 *
 * Shapes: `embeddings` `[B, D]` float32, `labels` `[B]` int32 -> scalar.
 *
 * @example
 * const loss = softNearestNeighborLoss(features, labels, { temperature: 10 });
 */
export function softNearestNeighborLoss(
  embeddings: tf.Tensor2D,
  labels: tf.Tensor1D,
  options: SoftNearestNeighborOptions = {},
): tf.Scalar {
  const fn = "softNearestNeighborLoss";
  checkMatrix(fn, "embeddings", embeddings, undefined, undefined, "float32");
  checkVector(fn, "labels", labels, embeddings.shape[0], "int32");
  const temperature = options.temperature ?? 1;
  checkPositiveNumber(fn, "options.temperature", temperature);
  const b = embeddings.shape[0];
  return tf.tidy(() => {
    const logits = tf.div(pairwiseSquaredDistances(embeddings, embeddings), -temperature);
    const { positive } = labelMasks(labels);
    const all = tf.add(logits, tf.mul(tf.eye(b), EXCLUDED)) as tf.Tensor2D;
    const same = tf.add(logits, tf.mul(tf.sub(1, positive), EXCLUDED)) as tf.Tensor2D;
    const hasPositive = tf.cast(tf.greater(tf.sum(positive, 1), 0), "float32");
    const perAnchor = tf.sub(rowLogSumExp(all), rowLogSumExp(same));
    return tf.div(tf.sum(tf.mul(perAnchor, hasPositive)), tf.maximum(tf.sum(hasPositive), 1)) as tf.Scalar;
  });
}
