import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { donskerVaradhanBound } from "../../src/losses/mi_donsker_varadhan";
import { createRng } from "../../src/data/random";
import { correlatedGaussians, gaussianMutualInformation, optimalGaussianCriticScores } from "../../src/data/correlated_gaussians";
import { checkBoundAgainstReference, checkBoundRejectsBadScores, dvReference, randomScores } from "./mi_bound_reference";

test("donskerVaradhanBound matches the float64 reference (cpu, wasm) and its finite-difference gradient", async () => {
  await checkBoundAgainstReference(donskerVaradhanBound, dvReference, createRng(22));
});

test("donskerVaradhanBound ignores a constant added to every score, and is finite for scores in the hundreds", async () => {
  await tf.setBackend("cpu");
  const s = randomScores(createRng(4), 6, 1, 2);
  const a = tf.tensor2d(s);
  const b = tf.add(a, 300) as tf.Tensor2D;
  const va = donskerVaradhanBound(a).dataSync()[0];
  const vb = donskerVaradhanBound(b).dataSync()[0];
  assert.ok(Number.isFinite(vb) && Math.abs(va - vb) < 1e-3, `${va} vs ${vb}`);
  tf.dispose([a, b]);
});

test("donskerVaradhanBound near the true MI at the optimal critic for small MI", async () => {
  await tf.setBackend("cpu");
  const rho = 0.5;
  const dim = 2;
  const truth = gaussianMutualInformation(rho, dim);
  let total = 0;
  const batches = 20;
  for (let seed = 0; seed < batches; seed++) {
    total += tf.tidy(() => {
      const { x, y } = correlatedGaussians({ n: 64, dim, rho, seed });
      return donskerVaradhanBound(optimalGaussianCriticScores(x, y, rho)).dataSync()[0];
    });
  }
  assert.ok(Math.abs(total / batches - truth) < 0.06, `DV at the optimal critic: ${total / batches} vs true MI ${truth}`);
});

test("donskerVaradhanBound rejects bad scores", async () => {
  await tf.setBackend("cpu");
  checkBoundRejectsBadScores(donskerVaradhanBound, "donskerVaradhanBound");
  tf.disposeVariables();
});
