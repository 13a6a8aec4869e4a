import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { registerTrainingKernels } from "../../src/backend/kernels";
import { createRng } from "../../src/data/random";
import { createVectorQuantizer, VectorQuantizer } from "../../src/models/vector_quantizer";
import { assertSteadyTensors, onWasm, trainCounting } from "../methods/vision/helpers";

// The kernels the notebooks run with (setupBackend registers them).
registerTrainingKernels();

const normals = (count: number, seed: number, scale = 1): number[] => {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => scale * rng.normal());
};

/** Row `i` of a row-major `[*, d]` array. */
const row = (flat: ArrayLike<number>, i: number, d: number): number[] => Array.from({ length: d }, (_, j) => flat[i * d + j]);

const squaredDistance = (a: number[], b: number[]): number => a.reduce((s, v, j) => s + (v - b[j]) ** 2, 0);

/** For every vector of `z`, the float64 squared distances to every code. */
function referenceDistances(z: ArrayLike<number>, codebook: ArrayLike<number>, k: number, d: number): number[][] {
  return Array.from({ length: z.length / d }, (_, i) => Array.from({ length: k }, (_, c) => squaredDistance(row(z, i, d), row(codebook, c, d))));
}

/** mean over all n * d entries of (z - codebook[codes])^2, in float64. */
function meanSquaredError(z: ArrayLike<number>, codebook: ArrayLike<number>, codes: ArrayLike<number>, d: number): number {
  let s = 0;
  for (let i = 0; i < codes.length; i++) s += squaredDistance(row(z, i, d), row(codebook, codes[i], d));
  return s / z.length;
}

/** exp(entropy) of the histogram of `codes` over `k` codes, in float64. */
function referencePerplexity(codes: ArrayLike<number>, k: number): number {
  const counts = new Array(k).fill(0);
  for (let i = 0; i < codes.length; i++) counts[codes[i]]++;
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / codes.length) * Math.log(c / codes.length);
  return Math.exp(h);
}

/** Central differences of a float64 function of a flat array, entry by entry. */
function numericGradient(f: (x: number[]) => number, x: number[], h = 1e-6): number[] {
  return x.map((_, i) => {
    const plus = x.slice();
    const minus = x.slice();
    plus[i] += h;
    minus[i] -= h;
    return (f(plus) - f(minus)) / (2 * h);
  });
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let maxErr = 0;
  let maxRef = 0;
  for (let i = 0; i < want.length; i++) {
    maxErr = Math.max(maxErr, Math.abs(got[i] - want[i]));
    maxRef = Math.max(maxRef, Math.abs(want[i]));
  }
  assert.ok(maxErr <= tol * Math.max(1, maxRef), `${what}: max error ${maxErr} (reference scale ${maxRef})`);
}

const K = 7;
const D = 3;
const codebookValues = normals(K * D, 1);
const makeVq = (beta = 0.25): VectorQuantizer => createVectorQuantizer({ codebookSize: K, dim: D, beta, initialCodebook: codebookValues });

test("quantize picks the nearest code (float64 reference), returns it with the input's shape, and the loss value", async () => {
  await tf.setBackend("cpu");
  const vq = makeVq(0.4);
  const zValues = normals(5 * 4 * D, 2);
  const z = tf.tensor3d(zValues, [5, 4, D]);
  const before = tf.memory().numTensors;
  const { quantized, codes, loss, perplexity } = vq.quantize(z);
  assert.equal(tf.memory().numTensors, before + 4);
  assert.deepEqual(quantized.shape, [5, 4, D]);
  assert.deepEqual(codes.shape, [5, 4]);
  assert.equal(codes.dtype, "int32");
  assert.deepEqual(loss.shape, []);
  assert.deepEqual(perplexity.shape, []);
  const got = codes.dataSync();
  const distances = referenceDistances(zValues, codebookValues, K, D);
  let clear = 0;
  distances.forEach((ds, i) => {
    const best = Math.min(...ds);
    // A float32 distance may swap two codes closer than its rounding; then either is right.
    assert.ok(ds[got[i]] - best <= 1e-5 * Math.max(1, best), `vector ${i}: code ${got[i]} at ${ds[got[i]]}, nearest at ${best}`);
    if (ds.filter((v) => v - best <= 1e-3).length === 1) {
      assert.equal(got[i], ds.indexOf(best), `vector ${i}`);
      clear++;
    }
  });
  assert.ok(clear >= 15, `only ${clear} clear assignments`);
  assert.ok(new Set(got).size >= 4, `codes used: ${Array.from(got)}`);
  const chosen = Array.from(got, (c) => row(codebookValues, c, D)).flat();
  assertClose(quantized.dataSync(), chosen, 1e-6, "quantized");
  const mse = meanSquaredError(zValues, codebookValues, got, D);
  assertClose(loss.dataSync(), [1.4 * mse], 1e-5, "loss");
  const looked = vq.lookup(codes);
  assert.deepEqual(looked.shape, [5, 4, D]);
  assertClose(looked.dataSync(), chosen, 1e-7, "lookup");
  tf.dispose([z, quantized, codes, loss, perplexity, looked]);
  assert.equal(tf.memory().numTensors, before - 1);
  vq.dispose();
});

test("straight-through: the gradient w.r.t. z of a downstream loss is its gradient at the quantized value", async () => {
  await tf.setBackend("cpu");
  const vq = makeVq();
  const n = 6;
  const zValues = normals(n * D, 3);
  const weights = normals(n * D, 4);
  // Downstream loss L(q) = sum_i w_i q_i^2 + sin(q_i), evaluated on what the quantizer returns.
  const downstream = (q: number[]): number => q.reduce((s, v, i) => s + weights[i] * v * v + Math.sin(v), 0);
  const z = tf.tensor2d(zValues, [n, D]);
  const w = tf.tensor2d(weights, [n, D]);
  const tfDownstream = (q: tf.Tensor) => tf.sum(tf.add(tf.mul(w, tf.square(q)), tf.sin(q)));
  const grad = tf.grad((zi: tf.Tensor) => tfDownstream(vq.quantize(zi).quantized))(z);
  const { quantized, codes, loss, perplexity } = vq.quantize(z);
  const e = Array.from(quantized.dataSync());
  // The surrogate z' -> z' + (e - z) with the offset held fixed: finite differences at z' = z.
  const offset = e.map((v, i) => v - zValues[i]);
  const want = numericGradient((zp) => downstream(zp.map((v, i) => v + offset[i])), zValues);
  assertClose(grad.dataSync(), want, 1e-4, "d L / d z");
  // ... which is not the gradient at z itself.
  const atZ = numericGradient(downstream, zValues);
  assert.ok(want.some((v, i) => Math.abs(v - atZ[i]) > 0.1), "the test must tell e from z");
  // The same as the gradient w.r.t. the quantized tensor: the identity Jacobian.
  const dq = tf.grad(tfDownstream)(quantized);
  assertClose(grad.dataSync(), dq.dataSync(), 1e-6, "d L / d z vs d L / d quantized");
  // The decoder's gradient never reaches the codebook.
  const { value, grads } = tf.variableGrads(() => tfDownstream(vq.quantize(z).quantized) as tf.Scalar, [vq.codebook]);
  assert.ok(grads[vq.codebook.name].dataSync().every((v) => v === 0));
  tf.dispose([z, w, grad, quantized, codes, loss, perplexity, dq, value, grads[vq.codebook.name]]);
  vq.dispose();
});

test("the codebook gets the gradient of the codebook term only, z that of the commitment term times beta", async () => {
  await tf.setBackend("cpu");
  const beta = 0.4;
  const vq = makeVq(beta);
  const n = 8;
  const zValues = normals(n * D, 5);
  const z = tf.tensor2d(zValues, [n, D]);
  const codesTensor = vq.quantize(z).codes;
  const codes = Array.from(codesTensor.dataSync());
  // Both terms in float64 with the assignment held fixed (a small step does not change it).
  const term = (zv: number[], cb: number[]) => meanSquaredError(zv, cb, codes, D);
  const wantCodebook = numericGradient((cb) => term(zValues, cb), codebookValues);
  const wantZ = numericGradient((zv) => beta * term(zv, codebookValues), zValues);
  const { value, grads } = tf.variableGrads(() => vq.quantize(z).loss, [vq.codebook]);
  const gz = tf.grad((zi: tf.Tensor) => vq.quantize(zi).loss)(z);
  assertClose(grads[vq.codebook.name].dataSync(), wantCodebook, 1e-4, "d loss / d codebook");
  assertClose(gz.dataSync(), wantZ, 1e-4, "d loss / d z");
  // Codes no vector chose get no gradient at all.
  const unused = [...Array(K).keys()].filter((c) => !codes.includes(c));
  assert.ok(unused.length > 0, `every code is used: ${codes}`);
  const g = grads[vq.codebook.name].dataSync();
  for (const c of unused) for (let j = 0; j < D; j++) assert.ok(g[c * D + j] === 0, `unused code ${c} has gradient ${g[c * D + j]}`);
  tf.dispose([z, codesTensor, value, gz, grads[vq.codebook.name]]);
  vq.dispose();
});

test("perplexity is exp(entropy) of the code histogram: 1 for one code, K for uniform use; usage counts codes", async () => {
  await tf.setBackend("cpu");
  const vq = makeVq();
  // Vectors placed on (near) chosen codes, so the assignment is known.
  const at = (codes: number[]) => tf.tensor2d(codes.map((c) => row(codebookValues, c, D).map((v) => v + 1e-3)), [codes.length, D]);
  const cases: Array<[number[], number]> = [
    [[2, 2, 2, 2, 2], 1],
    [[0, 1, 2, 3, 4, 5, 6], K],
    [[6, 5, 4, 3, 2, 1, 0, 0, 1, 2, 3, 4, 5, 6], K],
    [[1, 1, 1, 4, 4, 6, 0, 1], referencePerplexity([1, 1, 1, 4, 4, 6, 0, 1], K)],
  ];
  for (const [codes, want] of cases) {
    const z = at(codes);
    const q = vq.quantize(z);
    assert.deepEqual(Array.from(q.codes.dataSync()), codes);
    assertClose(q.perplexity.dataSync(), [want], 1e-5, `perplexity of ${codes}`);
    const before = tf.memory().numTensors;
    const counts = vq.usage(q.codes);
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(Array.from(counts), Array.from({ length: K }, (_, c) => codes.filter((x) => x === c).length));
    tf.dispose([z, q.quantized, q.codes, q.loss, q.perplexity]);
  }
  assert.ok(Math.abs(cases[3][1] - Math.exp(-((4 / 8) * Math.log(4 / 8) + (2 / 8) * Math.log(2 / 8) + 2 * (1 / 8) * Math.log(1 / 8)))) < 1e-12);
  vq.dispose();
});

test("bad input is rejected with named errors; create and dispose leave no tensors", async () => {
  await tf.setBackend("cpu");
  const start = tf.memory().numTensors;
  createVectorQuantizer({ codebookSize: 4, dim: 2 }).dispose();
  assert.equal(tf.memory().numTensors, start);
  const cases: Array<[() => unknown, RegExp]> = [
    [() => createVectorQuantizer(undefined as never), /createVectorQuantizer: options must be an object \{codebookSize, dim, beta\?, seed\?, initialCodebook\?\}, got undefined/],
    [() => createVectorQuantizer({ codebookSize: 0, dim: 2 }), /createVectorQuantizer: options\.codebookSize must be a positive integer, got 0/],
    [() => createVectorQuantizer({ codebookSize: 4, dim: 2.5 }), /createVectorQuantizer: options\.dim must be a positive integer, got 2.5/],
    [() => createVectorQuantizer({ codebookSize: 4, dim: 2, beta: -1 }), /createVectorQuantizer: options\.beta must be a finite number >= 0, got -1/],
    [() => createVectorQuantizer({ codebookSize: 4, dim: 2, seed: 0.5 }), /createVectorQuantizer: options\.seed must be an integer, got 0.5/],
    [() => createVectorQuantizer({ codebookSize: 2, dim: 2, initialCodebook: [1, 2, 3] }), /createVectorQuantizer: options\.initialCodebook must have length 2 \* 2 = 4, got \[1,2,3\]/],
    [() => createVectorQuantizer({ codebookSize: 1, dim: 2, initialCodebook: [1, NaN] }), /createVectorQuantizer: options\.initialCodebook must be finite, got NaN at 1/],
  ];
  for (const [fn, message] of cases) assert.throws(fn, message);
  assert.equal(tf.memory().numTensors, start);
  const vq = makeVq();
  const wrongDim = tf.zeros([4, D + 1]);
  const ints = tf.zeros([4, D], "int32");
  const empty = tf.zeros([0, D]);
  const badCodes = tf.tensor1d([0, K, 1], "int32");
  const floatCodes = tf.tensor1d([0, 1]);
  const calls: Array<[() => unknown, RegExp]> = [
    [() => vq.quantize(wrongDim), /VectorQuantizer\.quantize: z must be a float32 tensor of shape \[\.\.\.,3\] with at least one vector, got a tensor of shape \[4,4\]/],
    [() => vq.quantize(ints), /VectorQuantizer\.quantize: z must be a float32 tensor, got an int32 tensor of shape \[4,3\]/],
    [() => vq.quantize(empty), /VectorQuantizer\.quantize: z must be a float32 tensor of shape \[\.\.\.,3\] with at least one vector, got a tensor of shape \[0,3\]/],
    [() => vq.quantize([1, 2, 3] as never), /VectorQuantizer\.quantize: z must be a float32 tensor, got \[1,2,3\]/],
    [() => vq.usage(badCodes), /VectorQuantizer\.usage: codes must lie in \[0, 7\), got 7 at flat index 1/],
    [() => vq.lookup(badCodes), /VectorQuantizer\.lookup: codes must lie in \[0, 7\), got 7 at flat index 1/],
    [() => vq.usage(floatCodes), /VectorQuantizer\.usage: codes must be an int32 tensor, got a float32 tensor of shape \[2\]/],
  ];
  const before = tf.memory().numTensors;
  for (const [fn, message] of calls) assert.throws(fn, message);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([wrongDim, ints, empty, badCodes, floatCodes]);
  vq.dispose();
  assert.equal(tf.memory().numTensors, start);
});

test("training the codebook on 4 separated clusters reaches near-zero error and perplexity 4, with no tensor growth", async () => {
  await tf.setBackend("cpu");
  const centres = [[3, 3], [-3, 3], [-3, -3], [3, -3]];
  const noise = normals(64 * 2, 7, 0.02);
  const points = Array.from({ length: 64 }, (_, i) => centres[i % 4].map((v, j) => v + noise[i * 2 + j])).flat();
  const z = tf.tensor2d(points, [64, 2]);
  // 16 codes near the origin: each far cluster is won by the code furthest out
  // in its direction. With 4 codes one of them always lies inside the others'
  // hull and no cluster ever picks it (a dead code): a property of VQ, not of
  // the loss, so the test gives each cluster a code to win.
  const vq = createVectorQuantizer({ codebookSize: 16, dim: 2, seed: 3 });
  const initial = vq.codebook.dataSync().slice();
  const optimizer = tf.train.adam(0.1);
  const steps = 150;
  const { history, counts } = await trainCounting({
    loss: (batch: tf.Tensor2D) => {
      const { loss, perplexity } = vq.quantize(batch);
      return { loss, metrics: { perplexity } };
    },
    optimizer,
    trainable: vq.trainable,
    batches: () => Array.from({ length: steps }, () => z),
    disposeBatches: false,
    steps,
  });
  assertSteadyTensors(counts, steps);
  optimizer.dispose();
  const q = vq.quantize(z);
  const codes = q.codes.dataSync();
  const codebook = vq.codebook.dataSync();
  const error = meanSquaredError(points, codebook, codes, 2);
  // The floor is the clusters' own variance, 0.02^2 per coordinate.
  assert.ok(error < 1e-3, `quantization error ${error} (start loss ${history.loss[0]})`);
  assert.ok(history.loss[0] > 5, `start loss ${history.loss[0]}`);
  assert.ok(Math.abs(q.perplexity.dataSync()[0] - 4) < 1e-4, `perplexity ${q.perplexity.dataSync()[0]}`);
  assert.ok(history.metrics.perplexity.every((p) => Math.abs(p - 4) < 1e-4), "each cluster keeps its code");
  const usage = Array.from(vq.usage(q.codes));
  assert.deepEqual(usage.filter((c) => c > 0), [16, 16, 16, 16]);
  // The codes no vector picked got no gradient, so Adam left them where they started.
  usage.forEach((c, code) => c === 0 && assert.deepEqual(row(codebook, code, 2), row(initial, code, 2)));
  tf.dispose([z, q.quantized, q.codes, q.loss, q.perplexity]);
  vq.dispose();
});

test("on wasm: the cpu codes, loss and gradients", async () => {
  await tf.setBackend("cpu");
  const vq = makeVq();
  const zValues = normals(12 * D, 9);
  const run = () => {
    const z = tf.tensor3d(zValues, [3, 4, D]);
    const q = vq.quantize(z);
    const { value, grads } = tf.variableGrads(() => vq.quantize(z).loss, [vq.codebook]);
    const gz = tf.grad((zi: tf.Tensor) => vq.quantize(zi).loss)(z);
    const out = {
      codes: Array.from(q.codes.dataSync()),
      loss: q.loss.dataSync()[0],
      codebookGrad: grads[vq.codebook.name].dataSync(),
      zGrad: gz.dataSync(),
    };
    tf.dispose([z, q.quantized, q.codes, q.loss, q.perplexity, value, gz, grads[vq.codebook.name]]);
    return out;
  };
  const cpu = run();
  try {
    await onWasm(() => {
      const wasm = run();
      assert.deepEqual(wasm.codes, cpu.codes);
      assertClose([wasm.loss], [cpu.loss], 1e-5, "loss");
      assertClose(wasm.codebookGrad, cpu.codebookGrad, 1e-5, "codebook gradient");
      assertClose(wasm.zGrad, cpu.zGrad, 1e-5, "z gradient");
    });
  } finally {
    vq.dispose();
  }
});
