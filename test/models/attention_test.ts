import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { onWasm } from "../methods/vision/helpers";
import {
  attentionWeights,
  causalMask,
  createLinear,
  createMultiHeadAttention,
  MASKED_LOGIT,
  MultiHeadAttention,
  paddingMask,
  scaledDotProductAttention,
} from "../../src/models/attention";

type Seq = number[][]; // [time][features]

/** Values from N(0, 1) in nested arrays of `shape`. */
function randomArray(rng: ReturnType<typeof createRng>, shape: number[]): unknown {
  return shape.length === 1
    ? Array.from({ length: shape[0] }, () => rng.normal())
    : Array.from({ length: shape[0] }, () => randomArray(rng, shape.slice(1)));
}

/**
 * float64 attention of one head straight from the definition:
 * w_ij = exp(s_ij) / sum_j' exp(s_ij'), s_ij = q_i.k_j / sqrt(d) + m(i, j), y_i = sum_j w_ij v_j.
 */
function referenceHead(q: Seq, k: Seq, v: Seq, mask: (i: number, j: number) => number): { w: Seq; y: Seq } {
  const d = q[0].length;
  const w = q.map((qi, i) => {
    const s = k.map((kj, j) => qi.reduce((acc, x, c) => acc + x * kj[c], 0) / Math.sqrt(d) + mask(i, j));
    const top = Math.max(...s);
    const e = s.map((x) => Math.exp(x - top));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / z);
  });
  const y = w.map((wi) => v[0].map((_, c) => wi.reduce((acc, x, j) => acc + x * v[j][c], 0)));
  return { w, y };
}

/** `[batch][heads][time][d]` attention with an additive mask read as maskAt(b, i, j). */
function referenceAttention(q: Seq[][], k: Seq[][], v: Seq[][], maskAt: (b: number, i: number, j: number) => number) {
  const out = q.map((qb, b) => qb.map((qh, h) => referenceHead(qh, k[b][h], v[b][h], (i, j) => maskAt(b, i, j))));
  return { w: out.map((ob) => ob.map((o) => o.w)), y: out.map((ob) => ob.map((o) => o.y)) };
}

const causalAt = (_b: number, i: number, j: number) => (j > i ? MASKED_LOGIT : 0);
const paddingAt = (lengths: number[]) => (b: number, _i: number, j: number) => (j >= lengths[b] ? MASKED_LOGIT : 0);

function maxAbsDiff(a: unknown, b: unknown): number {
  const fa = (a as number[]).flat(4) as number[];
  const fb = (b as number[]).flat(4) as number[];
  assert.equal(fa.length, fb.length);
  return fa.reduce((m, x, i) => Math.max(m, Math.abs(x - fb[i])), 0);
}

test("scaledDotProductAttention and attentionWeights match a float64 reference with no, causal, padding and combined masks", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(1);
  const [batch, heads, time, d] = [2, 2, 5, 3];
  const [q, k, v] = [0, 1, 2].map(() => randomArray(rng, [batch, heads, time, d]) as Seq[][]);
  const [tq, tk, tv] = [q, k, v].map((a) => tf.tensor4d(a as number[][][][]));
  const lengths = [5, 2];
  const causal = causalMask(time);
  const padding = paddingMask(lengths, time);
  const both = tf.add(causal, padding);
  const cases: Array<[string, tf.Tensor | undefined, (b: number, i: number, j: number) => number]> = [
    ["none", undefined, () => 0],
    ["causal", causal, causalAt],
    ["padding", padding, paddingAt(lengths)],
    ["both", both, (b, i, j) => causalAt(b, i, j) + paddingAt(lengths)(b, i, j)],
  ];
  for (const [name, mask, maskAt] of cases) {
    const want = referenceAttention(q, k, v, maskAt);
    const y = scaledDotProductAttention(tq as tf.Tensor4D, tk as tf.Tensor4D, tv as tf.Tensor4D, { mask });
    const w = attentionWeights(tq as tf.Tensor4D, tk as tf.Tensor4D, { mask });
    assert.deepEqual(y.shape, [batch, heads, time, d]);
    assert.deepEqual(w.shape, [batch, heads, time, time]);
    assert.ok(maxAbsDiff(y.arraySync(), want.y) < 1e-5, `${name}: output differs by ${maxAbsDiff(y.arraySync(), want.y)}`);
    assert.ok(maxAbsDiff(w.arraySync(), want.w) < 1e-6, `${name}: weights differ by ${maxAbsDiff(w.arraySync(), want.w)}`);
    tf.dispose([y, w]);
  }
  tf.dispose([tq, tk, tv, causal, padding, both]);
});

test("causalMask and paddingMask hold 0 where allowed and MASKED_LOGIT (finite) elsewhere", async () => {
  await tf.setBackend("cpu");
  assert.ok(Number.isFinite(MASKED_LOGIT) && MASKED_LOGIT <= -1e8);
  const c = causalMask(3);
  assert.deepEqual(c.arraySync(), [[0, MASKED_LOGIT, MASKED_LOGIT], [0, 0, MASKED_LOGIT], [0, 0, 0]]);
  const p = paddingMask(Int32Array.from([1, 3]), 3);
  assert.deepEqual(p.shape, [2, 1, 1, 3]);
  assert.deepEqual(Array.from(p.dataSync()), [0, MASKED_LOGIT, MASKED_LOGIT, 0, 0, 0]);
  tf.dispose([c, p]);
});

/** float64 multi-head attention from the model's own (float32) weights. */
function referenceMha(mha: MultiHeadAttention, x: Seq[], maskAt: (b: number, i: number, j: number) => number): Seq[] {
  const read = (l: MultiHeadAttention["query"]) => ({ w: l.weight.arraySync() as Seq, b: l.bias.arraySync() as number[] });
  const affine = (s: Seq, p: { w: Seq; b: number[] }) => s.map((r) => p.b.map((bias, o) => r.reduce((acc, xi, i) => acc + xi * p.w[i][o], bias)));
  const [pq, pk, pv, po] = [mha.query, mha.key, mha.value, mha.output].map(read);
  const hd = mha.headDim;
  const headsOf = (s: Seq) => Array.from({ length: mha.heads }, (_, h) => s.map((r) => r.slice(h * hd, (h + 1) * hd)));
  const heads = x.map((s) => [pq, pk, pv].map((p) => headsOf(affine(s, p))));
  const y = referenceAttention(heads.map((h) => h[0]), heads.map((h) => h[1]), heads.map((h) => h[2]), maskAt).y;
  // Join the heads back along the features, then the output projection.
  return y.map((yb) => affine(yb[0].map((_, t) => yb.flatMap((yh) => yh[t])), po));
}

test("createMultiHeadAttention: apply and attentionWeights match a float64 reference (2 heads); seeds reproduce weights", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(2);
  const [batch, time, dim] = [2, 4, 6];
  const mha = createMultiHeadAttention({ dim, heads: 2, seed: 3 });
  assert.equal(mha.headDim, 3);
  assert.equal(mha.trainable.length, 8);
  const xs = randomArray(rng, [batch, time, dim]) as Seq[];
  const x = tf.tensor3d(xs);
  const mask = causalMask(time);
  for (const [m, at] of [[undefined, () => 0], [mask, causalAt]] as const) {
    const y = mha.apply(x, { mask: m });
    const want = referenceMha(mha, xs, at);
    assert.ok(maxAbsDiff(y.arraySync(), want) < 1e-5, `max error ${maxAbsDiff(y.arraySync(), want)}`);
    y.dispose();
  }
  const w = mha.attentionWeights(x, { mask });
  assert.deepEqual(w.shape, [batch, 2, time, time]);
  // Each row a distribution over the keys at or before the query.
  const rows = (w.arraySync() as number[][][][]).flat(2);
  rows.forEach((r, n) => {
    assert.ok(Math.abs(r.reduce((a, b) => a + b, 0) - 1) < 1e-6);
    r.forEach((p, j) => (j > n % time ? assert.equal(p, 0) : assert.ok(p > 0)));
  });
  const twin = createMultiHeadAttention({ dim, heads: 2, seed: 3 });
  const other = createMultiHeadAttention({ dim, heads: 2, seed: 4 });
  assert.deepEqual(twin.key.weight.arraySync(), mha.key.weight.arraySync());
  assert.notDeepEqual(other.key.weight.arraySync(), mha.key.weight.arraySync());
  assert.notDeepEqual(mha.query.weight.arraySync(), mha.key.weight.arraySync(), "each projection has its own weights");
  tf.dispose([x, mask, w]);
  [mha, twin, other].forEach((m) => m.dispose());
});

/** d sum(y[:, t, :] * r) / dx, summed in |.| over batch and features: `[time]`, one entry per input position. */
function inputDependence(mha: MultiHeadAttention, x: tf.Tensor3D, t: number, mask: tf.Tensor | undefined): number[] {
  const [batch, time, dim] = x.shape;
  return tf.tidy(() => {
    const r = tf.randomNormal([batch, 1, dim], 0, 1, "float32", 5);
    const g = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(tf.slice(mha.apply(xi as tf.Tensor3D, { mask }), [0, t, 0], [batch, 1, dim]), r)))(x);
    return Array.from(tf.sum(tf.abs(g), [0, 2]).dataSync()).slice(0, time);
  });
}

test("causal mask: the output at t has exactly zero gradient with respect to inputs after t, and nonzero before", async () => {
  await tf.setBackend("cpu");
  const time = 5;
  const mha = createMultiHeadAttention({ dim: 4, heads: 2, seed: 7 });
  const x = tf.randomNormal([3, time, 4], 0, 1, "float32", 8) as tf.Tensor3D;
  const mask = causalMask(time);
  for (let t = 0; t < time; t++) {
    const dep = inputDependence(mha, x, t, mask);
    dep.forEach((g, s) => (s > t ? assert.equal(g, 0, `output ${t} depends on input ${s}`) : assert.ok(g > 1e-6, `output ${t} ignores input ${s}`)));
  }
  // Without the mask the future does flow in: the check above can fail.
  assert.ok(inputDependence(mha, x, 0, undefined)[time - 1] > 1e-6);
  tf.dispose([x, mask]);
  mha.dispose();
});

test("padding mask: padded keys get exactly zero weight, and changing padded inputs leaves real outputs bit-identical", async () => {
  await tf.setBackend("cpu");
  const [time, dim] = [5, 4];
  const lengths = [2, 5, 4];
  const mha = createMultiHeadAttention({ dim, heads: 2, seed: 9 });
  const mask = paddingMask(lengths, time);
  const x = tf.randomNormal([3, time, dim], 0, 1, "float32", 10) as tf.Tensor3D;
  const w = mha.attentionWeights(x, { mask }).arraySync() as number[][][][];
  w.forEach((wb, b) => wb.forEach((wh) => wh.forEach((row) => row.forEach((p, j) =>
    j >= lengths[b] ? assert.equal(p, 0, `sequence ${b} attends to pad ${j}`) : assert.ok(p > 0)))));
  // Overwrite every padded position with other values.
  const keep = tf.tensor3d(lengths.flatMap((n) => Array.from({ length: time }, (_, t) => (t < n ? 1 : 0))), [3, time, 1]);
  const changed = tf.tidy(() => tf.add(tf.mul(x, keep), tf.mul(tf.sub(1, keep), tf.randomNormal([3, time, dim], 0, 3, "float32", 11))));
  const [y1, y2] = [x, changed].map((xi) => mha.apply(xi as tf.Tensor3D, { mask }).arraySync() as Seq[]);
  lengths.forEach((n, b) => assert.deepEqual(y2[b].slice(0, n), y1[b].slice(0, n), `sequence ${b}`));
  assert.notDeepEqual(y2[0].slice(2), y1[0].slice(2), "the padded positions themselves did change");
  tf.dispose([mask, x, keep, changed]);
  mha.dispose();
});

test("a query with every key masked stays finite in value and gradient (the mask is not -Infinity)", async () => {
  await tf.setBackend("cpu");
  const q = tf.randomNormal([1, 1, 3, 2], 0, 1, "float32", 12) as tf.Tensor4D;
  const mask = tf.fill([3, 3], MASKED_LOGIT);
  const g = tf.grad((qi: tf.Tensor) => tf.sum(scaledDotProductAttention(qi as tf.Tensor4D, q, q, { mask })))(q);
  assert.ok(Array.from(g.dataSync()).every(Number.isFinite));
  const w = attentionWeights(q, q, { mask });
  // Scores of size ~1 vanish against 1e9 in float32: every key weighs about 1/3.
  assert.ok(Array.from(w.dataSync()).every((p) => Math.abs(p - 1 / 3) < 1e-6));
  tf.dispose([q, mask, g, w]);
});

test("attention functions leave no tensors behind beyond their result", async () => {
  await tf.setBackend("cpu");
  const q = tf.randomNormal([2, 2, 4, 3], 0, 1, "float32", 13) as tf.Tensor4D;
  const mha = createMultiHeadAttention({ dim: 6, heads: 3, seed: 1 });
  const x = tf.randomNormal([2, 4, 6], 0, 1, "float32", 14) as tf.Tensor3D;
  const mask = causalMask(4);
  const before = tf.memory().numTensors;
  const calls: Array<() => tf.Tensor> = [
    () => scaledDotProductAttention(q, q, q, { mask }),
    () => attentionWeights(q, q),
    () => mha.apply(x, { mask }),
    () => mha.attentionWeights(x),
    () => causalMask(4),
    () => paddingMask([1, 4], 4),
  ];
  for (const call of calls) {
    const out = call();
    assert.equal(tf.memory().numTensors, before + 1);
    out.dispose();
  }
  const variables = tf.memory().numTensors;
  createMultiHeadAttention({ dim: 4, heads: 2 }).dispose();
  createLinear({ inputDim: 3, outputDim: 2 }).dispose();
  assert.equal(tf.memory().numTensors, variables);
  tf.dispose([q, x, mask]);
  mha.dispose();
});

test("attention rejects bad input with messages naming the argument", async () => {
  await tf.setBackend("cpu");
  const q = tf.zeros([2, 2, 4, 3]) as tf.Tensor4D;
  const mha = createMultiHeadAttention({ dim: 6, heads: 2 });
  const x = tf.zeros([2, 4, 6]) as tf.Tensor3D;
  const t = <T extends tf.Tensor>(shape: number[], dtype: tf.DataType = "float32") => tf.zeros(shape, dtype) as T;
  const cases: Array<[() => unknown, RegExp]> = [
    [() => scaledDotProductAttention(t([2, 4, 3]), q, q), /scaledDotProductAttention: q must be a float32 tensor of rank 4, got a tensor of shape \[2,4,3\]/],
    [() => scaledDotProductAttention(q, t([2, 2, 5, 3]), q), /scaledDotProductAttention: k must be a float32 tensor of shape \[2,2,4,3\] like q, got a tensor of shape \[2,2,5,3\]/],
    [() => scaledDotProductAttention(q, q, t([2, 2, 4, 3], "int32")), /scaledDotProductAttention: v must be a float32 tensor, got an int32 tensor of shape \[2,2,4,3\]/],
    [() => scaledDotProductAttention(q, q, q, { mask: t([4, 5]) }), /scaledDotProductAttention: options\.mask must be a float32 tensor of shape \[4,4\], \[2,1,1,4\] or \[2,1,4,4\], got a tensor of shape \[4,5\]/],
    [() => attentionWeights(q, q, { mask: t([1, 1, 1, 4]) }), /attentionWeights: options\.mask must be a float32 tensor of shape \[4,4\], \[2,1,1,4\] or \[2,1,4,4\], got a tensor of shape \[1,1,1,4\]/],
    [() => attentionWeights(q, t([2, 2, 4, 2])), /attentionWeights: k must be a float32 tensor of shape \[2,2,4,3\] like q/],
    [() => causalMask(0), /causalMask: time must be a positive integer, got 0/],
    [() => paddingMask([2, 0], 3), /paddingMask: lengths\[1\] must be an integer in \[1, 3\], got 0/],
    [() => paddingMask([4], 3), /paddingMask: lengths\[0\] must be an integer in \[1, 3\], got 4/],
    [() => paddingMask([], 3), /paddingMask: lengths must be an array of at least one lengths in \[1, 3\], got \[\]/],
    [() => createMultiHeadAttention({ dim: 6, heads: 4 }), /createMultiHeadAttention: options\.heads must divide options\.dim = 6, got 4/],
    [() => createMultiHeadAttention({ dim: 0, heads: 1 }), /createMultiHeadAttention: options\.dim must be a positive integer, got 0/],
    [() => createMultiHeadAttention({ dim: 4, heads: 2, seed: 0.5 }), /createMultiHeadAttention: options\.seed must be an integer, got 0\.5/],
    [() => createMultiHeadAttention(undefined as never), /createMultiHeadAttention: options must be an object \{dim, heads, seed\?\}, got undefined/],
    [() => mha.apply(t([2, 4, 5])), /MultiHeadAttention\.apply: x must be a float32 tensor of shape \[batch,time,6\], got a tensor of shape \[2,4,5\]/],
    [() => mha.apply(t([8, 6])), /MultiHeadAttention\.apply: x must be a float32 tensor of rank 3, got a tensor of shape \[8,6\]/],
    [() => mha.apply(x, { mask: t([3, 3]) }), /MultiHeadAttention\.apply: options\.mask must be a float32 tensor of shape \[4,4\], \[2,1,1,4\] or \[2,1,4,4\], got a tensor of shape \[3,3\]/],
    [() => mha.attentionWeights(x, { mask: t([4, 4], "int32") }), /MultiHeadAttention\.attentionWeights: options\.mask must be a float32 tensor, got an int32 tensor of shape \[4,4\]/],
    [() => createLinear({ inputDim: 3, outputDim: 2 }).apply(t([3])), /Linear\.apply: x must be a float32 tensor of shape \[\.\.\.,3\] \(rank >= 2\), got a tensor of shape \[3\]/],
  ];
  for (const [fn, message] of cases) assert.throws(fn, message);
  tf.disposeVariables();
  tf.dispose([q, x]);
});

test("multi-head attention on wasm matches cpu in value and gradient", async () => {
  await tf.setBackend("cpu");
  const mha = createMultiHeadAttention({ dim: 8, heads: 2, seed: 15 });
  const xs = randomArray(createRng(16), [2, 6, 8]) as Seq[];
  const run = () => {
    const x = tf.tensor3d(xs);
    const mask = tf.add(causalMask(6), paddingMask([6, 3], 6));
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(mha.apply(x, { mask }))) as tf.Scalar, mha.trainable);
    const y = mha.apply(x, { mask });
    const out = { y: Array.from(y.dataSync()), loss: value.dataSync()[0], grads: mha.trainable.map((v) => Array.from(grads[v.name].dataSync())) };
    tf.dispose([x, mask, value, y, ...Object.values(grads)]);
    return out;
  };
  const cpu = run();
  const wasm = await onWasm(run);
  const close = (a: number[], b: number[], what: string) => {
    const scale = Math.max(1, ...b.map(Math.abs));
    const err = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    assert.ok(err <= 1e-4 * scale, `${what}: wasm differs from cpu by ${err} (scale ${scale})`);
  };
  close(wasm.y, cpu.y, "output");
  close([wasm.loss], [cpu.loss], "loss");
  wasm.grads.forEach((g, i) => close(g, cpu.grads[i], `gradient of ${mha.trainable[i].name}`));
  mha.dispose();
});

test("multi-head attention dropout drops attention probabilities: seeded, off at rate 0, everything dropped leaves the output bias", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(6);
  const [batch, time, dim] = [2, 4, 6];
  const mha = createMultiHeadAttention({ dim, heads: 2, seed: 7 });
  tf.tidy(() => mha.output.bias.assign(tf.tensor1d([0.5, -1, 2, 0, 3, -2])));
  const x = tf.tensor3d(randomArray(rng, [batch, time, dim]) as Seq[]);
  const before = tf.memory().numTensors;
  const read = (y: tf.Tensor) => { const v = Array.from(y.dataSync()); y.dispose(); return v; };
  const clean = read(mha.apply(x));
  assert.deepEqual(read(mha.apply(x, { dropout: { rate: 0, seed: 1 } })), clean);
  const a = read(mha.apply(x, { dropout: { rate: 0.5, seed: 1 } }));
  assert.deepEqual(read(mha.apply(x, { dropout: { rate: 0.5, seed: 1 } })), a);
  assert.notDeepEqual(read(mha.apply(x, { dropout: { rate: 0.5, seed: 2 } })), a);
  assert.notDeepEqual(a, clean);
  // 64 probabilities, each dropped with probability 1 - 1e-6: the heads are zero and only Wo's bias is left.
  const allDropped = read(mha.apply(x, { dropout: { rate: 1 - 1e-6, seed: 1 } }));
  assert.deepEqual(allDropped, Array.from({ length: batch * time }, () => [0.5, -1, 2, 0, 3, -2]).flat());
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => mha.apply(x, { dropout: { rate: -0.1, seed: 1 } }), /MultiHeadAttention.apply: options.dropout.rate must be a number in \[0, 1\), got -0.1/);
  x.dispose();
  mha.dispose();
});
