/**
 * Checks the numbers 03-contrastive-losses reports (run by `npm run test:notebooks`
 * after the harness executed it).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { notebookDisplays, notebookExercises, notebookResults, num } from "./results";

const results = notebookResults("03-contrastive-losses");

const LOSSES = [
  "contrastive", "triplet (all)", "triplet (semi-hard)", "lifted structured", "N-pair",
  "NCE", "InfoNCE", "NT-Xent", "soft nearest neighbours", "SupCon",
];

// Measured on wasm, the notebook run with RANK_SEED 1/2/3: untrained encoder Recall@1 0.848/0.848/0.844;
// the weakest loss, contrastive, 0.944/0.936/0.926 (gain >= 0.082); NCE 0.952/0.935/0.946; all others >= 0.952.
const MARGIN = 0.05;

test("every loss beats the untrained encoder's Recall@1 by a margin measured over seeds", () => {
  const random = num(results, "randomRecall1");
  for (const loss of LOSSES) {
    const recall = num(results, `recall1:${loss}`);
    assert.ok(recall > random + MARGIN, `${loss}: Recall@1 ${recall} vs random init ${random} (+${MARGIN} required)`);
  }
});

test("batch-hard triplets from the first step collapse: the loss ends at the margin", () => {
  // Measured 0.2004 on all three seeds (margin 0.2), Recall@1 0.881/0.878/0.886.
  const finalLoss = num(results, "finalLoss:triplet (hardest)");
  assert.ok(Math.abs(finalLoss - 0.2) < 0.01, `final loss ${finalLoss}`);
});

test("InfoNCE of unrelated queries and keys is near log N", () => {
  // Measured 5.566 for N = 256 (log N = 5.545).
  const loss = num(results, "infoNceUnrelated");
  assert.ok(Math.abs(loss - num(results, "infoNceLogN")) < 0.1, `InfoNCE ${loss}`);
});

test("NCE: the library's loss is the equation the notebook shows, written out", () => {
  // The same logits through losses.nceLoss (softplus form) and through log(sigmoid) and log(1 - sigmoid).
  const library = num(results, "nceLibrary");
  const written = num(results, "nceWritten");
  assert.ok(Math.abs(library - written) < 1e-3 * Math.max(1, Math.abs(written)), `nceLoss ${library} vs written out ${written}`);
  assert.ok(num(results, "nceNoisePairs") > num(results, "nceDataPairs"), "more noise pairs than data pairs");
});

test("the label-aware losses separate the toy classes completely", () => {
  // Measured 1.0 for each on every seed; the toy points do not depend on RANK_SEED.
  for (const name of ["lifted structured loss", "soft nearest neighbours", "SupCon"]) {
    assert.equal(num(results, `toyRecall1:${name}`), 1, name);
  }
});

test("the exercises: nbgrader cells in place, and the recipes train with the student's functions", () => {
  const { graded, source } = notebookExercises("03-contrastive-losses");
  // In the notebook's order: the triplet section comes before InfoNCE.
  assert.deepEqual(graded, [["03.1", "solution"], ["03.1-check", 2], ["03.2", "solution"], ["03.2-check", 3]]);
  assert.match(source("const tripletRecipe = "), /return myTripletLoss\(/);
  assert.ok(!source("const tripletRecipe = ").includes("losses.tripletLoss"), "the triplet recipe uses the student's loss only");
  assert.match(source("const infoNceCheck = "), /myInfoNce\(q, k, 1\)/);
  assert.match(source("const infoNceCheck = "), /return myInfoNce\(anchors, positives, TAU\);/);
  assert.ok(!source("const infoNceCheck = ").includes("losses.infoNCE"), "the InfoNCE cell uses the student's loss only");
});

test("the figures and tables are in the executed notebook", () => {
  const shown = notebookDisplays("03-contrastive-losses");
  for (const title of [
    "contrastive loss on 24 points in the plane",
    "SupCon on 24 points in the plane (shown on the unit circle)",
    "Each loss, the same encoder: test Recall@1 and kNN accuracy",
  ]) {
    assert.ok(shown.figureTitles.includes(title), `figure "${title}" missing`);
  }
  assert.ok(shown.tableCaptions.some((c) => c.startsWith("Recall@1 and kNN accuracy")), JSON.stringify(shown.tableCaptions));
  assert.ok(shown.tableCaptions.some((c) => c.startsWith("Triplets mined")), JSON.stringify(shown.tableCaptions));
});
