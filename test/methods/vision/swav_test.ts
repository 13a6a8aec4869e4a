import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { createSwav } from "../../../src/methods/vision/swav";
import type { VisionBatch } from "../../../src/methods/vision/method";
import { allMoved, assertSteadyTensors, ctxOf, denseEncoder, dot, noiseViews as noise, randomImages as images, snapshot, trainCounting, unitRows } from "./helpers";

/** SwAV's Algorithm 1 in float64, exp domain: rows of the returned codes sum to 1. */
function sinkhorn64(scores: number[][], epsilon: number, iterations: number): number[][] {
  const b = scores.length, k = scores[0].length;
  let q = scores.map((r) => r.map((s) => Math.exp(s / epsilon)));
  const total = q.flat().reduce((a, v) => a + v, 0);
  q = q.map((r) => r.map((v) => v / total));
  for (let it = 0; it < iterations; it++) {
    const cols = Array.from({ length: k }, (_, j) => q.reduce((a, r) => a + r[j], 0));
    q = q.map((r) => r.map((v, j) => v / cols[j] / k));
    q = q.map((r) => { const s = r.reduce((a, v) => a + v, 0); return r.map((v) => v / s / b); });
  }
  return q.map((r) => r.map((v) => v * b));
}
/** -1/B sum_i sum_k q_ik log softmax(s_i / tau)_k in float64. */
function crossEntropy64(scores: number[][], codes: number[][], tau: number): number {
  return -scores.reduce((acc, r, i) => {
    const l = r.map((s) => s / tau);
    const max = Math.max(...l);
    const lse = max + Math.log(l.reduce((a, v) => a + Math.exp(v - max), 0));
    return acc + l.reduce((a, v, k) => a + codes[i][k] * (v - lse), 0);
  }, 0) / scores.length;
}
const argMax = (r: number[]) => r.indexOf(Math.max(...r));

/** The float64 SwAV loss and usage metrics of z1, z2 (unit rows) and prototypes c, with optional past rows per view. */
function swav64(z1: number[][], z2: number[][], c: number[][], tau: number, eps: number, past?: [number[][], number[][]]) {
  const scores = (z: number[][]) => z.map((zi) => c.map((ck) => dot(zi, ck)));
  const s1 = scores(z1), s2 = scores(z2);
  const codes = (s: number[][], p?: number[][]) => sinkhorn64(p ? [...s, ...scores(p)] : s, eps, 3).slice(0, s.length);
  const q1 = codes(s1, past?.[0]), q2 = codes(s2, past?.[1]);
  const loss = (crossEntropy64(s1, q2, tau) + crossEntropy64(s2, q1, tau)) / 2;
  const mean = c.map((_, k) => q1.reduce((a, r) => a + r[k], 0) / q1.length);
  return {
    loss,
    codeEntropy: -mean.reduce((a, m) => a + (m > 0 ? m * Math.log(m) : 0), 0),
    usedPrototypes: new Set(q1.map(argMax)).size,
    nearestPrototypes: new Set(s1.map(argMax)).size,
  };
}

test("createSwav: loss and usage metrics equal a float64 recomputation from z and the prototypes; prototypes start unit-norm", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(16, 1);
  const swav = createSwav({ encoder, encoderDim: 16, projectionDim: 8, numPrototypes: 5, temperature: 0.15, epsilon: 0.08, augmentation: noise, seed: 2 });
  const projector = swav.trainable[1] as tf.LayersModel;
  assert.equal(swav.trainable[2], swav.prototypes);
  assert.deepEqual(swav.prototypes.shape, [5, 8]);
  assert.equal(swav.queues, undefined);
  const c = swav.prototypes.arraySync() as number[][];
  c.forEach((r, k) => assert.ok(Math.abs(Math.hypot(...r) - 1) < 1e-6, `prototype ${k} has norm ${Math.hypot(...r)}`));
  const x = images(6, 3);
  for (const step of [0, 50]) { // frozen and trained prototypes give the same value
    const before = tf.memory().numTensors;
    const [out, z1, z2] = tf.tidy(() => {
      const got = swav.loss({ images: x }, ctxOf(11, step));
      const [v1, v2] = noise(x, 11);
      const z = (v: tf.Tensor) => (projector.apply(encoder.apply(v, { training: true }), { training: true }) as tf.Tensor).arraySync() as number[][];
      const m = got.metrics!;
      return [[got.loss, m.std, m.codeEntropy, m.usedPrototypes, m.nearestPrototypes].map((t) => t.dataSync()[0]), z(v1), z(v2)];
    }) as unknown as [number[], number[][], number[][]];
    assert.equal(tf.memory().numTensors, before);
    const want = swav64(unitRows(z1), unitRows(z2), c, 0.15, 0.08);
    const [loss, std, codeEntropy, usedPrototypes, nearestPrototypes] = out;
    assert.ok(Number.isFinite(loss));
    assert.ok(Math.abs(loss - want.loss) < 1e-4 * Math.max(1, want.loss), `loss ${loss} vs ${want.loss}`);
    assert.ok(Math.abs(codeEntropy - want.codeEntropy) < 1e-4, `codeEntropy ${codeEntropy} vs ${want.codeEntropy}`);
    assert.ok(codeEntropy <= Math.log(5) + 1e-5);
    assert.equal(usedPrototypes, want.usedPrototypes);
    assert.equal(nearestPrototypes, want.nearestPrototypes);
    assert.ok(std > 0 && std < 1);
  }
  x.dispose();
  swav.dispose();
  encoder.dispose();
});

test("createSwav trains through training.train: prototypes frozen for N steps, then move, unit-norm after every step; encoder moves; no leak", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(16, 4);
  const start = tf.memory().numTensors;
  // The default augmentation (simclrAugment) on 8 digits.
  const swav = createSwav({ encoder, encoderDim: 16, projectionDim: 8, numPrototypes: 6, freezePrototypesSteps: 2, seed: 5 });
  const projector = swav.trainable[1] as tf.LayersModel;
  const e0 = snapshot(encoder), p0 = snapshot(projector);
  const c0 = swav.prototypes.arraySync() as number[][];
  const x = images(8, 6);
  const perStep: number[][][] = [];
  const optimizer = tf.train.adam(1e-2);
  const { history, counts } = await trainCounting<VisionBatch>({
    ...swav,
    optimizer,
    batches: () => [{ images: x }, { images: x }, { images: x }, { images: x }, { images: x }],
    disposeBatches: false,
    steps: 5,
    seed: 7,
    callbacks: { onStep: () => { perStep.push(swav.prototypes.arraySync() as number[][]); } },
  });
  assert.ok(history.loss.every(Number.isFinite), `losses ${history.loss}`);
  for (const h of history.metrics.usedPrototypes) assert.ok(Number.isInteger(h) && h >= 1 && h <= 6);
  for (const h of history.metrics.codeEntropy) assert.ok(h > 0 && h <= Math.log(6) + 1e-5);
  const maxChange = (c: number[][]) => Math.max(...c.flatMap((r, k) => r.map((v, j) => Math.abs(v - c0[k][j]))));
  assert.ok(maxChange(perStep[0]) < 1e-6 && maxChange(perStep[1]) < 1e-6, `frozen steps moved the prototypes by ${maxChange(perStep[0])}, ${maxChange(perStep[1])}`);
  assert.ok(maxChange(perStep[2]) > 1e-3, `the prototypes move once unfrozen, by ${maxChange(perStep[2])}`);
  perStep.forEach((c, s) => c.forEach((r, k) => assert.ok(Math.abs(Math.hypot(...r) - 1) < 1e-5, `step ${s + 1} prototype ${k}: norm ${Math.hypot(...r)}`)));
  assert.ok(allMoved(snapshot(encoder), e0), "the encoder moves");
  assert.ok(allMoved(snapshot(projector), p0), "the projector moves");
  assertSteadyTensors(counts, 5);
  optimizer.dispose();
  x.dispose();
  swav.dispose();
  assert.equal(tf.memory().numTensors, start, "dispose frees projector and prototypes, not the encoder");
  encoder.dispose();
});

test("createSwav with a queue: afterStep enqueues each view's z, a full queue joins the equipartition (float64 reference)", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(16, 8);
  const start = tf.memory().numTensors;
  const swav = createSwav({ encoder, encoderDim: 16, projectionDim: 8, numPrototypes: 5, queueSize: 4, augmentation: noise, seed: 3 });
  const projector = swav.trainable[1] as tf.LayersModel;
  const queues = swav.queues!;
  assert.deepEqual(queues.map((q) => [q.size, q.dim, q.filled]), [[4, 8, 0], [4, 8, 0]]);
  const c = swav.prototypes.arraySync() as number[][];
  const zOf = (x: tf.Tensor4D, seed: number) => tf.tidy(() => noise(x, seed).map((v) =>
    unitRows((projector.apply(encoder.apply(v, { training: true }), { training: true }) as tf.Tensor).arraySync() as number[][])));
  const lossOf = (x: tf.Tensor4D, seed: number) => tf.tidy(() => swav.loss({ images: x }, ctxOf(seed)).loss.dataSync()[0]);
  // Step 1, empty queue: batch-only codes; afterStep stores this step's z of each view.
  const x1 = images(4, 1);
  const [a1, a2] = zOf(x1, 21);
  const before = tf.memory().numTensors;
  const got1 = lossOf(x1, 21);
  assert.equal(tf.memory().numTensors, before + 2, "this step's z1, z2 are kept for afterStep");
  assert.ok(Math.abs(got1 - swav64(a1, a2, c, 0.2, 0.05).loss) < 1e-4);
  tf.tidy(() => swav.afterStep!({ images: x1 }, ctxOf(21)));
  assert.equal(tf.memory().numTensors, before);
  [a1, a2].forEach((want, v) => {
    const held = queues[v].keys();
    held.arraySync().forEach((r, i) => r.forEach((val, j) => assert.ok(Math.abs(val - want[i][j]) < 1e-5, `queue ${v} row ${i}`)));
    held.dispose();
  });
  // Step 2, full queue: the codes equipartition [batch; queue] rows.
  const x2 = images(4, 2);
  const [b1, b2] = zOf(x2, 22);
  const got2 = lossOf(x2, 22);
  const withQueue = swav64(b1, b2, c, 0.2, 0.05, [a1, a2]).loss;
  const without = swav64(b1, b2, c, 0.2, 0.05).loss;
  assert.ok(Math.abs(got2 - withQueue) < 1e-4, `${got2} vs ${withQueue}`);
  assert.ok(Math.abs(withQueue - without) > 1e-3, "the queue changes the codes");
  swav.afterStep!({ images: x2 }, ctxOf(22));
  assert.throws(() => swav.afterStep!({ images: x2 }, ctxOf(22)), /SwAV.afterStep: embeddings must come from this step's loss, got none/);
  const x3 = images(5, 3);
  assert.throws(() => swav.loss({ images: x3 }, ctxOf(1)), /SwAV.loss: batch.images must have at most queueSize = 4 rows, got \[5, 28, 28, 1\]/);
  tf.dispose([x1, x2, x3]);
  swav.dispose();
  assert.equal(tf.memory().numTensors, start, "dispose frees projector, prototypes and queues");
  encoder.dispose();
});

test("createSwav rejects bad options", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(12, 1);
  const start = tf.memory().numTensors;
  const bad: Array<[object, RegExp]> = [
    [{ encoder, encoderDim: 12, numPrototypes: 0 }, /createSwav: options.numPrototypes must be a positive integer, got 0/],
    [{ encoder, encoderDim: 12, numPrototypes: 1 }, /createSwav: options.numPrototypes must be at least 2, got 1/],
    [{ encoder, encoderDim: 12, numPrototypes: 2.5 }, /createSwav: options.numPrototypes must be a positive integer, got 2.5/],
    [{ encoder, encoderDim: 12, temperature: 0 }, /createSwav: options.temperature must be a finite number > 0, got 0/],
    [{ encoder, encoderDim: 12, epsilon: -0.05 }, /createSwav: options.epsilon must be a finite number > 0, got -0.05/],
    [{ encoder, encoderDim: 12, sinkhornIterations: 0 }, /createSwav: options.sinkhornIterations must be a positive integer, got 0/],
    [{ encoder, encoderDim: 12, freezePrototypesSteps: -1 }, /createSwav: options.freezePrototypesSteps must be a non-negative integer, got -1/],
    [{ encoder, encoderDim: 12, queueSize: 1.5 }, /createSwav: options.queueSize must be a non-negative integer, got 1.5/],
    [{ encoder, encoderDim: 12, projectionDim: 0 }, /createSwav: options.projectionDim must be a positive integer, got 0/],
    [{ encoder, encoderDim: 12, hidden: [-1] }, /createSwav: options.hidden must be an array of positive integers/],
    [{ encoder: {}, encoderDim: 12 }, /createSwav: options.encoder must be a tf.LayersModel/],
  ];
  for (const [options, message] of bad) assert.throws(() => createSwav(options as never), message);
  assert.equal(tf.memory().numTensors, start, "rejected options create nothing");
  const swav = createSwav({ encoder, encoderDim: 12, augmentation: noise });
  const one = images(1, 1);
  assert.throws(() => swav.loss({ images: one }, ctxOf(1)), /SwAV\.loss: batch\.images must be a batch \[B, height, width, channels\] with B >= 2, got a tensor of shape \[1,28,28,1\]/);
  one.dispose();
  swav.dispose();
  encoder.dispose();
});
