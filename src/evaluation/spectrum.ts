/**
 * The singular-value spectrum of a feature matrix and its effective rank
 * (Roy & Vetterli 2007, "The effective rank: a measure of effective
 * dimensionality", EUSIPCO): the diagnostic of dimensional collapse, where
 * an encoder's features span fewer directions than it has dimensions
 * (Jing et al. 2022; Garrido et al. 2023, RankMe).
 */
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import { tf } from "../backend/tf";
import { checkMatrix } from "../validation/arguments";

const EPSILON64 = 2.220446049250313e-16;

/** Options of {@link featureSpectrum}. */
export interface FeatureSpectrumOptions {
  /** Subtract the column means first (default true): the spectrum of the covariance. */
  center?: boolean;
}

/** What {@link featureSpectrum} returns (plain float64 arrays). */
export interface FeatureSpectrum {
  /**
   * Singular values of the (centred) feature matrix `[min(n, d)]`, largest
   * first. Values below `tolerance` are set to exactly 0: the Gram-matrix
   * route cannot resolve them from round-off.
   */
  singularValues: Float64Array;
  /** `singularValues^2 / (n - 1)` (`/ n` when not centred): the covariance eigenvalues `[min(n, d)]`. */
  covarianceEigenvalues: Float64Array;
  /** `singularValues^2` over their sum `[min(n, d)]`: the fraction of variance per direction. */
  explainedVarianceRatio: Float64Array;
  /** Roy & Vetterli's effective rank, in [1, min(n, d)]; 0 for a zero matrix. */
  effectiveRank: number;
  /** Numerical rank: the number of singular values above `tolerance`. */
  rank: number;
  /** `sigma_max * sqrt(max(n, d) * 2^-52)`: the round-off floor of singular values from a Gram matrix. */
  tolerance: number;
  /** Which Gram matrix was decomposed: `"covariance"` (`X^T X`, d x d, when d <= n) or `"gram"` (`X X^T`, n x n). */
  method: "covariance" | "gram";
}

/**
 * Roy & Vetterli's effective rank of non-negative singular values:
 * `exp(H(p))` with `p_i = s_i / sum(s)` and `H(p) = -sum p_i ln p_i` (terms
 * with `p_i = 0` count 0). It is 1 for a rank-1 matrix, k for k equal
 * singular values, and between for unequal ones. An all-zero spectrum
 * gives 0.
 *
 * Shapes: `[m]` -> number.
 *
 * @example
 * effectiveRank([1, 1, 1, 0]); // 3
 * effectiveRank([10, 1]);      // about 1.36
 */
export function effectiveRank(singularValues: ArrayLike<number>): number {
  const fn = "effectiveRank";
  if (singularValues.length === 0) throw new Error(`${fn}: singularValues must be non-empty, got length 0`);
  let total = 0;
  for (let i = 0; i < singularValues.length; i++) {
    const s = singularValues[i];
    if (!Number.isFinite(s) || s < 0) throw new Error(`${fn}: singularValues must be finite and >= 0, got ${s} at index ${i}`);
    total += s;
  }
  if (total === 0) return 0;
  let entropy = 0;
  for (let i = 0; i < singularValues.length; i++) {
    const p = singularValues[i] / total;
    if (p > 0) entropy -= p * Math.log(p);
  }
  return Math.exp(entropy);
}

/**
 * Singular values of the centred features `x` `[n, d]` and their effective
 * rank, in float64.
 *
 * How: the singular values are the square roots of the eigenvalues of the
 * smaller Gram matrix, `X^T X` (`[d, d]`, the unnormalised covariance) when
 * d <= n, else `X X^T` (`[n, n]`); the eigen-decomposition is ml-matrix's
 * float64 `EigenvalueDecomposition`. This is much cheaper than an SVD of the
 * `[n, d]` matrix (10000 x 512 costs one pass of n d^2 / 2 multiply-adds plus
 * a 512 x 512 eigenproblem, about 3 s here), at the price of resolving singular values only
 * down to about `sqrt(eps) * sigma_max` (see `tolerance`), which is ample for
 * an effective rank.
 *
 * Shapes: `[n, d]` (n >= 2 when centred) -> spectra of length `min(n, d)`.
 *
 * @example
 * const { effectiveRank, singularValues } = featureSpectrum(features); // features [8000, 128]
 */
export function featureSpectrum(x: tf.Tensor2D, options: FeatureSpectrumOptions = {}): FeatureSpectrum {
  const fn = "featureSpectrum";
  checkMatrix(fn, "x", x);
  const [n, d] = x.shape;
  const center = options.center ?? true;
  if (typeof center !== "boolean") throw new Error(`${fn}: options.center must be a boolean, got ${String(center)}`);
  if (d < 1 || n < (center ? 2 : 1)) throw new Error(`${fn}: x must have at least ${center ? 2 : 1} rows and 1 column, got [${n}, ${d}]`);
  const values = Float64Array.from(x.dataSync() as ArrayLike<number>);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new Error(`${fn}: x must be finite, got ${values[i]} at row ${Math.floor(i / d)}, column ${i % d}`);
  }
  if (center) {
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += values[i * d + j];
    for (let j = 0; j < d; j++) mean[j] /= n;
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) values[i * d + j] -= mean[j];
  }
  const method = d <= n ? "covariance" : "gram";
  const m = Math.min(n, d);
  const gramMatrix = method === "covariance" ? crossProduct(values, n, d) : crossProduct(transpose(values, n, d), d, n);
  const rows: number[][] = [];
  for (let i = 0; i < m; i++) rows.push(Array.from(gramMatrix.subarray(i * m, (i + 1) * m)));
  const eigenvalues = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true }).realEigenvalues.sort((a, b) => b - a);
  const singularValues = Float64Array.from(eigenvalues, (v) => Math.sqrt(Math.max(v, 0)));
  const tolerance = singularValues[0] * Math.sqrt(Math.max(n, d) * EPSILON64);
  let rank = 0;
  for (let i = 0; i < m; i++) {
    if (singularValues[i] > tolerance) rank++;
    else singularValues[i] = 0;
  }
  const divisor = center ? n - 1 : n;
  const covarianceEigenvalues = singularValues.map((s) => (s * s) / divisor);
  let totalSquares = 0;
  for (let i = 0; i < m; i++) totalSquares += singularValues[i] * singularValues[i];
  const explainedVarianceRatio = singularValues.map((s) => (totalSquares > 0 ? (s * s) / totalSquares : 0));
  return { singularValues, covarianceEigenvalues, explainedVarianceRatio, effectiveRank: effectiveRank(singularValues), rank, tolerance, method };
}

/** `A^T A` of a row-major `[rows, cols]` matrix, `[cols, cols]`, float64 (upper triangle accumulated, then mirrored). */
function crossProduct(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(cols * cols);
  for (let i = 0; i < rows; i++) {
    const offset = i * cols;
    for (let p = 0; p < cols; p++) {
      const ap = a[offset + p];
      if (ap === 0) continue;
      const base = p * cols;
      for (let q = p; q < cols; q++) out[base + q] += ap * a[offset + q];
    }
  }
  for (let p = 0; p < cols; p++) for (let q = p + 1; q < cols; q++) out[q * cols + p] = out[p * cols + q];
  return out;
}

function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}
