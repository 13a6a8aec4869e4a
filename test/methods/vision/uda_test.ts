import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import type { Augmentation } from "../../../src/augment/augmentation";
import { simclrAugment } from "../../../src/augment/compose";
import { loadMnist, toTensors, type ImageSet } from "../../../src/data/mnist";
import { sampleLabelsPerClass } from "../../../src/evaluation/label_efficiency";
import { createRng } from "../../../src/data/random";
import { createUda, tsaThreshold, udaBatches, udaLoss, type UdaBatch } from "../../../src/methods/vision/uda";
import { allMoved, assertSteadyTensors, ctxOf, denseEncoder, onWasm, rngImages, snapshot, trainCounting } from "./helpers";

/** Float64 log-softmax of one row. */
function logSoftmax(row: number[]): number[] {
  const top = Math.max(...row);
  const lse = top + Math.log(row.reduce((s, v) => s + Math.exp(v - top), 0));
  return row.map((v) => v - lse);
}

interface Reference { loss: number; supervised: number; consistency: number; maskRate: number }

/** UDA's objective written out in float64 (the paper's eq. 3 with masking and sharpening). */
function udaReference(s: number[][], y: number[], c: number[][], a: number[][], lambda: number, threshold: number, temperature: number): Reference {
  const supervised = -s.reduce((sum, row, i) => sum + logSoftmax(row)[y[i]], 0) / s.length;
  let consistency = 0, kept = 0;
  c.forEach((row, j) => {
    const confidence = Math.max(...logSoftmax(row).map(Math.exp));
    if (!(confidence > threshold)) return;
    kept++;
    const logP = logSoftmax(row.map((v) => v / temperature));
    const logQ = logSoftmax(a[j]);
    consistency += logP.reduce((sum, lp, k) => sum + Math.exp(lp) * (lp - logQ[k]), 0);
  });
  consistency /= c.length;
  return { loss: supervised + lambda * consistency, supervised, consistency, maskRate: kept / c.length };
}

/** A seeded matrix of numbers in [-scale, scale]. */
function randomMatrix(rows: number, cols: number, seed: number, scale = 2): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => scale * (2 * rng.next() - 1)));
}

const close = (got: number, want: number, tol: number, what: string) =>
  assert.ok(Math.abs(got - want) <= tol * (1 + Math.abs(want)), `${what}: ${got} vs ${want}`);

const s0 = randomMatrix(3, 4, 1);
const y0 = [2, 0, 3];
// Row scales 0.5 to 4 give confidences on both sides of the 0.6 threshold.
const c0 = randomMatrix(5, 4, 2).map((row, i) => row.map((v) => v * (0.5 + i * 0.9)));
const a0 = randomMatrix(5, 4, 3);

test("udaLoss matches a float64 reference: cross-entropy plus lambda times the masked, sharpened KL", async () => {
  await tf.setBackend("cpu");
  const before = tf.memory().numTensors;
  const cases: Array<[number, number, number]> = [[1, 0, 1], [0.7, 0.6, 0.4], [2, 0.95, 0.5], [0, 0.6, 0.4]];
  for (const [lambda, threshold, temperature] of cases) {
    const want = udaReference(s0, y0, c0, a0, lambda, threshold, temperature);
    const got = tf.tidy(() => {
      const parts = udaLoss(tf.tensor2d(s0), tf.tensor1d(y0, "int32"), tf.tensor2d(c0), tf.tensor2d(a0), { lambda, confidenceThreshold: threshold, sharpenTemperature: temperature });
      return { loss: parts.loss.dataSync()[0], supervised: parts.supervised.dataSync()[0], consistency: parts.consistency.dataSync()[0], maskRate: parts.maskRate.dataSync()[0] };
    });
    for (const key of ["loss", "supervised", "consistency", "maskRate"] as const) close(got[key], want[key], 1e-5, `${key} at lambda ${lambda}, threshold ${threshold}, T ${temperature}`);
  }
  // The cases are informative: the mask keeps some rows and drops others at 0.6.
  const partial = udaReference(s0, y0, c0, a0, 1, 0.6, 1).maskRate;
  assert.ok(partial > 0 && partial < 1, `mask rate at 0.6: ${partial}`);
  // A target probability that underflows to 0 contributes 0, not NaN.
  const extreme = tf.tidy(() => udaLoss(tf.tensor2d([[0, 1]]), tf.tensor1d([1], "int32"), tf.tensor2d([[0, 400]]), tf.tensor2d([[3, 0]]), { sharpenTemperature: 0.1 }).consistency.dataSync()[0]);
  close(extreme, 3 + Math.log1p(Math.exp(-3)), 1e-5, "KL with a one-hot target");
  assert.equal(tf.memory().numTensors, before);
});

test("tsaThreshold: each schedule rises from 1/K at step 0 to 1 at the last step, as in the paper's closed forms", () => {
  const k = 10;
  const eta = (alpha: number) => alpha * (1 - 1 / k) + 1 / k;
  for (const [step, p] of [[0, 0], [75, 0.25], [150, 0.5], [300, 1], [450, 1]] as const) {
    close(tsaThreshold("linear", step, 300, k), eta(p), 1e-12, `linear at ${step}`);
    close(tsaThreshold("log", step, 300, k), eta(1 - Math.exp(-5 * p)), 1e-12, `log at ${step}`);
    close(tsaThreshold("exp", step, 300, k), eta(Math.exp(5 * (p - 1))), 1e-12, `exp at ${step}`);
  }
  // Halfway, log releases the most signal and exp the least.
  assert.ok(tsaThreshold("log", 150, 300, k) > tsaThreshold("linear", 150, 300, k) && tsaThreshold("linear", 150, 300, k) > tsaThreshold("exp", 150, 300, k));
  assert.throws(() => tsaThreshold("cosine" as never, 0, 10, 10), /tsaThreshold: schedule must be "linear", "log" or "exp", got/);
  assert.throws(() => tsaThreshold("exp", -1, 10, 10), /tsaThreshold: step/);
  assert.throws(() => tsaThreshold("exp", 0, 0, 10), /tsaThreshold: totalSteps/);
  assert.throws(() => tsaThreshold("exp", 0, 10, 1), /tsaThreshold: numClasses must be at least 2, got 1/);
});

test("udaLoss with a TSA threshold: the supervised term averages over the labelled rows whose correct-class probability is at most eta", async () => {
  await tf.setBackend("cpu");
  const probabilities = s0.map((row, i) => Math.exp(logSoftmax(row)[y0[i]]));
  const before = tf.memory().numTensors;
  // One threshold between the rows' probabilities, one below all of them (no row kept: the term is 0), and 1 (all kept).
  const sorted = [...probabilities].sort((a, b) => a - b);
  for (const eta of [(sorted[0] + sorted[1]) / 2, sorted[0] / 2, 1]) {
    const keptRows = s0.map((row, i) => i).filter((i) => probabilities[i] <= eta);
    const want = keptRows.length === 0 ? 0 : -keptRows.reduce((sum, i) => sum + logSoftmax(s0[i])[y0[i]], 0) / keptRows.length;
    const [supervised, kept, gradient] = tf.tidy(() => {
      const s = tf.tensor2d(s0);
      const parts = udaLoss(s, tf.tensor1d(y0, "int32"), tf.tensor2d(c0), tf.tensor2d(a0), { tsaThreshold: eta });
      const g = tf.grad((x: tf.Tensor) => udaLoss(x as tf.Tensor2D, tf.tensor1d(y0, "int32"), tf.tensor2d(c0), tf.tensor2d(a0), { tsaThreshold: eta, lambda: 0 }).loss)(s);
      return [parts.supervised.dataSync()[0], parts.tsaKept.dataSync()[0], g.arraySync() as number[][]];
    });
    close(supervised, want, 1e-5, `supervised at eta ${eta}`);
    close(kept, keptRows.length / s0.length, 1e-6, `kept share at eta ${eta}`);
    // Rows TSA drops get no gradient at all.
    gradient.forEach((row, i) => { if (!keptRows.includes(i)) assert.ok(row.every((v) => v === 0), `row ${i} dropped at eta ${eta} has gradient ${row}`); });
  }
  assert.throws(() => tf.tidy(() => udaLoss(tf.tensor2d(s0), tf.tensor1d(y0, "int32"), tf.tensor2d(c0), tf.tensor2d(a0), { tsaThreshold: 0 }).loss), /udaLoss: options.tsaThreshold must be a number in \(0, 1\], got 0/);
  assert.equal(tf.memory().numTensors, before);
});

test("createUda with a TSA schedule: the step's threshold reaches the loss, tsaKept is reported, and a constant threshold beside it is refused", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(8, 1);
  const options = { lambda: 0.5, confidenceThreshold: 0.1, sharpenTemperature: 0.5 };
  const uda = createUda({ encoder, encoderDim: 8, strongAugmentation: (x: tf.Tensor4D) => tf.sub(1, x) as tf.Tensor4D, seed: 3, tsa: { schedule: "exp", steps: 100 }, ...options });
  const batch = tinyBatch(4, 6, 5);
  const before = tf.memory().numTensors;
  for (const step of [0, 60, 100]) {
    const [got, want, kept] = tf.tidy(() => {
      const out = uda.loss(batch, ctxOf(9, step));
      const logits = (x: tf.Tensor) => uda.head.apply(encoder.apply(x, { training: true })) as tf.Tensor2D;
      const parts = udaLoss(logits(batch.labelled.images), batch.labelled.labels, logits(batch.unlabelled), logits(tf.sub(1, batch.unlabelled)),
        { ...options, tsaThreshold: tsaThreshold("exp", step, 100, 10) });
      return [out.loss.dataSync()[0], parts.loss.dataSync()[0], out.metrics!.tsaKept.dataSync()[0] - parts.tsaKept.dataSync()[0]];
    });
    close(got, want, 1e-5, `loss at step ${step}`);
    assert.ok(Math.abs(kept) < 1e-6, `tsaKept at step ${step}`);
  }
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => createUda({ encoder, encoderDim: 8, tsa: { schedule: "exp", steps: 100 }, tsaThreshold: 0.5 }), /createUda: options.tsa and options.tsaThreshold exclude each other/);
  assert.throws(() => createUda({ encoder, encoderDim: 8, tsa: { schedule: "exp", steps: 0 } }), /tsaThreshold: totalSteps/);
  tf.dispose(batch as never);
  uda.dispose();
  encoder.dispose();
});

test("udaLoss: gradients match finite differences on the labelled and strong logits, and none reaches the clean logits", async () => {
  await tf.setBackend("cpu");
  const [lambda, threshold, temperature] = [0.7, 0.6, 0.4];
  const before = tf.memory().numTensors;
  const [gS, gC, gA] = tf.tidy(() => {
    const f = (s: tf.Tensor, c: tf.Tensor, a: tf.Tensor) =>
      udaLoss(s as tf.Tensor2D, tf.tensor1d(y0, "int32"), c as tf.Tensor2D, a as tf.Tensor2D, { lambda, confidenceThreshold: threshold, sharpenTemperature: temperature }).loss;
    return tf.grads(f)([tf.tensor2d(s0), tf.tensor2d(c0), tf.tensor2d(a0)]).map((g) => g.arraySync() as number[][]);
  });
  assert.equal(tf.memory().numTensors, before);
  const h = 1e-6;
  const fd = (which: 0 | 1 | 2, i: number, k: number): number => {
    const at = (delta: number) => {
      const m = [s0, c0, a0].map((x) => x.map((r) => r.slice()));
      m[which][i][k] += delta;
      return udaReference(m[0], y0, m[1], m[2], lambda, threshold, temperature).loss;
    };
    return (at(h) - at(-h)) / (2 * h);
  };
  s0.forEach((row, i) => row.forEach((_, k) => close(gS[i][k], fd(0, i, k), 1e-4, `dL/ds[${i}][${k}]`)));
  a0.forEach((row, i) => row.forEach((_, k) => close(gA[i][k], fd(2, i, k), 1e-4, `dL/da[${i}][${k}]`)));
  // Stop-gradient: the loss does depend on the clean logits, yet their gradient is exactly zero.
  const dependence = Math.max(...c0.flatMap((row, i) => row.map((_, k) => Math.abs(fd(1, i, k)))));
  assert.ok(dependence > 1e-3, `the reference moves with the clean logits: ${dependence}`);
  assert.ok(gC.every((row) => row.every((v) => v === 0)), `gradient on the clean logits: ${gC}`);
});

test("udaLoss rejects bad logits, labels and options", async () => {
  await tf.setBackend("cpu");
  const s = tf.tensor2d(s0), y = tf.tensor1d(y0, "int32"), c = tf.tensor2d(c0), a = tf.tensor2d(a0);
  const bad: Array<[() => unknown, RegExp]> = [
    [() => udaLoss(tf.zeros([3]) as never, y, c, a), /udaLoss: labelledLogits must be a float32 tensor of shape \[n,d\], got a tensor of shape \[3\]/],
    [() => udaLoss(s, tf.tensor1d(y0, "float32") as never, c, a), /udaLoss: labels must be an int32 tensor of rank 1, got a float32 tensor of shape \[3\]/],
    [() => udaLoss(s, tf.tensor1d([0, 1], "int32"), c, a), /udaLoss: labels must have shape \[3\] like labelledLogits' rows, got \[2\]/],
    [() => udaLoss(s, tf.tensor1d([2, 4, 0], "int32"), c, a), /udaLoss: labels must hold class ids in \[0, 4\), got 4 at index 1/],
    [() => udaLoss(s, y, tf.zeros([5, 3]) as tf.Tensor2D, a), /udaLoss: cleanLogits must be a float32 tensor of shape \[n,4\], got a tensor of shape \[5,3\]/],
    [() => udaLoss(s, y, c, tf.zeros([4, 4]) as tf.Tensor2D), /udaLoss: strongLogits must be a float32 tensor of shape \[5,4\], got a tensor of shape \[4,4\]/],
    [() => udaLoss(s, y, c, a, { lambda: -1 }), /udaLoss: options.lambda must be a finite number >= 0, got -1/],
    [() => udaLoss(s, y, c, a, { confidenceThreshold: 1 }), /udaLoss: options.confidenceThreshold must be a number in \[0, 1\), got 1/],
    [() => udaLoss(s, y, c, a, { sharpenTemperature: 0 }), /udaLoss: options.sharpenTemperature must be a finite number > 0, got 0/],
  ];
  for (const [call, message] of bad) assert.throws(() => tf.tidy(() => { call(); }), message);
  tf.dispose([s, y, c, a]);
});

/** A batch of `l` labelled and `u` unlabelled seeded images, labels cycling 0..9. */
function tinyBatch(l: number, u: number, seed: number): UdaBatch {
  return {
    labelled: { images: rngImages(l, seed), labels: tf.tensor1d(Array.from({ length: l }, (_, i) => i % 10), "int32") },
    unlabelled: rngImages(u, seed + 1),
  };
}

/** A deterministic "strong augmentation" that records its calls: the negative image. */
function countingNegative(calls: number[]): Augmentation {
  return (images, seed) => { calls.push(seed); return tf.sub(1, images) as tf.Tensor4D; };
}

test("createUda: the loss is udaLoss of the head's logits on the labelled, clean and strong images", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(8, 1);
  const calls: number[] = [];
  const options = { lambda: 0.5, confidenceThreshold: 0.1, sharpenTemperature: 0.5 };
  const uda = createUda({ encoder, encoderDim: 8, strongAugmentation: countingNegative(calls), seed: 3, ...options });
  const batch = tinyBatch(4, 6, 5);
  const before = tf.memory().numTensors;
  const [got, want, metric, accuracy] = tf.tidy(() => {
    const out = uda.loss(batch, ctxOf(9));
    const logits = (x: tf.Tensor) => uda.head.apply(encoder.apply(x, { training: true })) as tf.Tensor2D;
    const s = logits(batch.labelled.images);
    const parts = udaLoss(s, batch.labelled.labels, logits(batch.unlabelled), logits(tf.sub(1, batch.unlabelled)), options);
    // Labelled accuracy in float64 from the logits.
    const rows = s.arraySync() as number[][];
    const labels = batch.labelled.labels.arraySync() as number[];
    const hits = rows.filter((r, i) => r.indexOf(Math.max(...r)) === labels[i]).length / rows.length;
    return [out.loss.dataSync()[0], parts.loss.dataSync()[0], out.metrics!.consistency.dataSync()[0] - parts.consistency.dataSync()[0], [out.metrics!.accuracy.dataSync()[0], hits]];
  });
  close(got, want, 1e-5, "method loss vs udaLoss");
  assert.ok(Math.abs(metric) < 1e-6);
  close(accuracy[0], accuracy[1], 1e-6, "labelled accuracy");
  assert.equal(calls.length, 1, "one strong augmentation per step");
  assert.equal(tf.memory().numTensors, before);
  tf.dispose(batch as never);
  uda.dispose();
  encoder.dispose();
});

test("createUda with lambda 0 is supervised cross-entropy: same loss and gradients, the unlabelled images unused", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(8, 2);
  const calls: number[] = [];
  const uda = createUda({ encoder, encoderDim: 8, lambda: 0, strongAugmentation: countingNegative(calls), seed: 4 });
  const batch = tinyBatch(5, 3, 7);
  const vars = [...encoder.trainableWeights, ...uda.head.trainableWeights].map((w) => w.read() as tf.Variable);
  const [methodLoss, methodGrads] = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => uda.loss(batch, ctxOf(1)).loss as tf.Scalar, vars);
    return [value.dataSync()[0], vars.map((v) => Array.from(grads[v.name].dataSync()))];
  });
  const [ceLoss, ceGrads] = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      const logits = uda.head.apply(encoder.apply(batch.labelled.images, { training: true })) as tf.Tensor2D;
      return tf.losses.softmaxCrossEntropy(tf.oneHot(batch.labelled.labels, 10), logits) as tf.Scalar;
    }, vars);
    return [value.dataSync()[0], vars.map((v) => Array.from(grads[v.name].dataSync()))];
  });
  close(methodLoss, ceLoss, 1e-6, "loss");
  methodGrads.forEach((g, i) => g.forEach((v, j) => assert.ok(Math.abs(v - ceGrads[i][j]) < 1e-6, `gradient ${vars[i].name}[${j}]: ${v} vs ${ceGrads[i][j]}`)));
  assert.deepEqual(calls, [], "lambda 0 never augments the unlabelled images");
  tf.dispose(batch as never);
  uda.dispose();
  encoder.dispose();
});

/** 40 seeded 28x28 images with labels 0..9 as an ImageSet. */
function tinySet(seed: number, n = 40): ImageSet {
  const rng = createRng(seed);
  return {
    images: Float32Array.from({ length: n * 784 }, () => rng.next()),
    labels: Int32Array.from({ length: n }, (_, i) => i % 10),
    n,
    shape: [28, 28, 1],
  };
}

test("udaBatches: labelled batches from the labelled rows only, each unlabelled row once per epoch, fixed by the seed", async () => {
  await tf.setBackend("cpu");
  const set = tinySet(1);
  const labelledRows = [3, 7, 12, 20, 25, 31];
  const make = udaBatches(set, labelledRows, { labelledBatchSize: 4, unlabelledBatchSize: 8, unlabelledIndices: Array.from({ length: 33 }, (_, i) => i + 7) });
  const read = (seed: number) => Array.from(make(0, createRng(seed)), (b) => {
    const out = { l: Array.from(b.labelled.images.dataSync()), y: Array.from(b.labelled.labels.dataSync()), u: Array.from(b.unlabelled.dataSync()) };
    assert.deepEqual(b.labelled.images.shape, [4, 28, 28, 1]);
    assert.deepEqual(b.unlabelled.shape, [8, 28, 28, 1]);
    tf.dispose(b as never);
    return out;
  });
  const before = tf.memory().numTensors;
  const first = read(5);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(first.length, 4, "33 unlabelled rows in batches of 8, the last 1 dropped");
  assert.deepEqual(read(5), first, "the same seed gives the same batches");
  assert.notDeepEqual(read(6), first, "another seed, another order");
  const rowOf = (pixels: number[], k: number) => {
    const image = pixels.slice(k * 784, (k + 1) * 784);
    const row = Array.from({ length: set.n }, (_, r) => r).find((r) => set.images[r * 784] === image[0] && set.images[r * 784 + 1] === image[1]);
    assert.ok(row !== undefined);
    return row;
  };
  const unlabelledSeen: number[] = [];
  for (const b of first) {
    for (let k = 0; k < 4; k++) {
      const row = rowOf(b.l, k);
      assert.ok(labelledRows.includes(row), `labelled row ${row}`);
      assert.equal(b.y[k], set.labels[row]);
    }
    for (let k = 0; k < 8; k++) unlabelledSeen.push(rowOf(b.u, k));
  }
  assert.equal(new Set(unlabelledSeen).size, 32, "no unlabelled row twice in an epoch");
  assert.ok(unlabelledSeen.every((r) => r >= 7), "only the unlabelled pool");
  const bad: Array<[() => unknown, RegExp]> = [
    [() => udaBatches(set, [], { labelledBatchSize: 1, unlabelledBatchSize: 1 }), /udaBatches: labelledIndices must be a non-empty array of row indices, got \[\]/],
    [() => udaBatches(set, [1, 40], { labelledBatchSize: 1, unlabelledBatchSize: 1 }), /udaBatches: labelledIndices\[1\] must be an integer in \[0, 40\), got 40/],
    [() => udaBatches(set, [1, 1], { labelledBatchSize: 1, unlabelledBatchSize: 1 }), /udaBatches: labelledIndices must hold distinct rows, got 1 twice/],
    [() => udaBatches(set, [1, 2], { labelledBatchSize: 3, unlabelledBatchSize: 1 }), /udaBatches: options.labelledBatchSize must be at most the 2 labelled rows, got 3/],
    [() => udaBatches(set, [1, 2], { labelledBatchSize: 2, unlabelledBatchSize: 41 }), /udaBatches: options.unlabelledBatchSize must be at most the 40 unlabelled rows, got 41/],
    [() => udaBatches(set, [1, 2], { labelledBatchSize: 0, unlabelledBatchSize: 4 }), /udaBatches: options.labelledBatchSize must be a positive integer, got 0/],
  ];
  for (const [call, message] of bad) assert.throws(call, message);
});

test("createUda trains through training.train: weights move, no tensor leak, one seed one run, dispose frees the head", async () => {
  await tf.setBackend("cpu");
  const set = tinySet(2);
  const run = async () => {
    const encoder = denseEncoder(8, 5);
    const start = tf.memory().numTensors;
    const uda = createUda({ encoder, encoderDim: 8, confidenceThreshold: 0.05, sharpenTemperature: 0.5, seed: 6 });
    const e0 = snapshot(encoder);
    const h0 = snapshot(uda.head);
    const optimizer = tf.train.adam(1e-2);
    const { history, counts } = await trainCounting<UdaBatch>({
      ...uda, optimizer, batches: udaBatches(set, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], { labelledBatchSize: 5, unlabelledBatchSize: 8 }), steps: 5, seed: 8,
    });
    assert.ok(history.loss.every(Number.isFinite));
    for (const key of ["supervised", "consistency", "maskRate", "accuracy"]) assert.equal(history.metrics[key].length, 5, key);
    assert.ok(allMoved(snapshot(encoder), e0), "every encoder weight moves");
    assert.ok(allMoved(snapshot(uda.head), h0), "every head weight moves");
    assertSteadyTensors(counts, 5);
    const weights = snapshot(encoder).concat(snapshot(uda.head));
    optimizer.dispose();
    uda.dispose();
    assert.equal(tf.memory().numTensors, start, "dispose frees the head, not the encoder");
    assert.ok(!encoder.weights[0].read().isDisposed);
    encoder.dispose();
    return { loss: history.loss, weights };
  };
  const [a, b] = [await run(), await run()];
  assert.deepEqual(a.loss, b.loss, "the same seed gives the same losses");
  assert.deepEqual(a.weights, b.weights, "and the same weights");
});

test("createUda: predict and accuracy in inference mode, in chunks, without leaks", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(8, 3);
  const uda = createUda({ encoder, encoderDim: 8, numClasses: 3, seed: 2 });
  const x = rngImages(7, 4);
  const labels = [0, 1, 2, 0, 1, 2, 0];
  const before = tf.memory().numTensors;
  const whole = uda.logits(x);
  const chunked = uda.logits(x, 3);
  assert.deepEqual(whole.shape, [7, 3]);
  assert.deepEqual(Array.from(chunked.dataSync()).map((v, i) => Math.abs(v - whole.dataSync()[i]) < 1e-6), Array(21).fill(true));
  const rows = whole.arraySync();
  const predicted = uda.predict(x, 2);
  assert.equal(predicted.dtype, "int32");
  assert.deepEqual(Array.from(predicted.dataSync()), rows.map((r) => r.indexOf(Math.max(...r))));
  const hits = rows.filter((r, i) => r.indexOf(Math.max(...r)) === labels[i]).length;
  assert.equal(uda.accuracy(x, labels), hits / 7);
  tf.dispose([whole, chunked, predicted]);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => uda.accuracy(x, [0, 1, 3, 0, 1, 2, 0]), /UDA.accuracy: labels must hold integers in \[0, 3\), got 3 at index 2/);
  assert.throws(() => uda.predict(tf.zeros([2, 28, 28]) as never), /UDA.logits: images must be a float32 tensor of rank 4, got a tensor of shape \[2,28,28\]/);
  x.dispose();
  uda.dispose();
  encoder.dispose();
});

test("createUda rejects bad options and batches", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(8, 1);
  const bad: Array<[object, RegExp]> = [
    [{ encoder: {}, encoderDim: 8 }, /createUda: options.encoder must be a tf.LayersModel, got an object/],
    [{ encoder, encoderDim: 0 }, /createUda: options.encoderDim must be a positive integer, got 0/],
    [{ encoder, encoderDim: 8, numClasses: 1 }, /createUda: options.numClasses must be at least 2, got 1/],
    [{ encoder, encoderDim: 8, lambda: NaN }, /createUda: options.lambda must be a finite number >= 0, got NaN/],
    [{ encoder, encoderDim: 8, confidenceThreshold: -0.1 }, /createUda: options.confidenceThreshold must be a number in \[0, 1\), got -0.1/],
    [{ encoder, encoderDim: 8, sharpenTemperature: -1 }, /createUda: options.sharpenTemperature must be a finite number > 0, got -1/],
    [{ encoder, encoderDim: 8, strongAugmentation: "randaugment" }, /createUda: options.strongAugmentation must be a function \(images, seed\) => images, got "randaugment"/],
    [{ encoder, encoderDim: 8, seed: 0.5 }, /createUda: options.seed must be an integer, got 0.5/],
  ];
  for (const [options, message] of bad) assert.throws(() => createUda(options as never), message);
  const wrongDim = createUda({ encoder, encoderDim: 6 });
  const batch = tinyBatch(2, 2, 1);
  assert.throws(() => tf.tidy(() => { wrongDim.loss(batch, ctxOf(1)); }), /UDA\.loss: encoder must map \[6,28,28,1\] to \[6,6\], got a tensor of shape \[6,8\]/);
  const mismatched = { labelled: { images: batch.labelled.images, labels: tf.tensor1d([0, 1, 2], "int32") }, unlabelled: batch.unlabelled };
  assert.throws(() => wrongDim.loss(mismatched, ctxOf(1)), /UDA\.loss: batch\.labelled\.labels must have shape \[2\] \(one per labelled image, at least one\), got \[3\]/);
  const supervised = createUda({ encoder, encoderDim: 8, numClasses: 3, lambda: 0 });
  const outOfRange = { labelled: { images: batch.labelled.images, labels: tf.tensor1d([0, 5], "int32") }, unlabelled: batch.unlabelled };
  assert.throws(() => tf.tidy(() => { supervised.loss(outOfRange, ctxOf(1)); }), /UDA\.loss: batch\.labelled\.labels must hold class ids in \[0, 3\), got 5 at index 1/);
  outOfRange.labelled.labels.dispose();
  supervised.dispose();
  const wrongShape = { labelled: batch.labelled, unlabelled: tf.zeros([2, 14, 14, 1]) as tf.Tensor4D };
  assert.throws(() => wrongDim.loss(wrongShape, ctxOf(1)), /UDA\.loss: batch\.unlabelled must be \[U, 28,28,1\] with U >= 1, got a tensor of shape \[2,14,14,1\]/);
  tf.dispose([batch as never, mismatched.labelled.labels, wrongShape.unlabelled]);
  wrongDim.dispose();
  encoder.dispose();
});

test("createUda on MNIST digits: the consistency term makes predictions agree under the strong augmentation, beyond supervised training on the same labels", async () => {
  // On wasm: the default strong augmentation rotates, and cpu's image.transform is wrong for batches > 1.
  // What holds at test scale (one dense layer, 5 labels per class, 80 steps; measured on wasm, seeds 1 and 2; this runs seed 1):
  // test digits whose clean and augmented predictions agree, 0.650/0.664 supervised and 0.738/0.744 with UDA;
  // test accuracy 0.662/0.668 supervised and 0.640/0.642 with UDA. A dense layer cannot become invariant to
  // crops and rotations without losing accuracy, so the accuracy gain is measured at notebook scale (a CNN), not here.
  await onWasm(async () => {
    const { train, test: heldOut } = loadMnist({ trainSize: 1000, testSize: 500 });
    const { x, y } = toTensors(heldOut);
    const strong = simclrAugment({ strength: 0.5 });
    const rows = sampleLabelsPerClass(train.labels, 5, 1);
    const run = async (lambda: number) => {
      const encoder = denseEncoder(32, 1);
      const uda = createUda({ encoder, encoderDim: 32, lambda, strongAugmentation: strong, seed: 1 });
      const optimizer = tf.train.adam(3e-3);
      const { counts } = await trainCounting<UdaBatch>({ ...uda, optimizer, batches: udaBatches(train, rows, { labelledBatchSize: 50, unlabelledBatchSize: 32 }), steps: 80, seed: 1 });
      assertSteadyTensors(counts, 80);
      const accuracy = uda.accuracy(x, y);
      const agreement = tf.tidy(() => {
        const views = strong(x, 99);
        return tf.mean(tf.cast(tf.equal(uda.predict(x), uda.predict(views)), "float32")).dataSync()[0];
      });
      optimizer.dispose();
      uda.dispose();
      encoder.dispose();
      return { accuracy, agreement };
    };
    const supervised = await run(0);
    const uda = await run(1);
    assert.ok(uda.agreement > supervised.agreement + 0.03, `agreement under the strong augmentation: UDA ${uda.agreement}, supervised ${supervised.agreement}`);
    // Chance is 0.1; both runs learn the digits.
    assert.ok(supervised.accuracy > 0.5 && uda.accuracy > 0.5, `test accuracy: supervised ${supervised.accuracy}, UDA ${uda.accuracy}`);
    tf.dispose([x, y]);
  });
});
