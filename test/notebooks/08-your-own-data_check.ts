/**
 * Checks the numbers 08-your-own-data reports (run by `npm run test:notebooks`
 * after the harness executed it). Margins: measured on wasm (2 threads) with
 * the notebook's seed at 1, 2 and 3 (the cells run as a script against the
 * library); the values are in the comments.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { notebookResults, num } from "./results";

const results = notebookResults("08-your-own-data");

test("the stand-in data comes back through the loaders: PNG exact, JPEG close, the unreadable reported, your resize the loader's", () => {
  assert.equal(num(results, "testSkipped"), 2, "notes.txt and the broken PNG are reported as skipped");
  assert.equal(num(results, "jpegPhotos"), 12);
  assert.ok(num(results, "pngMaxError") <= 1e-6, `pngMaxError ${num(results, "pngMaxError")}`);
  // JPEG at quality 90 on 28x28 inked digits: largest error 38-41/255, mean 2.8/255 (seeds 1-3).
  assert.ok(num(results, "jpegMaxError") > 0 && num(results, "jpegMaxError") <= 64 / 255, `jpegMaxError ${num(results, "jpegMaxError")}`);
  assert.ok(num(results, "jpegMeanError") <= 5 / 255, `jpegMeanError ${num(results, "jpegMeanError")}`);
  assert.ok(num(results, "resizeGap") <= 1e-6, `resizeGap ${num(results, "resizeGap")}`);
});

test("SimCLR with whole-wheel hue beats the random-init encoder on the reloaded images, with all labels and with 10 per class", () => {
  // Probe 0.894/0.896/0.907 against random init's 0.796/0.767/0.801; with 10 labels per class 0.701/0.680/0.714 against 0.454/0.424/0.508.
  assert.ok(num(results, "simclrProbe") >= num(results, "randomProbe") + 0.04, `probe ${num(results, "simclrProbe")} vs random ${num(results, "randomProbe")}`);
  assert.ok(num(results, "simclrProbe10") >= num(results, "randomProbe10") + 0.12, `10/class ${num(results, "simclrProbe10")} vs random ${num(results, "randomProbe10")}`);
});

test("the paper's colour recipe leaves the ink organising the space; whole-wheel hue replaces it by the digit", () => {
  // Ink kNN 0.345/0.362/0.367 against the recipe's 0.706/0.686/0.686; digit kNN 0.789/0.782/0.822 against 0.186/0.367/0.377.
  assert.ok(num(results, "inkSimclr") <= num(results, "inkRecipe") - 0.15, `ink kNN ${num(results, "inkSimclr")} vs recipe ${num(results, "inkRecipe")}`);
  assert.ok(num(results, "simclrKnn") >= num(results, "recipeKnn") + 0.2, `digit kNN ${num(results, "simclrKnn")} vs recipe ${num(results, "recipeKnn")}`);
  assert.ok(num(results, "inkRecipe") > num(results, "recipeKnn"), "with the recipe, neighbours share the ink more than the digit");
});

test("the encoder, the projector files and the tables round-trip exactly; the WAV files within one 16-bit step", () => {
  assert.equal(num(results, "reloadMaxDifference"), 0);
  assert.equal(num(results, "reloadedProbe"), num(results, "simclrProbe"));
  assert.equal(num(results, "reloadedProbe10"), num(results, "simclrProbe10"));
  assert.equal(num(results, "projectorRoundTripExact"), 1);
  assert.equal(num(results, "tableRoundTripExact"), 1);
  assert.ok(num(results, "wavMaxError") <= 1 / 32767 + 1e-7, `wavMaxError ${num(results, "wavMaxError")}`);
  // The table of features alone: a linear probe far above chance (0.1). 0.856/0.877/0.889
  assert.ok(num(results, "tableProbe") >= 0.6, `tableProbe ${num(results, "tableProbe")}`);
  assert.equal(num(results, "textDocuments"), 79, "news 44, romance 29, science fiction 6 files");
});
