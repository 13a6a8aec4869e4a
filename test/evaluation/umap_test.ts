import { test } from "node:test";
import assert from "node:assert/strict";
import "../../src/backend/select";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { umapProjection } from "../../src/evaluation/umap";
import { gaussianClusters, neighbourLabelAgreement } from "./projection_helpers";

test("umapProjection separates four Gaussian clusters in 20-D (5-NN label agreement >= 0.95; a random layout scores near chance)", () => {
  const { values, labels, n } = gaussianClusters(4, 50, 20, 11);
  const { coordinates, nEpochs } = umapProjection(values, { dim: 20, seed: 1 });
  assert.equal(nEpochs, 500);
  assert.equal(coordinates.length, n);
  assert.ok(coordinates.every((p) => p.length === 2 && p.every(Number.isFinite)));
  const agreement = neighbourLabelAgreement(coordinates, labels, 5);
  assert.ok(agreement >= 0.95, `UMAP 5-NN agreement ${agreement}`);
  const rng = createRng(2);
  const chance = neighbourLabelAgreement(coordinates.map(() => [rng.next(), rng.next()]), labels, 5);
  assert.ok(chance > 0.1 && chance < 0.4, `random layout 5-NN agreement ${chance}`);
});

test("umapProjection: same seed, same layout; another seed, another; a tensor gives what its values give and is left alone", async () => {
  await tf.setBackend("wasm");
  const { values, n } = gaussianClusters(3, 20, 8, 4);
  const options = { dim: 8, nNeighbors: 10, nEpochs: 60, seed: 7 };
  const a = umapProjection(values, options);
  assert.equal(a.nEpochs, 60);
  assert.deepEqual(umapProjection(values, options), a);
  assert.notDeepEqual(umapProjection(values, { ...options, seed: 8 }).coordinates, a.coordinates);
  const t = tf.tensor2d(values, [n, 8]);
  const before = tf.memory().numTensors;
  const fromTensor = umapProjection(t, { nNeighbors: 10, nEpochs: 60, seed: 7 });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(t.isDisposed, false);
  assert.deepEqual(fromTensor, a);
  t.dispose();
});

test("umapProjection rejects bad input naming the argument", () => {
  const x = Array.from({ length: 12 }, (_, i) => [i, i % 3]);
  assert.throws(() => umapProjection(x), /umapProjection: features must have more rows than options.nNeighbors = 15, got 12 rows/);
  assert.throws(() => umapProjection(x, { nNeighbors: 1 }), /umapProjection: options.nNeighbors must be an integer >= 2, got 1/);
  assert.throws(() => umapProjection(x, { nNeighbors: 2.5 }), /umapProjection: options.nNeighbors must be an integer, got 2.5/);
  assert.throws(() => umapProjection(x, { nNeighbors: 5, minDist: 1.5 }), /umapProjection: options.minDist must be a number in \[0, 1\], got 1.5/);
  assert.throws(() => umapProjection(x, { nNeighbors: 5, nEpochs: 0 }), /umapProjection: options.nEpochs must be a positive integer, got 0/);
  assert.throws(() => umapProjection(x, { nNeighbors: 5, seed: NaN }), /umapProjection: options.seed must be an integer, got NaN/);
  assert.throws(() => umapProjection(new Float32Array(24)), /umapProjection: options.dim must be given with a flat Float32Array/);
  assert.throws(() => umapProjection([[1, 2], [3]]), /umapProjection: features row 1 must have length 2, got 1/);
});
