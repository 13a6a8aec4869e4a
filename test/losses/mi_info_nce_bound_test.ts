import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { infoNceBound } from "../../src/losses/mi_info_nce_bound";
import { createRng } from "../../src/data/random";
import { correlatedGaussians, gaussianMutualInformation, optimalGaussianCriticScores, rhoForMutualInformation } from "../../src/data/correlated_gaussians";
import { checkBoundAgainstReference, checkBoundRejectsBadScores, infoNceReference, randomScores } from "./mi_bound_reference";

test("infoNceBound matches the float64 reference (cpu, wasm) and its finite-difference gradient", async () => {
  await checkBoundAgainstReference(infoNceBound, infoNceReference, createRng(23));
});

test("infoNceBound never exceeds log K, reaches it for c * identity with large c, and is 0 for constant scores", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(8);
  for (const k of [2, 10, 64]) {
    for (const [scale, shift] of [[1, 0], [5, 10], [50, 0]]) {
      const s = tf.tensor2d(randomScores(rng, k, scale, shift));
      const v = infoNceBound(s).dataSync()[0];
      assert.ok(v <= Math.log(k) + 1e-6, `K=${k}: ${v} > log K`);
      s.dispose();
    }
    const eye = tf.mul(tf.eye(k), 60) as tf.Tensor2D;
    assert.ok(Math.abs(infoNceBound(eye).dataSync()[0] - Math.log(k)) < 1e-5);
    const flat = tf.fill([k, k], 3) as tf.Tensor2D;
    assert.ok(Math.abs(infoNceBound(flat).dataSync()[0]) < 1e-5);
    tf.dispose([eye, flat]);
  }
});

/** Mean of the InfoNCE bound at the optimal critic over `batches` seeded batches of K pairs. */
function optimalCriticInfoNce(mi: number, dim: number, k: number, batches: number): number {
  const rho = rhoForMutualInformation(mi, dim);
  let total = 0;
  for (let seed = 0; seed < batches; seed++) {
    total += tf.tidy(() => {
      const { x, y } = correlatedGaussians({ n: k, dim, rho, seed: 100 + seed });
      return infoNceBound(optimalGaussianCriticScores(x, y, rho)).dataSync()[0];
    });
  }
  return total / batches;
}

test("with the optimal critic, InfoNCE is near the true MI below log K and saturates just under log K above it", async () => {
  await tf.setBackend("cpu");
  const k = 64;
  const logK = Math.log(k); // 4.16 nats
  const small = optimalCriticInfoNce(0.5, 2, k, 20);
  assert.ok(small <= 0.5 + 0.05 && small > 0.5 - 0.1, `MI 0.5 << log K: InfoNCE ${small}`);
  const large = optimalCriticInfoNce(12, 5, k, 20);
  assert.ok(large <= logK && large > logK - 0.15, `MI 12 >> log K = ${logK}: InfoNCE ${large}`);
  // A lower bound on average at every MI, rising with it, loosest near log K
  // (measured, d = 5, K = 64: 0.97, 1.82, 2.56, 3.16, 3.88, 4.11 at MI 1, 2, 3, 4, 6, 8).
  let previous = 0;
  for (const mi of [1, 2, 3, 4, 6, 8]) {
    const v = optimalCriticInfoNce(mi, 5, k, 20);
    assert.ok(v <= Math.min(mi, logK) + 0.05, `MI ${mi}: InfoNCE ${v} above min(MI, log K)`);
    assert.ok(v > previous, `MI ${mi}: InfoNCE ${v} not above ${previous} at the lower MI`);
    if (mi <= 2) assert.ok(v > mi - 0.3, `MI ${mi}: InfoNCE ${v} far below the MI`);
    previous = v;
  }
  assert.equal(gaussianMutualInformation(rhoForMutualInformation(12, 5), 5).toFixed(9), (12).toFixed(9));
});

test("infoNceBound rejects bad scores", async () => {
  await tf.setBackend("cpu");
  checkBoundRejectsBadScores(infoNceBound, "infoNceBound");
  tf.disposeVariables();
});
