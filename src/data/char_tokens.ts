/**
 * Character-level tokens of the Brown corpus for the small language models
 * of the self-prediction notebook: a GPT-style model predicts the next
 * character (Radford et al. 2018, "Improving Language Understanding by
 * Generative Pre-Training"), a BERT-style one the masked characters
 * (Devlin et al. 2019). Characters keep the vocabulary at about a hundred
 * ids, so the embedding and output layers stay small enough for a CPU.
 *
 * A character is a Unicode code point. Ids 0..3 are special, see
 * {@link CHAR_SPECIALS}; the characters follow by decreasing count.
 */
import { tf } from "../backend/tf";
import { batches, sequentialBatches } from "./batches";
import { brownSentences, type BrownDocument, type BrownTextOptions } from "./brown";
import { createRng } from "./random";
import { checkInteger, checkIntegerInRange, checkNonNegativeInteger, checkNumberInRange, checkOptions, checkPositiveInteger, describe } from "../validation/arguments";

/** The special tokens, at ids 0, 1, 2, 3: padding, a rare or unseen character, BERT's mask, the start of a document. */
export const CHAR_SPECIALS: readonly string[] = Object.freeze(["<pad>", "<unk>", "<mask>", "<bos>"]);

/** A frozen character vocabulary built by {@link buildCharVocab}. */
export interface CharVocab {
  /** Number of ids, the four specials included. */
  readonly size: number;
  /** `[size]` the character of each id; ids 0..3 hold the names of the specials. */
  readonly chars: readonly string[];
  /** `[size]` occurrences of each character in the texts; `counts[unkId]` counts the characters left out, the other specials 0. */
  readonly counts: readonly number[];
  /** Characters the vocabulary was built from (the sum of `counts`). */
  readonly charCount: number;
  /** 0: `<pad>`, fills rows up to a common length. */
  readonly padId: number;
  /** 1: `<unk>`, every character without its own id. */
  readonly unkId: number;
  /** 2: `<mask>`, BERT's mask token. */
  readonly maskId: number;
  /** 3: `<bos>`, put before a document by `encodeChars(..., { bos: true })`. */
  readonly bosId: number;
  /** The id of each character that has one. */
  readonly ids: ReadonlyMap<string, number>;
}

/** Options of {@link buildCharVocab}. */
export interface CharVocabOptions {
  /** Keep characters seen at least this often; rarer ones become `<unk>`. Default 1. */
  minCount?: number;
}

/**
 * Counts the characters of `texts` and assigns ids: 0..3 to the specials,
 * then 4, 5, ... to the characters seen at least `minCount` times, by
 * decreasing count, ties in code-unit order, so the same texts always give
 * the same ids.
 *
 * Shapes: `chars` and `counts` `[size]`.
 *
 * @example
 * const vocab = buildCharVocab(brownCharTexts(loadBrown()), { minCount: 5 });
 * vocab.chars[4]; // " ", the most frequent character
 */
export function buildCharVocab(texts: Iterable<string>, options: CharVocabOptions = {}): CharVocab {
  const fn = "buildCharVocab";
  checkOptions(fn, options, "{minCount?}");
  const { minCount = 1 } = options;
  checkPositiveInteger(fn, "options.minCount", minCount);
  const counts = new Map<string, number>();
  let charCount = 0;
  let index = 0;
  for (const text of texts) {
    if (typeof text !== "string") throw new Error(`${fn}: texts[${index}] must be a string, got ${describe(text)}`);
    for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    charCount += [...text].length;
    index++;
  }
  const kept = [...counts.entries()]
    .filter(([, c]) => c >= minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const keptTotal = kept.reduce((s, [, c]) => s + c, 0);
  const chars = Object.freeze([...CHAR_SPECIALS, ...kept.map(([ch]) => ch)]);
  const charCounts = Object.freeze([0, charCount - keptTotal, 0, 0, ...kept.map(([, c]) => c)]);
  const ids = new Map(kept.map(([ch], i) => [ch, CHAR_SPECIALS.length + i] as const));
  return Object.freeze({ size: chars.length, chars, counts: charCounts, charCount, padId: 0, unkId: 1, maskId: 2, bosId: 3, ids });
}

/**
 * The ids of the characters of `text`, `unkId` for those without an id;
 * with `bos`, `bosId` first.
 *
 * Shapes: -> `[characters (+ 1 with bos)]` int32.
 *
 * @example
 * encodeChars(vocab, "the", { bos: true }); // Int32Array [3, id of "t", id of "h", id of "e"]
 */
export function encodeChars(vocab: CharVocab, text: string, options: { bos?: boolean } = {}): Int32Array {
  checkVocab("encodeChars", vocab);
  if (typeof text !== "string") throw new Error(`encodeChars: text must be a string, got ${describe(text)}`);
  const chars = [...text];
  const offset = options.bos ? 1 : 0;
  const out = new Int32Array(chars.length + offset);
  if (options.bos) out[0] = vocab.bosId;
  for (let i = 0; i < chars.length; i++) out[i + offset] = vocab.ids.get(chars[i]) ?? vocab.unkId;
  return out;
}

/**
 * The text of `ids`. The specials are written as their names (`<unk>`), or
 * left out with `skipSpecial`.
 *
 * @example
 * decodeChars(vocab, encodeChars(vocab, "the")); // "the"
 */
export function decodeChars(vocab: CharVocab, ids: ArrayLike<number>, options: { skipSpecial?: boolean } = {}): string {
  checkVocab("decodeChars", vocab);
  const parts: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    checkIntegerInRange("decodeChars", `ids[${i}]`, ids[i], 0, vocab.size, { maxExclusive: true });
    if (!(options.skipSpecial && ids[i] < CHAR_SPECIALS.length)) parts.push(vocab.chars[ids[i]]);
  }
  return parts.join("");
}

/**
 * One text per Brown document: its sentences' words joined by spaces, the
 * sentences by newlines. Words are as the corpus tokenises them, so
 * punctuation stands apart (`"the jury said `` ... ''"`).
 *
 * @example
 * const texts = brownCharTexts(loadBrown({ genres: ["news"] }), { lowercase: true });
 */
export function brownCharTexts(docs: readonly BrownDocument[], options: BrownTextOptions = {}): string[] {
  return docs.map((doc) => brownSentences([doc], options).map((words) => words.join(" ")).join("\n"));
}

/** What {@link splitDocuments} returns. */
export interface DocumentSplit<T> {
  /** The documents to train on, in input order. */
  train: T[];
  /** The held-out documents, in input order. */
  heldOut: T[];
  /** Indices of `train` in the input. */
  trainIndices: Int32Array;
  /** Indices of `heldOut` in the input. */
  heldOutIndices: Int32Array;
}

/**
 * A train / held-out split by whole documents, so no held-out text shares a
 * document (and its names and topic) with training text: `round(heldOut * n)`
 * documents, chosen by a permutation from `createRng(seed)`, are held out.
 *
 * @example
 * const { train, heldOut } = splitDocuments(encodedDocs, { heldOut: 0.1, seed: 1 }); // 450 and 50 of Brown's 500
 */
export function splitDocuments<T>(docs: readonly T[], options: { heldOut: number; seed: number }): DocumentSplit<T> {
  const fn = "splitDocuments";
  if (!Array.isArray(docs)) throw new Error(`${fn}: docs must be an array, got ${describe(docs)}`);
  checkOptions(fn, options, "{heldOut, seed}");
  checkNumberInRange(fn, "options.heldOut", options.heldOut, 0, 1, { minExclusive: true, maxExclusive: true });
  checkInteger(fn, "options.seed", options.seed);
  const n = docs.length;
  const count = Math.round(options.heldOut * n);
  if (count < 1 || count > n - 1) {
    throw new Error(`${fn}: options.heldOut must leave at least one document on each side of the ${n}, got ${options.heldOut} (${count} held out)`);
  }
  const held = new Uint8Array(n);
  createRng(options.seed).permutation(n).subarray(0, count).forEach((i) => (held[i] = 1));
  const heldOutIndices = Int32Array.from({ length: n }, (_, i) => i).filter((i) => held[i] === 1);
  const trainIndices = Int32Array.from({ length: n }, (_, i) => i).filter((i) => held[i] === 0);
  return { train: Array.from(trainIndices, (i) => docs[i]), heldOut: Array.from(heldOutIndices, (i) => docs[i]), trainIndices, heldOutIndices };
}

/** Options of {@link charBlocks}. */
export interface CharBlockOptions {
  /** Characters the model reads per row; a window holds `length + 1` ids, the last one only a target. */
  length: number;
  /** Windows per batch. */
  batchSize: number;
  /** Seed of the window order; with the epoch it fixes each epoch's batches. */
  seed: number;
  /** Visit the windows in a seeded random order each epoch (default true), or in corpus order (for evaluation). */
  shuffle?: boolean;
  /** Leave out the last, smaller batch of an epoch; default true. */
  dropLast?: boolean;
}

/** The next-character windows of a set of documents, from {@link charBlocks}. */
export interface CharBlocks {
  /** Characters the model reads per row. */
  readonly length: number;
  /** Windows per batch. */
  readonly batchSize: number;
  /** Windows in all. */
  readonly windowCount: number;
  /** Batches per epoch, for `stepsPerEpoch`. */
  readonly batchCount: number;
  /** `[windowCount * 2]`: the document index and the start of each window. */
  readonly windows: Int32Array;
  /**
   * The batches of epoch `epoch` (default 0), made one at a time as the
   * generator is read: each `[batchSize, length + 1]` int32 (the last one
   * smaller without `dropLast`). The consumer disposes them; `training.train`
   * does. Shuffled windows are in the order of `data.batches` with `seed` and `epoch`.
   */
  batches(epoch?: number): Generator<tf.Tensor2D>;
}

/**
 * Cuts each encoded document into windows of `length + 1` ids for
 * next-character prediction: inputs are a window's first `length` ids, targets
 * its last `length`, so one window trains `length` predictions. Windows
 * start at 0, `length`, `2 * length`, ... of each document (consecutive
 * windows share one id, so every character of the document but its first is a
 * target once), and never cross a document boundary; a document's last
 * `< length` characters, too few for a window, are not used.
 *
 * Shapes: `docs` `[characters]` int32 each -> batches `[batchSize, length + 1]` int32.
 *
 * @example
 * const blocks = charBlocks(train.map((t) => encodeChars(vocab, t, { bos: true })), { length: 64, batchSize: 32, seed: 1 });
 * await training.train({ ...lm, optimizer, batches: blocks.batches, stepsPerEpoch: blocks.batchCount, epochs: 2 });
 */
export function charBlocks(docs: readonly Int32Array[], options: CharBlockOptions): CharBlocks {
  const fn = "charBlocks";
  if (!Array.isArray(docs)) throw new Error(`${fn}: docs must be an array of Int32Arrays, got ${describe(docs)}`);
  checkOptions(fn, options, "{length, batchSize, seed, shuffle?, dropLast?}");
  const { length, batchSize, seed, shuffle = true, dropLast = true } = options;
  checkPositiveInteger(fn, "options.length", length);
  checkPositiveInteger(fn, "options.batchSize", batchSize);
  checkInteger(fn, "options.seed", seed);
  const starts: number[] = [];
  docs.forEach((doc, d) => {
    if (!(doc instanceof Int32Array)) throw new Error(`${fn}: docs[${d}] must be an Int32Array, got ${describe(doc)}`);
    const negative = doc.findIndex((id) => id < 0);
    if (negative >= 0) throw new Error(`${fn}: docs[${d}][${negative}] must be a non-negative id, got ${doc[negative]}`);
    for (let s = 0; s + length + 1 <= doc.length; s += length) starts.push(d, s);
  });
  const windows = Int32Array.from(starts);
  const windowCount = windows.length / 2;
  const batchCount = dropLast ? Math.floor(windowCount / batchSize) : Math.ceil(windowCount / batchSize);
  if (batchCount < 1) {
    throw new Error(`${fn}: docs must hold at least options.batchSize = ${batchSize} windows of length + 1 = ${length + 1} ids, got ${windowCount}`);
  }
  function* make(epoch: number): Generator<tf.Tensor2D> {
    const order = shuffle ? batches(windowCount, batchSize, { seed, epoch, dropLast }) : sequentialBatches(windowCount, batchSize).slice(0, batchCount);
    for (const idx of order) {
      const rows = new Int32Array(idx.length * (length + 1));
      idx.forEach((w, r) => rows.set(docs[windows[2 * w]].subarray(windows[2 * w + 1], windows[2 * w + 1] + length + 1), r * (length + 1)));
      yield tf.tensor2d(rows, [idx.length, length + 1], "int32");
    }
  }
  const epochBatches = (epoch = 0): Generator<tf.Tensor2D> => {
    checkNonNegativeInteger("CharBlocks.batches", "epoch", epoch);
    return make(epoch);
  };
  return Object.freeze({ length, batchSize, windowCount, batchCount, windows, batches: epochBatches });
}

function checkVocab(fn: string, vocab: CharVocab): void {
  if (vocab === null || typeof vocab !== "object" || !(vocab.ids instanceof Map) || !Array.isArray(vocab.chars)) {
    throw new Error(`${fn}: vocab must be a CharVocab from buildCharVocab, got ${describe(vocab)}`);
  }
}
