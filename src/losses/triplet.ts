import { tf } from "../backend/tf";
import { rowSquaredDistances } from "./ops/distances";
import { checkMatrix, checkNonNegativeNumber } from "../validation/arguments";

/** Options of {@link tripletLoss}. */
export interface TripletOptions {
  /** alpha, the margin between positive and negative squared distances; default 0.2 (FaceNet). */
  margin?: number;
}

/**
 * Triplet loss (Schroff, Kalenichenko, Philbin 2015, FaceNet), squared distances:
 * mean_i max(0, |a_i - p_i|^2 - |a_i - n_i|^2 + margin).
 *
 * Shapes: `anchor`, `positive`, `negative` `[batch, dim]` float32 -> scalar.
 *
 * @example
 * const loss = tripletLoss(anchor, positive, negative, { margin: 0.2 });
 */
export function tripletLoss(
  anchor: tf.Tensor2D,
  positive: tf.Tensor2D,
  negative: tf.Tensor2D,
  options: TripletOptions = {},
): tf.Scalar {
  const fn = "tripletLoss";
  checkMatrix(fn, "anchor", anchor, undefined, undefined, "float32");
  const [b, d] = anchor.shape;
  checkMatrix(fn, "positive", positive, b, d, "float32");
  checkMatrix(fn, "negative", negative, b, d, "float32");
  const margin = options.margin ?? 0.2;
  checkNonNegativeNumber(fn, "options.margin", margin);
  return tf.tidy(() =>
    tf.mean(tf.relu(tf.add(tf.sub(rowSquaredDistances(anchor, positive), rowSquaredDistances(anchor, negative)), margin))),
  ) as tf.Scalar;
}
