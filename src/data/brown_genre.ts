/**
 * A labelled passage set for judging sentence embeddings of the Brown corpus
 * (Francis & Kucera 1964/1979) by a linear probe on genre: fixed-length
 * character passages cut from whole documents, each labelled with its
 * document's genre, split by DOCUMENT so a test passage never shares a
 * document (its names, topic and author) with a training passage; plus the
 * bag-of-characters and bag-of-words features of the baselines a learned
 * embedding has to beat.
 *
 * The default labels are four coarse groups of the 15 genres, since the
 * fine genres are too few documents each (6 of science fiction, 9 of humour)
 * for a probe on short passages: press (A-C), general non-fiction (D-G),
 * government and learned prose (H, J) and fiction (K-R). NLTK's two-way
 * split, informative (A-J) vs imaginative (K-R) prose, is the coarsest
 * choice and nearly separable by a few function words; four groups keep the
 * probe learnable and non-trivial.
 */
import { tf } from "../backend/tf";
import { BROWN_GENRES, type BrownDocument } from "./brown";
import { brownCharTexts, encodeChars, type CharVocab } from "./char_tokens";
import { createRng } from "./random";
import { checkInteger, checkNumberInRange, checkOneOf, checkOptions, checkPositiveInteger, describe } from "../validation/arguments";

/** A group of Brown genres used as one probe label. */
export interface BrownGenreGroup {
  /** Label name, e.g. `"press"`. */
  readonly name: string;
  /** Genre codes in the group, e.g. `["A", "B", "C"]`. */
  readonly codes: readonly string[];
}

/**
 * The four coarse groups of the default `grouping: "coarse"`, with their
 * document counts: press (A news, B editorial, C reviews; 88), general
 * non-fiction (D religion, E hobbies, F lore, G belles-lettres; 176),
 * government and learned (H, J; 110), fiction (K general, L mystery,
 * M science, N adventure, P romance, R humour; 126).
 */
export const BROWN_COARSE_GROUPS: readonly BrownGenreGroup[] = Object.freeze(
  (
    [
      ["press", ["A", "B", "C"]],
      ["nonfiction", ["D", "E", "F", "G"]],
      ["learned", ["H", "J"]],
      ["fiction", ["K", "L", "M", "N", "P", "R"]],
    ] as const
  ).map(([name, codes]) => Object.freeze({ name, codes: Object.freeze([...codes]) })),
);

/** Options of {@link brownGenrePassages}. */
export interface BrownGenrePassageOptions {
  /** The character vocabulary of the model to probe; unknown characters become `<unk>`. */
  vocab: CharVocab;
  /** Characters per passage (the model's context, e.g. 64). */
  length: number;
  /** Seed of the document split, the passage starts, the balancing and the order. */
  seed: number;
  /** Passages per document, from equal consecutive segments of it; default 4. */
  passagesPerDocument?: number;
  /** Fraction of each class's documents held out for the test split (at least one); default 0.2. */
  heldOut?: number;
  /** `"coarse"` (default): the 4 {@link BROWN_COARSE_GROUPS}; `"genre"`: the 15 genres. */
  grouping?: "coarse" | "genre";
  /** Subsample every class of each split to its smallest class's passage count; default true (chance = 1 / classes). */
  balance?: boolean;
  /** Lower-case the text, as the model's training text was; default false. */
  lowercase?: boolean;
}

/** One split of labelled passages, parallel arrays of `n` entries. */
export interface GenrePassages {
  /** `[n]` Int32Arrays of `length` character ids each. */
  readonly tokens: Int32Array[];
  /** `[n]` the passages as text. */
  readonly texts: string[];
  /** `[n]` class index into `classNames`. */
  readonly labels: Int32Array;
  /** `[n]` the Brown file id of each passage's document, e.g. `"ca01"`. */
  readonly documentIds: string[];
  /** `[n]` the fine genre name of each passage's document, e.g. `"news"`. */
  readonly genres: string[];
}

/** What {@link brownGenrePassages} returns. */
export interface BrownGenreSet {
  /** Passages of the training documents, in a seeded random order. */
  readonly train: GenrePassages;
  /** Passages of the held-out documents, in a seeded random order. */
  readonly test: GenrePassages;
  /** Label names: the group names, or the genre names in corpus order. */
  readonly classNames: readonly string[];
  /** The grouping the labels follow. */
  readonly grouping: "coarse" | "genre";
}

/**
 * Cuts labelled passages from Brown documents for a genre probe. Each
 * document's text (`brownCharTexts`) is divided into `passagesPerDocument`
 * equal consecutive segments and one `length`-character passage is taken at
 * a seeded random start inside each (a document too short for that gives
 * fewer). Per class, `round(heldOut * documents)` documents (at least one,
 * and at least one left to train on) are held out, so the split is by
 * document and every class is in both splits. With `balance`, each split
 * keeps a seeded random `min over classes` passages of every class.
 *
 * Shapes: `docs` `BrownDocument[]` -> passages `[n]` of `[length]` ids, labels `[n]`.
 *
 * @example
 * const genres = brownGenrePassages(loadBrown(), { vocab, length: 64, seed: 1 });
 * genres.classNames; // ["press", "nonfiction", "learned", "fiction"]
 * const probe = evaluation.linearProbe(bagOfCharacters(genres.train.tokens, vocab.size), genres.train.labels,
 *   bagOfCharacters(genres.test.tokens, vocab.size), genres.test.labels);
 */
export function brownGenrePassages(docs: readonly BrownDocument[], options: BrownGenrePassageOptions): BrownGenreSet {
  const fn = "brownGenrePassages";
  if (!Array.isArray(docs) || docs.length === 0) throw new Error(`${fn}: docs must be a non-empty array of BrownDocuments (loadBrown()), got ${describe(docs)}`);
  checkOptions(fn, options, "{vocab, length, seed, passagesPerDocument?, heldOut?, grouping?, balance?, lowercase?}");
  const { vocab, length, seed, passagesPerDocument = 4, heldOut = 0.2, grouping = "coarse", balance = true, lowercase = false } = options;
  if (vocab === null || typeof vocab !== "object" || !(vocab.ids instanceof Map)) {
    throw new Error(`${fn}: options.vocab must be a CharVocab from buildCharVocab, got ${describe(vocab)}`);
  }
  checkPositiveInteger(fn, "options.length", length);
  checkInteger(fn, "options.seed", seed);
  checkPositiveInteger(fn, "options.passagesPerDocument", passagesPerDocument);
  checkNumberInRange(fn, "options.heldOut", heldOut, 0, 1, { minExclusive: true, maxExclusive: true });
  checkOneOf(fn, "options.grouping", grouping, ["coarse", "genre"] as const);
  if (typeof balance !== "boolean") throw new Error(`${fn}: options.balance must be true or false, got ${describe(balance)}`);

  const groups: readonly BrownGenreGroup[] =
    grouping === "coarse" ? BROWN_COARSE_GROUPS : BROWN_GENRES.map((g) => ({ name: g.name, codes: [g.code] }));
  const classOfCode = new Map<string, number>();
  groups.forEach((g, c) => g.codes.forEach((code) => classOfCode.set(code, c)));
  const byClass: BrownDocument[][] = groups.map(() => []);
  docs.forEach((doc, i) => {
    const c = doc === null || typeof doc !== "object" ? undefined : classOfCode.get(doc.genreCode);
    if (c === undefined) throw new Error(`${fn}: docs[${i}] must be a BrownDocument with a genre code A-R, got ${describe(doc)}`);
    byClass[c].push(doc);
  });
  const present = byClass.map((ds, c) => [ds, c] as const).filter(([ds]) => ds.length > 0);
  if (present.length < 2) throw new Error(`${fn}: docs must cover at least two classes of the ${grouping} grouping, got ${present.length}`);
  for (const [ds, c] of present) {
    if (ds.length < 2) throw new Error(`${fn}: docs must hold at least 2 documents of each class present (one per split), got ${ds.length} of ${groups[c].name}`);
  }

  const rng = createRng(seed);
  const splits: [Passage[][], Passage[][]] = [groups.map(() => []), groups.map(() => [])];
  for (const [ds, c] of present) {
    const order = rng.permutation(ds.length);
    const held = Math.min(ds.length - 1, Math.max(1, Math.round(heldOut * ds.length)));
    order.forEach((d, rank) => {
      const doc = ds[d];
      const split = rank < held ? 1 : 0;
      for (const text of cutPassages(brownCharTexts([doc], { lowercase })[0], length, passagesPerDocument, rng)) {
        splits[split][c].push({ text, label: c, documentId: doc.id, genre: doc.genre });
      }
    });
  }
  const [train, test] = splits.map((perClass) => {
    const kept = perClass.filter((ps) => ps.length > 0);
    const count = Math.min(...kept.map((ps) => ps.length));
    const chosen = kept.flatMap((ps) => (balance ? rng.shuffle([...ps]).slice(0, count) : ps));
    return toPassages(rng.shuffle(chosen), vocab);
  });
  if (train.labels.length === 0 || test.labels.length === 0) {
    throw new Error(`${fn}: options.length must leave at least one passage per split, got ${length} characters (documents too short)`);
  }
  return Object.freeze({ train, test, classNames: Object.freeze(groups.map((g) => g.name)), grouping });
}

interface Passage {
  text: string;
  label: number;
  documentId: string;
  genre: string;
}

/** `count` passages of `length` code points, one at a random start in each of `count` equal segments of `text`. */
function cutPassages(text: string, length: number, count: number, rng: ReturnType<typeof createRng>): string[] {
  const chars = [...text];
  const segment = Math.floor(chars.length / count);
  const out: string[] = [];
  for (let s = 0; s < count; s++) {
    if (segment < length) break;
    const start = s * segment + rng.int(segment - length + 1);
    out.push(chars.slice(start, start + length).join(""));
  }
  return out;
}

function toPassages(passages: Passage[], vocab: CharVocab): GenrePassages {
  return Object.freeze({
    tokens: passages.map((p) => encodeChars(vocab, p.text)),
    texts: passages.map((p) => p.text),
    labels: Int32Array.from(passages, (p) => p.label),
    documentIds: passages.map((p) => p.documentId),
    genres: passages.map((p) => p.genre),
  });
}

/**
 * Bag-of-characters features: row i holds the relative frequency of every
 * id in passage i (counts / passage length), order ignored. The baseline a
 * sentence embedding must beat: genre already shows in character statistics
 * (digits and capitals in the press, quotes in fiction).
 *
 * Shapes: `passages` `n` Int32Arrays of ids in [0, vocabSize) -> `[n, vocabSize]` float32.
 *
 * @example
 * const x = bagOfCharacters(genres.train.tokens, vocab.size); // [nTrain, vocab.size]
 */
export function bagOfCharacters(passages: readonly Int32Array[], vocabSize: number): tf.Tensor2D {
  const fn = "bagOfCharacters";
  checkPositiveInteger(fn, "vocabSize", vocabSize);
  if (!Array.isArray(passages) || passages.length === 0) throw new Error(`${fn}: passages must be a non-empty array of Int32Arrays, got ${describe(passages)}`);
  const out = new Float32Array(passages.length * vocabSize);
  passages.forEach((p, i) => {
    if (!(p instanceof Int32Array) || p.length === 0) throw new Error(`${fn}: passages[${i}] must be a non-empty Int32Array, got ${describe(p)}`);
    for (let t = 0; t < p.length; t++) {
      if (!Number.isInteger(p[t]) || p[t] < 0 || p[t] >= vocabSize) {
        throw new Error(`${fn}: passages[${i}][${t}] must be an id in [0, ${vocabSize}), got ${p[t]}`);
      }
      out[i * vocabSize + p[t]] += 1 / p.length;
    }
  });
  return tf.tensor2d(out, [passages.length, vocabSize]);
}

/**
 * The `maxWords` most frequent whitespace-separated words of `texts` seen at
 * least `minCount` times, by decreasing count, ties in code-unit order: the
 * columns of {@link bagOfWords}. Build it from the TRAINING passages only.
 *
 * Shapes: `texts` `[n]` -> `[words]`.
 *
 * @example
 * const words = wordVocabulary(genres.train.texts, { maxWords: 2000 });
 */
export function wordVocabulary(texts: readonly string[], options: { maxWords?: number; minCount?: number } = {}): string[] {
  const fn = "wordVocabulary";
  checkOptions(fn, options, "{maxWords?, minCount?}");
  const { maxWords = 2000, minCount = 2 } = options;
  checkPositiveInteger(fn, "options.maxWords", maxWords);
  checkPositiveInteger(fn, "options.minCount", minCount);
  const counts = new Map<string, number>();
  wordsOf(fn, texts).forEach((words) => words.forEach((w) => counts.set(w, (counts.get(w) ?? 0) + 1)));
  const words = [...counts.entries()]
    .filter(([, c]) => c >= minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, maxWords)
    .map(([w]) => w);
  if (words.length === 0) throw new Error(`${fn}: texts must hold a word seen at least options.minCount = ${minCount} times, got none`);
  return words;
}

/**
 * Bag-of-words features: row i holds, for every word of `vocabulary`, its
 * count in text i divided by the number of words of text i (words outside
 * the vocabulary count in the denominator only). The classic text
 * classification baseline; on character passages the first and last words
 * may be cut, as they are for the model.
 *
 * Shapes: `texts` `[n]`, `vocabulary` `[words]` -> `[n, words]` float32.
 *
 * @example
 * const words = wordVocabulary(genres.train.texts);
 * const trainX = bagOfWords(genres.train.texts, words); // [nTrain, words.length]
 */
export function bagOfWords(texts: readonly string[], vocabulary: readonly string[]): tf.Tensor2D {
  const fn = "bagOfWords";
  if (!Array.isArray(vocabulary) || vocabulary.length === 0) throw new Error(`${fn}: vocabulary must be a non-empty array of words, got ${describe(vocabulary)}`);
  const column = new Map<string, number>();
  vocabulary.forEach((w, j) => {
    if (typeof w !== "string" || w.length === 0 || /\s/.test(w)) throw new Error(`${fn}: vocabulary[${j}] must be a word without whitespace, got ${describe(w)}`);
    if (column.has(w)) throw new Error(`${fn}: vocabulary[${j}] must not repeat an earlier word, got ${describe(w)}`);
    column.set(w, j);
  });
  const rows = wordsOf(fn, texts);
  if (rows.length === 0) throw new Error(`${fn}: texts must be a non-empty array of strings, got ${describe(texts)}`);
  const d = vocabulary.length;
  const out = new Float32Array(rows.length * d);
  rows.forEach((words, i) => {
    for (const w of words) {
      const j = column.get(w);
      if (j !== undefined) out[i * d + j] += 1 / words.length;
    }
  });
  return tf.tensor2d(out, [rows.length, d]);
}

/** The whitespace-separated words of every text, checked. */
function wordsOf(fn: string, texts: readonly string[]): string[][] {
  if (!Array.isArray(texts)) throw new Error(`${fn}: texts must be an array of strings, got ${describe(texts)}`);
  return texts.map((t, i) => {
    if (typeof t !== "string") throw new Error(`${fn}: texts[${i}] must be a string, got ${describe(t)}`);
    return t.split(/\s+/).filter((w) => w.length > 0);
  });
}
