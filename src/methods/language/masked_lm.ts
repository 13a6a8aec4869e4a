/**
 * Masked language modelling, BERT's pretext task (Devlin, Chang, Lee,
 * Toutanova 2019, "BERT: Pre-training of Deep Bidirectional Transformers for
 * Language Understanding"; the tutorial's "masked generation"): corrupt 15%
 * of the tokens with the 80/10/10 rule (`data/pretext_bert.ts`) and train a
 * bidirectional transformer to predict the original token at exactly those
 * positions. Unlike a causal (GPT) model, every position sees the whole
 * sequence, left and right, so the hidden states are contextual in both
 * directions; their mean over the sequence is the sentence embedding a
 * linear probe judges.
 *
 * Masking happens inside the loss, from the step's `ctx.seed`: every step,
 * and every epoch over the same blocks, draws a fresh mask (RoBERTa's
 * "dynamic masking", Liu et al. 2019), and a run with the same seed draws
 * the same masks. Evaluation uses one fixed mask from a given seed.
 */
import { tf } from "../../backend/tf";
import type { CharBlocks } from "../../data/char_tokens";
import { bertMask } from "../../data/pretext_bert";
import { createTransformer, type Transformer, type TransformerOptions } from "../../models/transformer";
import type { LossWithMetrics, StepContext } from "../../training/types";
import {
  checkIntegerInRange,
  checkMatrix,
  checkOptions,
  checkPositiveInteger,
  checkProbability,
  describe,
} from "../../validation/arguments";
import type { Method } from "../method";
import { nextTokenNll } from "./causal_lm";

/** A batch of clean token rows; the method masks them itself, from the step's seed. */
export interface MaskedLmBatch {
  /** `[batch, time]` int32 token ids, none equal to the mask token; time <= the transformer's maxLength. */
  tokens: tf.Tensor2D;
}

/** How tokens are chosen and corrupted: the options of `bertMask` without the seed. */
export interface MaskingOptions {
  /** Id of `<mask>` (`vocab.maskId`); it must not occur in the rows. */
  maskToken: number;
  /** Fraction of the eligible positions of each row to predict; default 0.15 (BERT). */
  rate?: number;
  /** Ids never chosen nor drawn as a random replacement, e.g. `[vocab.padId, vocab.bosId]`; default none. */
  special?: readonly number[];
}

/** Options of {@link createMaskedLm}. */
export interface MaskedLmOptions extends MaskingOptions {
  /**
   * The model: a bidirectional `Transformer` (`causal: false`), which stays
   * the caller's, or the options of one (without `causal`), which the method
   * builds and `dispose()` frees.
   */
  transformer: Transformer | Omit<TransformerOptions, "causal">;
  /** Name for labels; default "BERT (masked LM)". */
  name?: string;
}

/** A masked language model as a {@link Method}. */
export interface MaskedLmMethod extends Method<MaskedLmBatch> {
  /** The bidirectional transformer being trained. */
  readonly transformer: Transformer;
  /** The masking rule, defaults filled in. */
  readonly masking: Required<MaskingOptions>;
}

/** Rejects option names `fn` does not know (a misspelt option would otherwise be ignored). */
function checkKnownKeys(fn: string, options: object, known: readonly string[]): void {
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new Error(`${fn}: options must hold only ${known.join(", ")}, got ${unknown.join(", ")}`);
}

/** Whether `value` is a built transformer rather than its options. */
function isTransformer(value: unknown): value is Transformer {
  return value !== null && typeof value === "object" && typeof (value as Transformer).apply === "function" && Array.isArray((value as Transformer).trainable);
}

/** Checks a masking rule against a vocabulary of `vocabSize` ids and fills its defaults. */
function checkMasking(fn: string, options: MaskingOptions, vocabSize: number): Required<MaskingOptions> {
  const { maskToken, rate = 0.15, special = [] } = options;
  checkIntegerInRange(fn, "options.maskToken", maskToken, 0, vocabSize, { maxExclusive: true });
  checkProbability(fn, "options.rate", rate);
  if (!Array.isArray(special)) throw new Error(`${fn}: options.special must be an array of ids, got ${describe(special)}`);
  special.forEach((id, i) => checkIntegerInRange(fn, `options.special[${i}]`, id, 0, vocabSize, { maxExclusive: true }));
  return { maskToken, rate, special: [...special] };
}

/** Checks that `model` is a bidirectional transformer. */
function checkBidirectional(fn: string, arg: string, model: unknown): asserts model is Transformer {
  if (!isTransformer(model)) throw new Error(`${fn}: ${arg} must be a Transformer from models.createTransformer, got ${describe(model)}`);
  if (model.causal) throw new Error(`${fn}: ${arg} must be bidirectional (causal: false) for masked language modelling, got causal: true`);
}

/**
 * The masked-LM loss: the softmax cross-entropy of each position's logits
 * against its target token, averaged over the positions with weight 1 (the
 * chosen ones of `bertMask`) and nothing else,
 *
 *   L = sum_{b,t} w_bt (logsumexp_v z_btv - z_bt,y_bt) / max(1, sum_{b,t} w_bt),
 *
 * Devlin et al. (2019), section 3.1 ("the final hidden vectors corresponding
 * to the mask tokens are fed into an output softmax"). Unchosen positions
 * have weight 0 and contribute neither value nor gradient; a batch with no
 * chosen position gives 0. Weights may be any non-negative numbers (a
 * weighted mean); they are not read back to check.
 *
 * Shapes: `logits` `[batch, time, vocab]` float32, `targets` `[batch, time]`
 * int32 in [0, vocab), `weights` `[batch, time]` float32 -> scalar (nats per
 * masked token).
 *
 * @example
 * const { inputs, targets, weights } = bertMask(rows, { maskToken: vocab.maskId, vocabSize: vocab.size, seed: 1 });
 * const loss = maskedCrossEntropy(bert.apply(inputs).logits, targets, weights);
 */
export function maskedCrossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D, weights: tf.Tensor2D): tf.Scalar {
  const fn = "maskedCrossEntropy";
  if (!(logits instanceof tf.Tensor) || logits.rank !== 3 || logits.dtype !== "float32") {
    throw new Error(`${fn}: logits must be a float32 tensor of shape [batch,time,vocab], got ${describe(logits)}`);
  }
  const [batch, time] = logits.shape;
  checkMatrix(fn, "targets", targets, batch, time, "int32");
  checkMatrix(fn, "weights", weights, batch, time, "float32");
  // The same per-position cross-entropy as the causal LM's, weighted.
  return tf.tidy(() => tf.div(tf.sum(tf.mul(nextTokenNll(logits, targets), weights)), tf.maximum(tf.sum(weights), 1)) as tf.Scalar);
}

/**
 * The fraction of weighted positions whose arg-max logit is the target:
 * sum w [argmax_v z_btv = y_bt] / max(1, sum w). No gradient.
 *
 * Shapes: as {@link maskedCrossEntropy} -> scalar in [0, 1].
 *
 * @example
 * maskedAccuracyOf(logits, targets, weights).dataSync()[0]; // 0.52
 */
export function maskedAccuracyOf(logits: tf.Tensor3D, targets: tf.Tensor2D, weights: tf.Tensor2D): tf.Scalar {
  const fn = "maskedAccuracyOf";
  if (!(logits instanceof tf.Tensor) || logits.rank !== 3 || logits.dtype !== "float32") {
    throw new Error(`${fn}: logits must be a float32 tensor of shape [batch,time,vocab], got ${describe(logits)}`);
  }
  const [batch, time] = logits.shape;
  checkMatrix(fn, "targets", targets, batch, time, "int32");
  checkMatrix(fn, "weights", weights, batch, time, "float32");
  return tf.tidy(() => {
    const hits = tf.cast(tf.equal(tf.argMax(logits, 2), targets), "float32");
    return tf.div(tf.sum(tf.mul(hits, weights)), tf.maximum(tf.sum(weights), 1)) as tf.Scalar;
  });
}

/**
 * BERT-style masked language modelling for `training.train`. Each step masks
 * the batch's rows with `bertMask` (15% of the non-special positions; of
 * those 80% become `maskToken`, 10% a random token, 10% stay) seeded by
 * `ctx.seed`, runs the bidirectional transformer on the corrupted rows and
 * minimises {@link maskedCrossEntropy} on the chosen positions only. Metric:
 * `maskedAccuracy`, the arg-max accuracy on those positions.
 *
 * Batches are `{ tokens }` of clean rows; {@link maskedLmBatches} turns
 * `charBlocks` into them. Rows are assumed full (no padding): give
 * `special` any id (padding, `<bos>`) that must not be chosen.
 *
 * Shapes: `tokens` `[batch, time]` int32 -> scalar loss (nats per masked token).
 *
 * @example
 * const bert = methods.createMaskedLm({
 *   transformer: { vocabSize: vocab.size, maxLength: 64, dim: 64, heads: 4, layers: 2, seed: 1 },
 *   maskToken: vocab.maskId, special: [vocab.padId, vocab.bosId],
 * });
 * const blocks = data.charBlocks(trainDocs, { length: 63, batchSize: 32, seed: 1 }); // rows of 64 ids
 * await training.train({ ...bert, optimizer: training.adam(3e-3), batches: maskedLmBatches(blocks), steps: 300 });
 */
export function createMaskedLm(options: MaskedLmOptions): MaskedLmMethod {
  const fn = "createMaskedLm";
  checkOptions(fn, options, "{transformer, maskToken, rate?, special?, name?}");
  checkKnownKeys(fn, options, ["transformer", "maskToken", "rate", "special", "name"]);
  const { name = "BERT (masked LM)" } = options;
  if (typeof name !== "string" || name.length === 0) throw new Error(`${fn}: options.name must be a non-empty string, got ${describe(name)}`);
  const given = options.transformer;
  let owned = false;
  let transformer: Transformer;
  if (isTransformer(given)) {
    checkBidirectional(fn, "options.transformer", given);
    transformer = given;
  } else {
    if (given === null || typeof given !== "object") {
      throw new Error(`${fn}: options.transformer must be a Transformer or its options {vocabSize, maxLength, dim, heads, layers, ...}, got ${describe(given)}`);
    }
    if ("causal" in given) throw new Error(`${fn}: options.transformer must not set causal (a masked LM is bidirectional), got causal: ${describe((given as TransformerOptions).causal)}`);
    // Validate the masking rule before building, so a bad option leaks no variables.
    checkPositiveInteger(fn, "options.transformer.vocabSize", (given as TransformerOptions).vocabSize);
    checkMasking(fn, options, given.vocabSize);
    transformer = createTransformer({ ...given, causal: false });
    owned = true;
  }
  const masking = checkMasking(fn, options, transformer.vocabSize);

  const loss = (batch: MaskedLmBatch, ctx: StepContext): LossWithMetrics => {
    const tokens = batchTokens("MaskedLm.loss", batch, transformer.maxLength);
    const { inputs, targets, weights } = bertMask(tokens, { ...masking, vocabSize: transformer.vocabSize, seed: ctx.seed });
    const { logits } = transformer.apply(inputs);
    return {
      loss: maskedCrossEntropy(logits, targets, weights),
      metrics: { maskedAccuracy: maskedAccuracyOf(logits, targets, weights) },
    };
  };

  return {
    name,
    transformer,
    masking,
    trainable: transformer.trainable,
    loss,
    itemsPerBatch: (batch) => batch.tokens.shape[0],
    dispose() {
      // Only a transformer built here is the method's; a passed-in one is kept for probing.
      if (owned) transformer.dispose();
    },
  };
}

/** The checked `tokens` of a batch. */
function batchTokens(fn: string, batch: MaskedLmBatch, maxLength: number): tf.Tensor2D {
  if (batch === null || typeof batch !== "object") throw new Error(`${fn}: batch must be {tokens}, got ${describe(batch)}`);
  const { tokens } = batch;
  checkMatrix(fn, "batch.tokens", tokens, undefined, undefined, "int32");
  if (tokens.shape[1] > maxLength) throw new Error(`${fn}: batch.tokens must have at most maxLength = ${maxLength} columns, got ${describe(tokens)}`);
  return tokens;
}

/**
 * The batches of `charBlocks` as {@link MaskedLmBatch}es, for
 * `training.train({ batches })`: each block's `length + 1` ids form one row
 * (a masked LM needs no shifted targets), so pick `length: context - 1`.
 *
 * Shapes: blocks' batches `[batchSize, length + 1]` int32 -> `{ tokens }` of that shape.
 *
 * @example
 * const blocks = charBlocks(trainDocs, { length: 63, batchSize: 32, seed: 1 });
 * await training.train({ ...bert, optimizer, batches: maskedLmBatches(blocks), stepsPerEpoch: blocks.batchCount, steps: 300 });
 */
export function maskedLmBatches(blocks: CharBlocks): (epoch: number) => Generator<MaskedLmBatch> {
  if (blocks === null || typeof blocks !== "object" || typeof (blocks as CharBlocks).batches !== "function") {
    throw new Error(`maskedLmBatches: blocks must be CharBlocks from data.charBlocks, got ${describe(blocks)}`);
  }
  return function* (epoch: number): Generator<MaskedLmBatch> {
    for (const tokens of blocks.batches(epoch)) yield { tokens };
  };
}

/** Options of {@link maskedTokenAccuracy} and {@link unigramMaskedAccuracy}. */
export interface MaskedEvaluationOptions extends MaskingOptions {
  /** Seed of the one fixed mask over all rows: the same seed masks the same positions the same way. */
  seed: number;
  /** Rows per forward pass; default 64. */
  batchSize?: number;
}

/** What {@link maskedTokenAccuracy} returns. */
export interface MaskedTokenAccuracy {
  /** Fraction of the masked positions whose arg-max prediction is the original token. */
  accuracy: number;
  /** Mean cross-entropy at the masked positions, in nats. */
  loss: number;
  /** Number of masked positions scored. */
  masked: number;
}

/** A fixed mask over every row: one `bertMask` call over all of them, read back to host arrays. */
interface FixedMask {
  rows: number;
  time: number;
  inputs: Int32Array;
  targets: Int32Array;
  weights: Float32Array;
}

function fixedMask(fn: string, rows: readonly Int32Array[], vocabSize: number, options: MaskedEvaluationOptions): FixedMask & { batchSize: number } {
  checkOptions(fn, options, "{maskToken, seed, rate?, special?, batchSize?}");
  checkKnownKeys(fn, options, ["maskToken", "seed", "rate", "special", "batchSize"]);
  const masking = checkMasking(fn, options, vocabSize);
  const { seed, batchSize = 64 } = options;
  checkPositiveInteger(fn, "options.batchSize", batchSize);
  if (!Array.isArray(rows) || rows.length === 0) throw new Error(`${fn}: blocks must be a non-empty array of Int32Arrays, got ${describe(rows)}`);
  // bertMask checks the rows (Int32Arrays of one length, ids in range, no mask token) and the seed.
  const masked = bertMask(rows, { ...masking, vocabSize, seed });
  const out = {
    rows: rows.length,
    time: rows[0].length,
    // Copies: the tensors are disposed next.
    inputs: Int32Array.from(masked.inputs.dataSync()),
    targets: Int32Array.from(masked.targets.dataSync()),
    weights: Float32Array.from(masked.weights.dataSync()),
    batchSize,
  };
  tf.dispose([masked.inputs, masked.targets, masked.weights]);
  return out;
}

/**
 * Masked-token accuracy of a bidirectional transformer on held-out rows:
 * one `bertMask` over all `blocks` from `options.seed` (so every model, and
 * {@link unigramMaskedAccuracy}, is scored on the same positions with the
 * same corruption), forward passes of `batchSize` rows, then the arg-max
 * accuracy and mean cross-entropy over the masked positions.
 *
 * Shapes: `blocks` `n` Int32Arrays of one length `time` <= maxLength -> numbers.
 *
 * @example
 * const r = maskedTokenAccuracy(bert.transformer, heldOutRows, { maskToken: vocab.maskId, special: [vocab.bosId], seed: 0 });
 * r.accuracy; // 0.55, against unigramMaskedAccuracy(...).accuracy 0.18
 */
export function maskedTokenAccuracy(transformer: Transformer, blocks: readonly Int32Array[], options: MaskedEvaluationOptions): MaskedTokenAccuracy {
  const fn = "maskedTokenAccuracy";
  checkBidirectional(fn, "transformer", transformer);
  const mask = fixedMask(fn, blocks, transformer.vocabSize, options);
  const { rows, time, batchSize } = mask;
  if (time > transformer.maxLength) throw new Error(`${fn}: blocks must have at most maxLength = ${transformer.maxLength} ids, got ${time}`);
  let hits = 0;
  let nats = 0;
  let masked = 0;
  for (let start = 0; start < rows; start += batchSize) {
    const n = Math.min(batchSize, rows - start);
    const [lossSum, hitSum, count] = tf.tidy(() => {
      const range = [start * time, (start + n) * time] as const;
      const inputs = tf.tensor2d(mask.inputs.subarray(...range), [n, time], "int32");
      const targets = tf.tensor2d(mask.targets.subarray(...range), [n, time], "int32");
      const weights = tf.tensor2d(mask.weights.subarray(...range), [n, time], "float32");
      const { logits } = transformer.apply(inputs);
      const count = tf.sum(weights);
      // The means times the count: the sums over this batch's masked positions.
      return [tf.mul(maskedCrossEntropy(logits, targets, weights), count), tf.mul(maskedAccuracyOf(logits, targets, weights), count), count];
    });
    nats += lossSum.dataSync()[0];
    hits += hitSum.dataSync()[0];
    masked += count.dataSync()[0];
    tf.dispose([lossSum, hitSum, count]);
  }
  const total = Math.max(masked, 1);
  return { accuracy: hits / total, loss: nats / total, masked: Math.round(masked) };
}

/**
 * The unigram baseline of {@link maskedTokenAccuracy}: always predict
 * `token` (the most frequent training character, {@link mostFrequentToken})
 * at the masked positions of the same fixed mask (same `blocks`, same
 * options and seed). A masked LM has learned something from context only
 * where it beats this.
 *
 * Shapes: `blocks` `n` Int32Arrays of one length -> numbers.
 *
 * @example
 * const space = mostFrequentToken(trainDocs, { exclude: [vocab.bosId] });
 * unigramMaskedAccuracy(heldOutRows, space, vocab.size, { maskToken: vocab.maskId, seed: 0 }).accuracy; // 0.18
 */
export function unigramMaskedAccuracy(
  blocks: readonly Int32Array[],
  token: number,
  vocabSize: number,
  options: MaskedEvaluationOptions,
): { accuracy: number; masked: number } {
  const fn = "unigramMaskedAccuracy";
  checkPositiveInteger(fn, "vocabSize", vocabSize);
  checkIntegerInRange(fn, "token", token, 0, vocabSize, { maxExclusive: true });
  const mask = fixedMask(fn, blocks, vocabSize, options);
  let hits = 0;
  let masked = 0;
  for (let i = 0; i < mask.weights.length; i++) {
    masked += mask.weights[i];
    if (mask.targets[i] === token) hits += mask.weights[i];
  }
  return { accuracy: hits / Math.max(masked, 1), masked: Math.round(masked) };
}

/**
 * The most frequent id in `docs` (ties to the smaller id), leaving out
 * `exclude` (specials such as `<bos>`): the unigram predictor's guess.
 *
 * Shapes: `docs` Int32Arrays of any lengths -> an id.
 *
 * @example
 * mostFrequentToken(trainDocs, { exclude: [vocab.bosId, vocab.padId] }); // the id of " "
 */
export function mostFrequentToken(docs: readonly Int32Array[], options: { exclude?: readonly number[] } = {}): number {
  const fn = "mostFrequentToken";
  if (!Array.isArray(docs)) throw new Error(`${fn}: docs must be an array of Int32Arrays, got ${describe(docs)}`);
  checkOptions(fn, options, "{exclude?}");
  const exclude = new Set(options.exclude ?? []);
  const counts = new Map<number, number>();
  docs.forEach((doc, d) => {
    if (!(doc instanceof Int32Array)) throw new Error(`${fn}: docs[${d}] must be an Int32Array, got ${describe(doc)}`);
    for (const id of doc) if (!exclude.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
  });
  let best = -1;
  let bestCount = 0;
  for (const [id, c] of counts) if (c > bestCount || (c === bestCount && id < best)) [best, bestCount] = [id, c];
  if (best < 0) throw new Error(`${fn}: docs must hold at least one id outside options.exclude, got ${docs.length} documents with none`);
  return best;
}

/** Options of {@link pooledEmbeddings}. */
export interface PooledEmbeddingOptions {
  /** Rows per forward pass; default 64. */
  batchSize?: number;
  /** Id of padding at the end of a row: pooling and attention stop at its first occurrence; default none (full rows). */
  padId?: number;
}

/**
 * Sentence embeddings for a linear probe: the mean of the transformer's final
 * hidden states over each row's real positions (all of them, or up to the
 * first `padId`), on the clean rows with no mask, in batches.
 * `transformer.pooled` does the pooling; padding is also masked in attention.
 *
 * Shapes: `blocks` `n` Int32Arrays of one length `time` <= maxLength -> `[n, dim]` float32.
 *
 * @example
 * const trainX = pooledEmbeddings(bert.transformer, genres.train.tokens); // [nTrain, 64]
 * const testX = pooledEmbeddings(bert.transformer, genres.test.tokens);
 * evaluation.linearProbe(trainX, genres.train.labels, testX, genres.test.labels).accuracy;
 */
export function pooledEmbeddings(transformer: Transformer, blocks: readonly Int32Array[], options: PooledEmbeddingOptions = {}): tf.Tensor2D {
  const fn = "pooledEmbeddings";
  if (!isTransformer(transformer)) throw new Error(`${fn}: transformer must be a Transformer from models.createTransformer, got ${describe(transformer)}`);
  checkOptions(fn, options, "{batchSize?, padId?}");
  const { batchSize = 64, padId } = options;
  checkPositiveInteger(fn, "options.batchSize", batchSize);
  if (padId !== undefined) checkIntegerInRange(fn, "options.padId", padId, 0, transformer.vocabSize, { maxExclusive: true });
  if (!Array.isArray(blocks) || blocks.length === 0) throw new Error(`${fn}: blocks must be a non-empty array of Int32Arrays, got ${describe(blocks)}`);
  const time = blocks[0] instanceof Int32Array ? blocks[0].length : -1;
  blocks.forEach((row, i) => {
    if (!(row instanceof Int32Array) || row.length !== time || time < 1) {
      throw new Error(`${fn}: blocks[${i}] must be a non-empty Int32Array of length ${time} like blocks[0], got ${describe(row)}`);
    }
  });
  const lengths = blocks.map((row) => {
    const at = padId === undefined ? -1 : row.indexOf(padId);
    if (at === 0) throw new Error(`${fn}: every row must start with a real token, got options.padId at blocks[${blocks.indexOf(row)}][0]`);
    return at < 0 ? time : at;
  });
  const parts: tf.Tensor2D[] = [];
  for (let start = 0; start < blocks.length; start += batchSize) {
    const rows = blocks.slice(start, start + batchSize);
    const ids = new Int32Array(rows.length * time);
    rows.forEach((row, r) => ids.set(row, r * time));
    parts.push(
      tf.tidy(() =>
        transformer.pooled(tf.tensor2d(ids, [rows.length, time], "int32"), padId === undefined ? undefined : lengths.slice(start, start + rows.length)),
      ),
    );
  }
  const out = tf.concat(parts, 0) as tf.Tensor2D;
  tf.dispose(parts);
  return out;
}
