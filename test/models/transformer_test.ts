import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { registerTrainingKernels } from "../../src/backend/kernels";
import { createRng } from "../../src/data/random";
import { onWasm } from "../methods/vision/helpers";
import { causalMask, dropoutMask, MASKED_LOGIT, paddingMask, seededDropout } from "../../src/models/attention";
import {
  createLayerNorm,
  createTransformer,
  createTransformerBlock,
  CUTOFF_KINDS,
  cutoffMask,
  gelu,
  Transformer,
  TransformerBlock,
} from "../../src/models/transformer";
import { adam } from "../../src/training/adam";
import { train } from "../../src/training/loop";

// The notebooks train with these kernels; the wasm test checks them too.
registerTrainingKernels();

type Rows = number[][]; // one sequence, [time][features]
type MaskAt = (b: number, i: number, j: number) => number;

/** A weight as float64 with its shape, read from a variable. */
interface Param {
  v: Float64Array;
  shape: number[];
}
const paramsOf = (vars: tf.Variable[]): Param[] => vars.map((w) => ({ v: Float64Array.from(w.dataSync()), shape: w.shape }));

const refLayerNorm = (r: number[], g: Param, b: Param): number[] => {
  const mean = r.reduce((a, x) => a + x, 0) / r.length;
  const variance = r.reduce((a, x) => a + (x - mean) ** 2, 0) / r.length;
  return r.map((x, i) => ((x - mean) / Math.sqrt(variance + 1e-5)) * g.v[i] + b.v[i]);
};
const refGelu = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
/** r W + b with W `[in, out]` row-major. */
const refAffine = (r: number[], w: Param, b: Param): number[] => {
  const out = w.shape[1];
  return Array.from({ length: out }, (_, o) => r.reduce((a, x, i) => a + x * w.v[i * out + o], b.v[o]));
};

/** A block's three dropout masks, flat row-major: attention probabilities `[b, h, i, j]`, attention and MLP outputs `[b, t, c]`. */
interface BlockDropMasks {
  probs: Float32Array;
  attn: Float32Array;
  mlp: Float32Array;
}

/**
 * float64 pre-norm block from its parameters in `block.trainable` order:
 * LN1 (g, b), Wq, bq, Wk, bk, Wv, bv, Wo, bo, LN2 (g, b), W1, b1, W2, b2.
 */
function refBlock(p: Param[], heads: number, x: Rows[], maskAt: MaskAt, drop?: BlockDropMasks): Rows[] {
  const [g1, c1, wq, bq, wk, bk, wv, bv, wo, bo, g2, c2, w1, b1, w2, b2] = p;
  const time = x[0].length;
  const dim = x[0][0].length;
  // Dropout multipliers (1 without dropout): probabilities [b, h, i, j], sublayer outputs [b, t, c].
  const probKeep = (b: number, h: number, i: number, j: number) => (drop ? drop.probs[((b * heads + h) * time + i) * time + j] : 1);
  const outKeep = (which: "attn" | "mlp", b: number, t: number, c: number) => (drop ? drop[which][(b * time + t) * dim + c] : 1);
  return x.map((seq, b) => {
    const n = seq.map((r) => refLayerNorm(r, g1, c1));
    const [q, k, v] = [[wq, bq], [wk, bk], [wv, bv]].map(([w, c]) => n.map((r) => refAffine(r, w, c)));
    const hd = seq[0].length / heads;
    // Per query i and head h: softmax over keys j of q.k / sqrt(hd) + mask, then the weighted values.
    const joined = q.map((qi, i) => {
      const row: number[] = [];
      for (let h = 0; h < heads; h++) {
        const cols = (r: number[]) => r.slice(h * hd, (h + 1) * hd);
        const logits = k.map((kj, j) => cols(qi).reduce((a, e, c) => a + e * cols(kj)[c], 0) / Math.sqrt(hd) + maskAt(b, i, j));
        const top = Math.max(...logits);
        const e = logits.map((s) => Math.exp(s - top));
        const z = e.reduce((a, s) => a + s, 0);
        for (let c = 0; c < hd; c++) row.push(v.reduce((a, vj, j) => a + (e[j] / z) * probKeep(b, h, i, j) * cols(vj)[c], 0));
      }
      return row;
    });
    const h1 = seq.map((r, i) => refAffine(joined[i], wo, bo).map((a, c) => r[c] + a * outKeep("attn", b, i, c)));
    return h1.map((r, t) => {
      const m = refAffine(refAffine(refLayerNorm(r, g2, c2), w1, b1).map(refGelu), w2, b2);
      return r.map((a, c) => a + m[c] * outKeep("mlp", b, t, c));
    });
  });
}

/** float64 forward pass of a transformer from its variables: `{ hidden, logits }` per sequence. */
function refTransformer(model: Transformer, tokens: number[][], lengths?: number[]): { hidden: Rows[]; logits: Rows[] } {
  const [e, pos] = paramsOf([model.tokenEmbedding, model.positionEmbedding]);
  const d = model.dim;
  const row = (p: Param, i: number) => Array.from(p.v.subarray(i * d, (i + 1) * d));
  let x: Rows[] = tokens.map((seq) => seq.map((tok, t) => row(e, tok).map((a, c) => a + pos.v[t * d + c])));
  const maskAt: MaskAt = (b, i, j) => (model.causal && j > i ? MASKED_LOGIT : 0) + (lengths && j >= lengths[b] ? MASKED_LOGIT : 0);
  for (const block of model.blocks) x = refBlock(paramsOf(block.trainable), model.heads, x, maskAt);
  const [g, c, bias] = paramsOf([...model.finalNorm.trainable, model.outputBias]);
  const hidden = x.map((seq) => seq.map((r) => refLayerNorm(r, g, c)));
  const logits = hidden.map((seq) => seq.map((r) => Array.from(bias.v, (bv, w) => r.reduce((a, h, k) => a + h * e.v[w * d + k], bv))));
  return { hidden, logits };
}

function maxError(got: tf.Tensor, want: unknown): number {
  const w = (want as number[]).flat(3) as number[];
  const g = got.dataSync();
  assert.equal(g.length, w.length);
  return w.reduce((m, v, i) => Math.max(m, Math.abs(v - g[i])), 0);
}

/** Sets every variable to N(0, std^2) values from `seed`, so gains and biases are not 1 and 0 in a check. */
function scramble(vars: tf.Variable[], seed: number, std = 0.5): void {
  const rng = createRng(seed);
  for (const v of vars) tf.tidy(() => v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => rng.normal() * std), v.shape)));
}

test("createLayerNorm and gelu match float64 references; gelu is the tanh approximation", async () => {
  await tf.setBackend("cpu");
  const ln = createLayerNorm({ dim: 5 });
  assert.equal(ln.epsilon, 1e-5);
  assert.deepEqual(Array.from(ln.gain.dataSync()), [1, 1, 1, 1, 1]);
  scramble(ln.trainable, 1);
  const rng = createRng(2);
  const xs = Array.from({ length: 6 }, () => Array.from({ length: 5 }, () => 3 * rng.normal() + 1));
  xs.push([2, 2, 2, 2, 2]); // zero variance: epsilon keeps it finite, the output is the bias
  const x = tf.tensor3d([xs.slice(0, 4), xs.slice(3)]);
  const [g, b] = paramsOf(ln.trainable);
  const y = ln.apply(x);
  assert.ok(maxError(y, [xs.slice(0, 4), xs.slice(3)].map((s) => s.map((r) => refLayerNorm(r, g, b)))) < 1e-5);
  assert.deepEqual(y.shape, [2, 4, 5]);
  const grid = Array.from({ length: 41 }, (_, i) => -5 + i / 4);
  const gx = tf.tensor1d(grid);
  const gy = gelu(gx);
  assert.ok(maxError(gy, grid.map(refGelu)) < 1e-6);
  // Exact GELU x Phi(x) from erf (Abramowitz & Stegun 7.1.26, error < 1.5e-7): close, but not equal.
  const erf = (z: number) => {
    const t = 1 / (1 + 0.3275911 * Math.abs(z));
    const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    return Math.sign(z) * (1 - poly * Math.exp(-z * z));
  };
  const exactGap = maxError(gy, grid.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2))));
  assert.ok(exactGap < 1e-3 && exactGap > 1e-5, `gap to exact GELU ${exactGap}`);
  tf.dispose([x, y, gx, gy]);
  ln.dispose();
});

/** The block's inputs and its loss sum(block(x) * r) for the gradient check. */
function blockSetup(block: TransformerBlock, batch: number, time: number) {
  const rng = createRng(4);
  const xs: Rows[] = Array.from({ length: batch }, () => Array.from({ length: time }, () => Array.from({ length: block.dim }, () => rng.normal())));
  const r = Array.from({ length: batch * time * block.dim }, () => rng.normal());
  const lossOf = (y: Rows[]) => (y.flat(2) as number[]).reduce((a, v, i) => a + v * r[i], 0);
  return { xs, r, lossOf };
}

test("createTransformerBlock: forward matches float64; gradients of x and every weight match finite differences", async () => {
  await tf.setBackend("cpu");
  const [batch, time, heads] = [2, 4, 2];
  const block = createTransformerBlock({ dim: 6, heads, mlpRatio: 2, seed: 3 });
  assert.equal(block.hiddenDim, 12);
  assert.equal(block.trainable.length, 16);
  scramble([...block.norm1.trainable, ...block.norm2.trainable], 5, 0.3);
  const { xs, r, lossOf } = blockSetup(block, batch, time);
  const lengths = [4, 3];
  const maskAt: MaskAt = (b, i, j) => (j > i ? MASKED_LOGIT : 0) + (j >= lengths[b] ? MASKED_LOGIT : 0);
  const x = tf.tensor3d(xs);
  const mask = tf.tidy(() => tf.add(causalMask(time), paddingMask(lengths, time)));
  const params = paramsOf(block.trainable);
  const y = block.apply(x, { mask });
  assert.ok(maxError(y, refBlock(params, heads, xs, maskAt)) < 1e-5);

  // float32 gradients on cpu.
  const rT = tf.tensor3d(r, [batch, time, block.dim]);
  const f = () => tf.sum(tf.mul(block.apply(x, { mask }), rT)) as tf.Scalar;
  const { grads } = tf.variableGrads(f, block.trainable);
  const dx = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(block.apply(xi as tf.Tensor3D, { mask }), rT)))(x);
  const got = [dx, ...block.trainable.map((v) => grads[v.name])].map((g) => g.dataSync());
  // Central differences of the float64 reference at the same (float32) point: their own error is ~1e-9,
  // so what is left is the float32 rounding of tf's gradient, ~1e-6 of its scale. 1e-4 of the scale
  // leaves that a wide margin and still catches any wrong or missing term (those are O(0.01..1)).
  const h = 1e-5;
  const flatX = { v: Float64Array.from(xs.flat(2) as number[]), shape: [batch, time, block.dim] };
  const all = [flatX, ...params];
  const evaluate = () => {
    const xNow: Rows[] = xs.map((s, b) => s.map((row, t) => row.map((_, c) => flatX.v[(b * time + t) * block.dim + c])));
    return lossOf(refBlock(params, heads, xNow, maskAt));
  };
  let maxErr = 0;
  let scale = 0;
  all.forEach((p, which) => {
    for (let i = 0; i < p.v.length; i++) {
      const keep = p.v[i];
      p.v[i] = keep + h;
      const plus = evaluate();
      p.v[i] = keep - h;
      const minus = evaluate();
      p.v[i] = keep;
      const numeric = (plus - minus) / (2 * h);
      maxErr = Math.max(maxErr, Math.abs(numeric - got[which][i]));
      scale = Math.max(scale, Math.abs(numeric));
    }
  });
  assert.ok(scale > 0.1, `the reference gradient should not vanish (${scale})`);
  assert.ok(maxErr <= 1e-4 * Math.max(1, scale), `max gradient error ${maxErr} (scale ${scale})`);
  tf.dispose([x, mask, y, rT, dx, ...Object.values(grads)]);
  block.dispose();
});

const tiny = (causal: boolean, seed = 1) =>
  createTransformer({ vocabSize: 7, maxLength: 6, dim: 8, heads: 2, layers: 2, mlpRatio: 2, causal, seed });

test("createTransformer: hidden and logits match a float64 reference, causal and bidirectional, with padding; tied head", async () => {
  await tf.setBackend("cpu");
  const tokens = [[1, 4, 6, 0, 2], [3, 3, 5, 1, 0]];
  for (const causal of [true, false]) {
    const model = tiny(causal);
    scramble([...model.finalNorm.trainable, model.outputBias], 6, 0.3);
    assert.equal(model.trainable.length, 2 + 2 * 16 + 3);
    for (const lengths of [undefined, [5, 3]]) {
      const t = tf.tensor2d(tokens, undefined, "int32");
      const { hidden, logits } = model.apply(t, { padding: lengths });
      assert.deepEqual(hidden.shape, [2, 5, 8]);
      assert.deepEqual(logits.shape, [2, 5, 7]);
      const want = refTransformer(model, tokens, lengths);
      assert.ok(maxError(hidden, want.hidden) < 1e-5, `causal ${causal} lengths ${lengths}: hidden`);
      assert.ok(maxError(logits, want.logits) < 1e-5, `causal ${causal} lengths ${lengths}: logits`);
      tf.dispose([t, hidden, logits]);
    }
    model.dispose();
  }
});

/** Logits of `tokens` as nested arrays `[batch][time][vocab]`. */
function logitsOf(model: Transformer, tokens: number[][], padding?: number[]): number[][][] {
  const t = tf.tensor2d(tokens, undefined, "int32");
  const { hidden, logits } = model.apply(t, { padding });
  const out = logits.arraySync() as number[][][];
  tf.dispose([t, hidden, logits]);
  return out;
}

test("causal: changing a future token leaves earlier logits bit-identical; bidirectional: it changes them", async () => {
  await tf.setBackend("cpu");
  const base = [[1, 4, 6, 0, 2, 5], [3, 3, 5, 1, 0, 6]];
  for (const causal of [true, false]) {
    const model = tiny(causal, 2);
    const before = logitsOf(model, base);
    for (let t = 1; t < 6; t++) {
      const changed = base.map((s) => s.map((tok, i) => (i === t ? (tok + 3) % 7 : tok)));
      const after = logitsOf(model, changed);
      for (let b = 0; b < 2; b++) {
        if (causal) assert.deepEqual(after[b].slice(0, t), before[b].slice(0, t), `sequence ${b}, token ${t} changed`);
        else assert.notDeepEqual(after[b][0], before[b][0], `bidirectional position 0 should see token ${t}`);
        assert.notDeepEqual(after[b].slice(t), before[b].slice(t));
      }
    }
    model.dispose();
  }
});

test("padding: padded tokens change nothing at real positions (bit-identical); pooled is the mean of hidden over them", async () => {
  await tf.setBackend("cpu");
  const model = tiny(false, 3);
  const lengths = [6, 2];
  const a = [[1, 4, 6, 0, 2, 5], [3, 2, 0, 0, 0, 0]];
  const b = [[1, 4, 6, 0, 2, 5], [3, 2, 6, 5, 4, 1]];
  const [la, lb] = [a, b].map((s) => logitsOf(model, s, lengths));
  assert.deepEqual(lb[1].slice(0, 2), la[1].slice(0, 2));
  assert.deepEqual(lb[0], la[0]);
  // Without the padding mask the same change does reach the real positions.
  assert.notDeepEqual(logitsOf(model, b)[1].slice(0, 2), logitsOf(model, a)[1].slice(0, 2));

  const t = tf.tensor2d(b, undefined, "int32");
  const { hidden, logits } = model.apply(t, { padding: lengths });
  const h = hidden.arraySync() as number[][][];
  const want = h.map((seq, s) => seq[0].map((_, c) => seq.slice(0, lengths[s]).reduce((acc, r) => acc + r[c], 0) / lengths[s]));
  const pooled = model.pooled(t, lengths);
  assert.deepEqual(pooled.shape, [2, 8]);
  assert.ok(maxError(pooled, want) < 1e-6);
  const all = model.pooled(t);
  const full = (tf.tidy(() => model.apply(t).hidden).arraySync() as number[][][]).map((seq) => seq[0].map((_, c) => seq.reduce((acc, r) => acc + r[c], 0) / 6));
  assert.ok(maxError(all, full) < 1e-6);
  tf.dispose([t, hidden, logits, pooled, all]);
  model.dispose();
});

test("transformer pieces leave no tensors behind beyond their results", async () => {
  await tf.setBackend("cpu");
  const start = tf.memory().numTensors;
  const model = tiny(true, 4);
  const variables = tf.memory().numTensors;
  assert.equal(variables - start, model.trainable.length);
  const t = tf.tensor2d([[1, 2, 3], [4, 5, 6]], undefined, "int32");
  const x = tf.zeros([2, 3, 8]) as tf.Tensor3D;
  const before = tf.memory().numTensors;
  const out = model.apply(t, { padding: [3, 1] });
  assert.equal(tf.memory().numTensors, before + 2);
  tf.dispose([out.hidden, out.logits]);
  const calls: Array<() => tf.Tensor> = [
    () => model.pooled(t, [2, 3]),
    () => model.blocks[0].apply(x),
    () => model.finalNorm.apply(x),
    () => gelu(x),
  ];
  for (const call of calls) {
    const y = call();
    assert.equal(tf.memory().numTensors, before + 1);
    y.dispose();
  }
  tf.dispose([t, x]);
  model.dispose();
  createTransformerBlock({ dim: 4, heads: 1 }).dispose();
  createLayerNorm({ dim: 3 }).dispose();
  assert.equal(tf.memory().numTensors, start);
});

test("transformer pieces reject bad input with messages naming the argument, allocating nothing", async () => {
  await tf.setBackend("cpu");
  const ok = { vocabSize: 7, maxLength: 4, dim: 8, heads: 2, layers: 1, causal: true };
  const model = createTransformer(ok);
  const ln = createLayerNorm({ dim: 4 });
  const ids = (rows: number[][]) => tf.tensor2d(rows, undefined, "int32");
  const [t22, t15, bad7, badNeg, t19] = [[[1, 2], [3, 4]], [[1, 2, 3, 4, 5]], [[1, 2], [3, 7]], [[1, 2], [3, -1]], [[1, 9]]].map(ids);
  const [f23, f28, f138, i2, m44] = [tf.zeros([2, 3]), tf.zeros([2, 8]), tf.zeros([1, 3, 8]), tf.zeros([2], "int32"), tf.zeros([4, 4])];
  const start = tf.memory().numTensors;
  const cases: Array<[() => unknown, RegExp]> = [
    [() => createTransformer({ ...ok, heads: 3 }), /createTransformer: options\.heads must divide options\.dim = 8, got 3/],
    [() => createTransformer({ ...ok, vocabSize: 0 }), /createTransformer: options\.vocabSize must be a positive integer, got 0/],
    [() => createTransformer({ ...ok, layers: -1 }), /createTransformer: options\.layers must be a non-negative integer, got -1/],
    [() => createTransformer({ ...ok, causal: undefined as never }), /createTransformer: options\.causal must be true or false, got undefined/],
    [() => createTransformer({ ...ok, mlpRatio: 1.1 }), /createTransformer: options\.mlpRatio \* options\.dim must be an integer, got 1\.1 \* 8 = 8\.8/],
    [() => createTransformer(null as never), /createTransformer: options must be an object \{vocabSize, maxLength, dim, heads, layers, causal, mlpRatio\?, seed\?, dropout\?\}, got null/],
    [() => createTransformerBlock({ dim: 4, heads: 1, mlpRatio: 0 }), /createTransformerBlock: options\.mlpRatio must be a finite number > 0, got 0/],
    [() => createLayerNorm({ dim: 4, epsilon: 0 }), /createLayerNorm: options\.epsilon must be a finite number > 0, got 0/],
    [() => ln.apply(f23), /LayerNorm\.apply: x must be a float32 tensor of shape \[\.\.\.,4\] \(rank >= 2\), got a tensor of shape \[2,3\]/],
    [() => gelu(i2), /gelu: x must be a float32 tensor, got an int32 tensor of shape \[2\]/],
    [() => model.blocks[0].apply(f28 as tf.Tensor3D), /TransformerBlock\.apply: x must be a float32 tensor of shape \[batch,time,8\], got a tensor of shape \[2,8\]/],
    [() => model.blocks[0].apply(f138 as tf.Tensor3D, { mask: m44 }), /MultiHeadAttention\.apply: options\.mask must be a float32 tensor of shape \[3,3\]/],
    [() => model.apply(f23 as tf.Tensor2D), /Transformer\.apply: tokens must be an int32 tensor of rank 2, got a float32 tensor of shape \[2,3\]/],
    [() => model.apply(t15), /Transformer\.apply: tokens must be an int32 tensor of shape \[batch,time\] with batch >= 1 and 1 <= time <= 4, got a tensor of shape \[1,5\]/],
    [() => model.apply(bad7), /Transformer\.apply: tokens must hold ids in \[0, 7\), got 7 at \[1,1\]/],
    [() => model.apply(badNeg), /Transformer\.apply: tokens must hold ids in \[0, 7\), got -1 at \[1,1\]/],
    [() => model.apply(t22, { padding: [2] }), /Transformer\.apply: options\.padding must be an array of 2 lengths in \[1, 2\], got \[2\]/],
    [() => model.apply(t22, { padding: [2, 3] }), /Transformer\.apply: options\.padding\[1\] must be an integer in \[1, 2\], got 3/],
    [() => model.pooled(t22, [0, 1]), /Transformer\.pooled: lengths\[0\] must be an integer in \[1, 2\], got 0/],
    [() => model.pooled(t19), /Transformer\.pooled: tokens must hold ids in \[0, 7\), got 9 at \[0,1\]/],
  ];
  for (const [fn, message] of cases) {
    assert.throws(fn, message);
    assert.equal(tf.memory().numTensors, start, `${message} left tensors behind`);
  }
  tf.dispose([t22, t15, bad7, badNeg, t19, f23, f28, f138, i2, m44]);
  model.dispose();
  ln.dispose();
});

/** A period-8 sequence over 4 tokens where every token is followed by two different ones, so the next
 * token depends on the previous two: a model must attend back one position to predict it. */
const PATTERN = [0, 1, 2, 3, 1, 0, 3, 2];
const windowAt = (offset: number, time: number) => Array.from({ length: time }, (_, t) => PATTERN[(offset + t) % PATTERN.length]);

/** Cross-entropy of logits[:, t] against tokens[:, t + 1] and its accuracy, positions 1..time-2 for accuracy (position 0 is ambiguous). */
function nextTokenLoss(model: Transformer, tokens: tf.Tensor2D) {
  const [batch, time] = tokens.shape;
  const logits = tf.slice(model.apply(tokens).logits, [0, 0, 0], [batch, time - 1, model.vocabSize]);
  const targets = tf.reshape(tf.slice(tokens, [0, 1], [batch, time - 1]), [-1]);
  const flat = tf.reshape(logits, [-1, model.vocabSize]);
  const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(targets, model.vocabSize), flat);
  const hit = tf.reshape(tf.cast(tf.equal(tf.argMax(flat, 1), targets), "float32"), [batch, time - 1]);
  const accuracy = tf.mean(tf.slice(hit, [0, 1], [batch, time - 2]));
  return { loss, metrics: { accuracy } };
}

test("a tiny causal transformer learns a repeating sequence through training.train with Adam, without tensor growth", async () => {
  await tf.setBackend("cpu");
  // One block suffices (attend to the previous position) and keeps a step near 15 ms on cpu;
  // in trials over seeds 5..9 the accuracy passed 0.99 within 30-50 steps.
  const [time, batch, steps] = [8, 16, 150];
  const start = tf.memory().numTensors;
  const model = createTransformer({ vocabSize: 4, maxLength: time, dim: 16, heads: 2, layers: 1, mlpRatio: 2, causal: true, seed: 5 });
  const optimizer = adam(1e-2);
  const counts: number[] = [];
  const history = await train({
    trainable: model.trainable,
    optimizer,
    steps,
    seed: 6,
    progress: false,
    batches: function* (_epoch, rng) {
      for (;;) yield tf.tensor2d(Array.from({ length: batch }, () => windowAt(rng.int(PATTERN.length), time)), undefined, "int32");
    },
    loss: (tokens: tf.Tensor2D) => nextTokenLoss(model, tokens),
    callbacks: { onStep: () => void counts.push(tf.memory().numTensors) },
  });
  assert.equal(counts.length, steps);
  assert.deepEqual(counts.slice(1), Array(steps - 1).fill(counts[1]), "live tensors after each step");
  // Every window of the pattern, predicted after training.
  const all = tf.tensor2d(PATTERN.map((_, o) => windowAt(o, time)), undefined, "int32");
  const { loss, metrics } = tf.tidy(() => nextTokenLoss(model, all));
  const accuracy = metrics.accuracy.dataSync()[0];
  assert.ok(history.loss[0] > 1.2, `first loss ${history.loss[0]} (log 4 = 1.39)`);
  assert.ok(accuracy > 0.95, `next-token accuracy ${accuracy}, loss ${loss.dataSync()[0]}`);
  assert.ok(loss.dataSync()[0] < 0.35, `final loss ${loss.dataSync()[0]}; position 0 alone is a coin flip, ln 2 / 7 = 0.1`);
  tf.dispose([all, loss, metrics.accuracy]);
  optimizer.dispose();
  model.dispose();
  assert.equal(tf.memory().numTensors, start);
});

test("a transformer on wasm matches cpu in logits and gradients", async () => {
  await tf.setBackend("cpu");
  const model = tiny(true, 7);
  const tokens = [[1, 4, 6, 0, 2, 5], [3, 3, 5, 1, 0, 6]];
  const run = () => {
    const t = tf.tensor2d(tokens, undefined, "int32");
    const { value, grads } = tf.variableGrads(() => {
      const { hidden, logits } = model.apply(t, { padding: [6, 4] });
      return tf.add(tf.mean(tf.square(logits)), tf.mean(hidden)) as tf.Scalar;
    }, model.trainable);
    const { hidden, logits } = model.apply(t, { padding: [6, 4] });
    const out = {
      logits: Array.from(logits.dataSync()),
      grads: model.trainable.map((v) => Array.from(grads[v.name].dataSync())),
    };
    tf.dispose([t, value, hidden, logits, ...Object.values(grads)]);
    return out;
  };
  const cpu = run();
  const wasm = await onWasm(run);
  // float32 on both, different summation orders (XNNPACK, SIMD): agreement to ~1e-6 of the scale is expected.
  const close = (a: number[], b: number[], what: string) => {
    const scale = Math.max(1e-3, ...b.map(Math.abs));
    const err = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    assert.ok(err <= 1e-4 * scale, `${what}: wasm differs from cpu by ${err} (scale ${scale})`);
  };
  close(wasm.logits, cpu.logits, "logits");
  wasm.grads.forEach((g, i) => close(g, cpu.grads[i], `gradient ${i}`));
  model.dispose();
});

/** The masks `TransformerBlock.apply` draws from `{ rate, seed }`: three seeds forked from `seed`, in site order. */
function blockMasks(rate: number, seed: number, batch: number, heads: number, time: number, dim: number): BlockDropMasks {
  const seeds = createRng(seed);
  const read = (shape: number[]) => {
    const m = dropoutMask(shape, { rate, seed: seeds.fork() });
    const v = m.dataSync() as Float32Array;
    m.dispose();
    return v;
  };
  return { probs: read([batch, heads, time, time]), attn: read([batch, time, dim]), mlp: read([batch, time, dim]) };
}

test("dropoutMask and seededDropout: 0 or 1/(1-rate) at the rate asked, a function of the seed alone, no leak", async () => {
  await tf.setBackend("cpu");
  const before = tf.memory().numTensors;
  const m = dropoutMask([200, 500], { rate: 0.3, seed: 4 });
  const v = m.dataSync() as Float32Array;
  const dropped = v.filter((x) => x === 0).length / v.length;
  // 100,000 Bernoulli(0.3) draws: the standard error is 0.0015, so 0.01 is over six of them.
  assert.ok(Math.abs(dropped - 0.3) < 0.01, `dropped fraction ${dropped}`);
  assert.ok(v.every((x) => x === 0 || Math.abs(x - 1 / 0.7) < 1e-6));
  const mean = v.reduce((a, x) => a + x, 0) / v.length;
  assert.ok(Math.abs(mean - 1) < 0.02, `inverted dropout keeps the mean: ${mean}`);
  const again = dropoutMask([200, 500], { rate: 0.3, seed: 4 });
  const other = dropoutMask([200, 500], { rate: 0.3, seed: 5 });
  assert.deepEqual(again.dataSync(), v);
  assert.notDeepEqual(other.dataSync(), v);
  const x = tf.randomNormal([3, 4], 0, 1, "float32", 1);
  const y = seededDropout(x, { rate: 0.5, seed: 2 });
  const mask = dropoutMask([3, 4], { rate: 0.5, seed: 2 });
  const product = tf.mul(x, mask);
  assert.deepEqual(y.dataSync(), product.dataSync());
  const same = seededDropout(x, { rate: 0, seed: 2 });
  assert.deepEqual(same.dataSync(), x.dataSync());
  // Gradient of sum(dropout(x)) is the mask itself.
  const g = tf.grad((xi: tf.Tensor) => tf.sum(seededDropout(xi, { rate: 0.5, seed: 2 })))(x);
  assert.deepEqual(g.dataSync(), mask.dataSync());
  tf.dispose([m, again, other, x, y, mask, product, same, g]);
  // The rate statistics do not depend on the backend: the same seed gives the same mask on wasm.
  const onWasmMask = await onWasm(() => {
    const w = dropoutMask([50, 20], { rate: 0.3, seed: 9 });
    const out = Array.from(w.dataSync());
    w.dispose();
    return out;
  });
  const onCpu = dropoutMask([50, 20], { rate: 0.3, seed: 9 });
  assert.deepEqual(Array.from(onCpu.dataSync()), onWasmMask);
  onCpu.dispose();
  assert.equal(tf.memory().numTensors, before);
  for (const [call, message] of [
    [() => dropoutMask([2, 2], { rate: 1, seed: 1 }), /dropoutMask: dropout.rate must be a number in \[0, 1\), got 1/],
    [() => dropoutMask([2, 0], { rate: 0.1, seed: 1 }), /dropoutMask: shape must be an array of positive integers, got \[2,0\]/],
    [() => seededDropout(tf.scalar(1), { rate: 0.1, seed: 0.5 }), /seededDropout: dropout.seed must be an integer, got 0.5/],
  ] as const) assert.throws(call, message);
});

test("a block with dropout matches float64 with the same masks; its x-gradient matches finite differences", async () => {
  await tf.setBackend("cpu");
  const [batch, time, heads, rate, seed] = [2, 4, 2, 0.4, 11];
  const block = createTransformerBlock({ dim: 6, heads, mlpRatio: 2, seed: 3 });
  scramble([...block.norm1.trainable, ...block.norm2.trainable], 5, 0.3);
  const { xs, r, lossOf } = blockSetup(block, batch, time);
  const maskAt: MaskAt = () => 0;
  const drop = blockMasks(rate, seed, batch, heads, time, block.dim);
  assert.ok([drop.probs, drop.attn, drop.mlp].every((m) => m.some((v) => v === 0)), "every site drops something");
  const params = paramsOf(block.trainable);
  const x = tf.tensor3d(xs);
  const y = block.apply(x, { dropout: { rate, seed } });
  assert.ok(maxError(y, refBlock(params, heads, xs, maskAt, drop)) < 1e-5);
  const again = block.apply(x, { dropout: { rate, seed } });
  assert.deepEqual(again.dataSync(), y.dataSync());
  const other = block.apply(x, { dropout: { rate, seed: seed + 1 } });
  assert.ok(maxError(other, y.arraySync()) > 1e-3, "another seed drops other units");
  const clean = block.apply(x);
  const zeroRate = block.apply(x, { dropout: { rate: 0, seed } });
  assert.deepEqual(zeroRate.dataSync(), clean.dataSync());

  const rT = tf.tensor3d(r, [batch, time, block.dim]);
  const dx = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(block.apply(xi as tf.Tensor3D, { dropout: { rate, seed } }), rT)))(x);
  const got = dx.dataSync();
  const flat = Float64Array.from(xs.flat(2) as number[]);
  const at = () => xs.map((s, b) => s.map((row, t) => row.map((_, c) => flat[(b * time + t) * block.dim + c])));
  const h = 1e-5;
  let maxErr = 0;
  let scale = 0;
  for (let i = 0; i < flat.length; i++) {
    const keep = flat[i];
    flat[i] = keep + h;
    const plus = lossOf(refBlock(params, heads, at(), maskAt, drop));
    flat[i] = keep - h;
    const minus = lossOf(refBlock(params, heads, at(), maskAt, drop));
    flat[i] = keep;
    const numeric = (plus - minus) / (2 * h);
    maxErr = Math.max(maxErr, Math.abs(numeric - got[i]));
    scale = Math.max(scale, Math.abs(numeric));
  }
  assert.ok(scale > 0.1, `the reference gradient should not vanish (${scale})`);
  assert.ok(maxErr <= 1e-4 * Math.max(1, scale), `max gradient error ${maxErr} (scale ${scale})`);
  tf.dispose([x, y, again, other, clean, zeroRate, rT, dx]);
  block.dispose();
});

test("transformer dropout: off without a seed (bit-identical to a model without it), same seed same output, other seeds differ, no leak", async () => {
  await tf.setBackend("cpu");
  const options = { vocabSize: 7, maxLength: 6, dim: 8, heads: 2, layers: 2, mlpRatio: 2, causal: false, seed: 5 };
  const plain = createTransformer(options);
  const dropping = createTransformer({ ...options, dropout: 0.3 });
  const rateZero = createTransformer({ ...options, dropout: 0 });
  assert.equal(plain.dropout, 0);
  assert.equal(dropping.dropout, 0.3);
  const t = tf.tensor2d([[1, 4, 6, 0, 2], [3, 3, 5, 1, 0]], undefined, "int32");
  const lengths = [5, 3];
  const read = (y: tf.Tensor) => { const v = Array.from(y.dataSync()); y.dispose(); return v; };
  const inference = read(plain.pooled(t, lengths));
  assert.deepEqual(read(dropping.pooled(t, lengths)), inference, "no seed: no dropout");
  assert.deepEqual(read(rateZero.pooled(t, lengths, { dropout: { seed: 3 } })), inference, "rate 0: no dropout");
  const before = tf.memory().numTensors;
  const a = read(dropping.pooled(t, lengths, { dropout: { seed: 3 } }));
  assert.equal(tf.memory().numTensors, before);
  const b = read(dropping.pooled(t, lengths, { dropout: { seed: 3 } }));
  const c = read(dropping.pooled(t, lengths, { dropout: { seed: 4 } }));
  assert.deepEqual(a, b, "same seed, same masks");
  assert.notDeepEqual(a, c, "another seed, other masks");
  assert.notDeepEqual(a, inference);
  const out = dropping.apply(t, { padding: lengths, dropout: { seed: 3 } });
  assert.equal(tf.memory().numTensors, before + 2);
  // apply and pooled draw the same masks from one seed: pooled is the mean of apply's hidden.
  const h = out.hidden.arraySync() as number[][][];
  const want = h.map((seq, s) => seq[0].map((_, k) => seq.slice(0, lengths[s]).reduce((acc, row) => acc + row[k], 0) / lengths[s]));
  assert.ok(want.flat().every((v, i) => Math.abs(v - a[i]) < 1e-6));
  // Gradients reach every variable through a dropout pass, and are finite.
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(dropping.pooled(t, lengths, { dropout: { seed: 3 } }))) as tf.Scalar, dropping.trainable.filter((v) => v !== dropping.outputBias));
  assert.ok(Object.values(grads).every((g) => g.dataSync().every(Number.isFinite)));
  assert.ok(Object.values(grads).some((g) => g.dataSync().some((v) => v !== 0)));
  tf.dispose([out.hidden, out.logits, value, ...Object.values(grads)]);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => createTransformer({ ...options, dropout: 1 }), /createTransformer: options.dropout must be a number in \[0, 1\), got 1/);
  assert.throws(() => dropping.pooled(t, lengths, { dropout: { seed: 1.5 } }), /Transformer.pooled: options.dropout.seed must be an integer, got 1.5/);
  assert.throws(() => dropping.apply(t, { dropout: 3 as never }), /Transformer.apply: options.dropout must be an object \{seed\}, got 3/);
  assert.equal(tf.memory().numTensors, before);
  t.dispose();
  [plain, dropping, rateZero].forEach((m) => m.dispose());
});

test("cutoffMask: token rows, feature columns, one span, only on real positions, at the rate asked, a function of the seed", () => {
  const [batch, time, dim] = [60, 12, 16];
  const rng = createRng(9);
  const lengths = Int32Array.from({ length: batch }, () => 3 + rng.int(time - 2));
  const at = (m: Float32Array, b: number, t: number, k: number) => m[(b * time + t) * dim + k];
  const real = lengths.reduce((s, n) => s + n, 0);
  // token: a position is cut in all its dimensions or none; padding is never cut; the cut share near the rate.
  const token = cutoffMask(batch, time, dim, lengths, { kind: "token", rate: 0.3, seed: 1 });
  let cutTokens = 0;
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < time; t++) {
      const row = Array.from({ length: dim }, (_, k) => at(token, b, t, k));
      assert.ok(row.every((v) => v === row[0]) && (row[0] === 0 || row[0] === 1));
      if (t >= lengths[b]) assert.equal(row[0], 1, "padding is not cut");
      if (row[0] === 0) cutTokens++;
    }
  }
  assert.ok(Math.abs(cutTokens / real - 0.3) < 0.06, `token cut share ${cutTokens / real} of ${real}`);
  // feature: a dimension is cut at every real position of a sequence or at none.
  const feature = cutoffMask(batch, time, dim, lengths, { kind: "feature", rate: 0.25, seed: 2 });
  let cutDims = 0;
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < dim; k++) {
      const column = Array.from({ length: lengths[b] }, (_, t) => at(feature, b, t, k));
      assert.ok(column.every((v) => v === column[0]));
      for (let t = lengths[b]; t < time; t++) assert.equal(at(feature, b, t, k), 1);
      if (column[0] === 0) cutDims++;
    }
  }
  assert.ok(Math.abs(cutDims / (batch * dim) - 0.25) < 0.05, `feature cut share ${cutDims / (batch * dim)}`);
  // span: exactly max(1, round(rate * length)) contiguous real positions.
  const span = cutoffMask(batch, time, dim, lengths, { kind: "span", rate: 0.3, seed: 3 });
  const starts = new Set<number>();
  for (let b = 0; b < batch; b++) {
    const cut = Array.from({ length: time }, (_, t) => at(span, b, t, 0) === 0);
    const positions = cut.flatMap((c, t) => (c ? [t] : []));
    assert.equal(positions.length, Math.max(1, Math.round(0.3 * lengths[b])));
    assert.equal(positions[positions.length - 1] - positions[0], positions.length - 1, "contiguous");
    assert.ok(positions[positions.length - 1] < lengths[b]);
    starts.add(positions[0]);
  }
  assert.ok(starts.size > 3, "the span moves");
  assert.deepEqual(cutoffMask(batch, time, dim, lengths, { kind: "span", rate: 0.3, seed: 3 }), span, "same seed, same mask");
  assert.notDeepEqual(cutoffMask(batch, time, dim, lengths, { kind: "span", rate: 0.3, seed: 4 }), span);
  for (const kind of CUTOFF_KINDS) assert.ok(cutoffMask(2, 3, 4, undefined, { kind, rate: 0, seed: 1 }).every((v) => v === 1), `${kind} at rate 0`);
  assert.throws(() => cutoffMask(2, 3, 4, undefined, { kind: "word" as never, rate: 0.1, seed: 1 }), /cutoffMask: cutoff.kind must be one of "token", "feature", "span", got "word"/);
  assert.throws(() => cutoffMask(2, 3, 4, undefined, { kind: "token", rate: 1, seed: 1 }), /cutoffMask: cutoff.rate must be a number in \[0, 1\), got 1/);
  assert.throws(() => cutoffMask(2, 3, 4, [1, 4], { kind: "token", rate: 0.1, seed: 1 }), /cutoffMask: lengths\[1\] must be an integer in \[1, 3\], got 4/);
});

test("transformer cutoff: hidden matches float64 with the mask on E[tokens]; no cutoff or rate 0 is bit-identical; same seed same output; no leak", async () => {
  await tf.setBackend("cpu");
  const options = { vocabSize: 7, maxLength: 6, dim: 8, heads: 2, layers: 0, mlpRatio: 2, causal: false, seed: 6 };
  const model = createTransformer(options);
  const ids = [[1, 4, 6, 0, 2], [3, 3, 5, 1, 0]];
  const lengths = [5, 3];
  const t = tf.tensor2d(ids, undefined, "int32");
  const read = (y: tf.Tensor) => { const v = Array.from(y.dataSync()); y.dispose(); return v; };
  // With no blocks, hidden = LN(E[tokens] * mask + P[t]) (gain 1, bias 0): a float64 reference per position.
  const E = model.tokenEmbedding.arraySync() as number[][];
  const P = model.positionEmbedding.arraySync() as number[][];
  for (const kind of CUTOFF_KINDS) {
    const cutoff = { kind, rate: 0.4, seed: 11 };
    const mask = cutoffMask(2, 5, 8, lengths, cutoff);
    const got = model.apply(t, { padding: lengths, cutoff });
    const hidden = read(got.hidden);
    got.logits.dispose();
    for (let b = 0; b < 2; b++) {
      for (let p = 0; p < 5; p++) {
        const x = E[ids[b][p]].map((e, k) => e * mask[(b * 5 + p) * 8 + k] + P[p][k]);
        const mean = x.reduce((s, v) => s + v, 0) / 8;
        const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / 8;
        x.forEach((v, k) => {
          const want = (v - mean) / Math.sqrt(variance + 1e-5);
          assert.ok(Math.abs(hidden[(b * 5 + p) * 8 + k] - want) < 1e-4, `${kind} [${b},${p},${k}]: ${hidden[(b * 5 + p) * 8 + k]} vs ${want}`);
        });
      }
    }
  }
  model.dispose();
  const deep = createTransformer({ ...options, layers: 2, dropout: 0.2 });
  const plain = read(deep.pooled(t, lengths));
  assert.deepEqual(read(deep.pooled(t, lengths, { cutoff: { kind: "token", rate: 0, seed: 2 } })), plain, "rate 0: unchanged");
  const before = tf.memory().numTensors;
  const cut = { kind: "span" as const, rate: 0.3, seed: 2 };
  const a = read(deep.pooled(t, lengths, { cutoff: cut }));
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(read(deep.pooled(t, lengths, { cutoff: cut })), a, "same seed, same output");
  // Another seed whose span lands elsewhere (with 5 and 3 words, some seeds pick the same spans): another output.
  let other = 3;
  while (cutoffMask(2, 5, 8, lengths, { ...cut, seed: other }).every((v, i) => v === cutoffMask(2, 5, 8, lengths, cut)[i])) other++;
  assert.notDeepEqual(read(deep.pooled(t, lengths, { cutoff: { ...cut, seed: other } })), a);
  assert.notDeepEqual(a, plain);
  // Cutoff and dropout together: gradients reach the weights, finite, and nothing is left behind.
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(deep.pooled(t, lengths, { dropout: { seed: 1 }, cutoff: { kind: "feature", rate: 0.3, seed: 4 } }))) as tf.Scalar, deep.trainable.filter((v) => v !== deep.outputBias));
  assert.ok(Object.values(grads).every((g) => g.dataSync().every(Number.isFinite)));
  tf.dispose([value, ...Object.values(grads)]);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => deep.pooled(t, lengths, { cutoff: { kind: "span", rate: -0.1, seed: 1 } }), /Transformer.pooled: options.cutoff.rate must be a number in \[0, 1\), got -0.1/);
  assert.throws(() => deep.apply(t, { cutoff: { kind: "token", rate: 0.1 } as never }), /Transformer.apply: options.cutoff.seed must be an integer, got undefined/);
  assert.equal(tf.memory().numTensors, before);
  t.dispose();
  deep.dispose();
});
