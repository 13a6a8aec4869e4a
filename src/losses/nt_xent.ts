/**
 * NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR.
 *
 * Chen, Kornblith, Norouzi, Hinton (2020), "A Simple Framework for
 * Contrastive Learning of Visual Representations", eq. 1.
 */
import { tf } from "../backend/tf";
import { rowLogSumExp } from "./ops/log_sum_exp";
import { gram, l2NormalizeRows } from "./ops/similarity";
import { checkMatrix, checkPositiveNumber, describe } from "../validation/arguments";

/** Options of {@link ntXentLoss}. */
export interface NtXentOptions {
  /** Temperature tau dividing the cosine similarities; default 0.5. */
  temperature?: number;
}

// Added to the self-similarity logits so exp() underflows to exactly 0 in
// float32. A finite value (not -Infinity) keeps 0 * logit finite in gradients.
const SELF_MASK = -1e9;

/**
 * SimCLR's NT-Xent loss for a batch of N pairs of views.
 *
 * The 2N rows of `[z1; z2]` are L2-normalised; for every anchor i of the 2N,
 * the logits are the cosine similarities to the other 2N - 1 rows divided by
 * `temperature`, the positive is the other view of the same example (row
 * i + N or i - N), and the loss is the cross-entropy averaged over all 2N
 * anchors:
 *
 *   loss = 1/(2N) * sum_i [ log sum_{j != i} exp(s_ij / tau) - s_i,pos(i) / tau ]
 *
 * Shapes: `z1`, `z2`: `[N, D]` float32 (row k of `z1` and row k of `z2` are two
 * views of example k) -> scalar.
 *
 * @example
 * const loss = ntXentLoss(head.apply(encoder.apply(view1)) as tf.Tensor2D,
 *                         head.apply(encoder.apply(view2)) as tf.Tensor2D,
 *                         { temperature: 0.5 });
 */
export function ntXentLoss(
  z1: tf.Tensor2D,
  z2: tf.Tensor2D,
  options: NtXentOptions = {},
): tf.Scalar {
  const temperature = options.temperature ?? 0.5;
  validate(z1, z2, temperature);
  const n = z1.shape[0];
  return tf.tidy(() => {
    const z = tf.concat([z1, z2], 0);
    const unit = l2NormalizeRows(z as tf.Tensor2D);
    const scale = 1 / temperature;
    const logits = tf.add(tf.mul(gram(unit as tf.Tensor2D), scale), tf.mul(tf.eye(2 * n), SELF_MASK)) as tf.Tensor2D;
    const logNormaliser = rowLogSumExp(logits);
    // Both views of pair k share one positive logit, so it counts twice.
    const [u1, u2] = tf.split(unit, [n, n], 0);
    const positive = tf.sum(tf.mul(u1, u2));
    const total = tf.sub(tf.sum(logNormaliser), tf.mul(positive, 2 * scale));
    return tf.div(total, 2 * n) as tf.Scalar;
  });
}

function validate(z1: tf.Tensor, z2: tf.Tensor, temperature: number): void {
  checkMatrix("ntXentLoss", "z1", z1, undefined, undefined, "float32");
  if (z1.shape[0] < 1 || z1.shape[1] < 1) {
    throw new Error(`ntXentLoss: z1 must have at least one row and one column, got ${describe(z1)}`);
  }
  checkMatrix("ntXentLoss", "z2", z2, z1.shape[0], z1.shape[1], "float32");
  checkPositiveNumber("ntXentLoss", "options.temperature", temperature);
}
