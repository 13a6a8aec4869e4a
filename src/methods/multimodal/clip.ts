/**
 * CLIP (Radford, Kim, Hallacy, Ramesh, Goh, Agarwal, Sastry, Askell,
 * Mishkin, Clark, Krueger & Sutskever 2021, "Learning Transferable Visual
 * Models From Natural Language Supervision"): an image encoder and a text
 * encoder trained so that each image's embedding is nearest its own
 * caption's among the batch, and each caption's nearest its own image's.
 * The text side is the workbook's transformer (models/transformer.ts),
 * bidirectional and mean-pooled over the real tokens.
 */
import { tf } from "../../backend/tf";
import { gatherImages } from "../../data/batches";
import type { TokenizedCaptions, CaptionTokenizer } from "../../data/digit_captions";
import { checkImageSet, type ImageSet } from "../../data/mnist";
import type { Rng } from "../../data/random";
import { createRng } from "../../data/random";
import { rowLogSumExp } from "../../losses/ops/log_sum_exp";
import { l2NormalizeRows } from "../../losses/ops/similarity";
import { createLinear, type Linear } from "../../models/attention";
import { createTransformer, type Transformer } from "../../models/transformer";
import {
  checkInteger,
  checkMatrix,
  checkNumberInRange,
  checkOptions,
  checkPositiveInteger,
  checkPositiveNumber,
  checkRank,
  describe,
} from "../../validation/arguments";
import type { Method } from "../method";

/** The paper's cap on the logit scale: logits are never scaled by more than 100. */
export const MAX_LOGIT_SCALE = 100;

/** The CLIP loss's signature: `(imageEmb [B, D], textEmb [B, D], logitScale scalar) -> scalar`. */
export type ClipLossFunction = (imageEmb: tf.Tensor2D, textEmb: tf.Tensor2D, logitScale: tf.Scalar) => tf.Scalar;

/**
 * CLIP's symmetric InfoNCE loss (the paper's Figure 3): with u_i, v_j the
 * L2-normalised image and text rows and s the logit scale,
 *
 *   logits[i, j] = s * u_i . v_j
 *   loss = 1/2 * ( 1/B sum_i [ logsumexp_j logits[i, j] - logits[i, i] ]      (image -> text)
 *               + 1/B sum_j [ logsumexp_i logits[i, j] - logits[j, j] ] )    (text -> image)
 *
 * Row i of both inputs is one pair; every other row of the batch is a
 * negative. The rows are normalised here (the paper normalises before the
 * loss; normalising twice changes nothing), so any embeddings can be
 * passed. Two rows with the same caption stay negatives of each other, as
 * in CLIP.
 *
 * Shapes: `imageEmb`, `textEmb` `[B, D]` float32 (B >= 1); `logitScale` a
 * float32 scalar tensor (or a number) > 0, the multiplier s = exp(t) of
 * the learned temperature -> scalar.
 *
 * @example
 * const loss = clipLoss(imageEmb, textEmb, tf.scalar(1 / 0.07)); // [8, 32], [8, 32] -> []
 */
export function clipLoss(imageEmb: tf.Tensor2D, textEmb: tf.Tensor2D, logitScale: tf.Scalar | number): tf.Scalar {
  const fn = "clipLoss";
  checkMatrix(fn, "imageEmb", imageEmb, undefined, undefined, "float32");
  const [b, d] = imageEmb.shape;
  if (b < 1 || d < 1) throw new Error(`${fn}: imageEmb must have at least one row and one column, got ${describe(imageEmb)}`);
  checkMatrix(fn, "textEmb", textEmb, b, d, "float32");
  if (typeof logitScale === "number") checkPositiveNumber(fn, "logitScale", logitScale);
  else {
    checkRank(fn, "logitScale", logitScale, 0, "float32");
    checkPositiveNumber(fn, "logitScale", logitScale.dataSync()[0]);
  }
  return tf.tidy(() => {
    const u = l2NormalizeRows(imageEmb);
    const v = l2NormalizeRows(textEmb);
    // Explicit transpose: wasm's matMul leaves its fast path for a transposed operand.
    const logits = tf.mul(tf.matMul(u, tf.transpose(v)), logitScale) as tf.Tensor2D;
    const positives = tf.sum(tf.mul(tf.sum(tf.mul(u, v), 1), logitScale));
    const imageToText = tf.sub(tf.sum(rowLogSumExp(logits)), positives);
    const textToImage = tf.sub(tf.sum(rowLogSumExp(tf.transpose(logits) as tf.Tensor2D)), positives);
    return tf.div(tf.add(imageToText, textToImage), 2 * b) as tf.Scalar;
  });
}

/** A batch of image-caption pairs: row i of `images` is described by row i of `tokens`. */
export interface ClipBatch {
  /** `[B, height, width, channels]` float32 images. */
  images: tf.Tensor4D;
  /** `[B, maxLength]` int32 caption token ids, 0 (padding) after each caption's end. */
  tokens: tf.Tensor2D;
  /** `[B]` real tokens of each caption, each in [1, maxLength]. */
  lengths: Int32Array;
}

/** Options of {@link createClip}. */
export interface ClipOptions {
  /** The image encoder, `[B, h, w, c]` -> `[B, imageDim]`; the method trains it and never disposes it. */
  imageEncoder: tf.LayersModel;
  /** Size of the image encoder's output. */
  imageDim: number;
  /** Token ids of the captions, [0, vocabSize); 0 is padding. */
  vocabSize: number;
  /** Longest caption in tokens (the padded length). */
  maxLength: number;
  /** Width of the text transformer; default 32. */
  textDim?: number;
  /** Attention heads of the text transformer; default 2. */
  textHeads?: number;
  /** Transformer blocks of the text encoder; default 1 (captions of at most 8 closed-vocabulary words). */
  textLayers?: number;
  /** Size of the joint embedding space; default 32. */
  embedDim?: number;
  /** The temperature the learned scale starts at, s = 1 / T; default 0.07 (the paper's). */
  initialTemperature?: number;
  /** Largest logit scale: after each step log s is clipped to [0, log maxLogitScale]; default {@link MAX_LOGIT_SCALE}. */
  maxLogitScale?: number;
  /** Seed of the text encoder and both projections; default 0. */
  seed?: number;
  /** The loss, `(imageEmb, textEmb, logitScale) -> scalar`; default {@link clipLoss}. A course exercise passes the student's own. */
  clipLoss?: ClipLossFunction;
}

/** CLIP ready for `training.train({ ...clip, optimizer, batches, steps })`, with what it trains and how to embed. */
export interface ClipMethod extends Method<ClipBatch> {
  /** The image encoder passed in. */
  readonly imageEncoder: tf.LayersModel;
  /** The bidirectional text transformer (created here, disposed by `dispose`). */
  readonly textEncoder: Transformer;
  /** Linear map of the image features into the joint space, `[imageDim, embedDim]`. */
  readonly imageProjection: Linear;
  /** Linear map of the pooled text features into the joint space, `[textDim, embedDim]`. */
  readonly textProjection: Linear;
  /** The learned log logit scale t, s = exp(t) (a scalar variable). */
  readonly logScale: tf.Variable;
  /** The current logit scale s = exp(t). */
  logitScale(): number;
  /**
   * Unit-norm image embeddings, in passes of `batchSize` (default 512), in inference mode.
   * Shapes: `[n, h, w, c]` -> `[n, embedDim]`.
   */
  embedImages(images: tf.Tensor4D, batchSize?: number): tf.Tensor2D;
  /**
   * Unit-norm caption embeddings, in passes of `batchSize` (default 512).
   * Shapes: `captions` of n captions padded to `maxLength` -> `[n, embedDim]`.
   */
  embedTexts(captions: TokenizedCaptions, batchSize?: number): tf.Tensor2D;
}

/**
 * CLIP: image features f(x) from the encoder passed in and pooled caption
 * features g(c) from a small bidirectional transformer, each mapped
 * linearly into a joint space of `embedDim` and L2-normalised; the loss is
 * {@link clipLoss} over the batch with the logit scale s = exp(t), where t
 * is learned (initialised at log(1 / 0.07)) and clipped after every step
 * to [0, log 100] as in the paper's code. The paper used linear
 * projections too, and trained both encoders from scratch.
 *
 * Metrics: `accuracy`, the share of the 2B directed matches (image to its
 * caption, caption to its image) ranked first in the batch;
 * `logitScale`, s; `duplicates`, the share of captions that occur more than
 * once in the batch. Such rows are still negatives of each other (CLIP
 * ignores them); the metric says how often it happens.
 *
 * Shapes: `batch.images` `[B, h, w, c]`, `batch.tokens` `[B, maxLength]`
 * int32, `batch.lengths` `[B]`, B >= 2 -> scalar loss.
 *
 * @example
 * const clip = createClip({ imageEncoder: models.smallCnnEncoder({ seed: 1 }), imageDim: 128,
 *   vocabSize: tokenizer.size, maxLength: tokenizer.maxLength, seed: 1 });
 * await training.train({ ...clip, optimizer: training.adam(1e-3), batches: clipBatches(train, { ... }), steps: 300 });
 * const u = clip.embedImages(testImages); // [n, 32], unit rows
 * clip.dispose(); // text encoder, projections and scale; the image encoder stays
 */
export function createClip(options: ClipOptions): ClipMethod {
  const fn = "createClip";
  checkOptions(fn, options, "{imageEncoder, imageDim, vocabSize, maxLength, ...}");
  const { imageEncoder, imageDim, vocabSize, maxLength } = options;
  if (!(imageEncoder instanceof tf.LayersModel)) throw new Error(`${fn}: options.imageEncoder must be a tf.LayersModel, got ${describe(imageEncoder)}`);
  checkPositiveInteger(fn, "options.imageDim", imageDim);
  const { textDim = 32, textHeads = 2, textLayers = 1, embedDim = 32, initialTemperature = 0.07, maxLogitScale = MAX_LOGIT_SCALE, seed = 0 } = options;
  checkPositiveInteger(fn, "options.embedDim", embedDim);
  checkNumberInRange(fn, "options.maxLogitScale", maxLogitScale, 1, Infinity, { minExclusive: true, maxExclusive: true });
  checkNumberInRange(fn, "options.initialTemperature", initialTemperature, 1 / maxLogitScale, 1);
  checkInteger(fn, "options.seed", seed);
  const loss = options.clipLoss ?? clipLoss;
  if (typeof loss !== "function") throw new Error(`${fn}: options.clipLoss must be a function (imageEmb, textEmb, logitScale) => scalar, got ${describe(loss)}`);
  const rng = createRng(seed);
  // createTransformer checks vocabSize, maxLength, textDim, textHeads and textLayers, naming its own options.
  const textEncoder = createTransformer({ vocabSize, maxLength, dim: textDim, heads: textHeads, layers: textLayers, causal: false, seed: rng.fork() });
  const imageProjection = createLinear({ inputDim: imageDim, outputDim: embedDim, seed: rng.fork() });
  const textProjection = createLinear({ inputDim: textDim, outputDim: embedDim, seed: rng.fork() });
  const logScale = tf.tidy(() => tf.variable(tf.scalar(Math.log(1 / initialTemperature))));
  const maxLogScale = Math.log(maxLogitScale);
  const where = "CLIP.loss";

  const imageFeatures = (images: tf.Tensor4D, training: boolean): tf.Tensor2D => {
    const h = imageEncoder.apply(images, { training }) as tf.Tensor;
    if (!(h instanceof tf.Tensor) || h.rank !== 2 || h.shape[0] !== images.shape[0] || h.shape[1] !== imageDim) {
      throw new Error(`${where}: imageEncoder must map [${images.shape.join(",")}] to [${images.shape[0]},${imageDim}], got ${describe(h)}`);
    }
    return imageProjection.apply(h) as tf.Tensor2D;
  };
  const textFeatures = (tokens: tf.Tensor2D, lengths: Int32Array): tf.Tensor2D =>
    textProjection.apply(textEncoder.pooled(tokens, lengths)) as tf.Tensor2D;

  return {
    name: "CLIP",
    imageEncoder,
    textEncoder,
    imageProjection,
    textProjection,
    logScale,
    // The language-model head's bias is never used by pooled features.
    trainable: [imageEncoder, ...textEncoder.trainable.filter((v) => v !== textEncoder.outputBias), ...imageProjection.trainable, ...textProjection.trainable, logScale],
    loss(batch, ctx) {
      void ctx;
      const images = checkClipBatch(where, batch, maxLength);
      const imageEmb = imageFeatures(images, true);
      const textEmb = textFeatures(batch.tokens, batch.lengths);
      const value = loss(imageEmb, textEmb, tf.exp(logScale) as tf.Scalar);
      if (!(value instanceof tf.Tensor) || value.rank !== 0) {
        throw new Error(`${where}: options.clipLoss must return a scalar loss, got ${value instanceof tf.Tensor ? `shape [${value.shape}]` : describe(value)}`);
      }
      return {
        loss: value,
        metrics: { accuracy: matchAccuracy(imageEmb, textEmb), logitScale: tf.exp(logScale) as tf.Scalar, duplicates: tf.scalar(duplicateShare(batch.tokens)) },
      };
    },
    afterStep() {
      // The paper's code clamps the parameter itself, outside the gradient.
      tf.tidy(() => logScale.assign(tf.clipByValue(logScale, 0, maxLogScale)));
    },
    itemsPerBatch: (batch) => batch.images.shape[0],
    logitScale: () => Math.exp(logScale.dataSync()[0]),
    embedImages(images, batchSize = 512) {
      const method = "CLIP.embedImages";
      checkRank(method, "images", images, 4, "float32");
      checkPositiveInteger(method, "batchSize", batchSize);
      const parts: tf.Tensor2D[] = [];
      try {
        for (let start = 0; start < images.shape[0]; start += batchSize) {
          const size = Math.min(batchSize, images.shape[0] - start);
          parts.push(tf.tidy(() => l2NormalizeRows(imageFeatures(tf.slice(images, [start, 0, 0, 0], [size, -1, -1, -1]), false))));
        }
        return tf.concat(parts, 0) as tf.Tensor2D;
      } finally {
        tf.dispose(parts);
      }
    },
    embedTexts(captions, batchSize = 512) {
      const method = "CLIP.embedTexts";
      if (captions === null || typeof captions !== "object" || !(captions.tokens instanceof Int32Array) || !(captions.lengths instanceof Int32Array)) {
        throw new Error(`${method}: captions must be tokenized captions {tokens, lengths, n, maxLength}, got ${describe(captions)}`);
      }
      if (captions.maxLength !== maxLength || captions.tokens.length !== captions.n * maxLength || captions.lengths.length !== captions.n || captions.n < 1) {
        throw new Error(`${method}: captions must hold n >= 1 captions padded to ${maxLength} tokens, got n = ${captions.n}, maxLength = ${captions.maxLength}, ${captions.tokens.length} tokens`);
      }
      checkPositiveInteger(method, "batchSize", batchSize);
      const parts: tf.Tensor2D[] = [];
      try {
        for (let start = 0; start < captions.n; start += batchSize) {
          const size = Math.min(batchSize, captions.n - start);
          parts.push(tf.tidy(() => {
            const tokens = tf.tensor2d(captions.tokens.subarray(start * maxLength, (start + size) * maxLength), [size, maxLength], "int32");
            return l2NormalizeRows(textFeatures(tokens, captions.lengths.subarray(start, start + size)));
          }));
        }
        return tf.concat(parts, 0) as tf.Tensor2D;
      } finally {
        tf.dispose(parts);
      }
    },
    dispose() {
      textEncoder.dispose();
      imageProjection.dispose();
      textProjection.dispose();
      logScale.dispose();
    },
  };
}

/** The batch's images, after checking images, tokens and lengths agree. */
function checkClipBatch(fn: string, batch: ClipBatch, maxLength: number): tf.Tensor4D {
  checkOptions(fn, batch, "{images, tokens, lengths}");
  checkRank(fn, "batch.images", batch.images, 4, "float32");
  const b = batch.images.shape[0];
  if (b < 2) throw new Error(`${fn}: batch.images must hold B >= 2 images (the others are the negatives), got ${describe(batch.images)}`);
  checkMatrix(fn, "batch.tokens", batch.tokens, b, maxLength, "int32");
  if (!(batch.lengths instanceof Int32Array) || batch.lengths.length !== b) {
    throw new Error(`${fn}: batch.lengths must be an Int32Array of length ${b}, got ${describe(batch.lengths)}`);
  }
  return batch.images;
}

/** Share of the 2B directed matches (image i -> caption i, caption i -> image i) ranked first among the batch. */
function matchAccuracy(imageEmb: tf.Tensor2D, textEmb: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const sims = tf.matMul(l2NormalizeRows(imageEmb), tf.transpose(l2NormalizeRows(textEmb)));
    const own = tf.range(0, imageEmb.shape[0], 1, "int32");
    const rows = tf.cast(tf.equal(tf.argMax(sims, 1), own), "float32");
    const cols = tf.cast(tf.equal(tf.argMax(sims, 0), own), "float32");
    return tf.div(tf.add(tf.sum(rows), tf.sum(cols)), 2 * imageEmb.shape[0]) as tf.Scalar;
  });
}

/** Share of rows of `tokens` `[B, T]` equal to another row. */
function duplicateShare(tokens: tf.Tensor2D): number {
  const [b, t] = tokens.shape;
  const ids = tokens.dataSync();
  const counts = new Map<string, number>();
  const keys = Array.from({ length: b }, (_, i) => ids.subarray(i * t, (i + 1) * t).join(","));
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return keys.filter((k) => counts.get(k)! > 1).length / b;
}

/** Options of {@link clipBatches}. */
export interface ClipBatchesOptions {
  /** Pairs per batch, in [2, set.n]. */
  batchSize: number;
  /** The captions of epoch e, one per image of the set, e.g. `(e) => sampleCaptions(descriptions, TRAIN_TEMPLATES, { seed, epoch: e })`. */
  captions: (epoch: number) => readonly string[];
  /** Encodes the captions; its `maxLength` is the batches' padded length. */
  tokenizer: CaptionTokenizer;
}

/**
 * Batches of image-caption pairs for `training.train`: each epoch the
 * pairs in an order drawn from the epoch's `rng`, with that epoch's
 * captions; the last incomplete batch is dropped (a contrastive batch
 * smaller than the others would make an easier task).
 *
 * Shapes: yields `{ images [batchSize, h, w, c], tokens [batchSize, maxLength], lengths [batchSize] }`.
 *
 * @example
 * const batches = clipBatches(mnist.train, { batchSize: 128, tokenizer,
 *   captions: (epoch) => data.sampleCaptions(descriptions, data.TRAIN_TEMPLATES, { seed: 1, epoch }) });
 * await training.train({ ...clip, optimizer, batches, steps: 300 });
 */
export function clipBatches(set: ImageSet, options: ClipBatchesOptions): (epoch: number, rng: Rng) => Generator<ClipBatch> {
  const fn = "clipBatches";
  checkImageSet(fn, set);
  checkOptions(fn, options, "{batchSize, captions, tokenizer}");
  const { batchSize, captions, tokenizer } = options;
  checkPositiveInteger(fn, "options.batchSize", batchSize);
  if (batchSize < 2 || batchSize > set.n) throw new Error(`${fn}: options.batchSize must be an integer in [2, ${set.n}] (set.n), got ${batchSize}`);
  if (typeof captions !== "function") throw new Error(`${fn}: options.captions must be a function (epoch) => captions, got ${describe(captions)}`);
  if (tokenizer === null || typeof tokenizer !== "object" || typeof tokenizer.encode !== "function") {
    throw new Error(`${fn}: options.tokenizer must be a caption tokenizer, got ${describe(tokenizer)}`);
  }
  return function* (epoch: number, rng: Rng): Generator<ClipBatch> {
    const text = captions(epoch);
    if (!Array.isArray(text) || text.length !== set.n) {
      throw new Error(`${fn}: options.captions(${epoch}) must return one caption per image (${set.n}), got ${describe(text)}`);
    }
    const encoded = tokenizer.encode(text);
    const t = encoded.maxLength;
    const order = rng.permutation(set.n);
    for (let start = 0; start + batchSize <= set.n; start += batchSize) {
      const rows = order.subarray(start, start + batchSize);
      const tokens = new Int32Array(batchSize * t);
      const lengths = new Int32Array(batchSize);
      rows.forEach((row, i) => {
        tokens.set(encoded.tokens.subarray(row * t, (row + 1) * t), i * t);
        lengths[i] = encoded.lengths[row];
      });
      yield { images: gatherImages(set, rows), tokens: tf.tensor2d(tokens, [batchSize, t], "int32"), lengths };
    }
  };
}
