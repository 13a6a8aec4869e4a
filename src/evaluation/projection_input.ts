/**
 * The input of the 2-D projections (UMAP, t-SNE) and of the Embedding
 * Projector export: features as a tensor, rows, or one flat typed array
 * whose row length is given separately.
 */
import { readRows, type DenseRows, type RowsInput } from "../classical/pca";
import { checkPositiveInteger, describe } from "../validation/arguments";

/**
 * Features `[n, d]`: a `tf.Tensor2D` (read, never disposed), rows
 * (`number[][]`), `{ values, n, d }`, or a flat `Float32Array` / `Float64Array`
 * of `n * d` values whose row length `d` is passed as `dim`.
 */
export type FeatureRows = RowsInput | Float32Array | Float64Array;

/**
 * Reads `features` into a float64 row-major copy `[n, d]`; a flat typed
 * array needs `dim` (its row length), which must divide its length; for
 * other inputs `dim`, when given, must equal the column count. Errors
 * name `fn` and `arg`.
 *
 * @example
 * readFeatureRows(new Float32Array(12), 4, "umapProjection", "features"); // { n: 3, d: 4, values }
 */
export function readFeatureRows(features: FeatureRows, dim: number | undefined, fn: string, arg: string): DenseRows {
  if (features instanceof Float32Array || features instanceof Float64Array) {
    if (dim === undefined) {
      throw new Error(`${fn}: options.dim must be given with a flat ${features.constructor.name} (its row length), got undefined`);
    }
    checkPositiveInteger(fn, "options.dim", dim);
    if (features.length % dim !== 0) {
      throw new Error(`${fn}: ${arg} must hold n * options.dim values (options.dim = ${dim}), got ${describe(features)}`);
    }
    return readRows({ values: features, n: features.length / dim, d: dim }, fn, arg);
  }
  const rows = readRows(features, fn, arg);
  if (dim !== undefined && dim !== rows.d) {
    throw new Error(`${fn}: options.dim must match the ${rows.d} columns of ${arg}, got ${describe(dim)}`);
  }
  return rows;
}
