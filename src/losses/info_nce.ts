/**
 * InfoNCE, the contrastive predictive coding loss.
 *
 * van den Oord, Li, Vinyals (2018), "Representation Learning with Contrastive
 * Predictive Coding", eq. 4.
 */
import { tf } from "../backend/tf";
import { rowLogSumExp } from "./ops/log_sum_exp";
import { checkMatrix, checkPositiveNumber } from "../validation/arguments";

/** Options of {@link infoNCE}. */
export interface InfoNceOptions {
  /** Temperature dividing the dot products (> 0). */
  temperature: number;
  /** Extra negatives `[M, D]` (memory bank or queue) shared by every query. */
  negatives?: tf.Tensor2D;
}

/**
 * Cross-entropy of each query against its own key among all keys:
 *
 *   loss = 1/B sum_i [ log sum_j exp(q_i.k_j / T) - q_i.k_i / T ]
 *
 * where j runs over the B keys and the M extra `negatives`. No normalisation
 * is done inside: callers L2-normalise `query`/`keys` for cosine logits.
 *
 * Shapes: `query`, `keys`: `[B, D]` float32 (key i is the positive of query i),
 * `negatives`: `[M, D]` float32 -> scalar.
 *
 * @example
 * const loss = infoNCE(l2NormalizeRows(q), l2NormalizeRows(k), { temperature: 0.07 }); // cosine logits
 */
export function infoNCE(query: tf.Tensor2D, keys: tf.Tensor2D, options: InfoNceOptions): tf.Scalar {
  const fn = "infoNCE";
  checkMatrix(fn, "query", query, undefined, undefined, "float32");
  checkMatrix(fn, "keys", keys, query.shape[0], query.shape[1], "float32");
  if (query.shape[0] < 1 || query.shape[1] < 1) {
    throw new Error(`${fn}: query must have at least one row and one column, got [${query.shape.join(",")}]`);
  }
  if (options === null || typeof options !== "object") {
    throw new Error(`${fn}: options must be an object {temperature, negatives?}, got ${options}`);
  }
  checkPositiveNumber(fn, "options.temperature", options.temperature);
  const negatives = options.negatives;
  if (negatives !== undefined) checkMatrix(fn, "options.negatives", negatives, undefined, query.shape[1], "float32");
  const b = query.shape[0];
  return tf.tidy(() => {
    const candidates = negatives === undefined ? keys : tf.concat([keys, negatives], 0);
    // Explicit transpose: matMul with a transposed operand is slow on wasm.
    const logits = tf.div(tf.matMul(query, tf.transpose(candidates)), options.temperature) as tf.Tensor2D;
    const positive = tf.div(tf.sum(tf.mul(query, keys)), options.temperature);
    return tf.div(tf.sub(tf.sum(rowLogSumExp(logits)), positive), b) as tf.Scalar;
  });
}
