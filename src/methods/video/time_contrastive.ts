/**
 * Time-contrastive networks: Sermanet, Lynch, Chebotar, Hsu, Jang, Schaal &
 * Levine (2018), "Time-Contrastive Networks: Self-Supervised Learning from
 * Video", ICRA.
 */
import { tf } from "../../backend/tf";
import { tripletLoss } from "../../losses/triplet";
import { l2NormalizeRows } from "../../losses/ops/similarity";
import type { TimeContrastiveBatch } from "../../data/video_tasks";
import { applyChecked } from "../vision/checks";
import { checkNonNegativeNumber, checkOptions, checkPositiveInteger, checkRank, describe } from "../../validation/arguments";
import type { VideoMethod } from "./method";

/** Options of {@link createTimeContrastive}. */
export interface TimeContrastiveMethodOptions {
  /** The frame encoder `[n, h, w, 1]` -> `[n, encoderDim]`; its output, L2-normalised, is the embedding. Never disposed by the method. */
  encoder: tf.LayersModel;
  /** Size of the encoder's output. */
  encoderDim: number;
  /** Triplet margin on squared distances of unit vectors (which lie in [0, 4]); default 0.2 (the paper's). */
  margin?: number;
  /** Method name for tables; default "TCN". */
  name?: string;
}

/**
 * TCN: embeddings f(x) / |f(x)| of anchor, positive and negative frames, and
 * the triplet loss (FaceNet's, as the paper uses)
 *
 *   l = mean_i max(0, |a_i - p_i|^2 - |a_i - n_i|^2 + margin),
 *
 * which pulls together frames of the same moment (multi-view: two cameras;
 * single view: neighbouring frames) and pushes apart frames of the same clip
 * far apart in time. The negatives share the digit and the camera, so the
 * embedding cannot win by encoding either; what changes with time is where
 * the digit is. Batches come from `data.timeContrastiveBatch`. Metric:
 * `accuracy`, the share of triplets whose anchor is nearer its positive.
 * The method creates nothing: `dispose()` is a no-op.
 *
 * Shapes: `batch.anchor`, `.positive`, `.negative` `[B, h, w, 1]` -> scalar loss.
 *
 * @example
 * const tcn = createTimeContrastive({ encoder: createFrameEncoder({ seed: 1 }), encoderDim: 32 });
 */
export function createTimeContrastive(options: TimeContrastiveMethodOptions): VideoMethod<TimeContrastiveBatch> {
  const fn = "createTimeContrastive";
  checkOptions(fn, options, "{encoder, encoderDim, margin?, name?}");
  if (!(options.encoder instanceof tf.LayersModel)) throw new Error(`${fn}: options.encoder must be a tf.LayersModel, got ${describe(options.encoder)}`);
  const { encoder, encoderDim, margin = 0.2, name = "TCN" } = options;
  checkPositiveInteger(fn, "options.encoderDim", encoderDim);
  checkNonNegativeNumber(fn, "options.margin", margin);
  if (typeof name !== "string") throw new Error(`${fn}: options.name must be a string, got ${describe(name)}`);
  const where = `${name}.loss`;
  return {
    name,
    encoder,
    trainable: [encoder],
    loss(batch) {
      if (batch === null || typeof batch !== "object") throw new Error(`${where}: batch must be an object {anchor, positive, negative}, got ${describe(batch)}`);
      for (const key of ["anchor", "positive", "negative"] as const) checkRank(where, `batch.${key}`, batch[key], 4, "float32");
      if (batch.anchor.shape[0] < 1) throw new Error(`${where}: batch.anchor must hold at least one frame, got ${describe(batch.anchor)}`);
      for (const key of ["positive", "negative"] as const) {
        if (batch[key].shape.some((d, i) => d !== batch.anchor.shape[i])) {
          throw new Error(`${where}: batch.${key} must have the anchor's shape [${batch.anchor.shape}], got ${describe(batch[key])}`);
        }
      }
      // One encoder pass over all three (one BatchNorm-free graph, fewer kernel launches).
      const z = l2NormalizeRows(applyChecked(where, "encoder", encoder, tf.concat([batch.anchor, batch.positive, batch.negative], 0), encoderDim));
      const [a, p, n] = tf.split(z, 3, 0) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      const loss = tripletLoss(a, p, n, { margin });
      const dPos = tf.sum(tf.square(tf.sub(a, p)), 1);
      const dNeg = tf.sum(tf.square(tf.sub(a, n)), 1);
      const accuracy = tf.mean(tf.cast(tf.less(dPos, dNeg), "float32")) as tf.Scalar;
      return { loss, metrics: { accuracy } };
    },
    itemsPerBatch: (batch) => batch.anchor.shape[0],
    dispose() {},
  };
}
