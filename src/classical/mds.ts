/**
 * Classical multidimensional scaling (Torgerson 1952; Gower 1966): points in
 * k dimensions whose Euclidean distances best match a given distance matrix.
 */
import { readRows, RowsInput, symmetricEigen } from "./pca";
import { checkIntegerInRange } from "../validation/arguments";

/** Options of {@link classicalMds}. */
export interface ClassicalMdsOptions {
  /** `true` when the matrix already holds squared distances; default false. */
  squared?: boolean;
}

/** What {@link classicalMds} returns. */
export interface ClassicalMdsResult {
  /** Embedded points `[n][k]`. */
  coordinates: number[][];
  /** The top k eigenvalues of the double-centred matrix B `[k]`, largest first. */
  eigenvalues: number[];
}

/**
 * Classical MDS of a symmetric distance matrix `[n, n]`: double-centre the
 * squared distances, `B = -1/2 J D^2 J` with `J = I - 11^T/n`, and return the
 * top `k` eigenvectors of B scaled by the square roots of their eigenvalues.
 * For Euclidean distances B is the Gram matrix of the centred points, so the
 * result recovers them up to rotation, reflection and translation (and equals
 * PCA of those points up to signs). The eigen-decomposition is ml-matrix's
 * exact float64 `EigenvalueDecomposition` (an n x n matrix: keep n to about
 * a thousand). Eigenvalues within `1e-9 * largest` of zero count as zero; a
 * clearly negative one among the top k (distances that no k-dimensional
 * Euclidean configuration reproduces) is an error, never clipped silently.
 *
 * @example
 * const { coordinates } = classicalMds(distanceMatrix(points), 2);  // [n][2]
 */
export function classicalMds(distances: RowsInput, k: number, options: ClassicalMdsOptions = {}): ClassicalMdsResult {
  const fn = "classicalMds";
  const { values, n, d } = readRows(distances, fn, "distances");
  if (n !== d) throw new Error(`${fn}: distances must be square [n, n], got [${n}, ${d}]`);
  checkIntegerInRange(fn, "k", k, 1, n);
  const b = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = values[i * n + j];
      if (v < 0) throw new Error(`${fn}: distances must be non-negative, got ${v} at [${i}, ${j}]`);
      if (Math.abs(v - values[j * n + i]) > 1e-9 * Math.max(1, Math.abs(v))) {
        throw new Error(`${fn}: distances must be symmetric, got ${v} at [${i}, ${j}] and ${values[j * n + i]} at [${j}, ${i}]`);
      }
      b[i * n + j] = options.squared ? v : v * v;
    }
  }
  const rowMean = new Float64Array(n);
  let allMean = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) rowMean[i] += b[i * n + j] / n;
    allMean += rowMean[i] / n;
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) b[i * n + j] = -0.5 * (b[i * n + j] - rowMean[i] - rowMean[j] + allMean);
  }
  const eig = symmetricEigen(b, n, "descending");
  const top = eig.values[0];
  const eigenvalues = eig.values.slice(0, k).map((v, i) => {
    if (v < -1e-9 * Math.abs(top)) {
      throw new Error(`${fn}: eigenvalue ${i + 1} of the double-centred matrix is ${v} < 0; the distances are not Euclidean in ${k} dimensions, choose k <= ${i}`);
    }
    return Math.abs(v) <= 1e-9 * Math.abs(top) ? 0 : v;
  });
  const scale = eigenvalues.map(Math.sqrt);
  const coordinates: number[][] = [];
  for (let i = 0; i < n; i++) coordinates.push(scale.map((s, c) => s * eig.vectors[c][i]));
  return { coordinates, eigenvalues };
}

/**
 * Euclidean distances between all rows of `x` `[n, d]`: `[n][n]`, float64,
 * exactly symmetric with a zero diagonal.
 *
 * @example
 * distanceMatrix([[0, 0], [3, 4]]);  // [[0, 5], [5, 0]]
 */
export function distanceMatrix(x: RowsInput): number[][] {
  const { values, n, d } = readRows(x, "distanceMatrix", "x");
  const out: number[][] = [];
  for (let i = 0; i < n; i++) out.push(new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) {
        const t = values[i * d + c] - values[j * d + c];
        s += t * t;
      }
      out[i][j] = out[j][i] = Math.sqrt(s);
    }
  }
  return out;
}
