/**
 * Checks section 6 of 01-early-methods (PCA, classical MDS, LLE and a learned
 * Mahalanobis metric on digits), run by `npm run test:notebooks` after the
 * harness executed the notebook.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { notebookDisplays, notebookResults, num } from "./results";

const results = notebookResults("01-early-methods");

// Measured (600 training + 300 test digits, PCA to 40-D, kNN k = 5; 300 Adam steps of 512 pairs per metric),
// seeds 1, 2, 3 of the section (the notebook uses seed 1; seed 1 gave identical numbers on wasm and cpu):
//   Euclidean 40-D     0.867, 0.883, 0.897    pixels 0.847, 0.877, 0.880
//   Mahalanobis 40-D   0.670, 0.727, 0.700    Mahalanobis rank 2  0.513, 0.643, 0.503
//   PCA 2-D            0.473, 0.453, 0.420    MDS 2-D  0.470, 0.477, 0.407    LLE 2-D  0.573, 0.493, 0.543
//   variance kept by 2 principal components 0.174, 0.177, 0.177

test("kNN in the PCA space and under the learned metric land where they were measured", () => {
  const euclid = num(results, "metricKnnEuclidean");
  const mahal = num(results, "metricKnnMahalanobis");
  const pixels = num(results, "metricKnnPixels");
  assert.ok(euclid > 0.83 && euclid < 0.94, `metricKnnEuclidean ${euclid}`); // measured 0.867-0.897
  assert.ok(pixels > 0.8 && pixels < 0.93, `metricKnnPixels ${pixels}`); // measured 0.847-0.880
  // Xing et al.'s objective, driven to its optimum, collapses the digit space: kNN gets worse, but stays far above chance.
  assert.ok(mahal > 0.55 && mahal < euclid - 0.08, `metricKnnMahalanobis ${mahal} vs Euclidean ${euclid}`); // measured 0.670-0.727, gap >= 0.156
});

test("2-D embeddings: PCA and MDS agree, LLE and the rank-2 learned metric beat PCA", () => {
  const pca2 = num(results, "metricKnnPca2");
  const mds2 = num(results, "metricKnnMds2");
  const lle2 = num(results, "metricKnnLle2");
  const low = num(results, "metricKnnMahalanobis2");
  for (const [name, v] of [["metricKnnPca2", pca2], ["metricKnnMds2", mds2]] as const) {
    assert.ok(v > 0.35 && v < 0.55, `${name} ${v}`); // measured 0.407-0.477
  }
  assert.ok(Math.abs(pca2 - mds2) < 0.05, `PCA ${pca2} vs MDS ${mds2}`); // measured |diff| <= 0.024
  assert.ok(lle2 > pca2 + 0.01, `LLE ${lle2} vs PCA ${pca2}`); // measured gap 0.040, 0.100, 0.123
  assert.ok(low > pca2 + 0.01, `rank-2 metric ${low} vs PCA ${pca2}`); // measured gap 0.040, 0.190, 0.083
  const var2 = num(results, "metricPcaVar2");
  assert.ok(var2 > 0.15 && var2 < 0.2, `metricPcaVar2 ${var2}`); // measured 0.174-0.177
});

test("the metric-section figures are in the executed notebook", () => {
  const shown = notebookDisplays("01-early-methods");
  for (const title of [
    "PCA: 2-D embedding of 900 digits",
    "Classical MDS: 2-D embedding of 900 digits",
    "LLE (10 neighbours): 2-D embedding of 900 digits",
    "Mahalanobis metric learning: objective g(L)",
  ]) {
    assert.ok(shown.figureTitles.includes(title), `figure "${title}" missing; found ${JSON.stringify(shown.figureTitles)}`);
  }
  assert.ok(
    shown.tableCaptions.includes("kNN (k = 5) accuracy on 300 test digits, 600 labelled training digits"),
    JSON.stringify(shown.tableCaptions),
  );
});
