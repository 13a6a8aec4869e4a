/**
 * A small transformer over plain `tf.Variable`s (Vaswani et al. 2017,
 * "Attention Is All You Need"), causal as GPT (Radford, Narasimhan,
 * Salimans, Sutskever 2018; Radford et al. 2019, GPT-2) or bidirectional as
 * BERT (Devlin, Chang, Lee, Toutanova 2019).
 *
 * Blocks are pre-norm as in GPT-2: x + attn(LN(x)), then x + MLP(LN(x)),
 * so the residual stream is never normalised and gradients reach the
 * embeddings through the identity paths; a final LN follows the last block.
 *
 * Dropout is off unless asked for twice: a rate when the model is built
 * (`dropout: 0.1`) and a seed when it is applied (`apply(tokens, { dropout:
 * { seed } })`, training). It sits where BERT (and GPT-2) put it: on the sum
 * of token and position embeddings, on the attention probabilities, and on
 * each sublayer's output before the residual add (attention and MLP); the
 * final LN's output is not dropped. Every mask is a function of the seed, so
 * the same seed gives the same masks (SimCSE's "one shared mask" ablation)
 * and different seeds different ones (SimCSE's two views). Without a seed
 * the model is deterministic, as at inference.
 *
 * Cutoff (Shen, Zheng, Chen, Han, Yin, Gu 2020, "A Simple but Tough-to-Beat
 * Data Augmentation Approach for Natural Language Understanding and
 * Generation") is off unless asked for with a kind, a rate and a seed
 * (`apply(tokens, { cutoff: { kind: "span", rate: 0.1, seed } })`): it zeroes
 * part of the token embeddings E[tokens] before the positional embedding is
 * added (the paper's cut on the input embedding matrix; positions stay, so
 * the model still sees that a word was there). Kinds: "token" zeroes whole
 * words, "feature" whole embedding dimensions across a sentence, "span" a
 * contiguous run of words ({@link cutoffMask}). Nothing is rescaled, unlike
 * dropout. A pass may have both dropout and cutoff; their masks come from
 * their own seeds.
 */
import { tf } from "../backend/tf";
import { LAYER_NORM, LAYER_NORM_GRAD } from "../backend/kernels/layer_norm";
import { createRng } from "../data/random";
import {
  checkInteger,
  checkNonNegativeInteger,
  checkOptions,
  checkPositiveInteger,
  checkPositiveNumber,
  checkRank,
  checkTensor,
  describe,
} from "../validation/arguments";
import {
  causalMask,
  checkDropout,
  checkLengths,
  createLinear,
  createMultiHeadAttention,
  Layer,
  Linear,
  MultiHeadAttention,
  paddingMask,
  seededDropout,
  SelfAttentionOptions,
  SequenceLayer,
} from "./attention";

/** Checks `x` is float32 `[..., dim]` with rank >= 2 (or exactly `rank`). */
function checkLastAxis(fn: string, x: unknown, dim: number, rank?: number): asserts x is tf.Tensor {
  checkTensor(fn, "x", x, "float32");
  if ((rank === undefined ? x.rank < 2 : x.rank !== rank) || x.shape[x.rank - 1] !== dim) {
    const shape = rank === 3 ? `[batch,time,${dim}]` : `[...,${dim}] (rank >= 2)`;
    throw new Error(`${fn}: x must be a float32 tensor of shape ${shape}, got ${describe(x)}`);
  }
}

/** Options of {@link createLayerNorm}. */
export interface LayerNormOptions {
  /** Size of the normalised last axis. */
  dim: number;
  /** Added to the variance before the square root; default 1e-5 (as PyTorch and GPT-2). */
  epsilon?: number;
}

/**
 * Layer normalisation with a learned gain and bias; `apply` computes
 * (x - mean) / sqrt(var + epsilon) * gain + bias, with the mean and (biased)
 * variance over the last axis of each position, `[..., dim]` -> `[..., dim]`.
 */
export interface LayerNorm extends Layer {
  /** Gain `[dim]`, ones. */
  readonly gain: tf.Variable;
  /** Bias `[dim]`, zeros. */
  readonly bias: tf.Variable;
  /** The epsilon. */
  readonly epsilon: number;
}

/**
 * Layer normalisation (Ba, Kiros, Hinton 2016) over the last axis: each
 * position is normalised on its own, so it does not mix positions or
 * sequences (a causal model stays causal) and needs no batch statistics.
 *
 * Shapes: `[..., dim]` -> `[..., dim]`.
 *
 * @example
 * const ln = createLayerNorm({ dim: 64 });
 * const y = ln.apply(x); // [batch, time, 64]
 */
export function createLayerNorm(options: LayerNormOptions): LayerNorm {
  const fn = "createLayerNorm";
  checkOptions(fn, options, "{dim, epsilon?}");
  const { dim, epsilon = 1e-5 } = options;
  checkPositiveInteger(fn, "options.dim", dim);
  checkPositiveNumber(fn, "options.epsilon", epsilon);
  const gain = tf.tidy(() => tf.variable(tf.ones([dim])));
  const bias = tf.tidy(() => tf.variable(tf.zeros([dim])));
  return {
    gain,
    bias,
    epsilon,
    trainable: [gain, bias],
    apply(x: tf.Tensor): tf.Tensor {
      checkLastAxis("LayerNorm.apply", x, dim);
      return tf.tidy(() => {
        const backend = tf.getBackend();
        if (tf.getKernel(LAYER_NORM, backend) != null && tf.getKernel(LAYER_NORM_GRAD, backend) != null) return layerNormKernels(x, gain, bias, epsilon);
        const axis = x.rank - 1;
        const centred = tf.sub(x, tf.mean(x, axis, true));
        const variance = tf.mean(tf.square(centred), axis, true);
        return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, epsilon))), gain), bias);
      });
    },
    dispose: () => tf.dispose([gain, bias]),
  };
}

/**
 * The same layer normalization as two kernels, one each way
 * (backend/kernels/layer_norm.ts), where the composed ops make nine kernels
 * forward and about twenty backward. Shapes: `x` `[..., D]`, `gain`, `bias`
 * `[D]` -> like `x`.
 */
function layerNormKernels(x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor, epsilon: number): tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [y, mean, invStd] = tf.engine().runKernel(LAYER_NORM, { x: input, gain: g, bias: b }, { epsilon }) as tf.Tensor[];
    save([input, mean, invStd, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, mu, s, gs] = saved;
        return tf.engine().runKernel(LAYER_NORM_GRAD, { dy, x: xs, mean: mu, invStd: s, gain: gs }) as tf.Tensor[];
      },
    };
  });
  return op(x, gain, bias);
}

/**
 * GELU, x Phi(x), in the tanh approximation of Hendrycks & Gimpel (2016)
 * that GPT-2 and BERT use:
 *
 *   gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))),
 *
 * within 1e-3 of the exact x Phi(x); kept for parity with those models'
 * published weights and numbers (tf.erf would give the exact form).
 * Computed as `x sigmoid(2 sqrt(2/pi) (x + 0.044715 x^3))`, the same function.
 *
 * Shapes: any float32 -> same shape.
 *
 * @example
 * const y = gelu(tf.tensor1d([-1, 0, 1])); // [-0.1588, 0, 0.8412]
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  checkTensor("gelu", "x", x, "float32");
  // 0.5 (1 + tanh(u)) = sigmoid(2u): the same function in fewer ops, and wasm's Sigmoid (XNNPACK) took
  // 6 ms where its Tanh took 15 for [128,32,128] (2 threads).
  return tf.tidy(() => tf.mul(x, tf.sigmoid(tf.mul(tf.add(x, tf.mul(tf.mul(tf.square(x), x), 0.044715)), 2 * Math.sqrt(2 / Math.PI)))));
}

/**
 * Checks the widths of a block: `dim`, `heads` dividing it, and `mlpRatio`
 * giving an integer MLP width, which it returns.
 */
function checkWidths(fn: string, dim: unknown, heads: unknown, mlpRatio: unknown): number {
  checkPositiveInteger(fn, "options.dim", dim);
  checkPositiveInteger(fn, "options.heads", heads);
  if (dim % heads !== 0) throw new Error(`${fn}: options.heads must divide options.dim = ${dim}, got ${heads}`);
  checkPositiveNumber(fn, "options.mlpRatio", mlpRatio);
  const hiddenDim = mlpRatio * dim;
  if (!Number.isInteger(hiddenDim)) {
    throw new Error(`${fn}: options.mlpRatio * options.dim must be an integer, got ${mlpRatio} * ${dim} = ${hiddenDim}`);
  }
  return hiddenDim;
}

/** Options of {@link createTransformerBlock}. */
export interface TransformerBlockOptions {
  /** Model width. */
  dim: number;
  /** Attention heads; must divide `dim`. */
  heads: number;
  /** Hidden width of the MLP as a multiple of `dim`; default 4 (Vaswani et al.); `mlpRatio * dim` must be an integer. */
  mlpRatio?: number;
  /** Seed of the block's weights; default 0. */
  seed?: number;
}

/**
 * One pre-norm transformer block; `apply` computes h = x + attn(LN1(x), mask),
 * then h + mlpOut(gelu(mlpIn(LN2(h)))), `[batch, time, dim]` -> `[batch, time, dim]`.
 * With `options.dropout` {rate, seed}: attention probabilities, the attention
 * output and the MLP output are dropped (before their residual adds), each
 * with its own seed forked from `seed` in that order.
 */
export interface TransformerBlock extends SequenceLayer {
  /** Model width. */
  readonly dim: number;
  /** Hidden width of the MLP, `mlpRatio * dim`. */
  readonly hiddenDim: number;
  /** LN before attention. */
  readonly norm1: LayerNorm;
  /** Self-attention. */
  readonly attention: MultiHeadAttention;
  /** LN before the MLP. */
  readonly norm2: LayerNorm;
  /** The MLP's first layer `[dim, hiddenDim]`, followed by GELU. */
  readonly mlpIn: Linear;
  /** The MLP's second layer `[hiddenDim, dim]`. */
  readonly mlpOut: Linear;
}

/**
 * Builds a pre-norm block: attention and a two-layer GELU MLP, each on the
 * layer-normalised residual stream and added back to it.
 *
 * Shapes: `[batch, time, dim]` -> `[batch, time, dim]`.
 *
 * @example
 * const block = createTransformerBlock({ dim: 64, heads: 4, mlpRatio: 4, seed: 1 });
 * const mask = causalMask(16);
 * const y = block.apply(x, { mask }); // [8, 16, 64]
 */
export function createTransformerBlock(options: TransformerBlockOptions): TransformerBlock {
  const fn = "createTransformerBlock";
  checkOptions(fn, options, "{dim, heads, mlpRatio?, seed?}");
  const { dim, heads, mlpRatio = 4, seed = 0 } = options;
  const hiddenDim = checkWidths(fn, dim, heads, mlpRatio);
  checkInteger(fn, "options.seed", seed);
  const rng = createRng(seed);
  const norm1 = createLayerNorm({ dim });
  const attention = createMultiHeadAttention({ dim, heads, seed: rng.fork() });
  const norm2 = createLayerNorm({ dim });
  const mlpIn = createLinear({ inputDim: dim, outputDim: hiddenDim, seed: rng.fork() });
  const mlpOut = createLinear({ inputDim: hiddenDim, outputDim: dim, seed: rng.fork() });
  const parts = [norm1, attention, norm2, mlpIn, mlpOut];
  return {
    dim,
    hiddenDim,
    norm1,
    attention,
    norm2,
    mlpIn,
    mlpOut,
    trainable: parts.flatMap((p) => p.trainable),
    apply(x: tf.Tensor3D, opts: SelfAttentionOptions = {}): tf.Tensor3D {
      checkLastAxis("TransformerBlock.apply", x, dim, 3);
      const { mask, dropout } = opts;
      if (dropout !== undefined) checkDropout("TransformerBlock.apply", "options.dropout", dropout);
      // The mask is checked by attention.apply, against x's batch and time.
      return tf.tidy(() => {
        if (dropout === undefined || dropout.rate === 0) {
          const h = tf.add(x, attention.apply(norm1.apply(x) as tf.Tensor3D, { mask }));
          return tf.add(h, mlpOut.apply(gelu(mlpIn.apply(norm2.apply(h))))) as tf.Tensor3D;
        }
        const seeds = createRng(dropout.seed);
        const site = () => ({ rate: dropout.rate, seed: seeds.fork() });
        const attended = attention.apply(norm1.apply(x) as tf.Tensor3D, { mask, dropout: site() });
        const h = tf.add(x, seededDropout(attended, site()));
        return tf.add(h, seededDropout(mlpOut.apply(gelu(mlpIn.apply(norm2.apply(h)))), site())) as tf.Tensor3D;
      });
    },
    dispose: () => parts.forEach((p) => p.dispose()),
  };
}

/** Options of {@link createTransformer}. */
export interface TransformerOptions {
  /** Number of token ids; tokens are in [0, vocabSize). */
  vocabSize: number;
  /** Longest sequence: rows of the learned positional embedding. */
  maxLength: number;
  /** Model width. */
  dim: number;
  /** Attention heads per block; must divide `dim`. */
  heads: number;
  /** Number of blocks; 0 gives a bigram-like model (embedding, LN, head), a baseline. */
  layers: number;
  /** true: each position sees only itself and earlier ones (GPT); false: every position (BERT). */
  causal: boolean;
  /** MLP width as a multiple of `dim`; default 4. */
  mlpRatio?: number;
  /** Seed of every weight; default 0. */
  seed?: number;
  /**
   * Dropout rate in [0, 1) used when `apply` or `pooled` is given a dropout
   * seed (training); default 0, no dropout ever. BERT and SimCSE use 0.1.
   */
  dropout?: number;
}

/** Options of a training pass with dropout: the seed of its masks (the rate is the model's). */
export interface TransformerDropoutOptions {
  /** Integer seed: the same seed drops the same units (for equal shapes). */
  seed: number;
}

/** What cutoff zeroes: whole words, embedding dimensions across a sentence, or a contiguous span of words. */
export type CutoffKind = "token" | "feature" | "span";

/** The cutoff kinds. */
export const CUTOFF_KINDS: readonly CutoffKind[] = Object.freeze(["token", "feature", "span"] as CutoffKind[]);

/** Options of a pass with cutoff (Shen et al. 2020): kind, rate and the seed of its masks. */
export interface CutoffOptions {
  /** Which entries of the token embeddings are zeroed. */
  kind: CutoffKind;
  /**
   * In [0, 1): "token", each real word's embedding zeroed with this
   * probability; "feature", each dimension zeroed (at every position of the
   * sentence) with this probability; "span", a run of
   * max(1, round(rate * length)) words (none at rate 0). 0 changes nothing.
   */
  rate: number;
  /** Integer seed: the same seed (and shapes, lengths) gives the same mask. */
  seed: number;
}

/** Checks a cutoff option. */
function checkCutoff(fn: string, arg: string, cutoff: unknown): asserts cutoff is CutoffOptions {
  if (cutoff === null || typeof cutoff !== "object") throw new Error(`${fn}: ${arg} must be an object {kind, rate, seed}, got ${describe(cutoff)}`);
  const { kind, rate, seed } = cutoff as CutoffOptions;
  if (!CUTOFF_KINDS.includes(kind)) throw new Error(`${fn}: ${arg}.kind must be one of "token", "feature", "span", got ${describe(kind)}`);
  if (typeof rate !== "number" || !(rate >= 0 && rate < 1)) throw new Error(`${fn}: ${arg}.rate must be a number in [0, 1), got ${describe(rate)}`);
  checkInteger(fn, `${arg}.seed`, seed);
}

/**
 * The keep-mask of a cutoff pass: 1 keep, 0 cut, drawn in JS from
 * `createRng(cutoff.seed)`, sequence by sequence, so it is the same on
 * every backend. Only a sequence's first `lengths[b]` positions (all
 * `time` when omitted) are ever cut; padding is left at 1, as it is masked
 * out of attention and pooling anyway.
 *
 * - "token": each real position's whole `[dim]` row is 0 with probability `rate`.
 * - "feature": each of the `dim` dimensions is 0 with probability `rate`, at
 *   every real position of the sequence.
 * - "span": positions [start, start + n) are 0, n = max(1, round(rate * length))
 *   (0 at rate 0), start uniform in [0, length - n].
 *
 * Shapes: -> `[batch * time * dim]` float32, row-major `[batch, time, dim]`.
 *
 * @example
 * const mask = cutoffMask(2, 5, 8, [5, 3], { kind: "span", rate: 0.4, seed: 1 });
 */
export function cutoffMask(batch: number, time: number, dim: number, lengths: ArrayLike<number> | undefined, cutoff: CutoffOptions): Float32Array {
  const fn = "cutoffMask";
  checkPositiveInteger(fn, "batch", batch);
  checkPositiveInteger(fn, "time", time);
  checkPositiveInteger(fn, "dim", dim);
  if (lengths !== undefined) checkLengths(fn, "lengths", lengths as number[], batch, time);
  checkCutoff(fn, "cutoff", cutoff);
  const { kind, rate } = cutoff;
  const rng = createRng(cutoff.seed);
  const mask = new Float32Array(batch * time * dim).fill(1);
  for (let b = 0; b < batch; b++) {
    const length = lengths === undefined ? time : lengths[b];
    const cutRow = (t: number) => mask.fill(0, (b * time + t) * dim, (b * time + t + 1) * dim);
    if (kind === "token") {
      for (let t = 0; t < length; t++) if (rng.next() < rate) cutRow(t);
    } else if (kind === "feature") {
      for (let k = 0; k < dim; k++) {
        if (!(rng.next() < rate)) continue;
        for (let t = 0; t < length; t++) mask[(b * time + t) * dim + k] = 0;
      }
    } else {
      const n = rate === 0 ? 0 : Math.min(length, Math.max(1, Math.round(rate * length)));
      const start = rng.int(length - n + 1);
      for (let t = start; t < start + n; t++) cutRow(t);
    }
  }
  return mask;
}

/** Options of {@link Transformer.apply}. */
export interface TransformerApplyOptions {
  /**
   * Real length of each sequence (`[batch]`, each in [1, time]); later
   * positions are padding, and no position attends to them. Their own
   * outputs are computed but meaningless: leave them out of losses.
   */
  padding?: number[] | Int32Array;
  /**
   * A training pass: drop units at the model's `dropout` rate with masks
   * from this seed; default none (inference, deterministic). With rate 0
   * it changes nothing.
   */
  dropout?: TransformerDropoutOptions;
  /** Cutoff of the token embeddings (see {@link cutoffMask}); default none. */
  cutoff?: CutoffOptions;
}

/** Options of {@link Transformer.pooled}. */
export interface TransformerPooledOptions {
  /** As in {@link TransformerApplyOptions.dropout}. */
  dropout?: TransformerDropoutOptions;
  /** As in {@link TransformerApplyOptions.cutoff}. */
  cutoff?: CutoffOptions;
}

/** What {@link Transformer.apply} returns. */
export interface TransformerOutput {
  /** The final LN's output `[batch, time, dim]`: features for probes. */
  hidden: tf.Tensor3D;
  /** Next-token (causal) or token (bidirectional) logits `[batch, time, vocabSize]`. */
  logits: tf.Tensor3D;
}

/** A transformer language model: its variables and what it computes. */
export interface Transformer {
  /** Number of token ids. */
  readonly vocabSize: number;
  /** Longest sequence `apply` takes. */
  readonly maxLength: number;
  /** Model width. */
  readonly dim: number;
  /** Attention heads per block. */
  readonly heads: number;
  /** Number of blocks. */
  readonly layers: number;
  /** Whether each position sees only itself and earlier ones. */
  readonly causal: boolean;
  /** Dropout rate of training passes (those given a dropout seed); 0: none. */
  readonly dropout: number;
  /** Token embedding E `[vocabSize, dim]`, N(0, 0.02^2); also the output layer (tied). */
  readonly tokenEmbedding: tf.Variable;
  /** Learned positional embedding `[maxLength, dim]`, N(0, 0.02^2). */
  readonly positionEmbedding: tf.Variable;
  /** The blocks, in order. */
  readonly blocks: readonly TransformerBlock[];
  /** LN after the last block. */
  readonly finalNorm: LayerNorm;
  /** Bias of the output layer `[vocabSize]`, zeros. */
  readonly outputBias: tf.Variable;
  /** Every variable, for `training.train({ trainable })`. */
  readonly trainable: tf.Variable[];
  /**
   * hidden = finalNorm(blocks(E[tokens] * cutoffMask + P[0..time))), logits = hidden E^T + outputBias;
   * with `options.dropout`, dropout as described in the module comment; the
   * cutoff mask is all ones unless `options.cutoff` is given.
   * Shapes: `tokens` `[batch, time]` int32 in [0, vocabSize), time <= maxLength ->
   * `{ hidden [batch, time, dim], logits [batch, time, vocabSize] }`.
   */
  apply(tokens: tf.Tensor2D, options?: TransformerApplyOptions): TransformerOutput;
  /**
   * The mean of `hidden` over each sequence's first `lengths[b]` positions
   * (all `time` when omitted; padding also masked in attention): one
   * feature vector per sequence for a linear probe, or, with
   * `options.dropout`, a training pass's sentence embedding (SimCSE).
   * Shapes: `tokens` `[batch, time]` int32, `lengths` `[batch]` -> `[batch, dim]`.
   */
  pooled(tokens: tf.Tensor2D, lengths?: number[] | Int32Array, options?: TransformerPooledOptions): tf.Tensor2D;
  /** Frees every variable. */
  dispose(): void;
}

/** A `[rows, cols]` variable of N(0, std^2) entries drawn from `rng`. */
function normalVariable(rng: ReturnType<typeof createRng>, rows: number, cols: number, std: number): tf.Variable {
  const values = Float32Array.from({ length: rows * cols }, () => rng.normal() * std);
  return tf.tidy(() => tf.variable(tf.tensor2d(values, [rows, cols])));
}

/**
 * Builds a GPT-style (`causal: true`) or BERT-style (`causal: false`)
 * transformer: token embedding plus learned positional embedding, `layers`
 * pre-norm blocks, a final LN and a language-model head.
 *
 * The head is tied to the token embedding (logits = hidden E^T + b), as in
 * GPT, GPT-2 and BERT (Press & Wolf 2017): it saves vocabSize * dim
 * weights, most of a small model, and every word's input vector also learns
 * from each prediction of that word, which helps the many rare words of a
 * small corpus such as Brown. The bias lets the head learn word frequencies
 * without bending E.
 *
 * Embeddings start at N(0, 0.02^2) (BERT's initialiser range; GPT-2 uses it
 * for tokens), so the tied logits start near 0 and the first loss near log(vocabSize).
 *
 * Shapes: tokens `[batch, time]` -> hidden `[batch, time, dim]`, logits `[batch, time, vocabSize]`.
 *
 * @example
 * const gpt = createTransformer({ vocabSize: 5000, maxLength: 32, dim: 64, heads: 4, layers: 2, causal: true, seed: 1 });
 * const { logits } = gpt.apply(tokens); // logits[:, t] predicts tokens[:, t + 1]
 * const bert = createTransformer({ vocabSize: 5000, maxLength: 32, dim: 64, heads: 4, layers: 2, causal: false, dropout: 0.1 });
 * const view = bert.pooled(tokens, lengths, { dropout: { seed: ctx.seed } }); // a training pass, [batch, 64]
 */
export function createTransformer(options: TransformerOptions): Transformer {
  const fn = "createTransformer";
  checkOptions(fn, options, "{vocabSize, maxLength, dim, heads, layers, causal, mlpRatio?, seed?, dropout?}");
  const { vocabSize, maxLength, dim, heads, layers, causal, mlpRatio = 4, seed = 0, dropout = 0 } = options;
  checkPositiveInteger(fn, "options.vocabSize", vocabSize);
  checkPositiveInteger(fn, "options.maxLength", maxLength);
  checkWidths(fn, dim, heads, mlpRatio);
  checkNonNegativeInteger(fn, "options.layers", layers);
  if (typeof causal !== "boolean") throw new Error(`${fn}: options.causal must be true or false, got ${describe(causal)}`);
  checkInteger(fn, "options.seed", seed);
  if (typeof dropout !== "number" || !(dropout >= 0 && dropout < 1)) throw new Error(`${fn}: options.dropout must be a number in [0, 1), got ${describe(dropout)}`);
  const rng = createRng(seed);
  const tokenEmbedding = normalVariable(rng, vocabSize, dim, 0.02);
  const positionEmbedding = normalVariable(rng, maxLength, dim, 0.02);
  const blocks = Array.from({ length: layers }, () => createTransformerBlock({ dim, heads, mlpRatio, seed: rng.fork() }));
  const finalNorm = createLayerNorm({ dim });
  const outputBias = tf.tidy(() => tf.variable(tf.zeros([vocabSize])));

  const checkTokens = (method: string, tokens: tf.Tensor2D): void => {
    checkRank(method, "tokens", tokens, 2, "int32");
    const [batch, time] = tokens.shape;
    if (batch < 1 || time < 1 || time > maxLength) {
      throw new Error(`${method}: tokens must be an int32 tensor of shape [batch,time] with batch >= 1 and 1 <= time <= ${maxLength}, got ${describe(tokens)}`);
    }
    // A small synchronous read: an id out of range would otherwise gather garbage or zeros on some backends.
    const ids = tokens.dataSync();
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= vocabSize) {
        throw new Error(`${method}: tokens must hold ids in [0, ${vocabSize}), got ${ids[i]} at [${Math.floor(i / time)},${i % time}]`);
      }
    }
  };

  const checkDropoutSeed = (method: string, arg: string, value: unknown): void => {
    if (value === undefined) return;
    if (value === null || typeof value !== "object") throw new Error(`${method}: ${arg} must be an object {seed}, got ${describe(value)}`);
    checkInteger(method, `${arg}.seed`, (value as TransformerDropoutOptions).seed);
  };

  /** The final LN's output, unchecked; call inside tidy. */
  const hiddenOf = (tokens: tf.Tensor2D, lengths: number[] | Int32Array | undefined, drop: TransformerDropoutOptions | undefined, cutoff: CutoffOptions | undefined): tf.Tensor3D => {
    const [batch, time] = tokens.shape;
    let tokenVectors = tf.reshape(tf.gather(tokenEmbedding, tf.reshape(tokens, [-1])), [batch, time, dim]);
    if (cutoff !== undefined && cutoff.rate > 0) tokenVectors = tf.mul(tokenVectors, tf.tensor3d(cutoffMask(batch, time, dim, lengths, cutoff), [batch, time, dim]));
    let x = tf.add(tokenVectors, tf.slice(positionEmbedding, [0, 0], [time, dim])) as tf.Tensor3D;
    // One seed per site: the embeddings first, then one per block (which forks its own three).
    const seeds = drop === undefined || dropout === 0 ? undefined : createRng(drop.seed);
    if (seeds !== undefined) x = seededDropout(x, { rate: dropout, seed: seeds.fork() }) as tf.Tensor3D;
    const masks: tf.Tensor[] = [];
    if (causal) masks.push(causalMask(time));
    if (lengths !== undefined) masks.push(paddingMask(lengths, time));
    // Causal [time, time] + padding [batch, 1, 1, time] = [batch, 1, time, time], a shape attention accepts.
    const mask = masks.length === 0 ? undefined : masks.length === 1 ? masks[0] : tf.add(masks[0], masks[1]);
    for (const block of blocks) x = block.apply(x, seeds === undefined ? { mask } : { mask, dropout: { rate: dropout, seed: seeds.fork() } });
    return finalNorm.apply(x) as tf.Tensor3D;
  };

  const model: Transformer = {
    vocabSize,
    maxLength,
    dim,
    heads,
    layers,
    causal,
    dropout,
    tokenEmbedding,
    positionEmbedding,
    blocks,
    finalNorm,
    outputBias,
    trainable: [tokenEmbedding, positionEmbedding, ...blocks.flatMap((b) => b.trainable), ...finalNorm.trainable, outputBias],
    apply(tokens: tf.Tensor2D, opts: TransformerApplyOptions = {}): TransformerOutput {
      const method = "Transformer.apply";
      checkTokens(method, tokens);
      if (opts.padding !== undefined) checkLengths(method, "options.padding", opts.padding, tokens.shape[0], tokens.shape[1]);
      checkDropoutSeed(method, "options.dropout", opts.dropout);
      if (opts.cutoff !== undefined) checkCutoff(method, "options.cutoff", opts.cutoff);
      return tf.tidy(() => {
        const hidden = hiddenOf(tokens, opts.padding, opts.dropout, opts.cutoff);
        const [batch, time] = tokens.shape;
        const flat = tf.reshape(hidden, [batch * time, dim]) as tf.Tensor2D;
        const logits = tf.add(tf.matMul(flat, tokenEmbedding as tf.Tensor2D, false, true), outputBias);
        return { hidden, logits: tf.reshape(logits, [batch, time, vocabSize]) as tf.Tensor3D };
      });
    },
    pooled(tokens: tf.Tensor2D, lengths?: number[] | Int32Array, opts: TransformerPooledOptions = {}): tf.Tensor2D {
      const method = "Transformer.pooled";
      checkTokens(method, tokens);
      const [batch, time] = tokens.shape;
      if (lengths !== undefined) checkLengths(method, "lengths", lengths, batch, time);
      if (opts === null || typeof opts !== "object") throw new Error(`${method}: options must be an object {dropout?, cutoff?}, got ${describe(opts)}`);
      checkDropoutSeed(method, "options.dropout", opts.dropout);
      if (opts.cutoff !== undefined) checkCutoff(method, "options.cutoff", opts.cutoff);
      return tf.tidy(() => {
        const hidden = hiddenOf(tokens, lengths, opts.dropout, opts.cutoff);
        // weight[b, t] = 1 / lengths[b] on real positions, 0 on padding.
        const weights = new Float32Array(batch * time);
        for (let b = 0; b < batch; b++) {
          const n = lengths === undefined ? time : lengths[b];
          weights.fill(1 / n, b * time, b * time + n);
        }
        return tf.sum(tf.mul(hidden, tf.tensor3d(weights, [batch, time, 1])), 1) as tf.Tensor2D;
      });
    },
    dispose: () => {
      blocks.forEach((b) => b.dispose());
      finalNorm.dispose();
      tf.dispose([tokenEmbedding, positionEmbedding, outputBias]);
    },
  };
  return model;
}
