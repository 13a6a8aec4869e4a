/**
 * Judging word vectors by synonyms: do words that share a WordNet synset get
 * a higher cosine than random pairs of the same words? The answer is one
 * number, the ROC AUC of cosine as a synonym detector (0.5: chance, 1: every
 * synonym pair above every random pair), plus nearest-neighbour lists to
 * read by eye.
 *
 * Negatives are random pairs drawn from the words that occur in the synonym
 * pairs (not from the whole vocabulary), so both sides have the same word
 * frequencies and frequency alone cannot separate them.
 */
import { tf } from "../backend/tf";
import { l2NormalizeRows } from "../losses/ops/similarity";
import { createRng } from "../data/random";
import type { Synset } from "../data/wordnet";
import { synonymPairs } from "../data/wordnet";
import { checkIntegerInRange, checkMatrix, checkPositiveInteger, describe } from "../validation/arguments";

/** Word pairs by id: pair k is `(a[k], b[k])`. */
export interface WordPairs {
  /** `[pairs]` ids. */
  a: Int32Array;
  /** `[pairs]` ids. */
  b: Int32Array;
}

/** A synonym test: synonym pairs and random pairs of the same words. */
export interface SynonymBenchmark {
  /** Pairs of words sharing a synset. */
  positives: WordPairs;
  /** Random pairs of words that occur in `positives`, none of them synonyms. */
  negatives: WordPairs;
}

/** Options of {@link synonymBenchmark}. */
export interface SynonymBenchmarkOptions {
  /** Random pairs per synonym pair; default 1. */
  negativesPerPositive?: number;
  /** Seed of the random pairs; default 0. */
  seed?: number;
  /** Ids never used (e.g. `[vocab.unkId]`); default `[0]`. */
  exclude?: readonly number[];
}

/**
 * Builds the synonym test for a vocabulary: every single-word lemma pair
 * sharing a synset with both words in the vocabulary, and random pairs.
 *
 * Shapes: `words` `[vocabSize]` (the vocabulary's words by id).
 *
 * @example
 * const bench = evaluation.synonymBenchmark(vocab.words, data.loadWordNetSynsets(), { seed: 0 });
 */
export function synonymBenchmark(
  words: readonly string[],
  synsets: readonly Synset[],
  options: SynonymBenchmarkOptions = {},
): SynonymBenchmark {
  const perPositive = options.negativesPerPositive ?? 1;
  const seed = options.seed ?? 0;
  if (!Array.isArray(words)) throw new Error(`synonymBenchmark: words must be the vocabulary's word list, got ${typeof words}`);
  checkPositiveInteger("synonymBenchmark", "options.negativesPerPositive", perPositive);
  const excluded = new Set(options.exclude ?? [0]);
  const ids = new Map<string, number>();
  words.forEach((w, i) => {
    if (!excluded.has(i)) ids.set(w, i);
  });
  const pairs = synonymPairs(synsets, { keep: (w) => ids.has(w), singleWordOnly: true });
  if (pairs.length === 0) throw new Error("synonymBenchmark: no synonym pair has both words in words");
  const a = Int32Array.from(pairs, ([x]) => ids.get(x) as number);
  const b = Int32Array.from(pairs, ([, y]) => ids.get(y) as number);
  const synonymKeys = new Set<number>();
  const key = (x: number, y: number) => (x < y ? x * words.length + y : y * words.length + x);
  for (let k = 0; k < a.length; k++) synonymKeys.add(key(a[k], b[k]));
  const pool = Int32Array.from(new Set([...a, ...b])).sort();
  if (pool.length < 3) throw new Error(`synonymBenchmark: need at least 3 distinct words in synonym pairs, got ${pool.length}`);
  const rng = createRng(seed);
  const count = a.length * perPositive;
  const na = new Int32Array(count);
  const nb = new Int32Array(count);
  for (let k = 0; k < count; ) {
    const x = pool[rng.int(pool.length)];
    const y = pool[rng.int(pool.length)];
    if (x === y || synonymKeys.has(key(x, y))) continue;
    na[k] = x;
    nb[k] = y;
    k++;
  }
  return { positives: { a, b }, negatives: { a: na, b: nb } };
}

/**
 * Cosine similarity of rows `a[k]` and `b[k]` of `vectors`; a zero row has
 * cosine 0.
 *
 * Shapes: `vectors` `[vocabSize, dim]`, `pairs` `[pairs]` -> `[pairs]`.
 *
 * @example
 * evaluation.pairCosines(vectors, bench.positives);
 */
export function pairCosines(vectors: tf.Tensor2D, pairs: WordPairs): Float32Array {
  checkMatrix("pairCosines", "vectors", vectors);
  checkPairs("pairCosines", pairs, vectors.shape[0]);
  if (pairs.a.length === 0) return new Float32Array(0);
  const out = tf.tidy(() => {
    const unit = l2NormalizeRows(vectors); // a zero row stays zero (cosine 0)
    const x = tf.gather(unit, tf.tensor1d(pairs.a, "int32"));
    const y = tf.gather(unit, tf.tensor1d(pairs.b, "int32"));
    return tf.sum(tf.mul(x, y), 1);
  });
  const values = out.dataSync() as Float32Array;
  out.dispose();
  return Float32Array.from(values);
}

/**
 * Exact ROC AUC of a score separating positives from negatives: the
 * fraction of (positive, negative) pairs where the positive scores higher,
 * ties counted half (the Mann-Whitney U statistic over the product of the
 * sizes), computed from mid-ranks in O(n log n).
 *
 * Shapes: `[p]`, `[n]` -> a number in [0, 1].
 *
 * @example
 * evaluation.rocAuc([0.9, 0.5], [0.5, 0.1]); // (1 + 1 + 0.5 + 1) / 4 = 0.875
 */
export function rocAuc(positive: ArrayLike<number>, negative: ArrayLike<number>): number {
  const p = positive.length;
  const n = negative.length;
  if (p === 0 || n === 0) throw new Error(`rocAuc: positive and negative must be non-empty, got [${p}] and [${n}]`);
  const scores = new Float64Array(p + n);
  for (let i = 0; i < p; i++) scores[i] = positive[i];
  for (let i = 0; i < n; i++) scores[p + i] = negative[i];
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) {
      throw new Error(`rocAuc: ${i < p ? `positive[${i}]` : `negative[${i - p}]`} must be a number, got NaN`);
    }
  }
  const order = Array.from({ length: p + n }, (_, i) => i).sort((x, y) => scores[x] - scores[y]);
  let positiveRankSum = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1]] === scores[order[start]]) end++;
    const midRank = (start + end) / 2 + 1; // 1-based ranks start+1 .. end+1
    for (let k = start; k <= end; k++) if (order[k] < p) positiveRankSum += midRank;
    start = end + 1;
  }
  return (positiveRankSum - (p * (p + 1)) / 2) / (p * n);
}

/** What {@link synonymAuc} returns. */
export interface SynonymAucResult {
  /** ROC AUC of the score as a synonym detector. */
  auc: number;
  /** Mean score of synonym pairs. */
  positiveMean: number;
  /** Mean score of random pairs. */
  negativeMean: number;
}

/**
 * The synonym test of one similarity: `score` is `[vocabSize, dim]` word
 * vectors (scored by cosine) or a function giving the scores of pairs (e.g.
 * `(p) => data.cooccurrenceCosine(counts, p.a, p.b)` for the count baseline).
 *
 * @example
 * evaluation.synonymAuc(w2v.input, bench).auc; // e.g. 0.7
 */
export function synonymAuc(
  score: tf.Tensor2D | ((pairs: WordPairs) => ArrayLike<number>),
  benchmark: SynonymBenchmark,
): SynonymAucResult {
  const scoreOf = typeof score === "function" ? score : (pairs: WordPairs) => pairCosines(score, pairs);
  const pos = scoreOf(benchmark.positives);
  const neg = scoreOf(benchmark.negatives);
  if (pos.length !== benchmark.positives.a.length || neg.length !== benchmark.negatives.a.length) {
    throw new Error(
      `synonymAuc: score must return one value per pair ([${benchmark.positives.a.length}] and [${benchmark.negatives.a.length}]), got [${pos.length}] and [${neg.length}]`,
    );
  }
  const mean = (x: ArrayLike<number>): number => {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i];
    return s / x.length;
  };
  return { auc: rocAuc(pos, neg), positiveMean: mean(pos), negativeMean: mean(neg) };
}

/** Options of {@link nearestNeighbours}. */
export interface NearestNeighbourOptions {
  /** Neighbours per query; default 5. */
  k?: number;
  /** Ids never returned (e.g. `[vocab.unkId]`); the query itself is always left out. */
  exclude?: readonly number[];
}

/**
 * The `k` rows of `vectors` with the highest cosine to each query row.
 *
 * Shapes: `vectors` `[vocabSize, dim]`, `queries` `[q]` ids -> `ids` and
 * `similarities` `[q][k]`, most similar first.
 *
 * @example
 * const nn = evaluation.nearestNeighbours(vectors, [vocab.index("king")], { k: 5, exclude: [0] });
 * vocab.decode(nn.ids[0]);
 */
export function nearestNeighbours(
  vectors: tf.Tensor2D,
  queries: ArrayLike<number>,
  options: NearestNeighbourOptions = {},
): { ids: number[][]; similarities: number[][] } {
  const k = options.k ?? 5;
  checkMatrix("nearestNeighbours", "vectors", vectors);
  const size = vectors.shape[0];
  if (!Number.isInteger(k) || k < 1 || k >= size) {
    throw new Error(`nearestNeighbours: options.k must be an integer in [1, ${size - 1}], got ${k}`);
  }
  for (let i = 0; i < queries.length; i++) {
    if (!Number.isInteger(queries[i]) || queries[i] < 0 || queries[i] >= size) {
      throw new Error(`nearestNeighbours: queries[${i}] must be an id in [0, ${size}), got ${queries[i]}`);
    }
  }
  const excluded = options.exclude ?? [];
  const sims = tf.tidy(() => {
    const unit = l2NormalizeRows(vectors); // a zero row stays zero (cosine 0)
    const q = tf.gather(unit, tf.tensor1d(Int32Array.from(queries), "int32"));
    return tf.matMul(q, unit, false, true);
  });
  const values = sims.dataSync();
  sims.dispose();
  const ids: number[][] = [];
  const similarities: number[][] = [];
  for (let r = 0; r < queries.length; r++) {
    const row = values.subarray(r * size, (r + 1) * size);
    const skip = new Set([queries[r], ...excluded]);
    const best: number[] = [];
    for (let j = 0; j < size; j++) {
      if (skip.has(j)) continue;
      if (best.length < k || row[j] > row[best[best.length - 1]]) {
        let pos = best.length < k ? best.length : k - 1;
        best[pos] = j;
        while (pos > 0 && row[best[pos - 1]] < row[best[pos]]) {
          [best[pos - 1], best[pos]] = [best[pos], best[pos - 1]];
          pos--;
        }
      }
    }
    ids.push(best);
    similarities.push(best.map((j) => row[j]));
  }
  return { ids, similarities };
}

function checkPairs(fn: string, pairs: WordPairs, size: number): void {
  if (pairs.a.length !== pairs.b.length) {
    throw new Error(`${fn}: pairs.b must have ${pairs.a.length} entries like pairs.a, got ${describe(pairs.b)}`);
  }
  for (const side of ["a", "b"] as const) {
    const ids = pairs[side];
    for (let i = 0; i < ids.length; i++) {
      checkIntegerInRange(fn, `pairs.${side}[${i}]`, ids[i], 0, size, { maxExclusive: true });
    }
  }
}
