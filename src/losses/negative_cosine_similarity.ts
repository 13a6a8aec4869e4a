/**
 * Negative cosine similarity of BYOL and SimSiam.
 *
 * Grill et al. (2020), "Bootstrap Your Own Latent", eq. 2 (up to the constant
 * 2 and factor -2 of the squared distance of unit vectors); Chen & He (2021),
 * "Exploring Simple Siamese Representation Learning", eq. 1 and 3.
 */
import { tf } from "../backend/tf";
import { l2NormalizeRows } from "./ops/similarity";
import { stopGradient } from "./ops/stop_gradient";
import { checkMatrix } from "../validation/arguments";

/**
 * `-1/B sum_i cos(p_i, z_i)`, with no gradient through `z` (stop-gradient):
 * `p` is the predictor output of one view, `z` the target projection of the
 * other view.
 *
 * Shapes: `p`, `z`: `[B, D]` float32 -> scalar in [-1, 1].
 *
 * @example
 * const loss = tf.add(negativeCosineSimilarity(p1, z2), negativeCosineSimilarity(p2, z1));
 */
export function negativeCosineSimilarity(p: tf.Tensor2D, z: tf.Tensor2D): tf.Scalar {
  const fn = "negativeCosineSimilarity";
  checkMatrix(fn, "p", p, undefined, undefined, "float32");
  checkMatrix(fn, "z", z, p.shape[0], p.shape[1], "float32");
  if (p.shape[0] < 1 || p.shape[1] < 1) {
    throw new Error(`${fn}: p must have at least one row and one column, got [${p.shape.join(",")}]`);
  }
  return tf.tidy(() => {
    const cos = tf.sum(tf.mul(l2NormalizeRows(p), l2NormalizeRows(stopGradient(z))), 1);
    return tf.neg(tf.mean(cos)) as tf.Scalar;
  });
}
