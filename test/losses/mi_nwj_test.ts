import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { nwjBound } from "../../src/losses/mi_nwj";
import { createRng } from "../../src/data/random";
import { correlatedGaussians, gaussianMutualInformation, optimalGaussianCriticScores } from "../../src/data/correlated_gaussians";
import { checkBoundAgainstReference, checkBoundRejectsBadScores, nwjReference } from "./mi_bound_reference";

test("nwjBound matches the float64 reference (cpu, wasm) and its finite-difference gradient", async () => {
  await checkBoundAgainstReference(nwjBound, nwjReference, createRng(21));
});

test("nwjBound is 0 - 1/e for constant-zero scores, and unbiased at its optimal critic 1 + log p(y|x)/p(y)", async () => {
  await tf.setBackend("cpu");
  const zeros = tf.zeros([4, 4]) as tf.Tensor2D;
  const b0 = nwjBound(zeros);
  assert.ok(Math.abs(b0.dataSync()[0] + Math.exp(-1)) < 1e-6);
  tf.dispose([zeros, b0]);
  // Small MI, where NWJ's variance is small: the mean over batches lands on the truth.
  const rho = 0.5;
  const dim = 2;
  const truth = gaussianMutualInformation(rho, dim);
  const estimates: number[] = [];
  for (let seed = 0; seed < 20; seed++) {
    estimates.push(tf.tidy(() => {
      const { x, y } = correlatedGaussians({ n: 64, dim, rho, seed });
      return nwjBound(tf.add(optimalGaussianCriticScores(x, y, rho), 1) as tf.Tensor2D).dataSync()[0];
    }));
  }
  const mean = estimates.reduce((a, b) => a + b, 0) / estimates.length;
  assert.ok(Math.abs(mean - truth) < 0.06, `NWJ at the optimal critic: ${mean} vs true MI ${truth}`);
});

test("nwjBound rejects bad scores", async () => {
  await tf.setBackend("cpu");
  checkBoundRejectsBadScores(nwjBound, "nwjBound");
  tf.disposeVariables();
});
