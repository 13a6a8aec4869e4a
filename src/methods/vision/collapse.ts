/**
 * The collapse monitor every joint-embedding method of this folder logs.
 */
import { tf } from "../../backend/tf";
import * as losses from "../../losses";

/**
 * The collapse monitor of SimSiam (Chen & He 2021, Sec. 4.1): the standard
 * deviation over the batch of the L2-normalised outputs, averaged over the
 * `D` dimensions. About `1/sqrt(D)` for outputs spread over the sphere, 0 for
 * a collapsed (constant) output.
 *
 * Shapes: `z` `[B, D]` -> scalar.
 */
export function normalizedStd(z: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.sqrt(tf.moments(losses.l2NormalizeRows(z), 0).variance)) as tf.Scalar);
}
