/**
 * GloVe (Pennington, Socher, Manning 2014, "GloVe: Global Vectors for Word
 * Representation", EMNLP): word vectors fitted to the logarithm of the
 * corpus's co-occurrence counts by weighted least squares,
 *
 *   J = sum_{i,j: X_ij > 0} f(X_ij) (w_i . c_j + b_i + b~_j - log X_ij)^2,
 *   f(x) = min(1, (x / x_max)^alpha),  x_max = 100, alpha = 3/4,
 *
 * where w are word vectors, c context vectors and b, b~ biases. The
 * embedding kept is w + c (section 4.2 of the paper).
 *
 * Here a batch is a random subset of the non-zero entries and the loss is
 * the batch mean of the weighted squares, trained with Adam through
 * `training.train` (the paper uses AdaGrad on single entries).
 */
import { tf } from "../backend/tf";
import type { CooccurrenceMatrix } from "../data/cooccurrence";
import type { Rng } from "../data/random";
import { checkInteger, checkPositiveInteger } from "../validation/arguments";
import type { Method } from "./method";

/** GloVe's parameters, and GloVe as a {@link Method} that owns and trains them. */
export interface GloveModel extends Method<GloveBatch> {
  /** `[vocabSize, dim]` word vectors w. */
  readonly words: tf.Variable<tf.Rank.R2>;
  /** `[vocabSize, dim]` context vectors c. */
  readonly contexts: tf.Variable<tf.Rank.R2>;
  /** `[vocabSize]` word biases b. */
  readonly wordBias: tf.Variable<tf.Rank.R1>;
  /** `[vocabSize]` context biases b~. */
  readonly contextBias: tf.Variable<tf.Rank.R1>;
  readonly vocabSize: number;
  readonly dim: number;
  /** The four variables. */
  readonly variables: tf.Variable[];
  /** The four variables, for `training.train`. */
  readonly trainable: tf.Variable[];
  /** Frees the four variables. */
  dispose(): void;
}

/** Options of {@link createGlove}. */
export interface GloveOptions {
  vocabSize: number;
  dim: number;
  /** Seed of the initial values; default 0. */
  seed?: number;
}

/**
 * GloVe's parameters initialised as its C tool does: all uniform in
 * `[-0.5/dim, 0.5/dim)`, with {@link gloveLoss} as the loss for
 * `training.train`. The method owns the parameters; `dispose()` frees them.
 *
 * Shapes: `words`, `contexts` `[vocabSize, dim]`; biases `[vocabSize]`;
 * batches {@link GloveBatch} -> scalar loss `[]`.
 *
 * @example
 * const glove = methods.createGlove({ vocabSize: vocab.size, dim: 64, seed: 0 });
 * await training.train({ ...glove, optimizer: training.adam(0.01), batches: methods.gloveBatches(counts, { batchSize: 16384 }), steps: 1000 });
 */
export function createGlove(options: GloveOptions): GloveModel {
  const { vocabSize, dim } = options;
  const seed = options.seed ?? 0;
  checkPositiveInteger("createGlove", "options.vocabSize", vocabSize);
  checkPositiveInteger("createGlove", "options.dim", dim);
  checkInteger("createGlove", "options.seed", seed);
  const r = 0.5 / dim;
  const init = (shape: number[], s: number) => tf.tidy(() => tf.variable(tf.randomUniform(shape, -r, r, "float32", s)));
  const words = init([vocabSize, dim], seed) as tf.Variable<tf.Rank.R2>;
  const contexts = init([vocabSize, dim], seed + 1) as tf.Variable<tf.Rank.R2>;
  const wordBias = init([vocabSize], seed + 2) as tf.Variable<tf.Rank.R1>;
  const contextBias = init([vocabSize], seed + 3) as tf.Variable<tf.Rank.R1>;
  const variables = [words, contexts, wordBias, contextBias];
  const model = { words, contexts, wordBias, contextBias };
  return {
    ...model,
    vocabSize,
    dim,
    variables,
    name: "GloVe",
    trainable: variables,
    loss: (batch: GloveBatch) => gloveLoss(model, batch),
    itemsPerBatch: (batch: GloveBatch) => batch.rows.shape[0],
    dispose() {
      tf.dispose(variables);
    },
  };
}

/**
 * GloVe's weighting `f(x) = min(1, (x / xMax)^alpha)`: rare pairs count
 * less, frequent ones are capped.
 *
 * @example
 * methods.gloveWeight(25); // 0.3536 = (25/100)^0.75
 */
export function gloveWeight(x: number, xMax = 100, alpha = 0.75): number {
  if (!(x >= 0) || !(xMax > 0) || !(alpha > 0)) {
    throw new Error(`gloveWeight: x must be >= 0, xMax and alpha > 0, got x=${x}, xMax=${xMax}, alpha=${alpha}`);
  }
  return x >= xMax ? 1 : Math.pow(x / xMax, alpha);
}

/** A GloVe batch: some non-zero entries (i, j) of the count matrix. */
export interface GloveBatch {
  /** `[batch]` int32 word ids i. */
  rows: tf.Tensor1D;
  /** `[batch]` int32 context ids j. */
  cols: tf.Tensor1D;
  /** `[batch]` float32 log X_ij. */
  logCounts: tf.Tensor1D;
  /** `[batch]` float32 f(X_ij). */
  weights: tf.Tensor1D;
}

/** Options of {@link gloveBatches}. */
export interface GloveBatchOptions {
  /** Entries per batch. */
  batchSize: number;
  /** x_max; default 100. */
  xMax?: number;
  /** alpha; default 0.75. */
  alpha?: number;
}

/**
 * Batches for `training.train`: each epoch visits every stored entry of the
 * (symmetric) matrix once, in an order drawn from the epoch's `rng`.
 *
 * Shapes: yields {@link GloveBatch} of `[batchSize]` (the last may be smaller).
 *
 * @example
 * const batches = methods.gloveBatches(counts, { batchSize: 8192 });
 */
export function gloveBatches(
  matrix: CooccurrenceMatrix,
  options: GloveBatchOptions,
): (epoch: number, rng: Rng) => Generator<GloveBatch> {
  const { batchSize } = options;
  const xMax = options.xMax ?? 100;
  const alpha = options.alpha ?? 0.75;
  checkPositiveInteger("gloveBatches", "options.batchSize", batchSize);
  if (!(xMax > 0) || !(alpha > 0)) {
    throw new Error(`gloveBatches: options.xMax and options.alpha must be > 0, got ${xMax}, ${alpha}`);
  }
  if (matrix == null || !(matrix.rowStart instanceof Int32Array) || matrix.rowStart.length !== matrix.vocabSize + 1) {
    throw new Error("gloveBatches: matrix must be a CooccurrenceMatrix from data.cooccurrenceCounts");
  }
  if (matrix.nnz === 0) throw new Error("gloveBatches: matrix has no non-zero entries");
  const rowOf = new Int32Array(matrix.nnz);
  for (let i = 0; i < matrix.vocabSize; i++) rowOf.fill(i, matrix.rowStart[i], matrix.rowStart[i + 1]);
  const logX = new Float32Array(matrix.nnz);
  const weight = new Float32Array(matrix.nnz);
  for (let k = 0; k < matrix.nnz; k++) {
    logX[k] = Math.log(matrix.values[k]);
    weight[k] = gloveWeight(matrix.values[k], xMax, alpha);
  }
  return function* (_epoch: number, rng: Rng) {
    const order = rng.permutation(matrix.nnz);
    for (let start = 0; start < order.length; start += batchSize) {
      const size = Math.min(batchSize, order.length - start);
      const r = new Int32Array(size);
      const c = new Int32Array(size);
      const l = new Float32Array(size);
      const w = new Float32Array(size);
      for (let i = 0; i < size; i++) {
        const k = order[start + i];
        r[i] = rowOf[k];
        c[i] = matrix.colIndex[k];
        l[i] = logX[k];
        w[i] = weight[k];
      }
      yield {
        rows: tf.tensor1d(r, "int32"),
        cols: tf.tensor1d(c, "int32"),
        logCounts: tf.tensor1d(l),
        weights: tf.tensor1d(w),
      };
    }
  };
}

/**
 * The GloVe loss of one batch: mean over entries of
 * `f(X_ij) (w_i . c_j + b_i + b~_j - log X_ij)^2`.
 *
 * Shapes: batch fields `[B]` -> scalar `[]`.
 *
 * @example
 * const loss = methods.gloveLoss(glove, batch); // inside training.train's loss
 */
export function gloveLoss(
  model: Pick<GloveModel, "words" | "contexts" | "wordBias" | "contextBias">,
  batch: GloveBatch,
): tf.Scalar {
  const { words, contexts, wordBias, contextBias } = model;
  if (words.rank !== 2 || contexts.rank !== 2 || words.shape.join() !== contexts.shape.join()) {
    throw new Error(`gloveLoss: model.contexts must have shape [${words.shape}] like model.words, got [${contexts.shape}]`);
  }
  if (wordBias.rank !== 1 || contextBias.rank !== 1 || wordBias.shape[0] !== words.shape[0] || contextBias.shape[0] !== words.shape[0]) {
    throw new Error(`gloveLoss: model biases must have shape [${words.shape[0]}], got [${wordBias.shape}] and [${contextBias.shape}]`);
  }
  const n = batch.rows.shape[0];
  for (const key of ["rows", "cols", "logCounts", "weights"] as const) {
    const t = batch[key];
    if (t.rank !== 1 || t.shape[0] !== n) throw new Error(`gloveLoss: batch.${key} must have shape [${n}], got [${t.shape}]`);
  }
  if (batch.rows.dtype !== "int32" || batch.cols.dtype !== "int32") {
    throw new Error(`gloveLoss: batch.rows and batch.cols must be int32, got ${batch.rows.dtype} and ${batch.cols.dtype}`);
  }
  return tf.tidy(() => {
    const dot = tf.sum(tf.mul(tf.gather(words, batch.rows), tf.gather(contexts, batch.cols)), 1);
    const diff = tf.sub(tf.add(tf.add(dot, tf.gather(wordBias, batch.rows)), tf.gather(contextBias, batch.cols)), batch.logCounts);
    return tf.mean(tf.mul(batch.weights, tf.square(diff)));
  });
}

/**
 * The embedding GloVe keeps: word plus context vectors.
 *
 * Shapes: -> `[vocabSize, dim]` (a new tensor; dispose it).
 *
 * @example
 * const vectors = methods.gloveVectors(glove);
 */
export function gloveVectors(model: Pick<GloveModel, "words" | "contexts">): tf.Tensor2D {
  return tf.add(model.words, model.contexts) as tf.Tensor2D;
}
