import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { createRng } from "../../../src/data/random";
import { infoNCE } from "../../../src/losses/info_nce";
import { infoNceWithSynthetic, mochiNegatives, negativeSimilarities } from "../../../src/methods/vision/mochi";
import { dot, onWasm, unitRows } from "./helpers";

const matrix = (rows: number, cols: number, seed: number): number[][] => {
  const rng = createRng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.normal()));
};

const unit = (r: number[]): number[] => unitRows([r])[0];

/** MoCHi's negatives in float64, drawing the picks and weights as mochiNegatives documents. */
function referenceMochi(queries: number[][], queue: number[][], n: number, s1: number, s2: number, seed: number): number[][][] {
  const rng = createRng(seed);
  const keys = unitRows(queue);
  return unitRows(queries).map((q) => {
    const hard = keys.map((key, m) => [dot(q, key), m]).sort((a, b) => b[0] - a[0]).slice(0, n).map(([, m]) => keys[m]);
    const out: number[][] = [];
    for (let t = 0; t < s1; t++) {
      const i = rng.int(n);
      const j = n === 1 ? i : (i + 1 + rng.int(n - 1)) % n;
      const a = Math.fround(rng.next());
      out.push(unit(hard[i].map((v, c) => a * v + (1 - a) * hard[j][c])));
    }
    const pairs = out.splice(0);
    for (let t = 0; t < s2; t++) {
      const j = rng.int(n);
      const b = Math.fround(0.5 * rng.next());
      out.push(unit(q.map((v, c) => b * v + (1 - b) * hard[j][c])));
    }
    return [...pairs, ...out];
  });
}

/** infoNceWithSynthetic in float64, straight from its equation. */
function referenceLoss(q: number[][], k: number[][], negatives: number[][], synthetic: number[][][], tau: number): number {
  let total = 0;
  q.forEach((qb, b) => {
    const logits = [...k, ...negatives, ...synthetic[b]].map((c) => dot(qb, c) / tau);
    const max = Math.max(...logits);
    total += max + Math.log(logits.reduce((s, l) => s + Math.exp(l - max), 0)) - dot(qb, k[b]) / tau;
  });
  return total / q.length;
}

test("mochiNegatives: [B, s1 + s2, D] unit rows that match the float64 reference, the same under one seed", async () => {
  await tf.setBackend("cpu");
  const queries = matrix(3, 5, 1), queue = matrix(20, 5, 2);
  const q = tf.tensor2d(queries), keys = tf.tensor2d(queue);
  const before = tf.memory().numTensors;
  const got = mochiNegatives(q, keys, { hardest: 6, mixed: 4, queryMixed: 3, seed: 11 });
  assert.equal(tf.memory().numTensors, before + 1, "only the result is left");
  assert.deepEqual(got.shape, [3, 7, 5]);
  const values = got.arraySync();
  const want = referenceMochi(queries, queue, 6, 4, 3, 11);
  values.forEach((row, b) => row.forEach((h, s) => {
    assert.ok(Math.abs(Math.hypot(...h) - 1) < 1e-5, `row ${b}, ${s} has unit norm`);
    h.forEach((v, c) => assert.ok(Math.abs(v - want[b][s][c]) < 1e-5, `[${b}, ${s}, ${c}]: ${v} vs ${want[b][s][c]}`));
  }));
  const again = mochiNegatives(q, keys, { hardest: 6, mixed: 4, queryMixed: 3, seed: 11 });
  const other = mochiNegatives(q, keys, { hardest: 6, mixed: 4, queryMixed: 3, seed: 12 });
  assert.deepEqual(Array.from(again.dataSync()), Array.from(got.dataSync()), "one seed, one set of negatives");
  assert.notDeepEqual(Array.from(other.dataSync()), Array.from(got.dataSync()), "another seed, other negatives");
  const none = mochiNegatives(q, keys, { hardest: 6, mixed: 0, queryMixed: 0 });
  assert.deepEqual(none.shape, [3, 0, 5]);
  const onlyQuery = mochiNegatives(q, keys, { hardest: 1, mixed: 0, queryMixed: 2, seed: 3 });
  assert.deepEqual(onlyQuery.shape, [3, 2, 5]);
  tf.dispose([q, keys, got, again, other, none, onlyQuery]);
});

test("mochiNegatives are harder than the queue: closer to their query on average, query mixes closest", async () => {
  await tf.setBackend("cpu");
  const q = tf.tensor2d(matrix(8, 16, 3)), keys = tf.tensor2d(matrix(256, 16, 4));
  const synthetic = mochiNegatives(q, keys, { hardest: 16, mixed: 32, queryMixed: 8, seed: 5 });
  const sims = negativeSimilarities(q, keys, synthetic);
  const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((s, v) => s + v, 0) / xs.length;
  const pairMixes = Array.from(sims.synthetic).filter((_, i) => i % 40 < 32);
  const queryMixes = Array.from(sims.synthetic).filter((_, i) => i % 40 >= 32);
  assert.equal(sims.queue.length, 8 * 256);
  assert.equal(sims.synthetic.length, 8 * 40);
  assert.ok(mean(pairMixes) > mean(sims.queue) + 0.3, `pair mixes ${mean(pairMixes)} vs queue ${mean(sims.queue)}`);
  assert.ok(mean(queryMixes) > mean(pairMixes), `query mixes ${mean(queryMixes)} vs pair mixes ${mean(pairMixes)}`);
  tf.dispose([q, keys, synthetic]);
});

test("mochiNegatives carries no gradient back to the queries", async () => {
  await tf.setBackend("cpu");
  const q = tf.tensor2d(matrix(3, 4, 6)), keys = tf.tensor2d(matrix(10, 4, 7)), weights = tf.tensor2d(matrix(3, 4, 8));
  const grad = tf.grad((x: tf.Tensor) => tf.add(tf.sum(tf.mul(x, weights)), tf.sum(mochiNegatives(x as tf.Tensor2D, keys, { hardest: 4, mixed: 3, queryMixed: 3, seed: 1 }))))(q);
  assert.deepEqual(Array.from(grad.dataSync()), Array.from(weights.dataSync()), "only the direct term's gradient");
  tf.dispose([q, keys, weights, grad]);
});

test("infoNceWithSynthetic matches its float64 reference, is infoNCE without synthetic negatives, and its gradient matches finite differences", async () => {
  await tf.setBackend("cpu");
  const [b, d, tau] = [3, 4, 0.3];
  const qs = unitRows(matrix(b, d, 9)), ks = unitRows(matrix(b, d, 10)), negs = unitRows(matrix(5, d, 11));
  const synth = [0, 1, 2].map((i) => unitRows(matrix(2, d, 20 + i)));
  const [q, k, n, s] = [tf.tensor2d(qs), tf.tensor2d(ks), tf.tensor2d(negs), tf.tensor3d(synth)];
  const before = tf.memory().numTensors;
  const loss = infoNceWithSynthetic(q, k, { temperature: tau, negatives: n, synthetic: s });
  assert.equal(tf.memory().numTensors, before + 1);
  const want = referenceLoss(qs, ks, negs, synth, tau);
  assert.ok(Math.abs(loss.dataSync()[0] - want) < 1e-5, `${loss.dataSync()[0]} vs ${want}`);
  const empty = tf.zeros([b, 0, d]) as tf.Tensor3D;
  for (const [options, what] of [[{ negatives: n }, "with a queue"], [{}, "without a queue"]] as const) {
    const plain = infoNCE(q, k, { temperature: tau, ...options }).dataSync()[0];
    assert.equal(infoNceWithSynthetic(q, k, { temperature: tau, ...options }).dataSync()[0], plain, what);
    assert.equal(infoNceWithSynthetic(q, k, { temperature: tau, ...options, synthetic: empty }).dataSync()[0], plain, `${what}, S = 0`);
  }
  // Gradient with respect to query and keys, the synthetic negatives held fixed.
  const h = 1e-6;
  const [gq, gk] = tf.grads((x: tf.Tensor, y: tf.Tensor) => infoNceWithSynthetic(x as tf.Tensor2D, y as tf.Tensor2D, { temperature: tau, negatives: n, synthetic: s }))([q, k]);
  for (const [grad, which] of [[gq, 0], [gk, 1]] as const) {
    const got = grad.arraySync() as number[][];
    let maxErr = 0;
    for (let i = 0; i < b; i++) for (let c = 0; c < d; c++) {
      const shifted = (delta: number) => {
        const args = [qs.map((r) => [...r]), ks.map((r) => [...r])];
        args[which][i][c] += delta;
        return referenceLoss(args[0], args[1], negs, synth, tau);
      };
      maxErr = Math.max(maxErr, Math.abs(got[i][c] - (shifted(h) - shifted(-h)) / (2 * h)));
    }
    assert.ok(maxErr < 1e-4, `${which === 0 ? "query" : "keys"}: max gradient error ${maxErr}`);
  }
  tf.dispose([q, k, n, s, loss, empty, gq, gk]);
});

test("negativeSimilarities returns the cosines of each query to the queue and to its own synthetic negatives", async () => {
  await tf.setBackend("cpu");
  const qs = matrix(2, 3, 30), negs = matrix(4, 3, 31), synth = [matrix(2, 3, 32), matrix(2, 3, 33)];
  const [q, n, s] = [tf.tensor2d(qs), tf.tensor2d(negs), tf.tensor3d(synth)];
  const before = tf.memory().numTensors;
  const sims = negativeSimilarities(q, n, s);
  const plain = negativeSimilarities(q, n);
  assert.equal(tf.memory().numTensors, before, "no tensor left");
  const cos = (a: number[], c: number[]) => dot(unit(a), unit(c));
  const wantQueue = qs.flatMap((r) => negs.map((c) => cos(r, c)));
  const wantSynthetic = qs.flatMap((r, i) => synth[i].map((c) => cos(r, c)));
  Array.from(sims.queue).forEach((v, i) => assert.ok(Math.abs(v - wantQueue[i]) < 1e-5));
  Array.from(sims.synthetic).forEach((v, i) => assert.ok(Math.abs(v - wantSynthetic[i]) < 1e-5));
  assert.equal(sims.synthetic.length, 4);
  assert.deepEqual(Array.from(plain.queue), Array.from(sims.queue));
  assert.equal(plain.synthetic.length, 0);
  tf.dispose([q, n, s]);
});

test("mochiNegatives and infoNceWithSynthetic give the cpu results on wasm", async () => {
  await tf.setBackend("cpu");
  const qs = matrix(4, 8, 40), queue = matrix(32, 8, 41), ks = matrix(4, 8, 42);
  const run = (): [number[], number] => {
    let out: [number[], number] = [[], NaN];
    tf.tidy(() => {
      const q = tf.tensor2d(qs), keys = tf.tensor2d(queue);
      const synthetic = mochiNegatives(q, keys, { hardest: 8, mixed: 6, queryMixed: 2, seed: 3 });
      const loss = infoNceWithSynthetic(tf.tensor2d(unitRows(qs)), tf.tensor2d(unitRows(ks)), { temperature: 0.2, negatives: tf.tensor2d(unitRows(queue)), synthetic });
      out = [Array.from(synthetic.dataSync()), loss.dataSync()[0]];
    });
    return out;
  };
  const [cpuNegatives, cpuLoss] = run();
  const [wasmNegatives, wasmLoss] = await onWasm(run);
  wasmNegatives.forEach((v, i) => assert.ok(Math.abs(v - cpuNegatives[i]) < 1e-5, `negative value ${i}`));
  assert.ok(Math.abs(wasmLoss - cpuLoss) < 1e-4, `${wasmLoss} vs ${cpuLoss}`);
});

test("mochiNegatives, infoNceWithSynthetic and negativeSimilarities reject bad input with named errors", async () => {
  await tf.setBackend("cpu");
  const q = tf.zeros([2, 3]) as tf.Tensor2D, queue = tf.ones([5, 3]) as tf.Tensor2D;
  const ok = { hardest: 2, mixed: 1, queryMixed: 1 };
  const cases: Array<[() => unknown, RegExp]> = [
    [() => mochiNegatives(tf.zeros([2]) as never, queue, ok), /mochiNegatives: queries must be a float32 tensor of shape \[n,d\], got a tensor of shape \[2\]/],
    [() => mochiNegatives(q, tf.zeros([5, 4]) as tf.Tensor2D, ok), /mochiNegatives: queue must be a float32 tensor of shape \[n,3\], got a tensor of shape \[5,4\]/],
    [() => mochiNegatives(q, queue, { ...ok, hardest: 6 }), /mochiNegatives: options.hardest must be an integer in \[1, 5\], got 6/],
    [() => mochiNegatives(q, queue, { ...ok, hardest: 0 }), /options.hardest must be an integer in \[1, 5\], got 0/],
    [() => mochiNegatives(q, queue, { ...ok, mixed: -1 }), /mochiNegatives: options.mixed must be a non-negative integer, got -1/],
    [() => mochiNegatives(q, queue, { ...ok, queryMixed: 1.5 }), /mochiNegatives: options.queryMixed must be a non-negative integer, got 1.5/],
    [() => mochiNegatives(q, queue, { ...ok, seed: 0.5 }), /mochiNegatives: options.seed must be an integer, got 0.5/],
    [() => mochiNegatives(q, queue, undefined as never), /mochiNegatives: options must be an object/],
    [() => infoNceWithSynthetic(q, q, { temperature: 0.1, synthetic: tf.zeros([3, 2, 3]) as tf.Tensor3D }), /infoNceWithSynthetic: options.synthetic must have shape \[2, S, 3\], got a tensor of shape \[3,2,3\]/],
    [() => infoNceWithSynthetic(q, q, { temperature: 0.1, synthetic: tf.zeros([2, 3]) as never }), /infoNceWithSynthetic: options.synthetic must be a float32 tensor of rank 3/],
    [() => infoNceWithSynthetic(q, q, { temperature: 0 }), /infoNceWithSynthetic: options.temperature must be a finite number > 0, got 0/],
    [() => infoNceWithSynthetic(q, tf.zeros([3, 3]) as tf.Tensor2D, { temperature: 1 }), /infoNceWithSynthetic: keys must be a float32 tensor of shape \[2,3\]/],
    [() => negativeSimilarities(q, tf.zeros([4, 2]) as tf.Tensor2D), /negativeSimilarities: queue must be a float32 tensor of shape \[n,3\]/],
    [() => negativeSimilarities(q, queue, tf.zeros([2, 1, 4]) as tf.Tensor3D), /negativeSimilarities: synthetic must have shape \[2, S, 3\], got a tensor of shape \[2,1,4\]/],
  ];
  for (const [fn, message] of cases) tf.tidy(() => { assert.throws(fn, message); });
  tf.dispose([q, queue]);
});
