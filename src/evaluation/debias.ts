/**
 * Hard debiasing of word vectors (Bolukbasi, Chang, Zou, Saligrama & Kalai
 * 2016, "Man is to Computer Programmer as Woman is to Homemaker? Debiasing
 * Word Embeddings", NeurIPS).
 *
 * 1. A bias direction g: the first principal component of the definitional
 *    pairs centred on their means (she/he, woman/man, ...). A pair (a, b)
 *    centred on (a + b) / 2 gives the rows (a - b) / 2 and -(a - b) / 2, so
 *    the components are those of the half-differences; Bolukbasi et al. show
 *    the first explains far more variance than the rest (their Fig. 6),
 *    which `explainedVarianceRatio` lets a notebook plot.
 * 2. Neutralise: words that should carry no gender lose their component
 *    along g, w <- (w - (w . g) g) / |w - (w . g) g|.
 * 3. Equalise: each pair that should differ only by gender (grandmother,
 *    grandfather) becomes symmetric about the plane orthogonal to g: with
 *    mu the pair's mean, mu_B = (mu . g) g and nu = mu - mu_B,
 *    w <- nu + sqrt(1 - |nu|^2) (w_B - mu_B) / |w_B - mu_B|, so every
 *    neutralised word is equally far from both words.
 *
 * As in the paper, everything works on unit vectors: the direction is
 * computed from row-normalised vectors, projections are cosines with g, and
 * the tables {@link neutralize} and {@link equalize} return have every row
 * scaled to unit length (a zero row stays zero), which leaves cosines, and
 * so WEAT and nearest neighbours, unchanged for the rows not edited. The
 * math is plain float64 on the table's values (a few thousand words);
 * tables come in and go out as `tf.Tensor2D` `[vocabSize, dim]`, numbers
 * per word as Float32Array, like `pairCosines`.
 */
import { tf } from "../backend/tf";
import { checkMatrix, checkIntegerInRange, describe } from "../validation/arguments";
import { normalizeInPlace, unitRows, type WordIndex } from "./weat";

/** Which of a list of word pairs a vocabulary covers (both words). */
export interface PairCoverage {
  /** Pairs with both words in the vocabulary, in list order. */
  covered: [string, string][];
  /** Pairs with a word missing. */
  missing: [string, string][];
  /** `[covered.length]` id pairs of `covered`. */
  ids: [number, number][];
}

/**
 * Splits word pairs into those whose two words `vocab` has and the rest.
 *
 * @example
 * evaluation.pairCoverage(vocab, data.EQUALIZE_GENDER_PAIRS).ids; // [[id("convent"), id("monastery")], ...]
 */
export function pairCoverage(vocab: WordIndex, pairs: readonly (readonly [string, string])[]): PairCoverage {
  const fn = "pairCoverage";
  if (vocab === null || typeof vocab !== "object" || typeof vocab.has !== "function" || typeof vocab.index !== "function") {
    throw new Error(`${fn}: vocab must be a vocabulary with has(word) and index(word) (e.g. data.buildVocab's), got ${describe(vocab)}`);
  }
  if (!Array.isArray(pairs)) throw new Error(`${fn}: pairs must be an array of [word, word] pairs, got ${describe(pairs)}`);
  const out: PairCoverage = { covered: [], missing: [], ids: [] };
  pairs.forEach((p, i) => {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== "string" || typeof p[1] !== "string") {
      throw new Error(`${fn}: pairs[${i}] must be a pair of words [string, string], got ${describe(p)}`);
    }
    const pair: [string, string] = [p[0], p[1]];
    if (vocab.has(p[0]) && vocab.has(p[1])) {
      out.covered.push(pair);
      out.ids.push([vocab.index(p[0]), vocab.index(p[1])]);
    } else out.missing.push(pair);
  });
  return out;
}

/** What {@link biasDirection} returns. */
export interface BiasDirection {
  /** `[dim]` unit vector g, signed so that the first words of the pairs project higher than the second on average. */
  direction: Float32Array;
  /** `[min(pairs, dim)]` share of the pairs' variance along each principal component, largest first (sums to 1). */
  explainedVarianceRatio: Float64Array;
  /** The pairs used (both words covered) and those left out. */
  coverage: PairCoverage;
}

/**
 * The bias direction of Bolukbasi et al. 2016: the first principal
 * component of the definitional pairs' vectors (unit-normalised) centred on
 * each pair's mean. With the gender pairs (`data.DEFINITIONAL_GENDER_PAIRS`,
 * written (female, male)) this is the gender direction, pointing to the
 * female side. Pairs with a word outside the vocabulary are left out and
 * reported; fewer than 2 covered pairs throws.
 *
 * Shapes: `vectors` `[vocabSize, dim]` -> `direction` `[dim]`.
 *
 * @example
 * const g = evaluation.biasDirection(skipGram.input, vocab, data.DEFINITIONAL_GENDER_PAIRS);
 * g.explainedVarianceRatio[0]; // e.g. 0.3: the share of the first component
 */
export function biasDirection(vectors: tf.Tensor2D, vocab: WordIndex, pairs: readonly (readonly [string, string])[]): BiasDirection {
  const fn = "biasDirection";
  checkMatrix(fn, "vectors", vectors);
  const coverage = pairCoverage(vocab, pairs);
  if (coverage.covered.length < 2) {
    throw new Error(
      `${fn}: pairs must have at least 2 pairs with both words in the vocabulary, got ${coverage.covered.length} (missing: ${coverage.missing.map((p) => p.join("/")).join(", ") || "none"})`,
    );
  }
  const n = coverage.ids.length;
  const dim = vectors.shape[1];
  checkIds(fn, "the vocabulary ids of pairs", coverage.ids.flat(), vectors.shape[0]);
  const unit = unitRows(vectors, coverage.ids.flat());
  // Rows of D: the half-differences (a - b) / 2, [n, dim].
  const half = new Float64Array(n * dim);
  for (let p = 0; p < n; p++) for (let j = 0; j < dim; j++) half[p * dim + j] = (unit[2 * p * dim + j] - unit[(2 * p + 1) * dim + j]) / 2;
  // PCA through the n x n Gram matrix D D^T (n pairs << dim): D^T u / |D^T u| is a principal axis.
  const gram = new Float64Array(n * n);
  for (let p = 0; p < n; p++) for (let q = 0; q <= p; q++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += half[p * dim + j] * half[q * dim + j];
    gram[p * n + q] = s;
    gram[q * n + p] = s;
  }
  const { values, vectors: eig } = symmetricEigen(gram, n);
  const order = Array.from(values.keys()).sort((i, j) => values[j] - values[i]);
  const kept = order.slice(0, Math.min(n, dim)).map((i) => Math.max(values[i], 0));
  const totalVariance = kept.reduce((s, v) => s + v, 0);
  if (!(totalVariance > 0)) throw new Error(`${fn}: the pairs' words must differ, got identical vectors for every covered pair`);
  const top = order[0];
  const g = new Float64Array(dim);
  for (let p = 0; p < n; p++) for (let j = 0; j < dim; j++) g[j] += eig[p * n + top] * half[p * dim + j];
  normalizeInPlace(g);
  // Sign: first words of the pairs on the positive side on average.
  let side = 0;
  for (let p = 0; p < n; p++) for (let j = 0; j < dim; j++) side += half[p * dim + j] * g[j];
  if (side < 0) for (let j = 0; j < dim; j++) g[j] = -g[j];
  return {
    direction: Float32Array.from(g),
    explainedVarianceRatio: Float64Array.from(kept, (v) => v / totalVariance),
    coverage,
  };
}

/**
 * Each word's projection on a direction: the cosine of its vector with g
 * (what Bolukbasi et al. plot to show "he"-leaning and "she"-leaning words).
 *
 * Shapes: `vectors` `[vocabSize, dim]`, `direction` `[dim]`, `ids` `[n]` -> `[n]`.
 *
 * @example
 * evaluation.biasProjections(skipGram.input, g.direction, vocab.encode(["nurse", "engineer"]));
 */
export function biasProjections(vectors: tf.Tensor2D, direction: ArrayLike<number>, ids: ArrayLike<number>): Float32Array {
  const fn = "biasProjections";
  checkMatrix(fn, "vectors", vectors);
  const g = unitDirection(fn, direction, vectors.shape[1]);
  checkIds(fn, "ids", ids, vectors.shape[0]);
  if (ids.length === 0) return new Float32Array(0);
  const dim = g.length;
  const unit = unitRows(vectors, ids);
  return Float32Array.from({ length: ids.length }, (_, r) => dotAt(unit, r * dim, g));
}

/**
 * Neutralise (Bolukbasi et al. 2016, hard debiasing step 1): rows `ids`
 * lose their component along the direction and are re-normalised; every
 * other row is only scaled to unit length. Returns a new table (the caller
 * disposes it); `vectors` is not modified.
 *
 * Shapes: `vectors` `[vocabSize, dim]`, `direction` `[dim]`, `ids` `[n]` -> `[vocabSize, dim]`.
 *
 * @example
 * const neutral = evaluation.wordCoverage(vocab, ["nurse", "engineer", "doctor"]).ids;
 * const debiased = evaluation.neutralize(skipGram.input, g.direction, neutral);
 */
export function neutralize(vectors: tf.Tensor2D, direction: ArrayLike<number>, ids: ArrayLike<number>): tf.Tensor2D {
  const fn = "neutralize";
  checkMatrix(fn, "vectors", vectors);
  const g = unitDirection(fn, direction, vectors.shape[1]);
  checkIds(fn, "ids", ids, vectors.shape[0]);
  const [rows, dim] = vectors.shape;
  const table = unitTable(vectors);
  for (let i = 0; i < ids.length; i++) {
    const w = table.subarray(ids[i] * dim, (ids[i] + 1) * dim);
    const along = dotAt(w, 0, g);
    for (let j = 0; j < dim; j++) w[j] -= along * g[j];
    normalizeInPlace(w);
  }
  return tf.tensor2d(Float32Array.from(table), [rows, dim]);
}

/**
 * Equalise (Bolukbasi et al. 2016, hard debiasing step 2): each pair of
 * rows becomes nu +- sqrt(1 - |nu|^2) g, nu the pair's mean with its
 * component along g removed: unit vectors, mirror images across the plane
 * orthogonal to g, equally similar to every vector in that plane (every
 * neutralised word). Rows keep their sides (the one that projected higher
 * still does). Other rows are only scaled to unit length. A word in two
 * pairs, or a pair whose words project equally on g (no side to keep),
 * throws. Returns a new table; `vectors` is not modified.
 *
 * Shapes: `vectors` `[vocabSize, dim]`, `direction` `[dim]`, `pairs` `[n]` id pairs -> `[vocabSize, dim]`.
 *
 * @example
 * const eq = evaluation.pairCoverage(vocab, data.EQUALIZE_GENDER_PAIRS);
 * const debiased = evaluation.equalize(neutralised, g.direction, eq.ids);
 */
export function equalize(vectors: tf.Tensor2D, direction: ArrayLike<number>, pairs: readonly (readonly [number, number])[]): tf.Tensor2D {
  const fn = "equalize";
  checkMatrix(fn, "vectors", vectors);
  const g = unitDirection(fn, direction, vectors.shape[1]);
  if (!Array.isArray(pairs)) throw new Error(`${fn}: pairs must be an array of [id, id] pairs, got ${describe(pairs)}`);
  const [rows, dim] = vectors.shape;
  const seen = new Set<number>();
  pairs.forEach((p, i) => {
    if (!Array.isArray(p) || p.length !== 2) throw new Error(`${fn}: pairs[${i}] must be a pair of ids [number, number], got ${describe(p)}`);
    for (const k of [0, 1]) {
      checkIntegerInRange(fn, `pairs[${i}][${k}]`, p[k], 0, rows, { maxExclusive: true });
      if (seen.has(p[k])) throw new Error(`${fn}: pairs must not share a word (the result would depend on their order), got id ${p[k]} twice (pairs[${i}])`);
      seen.add(p[k]);
    }
  });
  const table = unitTable(vectors);
  const mu = new Float64Array(dim);
  pairs.forEach(([a, b], i) => {
    const wa = table.subarray(a * dim, (a + 1) * dim);
    const wb = table.subarray(b * dim, (b + 1) * dim);
    for (let j = 0; j < dim; j++) mu[j] = (wa[j] + wb[j]) / 2;
    const muAlong = dotAt(mu, 0, g);
    // nu = mu - mu_B; |nu|^2 <= 1 for a mean of unit vectors, up to rounding.
    let nuNorm2 = 0;
    for (let j = 0; j < dim; j++) {
      mu[j] -= muAlong * g[j];
      nuNorm2 += mu[j] * mu[j];
    }
    const height = Math.sqrt(Math.max(0, 1 - nuNorm2));
    const offset = dotAt(wa, 0, g) - muAlong; // (w_B - mu_B) = offset * g for wa, -offset * g for wb
    if (offset === 0) throw new Error(`${fn}: pairs[${i}] must project differently on direction, got ids ${a} and ${b} with equal projections`);
    const sign = Math.sign(offset);
    for (let j = 0; j < dim; j++) {
      wa[j] = mu[j] + sign * height * g[j];
      wb[j] = mu[j] - sign * height * g[j];
    }
  });
  return tf.tensor2d(Float32Array.from(table), [rows, dim]);
}

/** The whole table as float64 with unit rows (zero rows stay zero). */
function unitTable(vectors: tf.Tensor2D): Float64Array {
  const [rows, dim] = vectors.shape;
  const table = Float64Array.from(vectors.dataSync());
  for (let r = 0; r < rows; r++) normalizeInPlace(table.subarray(r * dim, (r + 1) * dim));
  return table;
}

function unitDirection(fn: string, direction: ArrayLike<number>, dim: number): Float64Array {
  if (direction === null || typeof direction !== "object" || direction.length !== dim) {
    throw new Error(`${fn}: direction must be ${dim} numbers (one per vector dimension), got ${describe(direction)}`);
  }
  const g = Float64Array.from(direction);
  if (!g.every(Number.isFinite) || normalizeInPlace(g) === 0) {
    throw new Error(`${fn}: direction must be a finite non-zero vector, got ${describe(direction)} with norm ${Math.hypot(...Array.from(direction))}`);
  }
  return g;
}

function checkIds(fn: string, arg: string, ids: ArrayLike<number>, rows: number): void {
  if (ids === null || typeof ids !== "object" || typeof ids.length !== "number") throw new Error(`${fn}: ${arg} must be an array of row ids, got ${describe(ids)}`);
  for (let i = 0; i < ids.length; i++) checkIntegerInRange(fn, `${arg}[${i}]`, ids[i], 0, rows, { maxExclusive: true });
}

function dotAt(v: Float64Array, start: number, g: Float64Array): number {
  let s = 0;
  for (let j = 0; j < g.length; j++) s += v[start + j] * g[j];
  return s;
}

/**
 * Eigen-decomposition of a symmetric `n x n` matrix (row-major) by cyclic
 * Jacobi rotations: `values[i]` with eigenvector column i of `vectors`.
 * Accurate to rounding for the small matrices here (n = number of pairs).
 */
function symmetricEigen(matrix: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < n; p++) {
      diag += a[p * n + p] ** 2;
      for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          // Rotate columns p and q of a, then rows p and q (a stays symmetric).
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: n }, (_, i) => a[i * n + i]), vectors: v };
}
