import { tf } from "../backend/tf";
import { checkMatrix } from "../validation/arguments";

/**
 * Multi-class N-pair loss (Sohn 2016). Row i of `positives` is the positive of
 * anchor i; the other rows are its negatives. With l_ij = f_i . f+_j (plain dot
 * products, no normalisation):
 * mean_i log(1 + sum_{j != i} exp(l_ij - l_ii)) = mean_i (logsumexp_j l_ij - l_ii),
 * the log-sum-exp form being stable for large logits.
 *
 * Shapes: `anchors`, `positives` `[batch, dim]` float32, batch >= 2 -> scalar.
 *
 * @example
 * const loss = nPairLoss(anchorEmbeddings, positiveEmbeddings);
 */
export function nPairLoss(anchors: tf.Tensor2D, positives: tf.Tensor2D): tf.Scalar {
  checkMatrix("nPairLoss", "anchors", anchors, undefined, undefined, "float32");
  const [b, d] = anchors.shape;
  checkMatrix("nPairLoss", "positives", positives, b, d, "float32");
  if (b < 2) throw new Error(`nPairLoss: anchors must have at least 2 rows (one negative each), got ${b}`);
  return tf.tidy(() => {
    // Explicit transpose: matMul with a transposed operand is slow on wasm.
    const logits = tf.matMul(anchors, tf.transpose(positives));
    const diag = tf.sum(tf.mul(anchors, positives), 1);
    return tf.mean(tf.sub(tf.logSumExp(logits, 1), diag));
  }) as tf.Scalar;
}
