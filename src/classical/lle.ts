/**
 * Locally linear embedding (Roweis & Saul 2000, "Nonlinear dimensionality
 * reduction by locally linear embedding"): each point is rebuilt from its
 * neighbours with weights that sum to one; the embedding keeps those weights.
 */
import { solve, Matrix } from "ml-matrix";
import { readRows, RowsInput, symmetricEigen } from "./pca";
import { checkIntegerInRange, checkPositiveNumber } from "../validation/arguments";

/** Options of {@link lleWeights} and {@link lle}. */
export interface LleOptions {
  /** Neighbours per point (k); default 10. */
  neighbours?: number;
  /**
   * Regulariser of the local Gram matrix C (k x k): `C + reg * trace(C) * I`;
   * default 1e-3 (as in Roweis & Saul's code and scikit-learn). Needed when
   * k > d or a point lies in the affine span of its neighbours (then C is
   * singular); must be > 0. As reg -> 0 the weights tend to the exact
   * constrained least-squares ones (a point in its neighbours' affine span
   * is rebuilt to within O(reg)).
   */
  reg?: number;
}

/** Reconstruction weights of every point: what {@link lleWeights} returns. */
export interface LleWeights {
  /** `[n][k]` indices of each point's nearest neighbours (nearest first, itself excluded). */
  neighbours: Int32Array[];
  /** `[n][k]` weights of those neighbours, each row summing to 1. */
  weights: Float64Array[];
}

/** What {@link lle} returns. */
export interface LleResult extends LleWeights {
  /** Embedded points `[n][dim]`, unit variance per coordinate (eigenvectors times sqrt(n)). */
  coordinates: number[][];
  /** Eigenvalues of M used `[dim]` (the 2nd to (dim+1)-th smallest). */
  eigenvalues: number[];
}

/**
 * Step 1-2 of LLE on the rows of `x` `[n, d]`: the `k` Euclidean nearest
 * neighbours of each point (brute force, float64; ties to the lower index),
 * and the weights minimising `|x_i - sum_j w_j x_j|^2` with `sum_j w_j = 1`:
 * solve `(C + reg trace(C) I) w = 1`, then normalise, where
 * `C_jl = (x_j - x_i).(x_l - x_i)`.
 *
 * @example
 * const { neighbours, weights } = lleWeights(points, { neighbours: 8 });  // [n][8] each
 */
export function lleWeights(x: RowsInput, options: LleOptions = {}): LleWeights {
  return computeWeights("lleWeights", x, options);
}

/**
 * LLE embedding of the rows of `x` `[n, d]` into `dim` dimensions: the
 * weights of {@link lleWeights}, then the eigenvectors of
 * `M = (I - W)^T (I - W)` with the 2nd to (dim+1)-th smallest eigenvalues
 * (the smallest, eigenvalue 0, is the constant vector, skipped). The n x n
 * eigen-decomposition is ml-matrix's exact float64 `EigenvalueDecomposition`,
 * so keep n to about a thousand.
 *
 * @example
 * const { coordinates } = lle(points, 2, { neighbours: 10 });  // [n][2]
 */
export function lle(x: RowsInput, dim: number, options: LleOptions = {}): LleResult {
  const fn = "lle";
  const w = computeWeights(fn, x, options);
  const n = w.neighbours.length;
  checkIntegerInRange(fn, "dim", dim, 1, n - 1);
  // M = (I - W)^T (I - W), accumulated row by row of (I - W).
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const idx = [i, ...w.neighbours[i]];
    const val = [1, ...Array.from(w.weights[i], (v) => -v)];
    for (let a = 0; a < idx.length; a++) {
      for (let b = 0; b < idx.length; b++) m[idx[a] * n + idx[b]] += val[a] * val[b];
    }
  }
  const eig = symmetricEigen(m, n, "ascending");
  const scale = Math.sqrt(n);
  const coordinates: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row: number[] = [];
    for (let c = 1; c <= dim; c++) row.push(eig.vectors[c][i] * scale);
    coordinates.push(row);
  }
  return { ...w, coordinates, eigenvalues: eig.values.slice(1, dim + 1) };
}

function computeWeights(fn: string, x: RowsInput, options: LleOptions): LleWeights {
  const { values, n, d } = readRows(x, fn, "x");
  const k = options.neighbours ?? 10;
  checkIntegerInRange(fn, "options.neighbours", k, 1, n - 1);
  const reg = options.reg ?? 1e-3;
  checkPositiveNumber(fn, "options.reg", reg);
  const neighbours: Int32Array[] = [];
  const weights: Float64Array[] = [];
  const dist = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) {
        const t = values[i * d + c] - values[j * d + c];
        s += t * t;
      }
      dist[j] = s;
    }
    const order = Array.from({ length: n }, (_, j) => j)
      .filter((j) => j !== i)
      .sort((a, b) => dist[a] - dist[b] || a - b)
      .slice(0, k);
    const nb = Int32Array.from(order);
    const c: number[][] = [];
    let trace = 0;
    for (let a = 0; a < k; a++) {
      const row: number[] = [];
      for (let b = 0; b < k; b++) {
        let s = 0;
        for (let t = 0; t < d; t++) s += (values[nb[a] * d + t] - values[i * d + t]) * (values[nb[b] * d + t] - values[i * d + t]);
        row.push(s);
      }
      trace += row[a];
      c.push(row);
    }
    // A point equal to all its neighbours has trace 0: use reg itself so the weights become uniform.
    const ridge = reg * (trace > 0 ? trace : 1);
    for (let a = 0; a < k; a++) c[a][a] += ridge;
    let sol: number[];
    try {
      sol = solve(new Matrix(c), Matrix.columnVector(new Array<number>(k).fill(1))).to1DArray();
    } catch {
      sol = [NaN];
    }
    let sum = 0;
    for (const v of sol) sum += v;
    const wi = Float64Array.from(sol, (v) => v / sum);
    if (!wi.every(Number.isFinite)) {
      throw new Error(`${fn}: the local Gram matrix of point ${i} is singular with options.reg = ${reg}; use a larger reg`);
    }
    neighbours.push(nb);
    weights.push(wi);
  }
  return { neighbours, weights };
}
