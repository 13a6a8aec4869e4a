import { test } from "node:test";
import assert from "node:assert/strict";
import "@tensorflow/tfjs-backend-wasm";
import { tf } from "../../src/backend/tf";
import { hardNegativeLoss, hardNegativeNtXent } from "../../src/losses/hard_negative";
import { debiasedContrastiveLoss } from "../../src/losses/debiased_contrastive";
import { ntXentLoss } from "../../src/losses/nt_xent";
import { createRng } from "../../src/data/random";
import { train } from "../../src/training/loop";
import { assertGradientsMatch, close, randomMatrix } from "./two_view_reference";

/**
 * Float64 hard-negative loss from Robinson et al.'s eq. with plain loops: per
 * anchor, weights w_j = e^{beta s_j} / mean_k e^{beta s_k} over the M
 * negatives, Ng = max((sum_j w_j e^{s_j} - tau+ M e^pos) / (1 - tau+),
 * M e^{-1/t}), loss = -log(e^pos / (e^pos + Ng)); s = cosine / t.
 */
function referenceHardNegative(z1: number[][], z2: number[][], t: number, beta: number, tauPlus: number): number {
  const z = [...z1, ...z2].map((row) => {
    const norm = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
    return row.map((v) => v / Math.max(norm, 1e-12));
  });
  const m = z.length;
  const n = m / 2;
  const dot = (a: number[], b: number[]) => a.reduce((s, v, k) => s + v * b[k], 0);
  let total = 0;
  for (let i = 0; i < m; i++) {
    const pos = (i + n) % m;
    const logits: number[] = [];
    for (let j = 0; j < m; j++) if (j !== i && j !== pos) logits.push(dot(z[i], z[j]) / t);
    const count = logits.length;
    const meanWeight = logits.reduce((s, l) => s + Math.exp(beta * l), 0) / count;
    const reweighted = logits.reduce((s, l) => s + (Math.exp(beta * l) / meanWeight) * Math.exp(l), 0);
    const ePos = Math.exp(dot(z[i], z[pos]) / t);
    const ng = Math.max((reweighted - tauPlus * count * ePos) / (1 - tauPlus), count * Math.exp(-1 / t));
    total += -Math.log(ePos / (ePos + ng));
  }
  return total / m;
}

test("hardNegativeLoss matches a float64 reference on cpu and wasm", async () => {
  const rng = createRng(21);
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    const cases = [[2, 3, 0.5, 1, 0.1], [4, 8, 0.5, 0.5, 0], [16, 5, 0.1, 2, 0.1], [9, 32, 1.0, 5, 0.05], [6, 4, 0.05, 1, 0.2]] as const;
    for (const [n, d, t, beta, tauPlus] of cases) {
      const a = randomMatrix(rng, n, d);
      const b = randomMatrix(rng, n, d);
      const loss = hardNegativeLoss(tf.tensor2d(a), tf.tensor2d(b), { temperature: t, beta, tauPlus });
      const got = loss.dataSync()[0];
      const want = referenceHardNegative(a, b, t, beta, tauPlus);
      assert.ok(close(got, want), `${backend} n=${n} d=${d} t=${t} beta=${beta} tau+=${tauPlus}: got ${got}, want ${want}`);
      tf.dispose(loss);
    }
  }
  tf.disposeVariables();
});

test("hardNegativeLoss at beta = 0 is the debiased loss, and with tau+ = 0 NT-Xent", async () => {
  const rng = createRng(22);
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    for (const [n, d, t] of [[2, 3, 0.5], [8, 6, 0.2], [12, 16, 1]] as const) {
      const a = tf.tensor2d(randomMatrix(rng, n, d));
      const b = tf.tensor2d(randomMatrix(rng, n, d));
      const hard = hardNegativeLoss(a, b, { temperature: t, beta: 0, tauPlus: 0.1 }).dataSync()[0];
      const debiased = debiasedContrastiveLoss(a, b, { temperature: t, tauPlus: 0.1 }).dataSync()[0];
      assert.ok(close(hard, debiased), `${backend} n=${n}: ${hard} vs debiased ${debiased}`);
      const hardPlain = hardNegativeLoss(a, b, { temperature: t, beta: 0, tauPlus: 0 }).dataSync()[0];
      const plain = ntXentLoss(a, b, { temperature: t }).dataSync()[0];
      assert.ok(close(hardPlain, plain), `${backend} n=${n}: ${hardPlain} vs NT-Xent ${plain}`);
      tf.dispose([a, b]);
    }
  }
});

test("hardNegativeLoss grows with beta: the weight moves to the hardest negatives", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(23);
  const a = tf.tensor2d(randomMatrix(rng, 8, 4));
  const b = tf.tensor2d(randomMatrix(rng, 8, 4));
  const losses = [0, 0.5, 1, 2, 4].map((beta) =>
    tf.tidy(() => hardNegativeLoss(a, b, { beta, tauPlus: 0 }).dataSync()[0]),
  );
  for (let k = 1; k < losses.length; k++) assert.ok(losses[k] > losses[k - 1], `losses over beta: ${losses}`);
  tf.dispose([a, b]);
});

test("hardNegativeLoss gradient matches central finite differences of the float64 reference", async () => {
  const rng = createRng(24);
  const n = 3;
  const d = 4;
  const t = 0.5;
  const beta = 1.5;
  const tauPlus = 0.1;
  const a = randomMatrix(rng, n, d);
  const b = randomMatrix(rng, n, d);
  const h = 1e-6;
  const f = (p: number[][], q: number[][]) => referenceHardNegative(p, q, t, beta, tauPlus);
  const numeric = (which: 0 | 1): number[][] =>
    (which === 0 ? a : b).map((row, i) =>
      row.map((_, k) => {
        const plus = [a.map((r) => [...r]), b.map((r) => [...r])];
        const minus = [a.map((r) => [...r]), b.map((r) => [...r])];
        plus[which][i][k] += h;
        minus[which][i][k] -= h;
        return (f(plus[0], plus[1]) - f(minus[0], minus[1])) / (2 * h);
      }),
    );
  const want = [numeric(0), numeric(1)];
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    const x1 = tf.tensor2d(a);
    const x2 = tf.tensor2d(b);
    const grads = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
      hardNegativeLoss(p as tf.Tensor2D, q as tf.Tensor2D, { temperature: t, beta, tauPlus }),
    )([x1, x2]);
    assertGradientsMatch(backend, grads.map((g) => g.arraySync() as number[][]), want);
    tf.dispose([x1, x2, ...grads]);
  }
});

test("hardNegativeLoss stays finite at a small temperature with a large beta", async () => {
  await tf.setBackend("cpu");
  const z1 = tf.tensor2d([[0, 0, 0], [1, 2, 3], [3, -1, 0], [1, 1, 1]]);
  const z2 = tf.tensor2d([[1, 0, 0], [1, 2, 3.1], [-3, 1, 0], [1, 1, 0.9]]);
  const [value, grad] = tf.tidy(() => {
    const { value, grads } = tf.valueAndGrads((x: tf.Tensor) =>
      hardNegativeLoss(x as tf.Tensor2D, z2, { temperature: 0.01, beta: 5, tauPlus: 0.1 }),
    )([z1]);
    return [value.dataSync()[0], Array.from(grads[0].dataSync())];
  });
  assert.ok(Number.isFinite(value), `loss ${value}`);
  assert.ok(grad.every(Number.isFinite), `gradient ${grad}`);
  tf.dispose([z1, z2]);
});

test("hardNegativeNtXent trains a linear encoder through train() without leaking, deterministically", async () => {
  await tf.setBackend("cpu");
  // Eight prototypes in 6-D; two noisy views of each per batch; a linear encoder to 4-D.
  const rng = createRng(31);
  const prototypes = randomMatrix(rng, 8, 6);
  const batches = Array.from({ length: 30 }, (_, s) => {
    const noise = createRng(100 + s);
    const view = () => prototypes.map((row) => row.map((v) => v + 0.3 * noise.normal()));
    return [view(), view()];
  });
  const run = async () => {
    const weights = tf.variable(tf.tensor2d(randomMatrix(createRng(7), 6, 4)));
    const loss = hardNegativeNtXent({ beta: 1, tauPlus: 0.1 });
    const lossOf = (views: number[][][]) =>
      loss(tf.matMul(tf.tensor2d(views[0]), weights) as tf.Tensor2D, tf.matMul(tf.tensor2d(views[1]), weights) as tf.Tensor2D, 0.5);
    const first = tf.tidy(() => lossOf(batches[0]).dataSync()[0]);
    const counts: number[] = [];
    const optimizer = tf.train.adam(0.05);
    const history = await train({
      loss: (views: number[][][]) => lossOf(views),
      trainable: [weights],
      optimizer,
      batches: () => batches,
      steps: 30,
      seed: 1,
      progress: false,
      callbacks: { onStep: () => void counts.push(tf.memory().numTensors) },
    });
    const last = tf.tidy(() => lossOf(batches[0]).dataSync()[0]);
    const w = Array.from(weights.dataSync());
    weights.dispose();
    optimizer.dispose();
    return { first, last, counts, w, steps: history.steps };
  };
  const one = await run();
  assert.equal(one.steps, 30);
  assert.ok(one.last < one.first - 0.2, `loss ${one.first} -> ${one.last}`);
  assert.ok(one.counts.every((c) => c === one.counts[0]), `live tensors per step: ${one.counts}`);
  const two = await run();
  assert.deepEqual(two.w, one.w);
});

test("hardNegativeLoss and hardNegativeNtXent reject bad input with named errors", async () => {
  await tf.setBackend("cpu");
  const ok = tf.zeros([4, 3]) as tf.Tensor2D;
  const cases: Array<[() => unknown, RegExp]> = [
    [() => hardNegativeLoss(ok, tf.zeros([4, 2]) as tf.Tensor2D), /hardNegativeLoss: z2 must be a float32 tensor of shape \[4,3\], got a tensor of shape \[4,2\]/],
    [() => hardNegativeLoss(tf.zeros([1, 3]) as tf.Tensor2D, tf.zeros([1, 3]) as tf.Tensor2D), /hardNegativeLoss: z1 must have at least two rows/],
    [() => hardNegativeLoss(ok, ok, { beta: -1 }), /hardNegativeLoss: options\.beta must be a finite number >= 0, got -1/],
    [() => hardNegativeLoss(ok, ok, { beta: Number.POSITIVE_INFINITY }), /options\.beta must be a finite number >= 0, got Infinity/],
    [() => hardNegativeLoss(ok, ok, { tauPlus: 1.5 }), /hardNegativeLoss: options\.tauPlus must be a number in \[0, 1\), got 1\.5/],
    [() => hardNegativeLoss(ok, ok, { temperature: -1 }), /hardNegativeLoss: options\.temperature must be a finite number > 0, got -1/],
    [() => hardNegativeNtXent({ beta: -2, tauPlus: 0 }), /hardNegativeNtXent: options\.beta must be a finite number >= 0, got -2/],
    [() => hardNegativeNtXent({ beta: 1 } as { beta: number; tauPlus: number }), /hardNegativeNtXent: options\.tauPlus must be a number in \[0, 1\), got undefined/],
  ];
  for (const [fn, message] of cases) assert.throws(fn, message);
  tf.disposeVariables();
});
