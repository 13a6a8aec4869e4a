/**
 * The Word Embedding Association Test (WEAT; Caliskan, Bryson & Narayanan
 * 2017, "Semantics derived automatically from language corpora contain
 * human-like biases", Science 356(6334)): the Implicit Association Test
 * rebuilt on word vectors, with cosine similarity in place of reaction time.
 *
 * Two target lists X, Y (flowers, insects) and two attribute lists A, B
 * (pleasant, unpleasant). Each target word's association with the
 * attributes is
 *
 *   s(w, A, B) = mean_{a in A} cos(w, a) - mean_{b in B} cos(w, b),
 *
 * the test statistic is s(X, Y, A, B) = sum_{x in X} s(x, A, B) -
 * sum_{y in Y} s(y, A, B), and the effect size is
 *
 *   d = (mean_{x in X} s(x, A, B) - mean_{y in Y} s(y, A, B)) / std_{w in X u Y} s(w, A, B),
 *
 * a Cohen's d: ~0.2 small, ~0.8 large, at most 2 in magnitude with the
 * population std. The one-sided p-value is the share of equal-size
 * re-partitions (X_i, Y_i) of X u Y whose statistic is at least the
 * observed one: how often words assigned to X and Y at random look as
 * associated as the real lists.
 *
 * Decisions this module makes (each an option):
 * - std: the paper's "std-dev over w in X u Y" is taken as the sample std
 *   (n - 1) by default; numpy reimplementations (np.std) use the population
 *   std, which gives d larger by sqrt(n / (n - 1)) (1.03 for 8 + 8 words);
 *   `options.std: "population"` reproduces them.
 * - p-value: `>=` (the observed partition counts), so p >= 1 / partitions,
 *   where the paper writes `>` (which can give p = 0). With few covered
 *   words that floor is high: 4 + 4 words give at best 1 / 70 = 0.014,
 *   5 + 5 words 1 / 252 = 0.004. Exact enumeration
 *   when C(|X|+|Y|, |X|) <= `maxExactPartitions`, otherwise a seeded Monte
 *   Carlo estimate (1 + hits) / (1 + permutations) (Phipson & Smyth 2010:
 *   never 0, a valid p-value).
 * - unequal sizes: the paper's lists have |X| = |Y|, but a vocabulary may
 *   cover more words of one list. By default the larger covered target list
 *   is subsampled (seeded) to the smaller's size and the words left out are
 *   reported in `droppedForBalance`; `unequalTargets: "error"` throws
 *   instead, and `"keep"` keeps every covered word: the permutation test
 *   then re-partitions X u Y into parts of the covered sizes, still an exact
 *   test of "the labels X, Y are exchangeable", but the statistic (a
 *   difference of sums) then grows with the larger list, so compare effect
 *   sizes (differences of means), not statistics, across tests. Attribute
 *   lists may differ in size (s uses their means).
 * - words missing from the vocabulary are left out and reported in
 *   `coverage`; a list with fewer than 2 covered words throws.
 */
import { tf } from "../backend/tf";
import { createRng } from "../data/random";
import { checkMatrix, checkOneOf, checkPositiveInteger, checkInteger, describe } from "../validation/arguments";

/** What WEAT needs of a vocabulary (a `data.Vocab` fits): whether a word has its own id, and the id. */
export interface WordIndex {
  has(word: string): boolean;
  index(word: string): number;
}

/** Which words of a list a vocabulary covers. */
export interface WordCoverage {
  /** Words with their own id, in list order. */
  covered: string[];
  /** Words without one, in list order. */
  missing: string[];
  /** `[covered.length]` ids of `covered`. */
  ids: Int32Array;
}

/**
 * Splits `words` into those `vocab` has and those it lacks. A word listed
 * twice throws (it would count twice in a mean).
 *
 * Shapes: `ids` `[covered.length]`.
 *
 * @example
 * evaluation.wordCoverage(vocab, ["rose", "zinnia"]); // { covered: ["rose"], missing: ["zinnia"], ids: Int32Array [812] }
 */
export function wordCoverage(vocab: WordIndex, words: readonly string[], listName = "words"): WordCoverage {
  checkWordIndex("wordCoverage", vocab);
  return coverageOf("wordCoverage", vocab, words, listName);
}

function checkWordIndex(fn: string, vocab: unknown): asserts vocab is WordIndex {
  const v = vocab as WordIndex | null;
  if (v === null || typeof v !== "object" || typeof v.has !== "function" || typeof v.index !== "function") {
    throw new Error(`${fn}: vocab must be a vocabulary with has(word) and index(word) (e.g. data.buildVocab's), got ${describe(vocab)}`);
  }
}

function coverageOf(fn: string, vocab: WordIndex, words: readonly string[], listName: string): WordCoverage {
  if (!Array.isArray(words)) throw new Error(`${fn}: ${listName} must be an array of words, got ${describe(words)}`);
  const seen = new Set<string>();
  const covered: string[] = [];
  const missing: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (typeof w !== "string") throw new Error(`${fn}: ${listName}[${i}] must be a string, got ${describe(w)}`);
    if (seen.has(w)) throw new Error(`${fn}: ${listName} must not repeat a word, got "${w}" twice`);
    seen.add(w);
    (vocab.has(w) ? covered : missing).push(w);
  }
  return { covered, missing, ids: Int32Array.from(covered, (w) => vocab.index(w)) };
}

/** The four lists of a WEAT test (`data.WEAT_TESTS` entries fit). */
export interface WeatLists {
  /** Target words X. */
  x: readonly string[];
  /** Target words Y. */
  y: readonly string[];
  /** Attribute words A. */
  a: readonly string[];
  /** Attribute words B. */
  b: readonly string[];
}

/** Options of {@link weat} and {@link weatPermutationTest}. */
export interface WeatOptions {
  /** Seed of the Monte Carlo permutations and of the balancing subsample; default 0. */
  seed?: number;
  /** Random partitions when the exact test is too large; default 10000. */
  permutations?: number;
  /** Enumerate every partition when there are at most this many; default 100000 (8 + 8 words: 12870). */
  maxExactPartitions?: number;
  /** Covered X and Y of different sizes: subsample the larger (default), keep both as they are, or throw. */
  unequalTargets?: "subsample" | "keep" | "error";
  /** Std of the effect size's denominator: "sample" (n - 1, default) or "population" (n). */
  std?: "sample" | "population";
}

/** A permutation test's answer. */
export interface PermutationTestResult {
  /** One-sided p-value: P(statistic of a random partition >= observed). */
  pValue: number;
  /** "exact": every partition enumerated; "monte-carlo": `permutations` random ones. */
  method: "exact" | "monte-carlo";
  /** Partitions enumerated or drawn. */
  permutations: number;
}

/** What {@link weat} returns. */
export interface WeatResult extends PermutationTestResult {
  /** Coverage of each list by the vocabulary. */
  coverage: { x: WordCoverage; y: WordCoverage; a: WordCoverage; b: WordCoverage };
  /** Target words X used (covered, after balancing). */
  x: string[];
  /** Target words Y used. */
  y: string[];
  /** Covered target words left out so that |X| = |Y| (empty when they were equal or with `unequalTargets: "keep"`). */
  droppedForBalance: string[];
  /** `[x.length]` and `[y.length]` s(w, A, B) of each word used, for a plot. */
  associations: { x: Float64Array; y: Float64Array };
  /** s(X, Y, A, B) = sum_x s(x, A, B) - sum_y s(y, A, B). */
  statistic: number;
  /** Cohen's d (NaN when every s(w, A, B) is equal, so the std is 0). */
  effectSize: number;
}

/**
 * WEAT (Caliskan et al. 2017) on word vectors: coverage of the four lists,
 * each target word's association s(w, A, B), the test statistic, the
 * effect size and the permutation p-value (see the module comment for the
 * choices: sample std, `>=`, exact below `maxExactPartitions`, balancing by
 * seeded subsampling). Cosines are computed in float64 from the rows the
 * lists use; a zero row has cosine 0 with everything, as in `pairCosines`.
 *
 * Shapes: `vectors` `[vocabSize, dim]` (rows indexed by `vocab`'s ids).
 *
 * @example
 * const r = evaluation.weat(skipGram.input, vocab, data.WEAT_TESTS.weat7, { seed: 0 });
 * r.coverage.x.missing; // ["calculus", ...]
 * r.effectSize, r.pValue;
 */
export function weat(vectors: tf.Tensor2D, vocab: WordIndex, lists: WeatLists, options: WeatOptions = {}): WeatResult {
  const fn = "weat";
  checkMatrix(fn, "vectors", vectors);
  checkWordIndex(fn, vocab);
  if (lists === null || typeof lists !== "object") throw new Error(`${fn}: lists must be an object {x, y, a, b} of word arrays, got ${describe(lists)}`);
  const unequal = options.unequalTargets ?? "subsample";
  checkOneOf(fn, "options.unequalTargets", unequal, ["subsample", "keep", "error"]);
  const seed = options.seed ?? 0;
  checkInteger(fn, "options.seed", seed);
  const coverage = {
    x: coverageOf(fn, vocab, lists.x, "lists.x"),
    y: coverageOf(fn, vocab, lists.y, "lists.y"),
    a: coverageOf(fn, vocab, lists.a, "lists.a"),
    b: coverageOf(fn, vocab, lists.b, "lists.b"),
  };
  for (const key of ["x", "y", "a", "b"] as const) {
    const c = coverage[key];
    if (c.covered.length < 2) {
      throw new Error(
        `${fn}: lists.${key} must have at least 2 words in the vocabulary, got ${c.covered.length}` +
          ` (${c.covered.length === 0 ? "none" : c.covered.join(", ")}; missing: ${c.missing.join(", ") || "none"})`,
      );
    }
  }
  const shared = coverage.x.covered.filter((w) => coverage.y.covered.includes(w));
  if (shared.length > 0) throw new Error(`${fn}: lists.x and lists.y must not share a word (a word cannot be on both sides), got ${shared.join(", ")} in both`);
  const rows = vectors.shape[0];
  for (const key of ["x", "y", "a", "b"] as const) {
    const c = coverage[key];
    c.ids.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= rows) {
        throw new Error(`${fn}: vocab.index("${c.covered[i]}") must be a row of vectors in [0, ${rows}), got ${id}`);
      }
    });
  }
  let x = coverage.x.covered.map((w, i) => ({ w, id: coverage.x.ids[i] }));
  let y = coverage.y.covered.map((w, i) => ({ w, id: coverage.y.ids[i] }));
  const droppedForBalance: string[] = [];
  if (x.length !== y.length && unequal !== "keep") {
    if (unequal === "error") {
      throw new Error(
        `${fn}: lists.x and lists.y must have as many words in the vocabulary (the test permutes equal-size partitions), got ${x.length} and ${y.length}; ` +
          `pass options.unequalTargets "subsample" to subsample the larger or "keep" to permute unequal parts`,
      );
    }
    // Keep a seeded random subset of the larger list, in its list order.
    const rng = createRng(seed);
    const balance = (list: typeof x, size: number) => {
      const keep = new Set(Array.from(rng.permutation(list.length)).slice(0, size));
      list.forEach((e, i) => keep.has(i) || droppedForBalance.push(e.w));
      return list.filter((_, i) => keep.has(i));
    };
    if (x.length > y.length) x = balance(x, y.length);
    else y = balance(y, x.length);
  }
  const unit = unitRows(vectors, [...x.map((e) => e.id), ...y.map((e) => e.id), ...coverage.a.ids, ...coverage.b.ids]);
  const dim = vectors.shape[1];
  const rowOf = (k: number) => unit.subarray(k * dim, (k + 1) * dim);
  const aStart = x.length + y.length;
  const bStart = aStart + coverage.a.ids.length;
  const association = (k: number): number => {
    const w = rowOf(k);
    let sa = 0;
    for (let j = aStart; j < bStart; j++) sa += dot(w, rowOf(j));
    let sb = 0;
    for (let j = bStart; j < bStart + coverage.b.ids.length; j++) sb += dot(w, rowOf(j));
    return sa / coverage.a.ids.length - sb / coverage.b.ids.length;
  };
  const sx = Float64Array.from(x, (_, i) => association(i));
  const sy = Float64Array.from(y, (_, i) => association(x.length + i));
  const test = weatPermutationTest(sx, sy, options);
  return {
    coverage,
    x: x.map((e) => e.w),
    y: y.map((e) => e.w),
    droppedForBalance,
    associations: { x: sx, y: sy },
    statistic: sum(sx) - sum(sy),
    effectSize: weatEffectSize(sx, sy, options.std ?? "sample"),
    ...test,
  };
}

/**
 * WEAT's effect size from the associations s(w, A, B) of the target words:
 * (mean sx - mean sy) / std(sx u sy), with the sample std (n - 1) by
 * default or the population std. NaN when the std is 0.
 *
 * Shapes: `sx` `[|X|]`, `sy` `[|Y|]` -> a number.
 *
 * @example
 * evaluation.weatEffectSize([1, 2], [0, -1]); // (1.5 - -0.5) / std([1, 2, 0, -1]) = 2 / 1.291 = 1.549
 */
export function weatEffectSize(sx: ArrayLike<number>, sy: ArrayLike<number>, std: "sample" | "population" = "sample"): number {
  checkAssociations("weatEffectSize", sx, sy);
  checkOneOf("weatEffectSize", "std", std, ["sample", "population"]);
  const all = [...Array.from(sx), ...Array.from(sy)];
  const mean = sum(all) / all.length;
  let ss = 0;
  for (const v of all) ss += (v - mean) ** 2;
  const sd = Math.sqrt(ss / (std === "sample" ? all.length - 1 : all.length));
  return (sum(sx) / sx.length - sum(sy) / sy.length) / sd;
}

/**
 * WEAT's one-sided permutation test on the associations of the target
 * words: the share of partitions of sx u sy into parts of sizes |sx| and
 * |sy| whose statistic sum(part 1) - sum(part 2) is >= the observed one.
 * Exact (every partition) when there are at most `maxExactPartitions`,
 * else `permutations` seeded random partitions, p = (1 + hits) / (1 +
 * permutations). Sizes may differ here (the partitions keep them).
 *
 * Shapes: `sx` `[|X|]`, `sy` `[|Y|]`.
 *
 * @example
 * evaluation.weatPermutationTest([3, 2], [1, 0]).pValue; // 1 / 6: of the C(4, 2) = 6 partitions only the observed one reaches (3 + 2) - (1 + 0) = 4
 */
export function weatPermutationTest(sx: ArrayLike<number>, sy: ArrayLike<number>, options: WeatOptions = {}): PermutationTestResult {
  const fn = "weatPermutationTest";
  checkAssociations(fn, sx, sy);
  const permutations = options.permutations ?? 10000;
  const maxExact = options.maxExactPartitions ?? 100000;
  const seed = options.seed ?? 0;
  checkPositiveInteger(fn, "options.permutations", permutations);
  checkPositiveInteger(fn, "options.maxExactPartitions", maxExact);
  checkInteger(fn, "options.seed", seed);
  const values = Float64Array.from([...Array.from(sx), ...Array.from(sy)]);
  const n = values.length;
  const k = sx.length;
  const total = sum(values);
  // statistic(part) = sum(part) - (total - sum(part)) = 2 sum(part) - total: compare part sums.
  const observed = sum(sx);
  let scale = 0;
  for (const v of values) scale += Math.abs(v);
  const tolerance = 1e-12 * Math.max(scale, 1e-300); // equal sums reached by another order of additions
  const reaches = (partSum: number) => partSum >= observed - tolerance;
  const partitions = binomial(n, k);
  if (partitions <= maxExact) {
    let hits = 0;
    const chosen = Int32Array.from({ length: k }, (_, i) => i);
    for (let count = 0; ; count++) {
      let s = 0;
      for (let i = 0; i < k; i++) s += values[chosen[i]];
      if (reaches(s)) hits++;
      // Next k-subset in lexicographic order.
      let i = k - 1;
      while (i >= 0 && chosen[i] === n - k + i) i--;
      if (i < 0) return { pValue: hits / (count + 1), method: "exact", permutations: count + 1 };
      chosen[i]++;
      for (let j = i + 1; j < k; j++) chosen[j] = chosen[j - 1] + 1;
    }
  }
  const rng = createRng(seed);
  let hits = 0;
  for (let t = 0; t < permutations; t++) {
    const order = rng.permutation(n);
    let s = 0;
    for (let i = 0; i < k; i++) s += values[order[i]];
    if (reaches(s)) hits++;
  }
  return { pValue: (1 + hits) / (1 + permutations), method: "monte-carlo", permutations };
}

function checkAssociations(fn: string, sx: ArrayLike<number>, sy: ArrayLike<number>): void {
  for (const [name, v] of [["sx", sx], ["sy", sy]] as const) {
    if (v === null || typeof v !== "object" || typeof v.length !== "number" || v.length < 1) {
      throw new Error(`${fn}: ${name} must be a non-empty array of numbers, got ${describe(v)}`);
    }
    for (let i = 0; i < v.length; i++) {
      if (typeof v[i] !== "number" || !Number.isFinite(v[i])) throw new Error(`${fn}: ${name}[${i}] must be a finite number, got ${describe(v[i])}`);
    }
  }
  if (sx.length + sy.length < 3) throw new Error(`${fn}: sx and sy must hold at least 3 values together, got ${sx.length} and ${sy.length}`);
}

/** C(n, k) as a float (exact below 2^53, and large enough to compare with a limit above it). */
function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= Math.min(k, n - k); i++) c = (c * (n - Math.min(k, n - k) + i)) / i;
  return Math.round(c);
}

/**
 * `[ids.length * dim]` float64 copies of rows `ids` of `vectors`, each
 * scaled to unit length (a zero row stays zero). Internal to the bias
 * modules.
 */
export function unitRows(vectors: tf.Tensor2D, ids: ArrayLike<number>): Float64Array {
  const picked = tf.tidy(() => tf.gather(vectors, tf.tensor1d(Int32Array.from(ids), "int32")));
  const raw = picked.dataSync();
  picked.dispose();
  const dim = vectors.shape[1];
  const out = Float64Array.from(raw);
  for (let r = 0; r < ids.length; r++) normalizeInPlace(out.subarray(r * dim, (r + 1) * dim));
  return out;
}

/** Scales `v` to unit length in place; a zero vector stays zero. Returns the original norm. */
export function normalizeInPlace(v: Float64Array): number {
  const norm = Math.sqrt(dot(v, v));
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] /= norm;
  return norm;
}

function dot(u: ArrayLike<number>, v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < u.length; i++) s += u[i] * v[i];
  return s;
}

function sum(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s;
}
