import { tf } from "../backend/tf";
import { pairwiseDistances } from "./ops/distances";
import { labelMasks } from "./ops/masks";
import { checkMatrix, checkNonNegativeNumber, checkVector } from "../validation/arguments";

/** Options of {@link liftedStructuredLoss}. */
export interface LiftedStructuredOptions {
  /** Negatives closer than this are penalised; default 1. */
  margin?: number;
}

/**
 * Lifted structured loss (Song, Xiang, Jegelka, Savarese 2016, "Deep Metric
 * Learning via Lifted Structured Feature Embedding"). D is the Euclidean distance
 * matrix, P the unordered positive pairs i < j, N(i) the negatives of i:
 * J_ij = D_ij + log(sum_{k in N(i)} exp(margin - D_ik) + sum_{l in N(j)} exp(margin - D_jl)),
 * loss = 1/(2|P|) sum_{(i,j) in P} max(0, J_ij)^2, log-sum-exp computed stably.
 *
 * A batch with no positive pair, or with a single label (no negatives, J = -inf),
 * has no term: the loss is then 0 (a constant, no gradient).
 *
 * Shapes: `embeddings` `[batch, dim]` float32, `labels` `[batch]` int32 -> scalar.
 *
 * @example
 * const loss = liftedStructuredLoss(embeddings, tf.tensor1d([0, 0, 1, 1], "int32"), { margin: 1 });
 */
export function liftedStructuredLoss(
  embeddings: tf.Tensor2D,
  labels: tf.Tensor1D,
  options: LiftedStructuredOptions = {},
): tf.Scalar {
  const fn = "liftedStructuredLoss";
  checkMatrix(fn, "embeddings", embeddings, undefined, undefined, "float32");
  checkVector(fn, "labels", labels, embeddings.shape[0], "int32");
  const margin = options.margin ?? 1;
  checkNonNegativeNumber(fn, "options.margin", margin);
  const y = labels.dataSync();
  let pairs = 0;
  let distinct = false;
  for (let i = 0; i < y.length; i++) {
    for (let j = i + 1; j < y.length; j++) {
      if (y[i] === y[j]) pairs++;
      else distinct = true;
    }
  }
  if (pairs === 0 || !distinct) return tf.scalar(0);
  return tf.tidy(() => {
    const n = embeddings.shape[0];
    const { positive, negative } = labelMasks(labels);
    const d = pairwiseDistances(embeddings, embeddings);
    // With two labels or more every row has a negative, so each row sum is >= 1 after the max shift.
    const x = tf.where(tf.greater(negative, 0), tf.sub(margin, d), tf.fill([n, n], -1e30));
    const rowMax = tf.max(x, 1, true);
    const rowLse = tf.add(rowMax, tf.log(tf.sum(tf.mul(negative, tf.exp(tf.sub(x, rowMax))), 1, true))); // [n,1]
    // Broadcast to [n,n] before tf.maximum: its gradient does not reduce broadcast inputs in tfjs 4.22.
    const li = tf.add(rowLse, tf.zerosLike(d));
    const lj = tf.add(tf.reshape(rowLse, [1, n]), tf.zerosLike(d));
    const m = tf.maximum(li, lj);
    const pairLse = tf.add(m, tf.log(tf.add(tf.exp(tf.sub(li, m)), tf.exp(tf.sub(lj, m)))));
    const upper = tf.mul(positive, tf.linalg.bandPart(tf.ones([n, n]), 0, -1));
    const j = tf.relu(tf.add(d, pairLse));
    return tf.div(tf.sum(tf.mul(upper, tf.square(j))), 2 * pairs);
  }) as tf.Scalar;
}
