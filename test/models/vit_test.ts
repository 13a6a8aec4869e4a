import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { registerTrainingKernels } from "../../src/backend/kernels";
import { createRng } from "../../src/data/random";
import { extractFeatures } from "../../src/evaluation/features";
import { createVit, gatherPatches } from "../../src/models/vit";

/** `[b, h, w, c]` uniform pixels drawn in JS: the same on every backend. */
function images(b: number, seed: number, shape: [number, number, number] = [28, 28, 1]): tf.Tensor4D {
  const rng = createRng(seed);
  const n = b * shape[0] * shape[1] * shape[2];
  return tf.tensor4d(Float32Array.from({ length: n }, () => rng.next()), [b, ...shape]);
}

/** max |a - b| as a number, leaving no tensor. */
function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  const m = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const value = m.dataSync()[0];
  m.dispose();
  return value;
}

const keepOf = (rows: number[][]): tf.Tensor2D => tf.tensor2d(rows, undefined, "int32");

test("createVit with no blocks: tokens are LN(patch W + b + position) of the kept patches, against float64", async () => {
  await tf.setBackend("cpu");
  // Images 4x4, patch 2: four patches of 4 pixels, row-major over the 2x2 grid.
  const vit = createVit({ imageShape: [4, 4, 1], patch: 2, dim: 4, heads: 1, layers: 0, seed: 3 });
  assert.equal(vit.numPatches, 4);
  assert.equal(vit.patchDim, 4);
  const x = images(2, 5, [4, 4, 1]);
  const keep = keepOf([[0, 3], [2, 1]]);
  const before = tf.memory().numTensors;
  const got = vit.encodeTokens(x, keep);
  assert.deepEqual(got.shape, [2, 2, 4]);
  const px = x.arraySync() as number[][][][];
  const W = vit.patchEmbedding.weight.arraySync() as number[][];
  const P = vit.positionEmbedding.arraySync() as number[][];
  const k = keep.arraySync() as number[][];
  const g = got.arraySync() as number[][][];
  for (let b = 0; b < 2; b++) {
    for (let v = 0; v < 2; v++) {
      const p = k[b][v];
      const [gr, gc] = [Math.floor(p / 2), p % 2];
      const pixels = [px[b][2 * gr][2 * gc][0], px[b][2 * gr][2 * gc + 1][0], px[b][2 * gr + 1][2 * gc][0], px[b][2 * gr + 1][2 * gc + 1][0]];
      const h = [0, 1, 2, 3].map((d) => pixels.reduce((s, pi, i) => s + pi * W[i][d], 0) + P[p][d]); // bias starts at 0
      const mean = h.reduce((s, v2) => s + v2, 0) / 4;
      const variance = h.reduce((s, v2) => s + (v2 - mean) ** 2, 0) / 4;
      h.forEach((hd, d) => assert.ok(Math.abs((hd - mean) / Math.sqrt(variance + 1e-5) - g[b][v][d]) < 1e-4, `[${b},${v},${d}]`));
    }
  }
  got.dispose();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, keep]);
  vit.dispose();
});

test("Vit.encodeTokens: the tokens of the kept patches do not depend on the pixels of the other patches", async () => {
  await tf.setBackend("cpu");
  const vit = createVit({ dim: 16, heads: 2, layers: 2, seed: 1 });
  const x = images(3, 1);
  // Row b keeps patches keep[b]; repaint every other patch with new noise.
  const keep = keepOf([[0, 5, 10, 15], [1, 2, 3, 4], [6, 7, 8, 12]]);
  const kept = keep.arraySync() as number[][];
  const noise = images(3, 99);
  const flags = new Float32Array(3 * 28 * 28);
  for (let b = 0; b < 3; b++) {
    for (let r = 0; r < 28; r++) {
      for (let c = 0; c < 28; c++) if (!kept[b].includes(Math.floor(r / 7) * 4 + Math.floor(c / 7))) flags[b * 784 + r * 28 + c] = 1;
    }
  }
  const hidden = tf.tensor4d(flags, [3, 28, 28, 1]);
  const repainted = tf.tidy(() => tf.add(tf.mul(x, tf.sub(1, hidden)), tf.mul(noise, hidden)) as tf.Tensor4D);
  assert.ok(maxAbsDiff(repainted, x) > 0.5, "the hidden patches did change");
  const [a, b] = [vit.encodeTokens(x, keep), vit.encodeTokens(repainted, keep)];
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()), "bit for bit the same");
  // With every patch visible the repainted pixels do count.
  const [fa, fb] = [vit.encode(x), vit.encode(repainted)];
  assert.ok(maxAbsDiff(fa, fb) > 1e-3);
  tf.dispose([x, keep, noise, hidden, repainted, a, b, fa, fb]);
  vit.dispose();
});

test("Vit.encode is the mean of all tokens, works with extractFeatures, leaks nothing; createVit(vit.options) rebuilds the initial weights", async () => {
  await tf.setBackend("cpu");
  const vit = createVit({ dim: 8, heads: 2, layers: 1, mlpRatio: 2, seed: 4 });
  assert.deepEqual(vit.options, { imageShape: [28, 28, 1], patch: 7, dim: 8, heads: 2, layers: 1, mlpRatio: 2, seed: 4 });
  const x = images(5, 2);
  const before = tf.memory().numTensors;
  const features = vit.encode(x);
  const tokens = vit.encodeTokens(x);
  assert.deepEqual(features.shape, [5, 8]);
  assert.deepEqual(tokens.shape, [5, 16, 8]);
  const mean = tf.mean(tokens, 1);
  assert.ok(maxAbsDiff(mean, features) < 1e-6);
  const all = keepOf(Array.from({ length: 5 }, () => Array.from({ length: 16 }, (_, i) => i)));
  const viaKeep = vit.encodeTokens(x, all);
  assert.ok(maxAbsDiff(viaKeep, tokens) < 1e-6, "keeping every patch in order = no keep");
  const extracted = extractFeatures(vit.encode, x, { batchSize: 2 });
  assert.ok(maxAbsDiff(extracted, features) < 1e-5);
  tf.dispose([features, tokens, mean, all, viaKeep, extracted]);
  assert.equal(tf.memory().numTensors, before, "encode and encodeTokens leave no tensor");
  const twin = createVit(vit.options);
  vit.trainable.forEach((v, i) => assert.deepEqual(Array.from(v.dataSync()), Array.from(twin.trainable[i].dataSync())));
  assert.equal(vit.trainable.length, 2 + 1 + 16 + 2, "embedding W, b; positions; one block (2 LN x 2, 4 projections x 2, 2 MLP x 2); final LN");
  const start = tf.memory().numTensors;
  twin.dispose();
  assert.equal(tf.memory().numTensors, start - twin.trainable.length, "dispose frees every variable");
  x.dispose();
  vit.dispose();
});

test("gatherPatches equals a gather per image, and the ViT gives the same tokens on wasm as on cpu", async () => {
  await tf.setBackend("cpu");
  const patches = tf.tensor3d(Float32Array.from({ length: 3 * 4 * 2 }, (_, i) => i), [3, 4, 2]);
  const keep = keepOf([[3, 0], [1, 2], [2, 2]]);
  assert.deepEqual(gatherPatches(patches, keep).arraySync(), [[[6, 7], [0, 1]], [[10, 11], [12, 13]], [[20, 21], [20, 21]]]);
  tf.dispose([patches, keep]);
  const vit = createVit({ dim: 16, heads: 4, layers: 1, seed: 2 });
  const x = images(8, 3);
  const k = keepOf(Array.from({ length: 8 }, (_, b) => [b % 16, (b + 3) % 16, (b + 7) % 16, (b + 11) % 16]));
  const onCpu = vit.encodeTokens(x, k).arraySync() as number[][][];
  await import("@tensorflow/tfjs-backend-wasm");
  registerTrainingKernels("wasm");
  assert.equal(await tf.setBackend("wasm"), true);
  try {
    // The variables move to wasm on first use; a batch of 8 crashed the stock wasm gather with batchDims 1.
    const onWasm = vit.encodeTokens(x, k);
    const w = onWasm.arraySync() as number[][][];
    onWasm.dispose();
    onCpu.flat(2).forEach((v, i) => assert.ok(Math.abs(v - w.flat(2)[i]) < 1e-4, `${v} vs ${w.flat(2)[i]}`));
  } finally {
    await tf.setBackend("cpu");
  }
  tf.dispose([x, k]);
  vit.dispose();
});

test("createVit and the encoders reject bad options and inputs", async () => {
  await tf.setBackend("cpu");
  const bad: Array<[unknown, RegExp]> = [
    [undefined, /createVit: options must be an object \{dim, heads, layers, imageShape\?, patch\?, mlpRatio\?, seed\?\}, got undefined/],
    [{ dim: 0, heads: 1, layers: 1 }, /createVit: options.dim must be a positive integer, got 0/],
    [{ dim: 8, heads: 3, layers: 1 }, /createTransformerBlock: options.heads must divide options.dim = 8, got 3/],
    [{ dim: 8, heads: 2, layers: -1 }, /createVit: options.layers must be a non-negative integer, got -1/],
    [{ dim: 8, heads: 2, layers: 1, patch: 5 }, /createVit: options.patch must divide the image height and width, got 5 for images of 28x28/],
    [{ dim: 8, heads: 2, layers: 1, imageShape: [28, 28] }, /createVit: options.imageShape must be \[height, width, channels\], got \[28,28\]/],
    [{ dim: 8, heads: 2, layers: 1, seed: 0.5 }, /createVit: options.seed must be an integer, got 0.5/],
  ];
  for (const [options, message] of bad) assert.throws(() => createVit(options as never), message);
  const vit = createVit({ dim: 8, heads: 2, layers: 1 });
  const x = images(2, 1);
  const small = images(2, 1, [14, 14, 1]);
  const before = tf.memory().numTensors;
  // Each call in its own tidy, which frees the inputs it made when the call throws.
  const rejects = (call: () => unknown, message: RegExp) => assert.throws(() => tf.tidy(() => { call(); }), message);
  rejects(() => vit.encode(small), /Vit.encode: images must be a float32 tensor of shape \[batch,28,28,1\], got a tensor of shape \[2,14,14,1\]/);
  rejects(() => vit.encodeTokens(x, keepOf([[0, 1]])), /Vit.encodeTokens: keep must be an int32 tensor of shape \[2, visible\] with 1 <= visible <= 16, got a tensor of shape \[1,2\]/);
  rejects(() => vit.encodeTokens(x, keepOf([[0, 1], [2, 16]])), /Vit.encodeTokens: keep must hold patch indices in \[0, 16\), got 16 at \[1,1\]/);
  rejects(() => vit.encodeTokens(x, tf.zeros([2, 2]) as tf.Tensor2D), /Vit.encodeTokens: keep must be an int32 tensor of rank 2, got a float32 tensor of shape \[2,2\]/);
  rejects(() => vit.encodeTokens(tf.zeros([2, 28, 28]) as never), /Vit.encodeTokens: images must be a float32 tensor of rank 4/);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, small]);
  vit.dispose();
});
