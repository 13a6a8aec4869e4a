import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { recallAtK } from "../../src/evaluation/retrieval";
import { createRng } from "../../src/data/random";

// Brute force in float64: rank every other row, ties broken by lower index (like tf.topk on cpu).
function reference(x: number[][], y: number[], k: number, metric: "cosine" | "euclidean"): number {
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, a) => s + a * a, 0));
  let hits = 0;
  for (let i = 0; i < x.length; i++) {
    const scored: [number, number][] = [];
    for (let j = 0; j < x.length; j++) {
      if (j === i) continue;
      let s = 0;
      if (metric === "cosine") {
        for (let d = 0; d < x[i].length; d++) s += x[i][d] * x[j][d];
        s /= norm(x[i]) * norm(x[j]);
      } else {
        for (let d = 0; d < x[i].length; d++) s -= (x[i][d] - x[j][d]) ** 2;
      }
      scored.push([s, j]);
    }
    scored.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    if (scored.slice(0, k).some(([, j]) => y[j] === y[i])) hits++;
  }
  return hits / x.length;
}

test("recallAtK matches a float64 brute force for both metrics and several K, in chunks, without leaks", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(5);
  for (const [n, d, classes] of [[12, 3, 3], [40, 5, 4], [25, 2, 6]]) {
    const x = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
    const y = Array.from({ length: n }, () => rng.int(classes));
    const t = tf.tensor2d(x);
    for (const metric of ["cosine", "euclidean"] as const) {
      const before = tf.memory().numTensors;
      const r = recallAtK(t as tf.Tensor2D, y, { ks: [1, 3, 5], metric, chunkSize: 7 });
      assert.equal(tf.memory().numTensors, before);
      assert.deepEqual(r.ks, [1, 3, 5]);
      [1, 3, 5].forEach((k, i) => assert.equal(r.recall[i], reference(x, y, k, metric), `n=${n} ${metric} R@${k}`));
    }
    t.dispose();
  }
});

test("recallAtK never retrieves the query itself: duplicated points with different labels score 0", async () => {
  await tf.setBackend("cpu");
  // Two far clusters, labels alternate inside each: the nearest other point always has the other label.
  const x = tf.tensor2d([[0, 0], [0.01, 0], [10, 10], [10.01, 10]]) as tf.Tensor2D;
  assert.deepEqual(recallAtK(x, [0, 1, 0, 1], { metric: "euclidean" }).recall, [0]);
  assert.deepEqual(recallAtK(x, [0, 0, 1, 1], { metric: "euclidean" }).recall, [1]);
  // At K=2 each query reaches the nearer point of the other cluster: a same-label point for 0 and 3, not for 1 and 2.
  assert.deepEqual(recallAtK(x, [0, 1, 0, 1], { ks: [2], metric: "euclidean" }).recall, [0.5]);
  x.dispose();
});

test("recallAtK rejects bad input naming the argument", async () => {
  await tf.setBackend("cpu");
  const x = tf.zeros([4, 2]) as tf.Tensor2D;
  assert.throws(() => recallAtK(x, [0, 1, 0]), /recallAtK: labels must have shape \[4\], got \[3\]/);
  assert.throws(() => recallAtK(x, [0, 1, 0, 1], { ks: [4] }), /recallAtK: options.ks must hold integers in \[1, 3\]/);
  assert.throws(() => recallAtK(x, [0, 1, 0, 1], { ks: [] }), /options.ks must be a non-empty array/);
  assert.throws(() => recallAtK(x, [0, 1, 0, 1], { metric: "l1" as "cosine" }), /options.metric/);
  assert.throws(() => recallAtK(tf.zeros([1, 2]) as tf.Tensor2D, [0]), /at least 2 rows/);
  assert.throws(() => recallAtK(tf.zeros([4]) as unknown as tf.Tensor2D, [0, 1, 0, 1]), /recallAtK: features must be a tensor of shape \[n,d\], got a tensor of shape \[4\]/);
  x.dispose();
});
