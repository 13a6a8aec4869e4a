/**
 * Masks of positive and negative pairs from labels, shared by every loss
 * that takes `labels` (lifted structured, soft nearest neighbour, SupCon)
 * and by the miners.
 */
import { tf } from "../../backend/tf";

/** Float masks `[batch, batch]` (1 or 0) over ordered pairs (i, j). */
export interface LabelMasks {
  /** Same label and i != j. */
  positive: tf.Tensor2D;
  /** Different label. */
  negative: tf.Tensor2D;
}

/**
 * Positive and negative pair masks of a batch.
 *
 * Shapes: `labels` `[batch]` int32 -> two `[batch, batch]` float32 masks.
 *
 * @example
 * const { positive, negative } = labelMasks(tf.tensor1d([0, 0, 1], "int32"));
 * // positive: [[0,1,0],[1,0,0],[0,0,0]]   negative: [[0,0,1],[0,0,1],[1,1,0]]
 */
export function labelMasks(labels: tf.Tensor1D): LabelMasks {
  return tf.tidy(() => {
    const n = labels.shape[0];
    const same = tf.equal(tf.expandDims(labels, 1), tf.expandDims(labels, 0));
    const notSelf = tf.sub(1, tf.eye(n));
    const sameFloat = tf.cast(same, "float32");
    return {
      positive: tf.mul(sameFloat, notSelf) as tf.Tensor2D,
      negative: tf.sub(1, sameFloat) as tf.Tensor2D,
    };
  });
}
