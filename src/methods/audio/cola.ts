/**
 * COLA, contrastive learning of general-purpose audio representations
 * (Saeed, Grangier & Zeghidour 2021, ICASSP): two segments cut at random
 * from one recording are a positive pair; the segments of the other
 * recordings in the batch are the negatives; the similarity is bilinear,
 * s(x, y) = g(f(x))^T W g(f(y)), and the loss a softmax cross-entropy over
 * the batch.
 */
import { tf } from "../../backend/tf";
import { rowLogSumExp } from "../../losses/ops/log_sum_exp";
import type { Rng } from "../../data/random";
import type { Method } from "../method";
import type { LossWithMetrics, StepContext } from "../../training/loop";
import { extractFeatures } from "../../evaluation/features";
import { applyChecked } from "../vision/checks";
import { checkInteger, checkMatrix, checkNonNegativeNumber, checkOptions, checkPositiveInteger, checkRank, describe } from "../../validation/arguments";

/**
 * COLA's loss for a batch of B positive pairs, the cross-entropy of picking
 * each anchor's own positive among all B positives under the bilinear
 * similarity (the paper's eq. 1 and 2):
 *
 *   s_ij = a_i^T W p_j,   loss = 1/B sum_i [ log sum_j exp(s_ij) - s_ii ].
 *
 * No temperature: COLA bounds the embeddings with a tanh instead, and W
 * learns the scale. Chance level is log B.
 *
 * Shapes: `anchors` `[B, D]`, `positives` `[B, D]` (row i of each comes from
 * recording i), `W` `[D, D]`, all float32 -> scalar.
 *
 * @example
 * const loss = methods.bilinearContrastiveLoss(ga, gp, cola.bilinear); // ga, gp [B, D] projections
 */
export function bilinearContrastiveLoss(anchors: tf.Tensor2D, positives: tf.Tensor2D, W: tf.Tensor2D): tf.Scalar {
  const fn = "bilinearContrastiveLoss";
  checkMatrix(fn, "anchors", anchors, undefined, undefined, "float32");
  const [b, d] = anchors.shape;
  if (b < 1 || d < 1) throw new Error(`${fn}: anchors must have at least one row and one column, got ${describe(anchors)}`);
  checkMatrix(fn, "positives", positives, b, d, "float32");
  checkMatrix(fn, "W", W, d, d, "float32");
  return tf.tidy(() => {
    // Explicit transpose: matMul with a transposed operand is slow on wasm.
    const logits = tf.matMul(tf.matMul(anchors, W), tf.transpose(positives)) as tf.Tensor2D; // [B, B], row i: anchor i against every positive
    const own = tf.sum(tf.mul(tf.matMul(anchors, W), positives));
    return tf.div(tf.sub(tf.sum(rowLogSumExp(logits)), own), b) as tf.Scalar;
  });
}

/** A batch of COLA: segment i of `anchors` and of `positives` come from the same recording. */
export interface ColaBatch {
  /** `[B, segmentFrames, melBins, 1]` float32 log-mel segments. */
  anchors: tf.Tensor4D;
  /** `[B, segmentFrames, melBins, 1]` float32, other segments of the same B recordings. */
  positives: tf.Tensor4D;
}

/** Options of {@link createCola}. */
export interface ColaOptions {
  /** The encoder f, `[B, segmentFrames, melBins, 1]` -> `[B, encoderDim]`; the method never disposes it. */
  encoder: tf.LayersModel;
  /** Size of the encoder's output. */
  encoderDim: number;
  /** Size of g's output, the space where W compares; default 64 (the paper: 512 on EfficientNet-B0's 1280). */
  projectionDim?: number;
  /** Seed of the projection's initialiser; default 0. */
  seed?: number;
  /**
   * The loss, `(anchors [B, D], positives [B, D], W [D, D]) -> scalar`;
   * default {@link bilinearContrastiveLoss}. A course exercise passes the student's own.
   */
  bilinearLoss?: (anchors: tf.Tensor2D, positives: tf.Tensor2D, W: tf.Tensor2D) => tf.Scalar;
}

/** COLA as a {@link Method}, with the parts it trains. */
export interface ColaMethod extends Method<ColaBatch> {
  /** The encoder f whose output is probed (passed in: `dispose()` keeps it). */
  readonly encoder: tf.LayersModel;
  /** The projection g: dense, layer norm, tanh; `[B, encoderDim]` -> `[B, projectionDim]`. Owned. */
  readonly projector: tf.LayersModel;
  /** The bilinear matrix W `[projectionDim, projectionDim]`, starting at the identity. Owned. */
  readonly bilinear: tf.Variable;
  /** Metrics: `accuracy`, the share of anchors whose most similar positive is their own (chance 1/B). */
  loss(batch: ColaBatch, ctx: StepContext): LossWithMetrics;
}

/**
 * COLA: each batch holds two segments of B recordings; both go through the
 * encoder f and the projection g (a dense layer, layer normalisation and
 * tanh, as in the paper), and {@link bilinearContrastiveLoss} with the
 * learned W pulls each anchor to its own positive and away from the other
 * B - 1. W starts at the identity, so training starts from the dot product.
 *
 * Shapes: `batch.anchors`, `batch.positives` `[B, segmentFrames, melBins, 1]`
 * (B >= 2) -> encoder `[B, encoderDim]` -> g `[B, projectionDim]` -> scalar.
 *
 * @example
 * const encoder = models.smallCnnEncoder({ inputShape: [16, 32, 1], channels: [16, 32, 64], seed: 1 });
 * const cola = methods.createCola({ encoder, encoderDim: 64, seed: 1 });
 * await training.train({ ...cola, optimizer: training.adam(1e-3), batches: methods.colaBatches(logMel, { batchSize: 64, segmentFrames: 16, gainJitterDb: 12 }), steps: 200 });
 * cola.dispose(); // g and W; the encoder is kept for the probe
 */
export function createCola(options: ColaOptions): ColaMethod {
  const fn = "createCola";
  checkOptions(fn, options, "{encoder, encoderDim, projectionDim?, seed?, bilinearLoss?}");
  if (!(options.encoder instanceof tf.LayersModel)) throw new Error(`${fn}: options.encoder must be a tf.LayersModel, got ${describe(options.encoder)}`);
  const { encoder, encoderDim } = options;
  checkPositiveInteger(fn, "options.encoderDim", encoderDim);
  const projectionDim = options.projectionDim ?? 64;
  checkPositiveInteger(fn, "options.projectionDim", projectionDim);
  const seed = options.seed ?? 0;
  checkInteger(fn, "options.seed", seed);
  const lossFn = options.bilinearLoss ?? bilinearContrastiveLoss;
  if (typeof lossFn !== "function") throw new Error(`${fn}: options.bilinearLoss must be a function (anchors, positives, W) => scalar, got ${describe(lossFn)}`);
  const projector = tf.sequential({
    name: "cola_projector",
    layers: [
      tf.layers.dense({ units: projectionDim, inputShape: [encoderDim], kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 101 + 1 }) }),
      tf.layers.layerNormalization({}),
      tf.layers.activation({ activation: "tanh" }),
    ],
  });
  const bilinear = tf.tidy(() => tf.variable(tf.eye(projectionDim), true));
  const where = "COLA.loss";
  const project = (x: tf.Tensor4D) => applyChecked(where, "projector", projector, applyChecked(where, "encoder", encoder, x, encoderDim), projectionDim);
  return {
    name: "COLA",
    encoder,
    projector,
    bilinear,
    trainable: [encoder, projector, bilinear],
    loss(batch) {
      const { anchors, positives } = checkColaBatch(where, batch);
      const ga = project(anchors);
      const gp = project(positives);
      const loss = lossFn(ga, gp, bilinear as tf.Tensor2D);
      if (!(loss instanceof tf.Tensor) || loss.rank !== 0) {
        throw new Error(`${where}: options.bilinearLoss must return a scalar loss, got ${loss instanceof tf.Tensor ? `shape [${loss.shape}]` : describe(loss)}`);
      }
      const logits = tf.matMul(tf.matMul(ga, bilinear), tf.transpose(gp));
      const own = tf.range(0, anchors.shape[0], 1, "int32");
      const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), own), "float32")) as tf.Scalar;
      return { loss, metrics: { accuracy } };
    },
    itemsPerBatch: (batch) => batch.anchors.shape[0],
    dispose() {
      projector.dispose();
      bilinear.dispose();
    },
  };
}

function checkColaBatch(fn: string, batch: ColaBatch): ColaBatch {
  if (batch === null || typeof batch !== "object") throw new Error(`${fn}: batch must be an object {anchors, positives}, got ${describe(batch)}`);
  checkRank(fn, "batch.anchors", batch.anchors, 4, "float32");
  const { anchors, positives } = batch;
  if (anchors.shape[0] < 2) throw new Error(`${fn}: batch.anchors must be a batch [B, frames, melBins, 1] with B >= 2, got ${describe(anchors)}`);
  checkRank(fn, "batch.positives", positives, 4, "float32");
  if (positives.shape.some((s, i) => s !== anchors.shape[i])) {
    throw new Error(`${fn}: batch.positives must have the shape of batch.anchors [${anchors.shape}], got ${describe(positives)}`);
  }
  return batch;
}

/** Options of {@link colaBatches}. */
export interface ColaBatchesOptions {
  /** Recordings per batch (the last, smaller batch of an epoch is dropped: the loss compares a batch's recordings). */
  batchSize: number;
  /** Frames per segment, at most the recordings' frames. */
  segmentFrames: number;
  /**
   * Random gain of each segment, uniform in [-gainJitterDb, gainJitterDb] dB,
   * drawn independently for anchor and positive; default 0 (none, as in the
   * paper). A recording's loudness is the same in both its segments, so
   * without it the encoder can match pairs by loudness alone, a shortcut
   * that teaches nothing about the sound (an augmentation the paper does not use; one
   * seed of notebook 05's setting with 12 dB probed instruments worse, so the
   * notebook leaves it off).
   */
  gainJitterDb?: number;
}

/** Natural-log power units per dB: a gain of g dB adds g ln(10) / 10 to a log-mel value. */
const LOG_POWER_PER_DB = Math.LN10 / 10;

/**
 * A `batches(epoch, rng)` function for `training.train`: each epoch visits
 * the recordings in a shuffled order (seeded by the loop's rng) and, for
 * each, cuts two segments of `segmentFrames` frames at independent uniform
 * offsets (they may overlap, as in the paper's random crops), each shifted
 * by its own random gain when `gainJitterDb` > 0. The log-mel spectrograms
 * are read once, when this is called.
 *
 * Shapes: `logMel` `[count, frames, melBins]` float32 -> batches
 * `{anchors, positives}`, each `[batchSize, segmentFrames, melBins, 1]`.
 *
 * @example
 * const batches = methods.colaBatches(logMel, { batchSize: 64, segmentFrames: 24 });
 */
export function colaBatches(logMel: tf.Tensor3D, options: ColaBatchesOptions): (epoch: number, rng: Rng) => Generator<ColaBatch> {
  const fn = "colaBatches";
  checkRank(fn, "logMel", logMel, 3, "float32");
  checkOptions(fn, options, "{batchSize, segmentFrames}");
  const { batchSize, segmentFrames } = options;
  const gainJitterDb = options.gainJitterDb ?? 0;
  checkPositiveInteger(fn, "options.batchSize", batchSize);
  checkPositiveInteger(fn, "options.segmentFrames", segmentFrames);
  checkNonNegativeNumber(fn, "options.gainJitterDb", gainJitterDb);
  const [count, frames, melBins] = logMel.shape;
  if (batchSize < 2 || batchSize > count) throw new Error(`${fn}: options.batchSize must be in [2, ${count}] (the recordings), got ${batchSize}`);
  if (segmentFrames > frames) throw new Error(`${fn}: options.segmentFrames must be at most the ${frames} frames of logMel, got ${segmentFrames}`);
  const values = logMel.dataSync().slice() as Float32Array;
  const segmentSize = segmentFrames * melBins;
  const recordingSize = frames * melBins;
  const offsets = frames - segmentFrames + 1;
  return function* (_epoch: number, rng: Rng): Generator<ColaBatch> {
    const order = rng.permutation(count);
    for (let start = 0; start + batchSize <= count; start += batchSize) {
      const a = new Float32Array(batchSize * segmentSize);
      const p = new Float32Array(batchSize * segmentSize);
      const cut = (into: Float32Array, i: number, base: number): void => {
        const from = base + rng.int(offsets) * melBins;
        const shift = gainJitterDb === 0 ? 0 : (2 * rng.next() - 1) * gainJitterDb * LOG_POWER_PER_DB;
        for (let j = 0; j < segmentSize; j++) into[i * segmentSize + j] = values[from + j] + shift;
      };
      for (let i = 0; i < batchSize; i++) {
        const base = order[start + i] * recordingSize;
        cut(a, i, base);
        cut(p, i, base);
      }
      const shape: [number, number, number, number] = [batchSize, segmentFrames, melBins, 1];
      yield { anchors: tf.tensor4d(a, shape), positives: tf.tensor4d(p, shape) };
    }
  };
}

/** Options of {@link embedRecordings}. */
export interface EmbedRecordingsOptions {
  /** Frames per segment: the encoder's input length. */
  segmentFrames: number;
  /** Frames between the starts of consecutive segments; default segmentFrames (no overlap). */
  hop?: number;
}

/**
 * One embedding per recording: the encoder's output averaged over the
 * segments starting at frames 0, hop, 2 hop, ... (every segment whole), in
 * inference mode. COLA trains on segments; a recording's label is a
 * property of all of it, so its segments are pooled.
 *
 * Shapes: `logMel` `[count, frames, melBins]` float32 -> `[count, encoderDim]`.
 *
 * @example
 * const features = methods.embedRecordings(encoder, testLogMel, { segmentFrames: 24, hop: 12 }); // [count, 64]
 */
export function embedRecordings(encoder: tf.LayersModel, logMel: tf.Tensor3D, options: EmbedRecordingsOptions): tf.Tensor2D {
  const fn = "embedRecordings";
  if (!(encoder instanceof tf.LayersModel)) throw new Error(`${fn}: encoder must be a tf.LayersModel, got ${describe(encoder)}`);
  checkRank(fn, "logMel", logMel, 3, "float32");
  checkOptions(fn, options, "{segmentFrames, hop?}");
  const { segmentFrames } = options;
  const hop = options.hop ?? segmentFrames;
  checkPositiveInteger(fn, "options.segmentFrames", segmentFrames);
  checkPositiveInteger(fn, "options.hop", hop);
  const [count, frames, melBins] = logMel.shape;
  if (segmentFrames > frames) throw new Error(`${fn}: options.segmentFrames must be at most the ${frames} frames of logMel, got ${segmentFrames}`);
  let total: tf.Tensor2D | undefined;
  let segments = 0;
  for (let start = 0; start + segmentFrames <= frames; start += hop) {
    const features = tf.tidy(() => extractFeatures(encoder, tf.expandDims(tf.slice(logMel, [0, start, 0], [count, segmentFrames, melBins]), 3)));
    const next = total === undefined ? features : (tf.add(total, features) as tf.Tensor2D);
    if (total !== undefined) tf.dispose([total, features]);
    total = next;
    segments++;
  }
  const mean = tf.div(total!, segments) as tf.Tensor2D;
  total!.dispose();
  return mean;
}
