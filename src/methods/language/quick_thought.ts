/**
 * Quick-thought vectors (Logeswaran & Lee 2018, "An efficient framework for
 * learning sentence representations", ICLR): skip-thought's idea, that a
 * sentence's meaning predicts its neighbours, with the decoder replaced by
 * a classifier. Two encoders f and g embed every sentence of a batch of
 * consecutive sentences; for sentence s the classifier picks its true
 * context sentences (the one before and the one after) among all the other
 * sentences of the batch by the inner product f(s) . g(c):
 *
 *   p(c | s) = exp(f(s) . g(c)) / sum_{c' in batch, c' != s} exp(f(s) . g(c')),
 *   L = -mean over (s, c true neighbour) of log p(c | s).
 *
 * The sentence embedding is the concatenation [f(s), g(s)], as in the
 * paper's evaluation.
 */
import { tf } from "../../backend/tf";
import type { NeighbourBatch } from "../../data/brown_sentences";
import { rowLogSumExp } from "../../losses/ops/log_sum_exp";
import type { Transformer } from "../../models/transformer";
import { deriveSeed } from "../../training/seeds";
import type { LossWithMetrics, StepContext } from "../../training/types";
import { checkMatrix, checkOptions, checkPositiveInteger, describe } from "../../validation/arguments";
import type { Method } from "../method";
import { pooledEmbeddings } from "./masked_lm";

/** Options of {@link createQuickThought}. */
export interface QuickThoughtOptions {
  /** Encoder f of the sentence whose neighbours are predicted; a bidirectional transformer, the caller's. */
  f: Transformer;
  /** Encoder g of the candidate sentences; another transformer of the same width, the caller's. */
  g: Transformer;
  /** Name for labels; default "quick-thought". */
  name?: string;
}

/** Quick-thought as a {@link Method}. */
export interface QuickThoughtMethod extends Method<NeighbourBatch> {
  /** The sentence encoder f. */
  readonly f: Transformer;
  /** The context encoder g. */
  readonly g: Transformer;
  loss(batch: NeighbourBatch, ctx: StepContext): LossWithMetrics;
}

// Added to a sentence's score with itself so exp() gives exactly 0: a sentence is not its own context.
const SELF_MASK = -1e9;

/** Checks `previous` against a batch of `b` rows and returns the (sentence, neighbour) pairs, both directions. */
function neighbourPairs(fn: string, previous: unknown, b: number): { rows: number[]; cols: number[] } {
  if (!(previous instanceof Int32Array) || previous.length !== b) {
    throw new Error(`${fn}: previous must be an Int32Array of ${b} indices (-1 for none), got ${describe(previous)}`);
  }
  const rows: number[] = [];
  const cols: number[] = [];
  previous.forEach((p, i) => {
    if (p === -1) return;
    if (p < 0 || p >= b || p === i) throw new Error(`${fn}: previous[${i}] must be -1 or another row's index in [0, ${b}), got ${p}`);
    rows.push(i, p);
    cols.push(p, i);
  });
  if (rows.length === 0) throw new Error(`${fn}: previous must mark at least one neighbour (an entry other than -1), got none`);
  return { rows, cols };
}

/**
 * The quick-thought loss from the two encoders' embeddings: scores
 * u_i . v_j for every ordered pair of distinct rows, a softmax over j for
 * each i, and the mean negative log-probability of the true neighbours,
 * both directions (row i's previous sentence, and row previous[i]'s next).
 *
 * Shapes: `u` = f(batch), `v` = g(batch) `[B, D]` float32; `previous`
 * `[B]` Int32Array (-1: no previous sentence in the batch) -> scalar.
 *
 * @example
 * const loss = quickThoughtLoss(f.pooled(tokens, lengths), g.pooled(tokens, lengths), batch.previous);
 */
export function quickThoughtLoss(u: tf.Tensor2D, v: tf.Tensor2D, previous: Int32Array): tf.Scalar {
  const fn = "quickThoughtLoss";
  checkMatrix(fn, "u", u, undefined, undefined, "float32");
  checkMatrix(fn, "v", v, u.shape[0], u.shape[1], "float32");
  const b = u.shape[0];
  const { rows, cols } = neighbourPairs(fn, previous, b);
  // The pairs as dense weights (no gradient for GatherNd in tfjs 4.22): targets[i, j] = 1 for
  // each true pair, perRow[i] = how many pairs have i as the sentence.
  const targets = new Float32Array(b * b);
  const perRow = new Float32Array(b);
  rows.forEach((r, k) => {
    targets[r * b + cols[k]] = 1;
    perRow[r] += 1;
  });
  return tf.tidy(() => {
    const logits = tf.add(tf.matMul(u, tf.transpose(v)), tf.mul(tf.eye(b), SELF_MASK)) as tf.Tensor2D;
    const normalisers = tf.sum(tf.mul(rowLogSumExp(logits), tf.tensor1d(perRow)));
    const picked = tf.sum(tf.mul(logits, tf.tensor2d(targets, [b, b])));
    return tf.div(tf.sub(normalisers, picked), rows.length) as tf.Scalar;
  });
}

/** Share of sentences with a previous one in the batch whose top-scored candidate is a true neighbour. */
function neighbourAccuracy(u: tf.Tensor2D, v: tf.Tensor2D, previous: Int32Array): tf.Scalar {
  const b = u.shape[0];
  const next = new Int32Array(b).fill(-1);
  previous.forEach((p, i) => { if (p >= 0) next[p] = i; });
  return tf.tidy(() => {
    const logits = tf.add(tf.matMul(u, tf.transpose(v)), tf.mul(tf.eye(b), SELF_MASK));
    const best = tf.argMax(logits, 1);
    const hit = tf.logicalOr(tf.equal(best, tf.tensor1d(previous, "int32")), tf.equal(best, tf.tensor1d(next, "int32")));
    const has = tf.tensor1d(Array.from(previous, (p, i) => (p >= 0 || next[i] >= 0 ? 1 : 0)), "float32");
    return tf.div(tf.sum(tf.mul(tf.cast(hit, "float32"), has)), tf.maximum(tf.sum(has), 1)) as tf.Scalar;
  });
}

/**
 * Quick-thought for `training.train`: each step embeds the batch (runs of
 * consecutive sentences, `data.neighbourBatches`) with f and with g
 * (`pooled`: the mean of the final hidden states; dropout, if the models
 * were built with a rate, seeded from `ctx.seed`), and minimises
 * {@link quickThoughtLoss}. Metric `accuracy`: the share of sentences whose
 * top-scored candidate is one of their neighbours.
 *
 * Shapes: `batch.tokens` `[B, time]` int32, `lengths`, `previous` `[B]` -> scalar loss.
 *
 * @example
 * const spec = { vocabSize: vocab.size, maxLength: 32, dim: 64, heads: 4, layers: 2, causal: false };
 * const f = models.createTransformer({ ...spec, seed: 1 }), g = models.createTransformer({ ...spec, seed: 2 });
 * const qt = createQuickThought({ f, g });
 * await training.train({ ...qt, optimizer: training.adam(1e-3), batches: data.neighbourBatches(split.train, vocab, { runs: 8, runLength: 8, maxLength: 32 }), steps: 200 });
 * const features = quickThoughtEmbeddings(qt, padded.rows, { padId: vocab.padId }); // [n, 128] = [f, g]
 */
export function createQuickThought(options: QuickThoughtOptions): QuickThoughtMethod {
  const fn = "createQuickThought";
  checkOptions(fn, options, "{f, g, name?}");
  const unknown = Object.keys(options).filter((k) => !["f", "g", "name"].includes(k));
  if (unknown.length > 0) throw new Error(`${fn}: options must hold only f, g, name, got ${unknown.join(", ")}`);
  const { f, g, name = "quick-thought" } = options;
  for (const [arg, model] of [["f", f], ["g", g]] as const) {
    if (model === null || typeof model !== "object" || typeof model.pooled !== "function" || !Array.isArray(model.trainable)) {
      throw new Error(`${fn}: options.${arg} must be a Transformer from models.createTransformer, got ${describe(model)}`);
    }
  }
  if (f === g) throw new Error(`${fn}: options.g must be a second transformer, not options.f itself (the paper's two encoders), got the same object`);
  if (f.dim !== g.dim) throw new Error(`${fn}: options.g must have the width of options.f (${f.dim}) for the inner product, got ${g.dim}`);
  if (typeof name !== "string" || name.length === 0) throw new Error(`${fn}: options.name must be a non-empty string, got ${describe(name)}`);

  return {
    name,
    f,
    g,
    trainable: [...f.trainable, ...g.trainable],
    loss(batch: NeighbourBatch, ctx: StepContext): LossWithMetrics {
      const where = "QuickThought.loss";
      if (batch === null || typeof batch !== "object") throw new Error(`${where}: batch must be {tokens, lengths, previous}, got ${describe(batch)}`);
      checkMatrix(where, "batch.tokens", batch.tokens, undefined, undefined, "int32");
      const u = f.pooled(batch.tokens, batch.lengths, { dropout: { seed: deriveSeed(ctx.seed, 1) } });
      const v = g.pooled(batch.tokens, batch.lengths, { dropout: { seed: deriveSeed(ctx.seed, 2) } });
      return { loss: quickThoughtLoss(u, v, batch.previous), metrics: { accuracy: neighbourAccuracy(u, v, batch.previous) } };
    },
    itemsPerBatch: (batch) => batch.tokens.shape[0],
    dispose() {
      // Nothing of its own: f and g are the caller's.
    },
  };
}

/**
 * Quick-thought sentence embeddings [f(s), g(s)] (the paper's test-time
 * representation), without dropout, in batches (`pooledEmbeddings`).
 *
 * Shapes: `rows` `n` Int32Arrays of one length, `<pad>` after the words -> `[n, f.dim + g.dim]`.
 *
 * @example
 * const testX = quickThoughtEmbeddings(qt, padded.rows, { padId: vocab.padId });
 */
export function quickThoughtEmbeddings(method: { f: Transformer; g: Transformer }, rows: readonly Int32Array[], options: { padId: number; batchSize?: number }): tf.Tensor2D {
  const fn = "quickThoughtEmbeddings";
  if (method === null || typeof method !== "object" || typeof method.f?.pooled !== "function" || typeof method.g?.pooled !== "function") {
    throw new Error(`${fn}: method must be a quick-thought method {f, g}, got ${describe(method)}`);
  }
  checkOptions(fn, options, "{padId, batchSize?}");
  if (options.batchSize !== undefined) checkPositiveInteger(fn, "options.batchSize", options.batchSize);
  const [u, v] = [method.f, method.g].map((m) => pooledEmbeddings(m, rows, { padId: options.padId, batchSize: options.batchSize }));
  const out = tf.concat([u, v], 1) as tf.Tensor2D;
  tf.dispose([u, v]);
  return out;
}
