/**
 * Principal component analysis (Pearson 1901; Hotelling 1933): the
 * directions of largest variance, from the eigen-decomposition of the
 * covariance matrix. The shared input reader of the classical embedding
 * methods (MDS, LLE, Mahalanobis) lives here too.
 */
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import { tf } from "../backend/tf";
import { checkIntegerInRange } from "../validation/arguments";

/**
 * Rows of a data matrix `[n, d]`: a tensor, nested arrays, or a flat
 * row-major array with its shape.
 */
export type RowsInput =
  | tf.Tensor2D
  | ReadonlyArray<ArrayLike<number>>
  | { values: ArrayLike<number>; n: number; d: number };

/** A dense float64 matrix `[n, d]`, row-major in `values`. */
export interface DenseRows {
  values: Float64Array;
  n: number;
  d: number;
}

/**
 * Reads `x` into a float64 row-major copy `[n, d]`, rejecting ragged rows,
 * wrong lengths, non-finite values and empty input (the message names `fn`
 * and `arg`).
 */
export function readRows(x: RowsInput, fn: string, arg: string): DenseRows {
  let values: Float64Array;
  let n: number;
  let d: number;
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) throw new Error(`${fn}: ${arg} must be a 2-D tensor [n, d], got shape [${x.shape}]`);
    [n, d] = x.shape as [number, number];
    values = Float64Array.from(x.dataSync() as ArrayLike<number>);
  } else if (Array.isArray(x)) {
    n = x.length;
    d = n > 0 ? (x[0] as ArrayLike<number>).length : 0;
    values = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      const row = x[i] as ArrayLike<number>;
      if (row.length !== d) throw new Error(`${fn}: ${arg} row ${i} must have length ${d}, got ${row.length}`);
      for (let j = 0; j < d; j++) values[i * d + j] = row[j];
    }
  } else {
    const flat = x as { values: ArrayLike<number>; n: number; d: number };
    ({ n, d } = flat);
    if (!Number.isInteger(n) || !Number.isInteger(d) || n < 0 || d < 0) {
      throw new Error(`${fn}: ${arg}.n and ${arg}.d must be non-negative integers, got n=${n}, d=${d}`);
    }
    if (flat.values.length !== n * d) {
      throw new Error(`${fn}: ${arg}.values must have length n*d = ${n * d}, got ${flat.values.length}`);
    }
    values = Float64Array.from(flat.values);
  }
  if (n === 0 || d === 0) throw new Error(`${fn}: ${arg} must have at least one row and one column, got [${n}, ${d}]`);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new Error(`${fn}: ${arg} must be finite, got ${values[i]} at row ${Math.floor(i / d)}, column ${i % d}`);
    }
  }
  return { values, n, d };
}

/**
 * Eigenpairs of a symmetric matrix `[m, m]` (row-major), sorted by
 * eigenvalue, largest first when `order` is "descending". Uses ml-matrix's
 * `EigenvalueDecomposition` (Householder tridiagonalisation + QL, float64).
 * Each eigenvector's sign is fixed so its largest-magnitude entry is
 * positive, which makes results deterministic.
 */
export function symmetricEigen(
  a: Float64Array,
  m: number,
  order: "ascending" | "descending",
): { values: number[]; vectors: Float64Array[] } {
  const rows: number[][] = [];
  for (let i = 0; i < m; i++) rows.push(Array.from(a.subarray(i * m, (i + 1) * m)));
  const eig = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
  const lambda = eig.realEigenvalues;
  const v = eig.eigenvectorMatrix;
  const idx = lambda.map((_, i) => i).sort((p, q) => (order === "descending" ? lambda[q] - lambda[p] : lambda[p] - lambda[q]));
  const vectors = idx.map((c) => {
    const col = new Float64Array(m);
    let big = 0;
    for (let r = 0; r < m; r++) {
      col[r] = v.get(r, c);
      if (Math.abs(col[r]) > Math.abs(big)) big = col[r];
    }
    if (big < 0) for (let r = 0; r < m; r++) col[r] = -col[r];
    return col;
  });
  return { values: idx.map((i) => lambda[i]), vectors };
}

/** What {@link pca} returns (plain float64 arrays). */
export interface PcaResult {
  /** Column means `[d]`, subtracted before projecting. */
  mean: Float64Array;
  /** Unit principal directions `[k][d]`, largest variance first. */
  components: Float64Array[];
  /** Variance along each component `[k]` (covariance eigenvalues, divisor n - 1). */
  explainedVariance: number[];
  /** `explainedVariance` over the total variance `[k]`. */
  explainedVarianceRatio: number[];
  /** The training rows projected, `[n][k]`. */
  projections: number[][];
}

/**
 * PCA of the rows of `x` `[n, d]`: the top `k` eigenvectors of the sample
 * covariance `X_c^T X_c / (n - 1)` (X_c: centred rows). The `d x d`
 * eigen-decomposition is ml-matrix's exact float64 `EigenvalueDecomposition`,
 * so keep d to a few hundred (784 pixels take about a second).
 * Signs: each component's largest-magnitude entry is positive.
 *
 * @example
 * const fit = pca(images, 2);          // images [600, 784]
 * fit.projections;                     // [600][2]
 * pcaTransform(fit, testImages);       // [m][2]
 */
export function pca(x: RowsInput, k: number): PcaResult {
  const fn = "pca";
  const { values, n, d } = readRows(x, fn, "x");
  if (n < 2) throw new Error(`${fn}: x must have at least 2 rows, got ${n}`);
  checkIntegerInRange(fn, "k", k, 1, d);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += values[i * d + j] / n;
  const centred = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) centred[i * d + j] = values[i * d + j] - mean[j];
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    row.set(centred.subarray(i * d, (i + 1) * d));
    for (let a = 0; a < d; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      const base = a * d;
      for (let b = a; b < d; b++) cov[base + b] += ra * row[b];
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const c = cov[a * d + b] / (n - 1);
      cov[a * d + b] = c;
      cov[b * d + a] = c;
    }
  }
  let total = 0;
  for (let a = 0; a < d; a++) total += cov[a * d + a];
  const eig = symmetricEigen(cov, d, "descending");
  const components = eig.vectors.slice(0, k);
  const explainedVariance = eig.values.slice(0, k).map((v) => Math.max(v, 0));
  const result: PcaResult = {
    mean,
    components,
    explainedVariance,
    explainedVarianceRatio: explainedVariance.map((v) => (total > 0 ? v / total : 0)),
    projections: [],
  };
  result.projections = project(result, centred, n, d, false);
  return result;
}

/**
 * Projects new rows `x` `[m, d]` on the components of a {@link pca} fit:
 * `(x - mean) components^T`, `[m][k]`.
 *
 * @example
 * const testCodes = pcaTransform(pca(train, 40), test);  // [m][40]
 */
export function pcaTransform(fit: PcaResult, x: RowsInput): number[][] {
  const { values, n, d } = readRows(x, "pcaTransform", "x");
  if (d !== fit.mean.length) throw new Error(`pcaTransform: x must have ${fit.mean.length} columns, got ${d}`);
  return project(fit, values, n, d, true);
}

function project(fit: PcaResult, values: Float64Array, n: number, d: number, subtractMean: boolean): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const r = fit.components.map((c) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += (values[i * d + j] - (subtractMean ? fit.mean[j] : 0)) * c[j];
      return s;
    });
    out.push(r);
  }
  return out;
}
