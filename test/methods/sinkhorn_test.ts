import { test } from "node:test";
import assert from "node:assert/strict";
import "../../src/backend/select"; // registers the wasm backend
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { sinkhorn } from "../../src/methods/sinkhorn";

/** SwAV's Algorithm 1, transcribed in float64 (Q is [K, B] as in the paper), exp domain. */
function swavReference(scores: number[][], epsilon: number, iterations: number): number[][] {
  const B = scores.length;
  const K = scores[0].length;
  const q = Array.from({ length: K }, (_, k) => Array.from({ length: B }, (_, b) => Math.exp(scores[b][k] / epsilon)));
  const total = q.flat().reduce((a, v) => a + v, 0);
  q.forEach((row) => row.forEach((_, b) => (row[b] /= total)));
  for (let it = 0; it < iterations; it++) {
    for (let k = 0; k < K; k++) {
      const u = q[k].reduce((a, v) => a + v, 0);
      for (let b = 0; b < B; b++) q[k][b] *= 1 / K / u;
    }
    for (let b = 0; b < B; b++) {
      let c = 0;
      for (let k = 0; k < K; k++) c += q[k][b];
      for (let k = 0; k < K; k++) q[k][b] *= 1 / B / c;
    }
  }
  return Array.from({ length: B }, (_, b) => {
    let c = 0;
    for (let k = 0; k < K; k++) c += q[k][b];
    return Array.from({ length: K }, (_, k) => q[k][b] / c);
  });
}

/** The same iteration in the log domain, float64 (for scores whose exp overflows float64). */
function logDomainReference(scores: number[][], epsilon: number, iterations: number): number[][] {
  const B = scores.length;
  const K = scores[0].length;
  const lse = (v: number[]): number => {
    const m = Math.max(...v);
    return m + Math.log(v.reduce((a, x) => a + Math.exp(x - m), 0));
  };
  let l = scores.map((r) => r.map((v) => v / epsilon));
  const all = lse(l.flat());
  l = l.map((r) => r.map((v) => v - all));
  for (let it = 0; it < iterations; it++) {
    for (let k = 0; k < K; k++) {
      const c = lse(l.map((r) => r[k])) + Math.log(K);
      l.forEach((r) => (r[k] -= c));
    }
    l = l.map((r) => {
      const c = lse(r) + Math.log(B);
      return r.map((v) => v - c);
    });
  }
  return l.map((r) => {
    const c = lse(r);
    return r.map((v) => Math.exp(v - c));
  });
}

function cosineScores(B: number, K: number, seed: number): number[][] {
  const rng = createRng(seed);
  const unit = (d: number): number[] => {
    const v = Array.from({ length: d }, () => rng.normal());
    const n = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
    return v.map((x) => x / n);
  };
  const z = Array.from({ length: B }, () => unit(8));
  const c = Array.from({ length: K }, () => unit(8));
  return z.map((zi) => c.map((ck) => zi.reduce((a, x, j) => a + x * ck[j], 0)));
}

function maxAbsDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((r, i) => r.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j])))));
  return m;
}

test("matches SwAV's Algorithm 1 in float64 for the same iterations", async () => {
  await tf.setBackend("cpu");
  const scores = cosineScores(32, 10, 1);
  const s = tf.tensor2d(scores);
  for (const [epsilon, iterations] of [[0.05, 3], [0.1, 1], [0.05, 0], [0.5, 10]]) {
    const before = tf.memory().numTensors;
    const q = sinkhorn(s, { epsilon, iterations });
    assert.equal(tf.memory().numTensors, before + 1);
    const diff = maxAbsDiff(q.arraySync(), swavReference(scores, epsilon, iterations));
    assert.ok(diff < 2e-5, `epsilon ${epsilon}, ${iterations} iterations: max diff ${diff}`);
    q.dispose();
  }
  s.dispose();
});

test("rows sum to 1 and columns to B/K after enough iterations", async () => {
  await tf.setBackend("cpu");
  const [B, K] = [64, 16];
  // Scores that all favour prototype 0: without the equipartition constraint every row would pick it.
  const scores = cosineScores(B, K, 2).map((r) => r.map((v, k) => v + (k === 0 ? 0.5 : 0)));
  const s = tf.tensor2d(scores);
  const q = sinkhorn(s, { epsilon: 0.05, iterations: 50 });
  const rows = q.sum(1).arraySync() as number[];
  const cols = q.sum(0).arraySync() as number[];
  rows.forEach((v) => assert.ok(Math.abs(v - 1) < 1e-5, `row sum ${v}`));
  cols.forEach((v) => assert.ok(Math.abs(v - B / K) < 1e-3 * (B / K), `column sum ${v}, want ${B / K}`));
  // With 3 iterations (SwAV's default) columns are already much closer to B/K than the raw softmax.
  const q3 = sinkhorn(s, { iterations: 3 });
  const q0 = sinkhorn(s, { iterations: 0 });
  const spread = (t: tf.Tensor2D): number => Math.max(...(t.sum(0).arraySync() as number[]).map((v) => Math.abs(v - B / K)));
  assert.ok(spread(q3) < spread(q0) / 5, `${spread(q3)} vs ${spread(q0)}`);
  tf.dispose([s, q, q3, q0]);
});

test("large scores stay finite (log domain) and match a float64 log-domain reference", async () => {
  await tf.setBackend("cpu");
  // scores / epsilon up to 2e4: exp overflows even float64.
  const scores = cosineScores(24, 6, 3).map((r) => r.map((v) => 1000 * v));
  assert.ok(!Number.isFinite(Math.exp(scores.flat().reduce((a, v) => Math.max(a, v), 0) / 0.05)));
  const s = tf.tensor2d(scores);
  const q = sinkhorn(s, { epsilon: 0.05, iterations: 3 });
  const got = q.arraySync();
  assert.ok(got.flat().every(Number.isFinite));
  const diff = maxAbsDiff(got, logDomainReference(scores, 0.05, 3));
  assert.ok(diff < 1e-4, `max diff ${diff}`);
  got.forEach((r) => assert.ok(Math.abs(r.reduce((a, v) => a + v, 0) - 1) < 1e-5));
  tf.dispose([s, q]);
});

test("no gradient flows through the codes", async () => {
  await tf.setBackend("cpu");
  const w = tf.variable(tf.tensor2d(cosineScores(8, 4, 4)));
  const { grads, value } = tf.variableGrads(() => {
    const q = sinkhorn(w as unknown as tf.Tensor2D);
    // SwAV-style cross-entropy: only the log-softmax term carries a gradient.
    return tf.neg(tf.mean(tf.sum(tf.mul(q, tf.logSoftmax(tf.div(w, 0.1))), 1))) as tf.Scalar;
  }, [w]);
  const q = sinkhorn(w as unknown as tf.Tensor2D);
  // d/dw of -mean_b sum_k q log softmax(w/T) with q constant: (softmax(w/T) - q) / (T B).
  const expected = tf.tidy(() => tf.div(tf.sub(tf.softmax(tf.div(w, 0.1)), q), 0.1 * 8));
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(grads[w.name], expected))).dataSync()[0]);
  assert.ok(diff < 1e-5, `gradient differs by ${diff}`);
  tf.dispose([w, value, grads[w.name], q, expected]);
});

test("bad input is rejected naming the argument", async () => {
  await tf.setBackend("cpu");
  const s = tf.zeros([4, 3]) as tf.Tensor2D;
  const vec = tf.zeros([4]);
  const nan = tf.tensor2d([[0, NaN], [1, 2]]);
  assert.throws(() => sinkhorn(vec as unknown as tf.Tensor2D), /sinkhorn: scores must be a tf.Tensor2D \[B, K\], got shape \[4\]/);
  assert.throws(() => sinkhorn(s, { epsilon: 0 }), /sinkhorn: options\.epsilon must be a finite number > 0, got 0/);
  assert.throws(() => sinkhorn(s, { iterations: 1.5 }), /sinkhorn: options.iterations must be a non-negative integer, got 1.5/);
  const before = tf.memory().numTensors;
  assert.throws(() => sinkhorn(nan), /sinkhorn: scores must be finite/);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([s, vec, nan]);
});

test("on wasm: matches the float64 references, also for large scores", async () => {
  assert.ok(await tf.setBackend("wasm"));
  const scores = cosineScores(32, 10, 5);
  const large = scores.map((r) => r.map((v) => 1000 * v));
  const s = tf.tensor2d(scores);
  const l = tf.tensor2d(large);
  const before = tf.memory().numTensors;
  const q = sinkhorn(s);
  const ql = sinkhorn(l, { iterations: 5 });
  assert.equal(tf.memory().numTensors, before + 2);
  assert.ok(maxAbsDiff(q.arraySync(), swavReference(scores, 0.05, 3)) < 2e-5);
  assert.ok(maxAbsDiff(ql.arraySync(), logDomainReference(large, 0.05, 5)) < 1e-4);
  tf.dispose([s, l, q, ql]);
  await tf.setBackend("cpu");
});
