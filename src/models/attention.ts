/**
 * Scaled dot-product attention and multi-head self-attention over plain
 * `tf.Variable`s (Vaswani, Shazeer, Parmar, Uszkoreit, Jones, Gomez, Kaiser,
 * Polosukhin 2017, "Attention Is All You Need", sections 3.2.1 and 3.2.2):
 *
 *   Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k) + M) V,
 *
 * with M an additive mask: 0 where a query may look at a key, a large
 * negative number where it may not (the future, for a GPT-style causal
 * model; padding, for a batch of sequences of different lengths). Written
 * as functions because tfjs-layers 4.22 has no multi-head attention layer.
 *
 * Dropout (Srivastava et al. 2014) is optional and explicit: a rate and a
 * seed, with masks drawn in JS from the seed ({@link seededDropout}), so the
 * same seed drops the same units on every backend and call. SimCSE needs
 * exactly that: two passes of one sentence under different seeds are two
 * "views", and under one seed they are identical.
 */
import { tf } from "../backend/tf";
import { createRng } from "../data/random";
import {
  checkInteger,
  checkIntegerInRange,
  checkOptions,
  checkPositiveInteger,
  checkRank,
  checkTensor,
  describe,
} from "../validation/arguments";

/**
 * The additive mask value of a forbidden query-key pair. In float32,
 * exp(score - 1e9 - max) underflows to exactly 0, so a masked key gets
 * exactly zero weight and a masked position changes nothing downstream,
 * bit for bit. It is finite, not -Infinity, so a row with every key masked
 * stays finite (uniform) instead of NaN, and 0 * mask stays 0 in gradients.
 */
export const MASKED_LOGIT = -1e9;

/**
 * Dropout of one call: each unit is kept with probability `1 - rate` and
 * scaled by `1 / (1 - rate)` (inverted dropout, so no rescaling at
 * inference), zeroed otherwise; which units is a function of `seed` alone.
 */
export interface DropoutOptions {
  /** Probability of dropping a unit, in [0, 1); 0 changes nothing. */
  rate: number;
  /** Integer seed of the masks: the same seed gives the same masks. */
  seed: number;
}

/** Checks a {@link DropoutOptions}. */
export function checkDropout(fn: string, arg: string, dropout: unknown): asserts dropout is DropoutOptions {
  if (dropout === null || typeof dropout !== "object") throw new Error(`${fn}: ${arg} must be an object {rate, seed}, got ${describe(dropout)}`);
  const { rate, seed } = dropout as DropoutOptions;
  if (typeof rate !== "number" || !(rate >= 0 && rate < 1)) throw new Error(`${fn}: ${arg}.rate must be a number in [0, 1), got ${describe(rate)}`);
  checkInteger(fn, `${arg}.seed`, seed);
}

/**
 * The inverted-dropout mask of a tensor of `shape`: entries `1 / (1 - rate)`
 * with probability `1 - rate`, else 0, drawn from `createRng(seed)` in
 * row-major order. Drawn in JS rather than by `tf.randomUniform`, so the
 * mask is a function of the seed alone, the same on cpu and wasm.
 *
 * Shapes: -> `shape` float32.
 *
 * @example
 * const mask = dropoutMask([2, 3], { rate: 0.5, seed: 1 }); // entries 0 or 2
 */
export function dropoutMask(shape: readonly number[], dropout: DropoutOptions): tf.Tensor {
  const fn = "dropoutMask";
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(`${fn}: shape must be an array of positive integers, got ${describe(shape)}`);
  }
  checkDropout(fn, "dropout", dropout);
  const { rate, seed } = dropout;
  const rng = createRng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const keep = 1 / (1 - rate);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = rng.next() >= rate ? keep : 0;
  return tf.tensor(values, [...shape], "float32");
}

/**
 * Inverted dropout of `x` with a seeded mask ({@link dropoutMask}):
 * x * mask, so the gradient flows through kept units only. Rate 0 returns a
 * copy of `x` (same values, bit for bit).
 *
 * Shapes: any float32 -> the same shape.
 *
 * @example
 * const y = seededDropout(hidden, { rate: 0.1, seed: 7 }); // same seed, same mask
 */
export function seededDropout(x: tf.Tensor, dropout: DropoutOptions): tf.Tensor {
  const fn = "seededDropout";
  checkTensor(fn, "x", x, "float32");
  checkDropout(fn, "dropout", dropout);
  if (dropout.rate === 0) return x.clone();
  return tf.tidy(() => tf.mul(x, dropoutMask(x.shape, dropout)));
}

/** Options of the attention functions. */
export interface AttentionOptions {
  /**
   * Additive float32 mask: `[time, time]` (the same for every sequence, e.g.
   * {@link causalMask}), `[batch, 1, 1, time]` (per-sequence keys, e.g.
   * {@link paddingMask}) or `[batch, 1, time, time]` (the sum of the two).
   * Added to every head's scores; any other shape is rejected.
   */
  mask?: tf.Tensor;
}

/** Options of a {@link SequenceLayer}'s `apply`: the mask, and dropout for training. */
export interface SelfAttentionOptions extends AttentionOptions {
  /**
   * Dropout of this call (training); default none (inference). Multi-head
   * attention drops attention probabilities (BERT's
   * `attention_probs_dropout_prob`); a transformer block derives the seeds
   * of its sites from this one.
   */
  dropout?: DropoutOptions;
}

/**
 * The additive causal mask of a sequence of `time` positions: entry (i, j)
 * is 0 when key j is at or before query i and {@link MASKED_LOGIT} when it
 * is after, so position i sees only positions 0..i (GPT; Radford et al. 2018).
 *
 * Shapes: -> `[time, time]` float32.
 *
 * @example
 * const y = scaledDotProductAttention(q, k, v, { mask: causalMask(8) });
 */
export function causalMask(time: number): tf.Tensor2D {
  checkPositiveInteger("causalMask", "time", time);
  const m = new Float32Array(time * time);
  for (let i = 0; i < time; i++) m.fill(MASKED_LOGIT, i * time + i + 1, (i + 1) * time);
  return tf.tensor2d(m, [time, time]);
}

/**
 * The additive padding mask of a batch of sequences padded to `time`:
 * sequence b has `lengths[b]` real tokens first, then padding; its keys at
 * positions >= `lengths[b]` get {@link MASKED_LOGIT}, so no query attends
 * to padding. Each length must be in [1, time]: a sequence with no real
 * token has nothing to attend to.
 *
 * Shapes: `lengths` `[batch]` -> `[batch, 1, 1, time]` float32 (broadcast
 * over heads and queries).
 *
 * @example
 * const mask = paddingMask([5, 3], 5); // second sequence: 3 tokens, 2 pads
 */
export function paddingMask(lengths: number[] | Int32Array, time: number): tf.Tensor4D {
  const fn = "paddingMask";
  checkPositiveInteger(fn, "time", time);
  checkLengths(fn, "lengths", lengths, undefined, time);
  const m = new Float32Array(lengths.length * time);
  for (let b = 0; b < lengths.length; b++) m.fill(MASKED_LOGIT, b * time + lengths[b], (b + 1) * time);
  return tf.tensor4d(m, [lengths.length, 1, 1, time]);
}

/**
 * Checks sequence lengths: an array (or Int32Array) of `batch` integers
 * (any number when `batch` is undefined, but at least one) in [1, time].
 * Shared with transformer.ts, whose `apply` takes the same lengths.
 */
export function checkLengths(fn: string, arg: string, lengths: unknown, batch: number | undefined, time: number): void {
  const isArray = Array.isArray(lengths) || lengths instanceof Int32Array;
  const n = isArray ? (lengths as ArrayLike<number>).length : -1;
  if (!isArray || n < 1 || (batch !== undefined && n !== batch)) {
    const count = batch === undefined ? "at least one" : `${batch}`;
    throw new Error(`${fn}: ${arg} must be an array of ${count} lengths in [1, ${time}], got ${describe(lengths)}`);
  }
  for (let b = 0; b < n; b++) checkIntegerInRange(fn, `${arg}[${b}]`, (lengths as ArrayLike<number>)[b], 1, time);
}

/** Checks `mask` against the three shapes {@link AttentionOptions} allows. */
function checkMask(fn: string, arg: string, mask: unknown, batch: number, time: number): void {
  if (mask === undefined) return;
  checkTensor(fn, arg, mask, "float32");
  const allowed = [[time, time], [batch, 1, 1, time], [batch, 1, time, time]];
  if (!allowed.some((s) => s.length === mask.rank && s.every((d, i) => d === mask.shape[i]))) {
    const shapes = allowed.map((s) => `[${s.join(",")}]`);
    throw new Error(`${fn}: ${arg} must be a float32 tensor of shape ${shapes[0]}, ${shapes[1]} or ${shapes[2]}, got ${describe(mask)}`);
  }
}

/** Checks q `[batch, heads, time, headDim]` float32 and k (and v) of q's shape. */
function checkQkv(fn: string, tensors: Array<[string, unknown]>): void {
  const [[qName, q], ...rest] = tensors;
  checkRank(fn, qName, q, 4, "float32");
  for (const [name, t] of rest) {
    checkTensor(fn, name, t, "float32");
    if (t.rank !== 4 || t.shape.some((d, i) => d !== q.shape[i])) {
      throw new Error(`${fn}: ${name} must be a float32 tensor of shape [${q.shape.join(",")}] like ${qName}, got ${describe(t)}`);
    }
  }
}

/** softmax(q k^T / sqrt(headDim) + mask), unchecked. */
function weightsOf(q: tf.Tensor4D, k: tf.Tensor4D, mask: tf.Tensor | undefined): tf.Tensor4D {
  const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(q.shape[3]));
  return tf.softmax(mask === undefined ? scores : tf.add(scores, mask)) as tf.Tensor4D;
}

/**
 * The attention weights softmax(q k^T / sqrt(headDim) + mask): row i of
 * head h of sequence b is the distribution of query i over the keys. Each
 * row sums to 1; a masked key gets exactly 0.
 *
 * Shapes: `q`, `k` `[batch, heads, time, headDim]` float32, mask as in
 * {@link AttentionOptions} -> `[batch, heads, time, time]`.
 *
 * @example
 * const w = attentionWeights(q, k, { mask: causalMask(q.shape[2]) }); // plot w[0, h]
 */
export function attentionWeights(q: tf.Tensor4D, k: tf.Tensor4D, options: AttentionOptions = {}): tf.Tensor4D {
  const fn = "attentionWeights";
  checkQkv(fn, [["q", q], ["k", k]]);
  checkMask(fn, "options.mask", options.mask, q.shape[0], q.shape[2]);
  return tf.tidy(() => weightsOf(q, k, options.mask));
}

/**
 * Scaled dot-product attention softmax(q k^T / sqrt(headDim) + mask) v, per
 * sequence and head. Scaling by 1/sqrt(headDim) keeps the scores' variance
 * near 1 whatever the head size, so the softmax does not saturate at
 * initialisation (Vaswani et al., footnote 4).
 *
 * Shapes: `q`, `k`, `v` `[batch, heads, time, headDim]` float32, mask as in
 * {@link AttentionOptions} -> `[batch, heads, time, headDim]`.
 *
 * @example
 * const mask = causalMask(8);
 * const y = scaledDotProductAttention(q, k, v, { mask }); // [2, 4, 8, 16]
 */
export function scaledDotProductAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  options: AttentionOptions = {},
): tf.Tensor4D {
  const fn = "scaledDotProductAttention";
  checkQkv(fn, [["q", q], ["k", k], ["v", v]]);
  checkMask(fn, "options.mask", options.mask, q.shape[0], q.shape[2]);
  return tf.tidy(() => tf.matMul(weightsOf(q, k, options.mask), v));
}

/** Options of {@link createLinear}. */
export interface LinearOptions {
  /** Size of the input's last axis. */
  inputDim: number;
  /** Size of the output's last axis. */
  outputDim: number;
  /** Seed of the Glorot-uniform weight; default 0. */
  seed?: number;
}

/** What the small layers here and in transformer.ts share: variables, a map over the last axis, cleanup. */
export interface Layer {
  /** Every variable, for `training.train({ trainable })`. */
  readonly trainable: tf.Variable[];
  /** The layer's map. Shapes: `[..., in]` float32 (rank >= 2) -> `[..., out]`. */
  apply(x: tf.Tensor): tf.Tensor;
  /** Frees the variables. */
  dispose(): void;
}

/** An affine map x W + b over the last axis, `[..., inputDim]` -> `[..., outputDim]`. */
export interface Linear extends Layer {
  /** W `[inputDim, outputDim]`, Glorot-uniform (Glorot & Bengio 2010) from the seed. */
  readonly weight: tf.Variable;
  /** b `[outputDim]`, zeros. */
  readonly bias: tf.Variable;
}

/**
 * A seeded affine layer over the last axis: the projections of attention
 * and the transformer's MLP. Weights are drawn in JS, so one seed gives the
 * same model on every backend.
 *
 * Shapes: `[..., inputDim]` -> `[..., outputDim]`.
 *
 * @example
 * const proj = createLinear({ inputDim: 64, outputDim: 256, seed: 1 });
 * const h = proj.apply(x); // [batch, time, 256]
 */
export function createLinear(options: LinearOptions): Linear {
  const fn = "createLinear";
  checkOptions(fn, options, "{inputDim, outputDim, seed?}");
  const { inputDim, outputDim, seed = 0 } = options;
  checkPositiveInteger(fn, "options.inputDim", inputDim);
  checkPositiveInteger(fn, "options.outputDim", outputDim);
  checkInteger(fn, "options.seed", seed);
  const rng = createRng(seed);
  const limit = Math.sqrt(6 / (inputDim + outputDim));
  const w = Float32Array.from({ length: inputDim * outputDim }, () => (2 * rng.next() - 1) * limit);
  const weight = tf.tidy(() => tf.variable(tf.tensor2d(w, [inputDim, outputDim])));
  const bias = tf.tidy(() => tf.variable(tf.zeros([outputDim])));
  return {
    weight,
    bias,
    trainable: [weight, bias],
    apply(x: tf.Tensor): tf.Tensor {
      checkTensor("Linear.apply", "x", x, "float32");
      if (x.rank < 2 || x.shape[x.rank - 1] !== inputDim) {
        throw new Error(`Linear.apply: x must be a float32 tensor of shape [...,${inputDim}] (rank >= 2), got ${describe(x)}`);
      }
      // One 2-D product: the shape the backends' fast matMul paths take.
      return tf.tidy(() => {
        const flat = tf.reshape(x, [-1, inputDim]) as tf.Tensor2D;
        const y = tf.add(tf.matMul(flat, weight as tf.Tensor2D), bias);
        return tf.reshape(y, [...x.shape.slice(0, -1), outputDim]);
      });
    },
    dispose: () => tf.dispose([weight, bias]),
  };
}

/** Options of {@link createMultiHeadAttention}. */
export interface MultiHeadAttentionOptions {
  /** Model width: size of the input's and the output's last axis. */
  dim: number;
  /** Number of heads; must divide `dim` (each head has `dim / heads` dimensions). */
  heads: number;
  /** Seed of the four projections; default 0. */
  seed?: number;
}

/** A layer over sequences that takes an attention mask: attention itself and a transformer block. */
export interface SequenceLayer {
  /** Every variable, for `training.train({ trainable })`. */
  readonly trainable: tf.Variable[];
  /** Shapes: `[batch, time, dim]` float32, mask as in {@link AttentionOptions} -> `[batch, time, dim]`. */
  apply(x: tf.Tensor3D, options?: SelfAttentionOptions): tf.Tensor3D;
  /** Frees the variables. */
  dispose(): void;
}

/**
 * Multi-head self-attention: its projections and what it computes. `apply`
 * is self-attention of every position over the sequence: split x Wq, x Wk,
 * x Wv into heads, attend per head, join the heads and project with Wo.
 * With `options.dropout`, the attention probabilities `[batch, heads, time,
 * time]` are dropped (after the softmax, before weighting the values), as in
 * BERT and GPT-2; a dropped probability is not renormalised.
 */
export interface MultiHeadAttention extends SequenceLayer {
  /** Model width. */
  readonly dim: number;
  /** Number of heads. */
  readonly heads: number;
  /** `dim / heads`. */
  readonly headDim: number;
  /** The query projection Wq `[dim, dim]` with its bias. */
  readonly query: Linear;
  /** The key projection Wk `[dim, dim]` with its bias. */
  readonly key: Linear;
  /** The value projection Wv `[dim, dim]` with its bias. */
  readonly value: Linear;
  /** The output projection Wo `[dim, dim]` with its bias, applied to the joined heads. */
  readonly output: Linear;
  /** The weights of every head, for plots. Shapes: `[batch, time, dim]` -> `[batch, heads, time, time]`. */
  attentionWeights(x: tf.Tensor3D, options?: AttentionOptions): tf.Tensor4D;
}

/**
 * Builds multi-head self-attention with separate seeded query, key, value
 * and output projections (Glorot-uniform weights, zero biases).
 *
 * Shapes: `[batch, time, dim]` -> `[batch, time, dim]`.
 *
 * @example
 * const mha = createMultiHeadAttention({ dim: 64, heads: 4, seed: 1 });
 * const mask = causalMask(16);
 * const y = mha.apply(x, { mask }); // x [8, 16, 64] -> [8, 16, 64]
 */
export function createMultiHeadAttention(options: MultiHeadAttentionOptions): MultiHeadAttention {
  const fn = "createMultiHeadAttention";
  checkOptions(fn, options, "{dim, heads, seed?}");
  const { dim, heads, seed = 0 } = options;
  checkPositiveInteger(fn, "options.dim", dim);
  checkPositiveInteger(fn, "options.heads", heads);
  if (dim % heads !== 0) throw new Error(`${fn}: options.heads must divide options.dim = ${dim}, got ${heads}`);
  checkInteger(fn, "options.seed", seed);
  const headDim = dim / heads;
  const rng = createRng(seed);
  const [query, key, value, output] = [0, 1, 2, 3].map(() => createLinear({ inputDim: dim, outputDim: dim, seed: rng.fork() }));

  const check = (method: string, x: tf.Tensor3D, mask: tf.Tensor | undefined): void => {
    checkRank(method, "x", x, 3, "float32");
    if (x.shape[2] !== dim) throw new Error(`${method}: x must be a float32 tensor of shape [batch,time,${dim}], got ${describe(x)}`);
    checkMask(method, "options.mask", mask, x.shape[0], x.shape[1]);
  };
  // [batch, time, dim] -> [batch, heads, time, headDim]: head h owns columns h*headDim..(h+1)*headDim-1.
  const split = (t: tf.Tensor, batch: number, time: number) =>
    tf.transpose(tf.reshape(t, [batch, time, heads, headDim]), [0, 2, 1, 3]) as tf.Tensor4D;

  return {
    dim,
    heads,
    headDim,
    query,
    key,
    value,
    output,
    trainable: [query, key, value, output].flatMap((l) => l.trainable),
    apply(x: tf.Tensor3D, opts: SelfAttentionOptions = {}): tf.Tensor3D {
      check("MultiHeadAttention.apply", x, opts.mask);
      if (opts.dropout !== undefined) checkDropout("MultiHeadAttention.apply", "options.dropout", opts.dropout);
      const [batch, time] = x.shape;
      return tf.tidy(() => {
        const [q, k, v] = [query, key, value].map((l) => split(l.apply(x), batch, time));
        const weights = weightsOf(q, k, opts.mask);
        const dropped = opts.dropout === undefined || opts.dropout.rate === 0 ? weights : tf.mul(weights, dropoutMask(weights.shape, opts.dropout));
        const heads4 = tf.matMul(dropped, v);
        const joined = tf.reshape(tf.transpose(heads4, [0, 2, 1, 3]), [batch, time, dim]);
        return output.apply(joined) as tf.Tensor3D;
      });
    },
    attentionWeights(x: tf.Tensor3D, opts: AttentionOptions = {}): tf.Tensor4D {
      check("MultiHeadAttention.attentionWeights", x, opts.mask);
      const [batch, time] = x.shape;
      return tf.tidy(() => weightsOf(split(query.apply(x), batch, time), split(key.apply(x), batch, time), opts.mask));
    },
    dispose: () => [query, key, value, output].forEach((l) => l.dispose()),
  };
}
