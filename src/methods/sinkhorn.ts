/**
 * Sinkhorn-Knopp equal-partition assignment of SwAV (Caron et al. 2020,
 * "Unsupervised Learning of Visual Features by Contrasting Cluster
 * Assignments", Algorithm 1 and Sec. 3.1): soft codes Q that assign a batch
 * to K prototypes as sharply as the entropy weight epsilon allows while every
 * prototype receives the same share of the batch, which rules out the
 * collapsed solution where all images pick one prototype.
 */
import { tf } from "../backend/tf";
import { checkNonNegativeInteger, checkPositiveNumber } from "../validation/arguments";

/** Options of {@link sinkhorn}. */
export interface SinkhornOptions {
  /** Entropy weight epsilon: scores are divided by it; default 0.05 (SwAV). Smaller is sharper. */
  epsilon?: number;
  /** Sinkhorn-Knopp iterations; default 3 (SwAV). */
  iterations?: number;
}

/**
 * Codes `Q` `[B, K]` for prototype scores `[B, K]` (SwAV's `z^T c`, cosine
 * similarities of features and prototypes), as SwAV's Algorithm 1 computes
 * them: `Q = exp(scores / epsilon)` normalised to sum 1, then `iterations`
 * rounds of scaling every prototype's column to sum 1/K and every row to
 * sum 1/B, and finally every row to sum 1. Rows sum to 1 (SwAV returns
 * `Q * B`); columns sum to B/K up to the error left after `iterations`
 * rounds (a few rounds suffice at epsilon = 0.05 for cosine scores).
 *
 * Stability: the same arithmetic is carried out on `log Q` with
 * `tf.logSumExp` (max-shifted) for every normalisation, so scores / epsilon
 * of thousands neither overflow nor underflow into 0 / 0; the result equals
 * the exp-domain iteration wherever that one is finite.
 *
 * No gradient flows through `Q`: the iteration runs inside `tf.customGrad`
 * with a zero gradient, so inside the training loop's loss it is a constant
 * target (SwAV computes it under `torch.no_grad()`) and no backward pass
 * runs through the iterations. One scalar is read back to reject NaN or
 * infinite scores.
 *
 * Shapes: `[B, K]` -> `[B, K]`.
 *
 * @example
 * // inside a SwAV loss: scores1 = z1 prototypes^T, [B, K]
 * const q1 = sinkhorn(scores1, { epsilon: 0.05, iterations: 3 });
 * // swapped prediction: cross-entropy of q1 with softmax(scores2 / 0.1)
 */
export function sinkhorn(scores: tf.Tensor2D, options: SinkhornOptions = {}): tf.Tensor2D {
  const fn = "sinkhorn";
  if (!(scores instanceof tf.Tensor) || scores.rank !== 2) {
    const got = scores instanceof tf.Tensor ? `shape [${(scores as tf.Tensor).shape}]` : typeof scores;
    throw new Error(`${fn}: scores must be a tf.Tensor2D [B, K], got ${got}`);
  }
  const [batch, prototypes] = scores.shape;
  if (batch < 1 || prototypes < 1) throw new Error(`${fn}: scores must have at least one row and one column, got [${batch}, ${prototypes}]`);
  const epsilon = options.epsilon ?? 0.05;
  checkPositiveNumber(fn, "options.epsilon", epsilon);
  const iterations = options.iterations ?? 3;
  checkNonNegativeInteger(fn, "options.iterations", iterations);
  const logK = Math.log(prototypes);
  const logB = Math.log(batch);
  // customGrad: the iteration is not recorded for backprop, and the gradient to scores is zero.
  const codes = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const s = inputs[0] as tf.Tensor2D;
    const value = tf.tidy(() => {
      let logQ: tf.Tensor2D = tf.div(s, epsilon);
      logQ = tf.sub(logQ, tf.logSumExp(logQ));
      for (let i = 0; i < iterations; i++) {
        // Each prototype's column to total 1/K, then each sample's row to total 1/B.
        logQ = tf.sub(logQ, tf.add(tf.logSumExp(logQ, 0, true), logK));
        logQ = tf.sub(logQ, tf.add(tf.logSumExp(logQ, 1, true), logB));
      }
      return tf.exp(tf.sub(logQ, tf.logSumExp(logQ, 1, true))) as tf.Tensor2D;
    });
    return { value, gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
  });
  const q = codes(scores) as tf.Tensor2D;
  // Finite scores always give finite codes in the log domain; a NaN or +Infinity score makes the sum NaN.
  const total = tf.tidy(() => tf.sum(q).dataSync()[0]);
  if (!Number.isFinite(total)) {
    q.dispose();
    throw new Error(`${fn}: scores must be finite, got a NaN or infinite entry in [${batch}, ${prototypes}] (codes sum to ${total})`);
  }
  return q;
}
