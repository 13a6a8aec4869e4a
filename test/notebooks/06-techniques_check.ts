/**
 * Checks the numbers 06-techniques reports (run by `npm run test:notebooks`
 * after the harness executed it). Margins: measured on wasm (2 threads) with the
 * notebook's SEED at 1, 2 and 3; the values are in the comments.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { assertAbove, notebookDisplays, notebookExercises, notebookResults, num } from "./results";

const results = notebookResults("06-techniques");
const above = (key: string, other: string, margin: number): void => assertAbove(results, key, other, margin);

test("false negatives: about a tenth of an MNIST batch is the anchor's class", () => {
  // Measured 0.101/0.100/0.100 at batch 64 (the closed form at MNIST's class frequencies: 0.100), 6.38/6.28/6.31 per anchor.
  assert.ok(Math.abs(num(results, "falseNegativeShare64") - 0.1) < 0.01, `share ${num(results, "falseNegativeShare64")}`);
  assert.ok(Math.abs(num(results, "falseNegativesPerAnchor64") - 6.3) < 0.6, `per anchor ${num(results, "falseNegativesPerAnchor64")}`);
});

test("SimCLR on the rig beats its random init, and hard-negative sampling at a moderate beta is not worse than beta = 0", () => {
  // With 10 labels per class: SimCLR 0.720/0.680/0.671 against random init 0.642/0.608/0.621 (smallest gap 0.050).
  above("simclrProbe10", "randomProbe10", 0.03);
  // Linear probe, best of beta 0.5 and 1 against beta 0 (tau+ = 0.1): 0.880/0.851/0.854 against 0.874/0.857/0.859
  // (-0.006 at worst: within one run's seed noise; the paper's rise and fall does not show at this scale).
  assert.ok(num(results, "betaModerateBest") > num(results, "beta:0") - 0.015, `moderate beta ${num(results, "betaModerateBest")} vs beta = 0 ${num(results, "beta:0")}`);
});

test("MoCo with momentum 0 is worse than with 0.99", () => {
  // Linear probe at m = 0.99 against m = 0: 0.852/0.811/0.810 against 0.739/0.783/0.699 (smallest gap 0.028);
  // with 10 labels 0.667/0.618/0.639 against 0.561/0.575/0.521 (smallest gap 0.043).
  above("momentum:0.99", "momentum:0", 0.015);
  above("momentum10:0.99", "momentum10:0", 0.02);
});

test("augmentations: the best pair of views beats identical views and the untrained encoder", () => {
  // Best of the 36 cells 0.895/0.858/0.865; SimCLR with no augmentation 0.857/0.809/0.810; random init 0.814/0.800/0.820.
  // Not asserted, because it does not hold over seeds on this rig: the issue's "crop-based pairs beat the weakest
  // single augmentation" (mean of the crop pairs minus the weakest single: +0.033/+0.001/+0.003; crop pairs against
  // the other pairs: +0.017/-0.006/-0.008). The notebook says so from its own numbers.
  above("bestCell", "noAugmentation", 0.02);
  // SimCLR's own pipeline against identical views: 0.875/0.848/0.861 against 0.857/0.809/0.810.
  above("simclrProbe", "noAugmentation", 0.005);
  above("bestCell", "randomProbe", 0.03);
});

test("MoCHi's synthetic negatives are harder than the queue's", () => {
  // Mean cosine to the query: synthetic 0.62/0.69/0.66, queue 0.44/0.59/0.49 (smallest gap 0.092).
  above("mochiSyntheticSimilarity", "mochiQueueSimilarity", 0.05);
});

test("text: SimCSE views against identical views", () => {
  // View generators (of 5) ahead of identical views on both the genre probe and Recall@10: 5/4/2.
  assert.ok(num(results, "textAheadOfNone") >= 2, `${num(results, "textAheadOfNone")} of 5 view generators ahead of identical views on both measures`);
});

test("UDA and supervised training on the same 100 labels are both recorded, and the mask is active", () => {
  // Test accuracy, UDA against supervised on the same 100 labels, one run each at 300 steps (an earlier version of
  // the notebook): 0.803/0.772/0.788 against 0.747/0.793/0.791. UDA is not reliably ahead at this budget, so the
  // issue's "UDA beats supervised" is not asserted; the notebook runs two seeds and says what it measured.
  // MEASURED_UDA200
  for (const key of ["udaSupervised", "udaAccuracy"]) assert.ok(num(results, key) > 0.6 && num(results, key) < 1, `${key} ${num(results, key)}`);
  assert.ok(num(results, "udaMaskRate") > 0.3, `mask rate ${num(results, "udaMaskRate")}`);
});

test("the exercises: nbgrader cells in place, and the SimCLR runs of section 1 train with the student's functions", () => {
  const { graded, source } = notebookExercises("06-techniques");
  assert.deepEqual(graded, [["06.1", "solution"], ["06.1-check", 2], ["06.2", "solution"], ["06.2-check", 2]]);
  assert.match(source("const simclrBaseline = "), /ntXent: \(z1, z2, t\) => myDebiasedContrastiveLoss\(z1, z2, t, tauPlus\)/);
  assert.match(source("const BETAS = "), /ntXent: \(z1, z2, t\) => myHardNegativeLoss\(z1, z2, t, beta, 0\.1\)/);
});

test("the figures and tables are in the executed notebook", () => {
  const shown = notebookDisplays("06-techniques");
  for (const title of [
    "One training digit, eight draws of each augmentation",
    "Linear probe after SimCLR with each augmentation",
    "The same runs, probe with 10 labels per class",
    "Linear probe against augmentation strength",
    "Training curves (seed",
    "Eight digits, mixed with a random partner",
    "Cosine similarity of 64 test queries to their negatives",
    "SimCLR with hard-negative sampling",
    "MoCo v2 against the momentum of the key encoder",
  ]) {
    assert.ok(shown.figureTitles.some((t) => t.startsWith(title)), `figure "${title}..." missing: ${JSON.stringify(shown.figureTitles)}`);
  }
  for (const caption of ["The two baselines", "False negatives in batches", "SimCLR with the debiased loss", "SimCLR against batch size", "MoCo v2 against queue length",
    "MoCo v2 against the key encoder's momentum", "SimCLR with a hand-made pipeline", "Test accuracy on 1,000 digits after", "Mixing on the rig", "One training sentence under each EDA operation",
    "SimCSE on Brown with each view generator", "Each experiment's setting"]) {
    assert.ok(shown.tableCaptions.some((c) => c.startsWith(caption)), `table "${caption}..." missing: ${JSON.stringify(shown.tableCaptions)}`);
  }
});
