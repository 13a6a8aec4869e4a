/**
 * Checks section 1 of 01-early-methods (RBM trained with contrastive
 * divergence on binarised MNIST), run by `npm run test:notebooks` after the
 * harness executed the notebook.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { notebookDisplays, notebookResults, num } from "./results";

const results = notebookResults("01-early-methods");

test("CD-1 and CD-5 lower the reconstruction error and raise the pseudo-likelihood", () => {
  const start = num(results, "rbmReconStart");
  const end = num(results, "rbmReconEnd");
  // The untrained RBM (weights ~0.01, visible biases at the pixel log-odds) gives 0.0864 on every seed.
  assert.ok(start > 0.08 && start < 0.095, `rbmReconStart ${start}`);
  // After 6 epochs of CD-1, measured 0.0337, 0.0341, 0.0342 (seeds 1, 2, 3; the notebook uses seed 1).
  assert.ok(end < 0.04 && end > 0.02, `rbmReconEnd ${end}`);
  const plStart = num(results, "rbmPseudoLikelihoodStart");
  const plEnd = num(results, "rbmPseudoLikelihoodEnd");
  // Start -205.3, -205.2, -204.9; end after CD-1 -99.6, -102.7, -100.9 nats per image (seeds 1, 2, 3).
  assert.ok(plStart < -190 && plStart > -220, `rbmPseudoLikelihoodStart ${plStart}`);
  assert.ok(plEnd > -110 && plEnd < -90, `rbmPseudoLikelihoodEnd ${plEnd}`);
  // CD-5, 6 epochs: reconstruction 0.0338, 0.0341, 0.0342; pseudo-likelihood -99.9, -102.9, -103.3.
  assert.ok(num(results, "rbmCd5ReconEnd") < 0.04, `rbmCd5ReconEnd ${num(results, "rbmCd5ReconEnd")}`);
  assert.ok(num(results, "rbmCd5PseudoLikelihoodEnd") > -110, `rbmCd5PseudoLikelihoodEnd ${num(results, "rbmCd5PseudoLikelihoodEnd")}`);
});

test("the RBM's hidden probabilities beat raw pixels in a linear probe", () => {
  const hidden = num(results, "rbmProbeHidden");
  const hiddenCd5 = num(results, "rbmProbeHiddenCd5");
  const raw = num(results, "rbmProbeRaw");
  // Binarised pixels: 0.883 on every seed (the probe recipe is fixed).
  assert.ok(raw > 0.87 && raw < 0.9, `rbmProbeRaw ${raw}`);
  // CD-1 hidden probabilities: 0.926, 0.9225, 0.9325 (0.9255 in the kernel, seed 1); CD-5: 0.925, 0.922, 0.928.
  assert.ok(hidden > 0.91, `rbmProbeHidden ${hidden}`);
  assert.ok(hiddenCd5 > 0.91, `rbmProbeHiddenCd5 ${hiddenCd5}`);
  // The gain over pixels was 0.040 to 0.050 across seeds.
  assert.ok(hidden - raw > 0.02, `gain ${hidden - raw}`);
});

test("the RBM figures and table are in the executed notebook", () => {
  const shown = notebookDisplays("01-early-methods");
  for (const title of [
    "RBM reconstruction error on test digits",
    "RBM pseudo-likelihood on test digits",
    "RBM filters: weights of 64 hidden units (CD-1)",
    "RBM samples: Gibbs chains started at test digits",
  ]) {
    assert.ok(shown.figureTitles.includes(title), `figure "${title}" missing; found ${JSON.stringify(shown.figureTitles)}`);
  }
  assert.ok(shown.tableCaptions.includes("RBM linear probe on 2000 test digits"), JSON.stringify(shown.tableCaptions));
});
