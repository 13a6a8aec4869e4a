/**
 * word2vec: skip-gram and CBOW with negative sampling (Mikolov et al. 2013a,
 * "Efficient Estimation of Word Representations in Vector Space"; 2013b,
 * "Distributed Representations of Words and Phrases and their
 * Compositionality", NeurIPS). A word is predicted from its neighbours (CBOW)
 * or its neighbours from the word (skip-gram); the "label" is the text
 * itself, the first widely used self-supervised pretext task.
 *
 * Negative sampling replaces the softmax over the vocabulary by K binary
 * decisions: the true context word against K words drawn from the unigram
 * distribution raised to 3/4. For one (input h, context c, negatives n_k):
 *
 *   loss = -log s(h . v_c) - sum_k log s(-h . v_{n_k}),   s = sigmoid,
 *
 * where h is the center word's input vector (skip-gram) or the mean of the
 * context words' input vectors (CBOW), v the output vectors. Frequent words
 * are subsampled and the window size is drawn per center word ("dynamic
 * window"), as in the word2vec C tool.
 *
 * Here the loss of a batch is the mean over its examples, trained with Adam
 * through `training.train` rather than the tool's per-pair SGD.
 */
import { tf } from "../backend/tf";
import { checkCorpus } from "../data/cooccurrence";
import type { Rng } from "../data/random";
import { checkInteger, checkPositiveInteger, checkTensor } from "../validation/arguments";
import type { Method } from "./method";

/** The two embedding tables of word2vec. */
export interface Word2VecModel {
  /** `[vocabSize, dim]` input ("word") vectors: the embeddings one keeps. */
  readonly input: tf.Variable<tf.Rank.R2>;
  /** `[vocabSize, dim]` output ("context") vectors, scored against the input side. */
  readonly output: tf.Variable<tf.Rank.R2>;
  readonly vocabSize: number;
  readonly dim: number;
  /** Frees both tables. */
  dispose(): void;
}

/** Options of {@link createWord2Vec}. */
export interface Word2VecOptions {
  vocabSize: number;
  /** Vector dimension, e.g. 100. */
  dim: number;
  /** Seed of the input table's initial values; default 0. */
  seed?: number;
}

/**
 * The tables initialised as the word2vec C tool does: input uniform in
 * `[-0.5/dim, 0.5/dim)`, output zero.
 *
 * Shapes: `input`, `output` `[vocabSize, dim]`.
 *
 * @example
 * const w2v = methods.createWord2Vec({ vocabSize: vocab.size, dim: 64, seed: 0 });
 */
export function createWord2Vec(options: Word2VecOptions): Word2VecModel {
  return word2VecTables("createWord2Vec", options);
}

function word2VecTables(fn: string, options: Word2VecOptions): Word2VecModel {
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object {vocabSize, dim, seed?}, got ${options}`);
  const { vocabSize, dim } = options;
  const seed = options.seed ?? 0;
  checkPositiveInteger(fn, "options.vocabSize", vocabSize);
  checkPositiveInteger(fn, "options.dim", dim);
  checkInteger(fn, "options.seed", seed);
  const input = tf.tidy(() => tf.variable(tf.randomUniform([vocabSize, dim], -0.5 / dim, 0.5 / dim, "float32", seed) as tf.Tensor2D));
  const output = tf.tidy(() => tf.variable(tf.zeros([vocabSize, dim]) as tf.Tensor2D));
  return {
    input,
    output,
    vocabSize,
    dim,
    dispose() {
      input.dispose();
      output.dispose();
    },
  };
}

/** Skip-gram or CBOW as a {@link Method}: the two tables it owns and trains, and its loss. */
export interface Word2VecMethod<B> extends Word2VecModel, Method<B> {
  /** Frees both tables. */
  dispose(): void;
}

function word2VecMethod<B>(
  fn: string,
  name: string,
  options: Word2VecOptions,
  loss: (model: Word2VecModel, batch: B) => tf.Scalar,
  items: (batch: B) => number,
): Word2VecMethod<B> {
  const model = word2VecTables(fn, options);
  return {
    ...model,
    name,
    trainable: [model.input, model.output],
    loss: (batch: B) => loss(model, batch),
    itemsPerBatch: items,
  };
}

/**
 * Skip-gram with negative sampling (Mikolov et al. 2013b) for
 * `training.train`: the tables of {@link createWord2Vec} (same seed, same
 * initial values) with {@link skipGramLoss} as the loss. The method owns the
 * tables: keep `input` (the word vectors) before `dispose()`.
 *
 * Shapes: `input`, `output` `[vocabSize, dim]`; batches {@link SkipGramBatch} -> scalar loss `[]`.
 *
 * @example
 * const sg = methods.createSkipGram({ vocabSize: vocab.size, dim: 64, seed: 0 });
 * await training.train({ ...sg, optimizer: training.adam(0.01), batches: methods.skipGramBatches(corpus, { counts: vocab.counts, batchSize: 8192 }), steps: 700 });
 */
export function createSkipGram(options: Word2VecOptions): Word2VecMethod<SkipGramBatch> {
  return word2VecMethod("createSkipGram", "skip-gram", options, skipGramLoss, (b) => b.centers.shape[0]);
}

/**
 * CBOW with negative sampling (Mikolov et al. 2013a) for `training.train`:
 * the tables of {@link createWord2Vec} with {@link cbowLoss} as the loss. The
 * method owns the tables; `dispose()` frees them.
 *
 * Shapes: `input`, `output` `[vocabSize, dim]`; batches {@link CbowBatch} -> scalar loss `[]`.
 *
 * @example
 * const cbow = methods.createCbow({ vocabSize: vocab.size, dim: 64, seed: 0 });
 * await training.train({ ...cbow, optimizer: training.adam(0.01), batches: methods.cbowBatches(corpus, { counts: vocab.counts, batchSize: 2048 }), steps: 1200 });
 */
export function createCbow(options: Word2VecOptions): Word2VecMethod<CbowBatch> {
  return word2VecMethod("createCbow", "CBOW", options, cbowLoss, (b) => b.targets.shape[0]);
}

/** Options of {@link noiseDistribution} and {@link noiseTable}. */
export interface NoiseOptions {
  /** Exponent of the counts; default 0.75 (Mikolov et al. 2013b). */
  power?: number;
  /** Ids never drawn (e.g. `[vocab.unkId]`). */
  exclude?: readonly number[];
}

/**
 * The negative-sampling distribution: `P(w) = count(w)^power / sum`.
 *
 * Shapes: `counts` `[vocabSize]` -> `[vocabSize]` probabilities.
 *
 * @example
 * methods.noiseDistribution(vocab.counts, { exclude: [vocab.unkId] });
 */
export function noiseDistribution(counts: ArrayLike<number>, options: NoiseOptions = {}): Float64Array {
  const power = options.power ?? 0.75;
  if (!(Number.isFinite(power) && power >= 0)) {
    throw new Error(`noiseDistribution: options.power must be a finite number >= 0, got ${power}`);
  }
  checkCounts("noiseDistribution", counts);
  const p = new Float64Array(counts.length);
  for (let i = 0; i < counts.length; i++) p[i] = counts[i] > 0 ? Math.pow(counts[i], power) : 0;
  for (const id of options.exclude ?? []) {
    if (!Number.isInteger(id) || id < 0 || id >= counts.length) {
      throw new Error(`noiseDistribution: options.exclude ids must be in [0, ${counts.length}), got ${id}`);
    }
    p[id] = 0;
  }
  const total = p.reduce((s, x) => s + x, 0);
  if (!(total > 0)) throw new Error("noiseDistribution: counts must have a positive entry outside options.exclude");
  for (let i = 0; i < p.length; i++) p[i] /= total;
  return p;
}

/**
 * A sampling table for the noise distribution, as in the word2vec C tool:
 * id `w` fills about `size * P(w)` consecutive slots, so a uniform slot is a
 * draw from `P`.
 *
 * Shapes: `counts` `[vocabSize]` -> `[size]` ids.
 *
 * @example
 * const table = methods.noiseTable(vocab.counts, { exclude: [0] });
 * const negative = table[rng.int(table.length)];
 */
export function noiseTable(counts: ArrayLike<number>, options: NoiseOptions & { size?: number } = {}): Int32Array {
  const size = options.size ?? 1_000_000;
  checkPositiveInteger("noiseTable", "options.size", size);
  const p = noiseDistribution(counts, options);
  const table = new Int32Array(size);
  let cumulative = 0;
  let slot = 0;
  for (let w = 0; w < p.length && slot < size; w++) {
    if (p[w] === 0) continue;
    cumulative += p[w];
    const end = Math.min(size, Math.round(cumulative * size));
    for (; slot < end; slot++) table[slot] = w;
  }
  // Rounding can leave the last slot(s) unset; give them to the last drawable id.
  let last = p.length - 1;
  while (p[last] === 0) last--;
  for (; slot < size; slot++) table[slot] = last;
  return table;
}

/** Formula of the subsampling keep-probability. */
export type SubsampleVariant = "paper" | "word2vec-c";

/** Options of {@link subsampleKeepProbabilities}. */
export interface SubsampleOptions {
  /** The threshold t; default 1e-5. */
  threshold?: number;
  /**
   * `"paper"` (default, Mikolov et al. 2013b eq. 5): keep with probability
   * `min(1, sqrt(t / f))`. `"word2vec-c"`: the C tool's
   * `min(1, sqrt(t / f) + t / f)`, which keeps a little more.
   * `f = count / total` is the word's frequency.
   */
  variant?: SubsampleVariant;
  /** Ids left out of the total (e.g. `[vocab.unkId]` when unknown words are dropped); default none. */
  exclude?: readonly number[];
}

/**
 * The probability of keeping each occurrence of each word when subsampling
 * frequent words; a word with frequency below t is always kept.
 *
 * Shapes: `counts` `[vocabSize]` -> `[vocabSize]` in (0, 1].
 *
 * @example
 * const keep = methods.subsampleKeepProbabilities(vocab.counts, { threshold: 1e-4, exclude: [0] });
 */
export function subsampleKeepProbabilities(counts: ArrayLike<number>, options: SubsampleOptions = {}): Float64Array {
  const t = options.threshold ?? 1e-5;
  const variant = options.variant ?? "paper";
  if (!(t > 0 && t < 1)) throw new Error(`subsampleKeepProbabilities: options.threshold must be in (0, 1), got ${t}`);
  if (variant !== "paper" && variant !== "word2vec-c") {
    throw new Error(`subsampleKeepProbabilities: options.variant must be "paper" or "word2vec-c", got ${JSON.stringify(variant)}`);
  }
  checkCounts("subsampleKeepProbabilities", counts);
  const excluded = new Set(options.exclude ?? []);
  let total = 0;
  for (let i = 0; i < counts.length; i++) if (!excluded.has(i)) total += counts[i];
  if (!(total > 0)) throw new Error("subsampleKeepProbabilities: counts must sum to a positive total");
  const keep = new Float64Array(counts.length);
  for (let i = 0; i < counts.length; i++) {
    const f = counts[i] / total;
    const r = f > 0 ? t / f : Infinity;
    keep[i] = Math.min(1, variant === "paper" ? Math.sqrt(r) : Math.sqrt(r) + r);
  }
  return keep;
}

/**
 * Drops each occurrence of word `w` with probability `1 - keep[w]`, before
 * windows are formed (so windows reach further, as in the C tool).
 *
 * Shapes: `corpus` `[sentences][length]` -> the same sentences, shorter.
 *
 * @example
 * const kept = methods.subsampleCorpus(corpus, keep, data.createRng(0));
 */
export function subsampleCorpus(corpus: readonly Int32Array[], keep: ArrayLike<number>, rng: Rng): Int32Array[] {
  checkCorpus("subsampleCorpus", corpus, keep.length);
  return corpus.map((s) => s.filter((w) => keep[w] >= 1 || rng.next() < keep[w]));
}

/** (center, context) pairs of one pass over a corpus. */
export interface SkipGramPairs {
  /** `[pairs]` center ids. */
  centers: Int32Array;
  /** `[pairs]` context ids. */
  contexts: Int32Array;
}

/**
 * Every (center, context) pair of `corpus` in sentence order, with a
 * dynamic window: for each center a radius `b` is drawn uniformly from
 * `1..window` and the words within `b` positions on each side are its
 * contexts (near words are thus sampled more often).
 *
 * Shapes: -> `centers`, `contexts` `[pairs]`.
 *
 * @example
 * const { centers, contexts } = methods.skipGramPairs(corpus, { window: 5, rng: data.createRng(0) });
 */
export function skipGramPairs(corpus: readonly Int32Array[], options: { window: number; rng: Rng }): SkipGramPairs {
  const { window, rng } = options;
  checkPositiveInteger("skipGramPairs", "options.window", window);
  let capacity = 0;
  for (const s of corpus) capacity += s.length * Math.min(2 * window, Math.max(0, s.length - 1));
  const centers = new Int32Array(capacity);
  const contexts = new Int32Array(capacity);
  let n = 0;
  for (const s of corpus) {
    for (let p = 0; p < s.length; p++) {
      const b = 1 + rng.int(window);
      const lo = Math.max(0, p - b);
      const hi = Math.min(s.length - 1, p + b);
      for (let q = lo; q <= hi; q++) {
        if (q === p) continue;
        centers[n] = s[p];
        contexts[n] = s[q];
        n++;
      }
    }
  }
  return { centers: centers.slice(0, n), contexts: contexts.slice(0, n) };
}

/** A skip-gram batch. */
export interface SkipGramBatch {
  /** `[batch]` int32 center ids. */
  centers: tf.Tensor1D;
  /** `[batch, 1 + negatives]` int32: the context id, then the negative ids. */
  targets: tf.Tensor2D;
}

/** A CBOW batch. */
export interface CbowBatch {
  /** `[batch, 2 * window]` int32 context ids, padded with 0 where `mask` is 0. */
  contexts: tf.Tensor2D;
  /** `[batch, 2 * window]` float32: 1 for a real context word, 0 for padding. */
  mask: tf.Tensor2D;
  /** `[batch, 1 + negatives]` int32: the center id, then the negative ids. */
  targets: tf.Tensor2D;
}

/** Options of {@link skipGramBatches} and {@link cbowBatches}. */
export interface Word2VecBatchOptions {
  /** `[vocabSize]` word counts (e.g. `vocab.counts`): the noise and subsampling distributions. */
  counts: ArrayLike<number>;
  /** Examples per batch (pairs for skip-gram, center words for CBOW). */
  batchSize: number;
  /** Largest window radius; default 5. */
  window?: number;
  /** Negative words per example, K; default 5. */
  negatives?: number;
  /** Subsampling threshold t, or 0 for none; default 1e-5. */
  subsample?: number;
  /** Subsampling formula; default "paper". */
  subsampleVariant?: SubsampleVariant;
  /** Exponent of the noise distribution; default 0.75. */
  noisePower?: number;
  /** Ids never drawn as negatives and left out of frequencies; default `[0]` (`<unk>`). */
  exclude?: readonly number[];
}

/**
 * Batches for skip-gram, in the form `training.train` takes: each epoch
 * subsamples the corpus, forms all pairs with dynamic windows, shuffles them
 * and cuts them into batches; negatives are drawn per batch from the noise
 * table. Everything is drawn from the epoch's `rng`, so a seed fixes it.
 * Negatives may equal the context word (the C tool skips those; with a
 * 10k-word vocabulary it is rare).
 *
 * Shapes: yields {@link SkipGramBatch} of `[batchSize]`, `[batchSize, 1 + K]`
 * (the last batch of an epoch may be smaller).
 *
 * @example
 * const batches = methods.skipGramBatches(corpus, { counts: vocab.counts, batchSize: 2048 });
 * await training.train({ loss: (b) => methods.skipGramLoss(w2v, b), batches, steps: 2000, ... });
 */
export function skipGramBatches(
  corpus: readonly Int32Array[],
  options: Word2VecBatchOptions,
): (epoch: number, rng: Rng) => Generator<SkipGramBatch> {
  const o = resolveBatchOptions("skipGramBatches", corpus, options);
  return function* (_epoch: number, rng: Rng) {
    const kept = o.keep === undefined ? corpus : subsampleCorpus(corpus, o.keep, rng);
    const { centers, contexts } = skipGramPairs(kept, { window: o.window, rng });
    const order = rng.permutation(centers.length);
    const width = 1 + o.negatives;
    for (let start = 0; start < order.length; start += o.batchSize) {
      const size = Math.min(o.batchSize, order.length - start);
      const c = new Int32Array(size);
      const t = new Int32Array(size * width);
      for (let i = 0; i < size; i++) {
        const k = order[start + i];
        c[i] = centers[k];
        t[i * width] = contexts[k];
        for (let j = 1; j < width; j++) t[i * width + j] = o.table[rng.int(o.table.length)];
      }
      yield { centers: tf.tensor1d(c, "int32"), targets: tf.tensor2d(t, [size, width], "int32") };
    }
  };
}

/**
 * Batches for CBOW: each epoch subsamples the corpus, takes every position
 * with at least one context word inside its dynamic window, shuffles the
 * positions and cuts them into batches.
 *
 * Shapes: yields {@link CbowBatch}: `[batchSize, 2 * window]` contexts and
 * mask, `[batchSize, 1 + K]` targets.
 *
 * @example
 * const batches = methods.cbowBatches(corpus, { counts: vocab.counts, batchSize: 1024 });
 */
export function cbowBatches(
  corpus: readonly Int32Array[],
  options: Word2VecBatchOptions,
): (epoch: number, rng: Rng) => Generator<CbowBatch> {
  const o = resolveBatchOptions("cbowBatches", corpus, options);
  const span = 2 * o.window;
  return function* (_epoch: number, rng: Rng) {
    const kept = o.keep === undefined ? corpus : subsampleCorpus(corpus, o.keep, rng);
    let positions = 0;
    for (const s of kept) if (s.length > 1) positions += s.length;
    const centers = new Int32Array(positions);
    const ctx = new Int32Array(positions * span);
    const mask = new Float32Array(positions * span);
    let n = 0;
    for (const s of kept) {
      if (s.length < 2) continue;
      for (let p = 0; p < s.length; p++) {
        const b = 1 + rng.int(o.window);
        let m = 0;
        for (let q = Math.max(0, p - b); q <= Math.min(s.length - 1, p + b); q++) {
          if (q === p) continue;
          ctx[n * span + m] = s[q];
          mask[n * span + m] = 1;
          m++;
        }
        centers[n] = s[p];
        n++;
      }
    }
    const order = rng.permutation(n);
    const width = 1 + o.negatives;
    for (let start = 0; start < n; start += o.batchSize) {
      const size = Math.min(o.batchSize, n - start);
      const c = new Int32Array(size * span);
      const mk = new Float32Array(size * span);
      const t = new Int32Array(size * width);
      for (let i = 0; i < size; i++) {
        const k = order[start + i];
        c.set(ctx.subarray(k * span, (k + 1) * span), i * span);
        mk.set(mask.subarray(k * span, (k + 1) * span), i * span);
        t[i * width] = centers[k];
        for (let j = 1; j < width; j++) t[i * width + j] = o.table[rng.int(o.table.length)];
      }
      yield {
        contexts: tf.tensor2d(c, [size, span], "int32"),
        mask: tf.tensor2d(mk, [size, span], "float32"),
        targets: tf.tensor2d(t, [size, width], "int32"),
      };
    }
  };
}

/**
 * log(sigmoid(x)) as -softplus(-x): tf.logSigmoid's gradient in tfjs 4.22
 * fails when its input is computed inside the gradient scope.
 */
const logSigmoid = (x: tf.Tensor): tf.Tensor => tf.neg(tf.softplus(tf.neg(x)));

/**
 * The negative-sampling loss of hidden vectors `h` `[batch, dim]` against
 * output rows `targets` `[batch, 1 + K]` (column 0 the true word): the mean
 * over the batch of `-log s(h.v_0) - sum_k log s(-h.v_k)`.
 */
function negativeSamplingLoss(h: tf.Tensor2D, output: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  const [batch, width] = targets.shape;
  const dim = output.shape[1];
  // One gather of a flat id list (one dense gradient for the table); +1 for
  // the true word, -1 for negatives in one multiply.
  const v = tf.reshape(tf.gather(output, tf.reshape(targets, [batch * width])), [batch, width, dim]);
  const scores = tf.sum(tf.mul(tf.expandDims(h, 1), v), 2);
  const signs = tf.tensor2d([[1, ...new Array<number>(width - 1).fill(-1)]]);
  return tf.neg(tf.mean(tf.sum(logSigmoid(tf.mul(scores, signs)), 1))) as tf.Scalar;
}

/**
 * Skip-gram negative-sampling loss of one batch: the center's input vector
 * scored against its context word's output vector and K negatives'.
 *
 * Shapes: `centers` `[B]`, `targets` `[B, 1 + K]` -> scalar `[]`.
 *
 * @example
 * const loss = methods.skipGramLoss(w2v, batch); // inside training.train's loss
 */
export function skipGramLoss(model: { readonly input: tf.Tensor; readonly output: tf.Tensor }, batch: SkipGramBatch): tf.Scalar {
  const { input, output } = model;
  checkTables("skipGramLoss", input, output);
  const { centers, targets } = batch;
  if (centers.rank !== 1 || targets.rank !== 2 || targets.shape[0] !== centers.shape[0] || targets.shape[1] < 2) {
    throw new Error(
      `skipGramLoss: batch.targets must have shape [${centers.shape[0]}, 1 + K] with K >= 1 for batch.centers [${centers.shape}], got [${targets.shape}]`,
    );
  }
  checkTensor("skipGramLoss", "batch.centers", centers, "int32");
  checkTensor("skipGramLoss", "batch.targets", targets, "int32");
  return tf.tidy(() => negativeSamplingLoss(tf.gather(input, centers) as tf.Tensor2D, output as tf.Tensor2D, targets));
}

/**
 * CBOW negative-sampling loss of one batch: the mean of the context words'
 * input vectors (the C tool's default `-cbow 1` with averaging) scored
 * against the center word's output vector and K negatives'.
 *
 * Shapes: `contexts`, `mask` `[B, 2W]`, `targets` `[B, 1 + K]` -> scalar `[]`.
 *
 * @example
 * const loss = methods.cbowLoss(w2v, batch);
 */
export function cbowLoss(model: { readonly input: tf.Tensor; readonly output: tf.Tensor }, batch: CbowBatch): tf.Scalar {
  const { input, output } = model;
  checkTables("cbowLoss", input, output);
  const { contexts, mask, targets } = batch;
  if (contexts.rank !== 2 || mask.rank !== 2 || mask.shape[0] !== contexts.shape[0] || mask.shape[1] !== contexts.shape[1]) {
    throw new Error(`cbowLoss: batch.mask must have shape [${contexts.shape}] like batch.contexts, got [${mask.shape}]`);
  }
  if (targets.rank !== 2 || targets.shape[0] !== contexts.shape[0] || targets.shape[1] < 2) {
    throw new Error(`cbowLoss: batch.targets must have shape [${contexts.shape[0]}, 1 + K] with K >= 1, got [${targets.shape}]`);
  }
  checkTensor("cbowLoss", "batch.contexts", contexts, "int32");
  checkTensor("cbowLoss", "batch.targets", targets, "int32");
  return tf.tidy(() => {
    const [batchSize, span] = contexts.shape;
    const dim = input.shape[1] as number;
    const rows = tf.reshape(tf.gather(input, tf.reshape(contexts, [batchSize * span])), [batchSize, span, dim]);
    const counts = tf.maximum(tf.sum(mask, 1, true), 1); // a row with no context gives h = 0
    const h = tf.div(tf.sum(tf.mul(rows, tf.expandDims(mask, 2)), 1), counts) as tf.Tensor2D;
    return negativeSamplingLoss(h, output as tf.Tensor2D, targets);
  });
}

interface ResolvedBatchOptions {
  batchSize: number;
  window: number;
  negatives: number;
  keep: Float64Array | undefined;
  table: Int32Array;
}

function resolveBatchOptions(fn: string, corpus: readonly Int32Array[], options: Word2VecBatchOptions): ResolvedBatchOptions {
  const { counts, batchSize } = options;
  const window = options.window ?? 5;
  const negatives = options.negatives ?? 5;
  const subsample = options.subsample ?? 1e-5;
  const exclude = options.exclude ?? [0];
  if (counts === undefined || typeof counts.length !== "number") {
    throw new Error(`${fn}: options.counts must be the [vocabSize] word counts, got ${typeof counts}`);
  }
  checkPositiveInteger(fn, "options.batchSize", batchSize);
  checkPositiveInteger(fn, "options.window", window);
  checkPositiveInteger(fn, "options.negatives", negatives);
  if (!(subsample === 0 || (subsample > 0 && subsample < 1))) {
    throw new Error(`${fn}: options.subsample must be 0 (off) or in (0, 1), got ${subsample}`);
  }
  checkCorpus(fn, corpus, counts.length);
  const keep =
    subsample === 0
      ? undefined
      : subsampleKeepProbabilities(counts, { threshold: subsample, variant: options.subsampleVariant, exclude });
  const table = noiseTable(counts, { power: options.noisePower, exclude });
  return { batchSize, window, negatives, keep, table };
}

function checkCounts(fn: string, counts: ArrayLike<number>): void {
  if (counts == null || typeof counts.length !== "number" || counts.length === 0) {
    throw new Error(`${fn}: counts must be a non-empty [vocabSize] array, got ${counts == null ? counts : typeof counts}`);
  }
  for (let i = 0; i < counts.length; i++) {
    if (!(Number.isFinite(counts[i]) && counts[i] >= 0)) {
      throw new Error(`${fn}: counts[${i}] must be a finite count >= 0, got ${counts[i]}`);
    }
  }
}

function checkTables(fn: string, input: tf.Tensor, output: tf.Tensor): void {
  if (input.rank !== 2 || output.rank !== 2 || input.shape[0] !== output.shape[0] || input.shape[1] !== output.shape[1]) {
    throw new Error(`${fn}: model.output must have shape [${input.shape}] like model.input, got [${output.shape}]`);
  }
}

