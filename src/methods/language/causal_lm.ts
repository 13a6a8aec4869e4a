/**
 * A GPT-style causal language model (Radford, Narasimhan, Salimans,
 * Sutskever 2018, "Improving Language Understanding by Generative
 * Pre-Training"; Radford et al. 2019, GPT-2): the tutorial's "autoregressive
 * generation". A decoder-only transformer reads a text left to right and
 * predicts each next token from the ones before it; by the chain rule
 * p(x) = prod_t p(x_t | x_<t), so the mean next-token cross-entropy is the
 * exact negative log-likelihood per token, reported as bits per character.
 *
 * Training (createCausalLm), held-out evaluation (evaluateCausalLm) and
 * sampling (sampleCausalLm) of the same `models.createTransformer` model.
 */
import { tf } from "../../backend/tf";
import { createRng } from "../../data/random";
import { rowLogSumExp } from "../../losses/ops/log_sum_exp";
import { createTransformer, type Transformer } from "../../models/transformer";
import {
  checkFiniteNumber,
  checkInteger,
  checkIntegerInRange,
  checkNonNegativeInteger,
  checkNonNegativeNumber,
  checkOptions,
  checkPositiveInteger,
  checkRank,
  describe,
} from "../../validation/arguments";
import type { Method } from "../method";

/**
 * A batch of the causal LM: int32 windows `[batch, time + 1]` of token ids,
 * exactly what `data.charBlocks(...).batches()` yields. Columns 0..time-1 are
 * the inputs, columns 1..time the targets, so one window trains `time`
 * predictions; time + 1 >= 2 and time <= the model's maxLength.
 */
export type CausalLmBatch = tf.Tensor2D;

/**
 * The negative log-likelihood of each next token, in nats:
 * nll[b, t] = -log softmax(logits[b, t])[targets[b, t]]
 *           = logsumexp(logits[b, t]) - logits[b, t, targets[b, t]].
 * The log-sum-exp is max-shifted and its gradient is the softmax.
 *
 * Shapes: `logits` `[batch, time, vocab]` float32, `targets` `[batch, time]`
 * int32 ids in [0, vocab) (not read back, so not checked) -> `[batch, time]`.
 *
 * @example
 * const { logits } = gpt.apply(tf.slice(windows, [0, 0], [b, time]));
 * const nll = nextTokenNll(logits, tf.slice(windows, [0, 1], [b, time])); // [b, time]
 */
export function nextTokenNll(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Tensor2D {
  const fn = "nextTokenNll";
  checkRank(fn, "logits", logits, 3, "float32");
  const [batch, time, vocab] = logits.shape;
  if (!(targets instanceof tf.Tensor) || targets.dtype !== "int32" || targets.rank !== 2 || targets.shape[0] !== batch || targets.shape[1] !== time) {
    throw new Error(`${fn}: targets must be an int32 tensor of shape [${batch},${time}] like logits' [batch,time], got ${typedDescription(targets)}`);
  }
  return tf.tidy(() => {
    const flat = tf.reshape(logits, [batch * time, vocab]) as tf.Tensor2D;
    const picked = tf.sum(tf.mul(flat, tf.oneHot(tf.reshape(targets, [-1]), vocab)), 1);
    return tf.reshape(tf.sub(rowLogSumExp(flat), picked), [batch, time]) as tf.Tensor2D;
  });
}

/** The sizes of a transformer {@link createCausalLm} builds itself. */
export interface CausalLmModelOptions {
  /** Number of token ids (`vocab.size`). */
  vocabSize: number;
  /** Context: the longest input the model reads (`time` of a batch); its maxLength. */
  context: number;
  /** Model width. */
  dim: number;
  /** Attention heads per block; must divide `dim`. */
  heads: number;
  /** Number of blocks. */
  layers: number;
  /** MLP width as a multiple of `dim`; default 4. */
  mlpRatio?: number;
  /** Seed of the weights; default 0. */
  seed?: number;
}

/** Options of {@link createCausalLm}: a causal transformer to train, or the sizes of one to build. */
/** Options every {@link createCausalLm} call may add. */
export interface CausalLmCommonOptions {
  /** Method name for labels and tables; default "causal LM". */
  name?: string;
  /**
   * The per-position loss, `[batch, time, vocab]` logits and `[batch, time]`
   * int32 targets -> `[batch, time]` nats; default {@link nextTokenNll}. A
   * course exercise passes the student's own.
   */
  nextTokenNll?: (logits: tf.Tensor3D, targets: tf.Tensor2D) => tf.Tensor2D;
}

export type CausalLmOptions =
  | ({ transformer: Transformer } & CausalLmCommonOptions)
  | (CausalLmModelOptions & { transformer?: undefined } & CausalLmCommonOptions);

/** The causal LM as a {@link Method}: batches are windows `[batch, time + 1]` (see {@link CausalLmBatch}). */
export interface CausalLmMethod extends Method<CausalLmBatch> {
  /** The model being trained: the one passed in, or the one built (then freed by `dispose`). */
  readonly transformer: Transformer;
}

/**
 * Next-token prediction with a causal transformer, for `training.train`.
 * The loss of a batch of windows w `[batch, time + 1]` is the mean over all
 * batch * time positions of -log p(w[:, t + 1] | w[:, 0..t]), in nats
 * (`nextTokenNll` of the transformer's logits on w[:, 0..time-1] against
 * w[:, 1..time]); metric `bitsPerChar` = loss / ln 2.
 *
 * Pass `transformer` (from `models.createTransformer({ ..., causal: true })`)
 * to keep the model after training, for `evaluateCausalLm` and
 * `sampleCausalLm`: `dispose()` then frees nothing. Given sizes instead, the
 * method builds its own transformer, reachable as `method.transformer`, and
 * `dispose()` frees it. A bidirectional transformer is refused: every
 * position would see the token it is asked to predict.
 *
 * Shapes: batch `[batch, time + 1]` int32 -> scalar loss (nats per character).
 *
 * @example
 * const gpt = models.createTransformer({ vocabSize: vocab.size, maxLength: 64, dim: 64, heads: 4, layers: 2, causal: true, seed: 1 });
 * const lm = createCausalLm({ transformer: gpt });
 * const blocks = data.charBlocks(train, { length: 64, batchSize: 32, seed: 1 });
 * await training.train({ ...lm, optimizer: training.adam(3e-3), batches: blocks.batches, steps: 300 });
 * evaluateCausalLm(gpt, heldOut); // bits per character
 */
export function createCausalLm(options: CausalLmOptions): CausalLmMethod {
  const fn = "createCausalLm";
  checkOptions(fn, options, "{transformer} or {vocabSize, context, dim, heads, layers, mlpRatio?, seed?}");
  const name = options.name ?? "causal LM";
  const perPosition = options.nextTokenNll ?? nextTokenNll;
  if (typeof perPosition !== "function") throw new Error(`${fn}: options.nextTokenNll must be a function (logits, targets) => [batch, time] nats, got ${describe(perPosition)}`);
  if (typeof name !== "string" || name.length === 0) throw new Error(`${fn}: options.name must be a non-empty string, got ${describe(name)}`);
  let transformer: Transformer;
  let owned: boolean;
  if (options.transformer !== undefined) {
    const sizes = ["vocabSize", "context", "dim", "heads", "layers", "mlpRatio", "seed"].filter((k) => (options as unknown as Record<string, unknown>)[k] !== undefined);
    if (sizes.length > 0) throw new Error(`${fn}: options must hold either transformer or model sizes, not both, got transformer and ${sizes.join(", ")}`);
    checkCausalTransformer(fn, "options.transformer", options.transformer);
    transformer = options.transformer;
    owned = false;
  } else {
    const { vocabSize, context, dim, heads, layers, mlpRatio, seed } = options as CausalLmModelOptions;
    checkPositiveInteger(fn, "options.vocabSize", vocabSize);
    checkPositiveInteger(fn, "options.context", context);
    checkPositiveInteger(fn, "options.dim", dim);
    checkPositiveInteger(fn, "options.heads", heads);
    checkNonNegativeInteger(fn, "options.layers", layers);
    transformer = createTransformer({ vocabSize, maxLength: context, dim, heads, layers, mlpRatio, seed, causal: true });
    owned = true;
  }
  const where = "CausalLm.loss";
  return {
    name,
    transformer,
    trainable: transformer.trainable,
    loss(batch: CausalLmBatch) {
      checkWindows(where, "batch", batch, transformer.maxLength, transformer.vocabSize);
      const [rows, width] = batch.shape;
      const time = width - 1;
      const { logits } = transformer.apply(tf.slice(batch, [0, 0], [rows, time]));
      const nll = perPosition(logits, tf.slice(batch, [0, 1], [rows, time]));
      if (!(nll instanceof tf.Tensor) || nll.rank !== 2 || nll.shape[0] !== rows || nll.shape[1] !== time) {
        throw new Error(`${where}: options.nextTokenNll must return [${rows},${time}] nats per position, got ${describe(nll)}`);
      }
      const loss = tf.mean(nll) as tf.Scalar;
      return { loss, metrics: { bitsPerChar: tf.div(loss, Math.LN2) as tf.Scalar } };
    },
    dispose() {
      // A transformer passed in is the caller's, kept for evaluation and sampling.
      if (owned) transformer.dispose();
    },
  };
}

/** A value as an error message prints it, a tensor with its dtype: `an int32 tensor of shape [2,3]`. */
function typedDescription(value: unknown): string {
  if (!(value instanceof tf.Tensor)) return describe(value);
  return `${value.dtype === "int32" ? "an" : "a"} ${value.dtype} tensor of shape [${value.shape.join(",")}]`;
}

/** Checks `value` is a Transformer with `causal: true`. */
function checkCausalTransformer(fn: string, arg: string, value: unknown): asserts value is Transformer {
  const t = value as Transformer;
  if (t === null || typeof t !== "object" || typeof t.apply !== "function" || !Array.isArray(t.trainable) || !Number.isInteger(t.maxLength)) {
    throw new Error(`${fn}: ${arg} must be a Transformer from models.createTransformer, got ${describe(value)}`);
  }
  if (t.causal !== true) {
    throw new Error(`${fn}: ${arg} must be causal (createTransformer({ causal: true })): a bidirectional model sees the tokens it predicts, got causal: ${describe(t.causal)}`);
  }
}

/** Checks `batch` is int32 `[batch, time + 1]` with batch >= 1 and 1 <= time <= maxLength, its last column ids in [0, vocabSize). */
function checkWindows(fn: string, arg: string, batch: unknown, maxLength: number, vocabSize: number): asserts batch is tf.Tensor2D {
  const ok = batch instanceof tf.Tensor && batch.rank === 2 && batch.dtype === "int32" && batch.shape[0] >= 1 && batch.shape[1] >= 2 && batch.shape[1] <= maxLength + 1;
  if (!ok) {
    throw new Error(`${fn}: ${arg} must be an int32 tensor of shape [batch,time+1] with batch >= 1 and 1 <= time <= ${maxLength}, got ${typedDescription(batch)}`);
  }
  // The transformer checks the inputs; the last column is only a target, and an
  // id out of range there would one-hot to zeros and silently drop its term.
  const ids = batch.dataSync();
  const width = batch.shape[1];
  for (let i = width - 1; i < ids.length; i += width) {
    if (ids[i] < 0 || ids[i] >= vocabSize) throw new Error(`${fn}: ${arg} must hold ids in [0, ${vocabSize}), got ${ids[i]} at [${(i - width + 1) / width},${width - 1}]`);
  }
}

/** Options of {@link evaluateCausalLm}. */
export interface EvaluateCausalLmOptions {
  /** Windows per forward pass; default 32. */
  batchSize?: number;
  /**
   * New targets per window, in [1, maxLength]; default maxLength: windows
   * side by side, so a window's first target has one id of context and its
   * last maxLength. A smaller stride re-reads maxLength - stride ids of
   * context for each window, so every target has at least that many (up to
   * maxLength / stride times slower).
   */
  stride?: number;
}

/**
 * Bits per character of a causal transformer on held-out encoded documents:
 * -(1 / N) sum log2 p(doc[i] | up to maxLength ids before it), over every id
 * but each document's first (N of them; the first is context, the `<bos>` of
 * `encodeChars(vocab, text, { bos: true })`), the ids `ngramBitsPerChar`
 * scores. Each target is predicted once, in a window of at most maxLength ids
 * of the same document: windows take `stride` new targets each, and read
 * back as far as the context allows (so a document's short last window also
 * rereads ids of the one before). Windows of all documents go through the
 * model `batchSize` at a time, shorter ones padded at the end (a causal
 * model's earlier positions never see the padding, and padded positions are
 * not scored). Sums are in float64.
 *
 * Shapes: `docs` `[characters]` int32 each -> a number (bits).
 *
 * @example
 * const heldOut = splitDocuments(docs, { heldOut: 0.1, seed: 1 }).heldOut;
 * evaluateCausalLm(gpt, heldOut, { batchSize: 64 }); // 3.23 on Brown after 300 steps of the model above (bigram 3.46)
 */
export function evaluateCausalLm(transformer: Transformer, docs: Int32Array[], options: EvaluateCausalLmOptions = {}): number {
  const fn = "evaluateCausalLm";
  checkCausalTransformer(fn, "transformer", transformer);
  checkOptions(fn, options, "{batchSize?, stride?}");
  const context = transformer.maxLength;
  const { batchSize = 32, stride = context } = options;
  checkPositiveInteger(fn, "options.batchSize", batchSize);
  checkIntegerInRange(fn, "options.stride", stride, 1, context);
  if (!Array.isArray(docs)) throw new Error(`${fn}: docs must be an array of Int32Arrays, got ${describe(docs)}`);
  // A window: inputs doc[start, end), targets doc[start + 1, end + 1); only the last `scored` are counted.
  const windows: Array<{ doc: Int32Array; start: number; end: number; scored: number }> = [];
  docs.forEach((doc, d) => {
    if (!(doc instanceof Int32Array)) throw new Error(`${fn}: docs[${d}] must be an Int32Array, got ${describe(doc)}`);
    for (let i = 0; i < doc.length; i++) {
      if (doc[i] < 0 || doc[i] >= transformer.vocabSize) checkIntegerInRange(fn, `docs[${d}][${i}]`, doc[i], 0, transformer.vocabSize, { maxExclusive: true });
    }
    // Targets at positions [a, b) need the inputs at [a - 1, b - 1); a window reads up to `context` of them.
    for (let a = 1; a < doc.length; a += stride) {
      const b = Math.min(a + stride, doc.length);
      windows.push({ doc, start: Math.max(0, b - 1 - context), end: b - 1, scored: b - a });
    }
  });
  if (windows.length === 0) throw new Error(`${fn}: docs must hold at least one document of 2 or more ids, got ${docs.length} documents and no id to score`);
  let nats = 0;
  let count = 0;
  for (let first = 0; first < windows.length; first += batchSize) {
    const group = windows.slice(first, first + batchSize);
    const width = Math.max(...group.map((w) => w.end - w.start));
    const inputs = new Int32Array(group.length * width);
    const targets = new Int32Array(group.length * width);
    const weights = new Float32Array(group.length * width);
    group.forEach((w, r) => {
      const length = w.end - w.start;
      inputs.set(w.doc.subarray(w.start, w.end), r * width);
      targets.set(w.doc.subarray(w.start + 1, w.end + 1), r * width);
      weights.fill(1, r * width + length - w.scored, r * width + length);
      count += w.scored;
    });
    const sum = tf.tidy(() => {
      const { logits } = transformer.apply(tf.tensor2d(inputs, [group.length, width], "int32"));
      const nll = nextTokenNll(logits, tf.tensor2d(targets, [group.length, width], "int32"));
      return tf.sum(tf.mul(nll, tf.tensor2d(weights, [group.length, width])));
    });
    nats += sum.dataSync()[0];
    sum.dispose();
  }
  return nats / count / Math.LN2;
}

/** Options of {@link sampleCausalLm}. */
export interface SampleCausalLmOptions {
  /** Number of ids to generate. */
  length: number;
  /**
   * Divides the logits before the softmax; default 1 (the model's own
   * distribution). Below 1 sharpens it towards the most likely id, above 1
   * flattens it; 0 takes the most likely id every time (greedy; ties to the lower id).
   */
  temperature?: number;
  /** Seed of the draws; the same seed, prompt and model give the same ids. */
  seed: number;
}

/**
 * Generates text from a causal transformer one id at a time: each step
 * reads the last maxLength ids (prompt and generated so far: the window
 * slides once the text is longer than the context), takes the logits l of
 * the next id and draws it from softmax(l / temperature) with a seeded JS
 * generator (inverse CDF in float64), so a seed gives the same ids on every
 * backend up to float rounding. Temperature 0 is greedy decoding, and a tiny
 * temperature (1e-6) gives the same ids.
 *
 * One forward pass per generated id, each of up to maxLength positions.
 *
 * Shapes: `prompt` `[promptLength >= 1]` ids -> `[length]` int32, the
 * generated ids only (decode `[...prompt, ...ids]` for the whole text).
 *
 * @example
 * const prompt = encodeChars(vocab, "The jury said", { bos: true });
 * const ids = sampleCausalLm(gpt, prompt, { length: 200, temperature: 0.8, seed: 1 });
 * decodeChars(vocab, ids);
 */
export function sampleCausalLm(transformer: Transformer, prompt: ArrayLike<number>, options: SampleCausalLmOptions): Int32Array {
  const fn = "sampleCausalLm";
  checkCausalTransformer(fn, "transformer", transformer);
  const vocab = transformer.vocabSize;
  if (prompt === null || typeof prompt !== "object" || typeof (prompt as ArrayLike<number>).length !== "number" || prompt.length < 1) {
    throw new Error(`${fn}: prompt must be a non-empty array of ids (start from [vocab.bosId] for no prompt), got ${describe(prompt)}`);
  }
  for (let i = 0; i < prompt.length; i++) checkIntegerInRange(fn, `prompt[${i}]`, prompt[i], 0, vocab, { maxExclusive: true });
  checkOptions(fn, options, "{length, temperature?, seed}");
  const { length, temperature = 1, seed } = options;
  checkPositiveInteger(fn, "options.length", length);
  checkFiniteNumber(fn, "options.temperature", temperature);
  checkNonNegativeNumber(fn, "options.temperature", temperature);
  checkInteger(fn, "options.seed", seed);
  const rng = createRng(seed);
  const text = Int32Array.from({ length: prompt.length + length }, (_, i) => (i < prompt.length ? prompt[i] : 0));
  for (let end = prompt.length; end < text.length; end++) {
    const start = Math.max(0, end - transformer.maxLength);
    const last = tf.tidy(() => {
      const { logits } = transformer.apply(tf.tensor2d(text.subarray(start, end), [1, end - start], "int32"));
      return tf.slice(logits, [0, end - start - 1, 0], [1, 1, vocab]);
    });
    const l = last.dataSync();
    last.dispose();
    text[end] = temperature === 0 ? argmax(l) : drawScaled(l, temperature, rng.next());
  }
  return text.slice(prompt.length);
}

/** The index of the largest value, the first of equal ones. */
function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** The id whose cumulative softmax(logits / temperature) first exceeds `u` in [0, 1). */
function drawScaled(logits: ArrayLike<number>, temperature: number, u: number): number {
  const top = logits[argmax(logits)];
  // Shifted by the max so the largest weight is exp(0) = 1: no overflow, and tiny temperatures leave only the max.
  const weights = Array.from(logits, (l) => Math.exp((l - top) / temperature));
  const total = weights.reduce((s, w) => s + w, 0);
  let cumulative = 0;
  for (let i = 0; i < weights.length; i++) {
    cumulative += weights[i] / total;
    if (u < cumulative) return i;
  }
  // Rounding can leave the sum a hair below 1: u then belongs to the last id with weight.
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i;
  return argmax(logits);
}
