import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import { gatherImages } from "../../../src/data/batches";
import { loadMnist } from "../../../src/data/mnist";
import { createRng } from "../../../src/data/random";
import { visionBatches } from "../../../src/methods/vision/batches";
import { codeGridBatches, createCodePrior, createVqVae } from "../../../src/methods/vision/vq_vae";
import type { LossWithMetrics } from "../../../src/training/types";
import { assertSteadyTensors, ctxOf, onWasm, rngImages, trainCounting } from "./helpers";

// Fast Conv2DBackpropFilter on cpu, the missing one on wasm.
registerTrainingKernels();

const range = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

test("VQ-VAE loss = MSE + (1 + beta) * mean squared distance to the nearest code (float64); codes, decode and reconstruct agree", async () => {
  await tf.setBackend("cpu");
  const before = tf.memory().numTensors;
  const x = rngImages(3, 4);
  const vq = createVqVae({ codebookSize: 8, codeDim: 4, filters: 4, beta: 0.5, seed: 2, initialCodebookImages: x });
  assert.deepEqual(vq.gridShape, [7, 7]);
  assert.equal(vq.name, "VQ-VAE");
  const z = vq.encoder.predict(x) as tf.Tensor;
  assert.deepEqual(z.shape, [3, 7, 7, 4]);
  const zv = z.dataSync();
  const book = vq.quantizer.codebook.dataSync();
  z.dispose();
  // Nearest codes and their squared distances in float64.
  const refCodes: number[] = [];
  let squared = 0;
  for (let i = 0; i < zv.length / 4; i++) {
    let best = -1, bestD = Infinity;
    for (let c = 0; c < 8; c++) {
      let d = 0;
      for (let j = 0; j < 4; j++) d += (zv[i * 4 + j] - book[c * 4 + j]) ** 2;
      if (d < bestD) { bestD = d; best = c; }
    }
    refCodes.push(best);
    squared += bestD;
  }
  const codes = vq.encodeCodes(x);
  assert.equal(codes.dtype, "int32");
  assert.deepEqual(codes.shape, [3, 7, 7]);
  assert.deepEqual(Array.from(codes.dataSync()), refCodes);
  const decoded = vq.decodeCodes(codes);
  const recon = vq.reconstruct(x);
  assert.deepEqual(recon.shape, [3, 28, 28, 1]);
  const rv = recon.dataSync(), dv = decoded.dataSync(), xv = x.dataSync();
  let mse = 0;
  for (let i = 0; i < rv.length; i++) {
    assert.ok(Math.abs(rv[i] - dv[i]) < 1e-5, "reconstruct = decodeCodes(encodeCodes)");
    assert.ok(rv[i] > 0 && rv[i] < 1, "sigmoid output");
    mse += (xv[i] - rv[i]) ** 2;
  }
  mse /= rv.length;
  const expected = mse + (1 + 0.5) * squared / zv.length;
  const [loss, reconstruction, perplexity, used] = tf.tidy(() => {
    const out = vq.loss({ images: x }, ctxOf(1)) as LossWithMetrics;
    return [out.loss, out.metrics!.reconstruction, out.metrics!.perplexity, out.metrics!.usedCodes].map((t) => t.dataSync()[0]);
  });
  assert.ok(Math.abs(loss - expected) < 1e-5, `loss ${loss} vs ${expected}`);
  assert.ok(Math.abs(reconstruction - mse) < 1e-6, `reconstruction ${reconstruction} vs ${mse}`);
  const usage = vq.codeUsage(codes);
  assert.deepEqual(Array.from(usage.counts), Array.from({ length: 8 }, (_, c) => refCodes.filter((r) => r === c).length));
  let entropy = 0;
  for (const c of usage.counts) if (c > 0) entropy -= (c / 147) * Math.log(c / 147);
  assert.ok(Math.abs(usage.perplexity - Math.exp(entropy)) < 1e-12);
  assert.ok(Math.abs(perplexity - usage.perplexity) < 1e-4, `metric perplexity ${perplexity} vs ${usage.perplexity}`);
  assert.equal(used, usage.usedCodes);
  assert.equal(usage.deadCodes, 8 - usage.usedCodes);
  // Initialised from these images' encoder outputs, every code is the nearest to at least the vector it came from.
  assert.equal(usage.usedCodes, 8);
  tf.dispose([codes, decoded, recon, x]);
  vq.dispose();
  assert.equal(tf.memory().numTensors, before, "create, encode, decode and dispose leave no tensors");
});

test("straight-through: the reconstruction term alone gives every encoder weight a gradient; the codebook gets the codebook term's", async () => {
  await tf.setBackend("cpu");
  const x = rngImages(2, 5);
  const vq = createVqVae({ codebookSize: 16, codeDim: 4, filters: 4, seed: 3, initialCodebookImages: x });
  const encoderVars = vq.encoder.trainableWeights.map((w) => w.read() as tf.Variable);
  const before = tf.memory().numTensors;
  const norms = tf.tidy(() => {
    const { grads } = tf.variableGrads(() => (vq.loss({ images: x }, ctxOf(1)) as LossWithMetrics).metrics!.reconstruction as tf.Scalar, encoderVars);
    return encoderVars.map((v) => tf.norm(grads[v.name]).dataSync()[0]);
  });
  // argmin has no gradient: without the straight-through copy the encoder would get none from the decoder.
  assert.ok(norms.every((n) => n > 0), `encoder gradient norms ${norms}`);
  const codebookNorm = tf.tidy(() => {
    const { grads } = tf.variableGrads(() => (vq.loss({ images: x }, ctxOf(1)) as LossWithMetrics).loss as tf.Scalar, [vq.quantizer.codebook]);
    return tf.norm(grads[vq.quantizer.codebook.name]).dataSync()[0];
  });
  assert.ok(codebookNorm > 0, "the codebook term moves the codes");
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
  vq.dispose();
});

test("on wasm: VQ-VAE on 256 digits lowers the loss, keeps most codes alive from an encoder-initialised codebook, no tensor growth", async () => {
  const { train, test: heldOut } = loadMnist({ trainSize: 256, testSize: 128 });
  await onWasm(async () => {
    const warmup = gatherImages(train, range(32));
    const vq = createVqVae({ codebookSize: 32, codeDim: 8, filters: 16, seed: 1, initialCodebookImages: warmup });
    warmup.dispose();
    const optimizer = tf.train.adam(3e-3);
    const steps = 60;
    const { history, counts } = await trainCounting({ ...vq, optimizer, batches: visionBatches(train, { batchSize: 32 }), steps, seed: 1 });
    assertSteadyTensors(counts, steps);
    optimizer.dispose();
    const first = history.loss.slice(0, 5).reduce((s, v) => s + v, 0) / 5;
    const last = history.loss.slice(-5).reduce((s, v) => s + v, 0) / 5;
    const x = gatherImages(heldOut, range(128));
    const codes = vq.encodeCodes(x);
    const usage = vq.codeUsage(codes);
    const recon = vq.reconstruct(x);
    const mse = tf.tidy(() => tf.mean(tf.square(tf.sub(x, recon))).dataSync()[0]);
    // Predicting every pixel by the mean image's intensity: what a decoder that ignored the codes could do.
    const meanPixel = tf.tidy(() => tf.mean(x).dataSync()[0]);
    const constantMse = tf.tidy(() => tf.mean(tf.square(tf.sub(x, meanPixel))).dataSync()[0]);
    console.log(`vqvae: loss ${first.toFixed(4)} -> ${last.toFixed(4)}, held-out mse ${mse.toFixed(4)} (constant ${constantMse.toFixed(4)}), used ${usage.usedCodes}/32, perplexity ${usage.perplexity.toFixed(1)}`);
    assert.ok(last < 0.6 * first, `loss ${first} -> ${last}`);
    assert.ok(mse < 0.6 * constantMse, `held-out reconstruction ${mse} vs constant ${constantMse}`);
    assert.ok(usage.usedCodes >= 16, `at least half of the 32 codes in use on held-out digits: ${usage.usedCodes} (perplexity ${usage.perplexity})`);
    tf.dispose([x, codes, recon]);
    vq.dispose();
  });
});

test("the batched helpers agree across their 256-row slices: encodeCodes, reconstruct, nllPerCode", async () => {
  await tf.setBackend("cpu");
  const vq = createVqVae({ codebookSize: 8, codeDim: 2, filters: 2, seed: 4 });
  const prior = createCodePrior({ codebookSize: 8, embeddingDim: 4, filters: 4, layers: 1, seed: 4 });
  const before = tf.memory().numTensors;
  const x = rngImages(300, 8);
  const codes = vq.encodeCodes(x);
  const recon = vq.reconstruct(x);
  assert.deepEqual(codes.shape, [300, 7, 7]);
  assert.deepEqual(recon.shape, [300, 28, 28, 1]);
  for (const [start, size] of [[0, 3], [254, 4], [297, 3]]) {
    const part = tf.slice(x, start, size) as tf.Tensor4D;
    const partCodes = vq.encodeCodes(part);
    const partRecon = vq.reconstruct(part);
    const fromWhole = tf.slice(codes, start, size);
    assert.deepEqual(Array.from(partCodes.dataSync()), Array.from(fromWhole.dataSync()), `codes ${start}..${start + size}`);
    const r = tf.slice(recon, start, size);
    const gap = tf.tidy(() => tf.max(tf.abs(tf.sub(r, partRecon))).dataSync()[0]);
    assert.ok(gap < 1e-6, `reconstruction ${start}..${start + size}: ${gap}`);
    tf.dispose([part, partCodes, partRecon, fromWhole, r]);
  }
  const grids = tf.tensor3d(randomCodes(300, 8, 5), [300, 7, 7], "int32");
  const head = tf.slice(grids, 0, 256) as tf.Tensor3D;
  const tail = tf.slice(grids, 256, 44) as tf.Tensor3D;
  const weighted = (256 * prior.nllPerCode(head) + 44 * prior.nllPerCode(tail)) / 300;
  assert.ok(Math.abs(prior.nllPerCode(grids) - weighted) < 1e-9, "nllPerCode over 300 grids = the weighted mean of its slices");
  tf.dispose([x, codes, recon, grids, head, tail]);
  assert.equal(tf.memory().numTensors, before);
  vq.dispose();
  prior.dispose();
});

test("VQ-VAE: bad input is rejected naming the function and the argument", async () => {
  await tf.setBackend("cpu");
  assert.throws(() => createVqVae({ codebookSize: 0 }), /createVqVae: options.codebookSize must be a positive integer, got 0/);
  assert.throws(() => createVqVae({ inputShape: [30, 28, 1] }), /createVqVae: options.inputShape must be \[height, width, 1\] with sides divisible by 4, got \[30,28,1\]/);
  const few = tf.zeros([1, 28, 28, 1]) as tf.Tensor4D;
  assert.throws(() => createVqVae({ codebookSize: 64, initialCodebookImages: few }), /createVqVae: options.initialCodebookImages must give at least 64 encoder vectors \(n \* 7 \* 7\), got a tensor of shape \[1,28,28,1\]/);
  few.dispose();
  const vq = createVqVae({ codebookSize: 4, codeDim: 2, filters: 2, seed: 1 });
  const before = tf.memory().numTensors;
  const wrong = tf.zeros([2, 28, 28]) as unknown as tf.Tensor4D;
  assert.throws(() => vq.encodeCodes(wrong), /VqVae.encodeCodes: images must be a float32 tensor of rank 4, got a tensor of shape \[2,28,28\]/);
  assert.throws(() => tf.tidy(() => { vq.loss({ images: wrong }, ctxOf(1)); }), /VqVae.loss: batch.images must be a float32 tensor of rank 4/);
  const outOfRange = tf.fill([1, 7, 7], 4, "int32") as tf.Tensor3D;
  assert.throws(() => vq.decodeCodes(outOfRange), /VqVae.decodeCodes: codes must hold codes in \[0, 4\), got 4 at flat index 0/);
  const floatCodes = tf.zeros([1, 7, 7]) as tf.Tensor3D;
  assert.throws(() => vq.decodeCodes(floatCodes), /VqVae.decodeCodes: codes must be an int32 tensor of rank 3, got a float32 tensor of shape \[1,7,7\]/);
  tf.dispose([wrong, outOfRange, floatCodes]);
  assert.equal(tf.memory().numTensors, before);
  vq.dispose();
});

/** `n` random code grids `[n, 7, 7]` in [0, k). */
function randomCodes(n: number, k: number, seed: number): Int32Array {
  const rng = createRng(seed);
  return Int32Array.from({ length: n * 49 }, () => rng.int(k));
}

test("prior is causal: the logits of cell t do not change with codes at cells >= t, and do change with the cell left of it or above it", async () => {
  await tf.setBackend("cpu");
  const k = 5;
  const prior = createCodePrior({ codebookSize: k, filters: 8, layers: 2, seed: 4 });
  const base = randomCodes(1, k, 1);
  const rng = createRng(2);
  const logitsOf = (codes: Int32Array): Float32Array => {
    const t = tf.tensor3d(codes, [1, 7, 7], "int32");
    const l = prior.logits(t);
    const v = l.dataSync() as Float32Array;
    tf.dispose([t, l]);
    return v;
  };
  const reference = logitsOf(base);
  for (const t of [0, 1, 6, 7, 24, 48]) {
    const later = base.slice();
    for (let i = t; i < 49; i++) later[i] = (later[i] + 1 + rng.int(k - 1)) % k;
    const changed = logitsOf(later);
    for (let j = 0; j < k; j++) assert.equal(changed[t * k + j], reference[t * k + j], `cell ${t} sees a later cell`);
    if (t > 0) {
      // The cell to the left, or above at the start of a row (the end of the row above lies in the blind spot of stacked masks).
      const previous = t % 7 > 0 ? t - 1 : t - 7;
      const earlier = base.slice();
      earlier[previous] = (earlier[previous] + 1) % k;
      const moved = logitsOf(earlier);
      assert.ok(Array.from({ length: k }, (_, j) => Math.abs(moved[t * k + j] - reference[t * k + j])).some((d) => d > 1e-6), `cell ${t} ignores cell ${previous}`);
    }
  }
  prior.dispose();
});

test("prior loss and nllPerCode equal the float64 cross-entropy of its logits", async () => {
  await tf.setBackend("cpu");
  const k = 6;
  const prior = createCodePrior({ codebookSize: k, filters: 8, layers: 1, seed: 5 });
  const values = randomCodes(5, k, 3);
  const codes = tf.tensor3d(values, [5, 7, 7], "int32");
  const logits = prior.logits(codes);
  assert.deepEqual(logits.shape, [5, 7, 7, k]);
  const lv = logits.dataSync();
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, lv[i * k + j]);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(lv[i * k + j] - max);
    total += max + Math.log(sum) - lv[i * k + values[i]];
  }
  const expected = total / values.length;
  const before = tf.memory().numTensors;
  assert.ok(Math.abs(prior.nllPerCode(codes) - expected) < 1e-5, `nllPerCode vs ${expected}`);
  const [loss, perplexity] = tf.tidy(() => {
    const out = prior.loss(codes, ctxOf(1)) as LossWithMetrics;
    return [out.loss.dataSync()[0], out.metrics!.perplexity.dataSync()[0]];
  });
  assert.ok(Math.abs(loss - expected) < 1e-5, `loss ${loss} vs ${expected}`);
  assert.ok(Math.abs(perplexity - Math.exp(expected)) < 1e-4);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([codes, logits]);
  prior.dispose();
});

/** Grids whose first cell is uniform over k and whose every later cell is determined: (first + 3 r + c) mod k. */
function patternCodes(n: number, k: number, seed: number): Int32Array {
  const rng = createRng(seed);
  const out = new Int32Array(n * 49);
  for (let b = 0; b < n; b++) {
    const first = rng.int(k);
    for (let i = 0; i < 49; i++) out[b * 49 + i] = (first + 3 * Math.floor(i / 7) + (i % 7)) % k;
  }
  return out;
}

test("on wasm: a short run of the prior gets below log K nats per code on held-out grids; seeded samples follow the pattern; no tensor growth", async () => {
  const k = 16;
  await onWasm(async () => {
    const train = tf.tensor3d(patternCodes(256, k, 1), [256, 7, 7], "int32");
    const heldOut = tf.tensor3d(patternCodes(64, k, 2), [64, 7, 7], "int32");
    const prior = createCodePrior({ codebookSize: k, filters: 16, layers: 2, seed: 1 });
    const start = prior.nllPerCode(heldOut);
    const optimizer = tf.train.adam(1e-2);
    const steps = 40;
    const { counts } = await trainCounting({ ...prior, optimizer, batches: codeGridBatches(train, { batchSize: 32 }), steps, seed: 1 });
    assertSteadyTensors(counts, steps);
    optimizer.dispose();
    const end = prior.nllPerCode(heldOut);
    // Only the first of 49 cells is random: the best possible is log(16) / 49 = 0.057 nats per code.
    console.log(`prior: log K ${Math.log(k).toFixed(3)}, start ${start.toFixed(3)}, after ${steps} steps ${end.toFixed(3)} nats per code`);
    assert.ok(end < 0.1 * Math.log(k), `prior ${end} nats per code vs log K ${Math.log(k)} (start ${start})`);

    const before = tf.memory().numTensors;
    const a = prior.sample(8, 3);
    const b = prior.sample(8, 3);
    assert.equal(tf.memory().numTensors, before + 2, "sample leaves only its result");
    assert.equal(a.dtype, "int32");
    assert.deepEqual(a.shape, [8, 7, 7]);
    const av = a.dataSync();
    assert.deepEqual(Array.from(av), Array.from(b.dataSync()), "one seed, one set of grids");
    assert.ok(av.every((c) => c >= 0 && c < k));
    // The pattern's rule, cell by cell: one more than the cell to the left, or three more than the cell above at a row start.
    let follows = 0;
    for (let g = 0; g < 8; g++) {
      for (let i = 1; i < 49; i++) {
        const expected = i % 7 > 0 ? (av[g * 49 + i - 1] + 1) % k : (av[g * 49 + i - 7] + 3) % k;
        if (av[g * 49 + i] === expected) follows++;
      }
    }
    assert.ok(follows / (8 * 48) > 0.8, `sampled cells following the pattern: ${follows} of ${8 * 48}`);
    // Drawn from the model's own conditionals, the samples are likely under it: a sampler that ignored them would cost ~log K per code.
    const sampledNll = prior.nllPerCode(a);
    assert.ok(sampledNll < 0.3 * Math.log(k), `the prior's NLL of its own samples ${sampledNll}`);
    tf.dispose([a, b, train, heldOut]);
    prior.dispose();
  });
});

test("on wasm: the prior's logits and the VQ-VAE's codes and loss equal the cpu backend's", async () => {
  await tf.setBackend("cpu");
  const codes = tf.tensor3d(randomCodes(3, 8, 9), [3, 7, 7], "int32");
  const x = rngImages(2, 6);
  const compute = () => {
    const prior = createCodePrior({ codebookSize: 8, filters: 8, layers: 1, seed: 2 });
    const vq = createVqVae({ codebookSize: 16, codeDim: 4, filters: 4, seed: 2 });
    const logits = prior.logits(codes);
    const grids = vq.encodeCodes(x);
    const out = { logits: Array.from(logits.dataSync()), grids: Array.from(grids.dataSync()), loss: tf.tidy(() => (vq.loss({ images: x }, ctxOf(1)) as LossWithMetrics).loss.dataSync()[0]) };
    tf.dispose([logits, grids]);
    prior.dispose();
    vq.dispose();
    return out;
  };
  const onCpu = compute();
  const wasm = await onWasm(compute);
  assert.ok(onCpu.logits.some((v) => Math.abs(v) > 0.1), "non-trivial logits");
  onCpu.logits.forEach((v, i) => assert.ok(Math.abs(v - wasm.logits[i]) < 1e-4, `logit ${i}: cpu ${v}, wasm ${wasm.logits[i]}`));
  assert.deepEqual(wasm.grids, onCpu.grids);
  assert.ok(Math.abs(wasm.loss - onCpu.loss) < 1e-5, `loss cpu ${onCpu.loss}, wasm ${wasm.loss}`);
  tf.dispose([codes, x]);
});

test("prior and codeGridBatches: bad input is rejected naming the function and the argument", async () => {
  await tf.setBackend("cpu");
  const before = tf.memory().numTensors;
  assert.throws(() => createCodePrior({ codebookSize: 1 }), /createCodePrior: options.codebookSize must be at least 2, got 1/);
  assert.throws(() => createCodePrior({ codebookSize: 4, kernelSize: 2 }), /createCodePrior: options.kernelSize must be an odd positive integer, got 2/);
  assert.throws(() => createCodePrior({ codebookSize: 4, gridShape: [7] as never }), /createCodePrior: options.gridShape must be \[gridH, gridW\] with positive integer sides, got \[7\]/);
  const prior = createCodePrior({ codebookSize: 4, filters: 2, layers: 0 });
  const bad = tf.fill([1, 7, 7], 4, "int32") as tf.Tensor3D;
  assert.throws(() => prior.nllPerCode(bad), /CodePrior.nllPerCode: codes must hold codes in \[0, 4\), got 4 at flat index 0/);
  const wrongGrid = tf.zeros([1, 6, 7], "int32") as tf.Tensor3D;
  assert.throws(() => tf.tidy(() => { prior.loss(wrongGrid, ctxOf(1)); }), /CodePrior.loss: codes must be an int32 tensor of shape \[n,7,7\] with n >= 1, got a tensor of shape \[1,6,7\]/);
  assert.throws(() => prior.sample(0, 1), /CodePrior.sample: count must be a positive integer, got 0/);
  assert.throws(() => codeGridBatches(wrongGrid, { batchSize: 2 }), /codeGridBatches: options.batchSize must be at most the 1 grids of codes, got 2/);
  const five = tf.tensor3d(range(5 * 49), [5, 7, 7], "int32");
  const batches = [...codeGridBatches(five, { batchSize: 2 })(0, createRng(1))];
  assert.deepEqual(batches.map((t) => t.shape), [[2, 7, 7], [2, 7, 7]]);
  // Distinct grids of `five`, the last odd one dropped.
  const firsts = batches.flatMap((t) => Array.from(t.dataSync()).filter((_, i) => i % 49 === 0).map((v) => v / 49));
  assert.equal(new Set(firsts).size, 4);
  tf.dispose([bad, wrongGrid, five, ...batches]);
  prior.dispose();
  assert.equal(tf.memory().numTensors, before);
});
