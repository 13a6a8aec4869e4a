/**
 * Brown sentences for sentence embeddings (SimCSE, quick-thought): every
 * sentence of the corpus (Francis & Kucera 1964/1979; `loadBrown` reads it
 * already split into sentences and words, one sentence a line) with its
 * document, its position in the document and its genre; a split by
 * DOCUMENT, so held-out sentences never share a document (topic, names,
 * author) with training ones; a word vocabulary with `<unk>` and `<pad>`;
 * padded int32 batches of single sentences and of runs of consecutive
 * sentences; and the count-based word vectors of the averaged-word-vector
 * baseline.
 *
 * Data card. What: the 57,340 Brown sentences of 500 documents of about
 * 2,000 words (lower-cased by default; punctuation tokens kept unless
 * dropped). Labels: the document id (for same-document retrieval) and the
 * genre, as one of the four coarse groups of `BROWN_COARSE_GROUPS` (press,
 * non-fiction, learned, fiction) for a probe. Varies: everything a real
 * corpus varies; nothing is generated.
 */
import { tf } from "../backend/tf";
import { isPunctuationTag, type BrownDocument } from "./brown";
import { BROWN_COARSE_GROUPS } from "./brown_genre";
import { cooccurrenceCounts } from "./cooccurrence";
import { createRng, type Rng } from "./random";
import { buildVocab, type Vocab } from "./vocab";
import {
  checkInteger,
  checkIntegerInRange,
  checkNumberInRange,
  checkOptions,
  checkPositiveInteger,
  describe,
} from "../validation/arguments";

/** One sentence with where it comes from. */
export interface BrownSentence {
  /** The words, as `brownSentences` gives them (lower-cased by default). */
  readonly words: readonly string[];
  /** File id of its document, e.g. `"ca01"`. */
  readonly documentId: string;
  /** Index of its document in this set's `documents`. */
  readonly document: number;
  /** Position of the sentence in its document (0-based, counting every sentence kept). */
  readonly position: number;
  /** Fine genre name, e.g. `"news"`. */
  readonly genre: string;
  /** Coarse group index into `BROWN_COARSE_GROUPS` (0 press, 1 non-fiction, 2 learned, 3 fiction). */
  readonly group: number;
}

/** A document of a {@link SentenceSet}: its sentences are `sentences[start .. start + count)`. */
export interface SentenceDocument {
  /** File id, e.g. `"ca01"`. */
  readonly id: string;
  /** Fine genre name. */
  readonly genre: string;
  /** Coarse group index. */
  readonly group: number;
  /** Index of its first sentence in the set's `sentences`. */
  readonly start: number;
  /** Number of its sentences. */
  readonly count: number;
}

/** Sentences of some documents, in document order, each document's sentences contiguous. */
export interface SentenceSet {
  /** `[n]` sentences. */
  readonly sentences: readonly BrownSentence[];
  /** The documents, in corpus order. */
  readonly documents: readonly SentenceDocument[];
}

/** Options of {@link brownSentenceSplit}. */
export interface BrownSentenceSplitOptions {
  /** Seed of which documents are held out. */
  seed: number;
  /** Fraction of each coarse group's documents held out (at least one, and one kept); default 0.2. */
  heldOut?: number;
  /** Lower-case every word; default true. */
  lowercase?: boolean;
  /** Leave out punctuation tokens; default false. A sentence left with no word is dropped. */
  dropPunctuation?: boolean;
}

/** What {@link brownSentenceSplit} returns. */
export interface BrownSentenceSplit {
  /** Sentences of the training documents. */
  readonly train: SentenceSet;
  /** Sentences of the held-out documents. */
  readonly test: SentenceSet;
  /** Names of the coarse groups, the probe's classes: press, nonfiction, learned, fiction. */
  readonly classNames: readonly string[];
}

/**
 * Splits Brown documents into training and held-out documents, per coarse
 * genre group (`round(heldOut * documents)` of each group, at least one, at
 * least one left), and lists each side's sentences with their document and
 * genre. Documents and sentences keep corpus order.
 *
 * Shapes: `docs` `[d]` -> `train.sentences` `[n]`, `test.sentences` `[m]`.
 *
 * @example
 * const split = brownSentenceSplit(loadBrown(), { seed: 1 });
 * split.test.sentences[0]; // { words: ["the", ...], documentId: "ca03", group: 0, ... }
 */
export function brownSentenceSplit(docs: readonly BrownDocument[], options: BrownSentenceSplitOptions): BrownSentenceSplit {
  const fn = "brownSentenceSplit";
  if (!Array.isArray(docs) || docs.length === 0) throw new Error(`${fn}: docs must be a non-empty array of BrownDocuments (loadBrown()), got ${describe(docs)}`);
  checkOptions(fn, options, "{seed, heldOut?, lowercase?, dropPunctuation?}");
  const { seed, heldOut = 0.2, lowercase = true, dropPunctuation = false } = options;
  checkInteger(fn, "options.seed", seed);
  checkNumberInRange(fn, "options.heldOut", heldOut, 0, 1, { minExclusive: true, maxExclusive: true });
  for (const [name, value] of [["lowercase", lowercase], ["dropPunctuation", dropPunctuation]] as const) {
    if (typeof value !== "boolean") throw new Error(`${fn}: options.${name} must be true or false, got ${describe(value)}`);
  }
  const groupOf = new Map<string, number>();
  BROWN_COARSE_GROUPS.forEach((g, c) => g.codes.forEach((code) => groupOf.set(code, c)));
  const byGroup: number[][] = BROWN_COARSE_GROUPS.map(() => []);
  docs.forEach((doc, i) => {
    const c = doc === null || typeof doc !== "object" ? undefined : groupOf.get(doc.genreCode);
    if (c === undefined || !Array.isArray(doc.sentences)) throw new Error(`${fn}: docs[${i}] must be a BrownDocument with a genre code A-R, got ${describe(doc)}`);
    byGroup[c].push(i);
  });
  const rng = createRng(seed);
  const isHeld = new Uint8Array(docs.length);
  byGroup.forEach((members, c) => {
    if (members.length === 0) return;
    if (members.length < 2) throw new Error(`${fn}: docs must hold at least 2 documents of each group present (one per side), got 1 of ${BROWN_COARSE_GROUPS[c].name}`);
    const count = Math.min(members.length - 1, Math.max(1, Math.round(heldOut * members.length)));
    const order = rng.permutation(members.length);
    for (let r = 0; r < count; r++) isHeld[members[order[r]]] = 1;
  });
  const side = (held: number): SentenceSet => {
    const sentences: BrownSentence[] = [];
    const documents: SentenceDocument[] = [];
    docs.forEach((doc, i) => {
      if (isHeld[i] !== held) return;
      const group = groupOf.get(doc.genreCode) as number;
      const start = sentences.length;
      const document = documents.length;
      for (const s of doc.sentences) {
        const words: string[] = [];
        for (let t = 0; t < s.words.length; t++) {
          if (dropPunctuation && isPunctuationTag(s.tags[t])) continue;
          words.push(lowercase ? s.words[t].toLowerCase() : s.words[t]);
        }
        if (words.length === 0) continue;
        const position = sentences.length - start;
        sentences.push(Object.freeze({ words: Object.freeze(words), documentId: doc.id, document, position, genre: doc.genre, group }));
      }
      documents.push(Object.freeze({ id: doc.id, genre: doc.genre, group, start, count: sentences.length - start }));
    });
    return Object.freeze({ sentences: Object.freeze(sentences), documents: Object.freeze(documents) });
  };
  return Object.freeze({ train: side(0), test: side(1), classNames: Object.freeze(BROWN_COARSE_GROUPS.map((g) => g.name)) });
}

/** Options of {@link sampleSentences}. */
export interface SampleSentencesOptions {
  /** Sentences drawn from each document (all of a document with fewer). */
  perDocument: number;
  /** Seed of the draw. */
  seed: number;
  /** Only sentences of at least this many words are drawn; default 1. */
  minWords?: number;
}

/**
 * A seeded sample of `perDocument` sentences of each document (in document
 * order, sentences in their order), for evaluation sets of even weight per
 * document: a genre probe's training and test sentences, or the queries of
 * same-document retrieval.
 *
 * Shapes: `set` `[n]` sentences -> `[<= documents * perDocument]` sentences.
 *
 * @example
 * const queries = sampleSentences(split.test, { perDocument: 10, minWords: 5, seed: 1 });
 */
export function sampleSentences(set: SentenceSet, options: SampleSentencesOptions): BrownSentence[] {
  const fn = "sampleSentences";
  checkSet(fn, set);
  checkOptions(fn, options, "{perDocument, seed, minWords?}");
  const { perDocument, seed, minWords = 1 } = options;
  checkPositiveInteger(fn, "options.perDocument", perDocument);
  checkInteger(fn, "options.seed", seed);
  checkPositiveInteger(fn, "options.minWords", minWords);
  const rng = createRng(seed);
  const out: BrownSentence[] = [];
  for (const doc of set.documents) {
    const eligible = set.sentences.slice(doc.start, doc.start + doc.count).filter((s) => s.words.length >= minWords);
    const picked = rng.shuffle(eligible).slice(0, perDocument).sort((a, b) => a.position - b.position);
    out.push(...picked);
  }
  if (out.length === 0) throw new Error(`${fn}: options.minWords must leave some sentence, got ${minWords} (no sentence that long)`);
  return out;
}

/** A word vocabulary for sentences: `<unk>` (0), the words by frequency, then `<pad>`. */
export interface SentenceVocab {
  /** The words' vocabulary (`<unk>` is its id 0; see data/vocab.ts). */
  readonly words: Vocab;
  /** Id of `<pad>`: `words.size`, the last id. */
  readonly padId: number;
  /** Number of ids, `<pad>` included: the transformer's `vocabSize`. */
  readonly size: number;
}

/**
 * The `maxWords` most frequent words of `sentences` (build it from the
 * TRAINING sentences) with `<unk>` for the rest and a `<pad>` id after them.
 * Sentence embeddings here are means over positions, so there is no `<cls>`.
 *
 * Shapes: `sentences` `[n]` -> `size = min(maxWords, distinct) + 2` ids.
 *
 * @example
 * const vocab = sentenceVocab(split.train.sentences, { maxWords: 5000 });
 * vocab.words.encode(["the", "zyzzyva"]); // [1, 0]
 */
export function sentenceVocab(sentences: readonly BrownSentence[], options: { maxWords: number }): SentenceVocab {
  const fn = "sentenceVocab";
  checkSentences(fn, sentences);
  checkOptions(fn, options, "{maxWords}");
  checkPositiveInteger(fn, "options.maxWords", options.maxWords);
  const words = buildVocab(
    (function* () {
      for (const s of sentences) yield* s.words;
    })(),
    { maxSize: options.maxWords + 1 },
  );
  if (words.has("<pad>")) throw new Error(`${fn}: sentences must not contain the word "<pad>", got it`);
  return Object.freeze({ words, padId: words.size, size: words.size + 1 });
}

/** Sentences as padded rows of ids. */
export interface PaddedSentences {
  /** `[n]` rows of `maxLength` ids each: the first `lengths[i]` are words, the rest `padId`. */
  readonly rows: Int32Array[];
  /** `[n]` words kept per sentence, in [1, maxLength]. */
  readonly lengths: Int32Array;
  /** Row width. */
  readonly maxLength: number;
  /** Sentences longer than `maxLength`, cut to their first `maxLength` words. */
  readonly truncated: number;
}

/**
 * Encodes sentences as rows of `maxLength` ids: each sentence's first
 * `maxLength` words (longer ones are cut, and counted in `truncated`),
 * unknown words as `<unk>`, then `<pad>` to the width.
 *
 * Shapes: `sentences` `[n]` -> `rows` `[n][maxLength]` int32, `lengths` `[n]`.
 *
 * @example
 * const test = padSentences(queries, vocab, 32);
 * methods.pooledEmbeddings(transformer, test.rows, { padId: vocab.padId }); // [n, dim]
 */
export function padSentences(sentences: readonly BrownSentence[], vocab: SentenceVocab, maxLength: number): PaddedSentences {
  const fn = "padSentences";
  checkSentences(fn, sentences);
  checkVocab(fn, vocab);
  checkPositiveInteger(fn, "maxLength", maxLength);
  let truncated = 0;
  const lengths = new Int32Array(sentences.length);
  const rows = sentences.map((s, i) => {
    const row = new Int32Array(maxLength).fill(vocab.padId);
    const n = Math.min(maxLength, s.words.length);
    if (s.words.length > maxLength) truncated++;
    row.set(vocab.words.encode(s.words.slice(0, n)));
    lengths[i] = n;
    return row;
  });
  return Object.freeze({ rows, lengths, maxLength, truncated });
}

/** A batch of sentences for SimCSE: ids padded to the batch's longest sentence. */
export interface SentenceBatch {
  /** `[batch, time]` int32 ids, `<pad>` after each sentence; time = the longest length in the batch. */
  tokens: tf.Tensor2D;
  /** `[batch]` real lengths, each in [1, time]. */
  lengths: Int32Array;
}

/** A batch of runs of consecutive sentences for quick-thought. */
export interface NeighbourBatch extends SentenceBatch {
  /** `[batch]` index (in this batch) of the sentence just before row i in its document, or -1 at a run's start. */
  previous: Int32Array;
}

/** Options of {@link sentenceBatches}. */
export interface SentenceBatchOptions {
  /** Sentences per batch (>= 2); the last partial batch of an epoch is left out. */
  batchSize: number;
  /** Longest sentence kept whole; longer ones are cut. */
  maxLength: number;
}

/**
 * SimCSE batches for `training.train({ batches })`: every epoch, the
 * sentences of `set` in the order of a permutation drawn from the epoch's
 * `rng`, `floor(n / batchSize)` batches of `batchSize`. Tensors are made
 * as the loop pulls them, and the loop disposes them.
 *
 * Shapes: -> `tokens` `[batchSize, time <= maxLength]` int32, `lengths` `[batchSize]`.
 *
 * @example
 * await training.train({ ...simcse, optimizer, batches: sentenceBatches(split.train, vocab, { batchSize: 64, maxLength: 32 }), steps: 200 });
 */
export function sentenceBatches(set: SentenceSet, vocab: SentenceVocab, options: SentenceBatchOptions): (epoch: number, rng: Rng) => Generator<SentenceBatch> {
  const fn = "sentenceBatches";
  checkSet(fn, set);
  checkVocab(fn, vocab);
  checkOptions(fn, options, "{batchSize, maxLength}");
  const { batchSize, maxLength } = options;
  checkIntegerInRange(fn, "options.batchSize", batchSize, 2, set.sentences.length);
  checkPositiveInteger(fn, "options.maxLength", maxLength);
  const padded = padSentences(set.sentences, vocab, maxLength);
  return function* (_epoch: number, rng: Rng): Generator<SentenceBatch> {
    const order = rng.permutation(set.sentences.length);
    for (let start = 0; start + batchSize <= order.length; start += batchSize) {
      yield toBatch(padded, order.subarray(start, start + batchSize), vocab.padId);
    }
  };
}

/** Options of {@link neighbourBatches}. */
export interface NeighbourBatchOptions {
  /** Runs per batch, each from a document drawn at random (weighted by its sentences). */
  runs: number;
  /** Consecutive sentences per run (>= 2). */
  runLength: number;
  /** Longest sentence kept whole; longer ones are cut. */
  maxLength: number;
}

/**
 * Quick-thought batches (Logeswaran & Lee 2018 train on contiguous
 * sentences): each batch is `runs` runs of `runLength` consecutive
 * sentences of one document each, at a start drawn uniformly from the
 * sentences that begin a full run, so a sentence's true neighbours are in
 * the batch and the other runs, from other places, are the negatives.
 * An epoch is `floor(n / (runs * runLength))` batches; `previous` marks the
 * neighbours.
 *
 * Shapes: -> `tokens` `[runs * runLength, time <= maxLength]` int32, `lengths`, `previous` `[runs * runLength]`.
 *
 * @example
 * const batches = neighbourBatches(split.train, vocab, { runs: 8, runLength: 8, maxLength: 32 });
 */
export function neighbourBatches(set: SentenceSet, vocab: SentenceVocab, options: NeighbourBatchOptions): (epoch: number, rng: Rng) => Generator<NeighbourBatch> {
  const fn = "neighbourBatches";
  checkSet(fn, set);
  checkVocab(fn, vocab);
  checkOptions(fn, options, "{runs, runLength, maxLength}");
  const { runs, runLength, maxLength } = options;
  checkPositiveInteger(fn, "options.runs", runs);
  checkIntegerInRange(fn, "options.runLength", runLength, 2, Number.MAX_SAFE_INTEGER);
  checkPositiveInteger(fn, "options.maxLength", maxLength);
  // Every sentence that starts a run of runLength inside its document.
  const starts: number[] = [];
  for (const doc of set.documents) for (let p = 0; p + runLength <= doc.count; p++) starts.push(doc.start + p);
  if (starts.length === 0) throw new Error(`${fn}: options.runLength must fit in some document, got ${runLength} (no document has that many sentences)`);
  const padded = padSentences(set.sentences, vocab, maxLength);
  const batchSize = runs * runLength;
  const previous = Int32Array.from({ length: batchSize }, (_, i) => (i % runLength === 0 ? -1 : i - 1));
  return function* (_epoch: number, rng: Rng): Generator<NeighbourBatch> {
    const count = Math.floor(set.sentences.length / batchSize);
    for (let b = 0; b < count; b++) {
      const rows = new Int32Array(batchSize);
      for (let r = 0; r < runs; r++) {
        const start = starts[rng.int(starts.length)];
        for (let k = 0; k < runLength; k++) rows[r * runLength + k] = start + k;
      }
      yield { ...toBatch(padded, rows, vocab.padId), previous: previous.slice() };
    }
  };
}

/** Rows `which` of `padded` as a batch as wide as its longest sentence. */
function toBatch(padded: PaddedSentences, which: Int32Array, padId: number): SentenceBatch {
  const lengths = Int32Array.from(which, (i) => padded.lengths[i]);
  const time = Math.max(...lengths);
  const ids = new Int32Array(which.length * time).fill(padId);
  which.forEach((i, r) => ids.set(padded.rows[i].subarray(0, time), r * time));
  return { tokens: tf.tensor2d(ids, [which.length, time], "int32"), lengths };
}

/** Options of {@link ppmiWordVectors}. */
export interface PpmiWordVectorOptions {
  /** Context words: the columns are the `contexts` most frequent words (ids 1..contexts); default 500. */
  contexts?: number;
  /** Words on each side counted as context; default 5. */
  window?: number;
}

/**
 * Count-based word vectors, the classic distributional baseline (Church &
 * Hanks 1990; Bullinaria & Levy 2007): row w holds the positive pointwise
 * mutual information of word w with each of the most frequent context words,
 * PPMI(w, c) = max(0, log(N(w, c) N / (N(w) N(c)))), from window counts of
 * `cooccurrenceCounts` (harmonic weights) over `sentences` encoded with
 * `vocab`; each row is then L2-normalised (a word never seen with a context
 * word is a zero row). No learning: what averaged word vectors give
 * sentence embeddings for free.
 *
 * Shapes: -> `[vocab.size, contexts]` float32 (the `<pad>` row is zero).
 *
 * @example
 * const wordVectors = ppmiWordVectors(split.train.sentences, vocab); // [5002, 500]
 * const features = averagedWordVectors(wordVectors, padSentences(queries, vocab, 32));
 */
export function ppmiWordVectors(sentences: readonly BrownSentence[], vocab: SentenceVocab, options: PpmiWordVectorOptions = {}): tf.Tensor2D {
  const fn = "ppmiWordVectors";
  checkSentences(fn, sentences);
  checkVocab(fn, vocab);
  checkOptions(fn, options, "{contexts?, window?}");
  const { contexts = 500, window = 5 } = options;
  checkIntegerInRange(fn, "options.contexts", contexts, 1, vocab.words.size - 1);
  checkPositiveInteger(fn, "options.window", window);
  const corpus = sentences.map((s) => vocab.words.encode(s.words));
  const counts = cooccurrenceCounts(corpus, { vocabSize: vocab.size, window, weighting: "harmonic" });
  const rowTotal = new Float64Array(vocab.size);
  let total = 0;
  for (let i = 0; i < vocab.size; i++) {
    for (let k = counts.rowStart[i]; k < counts.rowStart[i + 1]; k++) rowTotal[i] += counts.values[k];
    total += rowTotal[i];
  }
  const out = new Float32Array(vocab.size * contexts);
  for (let i = 0; i < vocab.size; i++) {
    let norm = 0;
    for (let k = counts.rowStart[i]; k < counts.rowStart[i + 1]; k++) {
      const c = counts.colIndex[k];
      if (c < 1 || c > contexts) continue;
      const pmi = Math.log((counts.values[k] * total) / (rowTotal[i] * rowTotal[c]));
      if (pmi > 0) {
        out[i * contexts + c - 1] = pmi;
        norm += pmi * pmi;
      }
    }
    if (norm > 0) for (let c = 0; c < contexts; c++) out[i * contexts + c] /= Math.sqrt(norm);
  }
  return tf.tensor2d(out, [vocab.size, contexts]);
}

/**
 * Sentence embeddings as the mean of their words' vectors (`<unk>` included,
 * `<pad>` not): the bag-of-words baseline a sentence encoder must beat.
 *
 * Shapes: `wordVectors` `[vocabSize, d]`, `padded` `n` rows -> `[n, d]` float32.
 *
 * @example
 * const features = averagedWordVectors(wordVectors, padSentences(queries, vocab, 32)); // [n, 500]
 */
export function averagedWordVectors(wordVectors: tf.Tensor2D, padded: PaddedSentences): tf.Tensor2D {
  const fn = "averagedWordVectors";
  if (!(wordVectors instanceof tf.Tensor) || wordVectors.rank !== 2 || wordVectors.dtype !== "float32") {
    throw new Error(`${fn}: wordVectors must be a float32 tensor of shape [vocabSize,d], got ${describe(wordVectors)}`);
  }
  if (padded === null || typeof padded !== "object" || !Array.isArray(padded.rows) || padded.rows.length === 0) {
    throw new Error(`${fn}: padded must be PaddedSentences from padSentences with at least one row, got ${describe(padded)}`);
  }
  const [vocabSize] = wordVectors.shape;
  const n = padded.rows.length;
  // A [n, vocabSize] matrix of word frequencies per sentence, times the vectors.
  const weights = new Float32Array(n * vocabSize);
  padded.rows.forEach((row, i) => {
    const len = padded.lengths[i];
    for (let t = 0; t < len; t++) {
      if (row[t] < 0 || row[t] >= vocabSize) throw new Error(`${fn}: padded.rows[${i}][${t}] must be an id in [0, ${vocabSize}), got ${row[t]}`);
      weights[i * vocabSize + row[t]] += 1 / len;
    }
  });
  return tf.tidy(() => tf.matMul(tf.tensor2d(weights, [n, vocabSize]), wordVectors) as tf.Tensor2D);
}

function checkSentences(fn: string, sentences: unknown): asserts sentences is BrownSentence[] {
  if (!Array.isArray(sentences) || sentences.length === 0) throw new Error(`${fn}: sentences must be a non-empty array of BrownSentences, got ${describe(sentences)}`);
  sentences.forEach((s, i) => {
    if (s === null || typeof s !== "object" || !Array.isArray(s.words) || s.words.length === 0) {
      throw new Error(`${fn}: sentences[${i}] must be a BrownSentence with at least one word, got ${describe(s)}`);
    }
  });
}

function checkSet(fn: string, set: unknown): asserts set is SentenceSet {
  if (set === null || typeof set !== "object" || !Array.isArray((set as SentenceSet).sentences) || !Array.isArray((set as SentenceSet).documents)) {
    throw new Error(`${fn}: set must be a SentenceSet from brownSentenceSplit, got ${describe(set)}`);
  }
  checkSentences(fn, (set as SentenceSet).sentences);
}

function checkVocab(fn: string, vocab: unknown): asserts vocab is SentenceVocab {
  if (vocab === null || typeof vocab !== "object" || typeof (vocab as SentenceVocab).padId !== "number" || typeof (vocab as SentenceVocab).words?.encode !== "function") {
    throw new Error(`${fn}: vocab must be a SentenceVocab from sentenceVocab, got ${describe(vocab)}`);
  }
}

