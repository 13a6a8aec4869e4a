/**
 * The monitors every joint-embedding method of this folder logs: the
 * collapse monitor and the positive-pair accuracy.
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

/**
 * The positive-pair accuracy of two views: the share of the 2B rows of
 * `[z1; z2]` whose most cosine-similar other row is their other view (row i
 * of `z1` and row i of `z2`). Chance is about 1/(2B - 1).
 *
 * Shapes: `z1`, `z2` `[B, D]` -> scalar in [0, 1].
 *
 * @example
 * positiveAccuracy(encoder.apply(view1) as tf.Tensor2D, encoder.apply(view2) as tf.Tensor2D).dataSync()[0];
 */
export function positiveAccuracy(z1: tf.Tensor2D, z2: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const n = z1.shape[0];
    const unit = losses.l2NormalizeRows(tf.concat([z1, z2], 0) as tf.Tensor2D);
    // Cosines are >= -1, so subtracting 3 on the diagonal rules out self-matches.
    const sims = tf.sub(losses.gram(unit), tf.mul(tf.eye(2 * n), 3));
    const positives = tf.tensor1d(Array.from({ length: 2 * n }, (_, i) => (i + n) % (2 * n)), "int32");
    return tf.mean(tf.cast(tf.equal(tf.argMax(sims, 1), positives), "float32")) as tf.Scalar;
  });
}
