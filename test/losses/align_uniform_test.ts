import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { alignUniformLoss } from "../../src/losses/align_uniform";
import { createRng } from "../../src/data/random";
import { assertGradientsMatch, close, randomMatrix } from "./two_view_reference";

const unit = (rows: number[][]): number[][] => rows.map((r) => { const n = Math.hypot(...r); return r.map((v) => v / n); });
const sqDist = (a: number[], b: number[]): number => a.reduce((s, v, k) => s + (v - b[k]) ** 2, 0);

/** Float64 Wang & Isola loss from the definitions: mean ||u1-u2||^alpha + lambda (U(u1) + U(u2)) / 2. */
function reference(z1: number[][], z2: number[][], lambda: number, alpha: number, t: number): number {
  const u1 = unit(z1);
  const u2 = unit(z2);
  const align = u1.reduce((s, r, i) => s + sqDist(r, u2[i]) ** (alpha / 2), 0) / u1.length;
  const uniform = (u: number[][]): number => {
    let total = 0;
    for (let i = 0; i < u.length; i++) for (let j = 0; j < u.length; j++) if (i !== j) total += Math.exp(-t * sqDist(u[i], u[j]));
    return Math.log(total / (u.length * (u.length - 1)));
  };
  return align + (lambda * (uniform(u1) + uniform(u2))) / 2;
}

test("alignUniformLoss matches a float64 reference on cpu and wasm", async () => {
  await import("@tensorflow/tfjs-backend-wasm");
  const rng = createRng(5);
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    for (const [n, d, lambda, alpha, t] of [[2, 3, 1, 2, 2], [6, 4, 0.5, 2, 2], [9, 8, 3, 1, 1], [5, 3, 0, 2, 2]] as const) {
      const a = randomMatrix(rng, n, d);
      const b = randomMatrix(rng, n, d);
      const loss = alignUniformLoss(tf.tensor2d(a), tf.tensor2d(b), { lambda, alpha, t });
      const got = loss.dataSync()[0];
      const want = reference(a, b, lambda, alpha, t);
      assert.ok(close(got, want, 1e-5), `${backend} n=${n} d=${d} lambda=${lambda}: got ${got}, want ${want}`);
      loss.dispose();
    }
  }
  await tf.setBackend("cpu");
});

test("alignUniformLoss: 0 alignment for identical views, and normalize: false uses rows as given", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(2);
  const a = unit(randomMatrix(rng, 5, 3));
  const x = tf.tensor2d(a);
  const onlyAlign = alignUniformLoss(x, x, { lambda: 0 });
  assert.ok(Math.abs(onlyAlign.dataSync()[0]) < 1e-6);
  const scaled = tf.mul(x, 3) as tf.Tensor2D;
  const raw = alignUniformLoss(scaled, scaled, { lambda: 1, normalize: false });
  // On rows of norm 3 the distances are 3x, so the uniformity is that of t' = 9t on the unit rows.
  const want = reference(a, a, 1, 2, 18);
  assert.ok(close(raw.dataSync()[0], want, 1e-5), `${raw.dataSync()[0]} vs ${want}`);
  tf.dispose([x, onlyAlign, scaled, raw]);
});

test("alignUniformLoss gradient matches central finite differences of the float64 reference", async () => {
  const rng = createRng(9);
  const a = randomMatrix(rng, 4, 3);
  const b = randomMatrix(rng, 4, 3);
  const [lambda, alpha, t] = [1.5, 2, 2];
  const h = 1e-6;
  const numeric = (which: 0 | 1): number[][] =>
    (which === 0 ? a : b).map((row, i) => row.map((_, k) => {
      const plus = [a.map((r) => [...r]), b.map((r) => [...r])];
      const minus = [a.map((r) => [...r]), b.map((r) => [...r])];
      plus[which][i][k] += h;
      minus[which][i][k] -= h;
      return (reference(plus[0], plus[1], lambda, alpha, t) - reference(minus[0], minus[1], lambda, alpha, t)) / (2 * h);
    }));
  const want = [numeric(0), numeric(1)];
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    const x1 = tf.tensor2d(a);
    const x2 = tf.tensor2d(b);
    const grads = tf.grads((p: tf.Tensor, q: tf.Tensor) => alignUniformLoss(p as tf.Tensor2D, q as tf.Tensor2D, { lambda, alpha, t }))([x1, x2]);
    assertGradientsMatch(backend, grads.map((g) => g.arraySync() as number[][]), want);
    tf.dispose([x1, x2, ...grads]);
  }
  await tf.setBackend("cpu");
});

test("alignUniformLoss leaves no tensors behind and rejects bad input by name", async () => {
  await tf.setBackend("cpu");
  const z1 = tf.randomNormal([6, 5], 0, 1, "float32", 1) as tf.Tensor2D;
  const z2 = tf.randomNormal([6, 5], 0, 1, "float32", 2) as tf.Tensor2D;
  const before = tf.memory().numTensors;
  const loss = alignUniformLoss(z1, z2);
  assert.equal(tf.memory().numTensors, before + 1);
  loss.dispose();
  const cases: Array<[() => unknown, RegExp]> = [
    [() => alignUniformLoss(tf.zeros([4]) as unknown as tf.Tensor2D, z2), /alignUniformLoss: z1 must be a float32 tensor of shape \[n,d\], got a tensor of shape \[4\]/],
    [() => alignUniformLoss(z1, tf.zeros([5, 5]) as tf.Tensor2D), /alignUniformLoss: z2 must be a float32 tensor of shape \[6,5\], got a tensor of shape \[5,5\]/],
    [() => alignUniformLoss(tf.zeros([1, 5]) as tf.Tensor2D, tf.zeros([1, 5]) as tf.Tensor2D), /alignUniformLoss: z1 must have at least 2 rows and 1 column, got a tensor of shape \[1,5\]/],
    [() => alignUniformLoss(z1, z2, { lambda: -1 }), /alignUniformLoss: options\.lambda must be a finite number >= 0, got -1/],
    [() => alignUniformLoss(z1, z2, { alpha: 0 }), /alignUniformLoss: options\.alpha must be a finite number > 0, got 0/],
    [() => alignUniformLoss(z1, z2, { t: Number.NaN }), /alignUniformLoss: options\.t must be a finite number > 0, got NaN/],
    [() => alignUniformLoss(z1, z2, { normalize: "yes" as never }), /alignUniformLoss: options\.normalize must be a boolean, got "yes"/],
    [() => alignUniformLoss(z1, z2, null as never), /alignUniformLoss: options must be an object/],
  ];
  for (const [fn, message] of cases) assert.throws(fn, message);
  tf.disposeVariables();
  tf.dispose([z1, z2]);
});
