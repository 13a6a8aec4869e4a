/**
 * Element-wise comparison on the host, in float64, with the sentences that
 * describe a mismatch. Values come in as float32 (from `dataSync`) and are
 * compared as JS doubles, so the comparison adds no rounding of its own.
 */
import type { Tolerance } from "./arguments";
import { formatNumber, formatPosition } from "./format";

/** The first problem found between two equally long arrays of values. */
export interface Mismatch {
  /** "nan": `got` is NaN or ±Infinity where `expected` is finite; "values": out of tolerance. */
  kind: "nan" | "values";
  /** Flat (row-major) index of the element reported: the first non-finite one, or the largest error. */
  index: number;
  got: number;
  expected: number;
  /** |got - expected| at `index` (Infinity where only one side is non-finite). */
  error: number;
  /** How many elements are out of tolerance (for "values"). */
  count: number;
  /** How many elements were compared. */
  size: number;
}

/** Equal non-finite values (NaN and NaN, Infinity and Infinity) match: both sides agree there. */
function withinTolerance(got: number, expected: number, tol: Tolerance): boolean {
  if (!Number.isFinite(expected)) return Object.is(got, expected) || (Number.isNaN(got) && Number.isNaN(expected));
  return Math.abs(got - expected) <= tol.atol + tol.rtol * Math.abs(expected);
}

/**
 * Compares `got` with `expected` element by element: |got - expected| <=
 * atol + rtol * |expected|. A non-finite `got` where `expected` is finite is
 * reported first (kind "nan"), since it explains every error after it.
 *
 * @example
 * findMismatch([1, 2.5], [1, 2], { atol: 1e-4, rtol: 1e-3 });
 * // { kind: "values", index: 1, got: 2.5, expected: 2, error: 0.5, count: 1, size: 2 }
 */
export function findMismatch(got: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): Mismatch | undefined {
  let firstNonFinite = -1;
  let worst = -1;
  let worstError = -1;
  let count = 0;
  for (let i = 0; i < expected.length; i++) {
    const g = got[i];
    const e = expected[i];
    if (!Number.isFinite(g) && Number.isFinite(e)) {
      if (firstNonFinite < 0) firstNonFinite = i;
      continue;
    }
    if (withinTolerance(g, e, tol)) continue;
    count++;
    const error = Number.isFinite(e) ? Math.abs(g - e) : Infinity;
    if (error > worstError) {
      worst = i;
      worstError = error;
    }
  }
  const at = (kind: Mismatch["kind"], index: number, error: number): Mismatch => ({
    kind,
    index,
    got: got[index],
    expected: expected[index],
    error,
    count,
    size: expected.length,
  });
  if (firstNonFinite >= 0) return at("nan", firstNonFinite, Infinity);
  return worst >= 0 ? at("values", worst, worstError) : undefined;
}

/**
 * ` at [2,5]` for an element of a tensor with axes; nothing for a scalar,
 * which has one element.
 *
 * @example
 * atPosition(13, [2, 8]); // " at [1,5]"
 * atPosition(0, []);      // ""
 */
export function atPosition(index: number, shape: readonly number[]): string {
  return shape.length === 0 ? "" : ` at ${formatPosition(index, shape)}`;
}

/**
 * The tolerance rule as messages state it.
 *
 * @example
 * toleranceText({ atol: 1e-4, rtol: 1e-3 }); // "tolerance 1e-4 + 1e-3 * |expected|"
 */
export function toleranceText(tol: Tolerance): string {
  return `tolerance ${formatNumber(tol.atol)} + ${formatNumber(tol.rtol)} * |expected|`;
}

/**
 * The non-finite value found and where: `NaN at [3,2]`, or `Infinity` for a
 * scalar.
 *
 * @example
 * nanText(mismatch, [4, 4]); // "NaN at [3,2]"
 */
export function nanText(m: Mismatch, shape: readonly number[]): string {
  return `${formatNumber(m.got)}${atPosition(m.index, shape)}`;
}

/**
 * The tail of a values-mismatch sentence, from the count of wrong elements
 * to the tolerance: ` at 3 of 64 positions: max error 0.31 at [2,5] (got 1.2,
 * expected 0.89); tolerance 1e-4 + 1e-3 * |expected|` (a scalar gives
 * `: error 0.31 (got 1.2, expected 0.89); tolerance ...`).
 *
 * @example
 * `ntXentLoss differs from the reference on seeded input 0${valuesText(m, [8, 8], tol)}.`
 */
export function valuesText(m: Mismatch, shape: readonly number[], tol: Tolerance): string {
  const values = `(got ${formatNumber(m.got)}, expected ${formatNumber(m.expected)}); ${toleranceText(tol)}`;
  if (shape.length === 0) return `: error ${formatNumber(m.error)} ${values}`;
  const where = ` at ${m.count} of ${m.size} position${m.size === 1 ? "" : "s"}`;
  return `${where}: max error ${formatNumber(m.error)}${atPosition(m.index, shape)} ${values}`;
}
