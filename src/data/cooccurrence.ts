/**
 * Encoded corpora and word-word co-occurrence counts: the input of word2vec
 * (pairs inside a window) and GloVe (the count matrix), and the plain-count
 * baseline that learned word vectors must beat.
 *
 * The count matrix is sparse (compressed sparse rows, columns sorted within
 * a row): a 15,000-word vocabulary gives 225M cells of which a few million
 * are non-zero.
 *
 * Source: J. Pennington, R. Socher, C. D. Manning, "GloVe: Global Vectors for
 * Word Representation", EMNLP 2014, section 4.2 (a symmetric window, each
 * pair weighted by 1/distance).
 */
import type { Vocab } from "./vocab";
import { checkIntegerInRange, checkPositiveInteger } from "../validation/arguments";

/** Options of {@link encodeSentences}. */
export interface EncodeSentencesOptions {
  /**
   * Leave out words without their own id (`vocab.unkId`) before windows are
   * formed, as the word2vec and GloVe tools do, so a window spans over them.
   * Default true.
   */
  dropUnknown?: boolean;
  /** Leave out sentences shorter than this after dropping; default 2 (a single word has no context). */
  minLength?: number;
}

/**
 * Encodes tokenised sentences with `vocab`: one `Int32Array` of ids per kept
 * sentence.
 *
 * Shapes: `sentences` `[n][length_i]` words -> `[m][length_j]` ids, `m <= n`.
 *
 * @example
 * const vocab = data.buildVocab(data.brownTokens(docs, { lowercase: true }), { minCount: 5 });
 * const corpus = data.encodeSentences(data.brownSentences(docs, { lowercase: true }), vocab);
 */
export function encodeSentences(
  sentences: readonly (readonly string[])[],
  vocab: Vocab,
  options: EncodeSentencesOptions = {},
): Int32Array[] {
  const dropUnknown = options.dropUnknown ?? true;
  const minLength = options.minLength ?? 2;
  if (!Array.isArray(sentences)) {
    throw new Error(`encodeSentences: sentences must be an array of word arrays, got ${typeof sentences}`);
  }
  checkPositiveInteger("encodeSentences", "options.minLength", minLength);
  const out: Int32Array[] = [];
  for (let s = 0; s < sentences.length; s++) {
    if (!Array.isArray(sentences[s])) {
      throw new Error(`encodeSentences: sentences[${s}] must be an array of words, got ${typeof sentences[s]}`);
    }
    let ids = vocab.encode(sentences[s]);
    if (dropUnknown) ids = ids.filter((id) => id !== vocab.unkId);
    if (ids.length >= minLength) out.push(ids);
  }
  return out;
}

/**
 * A sparse symmetric `[vocabSize, vocabSize]` matrix in compressed sparse
 * rows: the entries of row `i` are `colIndex[rowStart[i] .. rowStart[i+1])`
 * (ascending) with values `values[...]`.
 */
export interface CooccurrenceMatrix {
  /** Rows and columns. */
  readonly vocabSize: number;
  /** `[vocabSize + 1]` offsets of each row's entries. */
  readonly rowStart: Int32Array;
  /** `[nnz]` column of each entry, ascending within a row. */
  readonly colIndex: Int32Array;
  /** `[nnz]` value of each entry, > 0. */
  readonly values: Float64Array;
  /** Number of stored (non-zero) entries. */
  readonly nnz: number;
}

/** Options of {@link cooccurrenceCounts}. */
export interface CooccurrenceOptions {
  /** Rows and columns; every id must be in `[0, vocabSize)`. */
  vocabSize: number;
  /** Words on each side counted as context; default 10 (GloVe's choice). */
  window?: number;
  /** `"harmonic"` (default): a pair `d` words apart adds `1/d` (GloVe); `"uniform"`: it adds 1. */
  weighting?: "harmonic" | "uniform";
}

/**
 * Counts how often word `j` occurs within `window` words of word `i` in the
 * same sentence, both directions (so the matrix is symmetric), a pair at
 * distance `d` adding `1/d` under harmonic weighting.
 *
 * Shapes: `corpus` `[sentences][length]` ids -> `[vocabSize, vocabSize]` sparse.
 *
 * @example
 * const counts = data.cooccurrenceCounts(corpus, { vocabSize: vocab.size, window: 5 });
 * data.cooccurrenceValue(counts, vocab.index("new"), vocab.index("york"));
 */
export function cooccurrenceCounts(corpus: readonly Int32Array[], options: CooccurrenceOptions): CooccurrenceMatrix {
  const { vocabSize } = options;
  const window = options.window ?? 10;
  const weighting = options.weighting ?? "harmonic";
  checkPositiveInteger("cooccurrenceCounts", "options.vocabSize", vocabSize);
  checkPositiveInteger("cooccurrenceCounts", "options.window", window);
  if (weighting !== "harmonic" && weighting !== "uniform") {
    throw new Error(`cooccurrenceCounts: options.weighting must be "harmonic" or "uniform", got ${JSON.stringify(weighting)}`);
  }
  checkCorpus("cooccurrenceCounts", corpus, vocabSize);
  // One hash map per row keeps keys small (the column) and rows easy to sort.
  const rows: Map<number, number>[] = Array.from({ length: vocabSize }, () => new Map());
  for (const sentence of corpus) {
    for (let p = 0; p < sentence.length; p++) {
      const i = sentence[p];
      const end = Math.min(sentence.length - 1, p + window);
      for (let q = p + 1; q <= end; q++) {
        const j = sentence[q];
        const w = weighting === "harmonic" ? 1 / (q - p) : 1;
        const ri = rows[i];
        ri.set(j, (ri.get(j) ?? 0) + w);
        const rj = rows[j];
        rj.set(i, (rj.get(i) ?? 0) + w);
      }
    }
  }
  const rowStart = new Int32Array(vocabSize + 1);
  for (let i = 0; i < vocabSize; i++) rowStart[i + 1] = rowStart[i] + rows[i].size;
  const nnz = rowStart[vocabSize];
  const colIndex = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  for (let i = 0; i < vocabSize; i++) {
    const cols = Int32Array.from(rows[i].keys()).sort();
    let k = rowStart[i];
    for (const c of cols) {
      colIndex[k] = c;
      values[k] = rows[i].get(c) as number;
      k++;
    }
    rows[i].clear();
  }
  return Object.freeze({ vocabSize, rowStart, colIndex, values, nnz });
}

/**
 * The entry `(i, j)` of a co-occurrence matrix (0 when not stored), by
 * binary search in row `i`.
 *
 * @example
 * data.cooccurrenceValue(counts, 3, 7); // 2.5
 */
export function cooccurrenceValue(matrix: CooccurrenceMatrix, i: number, j: number): number {
  checkIntegerInRange("cooccurrenceValue", "i", i, 0, matrix.vocabSize, { maxExclusive: true });
  checkIntegerInRange("cooccurrenceValue", "j", j, 0, matrix.vocabSize, { maxExclusive: true });
  let lo = matrix.rowStart[i];
  let hi = matrix.rowStart[i + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = matrix.colIndex[mid];
    if (c === j) return matrix.values[mid];
    if (c < j) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}

/**
 * Cosine similarity of rows `a[k]` and `b[k]` of the count matrix, for each
 * k: the baseline "words are similar when they have the same neighbours",
 * with no learning. A row with no entries has cosine 0 with everything.
 *
 * Shapes: `a`, `b` `[pairs]` ids -> `[pairs]` cosines.
 *
 * @example
 * data.cooccurrenceCosine(counts, [vocab.index("big")], [vocab.index("large")]);
 */
export function cooccurrenceCosine(
  matrix: CooccurrenceMatrix,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): Float64Array {
  if (a.length !== b.length) {
    throw new Error(`cooccurrenceCosine: b must have shape [${a.length}] like a, got [${b.length}]`);
  }
  const { rowStart, colIndex, values } = matrix;
  const norms = new Float64Array(matrix.vocabSize);
  for (let i = 0; i < matrix.vocabSize; i++) {
    let s = 0;
    for (let k = rowStart[i]; k < rowStart[i + 1]; k++) s += values[k] * values[k];
    norms[i] = Math.sqrt(s);
  }
  const out = new Float64Array(a.length);
  for (let p = 0; p < a.length; p++) {
    const i = a[p];
    const j = b[p];
    checkIntegerInRange("cooccurrenceCosine", `a[${p}]`, i, 0, matrix.vocabSize, { maxExclusive: true });
    checkIntegerInRange("cooccurrenceCosine", `b[${p}]`, j, 0, matrix.vocabSize, { maxExclusive: true });
    if (norms[i] === 0 || norms[j] === 0) continue;
    // Merge of two sorted rows.
    let x = rowStart[i];
    let y = rowStart[j];
    const xEnd = rowStart[i + 1];
    const yEnd = rowStart[j + 1];
    let dot = 0;
    while (x < xEnd && y < yEnd) {
      const cx = colIndex[x];
      const cy = colIndex[y];
      if (cx === cy) dot += values[x++] * values[y++];
      else if (cx < cy) x++;
      else y++;
    }
    out[p] = dot / (norms[i] * norms[j]);
  }
  return out;
}

/** Throws unless `corpus` is an array of Int32Array with every id in `[0, vocabSize)`. */
export function checkCorpus(fn: string, corpus: readonly Int32Array[], vocabSize: number): void {
  if (!Array.isArray(corpus)) {
    throw new Error(`${fn}: corpus must be an array of Int32Array sentences, got ${typeof corpus}`);
  }
  for (let s = 0; s < corpus.length; s++) {
    const sentence = corpus[s];
    if (!(sentence instanceof Int32Array)) {
      throw new Error(`${fn}: corpus[${s}] must be an Int32Array of word ids, got ${Object.prototype.toString.call(sentence)}`);
    }
    for (let p = 0; p < sentence.length; p++) {
      const id = sentence[p];
      if (id < 0 || id >= vocabSize) {
        throw new Error(`${fn}: corpus[${s}][${p}] must be an id in [0, ${vocabSize}), got ${id}`);
      }
    }
  }
}
