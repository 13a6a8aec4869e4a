import { test } from "node:test";
import assert from "node:assert/strict";
import "../../src/backend/select"; // registers the wasm backend
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { kmeans } from "../../src/classical/kmeans";

/** `blobs` Gaussian blobs (sd 0.3) around centres 10 apart on the axes; rows ordered blob by blob. */
function blobs(perBlob: number, count: number, d: number, seed: number): { rows: number[][]; labels: number[] } {
  const rng = createRng(seed);
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let b = 0; b < count; b++) {
    for (let i = 0; i < perBlob; i++) {
      rows.push(Array.from({ length: d }, (_, j) => (j === b % d ? 10 * (1 + Math.floor(b / d)) : 0) + 0.3 * rng.normal()));
      labels.push(b);
    }
  }
  return { rows, labels };
}

/** True when the two labelings induce the same partition (equal up to a permutation of cluster ids). */
function samePartition(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const ab = new Map<number, number>();
  const ba = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    if ((ab.get(a[i]) ?? b[i]) !== b[i] || (ba.get(b[i]) ?? a[i]) !== a[i]) return false;
    ab.set(a[i], b[i]);
    ba.set(b[i], a[i]);
  }
  return true;
}

function inertiaRef(rows: number[][], centroids: number[][], assignments: ArrayLike<number>): number {
  let total = 0;
  rows.forEach((r, i) => r.forEach((v, j) => (total += (v - centroids[assignments[i]][j]) ** 2)));
  return total;
}

test("separable blobs are recovered exactly, with centroids at the blob means", async () => {
  await tf.setBackend("cpu");
  const { rows, labels } = blobs(40, 6, 8, 1);
  const x = tf.tensor2d(rows);
  for (const init of ["k-means++", "random"] as const) {
    const before = tf.memory().numTensors;
    const r = kmeans(x, { k: 6, iterations: 30, seed: 3, init });
    assert.equal(tf.memory().numTensors, before + 1);
    if (init === "k-means++") assert.ok(samePartition(r.assignments, labels), "k-means++ partition");
    if (samePartition(r.assignments, labels)) {
      const c = r.centroids.arraySync();
      for (let b = 0; b < 6; b++) {
        const members = rows.filter((_, i) => labels[i] === b);
        const mean = members[0].map((_, j) => members.reduce((s, m) => s + m[j], 0) / members.length);
        const cluster = r.assignments[b * 40];
        mean.forEach((v, j) => assert.ok(Math.abs(c[cluster][j] - v) < 1e-5));
      }
      assert.deepEqual(Array.from(r.clusterSizes), [40, 40, 40, 40, 40, 40]);
    }
    assert.ok(Math.abs(r.inertia - inertiaRef(rows, r.centroids.arraySync(), r.assignments)) < 1e-3 * r.inertia);
    r.centroids.dispose();
  }
  x.dispose();
});

test("inertia never increases over Lloyd rounds, and runs are deterministic per seed", async () => {
  await tf.setBackend("cpu");
  // Overlapping data (no clean clusters), so Lloyd's rounds keep moving.
  const rng = createRng(9);
  const rows = Array.from({ length: 600 }, () => Array.from({ length: 5 }, () => rng.normal() * (1 + rng.next())));
  const x = tf.tensor2d(rows);
  const a = kmeans(x, { k: 12, iterations: 25, seed: 4 });
  assert.equal(a.reseeded, 0);
  assert.ok(a.iterations >= 3, `ran ${a.iterations} rounds`);
  assert.equal(a.inertiaHistory.length, a.iterations + 1);
  for (let i = 1; i < a.inertiaHistory.length; i++) {
    assert.ok(a.inertiaHistory[i] <= a.inertiaHistory[i - 1] * (1 + 1e-6), `round ${i}: ${a.inertiaHistory[i]} > ${a.inertiaHistory[i - 1]}`);
  }
  assert.ok(a.inertiaHistory[a.inertiaHistory.length - 1] < a.inertiaHistory[0]);
  const b = kmeans(x, { k: 12, iterations: 25, seed: 4 });
  assert.deepEqual(Array.from(b.assignments), Array.from(a.assignments));
  assert.deepEqual(b.centroids.arraySync(), a.centroids.arraySync());
  assert.equal(b.inertia, a.inertia);
  const c = kmeans(x, { k: 12, iterations: 25, seed: 5 });
  assert.notDeepEqual(c.centroids.arraySync(), a.centroids.arraySync());
  tf.dispose([x, a.centroids, b.centroids, c.centroids]);
});

test("an empty cluster is re-seeded by splitting a populated one (DeepCluster)", async () => {
  await tf.setBackend("cpu");
  const { rows, labels } = blobs(30, 3, 2, 2);
  const x = tf.tensor2d(rows);
  // Three centroids on the blobs and one far away, which no row picks.
  const init = tf.tensor2d([[10, 0], [0, 10], [20, 0], [500, 500]]);
  const r = kmeans(x, { k: 4, iterations: 20, seed: 1, init });
  assert.ok(r.reseeded >= 1);
  assert.ok(Array.from(r.clusterSizes).every((s) => s > 0), `sizes ${Array.from(r.clusterSizes)}`);
  // Every cluster lies inside one blob, and the far centroid is gone.
  for (let c = 0; c < 4; c++) {
    const blobIds = new Set(labels.filter((_, i) => r.assignments[i] === c));
    assert.equal(blobIds.size, 1);
  }
  assert.ok(r.centroids.arraySync().every((row) => Math.abs(row[0]) < 25 && Math.abs(row[1]) < 25));
  tf.dispose([x, init, r.centroids]);
});

test("k = n puts every row in its own cluster; k-means++ covers distinct points first; k above the distinct points still runs", async () => {
  await tf.setBackend("cpu");
  const x = tf.tensor2d([[0, 0], [1, 0], [0, 1], [5, 5]]);
  const r = kmeans(x, { k: 4, seed: 2 });
  assert.equal(new Set(Array.from(r.assignments)).size, 4);
  assert.ok(r.inertia < 1e-9);
  // Three distinct points, k = 3 with k-means++: D^2 sampling never picks a duplicate while another point is uncovered.
  const dup = tf.tensor2d([[0, 0], [0, 0], [3, 0], [3, 0], [0, 3]]);
  const s = kmeans(dup, { k: 3, seed: 7 });
  assert.ok(s.inertia < 1e-9);
  // k = 4 > 3 distinct points: the 4th seed duplicates a point, an empty cluster is re-seeded next to it.
  const u = kmeans(dup, { k: 4, seed: 7 });
  assert.ok(u.reseeded >= 1);
  assert.ok(u.inertia < 1e-4, `${u.inertia}`);
  tf.dispose([x, dup, r.centroids, s.centroids, u.centroids]);
});

test("8000 x 128 features, k = 100, 10 rounds, in a few seconds on cpu", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(11);
  const data = new Float32Array(8000 * 128);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  const x = tf.tensor2d(data, [8000, 128]);
  const start = Date.now();
  const r = kmeans(x, { k: 100, iterations: 10, seed: 0 });
  const seconds = (Date.now() - start) / 1000;
  assert.ok(seconds < 20, `took ${seconds} s`);
  assert.equal(r.assignments.length, 8000);
  assert.ok(r.inertiaHistory[r.inertiaHistory.length - 1] < r.inertiaHistory[0]);
  console.log(`kmeans 8000x128 k=100 10 rounds: ${seconds.toFixed(2)} s`);
  tf.dispose([x, r.centroids]);
});

test("bad input is rejected naming the argument", async () => {
  await tf.setBackend("cpu");
  const x = tf.zeros([5, 2]) as tf.Tensor2D;
  const vec = tf.zeros([5]);
  const init = tf.zeros([3, 3]) as tf.Tensor2D;
  assert.throws(() => kmeans(x, { k: 6 }), /kmeans: options.k must be an integer in \[1, 5\] \(the rows\), got 6/);
  assert.throws(() => kmeans(x, { k: 2.5 }), /kmeans: options.k must be an integer/);
  assert.throws(() => kmeans(x, { k: 2, iterations: -1 }), /kmeans: options.iterations must be a non-negative integer, got -1/);
  assert.throws(() => kmeans(vec as unknown as tf.Tensor2D, { k: 2 }), /kmeans: features must be a tf.Tensor2D \[n, d\], got shape \[5\]/);
  assert.throws(() => kmeans(x, { k: 3, init }), /kmeans: options.init must have shape \[3, 2\], got \[3,3\]/);
  assert.throws(() => kmeans(x, { k: 3, init: "kmeans" as "random" }), /kmeans: options.init must be "k-means\+\+", "random" or a \[3, 2\] tensor, got kmeans/);
  const before = tf.memory().numTensors;
  assert.throws(() => kmeans(tf.tensor2d([[NaN, 0]]), { k: 1 }), /kmeans: features must be finite, got NaN at row 0, column 0/);
  assert.equal(tf.memory().numTensors, before + 1); // the NaN input itself
  tf.dispose([x, vec, init]);
});

test("on wasm: blobs are recovered and the run equals the cpu run", async () => {
  const { rows, labels } = blobs(30, 5, 6, 12);
  await tf.setBackend("cpu");
  const xc = tf.tensor2d(rows);
  const onCpu = kmeans(xc, { k: 5, seed: 1 });
  assert.ok(await tf.setBackend("wasm"));
  const xw = tf.tensor2d(rows);
  const before = tf.memory().numTensors;
  const onWasm = kmeans(xw, { k: 5, seed: 1 });
  assert.equal(tf.memory().numTensors, before + 1);
  assert.ok(samePartition(onWasm.assignments, labels));
  assert.deepEqual(Array.from(onWasm.assignments), Array.from(onCpu.assignments));
  assert.ok(Math.abs(onWasm.inertia - onCpu.inertia) < 1e-6 * onCpu.inertia);
  tf.dispose([xw, onWasm.centroids]);
  await tf.setBackend("cpu");
  tf.dispose([xc, onCpu.centroids]);
});
