import { test } from "node:test";
import assert from "node:assert/strict";
import "../../src/backend/select"; // registers the wasm backend
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { alignment, alignmentUniformity, uniformity } from "../../src/evaluation/alignment_uniformity";

function randomRows(n: number, d: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
}

function normalized(rows: number[][]): number[][] {
  return rows.map((r) => {
    const norm = Math.sqrt(r.reduce((s, v) => s + v * v, 0));
    return r.map((v) => v / norm);
  });
}

function alignmentRef(x: number[][], y: number[][], alpha: number): number {
  const a = normalized(x);
  const b = normalized(y);
  let total = 0;
  for (let i = 0; i < a.length; i++) {
    let s = 0;
    for (let j = 0; j < a[i].length; j++) s += (a[i][j] - b[i][j]) ** 2;
    total += Math.sqrt(s) ** alpha;
  }
  return total / a.length;
}

function uniformityRef(x: number[][], t: number, normalize = true): number {
  const a = normalize ? normalized(x) : x;
  let total = 0;
  let pairs = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      let s = 0;
      for (let c = 0; c < a[i].length; c++) s += (a[i][c] - a[j][c]) ** 2;
      total += Math.exp(-t * s);
      pairs++;
    }
  }
  return Math.log(total / pairs);
}

const circle = (n: number, spread: number): number[][] =>
  Array.from({ length: n }, (_, i) => [Math.cos((spread * 2 * Math.PI * i) / n), Math.sin((spread * 2 * Math.PI * i) / n)]);

test("alignment matches a float64 loop for alpha 2 and 1, on unnormalised inputs", async () => {
  await tf.setBackend("cpu");
  const xs = randomRows(37, 9, 1);
  const ys = randomRows(37, 9, 2).map((r, i) => r.map((v, j) => 0.3 * v + xs[i][j] * 2));
  const x = tf.tensor2d(xs);
  const y = tf.tensor2d(ys);
  const before = tf.memory().numTensors;
  for (const alpha of [2, 1, 3]) {
    const got = alignment(x, y, { alpha });
    assert.ok(Math.abs(got.dataSync()[0] - alignmentRef(xs, ys, alpha)) < 1e-5, `alpha ${alpha}: ${got.dataSync()[0]} vs ${alignmentRef(xs, ys, alpha)}`);
    got.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
  // Identical views align perfectly; opposite unit views are 2 apart (squared distance 4).
  const same = alignment(x, x);
  assert.ok(Math.abs(same.dataSync()[0]) < 1e-6);
  const neg = tf.neg(x);
  const opposite = alignment(x, neg as tf.Tensor2D);
  assert.ok(Math.abs(opposite.dataSync()[0] - 4) < 1e-5);
  tf.dispose([x, y, same, neg, opposite]);
});

test("uniformity matches a float64 loop over distinct pairs, for any block size", async () => {
  await tf.setBackend("cpu");
  const xs = randomRows(53, 6, 3);
  const x = tf.tensor2d(xs);
  const before = tf.memory().numTensors;
  for (const [t, chunkSize] of [[2, undefined], [2, 7], [0.5, 1], [5, 53]] as Array<[number, number | undefined]>) {
    const got = uniformity(x, { t, chunkSize });
    const ref = uniformityRef(xs, t);
    assert.ok(Math.abs(got.dataSync()[0] - ref) < 1e-5, `t ${t}, chunk ${chunkSize}: ${got.dataSync()[0]} vs ${ref}`);
    got.dispose();
  }
  // normalize: false uses the rows as given.
  const raw = uniformity(x, { normalize: false, t: 0.1 });
  assert.ok(Math.abs(raw.dataSync()[0] - uniformityRef(xs, 0.1, false)) < 1e-4);
  raw.dispose();
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});

test("points evenly on a circle are more uniform than clustered points; identical points give 0", async () => {
  await tf.setBackend("cpu");
  const even = tf.tensor2d(circle(64, 1));
  const clustered = tf.tensor2d(circle(64, 0.1)); // all within 36 degrees
  const collapsed = tf.tensor2d(Array.from({ length: 10 }, () => [0.6, 0.8]));
  const [ue, uc, u0] = [uniformity(even), uniformity(clustered), uniformity(collapsed)].map((s) => {
    const v = s.dataSync()[0];
    s.dispose();
    return v;
  });
  // Even circle: the mean of exp(-2 |x-y|^2) = exp(4 cos theta - 4) over all 64 j (j = i included) is
  // e^-4 I0(4) to machine precision (trapezoid rule on a periodic function); dropping j = i (value 1)
  // leaves (64 e^-4 I0(4) - 1) / 63 for distinct pairs.
  const bessel = (z: number): number => {
    let s = 0;
    let term = 1;
    for (let m = 0; m < 40; m++) {
      if (m > 0) term *= (z / 2) ** 2 / (m * m);
      s += term;
    }
    return s;
  };
  assert.ok(Math.abs(ue - uniformityRef(circle(64, 1), 2)) < 1e-5);
  assert.ok(Math.abs(ue - Math.log((64 * Math.exp(-4) * bessel(4) - 1) / 63)) < 1e-4, `even ${ue}`);
  assert.ok(uc > ue + 1, `clustered ${uc} should exceed even ${ue} by > 1`);
  assert.ok(Math.abs(u0) < 1e-6, `collapsed ${u0}`);
  tf.dispose([even, clustered, collapsed]);
});

test("alignmentUniformity returns numbers, averaging the two views' uniformity", async () => {
  await tf.setBackend("cpu");
  const xs = randomRows(20, 5, 4);
  const ys = randomRows(20, 5, 5);
  const x = tf.tensor2d(xs);
  const y = tf.tensor2d(ys);
  const before = tf.memory().numTensors;
  const r = alignmentUniformity(x, y);
  assert.equal(tf.memory().numTensors, before);
  assert.ok(Math.abs(r.alignment - alignmentRef(xs, ys, 2)) < 1e-5);
  assert.ok(Math.abs(r.uniformity - (uniformityRef(xs, 2) + uniformityRef(ys, 2)) / 2) < 1e-5);
  tf.dispose([x, y]);
});

test("gradients flow through both losses (usable for training)", async () => {
  await tf.setBackend("cpu");
  const x = tf.variable(tf.tensor2d(randomRows(8, 3, 6)));
  const y = tf.tensor2d(randomRows(8, 3, 7));
  const { grads, value } = tf.variableGrads(() => tf.add(alignment(x, y), uniformity(x)) as tf.Scalar, [x]);
  const g = grads[x.name];
  const data = g.dataSync();
  assert.ok(data.every(Number.isFinite) && data.some((v) => Math.abs(v) > 1e-4));
  // Compare one coordinate with a central finite difference in float64.
  const xs = x.arraySync() as number[][];
  const ys = y.arraySync() as number[][];
  const h = 1e-4;
  const plus = xs.map((r) => r.slice());
  const minus = xs.map((r) => r.slice());
  plus[2][1] += h;
  minus[2][1] -= h;
  const f = (a: number[][]): number => alignmentRef(a, ys, 2) + uniformityRef(a, 2);
  const numeric = (f(plus) - f(minus)) / (2 * h);
  assert.ok(Math.abs(data[2 * 3 + 1] - numeric) < 1e-3, `${data[7]} vs ${numeric}`);
  tf.dispose([x, y, g, value]);
});

test("bad input is rejected naming the argument and shape", async () => {
  await tf.setBackend("cpu");
  const x = tf.zeros([4, 3]) as tf.Tensor2D;
  const y = tf.zeros([5, 3]) as tf.Tensor2D;
  const one = tf.zeros([1, 3]) as tf.Tensor2D;
  assert.throws(() => alignment(x, y), /alignment: y must be a tensor of shape \[4,3\], got a tensor of shape \[5,3\]/);
  assert.throws(() => alignment(x, x, { alpha: 0 }), /alignment: options\.alpha must be a finite number > 0, got 0/);
  assert.throws(() => uniformity(one), /uniformity: x must have at least 2 rows/);
  assert.throws(() => uniformity(x, { t: -1 }), /uniformity: options\.t must be a finite number > 0, got -1/);
  assert.throws(() => uniformity(x, { chunkSize: 0 }), /uniformity: options.chunkSize must be a positive integer, got 0/);
  assert.throws(() => uniformity(tf.zeros([4]) as unknown as tf.Tensor2D), /uniformity: x must be a tensor of shape \[n,d\], got a tensor of shape \[4\]/);
  assert.throws(() => alignmentUniformity(x, y), /alignmentUniformity: y must be a tensor of shape \[4,3\], got a tensor of shape \[5,3\]/);
  tf.dispose([x, y, one]);
});

test("on wasm: both losses and their gradients match the float64 loops", async () => {
  assert.ok(await tf.setBackend("wasm"));
  const xs = randomRows(30, 7, 8);
  const ys = randomRows(30, 7, 9);
  const x = tf.variable(tf.tensor2d(xs));
  const y = tf.tensor2d(ys);
  const before = tf.memory().numTensors;
  const r = alignmentUniformity(x, y, { chunkSize: 8 });
  assert.equal(tf.memory().numTensors, before);
  assert.ok(Math.abs(r.alignment - alignmentRef(xs, ys, 2)) < 1e-5);
  assert.ok(Math.abs(r.uniformity - (uniformityRef(xs, 2) + uniformityRef(ys, 2)) / 2) < 1e-5);
  const a1 = alignment(x, y, { alpha: 1 });
  assert.ok(Math.abs(a1.dataSync()[0] - alignmentRef(xs, ys, 1)) < 1e-5);
  const { grads, value } = tf.variableGrads(() => tf.add(alignment(x, y), uniformity(x, { chunkSize: 8 })) as tf.Scalar, [x]);
  assert.ok(grads[x.name].dataSync().every(Number.isFinite));
  tf.dispose([x, y, a1, grads[x.name], value]);
  await tf.setBackend("cpu");
});
