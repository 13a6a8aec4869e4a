import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { fitDistanceThreshold, pairDistances, verificationAccuracy } from "../../src/methods/siamese";

test("pairDistances matches a float64 loop and leaves no tensors", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(1);
  const a = Array.from({ length: 6 }, () => Array.from({ length: 3 }, () => rng.normal()));
  const b = Array.from({ length: 6 }, () => Array.from({ length: 3 }, () => rng.normal()));
  const ta = tf.tensor2d(a), tb = tf.tensor2d(b);
  const before = tf.memory().numTensors;
  const d = pairDistances(ta, tb);
  assert.equal(tf.memory().numTensors, before);
  for (let i = 0; i < 6; i++) {
    const ref = Math.hypot(...a[i].map((v, k) => v - b[i][k]));
    assert.ok(Math.abs(d[i] - ref) < 1e-5);
  }
  const wrong = tf.zeros([5, 3]) as tf.Tensor2D;
  assert.throws(() => pairDistances(ta, wrong), /pairDistances: b must have shape \[6, 3\], got \[5, 3\]/);
  tf.dispose([ta, tb, wrong]);
});

test("fitDistanceThreshold finds the best threshold of a brute-force search", () => {
  // Hand case: same pairs at 0.1, 0.3, 0.9; different at 0.5, 1.2, 2. Best: threshold in (0.3, 0.5) -> 5/6.
  const fit = fitDistanceThreshold([0.1, 0.5, 0.3, 1.2, 0.9, 2], [1, 0, 1, 0, 1, 0]);
  assert.equal(fit.threshold, 0.4);
  assert.ok(Math.abs(fit.accuracy - 5 / 6) < 1e-12);
  assert.equal(verificationAccuracy([0.1, 0.5, 0.3, 1.2, 0.9, 2], [1, 0, 1, 0, 1, 0], 0.4), 5 / 6);
  // Random cases with ties against trying every candidate threshold.
  const rng = createRng(3);
  for (let trial = 0; trial < 30; trial++) {
    const n = 1 + rng.int(40);
    const dist = Array.from({ length: n }, () => Math.round(rng.next() * 10) / 2);
    const same = Array.from({ length: n }, (_, i) => (rng.next() < 0.6 - 0.05 * dist[i] ? 1 : 0));
    const candidates = [-1, ...dist, ...dist.map((v) => v + 1e-9), 100];
    const best = Math.max(...candidates.map((t) => verificationAccuracy(dist, same, t)));
    const got = fitDistanceThreshold(dist, same);
    assert.ok(Math.abs(got.accuracy - best) < 1e-12, `trial ${trial}: ${got.accuracy} vs ${best}`);
    assert.ok(Math.abs(verificationAccuracy(dist, same, got.threshold) - got.accuracy) < 1e-12);
  }
  // All "same": a threshold above every distance.
  const allSame = fitDistanceThreshold([1, 2, 3], [1, 1, 1]);
  assert.equal(allSame.accuracy, 1);
  assert.ok(allSame.threshold > 3);
});

test("bad input is rejected naming the argument", () => {
  assert.throws(() => fitDistanceThreshold([], []), /fitDistanceThreshold: distances must not be empty/);
  assert.throws(() => fitDistanceThreshold([1, 2], [1]), /fitDistanceThreshold: same must have length 2, got 1/);
  assert.throws(() => fitDistanceThreshold([1, NaN], [1, 0]), /fitDistanceThreshold: distances\[1\] must be finite, got NaN/);
  assert.throws(() => verificationAccuracy([1, 2], [1, 2], 1), /verificationAccuracy: same\[1\] must be 0 or 1, got 2/);
  assert.throws(() => verificationAccuracy([1, 2], [1, 0], NaN), /verificationAccuracy: threshold must be a number, got NaN/);
});
