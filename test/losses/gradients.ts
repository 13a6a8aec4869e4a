/**
 * The gradient comparison the two-view loss tests share: a loss's gradients
 * from TensorFlow.js against its float64 reference.
 */
import assert from "node:assert/strict";

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
