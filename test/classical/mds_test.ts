import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { classicalMds, distanceMatrix } from "../../src/classical/mds";

function randomPoints(n: number, d: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Array.from({ length: d }, () => 10 * rng.normal()));
}

test("classicalMds recovers 2-D points up to rotation/reflection/translation: pairwise distances to 1e-9", async () => {
  await tf.setBackend("cpu");
  const points = randomPoints(30, 2, 1);
  const dist = distanceMatrix(points);
  const { coordinates, eigenvalues } = classicalMds(dist, 2);
  assert.equal(coordinates.length, 30);
  assert.equal(coordinates[0].length, 2);
  const recovered = distanceMatrix(coordinates);
  for (let i = 0; i < 30; i++) for (let j = 0; j < 30; j++) assert.ok(Math.abs(recovered[i][j] - dist[i][j]) < 1e-9, `${i},${j}`);
  // The embedding is centred and its eigenvalues are the centred points' Gram eigenvalues (n-1 times the variances).
  for (let c = 0; c < 2; c++) {
    const mean = coordinates.reduce((s, r) => s + r[c], 0) / 30;
    assert.ok(Math.abs(mean) < 1e-9);
    const ss = coordinates.reduce((s, r) => s + r[c] * r[c], 0);
    assert.ok(Math.abs(ss - eigenvalues[c]) < 1e-8 * eigenvalues[c]);
  }
  assert.ok(eigenvalues[0] >= eigenvalues[1] && eigenvalues[1] > 0);
});

test("classicalMds of 3-D points onto 2-D keeps the two largest-variance directions; squared input agrees", () => {
  // Points spread 10, 3 and 0.1 along three axes: the 2-D embedding loses only the smallest.
  const rng = createRng(2);
  const pts = Array.from({ length: 25 }, () => [10 * rng.normal(), 3 * rng.normal(), 0.1 * rng.normal()]);
  const dist = distanceMatrix(pts);
  const a = classicalMds(dist, 2).coordinates;
  const sq = dist.map((r) => r.map((v) => v * v));
  const b = classicalMds(sq, 2, { squared: true }).coordinates;
  for (let i = 0; i < 25; i++) for (let c = 0; c < 2; c++) assert.ok(Math.abs(a[i][c] - b[i][c]) < 1e-9);
  const flat = distanceMatrix(pts.map((p) => [p[0], p[1]]));
  const rec = distanceMatrix(a);
  let worst = 0;
  for (let i = 0; i < 25; i++) for (let j = 0; j < 25; j++) worst = Math.max(worst, Math.abs(rec[i][j] - flat[i][j]));
  assert.ok(worst < 0.5, `worst ${worst}`); // third axis has std 0.1
  assert.ok(worst > 1e-6, "the third axis is really dropped");
});

test("distanceMatrix matches a hand-computed case; classicalMds rejects bad input naming the argument", () => {
  assert.deepEqual(distanceMatrix([[0, 0], [3, 4], [0, 4]]), [[0, 5, 4], [5, 0, 3], [4, 3, 0]]);
  assert.throws(() => classicalMds([[0, 1], [1, 0], [1, 1]], 1), /classicalMds: distances must be square \[n, n\], got \[3, 2\]/);
  assert.throws(() => classicalMds([[0, 1], [2, 0]], 1), /classicalMds: distances must be symmetric/);
  assert.throws(() => classicalMds([[0, -1], [-1, 0]], 1), /classicalMds: distances must be non-negative/);
  assert.throws(() => classicalMds([[0, 1], [1, 0]], 3), /classicalMds: k must be an integer in \[1, 2\], got 3/);
  assert.throws(() => classicalMds([[0, 1], [1]], 1), /classicalMds: distances row 1 must have length 2, got 1/);
  // Four points at mutual distance 1 except one pair at 3 (breaks the triangle inequality): B has a negative eigenvalue.
  const bad = [[0, 1, 1, 3], [1, 0, 1, 1], [1, 1, 0, 1], [3, 1, 1, 0]];
  assert.throws(() => classicalMds(bad, 4), /classicalMds: eigenvalue 4 of the double-centred matrix is -[0-9.e-]+ < 0; .* choose k <= 3/);
});

test("classicalMds takes a tensor and leaves no tensors behind", async () => {
  await tf.setBackend("cpu");
  const dist = distanceMatrix(randomPoints(8, 3, 3));
  const t = tf.tensor2d(dist.flat(), [8, 8], "float32");
  const before = tf.memory().numTensors;
  const fromTensor = classicalMds(t, 3).coordinates;
  assert.equal(tf.memory().numTensors, before);
  const rec = distanceMatrix(fromTensor);
  for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) assert.ok(Math.abs(rec[i][j] - dist[i][j]) < 1e-4);
  t.dispose();
});
