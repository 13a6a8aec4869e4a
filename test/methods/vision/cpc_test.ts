import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { createCpc, cpcPatches } from "../../../src/methods/vision/cpc";
import type { VisionBatch } from "../../../src/methods/vision/method";
import { train } from "../../../src/training/loop";
import { anyMoved, assertSteadyTensors, ctxOf, denseEncoder, dot, onWasm, rngImages, rows, snapshot, stdRef, trainCounting } from "./helpers";

/** A linear `[B, 10, 10, 1]` (one patch) to `[B, 8]` encoder. */
const tinyPatchEncoder = (seed: number, inputShape: [number, number, number] = [10, 10, 1]) =>
  denseEncoder(8, seed, { activation: "linear", name: "tiny_patch_encoder", inputShape });

/** Patch (r, c) of every image, cut in plain JS: pixels [6r, 6r + 10) x [6c, 6c + 10). */
function patchesRef(images: tf.Tensor4D, r: number, c: number): tf.Tensor4D {
  const px = images.arraySync();
  return tf.tensor4d(px.map((img) => img.slice(6 * r, 6 * r + 10).map((line) => line.slice(6 * c, 6 * c + 10))));
}

test("cpcPatches cuts the 4 x 4 grid of 10 x 10 patches at stride 6, row-major, images innermost", async () => {
  await tf.setBackend("cpu");
  const images = rngImages(3, 1);
  const start = tf.memory().numTensors;
  const patches = cpcPatches(images);
  assert.equal(tf.memory().numTensors, start + 1);
  assert.deepEqual(patches.shape, [48, 10, 10, 1]);
  for (const [r, c] of [[0, 0], [1, 3], [3, 2], [3, 3]]) {
    const want = patchesRef(images, r, c);
    const got = tf.slice(patches, [(4 * r + c) * 3, 0, 0, 0], [3, 10, 10, 1]);
    assert.deepEqual(got.arraySync(), want.arraySync(), `patch (${r}, ${c})`);
    tf.dispose([got, want]);
  }
  assert.throws(() => cpcPatches(tf.zeros([2, 27, 28, 1]) as tf.Tensor4D), /cpcPatches: images must have shape \[B, 28, 28, C\], got \[2,27,28,1\]/);
  tf.dispose([images, patches]);
});

test("CPC loss matches a float64 reference; the grid encoder is the mean patch feature", async () => {
  await tf.setBackend("cpu");
  const patchEncoder = tinyPatchEncoder(1);
  const method = createCpc({ patchEncoder, encoderDim: 8, contextDim: 6, steps: 3, temperature: 0.5, seed: 2 });
  assert.equal(method.name, "CPC");
  const b = 3;
  const images = rngImages(b, 3);
  const out = tf.tidy(() => {
    const { loss, metrics } = method.loss({ images }, ctxOf(1));
    return [loss, metrics!.loss_k1, metrics!.loss_k2, metrics!.loss_k3, metrics!.std].map((t) => t.dataSync()[0]);
  });

  // z[r][c][image] from patches cut in JS.
  const z: Float64Array[][][] = [];
  for (let r = 0; r < 4; r++) {
    z.push([]);
    for (let c = 0; c < 4; c++) {
      const p = patchesRef(images, r, c);
      const f = tf.tidy(() => patchEncoder.predict(p) as tf.Tensor);
      z[r].push(rows(f));
      tf.dispose([p, f]);
    }
  }
  // Context: the MLP of the column's cumulative mean over rows 0..r.
  const ctxGrid: Float64Array[][][] = [];
  for (let r = 0; r < 4; r++) {
    ctxGrid.push([]);
    for (let c = 0; c < 4; c++) {
      const means = z[r][c].map((_, i) => Float64Array.from({ length: 8 }, (_, j) => z.slice(0, r + 1).reduce((s, row) => s + row[c][i][j], 0) / (r + 1)));
      const input = tf.tensor2d(means.map((m) => Array.from(m)));
      const cOut = tf.tidy(() => method.contextNetwork.predict(input) as tf.Tensor);
      ctxGrid[r].push(rows(cOut));
      tf.dispose([input, cOut]);
    }
  }
  const perK = method.predictors.map((w, i) => {
    const k = i + 1;
    const W = rows(w);
    const queries: Float64Array[] = [];
    const targets: Float64Array[] = [];
    for (let r = 0; r + k < 4; r++) {
      for (let c = 0; c < 4; c++) {
        for (let n = 0; n < b; n++) {
          const cv = ctxGrid[r][c][n];
          queries.push(Float64Array.from({ length: 8 }, (_, j) => cv.reduce((s, v, m) => s + v * W[m][j], 0)));
          targets.push(z[r + k][c][n]);
        }
      }
    }
    let total = 0;
    queries.forEach((q, i2) => {
      const logits = targets.map((t) => dot(q, t) / 0.5);
      const max = Math.max(...logits);
      total += max + Math.log(logits.reduce((s, l) => s + Math.exp(l - max), 0)) - logits[i2];
    });
    return total / queries.length;
  });
  const want = (perK[0] + perK[1] + perK[2]) / 3;
  const wantStd = stdRef(z.flat().flat());
  assert.ok(Math.abs(out[4] - wantStd) < 1e-5, `std of the patch representations ${out[4]} vs float64 ${wantStd}`);
  [want, ...perK].forEach((v, i) => assert.ok(Math.abs(out[i] - v) < 1e-4 * Math.max(1, Math.abs(v)), `term ${i}: ${out[i]} vs float64 ${v}`));

  const features = method.encoder.predict(images) as tf.Tensor;
  assert.deepEqual(features.shape, [b, 8]);
  rows(features).forEach((f, n) =>
    f.forEach((v, j) => {
      const mean = z.flat().reduce((s, cell) => s + cell[n][j], 0) / 16;
      assert.ok(Math.abs(v - mean) < 1e-5, `encoder feature ${n}[${j}]: ${v} vs mean patch feature ${mean}`);
    }),
  );
  tf.dispose([features, images]);
  method.dispose();
  patchEncoder.dispose();
});

test("CPC through training.train: finite loss, patch encoder, context network and predictors move, no leak", async () => {
  await tf.setBackend("cpu");
  const patchEncoder = tinyPatchEncoder(3);
  const method = createCpc({ patchEncoder, encoderDim: 8, seed: 4 });
  assert.equal(method.predictors.length, 2);
  const before = [snapshot(patchEncoder), snapshot(method.contextNetwork), method.predictors.map((w) => Float64Array.from(w.dataSync()))];
  const { history, counts } = await trainCounting<VisionBatch>({
    ...method,
    optimizer: tf.train.adam(1e-2),
    batches: function* (epoch) {
      for (let k = 0; k < 4; k++) yield { images: rngImages(4, 10 * epoch + k) };
    },
    steps: 4,
  });
  history.loss.forEach((l) => assert.ok(Number.isFinite(l) && l > 0, `loss ${l}`));
  assert.equal(history.metrics.loss_k2.length, 4);
  assert.ok(anyMoved(before[0], snapshot(patchEncoder)), "patch encoder moves");
  assert.ok(anyMoved(before[1], snapshot(method.contextNetwork)), "context network moves");
  assert.ok(anyMoved(before[2], method.predictors.map((w) => Float64Array.from(w.dataSync()))), "predictors move");
  assertSteadyTensors(counts, 4);
  const live = tf.memory().numTensors;
  method.dispose();
  assert.ok(tf.memory().numTensors < live, "dispose frees the context network and predictors");
  assert.equal(patchEncoder.getWeights().length, 2, "the caller's patch encoder survives");
  patchEncoder.dispose();
});

test("CPC rejects bad options and batches", async () => {
  await tf.setBackend("cpu");
  const wrong = tinyPatchEncoder(5, [28, 28, 1]);
  assert.throws(() => createCpc({ patchEncoder: wrong, encoderDim: 8 }), /createCpc: options.patchEncoder must take \[N, 10, 10, 1\], got \[null, 28, 28, 1\]/);
  wrong.dispose();
  const patchEncoder = tinyPatchEncoder(6);
  assert.throws(() => createCpc({ patchEncoder, encoderDim: 8, steps: 4 }), /createCpc: options.steps must be an integer in \[1, 3\], got 4/);
  assert.throws(() => createCpc({ patchEncoder, encoderDim: 8, temperature: 0 }), /createCpc: options.temperature must be a finite number > 0, got 0/);
  assert.throws(() => createCpc({ patchEncoder, encoderDim: 8, hidden: [-3] }), /createCpc: options.hidden must be an array of positive integers, got \[-3\]/);
  assert.throws(() => createCpc({ patchEncoder, encoderDim: -1 }), /createCpc: options.encoderDim must be a positive integer, got -1/);
  const method = createCpc({ patchEncoder, encoderDim: 8 });
  const images = tf.zeros([2, 14, 14, 1]) as tf.Tensor4D;
  assert.throws(() => tf.tidy(() => method.loss({ images }, ctxOf(1)).loss), /CPC.loss: batch.images must have shape \[B, 28, 28, 1\], got \[2, 14, 14, 1\]/);
  images.dispose();
  method.dispose();
  patchEncoder.dispose();
});

test("CPC gives the cpu loss on wasm and trains there", async () => {
  await tf.setBackend("cpu");
  const patchEncoder = tinyPatchEncoder(7);
  const method = createCpc({ patchEncoder, encoderDim: 8, steps: 3, seed: 8 });
  const images = rngImages(3, 9);
  const lossOn = () => tf.tidy(() => method.loss({ images }, ctxOf(2)).loss.dataSync()[0]);
  const onCpu = lossOn();
  try {
    await onWasm(async () => {
      const wasmLoss = lossOn();
      assert.ok(Math.abs(wasmLoss - onCpu) < 1e-4 * Math.max(1, Math.abs(onCpu)), `wasm ${wasmLoss} vs cpu ${onCpu}`);
      const h = await train<VisionBatch>({ ...method, optimizer: tf.train.adam(1e-2), batches: () => [{ images: images.clone() }], steps: 1, progress: false });
      assert.ok(Number.isFinite(h.loss[0]));
    });
  } finally {
    images.dispose();
    method.dispose();
    patchEncoder.dispose();
  }
});
