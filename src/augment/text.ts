/**
 * EDA, "Easy Data Augmentation" (Wei & Zou 2019, "EDA: Easy Data
 * Augmentation Techniques for Boosting Performance on Text Classification
 * Tasks", EMNLP), on sentences as token-id arrays: synonym replacement
 * (SR), random insertion (RI), random swap (RS) and random deletion (RD).
 * For a sentence of `len` words, SR, RI and RS change
 * n = max(1, floor(alpha * len)) words and RD deletes each word with
 * probability alpha (the paper's alpha_sr = alpha_ri = alpha_rs = p_rd);
 * each augmented copy comes from one operation, and `copies` is the
 * paper's n_aug. Synonyms come from WordNet (`data.loadWordNetSynsets`),
 * kept only where both words are in the sentence vocabulary, so every
 * augmented sentence is ids of the same vocabulary; SR and RI leave stop
 * words alone, as the paper does.
 *
 * Everything runs on `Int32Array`s of ids, never on strings, seeded by an
 * explicit `Rng` or seed, so a step's views are a function of its seed.
 *
 * Back-translation (Sennrich et al. 2016; Xie et al. 2019's UDA) needs a
 * translation model, and none can be installed offline here, so it is not
 * in this module.
 */
import { tf } from "../backend/tf";
import type { SentenceVocab } from "../data/brown_sentences";
import { createRng, type Rng } from "../data/random";
import type { Synset } from "../data/wordnet";
import { synonymPairs } from "../data/wordnet";
import {
  checkInteger,
  checkNonNegativeInteger,
  checkOptions,
  checkPositiveInteger,
  checkProbability,
  describe,
} from "../validation/arguments";

/**
 * The English stop words of NLTK's `stopwords` corpus (Bird, Klein, Loper
 * 2009, "Natural Language Processing with Python"), the 127-word list the
 * EDA authors' code filters synonym replacement and insertion with.
 */
export const EDA_STOP_WORDS: readonly string[] = Object.freeze(
  ("i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself " +
    "it its itself they them their theirs themselves what which who whom this that these those am is are was were be " +
    "been being have has had having do does did doing a an the and but if or because as until while of at by for with " +
    "about against between into through during before after above below to from up down in out on off over under again " +
    "further then once here there when where why how all any both each few more most other some such no nor not only own " +
    "same so than too very s t can will just don should now").split(" "),
);

/**
 * Synonyms by token id: `of(id)` the ids of the vocabulary's WordNet
 * synonyms of word `id`, sorted; empty for stop words, `<unk>`, `<pad>` and
 * words WordNet does not pair with another vocabulary word.
 */
export interface SynonymTable {
  /** Number of ids of the vocabulary (`<pad>` included). */
  readonly size: number;
  /** Id of `<pad>`: never a synonym, never accepted inside a sentence. */
  readonly padId: number;
  /** Ids that have at least one synonym. */
  readonly withSynonyms: number;
  /** The synonym ids of `id` (empty when none). */
  of(id: number): Int32Array;
}

/** Options of {@link vocabSynonyms}. */
export interface VocabSynonymOptions {
  /** Words that get and give no synonyms; default {@link EDA_STOP_WORDS}. */
  stopWords?: readonly string[];
}

/**
 * The synonym table of a sentence vocabulary: two words are synonyms when
 * they share a WordNet synset and both are single words of the vocabulary
 * (not stop words, not `<unk>`).
 *
 * Shapes: `synsets` `[n]` -> a table over `vocab.size` ids.
 *
 * @example
 * const table = augment.vocabSynonyms(vocab, data.loadWordNetSynsets());
 * vocab.words.decode(table.of(vocab.words.index("big"))); // ["large", ...] as the vocabulary has them
 */
export function vocabSynonyms(vocab: SentenceVocab, synsets: readonly Synset[], options: VocabSynonymOptions = {}): SynonymTable {
  const fn = "vocabSynonyms";
  if (vocab === null || typeof vocab !== "object" || typeof vocab.words?.has !== "function" || !Number.isInteger(vocab.padId)) {
    throw new Error(`${fn}: vocab must be a SentenceVocab from data.sentenceVocab, got ${describe(vocab)}`);
  }
  if (!Array.isArray(synsets)) throw new Error(`${fn}: synsets must be an array of WordNet synsets, got ${describe(synsets)}`);
  checkOptions(fn, options, "{stopWords?}");
  const stopWords = options.stopWords ?? EDA_STOP_WORDS;
  if (!Array.isArray(stopWords) || stopWords.some((w) => typeof w !== "string")) {
    throw new Error(`${fn}: options.stopWords must be an array of strings, got ${describe(stopWords)}`);
  }
  const stop = new Set(stopWords);
  const unk = vocab.words.words[vocab.words.unkId];
  const keep = (w: string) => vocab.words.has(w) && !stop.has(w) && w !== unk;
  const lists = new Map<number, Set<number>>();
  const add = (a: number, b: number) => {
    let set = lists.get(a);
    if (set === undefined) lists.set(a, (set = new Set()));
    set.add(b);
  };
  for (const [a, b] of synonymPairs(synsets, { keep })) {
    const [ia, ib] = [vocab.words.index(a), vocab.words.index(b)];
    add(ia, ib);
    add(ib, ia);
  }
  const table = new Map<number, Int32Array>();
  for (const [id, set] of lists) table.set(id, Int32Array.from([...set].sort((x, y) => x - y)));
  const empty = new Int32Array(0);
  return Object.freeze({ size: vocab.size, padId: vocab.padId, withSynonyms: table.size, of: (id: number) => table.get(id) ?? empty });
}

/**
 * A synonym table from explicit id lists (`synonyms[id]` the synonyms of
 * `id`), for tests and hand-made vocabularies; lists are made symmetric.
 *
 * @example
 * const table = synonymTable([[], [2], [1], []], 3); // 1 and 2 synonyms; id 3 is <pad>
 */
export function synonymTable(synonyms: readonly (readonly number[])[], padId: number): SynonymTable {
  const fn = "synonymTable";
  if (!Array.isArray(synonyms)) throw new Error(`${fn}: synonyms must be an array of id arrays, got ${describe(synonyms)}`);
  const size = synonyms.length;
  checkInteger(fn, "padId", padId);
  if (padId < 0 || padId >= size) throw new Error(`${fn}: padId must be an id in [0, ${size}), got ${padId}`);
  const sets = Array.from({ length: size }, () => new Set<number>());
  synonyms.forEach((list, a) => {
    if (!Array.isArray(list)) throw new Error(`${fn}: synonyms[${a}] must be an array of ids, got ${describe(list)}`);
    for (const b of list) {
      if (!Number.isInteger(b) || b < 0 || b >= size || b === padId || a === padId || b === a) {
        throw new Error(`${fn}: synonyms[${a}] must hold ids in [0, ${size}) other than ${a} and the pad id ${padId}, got ${describe(b)}`);
      }
      sets[a].add(b);
      sets[b].add(a);
    }
  });
  const lists = sets.map((s) => Int32Array.from([...s].sort((x, y) => x - y)));
  return Object.freeze({ size, padId, withSynonyms: lists.filter((l) => l.length > 0).length, of: (id: number) => lists[id] ?? new Int32Array(0) });
}

/** Checks `words` is an Int32Array of ids in [0, table.size) without `<pad>`. */
function checkWords(fn: string, words: unknown, table: SynonymTable): asserts words is Int32Array {
  if (!(words instanceof Int32Array)) throw new Error(`${fn}: words must be an Int32Array of token ids, got ${describe(words)}`);
  for (let i = 0; i < words.length; i++) {
    if (!(words[i] >= 0 && words[i] < table.size) || words[i] === table.padId) {
      throw new Error(`${fn}: words must hold ids in [0, ${table.size}) other than the pad id ${table.padId}, got ${words[i]} at ${i}`);
    }
  }
}

function checkTable(fn: string, table: unknown): asserts table is SynonymTable {
  const t = table as SynonymTable;
  if (t === null || typeof t !== "object" || typeof t.of !== "function" || !Number.isInteger(t.size) || !Number.isInteger(t.padId)) {
    throw new Error(`${fn}: synonyms must be a SynonymTable from augment.vocabSynonyms or augment.synonymTable, got ${describe(table)}`);
  }
}

function checkRng(fn: string, rng: unknown): asserts rng is Rng {
  if (rng === null || typeof rng !== "object" || typeof (rng as Rng).next !== "function") {
    throw new Error(`${fn}: rng must be an Rng from data.createRng, got ${describe(rng)}`);
  }
}

/** EDA's word count of SR, RI and RS: 0 at alpha 0, else max(1, floor(alpha * len)). */
export function edaChangeCount(alpha: number, length: number): number {
  checkProbability("edaChangeCount", "alpha", alpha);
  checkNonNegativeInteger("edaChangeCount", "length", length);
  return alpha === 0 ? 0 : Math.max(1, Math.floor(alpha * length));
}

/**
 * Synonym replacement: `n` distinct positions, drawn at random among those
 * whose word has a synonym, each replaced by one of its synonyms drawn
 * uniformly; fewer when fewer positions have synonyms.
 *
 * Shapes: `words` `[len]` -> `[len]` (a new array).
 *
 * @example
 * synonymReplacement(Int32Array.from([5, 9, 2]), 1, table, createRng(0));
 */
export function synonymReplacement(words: Int32Array, n: number, synonyms: SynonymTable, rng: Rng): Int32Array {
  const fn = "synonymReplacement";
  checkTable(fn, synonyms);
  checkWords(fn, words, synonyms);
  checkNonNegativeInteger(fn, "n", n);
  checkRng(fn, rng);
  const out = words.slice();
  const eligible: number[] = [];
  for (let i = 0; i < words.length; i++) if (synonyms.of(words[i]).length > 0) eligible.push(i);
  rng.shuffle(eligible);
  for (const i of eligible.slice(0, n)) {
    const options = synonyms.of(words[i]);
    out[i] = options[rng.int(options.length)];
  }
  return out;
}

/**
 * Random insertion, `n` times: a synonym of a random word of the sentence
 * (one that has synonyms) inserted at a random position (0..len, the end
 * included). Nothing is inserted when no word has a synonym.
 *
 * Shapes: `words` `[len]` -> `[len + n]` (or `[len]` without synonyms).
 *
 * @example
 * randomInsertion(Int32Array.from([5, 9, 2]), 1, table, createRng(0)); // 4 ids
 */
export function randomInsertion(words: Int32Array, n: number, synonyms: SynonymTable, rng: Rng): Int32Array {
  const fn = "randomInsertion";
  checkTable(fn, synonyms);
  checkWords(fn, words, synonyms);
  checkNonNegativeInteger(fn, "n", n);
  checkRng(fn, rng);
  const out = Array.from(words);
  for (let k = 0; k < n; k++) {
    // Only the words with synonyms, so an insertion never fails for want of one (EDA's code retries 10 times instead).
    const sources = out.filter((w) => synonyms.of(w).length > 0);
    if (sources.length === 0) break;
    const choices = synonyms.of(sources[rng.int(sources.length)]);
    out.splice(rng.int(out.length + 1), 0, choices[rng.int(choices.length)]);
  }
  return Int32Array.from(out);
}

/**
 * Random swap, `n` times: two distinct positions drawn at random exchange
 * their words; the multiset of words is unchanged. A one-word sentence is
 * returned as it is.
 *
 * Shapes: `words` `[len]` -> `[len]`.
 *
 * @example
 * randomSwap(Int32Array.from([5, 9, 2]), 1, createRng(0));
 */
export function randomSwap(words: Int32Array, n: number, rng: Rng): Int32Array {
  const fn = "randomSwap";
  if (!(words instanceof Int32Array)) throw new Error(`${fn}: words must be an Int32Array of token ids, got ${describe(words)}`);
  checkNonNegativeInteger(fn, "n", n);
  checkRng(fn, rng);
  const out = words.slice();
  if (out.length < 2) return out;
  for (let k = 0; k < n; k++) {
    const i = rng.int(out.length);
    const j = (i + 1 + rng.int(out.length - 1)) % out.length; // uniform over the other positions
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Random deletion: each word deleted independently with probability `p`;
 * if every word goes, one of them, drawn at random, stays (as EDA's code),
 * so a sentence is never empty. A one-word sentence is returned as it is.
 *
 * Shapes: `words` `[len]` -> `[kept]`, 1 <= kept <= len.
 *
 * @example
 * randomDeletion(Int32Array.from([5, 9, 2, 7]), 0.25, createRng(0));
 */
export function randomDeletion(words: Int32Array, p: number, rng: Rng): Int32Array {
  const fn = "randomDeletion";
  if (!(words instanceof Int32Array)) throw new Error(`${fn}: words must be an Int32Array of token ids, got ${describe(words)}`);
  checkProbability(fn, "p", p);
  checkRng(fn, rng);
  if (words.length <= 1 || p === 0) return words.slice();
  const kept = words.filter(() => !(rng.next() < p));
  return kept.length > 0 ? kept : Int32Array.of(words[rng.int(words.length)]);
}

/** The four EDA operations. */
export type EdaOperation = "synonym" | "insertion" | "swap" | "deletion";

/** The operations in the paper's order. */
export const EDA_OPERATIONS: readonly EdaOperation[] = Object.freeze(["synonym", "insertion", "swap", "deletion"] as EdaOperation[]);

/** Options of {@link eda} and {@link edaRows}. */
export interface EdaOptions {
  /** Synonyms by id, from {@link vocabSynonyms}. */
  synonyms: SynonymTable;
  /** Share of words changed, in [0, 1]: n = max(1, floor(alpha * len)) for SR, RI, RS, deletion probability for RD; 0 gives the sentence back. The paper recommends 0.1. */
  alpha: number;
  /** Augmented copies per sentence (the paper's n_aug); default 1. Only {@link eda} makes several. */
  copies?: number;
  /** Operations to use; default all four. */
  operations?: readonly EdaOperation[];
}

function resolveEda(fn: string, options: EdaOptions): Required<EdaOptions> {
  checkOptions(fn, options, "{synonyms, alpha, copies?, operations?}");
  const { synonyms, alpha, copies = 1, operations = EDA_OPERATIONS } = options;
  checkTable(fn, synonyms);
  checkProbability(fn, "options.alpha", alpha);
  checkPositiveInteger(fn, "options.copies", copies);
  if (!Array.isArray(operations) || operations.length === 0 || operations.some((o) => !EDA_OPERATIONS.includes(o)) || new Set(operations).size !== operations.length) {
    throw new Error(`${fn}: options.operations must be a non-empty array of distinct ${EDA_OPERATIONS.map((o) => `"${o}"`).join(", ")}, got ${describe(operations)}`);
  }
  return { synonyms, alpha, copies, operations };
}

function applyOperation(op: EdaOperation, words: Int32Array, alpha: number, synonyms: SynonymTable, rng: Rng): Int32Array {
  const n = edaChangeCount(alpha, words.length);
  switch (op) {
    case "synonym": return synonymReplacement(words, n, synonyms, rng);
    case "insertion": return randomInsertion(words, n, synonyms, rng);
    case "swap": return randomSwap(words, n, rng);
    case "deletion": return randomDeletion(words, alpha, rng);
  }
}

/**
 * EDA's augmented copies of one sentence: copy k uses operation
 * `operations[(start + k) % operations.length]` from a random `start`, so
 * the operations share the copies evenly (EDA's code makes
 * ceil(n_aug / 4) per operation and keeps n_aug of them). The original is
 * not among them; add it yourself when training on the union.
 *
 * Shapes: `words` `[len]` -> `copies` arrays, each `[len']`.
 *
 * @example
 * const table = vocabSynonyms(vocab, data.loadWordNetSynsets());
 * const views = eda(vocab.words.encode(["the", "big", "dog", "ran"]), { synonyms: table, alpha: 0.1, copies: 4 }, createRng(1));
 */
export function eda(words: Int32Array, options: EdaOptions, rng: Rng): Int32Array[] {
  const fn = "eda";
  const { synonyms, alpha, copies, operations } = resolveEda(fn, options);
  checkWords(fn, words, synonyms);
  checkRng(fn, rng);
  const start = rng.int(operations.length);
  return Array.from({ length: copies }, (_, k) => applyOperation(operations[(start + k) % operations.length], words, alpha, synonyms, rng));
}

/** Padded rows of token ids: `[batch, time]` row-major with each row's real length. */
export interface TokenRows {
  /** `[batch * time]` ids, row-major; row b's first `lengths[b]` are words, the rest `<pad>`. */
  ids: Int32Array;
  /** `[batch]` real lengths, each in [1, time]. */
  lengths: Int32Array;
  /** Row width. */
  time: number;
}

/** What {@link edaRows} returns. */
export interface AugmentedRows extends TokenRows {
  /** Rows whose augmented sentence was longer than `maxLength` and was cut to it (insertion only). */
  truncated: number;
}

/**
 * One EDA copy of every row of a padded batch, seeded: row b uses
 * `createRng(seed)` after rows 0..b-1, so the same seed gives the same
 * batch. The result is padded with `padId` to its own longest row, at most
 * `maxLength` (insertions beyond it are cut and counted).
 *
 * Shapes: `rows.ids` `[batch * time]`, `rows.lengths` `[batch]` ->
 * `ids` `[batch * time']`, `lengths` `[batch]`, time' <= maxLength.
 *
 * @example
 * const ids = batch.tokens.dataSync() as Int32Array;
 * const view = augment.edaRows({ ids, lengths: batch.lengths, time: batch.tokens.shape[1] }, { synonyms: table, alpha: 0.1 }, { maxLength: 32, seed: 7 });
 */
export function edaRows(rows: TokenRows, options: EdaOptions, target: { maxLength: number; seed: number }): AugmentedRows {
  const fn = "edaRows";
  const resolved = resolveEda(fn, options);
  checkTokenRows(fn, rows, resolved.synonyms.padId);
  checkOptions(fn, target, "{maxLength, seed}");
  checkPositiveInteger(fn, "target.maxLength", target.maxLength);
  checkInteger(fn, "target.seed", target.seed);
  const rng = createRng(target.seed);
  const { ids, lengths, time } = rows;
  const one = { ...resolved, copies: 1 };
  const sentences = Array.from(lengths, (n, b) => eda(ids.slice(b * time, b * time + n), one, rng)[0]);
  return padRows(sentences, resolved.synonyms.padId, target.maxLength);
}

/**
 * Checks padded rows: `ids` an Int32Array of `lengths.length * time` with
 * no `<pad>` inside a sentence.
 */
export function checkTokenRows(fn: string, rows: unknown, padId: number): asserts rows is TokenRows {
  const r = rows as TokenRows;
  if (r === null || typeof r !== "object" || !(r.ids instanceof Int32Array) || !(r.lengths instanceof Int32Array) || !Number.isInteger(r.time) || r.time < 1) {
    throw new Error(`${fn}: rows must be {ids: Int32Array, lengths: Int32Array, time >= 1}, got ${describe(rows)}`);
  }
  if (r.ids.length !== r.lengths.length * r.time) {
    throw new Error(`${fn}: rows.ids must hold lengths.length * time = ${r.lengths.length * r.time} ids, got ${r.ids.length}`);
  }
  r.lengths.forEach((n, b) => {
    if (!(n >= 1 && n <= r.time)) throw new Error(`${fn}: rows.lengths must be in [1, ${r.time}], got ${n} at ${b}`);
    for (let t = 0; t < n; t++) {
      if (r.ids[b * r.time + t] === padId) throw new Error(`${fn}: rows must have no pad id ${padId} inside a sentence, got one at [${b},${t}]`);
    }
  });
}

/** Sentences padded with `padId` to the longest (cut at `maxLength`). */
function padRows(sentences: Int32Array[], padId: number, maxLength: number): AugmentedRows {
  let truncated = 0;
  const lengths = Int32Array.from(sentences, (s) => {
    if (s.length > maxLength) truncated++;
    return Math.min(s.length, maxLength);
  });
  const time = Math.max(...lengths);
  const ids = new Int32Array(sentences.length * time).fill(padId);
  sentences.forEach((s, b) => ids.set(s.subarray(0, lengths[b]), b * time));
  return { ids, lengths, time, truncated };
}

/**
 * Padded rows as the `[batch, time]` int32 tensor a transformer takes.
 *
 * Shapes: -> `[batch, time]` int32.
 *
 * @example
 * const tokens = rowsToTensor(view); // dispose it after the pass
 */
export function rowsToTensor(rows: TokenRows): tf.Tensor2D {
  return tf.tensor2d(rows.ids, [rows.lengths.length, rows.time], "int32");
}
