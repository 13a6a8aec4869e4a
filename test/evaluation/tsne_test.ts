import { test } from "node:test";
import assert from "node:assert/strict";
import "../../src/backend/select";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { tsneAffinities, tsneKlDivergence, tsneProjection } from "../../src/evaluation/tsne";
import { gaussianClusters, neighbourLabelAgreement } from "./projection_helpers";

function randomRows(n: number, d: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
}

test("tsneAffinities: every conditional distribution has entropy log(perplexity) and the Gaussian form; the joint is symmetric", () => {
  const n = 60, d = 5, perplexity = 10;
  const x = randomRows(n, d, 3);
  const { conditional, joint, beta } = tsneAffinities(x, perplexity);
  for (let i = 0; i < n; i++) {
    const row = Array.from(conditional.subarray(i * n, (i + 1) * n));
    assert.equal(row[i], 0);
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    // Entropy recomputed here from the probabilities, in nats.
    const h = -row.reduce((s, p) => (p > 0 ? s + p * Math.log(p) : s), 0);
    assert.ok(Math.abs(h - Math.log(perplexity)) < 1e-4, `row ${i}: entropy ${h} vs ${Math.log(perplexity)}`);
    // p(j|i) / p(k|i) = exp(-beta_i (d_ij - d_ik)) with squared Euclidean distances.
    const dist = x.map((r) => r.reduce((s, v, a) => s + (v - x[i][a]) ** 2, 0));
    const j = (i + 1) % n, k = (i + 2) % n;
    assert.ok(Math.abs(Math.log(row[j] / row[k]) + beta[i] * (dist[j] - dist[k])) < 1e-8);
  }
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      total += joint[i * n + j];
      assert.ok(Math.abs(joint[i * n + j] - (conditional[i * n + j] + conditional[j * n + i]) / (2 * n)) < 1e-15);
    }
  }
  assert.ok(Math.abs(total - 1) < 1e-12);
});

test("tsneKlDivergence: KL matches a direct float64 evaluation and the gradient matches central finite differences", () => {
  const n = 7;
  const { joint } = tsneAffinities(randomRows(n, 4, 8), 3);
  const rng = createRng(9);
  const y = Float64Array.from({ length: 2 * n }, () => rng.normal());
  const reference = (layout: Float64Array): number => {
    const kernel = (i: number, j: number) => 1 / (1 + (layout[2 * i] - layout[2 * j]) ** 2 + (layout[2 * i + 1] - layout[2 * j + 1]) ** 2);
    let z = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) z += kernel(i, j);
    let kl = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) kl += joint[i * n + j] * Math.log(joint[i * n + j] / (kernel(i, j) / z));
    return kl;
  };
  const { kl, gradient } = tsneKlDivergence(joint, y, n);
  assert.ok(Math.abs(kl - reference(y)) < 1e-12, `${kl} vs ${reference(y)}`);
  const h = 1e-5;
  for (let k = 0; k < 2 * n; k++) {
    const plus = Float64Array.from(y), minus = Float64Array.from(y);
    plus[k] += h;
    minus[k] -= h;
    const numeric = (reference(plus) - reference(minus)) / (2 * h);
    assert.ok(Math.abs(numeric - gradient[k]) < 1e-7 * Math.max(1, Math.abs(numeric)), `coordinate ${k}: ${gradient[k]} vs ${numeric}`);
  }
});

test("tsneProjection separates four Gaussian clusters in 20-D (5-NN label agreement >= 0.95; a random layout scores near chance)", () => {
  const { values, labels, n } = gaussianClusters(4, 50, 20, 11);
  const { coordinates, klDivergence } = tsneProjection(values, { dim: 20, perplexity: 30, seed: 1 });
  assert.equal(coordinates.length, n);
  assert.ok(coordinates.every((p) => p.length === 2 && p.every(Number.isFinite)));
  const agreement = neighbourLabelAgreement(coordinates, labels, 5);
  assert.ok(agreement >= 0.95, `t-SNE 5-NN agreement ${agreement}`);
  const rng = createRng(2);
  const random = coordinates.map(() => [rng.normal(), rng.normal()]);
  const chance = neighbourLabelAgreement(random, labels, 5);
  assert.ok(chance > 0.1 && chance < 0.4, `random layout 5-NN agreement ${chance}`);
  assert.ok(klDivergence > 0 && klDivergence < 2, `KL ${klDivergence}`);
});

test("tsneProjection: same seed, same layout; another seed, another; a tensor gives what its values give and is left alone", async () => {
  await tf.setBackend("wasm");
  const { values, n } = gaussianClusters(3, 15, 6, 4);
  const options = { dim: 6, perplexity: 8, iterations: 120, seed: 5 };
  const a = tsneProjection(values, options);
  const b = tsneProjection(values, options);
  assert.deepEqual(a, b);
  const c = tsneProjection(values, { ...options, seed: 6 });
  assert.notDeepEqual(a.coordinates, c.coordinates);
  const t = tf.tensor2d(values, [n, 6]);
  const before = tf.memory().numTensors;
  const fromTensor = tsneProjection(t, { perplexity: 8, iterations: 120, seed: 5 });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(t.isDisposed, false);
  assert.deepEqual(fromTensor, a);
  t.dispose();
});

test("tsneProjection and tsneAffinities reject bad input naming the argument", () => {
  const x = randomRows(10, 3, 1);
  assert.throws(() => tsneProjection(x), /tsneProjection: options.perplexity must be a number in \[1, n - 1\) = \[1, 9\) for n = 10 points, got 30/);
  assert.throws(() => tsneAffinities(x, 0.5), /tsneAffinities: perplexity must be a number in \[1, n - 1\) = \[1, 9\) for n = 10 points, got 0.5/);
  assert.throws(() => tsneProjection(x, { perplexity: 3, iterations: 0 }), /tsneProjection: options.iterations must be a positive integer, got 0/);
  assert.throws(() => tsneProjection(x, { perplexity: 3, learningRate: -1 }), /tsneProjection: options.learningRate must be a finite number > 0, got -1/);
  assert.throws(() => tsneProjection(x, { perplexity: 3, iterations: 10, exaggerationIterations: 11 }), /tsneProjection: options.exaggerationIterations must be an integer in \[0, 10\], got 11/);
  assert.throws(() => tsneProjection(x, { perplexity: 3, seed: 0.5 }), /tsneProjection: options.seed must be an integer, got 0.5/);
  assert.throws(() => tsneProjection(new Float32Array(10)), /tsneProjection: options.dim must be given with a flat Float32Array \(its row length\), got undefined/);
  assert.throws(() => tsneProjection(new Float32Array(10), { dim: 3 }), /tsneProjection: features must hold n \* options.dim values \(options.dim = 3\), got a Float32Array of length 10/);
  assert.throws(() => tsneProjection(x, { dim: 4 }), /tsneProjection: options.dim must match the 3 columns of features, got 4/);
  assert.throws(() => tsneProjection([[1, NaN], [0, 0], [1, 1]]), /tsneProjection: features must be finite, got NaN at row 0, column 1/);
  assert.throws(() => tsneProjection({ values: new Float32Array(2001), n: 2001, d: 1 }), /tsneProjection: features must have at most 2000 rows \(exact t-SNE is O\(n\^2\)\), got 2001/);
  assert.throws(() => tsneKlDivergence(new Float64Array(4), new Float64Array(3), 2), /tsneKlDivergence: y must have 2n = 4 values \(\[n, 2\]\), got 3/);
  assert.throws(() => tsneKlDivergence(new Float64Array([0, 0.3, 0.2, 0]), new Float64Array(4), 2), /tsneKlDivergence: joint must be symmetric and non-negative, got 0.3 at \[0, 1\] and 0.2 at \[1, 0\]/);
  assert.throws(() => tsneKlDivergence(new Float64Array([0.5, 0, 0, 0.5]), new Float64Array(4), 2), /tsneKlDivergence: joint must have a zero diagonal, got 0.5 at \[0, 0\]/);
});
