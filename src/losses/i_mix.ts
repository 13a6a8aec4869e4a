/**
 * i-Mix, mixed positives in the contrastive loss.
 *
 * Lee, Zhu, Sohn, Li, Shin & Lee (2021), "i-Mix: A Domain-Agnostic Strategy
 * for Contrastive Representation Learning", Sec. 3: i-Mix on the N-pair
 * (SimCLR) loss, and on MoCo, whose queue entries carry no virtual label.
 */
import { tf } from "../backend/tf";
import { softTargetCrossEntropy } from "./cross_entropy";
import { type MixAssignment, checkMixAssignment } from "../augment/mix";
import { checkMatrix, checkOptions, checkPositiveNumber, describe } from "../validation/arguments";

/** Options of {@link iMixLoss}. */
export interface IMixOptions {
  /** Temperature dividing the dot products (> 0). */
  temperature: number;
  /** Extra negatives `[M, D]` (MoCo's queue) shared by every anchor; they carry no virtual label. */
  negatives?: tf.Tensor2D;
}

/**
 * The i-Mix loss. Each example of a batch is its own class (a "virtual
 * label", one-hot over the batch); anchor i is the embedding of the input
 * mixed as `lambda_i x_i + (1 - lambda_i) x_partner(i)` (mixup or CutMix of
 * one view), and its target is the same mix of the two virtual labels. The
 * loss is the cross-entropy of the InfoNCE / N-pair softmax over the
 * (unmixed) positives of the other view against that soft target:
 *
 *   loss = 1/B sum_i [ log sum_j exp(a_i.k_j / T)
 *                      - lambda_i a_i.k_i / T - (1 - lambda_i) a_i.k_partner(i) / T ]
 *
 * where j runs over the B positives and the M extra `negatives` (which, as
 * MoCo's queue, have no virtual label). At lambda = 1 it is `infoNCE(anchors,
 * positives, options)`. Like `infoNCE`, nothing is normalised inside:
 * L2-normalise `anchors`, `positives` (and `negatives`) for cosine logits.
 * Symmetric use (each view mixed in turn) is two calls, averaged.
 *
 * Shapes: `anchors`, `positives` `[B, D]` float32; `mix` with `[B]`
 * partners and lambdas (a {@link MixedBatch} from `mixup` / `cutMix`);
 * `negatives` `[M, D]` float32 -> scalar.
 *
 * @example
 * // Inside a method's loss: mix the first view, keep the second.
 * const mixed = mixup({ alpha: 1, per: "example" })(view1, ctx.rng.fork());
 * const a = l2NormalizeRows(head.apply(encoder.apply(mixed.images)) as tf.Tensor2D);
 * const k = l2NormalizeRows(head.apply(encoder.apply(view2)) as tf.Tensor2D);
 * const loss = iMixLoss(a, k, mixed, { temperature: 0.2 });
 */
export function iMixLoss(anchors: tf.Tensor2D, positives: tf.Tensor2D, mix: MixAssignment, options: IMixOptions): tf.Scalar {
  const fn = "iMixLoss";
  checkMatrix(fn, "anchors", anchors, undefined, undefined, "float32");
  if (anchors.shape[0] < 1 || anchors.shape[1] < 1) {
    throw new Error(`${fn}: anchors must have at least one row and one column, got ${describe(anchors)}`);
  }
  checkMatrix(fn, "positives", positives, anchors.shape[0], anchors.shape[1], "float32");
  const batch = anchors.shape[0];
  checkMixAssignment(fn, mix, batch);
  checkOptions(fn, options, "{temperature, negatives?}");
  checkPositiveNumber(fn, "options.temperature", options.temperature);
  const negatives = options.negatives;
  if (negatives !== undefined) checkMatrix(fn, "options.negatives", negatives, undefined, anchors.shape[1], "float32");
  const candidates = batch + (negatives?.shape[0] ?? 0);
  // The mixed virtual labels, built in JS: no float32 oneHot (wrong on wasm), no gradient.
  const targets = new Float32Array(batch * candidates);
  for (let i = 0; i < batch; i++) {
    targets[i * candidates + i] += mix.lambdas[i];
    targets[i * candidates + mix.partners[i]] += 1 - mix.lambdas[i];
  }
  return tf.tidy(() => {
    const keys = negatives === undefined ? positives : tf.concat([positives, negatives], 0);
    // Explicit transpose: matMul with a transposed operand is slow on wasm.
    const logits = tf.matMul(anchors, tf.transpose(keys)) as tf.Tensor2D;
    return softTargetCrossEntropy(logits, tf.tensor2d(targets, [batch, candidates]), { temperature: options.temperature });
  });
}
