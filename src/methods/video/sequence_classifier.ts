/**
 * The shared shape of order verification and the arrow of time: a frame
 * encoder applied to every frame of a short sequence (one set of weights, a
 * siamese network over time), the frame features concatenated in order, and
 * an MLP head that says yes or no (in order? forward?). Misra et al. (2016)
 * and Wei et al. (2018) both fuse per-frame features late like this.
 */
import { tf } from "../../backend/tf";
import { mlpHead } from "../../models/encoders";
import type { FrameSequenceBatch } from "../../data/video_tasks";
import { applyChecked, checkHidden } from "../vision/checks";
import { checkInteger, checkOptions, checkPositiveInteger, checkRank, describe } from "../../validation/arguments";
import type { VideoMethod } from "./method";

/** Options of a frame-sequence classifier ({@link createOrderVerification}, {@link createArrowOfTime}). */
export interface FrameSequenceClassifierOptions {
  /** The frame encoder `[n, h, w, 1]` -> `[n, encoderDim]` (e.g. `createFrameEncoder()`); never disposed by the method. */
  encoder: tf.LayersModel;
  /** Size of the encoder's output. */
  encoderDim: number;
  /** Hidden sizes of the head (Dense+ReLU each); default `[64]`. */
  hidden?: number[];
  /** Seed of the head's initialiser; default 0. */
  seed?: number;
}

/** A frame-sequence classifier: a {@link VideoMethod} that can also score held-out batches. */
export interface FrameSequenceClassifier extends VideoMethod<FrameSequenceBatch> {
  /** Frames per sequence the head expects. */
  readonly length: number;
  /** Share of `batch`'s sequences classified right, in inference mode (no gradient, no dropout). */
  accuracy(batch: FrameSequenceBatch): number;
}

/**
 * Builds a classifier over sequences of `length` frames: features
 * `[B, length * encoderDim]` (frame order kept), an {@link mlpHead} to 2
 * logits, softmax cross-entropy with the batch's 0/1 labels. Metric:
 * `accuracy` (chance 0.5 on balanced batches).
 *
 * Shapes: `batch.frames` `[B, length, h, w, 1]`, `batch.labels` `[B]` int32 -> scalar loss.
 */
export function createFrameSequenceClassifier(fn: string, name: string, length: number, options: FrameSequenceClassifierOptions): FrameSequenceClassifier {
  checkOptions(fn, options, "{encoder, encoderDim, hidden?, seed?}");
  if (!(options.encoder instanceof tf.LayersModel)) throw new Error(`${fn}: options.encoder must be a tf.LayersModel, got ${describe(options.encoder)}`);
  const { encoder, encoderDim } = options;
  checkPositiveInteger(fn, "options.encoderDim", encoderDim);
  const hidden = options.hidden ?? [64];
  checkHidden(fn, "options.hidden", hidden);
  const seed = options.seed ?? 0;
  checkInteger(fn, "options.seed", seed);
  const head = mlpHead({ inputDim: length * encoderDim, hidden, outputDim: 2, seed, name: `${name.toLowerCase().replace(/[^a-z0-9]+/g, "_")}_head` });
  const where = `${name}.loss`;
  const logitsOf = (batch: FrameSequenceBatch, training: boolean): tf.Tensor2D => {
    const frames = checkSequenceBatch(where, batch, length);
    const [b, , h, w, c] = frames.shape;
    const features = applyChecked(where, "encoder", encoder, tf.reshape(frames, [b * length, h, w, c]), encoderDim, training);
    return applyChecked(where, "head", head, tf.reshape(features, [b, length * encoderDim]), 2, training);
  };
  const accuracyOf = (logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar => tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), labels), "float32")) as tf.Scalar;
  return {
    name,
    encoder,
    length,
    trainable: [encoder, head],
    loss(batch) {
      const logits = logitsOf(batch, true);
      // int32 one-hot, cast after: a float32 tf.oneHot is wrong on wasm.
      const loss = tf.losses.softmaxCrossEntropy(tf.cast(tf.oneHot(batch.labels, 2), "float32"), logits) as tf.Scalar;
      return { loss, metrics: { accuracy: accuracyOf(logits, batch.labels) } };
    },
    accuracy(batch) {
      return tf.tidy(() => accuracyOf(logitsOf(batch, false), batch.labels).dataSync()[0]);
    },
    itemsPerBatch: (batch) => batch.frames.shape[0],
    dispose() {
      head.dispose();
    },
  };
}

/** The batch's frames, checked: float32 `[B, length, h, w, 1]`, B >= 1, with int32 labels `[B]` of 0 and 1. */
function checkSequenceBatch(fn: string, batch: FrameSequenceBatch, length: number): tf.Tensor5D {
  if (batch === null || typeof batch !== "object") throw new Error(`${fn}: batch must be an object {frames, labels}, got ${describe(batch)}`);
  checkRank(fn, "batch.frames", batch.frames, 5, "float32");
  const frames = batch.frames as tf.Tensor5D;
  if (frames.shape[1] !== length || frames.shape[0] < 1) {
    throw new Error(`${fn}: batch.frames must be [B, ${length}, height, width, 1] with B >= 1, got ${describe(frames)}`);
  }
  checkRank(fn, "batch.labels", batch.labels, 1, "int32");
  if (batch.labels.shape[0] !== frames.shape[0]) {
    throw new Error(`${fn}: batch.labels must have shape [${frames.shape[0]}] like batch.frames, got ${describe(batch.labels)}`);
  }
  return frames;
}
