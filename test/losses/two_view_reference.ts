/**
 * What the two-view loss tests share: random inputs for the float64
 * references, and the comparison of values and gradients against them.
 */
import assert from "node:assert/strict";
import type { Rng } from "../../src/data/random";

/**
 * Asserts that `got` (gradients read from tensors, `[view][row][column]`)
 * matches the float64 reference `want` of the same shape to 1e-4 relative to
 * the largest reference entry, and that the reference does not vanish (a
 * test of zeros against zeros would pass whatever the loss did).
 */
export function assertGradientsMatch(backend: string, got: number[][][], want: number[][][]): void {
  let maxErr = 0;
  let maxRef = 0;
  want.forEach((view, v) =>
    view.forEach((row, i) =>
      row.forEach((w, k) => {
        maxErr = Math.max(maxErr, Math.abs(got[v][i][k] - w));
        maxRef = Math.max(maxRef, Math.abs(w));
      }),
    ),
  );
  assert.ok(maxRef > 1e-3, "the reference gradient should not vanish");
  assert.ok(maxErr <= 1e-4 * Math.max(1, maxRef), `${backend}: max gradient error ${maxErr}`);
}

/** A `[rows, cols]` matrix of N(0, 1) draws from `rng`, the random input of the float64 references. */
export function randomMatrix(rng: Rng, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.normal()));
}

/** Whether `got` equals the reference `want` to `tol` relative (absolute below 1). */
export const close = (got: number, want: number, tol = 1e-5): boolean => Math.abs(got - want) <= tol * Math.max(1, Math.abs(want));
