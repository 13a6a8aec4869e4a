/**
 * BERT's masked-token corruption: the input side of a masked language model.
 *
 * Devlin, Chang, Lee, Toutanova (2019), "BERT: Pre-training of Deep
 * Bidirectional Transformers for Language Understanding", NAACL, section 3.1
 * and appendix A.1: 15% of the positions are chosen; a chosen token becomes
 * the mask token 80% of the time, a random token 10% of the time, and stays
 * as it is 10% of the time; the model predicts the original token at every
 * chosen position. The random and unchanged tokens keep the model from
 * learning that only masked positions matter, since fine-tuning never shows
 * the mask token.
 */
import { tf } from "../backend/tf";
import { createRng } from "./random";
import { checkInteger, checkIntegerInRange, checkMatrix, checkOptions, checkPositiveInteger, checkProbability, describe } from "../validation/arguments";

/** Options of {@link bertMask}. */
export interface BertMaskOptions {
  /** Id that replaces 80% of the chosen tokens (`<mask>`); it must not occur in `tokens`. */
  maskToken: number;
  /** Number of ids; tokens and replacements lie in `0..vocabSize-1`. */
  vocabSize: number;
  /** Fraction of the eligible positions of each row to choose; default 0.15. */
  rate?: number;
  /** Seed of the choice and of the replacements. */
  seed: number;
  /** Ids never chosen and never drawn as a random replacement (padding, `<bos>`); default none. */
  special?: readonly number[];
}

/** What {@link bertMask} returns: a masked-language-model batch. */
export interface BertMaskBatch {
  /** `[batch, time]` int32: the corrupted tokens the model reads. */
  inputs: tf.Tensor2D;
  /** `[batch, time]` int32: the original tokens, everywhere; the loss reads them where `weights` is 1. */
  targets: tf.Tensor2D;
  /** `[batch, time]` float32: 1 at the chosen positions, 0 elsewhere. */
  weights: tf.Tensor2D;
}

/**
 * BERT's corruption of a batch of token rows. In each row, of the positions
 * whose token is not `special`, `max(1, round(rate * eligible))` are chosen
 * uniformly without replacement (as BERT's data pipeline does: an exact count
 * per sequence, at least one); each chosen token is then, independently,
 * replaced by `maskToken` with probability 0.8, by a token drawn uniformly
 * from the ids that are neither special nor `maskToken` with probability 0.1
 * (which may draw the original token, as in BERT), and kept with
 * probability 0.1. A row with no eligible position, or `rate` 0, gets none.
 *
 * Shapes: `tokens` `[batch, time]` int32 tensor or `batch` Int32Arrays of one
 * length `time` -> {@link BertMaskBatch}, each `[batch, time]`.
 *
 * @example
 * const { inputs, targets, weights } = bertMask(rows, { maskToken: vocab.maskId, vocabSize: vocab.size, seed: step, special: [vocab.padId] });
 * const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(targets, vocab.size), logits(inputs), weights); // mean over the chosen positions
 */
export function bertMask(tokens: readonly Int32Array[] | tf.Tensor2D, options: BertMaskOptions): BertMaskBatch {
  const fn = "bertMask";
  checkOptions(fn, options, "{maskToken, vocabSize, seed, rate?, special?}");
  const { maskToken, vocabSize, seed, rate = 0.15, special = [] } = options;
  checkPositiveInteger(fn, "options.vocabSize", vocabSize);
  checkIntegerInRange(fn, "options.maskToken", maskToken, 0, vocabSize, { maxExclusive: true });
  checkProbability(fn, "options.rate", rate);
  checkInteger(fn, "options.seed", seed);
  if (!Array.isArray(special)) throw new Error(`${fn}: options.special must be an array of ids, got ${describe(special)}`);
  special.forEach((id, i) => checkIntegerInRange(fn, `options.special[${i}]`, id, 0, vocabSize, { maxExclusive: true }));
  const isSpecial = new Uint8Array(vocabSize);
  for (const id of special) isSpecial[id] = 1;
  const replacements: number[] = [];
  for (let id = 0; id < vocabSize; id++) if (!isSpecial[id] && id !== maskToken) replacements.push(id);
  if (replacements.length === 0) {
    throw new Error(`${fn}: options.vocabSize must leave at least one id that is neither special nor options.maskToken, got ${vocabSize}`);
  }
  const [batch, time, original] = readRows(fn, tokens, vocabSize, maskToken);

  const rng = createRng(seed);
  const inputs = original.slice();
  const weights = new Float32Array(batch * time);
  const eligible = new Int32Array(time);
  for (let b = 0; b < batch; b++) {
    let n = 0;
    for (let t = 0; t < time; t++) if (!isSpecial[original[b * time + t]]) eligible[n++] = b * time + t;
    const count = rate === 0 || n === 0 ? 0 : Math.max(1, Math.round(rate * n));
    // A partial Fisher-Yates shuffle: the first `count` entries become a uniform sample.
    for (let c = 0; c < count; c++) {
      const j = c + rng.int(n - c);
      const at = eligible[j];
      eligible[j] = eligible[c];
      eligible[c] = at;
      weights[at] = 1;
      const u = rng.next();
      if (u < 0.8) inputs[at] = maskToken;
      else if (u < 0.9) inputs[at] = replacements[rng.int(replacements.length)];
    }
  }
  return {
    inputs: tf.tensor2d(inputs, [batch, time], "int32"),
    targets: tf.tensor2d(original, [batch, time], "int32"),
    weights: tf.tensor2d(weights, [batch, time], "float32"),
  };
}

/** `[batch, time, ids]` of the rows, checked: one length, ids in range, no mask token. */
function readRows(fn: string, tokens: readonly Int32Array[] | tf.Tensor2D, vocabSize: number, maskToken: number): [number, number, Int32Array] {
  let batch: number;
  let time: number;
  let ids: Int32Array;
  if (tokens instanceof tf.Tensor) {
    checkMatrix(fn, "tokens", tokens, undefined, undefined, "int32");
    [batch, time] = tokens.shape;
    ids = Int32Array.from(tokens.dataSync());
  } else {
    if (!Array.isArray(tokens)) throw new Error(`${fn}: tokens must be an int32 tensor [batch, time] or an array of Int32Arrays, got ${describe(tokens)}`);
    batch = tokens.length;
    tokens.forEach((row, b) => {
      if (!(row instanceof Int32Array)) throw new Error(`${fn}: tokens[${b}] must be an Int32Array, got ${describe(row)}`);
    });
    time = batch > 0 ? tokens[0].length : 0;
    ids = new Int32Array(batch * time);
    tokens.forEach((row, b) => {
      if (row.length !== time) throw new Error(`${fn}: tokens[${b}] must have length ${time} like tokens[0], got ${describe(row)}`);
      ids.set(row, b * time);
    });
  }
  if (batch < 1 || time < 1) throw new Error(`${fn}: tokens must have at least one row and one position, got ${describe(tokens)}`);
  for (let k = 0; k < ids.length; k++) {
    const at = `tokens[${Math.floor(k / time)}][${k % time}]`;
    checkIntegerInRange(fn, at, ids[k], 0, vocabSize, { maxExclusive: true });
    if (ids[k] === maskToken) throw new Error(`${fn}: ${at} must not be options.maskToken, got ${maskToken}`);
  }
  return [batch, time, ids];
}
