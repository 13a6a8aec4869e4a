/**
 * Checks section 5 of 01-early-methods (siamese networks with the contrastive
 * and the triplet loss), run by `npm run test:notebooks` after the harness
 * executed the notebook.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { notebookDisplays, notebookResults, num } from "./results";

const results = notebookResults("01-early-methods");

// Measured on wasm (MLP 784-256-128-2, 600 steps of 128 pairs / triplets, 2000 + 2000 verification pairs),
// test verification accuracy for seeds 1, 2, 3 (the notebook uses seed 1):
//   contrastive 0.919, 0.907, 0.9125   triplet 0.910, 0.8855, 0.888
//   raw pixels  0.6485, 0.670, 0.658   untrained encoder 0.552, 0.5285, 0.5505

test("both siamese encoders verify held-out pairs far better than raw pixels and the untrained encoder", () => {
  const contrastive = num(results, "siameseVerifyContrastive");
  const triplet = num(results, "siameseVerifyTriplet");
  const raw = num(results, "siameseVerifyRaw");
  const random = num(results, "siameseVerifyRandom");
  assert.ok(contrastive > 0.87, `siameseVerifyContrastive ${contrastive}`); // measured min 0.907
  assert.ok(triplet > 0.85, `siameseVerifyTriplet ${triplet}`); // measured min 0.8855
  // The baselines are real numbers, not placeholders: raw pixels above chance, the untrained 2-D code near it.
  assert.ok(raw > 0.6 && raw < 0.72, `siameseVerifyRaw ${raw}`); // measured 0.6485-0.670
  assert.ok(random > 0.45 && random < 0.62, `siameseVerifyRandom ${random}`); // measured 0.5285-0.552
  for (const [name, v] of [["contrastive", contrastive], ["triplet", triplet]] as const) {
    assert.ok(v > raw + 0.15, `${name} ${v} vs raw ${raw}`); // measured gap >= 0.2155
    assert.ok(v > random + 0.25, `${name} ${v} vs untrained ${random}`); // measured gap >= 0.336
  }
});

test("the siamese figures and table are in the executed notebook", () => {
  const shown = notebookDisplays("01-early-methods");
  for (const title of [
    "Siamese training losses",
    "Untrained encoder: 2-D embedding of test digits",
    "Contrastive loss: 2-D embedding of test digits",
    "Triplet loss: 2-D embedding of test digits",
  ]) {
    assert.ok(shown.figureTitles.includes(title), `figure "${title}" missing; found ${JSON.stringify(shown.figureTitles)}`);
  }
  assert.ok(
    shown.tableCaptions.includes("Verification accuracy: same digit iff distance < threshold"),
    JSON.stringify(shown.tableCaptions),
  );
});
