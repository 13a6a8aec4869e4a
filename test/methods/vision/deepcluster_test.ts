import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { gaussianPixelNoise } from "../../../src/augment/photometric";
import { createDeepCluster } from "../../../src/methods/vision/deepcluster";
import { normalizedMutualInformation } from "../../../src/evaluation/mutual_information";
import type { VisionBatch } from "../../../src/methods/vision/method";
import { mlpHead } from "../../../src/models/encoders";
import { createRng } from "../../../src/data/random";
import { deriveSeed } from "../../../src/training/loop";
import { assertSteadyTensors, ctxOf, denseEncoder, randomImages, trainCounting } from "./helpers";

/** `sizes[g]` noisy copies of prototype g (well-separated groups); returns the images and each image's group. */
function groupedImages(sizes: number[], seed: number): { images: tf.Tensor4D; groups: Int32Array } {
  const rng = createRng(seed);
  const protos = sizes.map(() => Array.from({ length: 784 }, () => rng.next()));
  const groups = Int32Array.from(sizes.flatMap((s, g) => Array(s).fill(g)));
  const data = new Float32Array(groups.length * 784);
  groups.forEach((g, i) => protos[g].forEach((v, j) => (data[i * 784 + j] = v + 0.02 * rng.normal())));
  return { images: tf.tensor4d(data, [groups.length, 28, 28, 1]), groups };
}
const values = (m: tf.LayersModel) => m.getWeights().map((w) => Float64Array.from(w.dataSync()));
const noise = gaussianPixelNoise({ std: 0.05 });
const same = (a: Float64Array[], b: Float64Array[]) => a.length === b.length && a.every((w, i) => w.length === b[i].length && w.every((v, j) => v === b[i][j]));
const drain = (it: Iterable<VisionBatch>) => { for (const b of it) b.images.dispose(); };

test("createDeepCluster: batches(epoch) clusters the features (the groups, NMI 1), samples uniformly over clusters, re-initialises the head", async () => {
  await tf.setBackend("cpu");
  const { images, groups } = groupedImages([30, 6, 4], 1);
  const encoder = denseEncoder(8, 2, { activation: "tanh" });
  const dc = createDeepCluster({ encoder, encoderDim: 8, images, clusters: 3, pcaDim: 2, batchSize: 8, stepsPerEpoch: 250, labels: groups, augmentation: noise, seed: 3 });
  assert.equal(dc.pseudoLabels.length, 0);
  const it = dc.batches(0, createRng(4));
  assert.equal(dc.pseudoLabels.length, 40, "clustered when batches is called, before the first batch");
  assert.equal(normalizedMutualInformation(dc.pseudoLabels, groups), 1, "the three groups are found");
  assert.equal(dc.history[0].nmiLabels, 1);
  assert.deepEqual([...dc.clusterSizes].sort((p, q) => p - q), [4, 6, 30]);
  const fresh = mlpHead({ inputDim: 8, hidden: [], outputDim: 3, seed: deriveSeed(3, 0) });
  assert.ok(same(values(dc.head), values(fresh)), "the head holds a fresh init of seed deriveSeed(seed, epoch)");
  fresh.dispose();
  // 250 x 8 = 2000 draws: each cluster ~1/3 (sd ~21), not 30:6:4 as uniform over images would give.
  const perCluster = [0, 0, 0];
  const perImage = new Array(40).fill(0);
  let batches = 0;
  for (const batch of it) {
    batches++;
    assert.deepEqual(batch.images.shape, [8, 28, 28, 1]);
    const rows = batch.images.reshape([8, 784]).arraySync() as number[][];
    const want = tf.tidy(() => images.reshape([40, 784]).gather(tf.tensor1d(batch.indices!, "int32")).arraySync()) as number[][];
    assert.deepEqual(rows, want, "batch.images are the images at batch.indices");
    batch.images.dispose();
    for (const i of batch.indices!) {
      perCluster[dc.pseudoLabels[i]]++;
      perImage[i]++;
    }
  }
  assert.equal(batches, 250);
  for (const c of perCluster) assert.ok(Math.abs(c - 2000 / 3) < 100, `draws per cluster ${perCluster}`);
  // Within a cluster, uniform: each of the 4 images of the smallest group ~1/12 of the draws (~167, sd ~12).
  groups.forEach((g, i) => { if (g === 2) assert.ok(Math.abs(perImage[i] - 2000 / 12) < 60, `draws of image ${i}: ${perImage[i]}`); });
  dc.dispose();
  encoder.dispose();
  images.dispose();
});

test("createDeepCluster: the loss is the cross-entropy of head(encoder(aug(x))) against the pseudo-labels (float64 reference)", async () => {
  await tf.setBackend("cpu");
  const images = randomImages(12, 5);
  const encoder = denseEncoder(6, 6, { activation: "tanh" });
  const dc = createDeepCluster({ encoder, encoderDim: 6, images, clusters: 4, batchSize: 5, stepsPerEpoch: 1, augmentation: noise, seed: 7 });
  drain(dc.batches(0, createRng(1)));
  const indices = Int32Array.from([3, 0, 11, 3, 7]);
  const x = tf.gather(images, tf.tensor1d(indices, "int32")) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  const [got, accuracy, logits] = tf.tidy(() => {
    const out = dc.loss({ images: x, indices }, ctxOf(9));
    const l = (dc.head.apply(encoder.apply(noise(x, 9))) as tf.Tensor).arraySync() as number[][];
    return [out.loss.dataSync()[0], out.metrics!.accuracy.dataSync()[0], l];
  }) as unknown as [number, number, number[][]];
  assert.equal(tf.memory().numTensors, before);
  let want = 0, hits = 0;
  logits.forEach((row, i) => {
    const y = dc.pseudoLabels[indices[i]];
    const max = Math.max(...row);
    want += max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) - row[y];
    if (row.indexOf(max) === y) hits++;
  });
  assert.ok(Math.abs(got - want / 5) < 1e-5, `${got} vs ${want / 5}`);
  assert.ok(Math.abs(accuracy - hits / 5) < 1e-6);
  assert.throws(() => dc.loss({ images: x }, ctxOf(1)), /DeepCluster.loss: batch.indices must be an Int32Array of length 5 \(each image's row in options.images\), got undefined/);
  assert.throws(() => dc.loss({ images: x, indices: Int32Array.from([0, 1, 2, 3, 12]) }, ctxOf(1)), /DeepCluster.loss: batch.indices must be in \[0, 11\], got 12/);
  x.dispose();
  dc.dispose();
  encoder.dispose();
  images.dispose();
});

test("createDeepCluster trains through training.train: pseudo-labels change, the re-initialised head is what Adam updates, slots reset, no leak", async () => {
  await tf.setBackend("cpu");
  const images = randomImages(48, 11);
  const encoder = denseEncoder(8, 12, { activation: "tanh" });
  const start = tf.memory().numTensors;
  const optimizer = tf.train.adam(3e-2);
  const dc = createDeepCluster({ encoder, encoderDim: 8, images, clusters: 5, batchSize: 8, stepsPerEpoch: 4, augmentation: noise, optimizer, seed: 13 });
  const e0 = values(encoder);
  const atClustering: Float64Array[][] = [];
  const labelsAt: Int32Array[] = [];
  const slotsAt: Array<{ head: number; encoder: number }> = [];
  const headNames = new Set(dc.head.trainableWeights.map((w) => (w.read() as tf.Variable).name));
  const slotSums = () => {
    const sums = { head: 0, encoder: 0 };
    const state = optimizer as unknown as { accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable }>; accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable }> };
    for (const slot of [...state.accumulatedFirstMoment, ...state.accumulatedSecondMoment]) {
      const owner = slot.originalName.slice(0, slot.originalName.lastIndexOf("/"));
      const s = tf.tidy(() => tf.sum(tf.abs(slot.variable)).dataSync()[0]);
      if (headNames.has(owner)) sums.head += s;
      else sums.encoder += s;
    }
    return sums;
  };
  const { history, counts } = await trainCounting<VisionBatch>({
    ...dc,
    batches: (epoch, rng) => {
      const it = dc.batches(epoch, rng);
      atClustering.push(values(dc.head));
      labelsAt.push(dc.pseudoLabels);
      slotsAt.push(slotSums());
      return it;
    },
    optimizer, epochs: 3, seed: 14,
  });
  assert.equal(history.steps, 12);
  assert.ok(history.loss.every(Number.isFinite), `losses ${history.loss}`);
  assert.ok(history.metrics.accuracy.every((a) => a >= 0 && a <= 1));
  assert.ok(values(encoder).every((w, i) => w.some((v, j) => Math.abs(v - e0[i][j]) > 1e-6)), "the encoder moves");
  atClustering.forEach((w, epoch) => {
    const fresh = mlpHead({ inputDim: 8, hidden: [], outputDim: 5, seed: deriveSeed(13, epoch) });
    assert.ok(same(w, values(fresh)), `epoch ${epoch}: head = a fresh init after batches(epoch)`);
    fresh.dispose();
  });
  assert.ok(!same(values(dc.head), atClustering[2]), "the optimizer updates the re-initialised head (same variables)");
  assert.equal(slotsAt[0].head + slotsAt[0].encoder, 0, "no slots before the first step");
  for (const s of slotsAt.slice(1)) {
    assert.equal(s.head, 0, "the head's Adam moments are zeroed at each clustering");
    assert.ok(s.encoder > 0, "the encoder's are kept");
  }
  assert.equal(dc.history.length, 3);
  assert.ok(labelsAt[1].some((c, i) => c !== labelsAt[0][i]), "pseudo-labels change after re-clustering");
  dc.history.forEach((r, epoch) => {
    assert.equal(r.epoch, epoch);
    assert.ok(Number.isFinite(r.inertia) && r.inertia > 0);
    assert.equal(r.nmiLabels, undefined);
    if (epoch === 0) assert.equal(r.nmiPrevious, undefined);
    else assert.equal(r.nmiPrevious, normalizedMutualInformation(labelsAt[epoch - 1], labelsAt[epoch]));
  });
  assertSteadyTensors(counts, 12);
  optimizer.dispose();
  dc.dispose();
  assert.equal(tf.memory().numTensors, start, "dispose frees the head and pseudo-labels, not the encoder or images");
  encoder.dispose();
  images.dispose();
});

test("createDeepCluster rejects bad options", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(6, 1, { activation: "tanh" });
  const images = randomImages(10, 1);
  const bad: Array<[object, RegExp]> = [
    [{ encoder, encoderDim: 6 }, /createDeepCluster: options.images must be a float32 tf.Tensor4D \[N, 28, 28, 1\], got undefined/],
    [{ encoder, encoderDim: 6, images: tf.zeros([10, 784]) }, /createDeepCluster: options.images must be a float32 tf.Tensor4D \[N, 28, 28, 1\], got float32 \[10, 784\]/],
    [{ encoder, encoderDim: 6, images, clusters: 11 }, /createDeepCluster: options.clusters must be in \[2, 10\] \(the images\), got 11/],
    [{ encoder, encoderDim: 6, images, clusters: 2.5 }, /createDeepCluster: options.clusters must be a positive integer, got 2.5/],
    [{ encoder, encoderDim: 6, images, clusters: 3, batchSize: 0 }, /createDeepCluster: options.batchSize must be a positive integer, got 0/],
    [{ encoder, encoderDim: 6, images, clusters: 3, stepsPerEpoch: -1 }, /createDeepCluster: options.stepsPerEpoch must be a positive integer, got -1/],
    [{ encoder, encoderDim: 6, images, clusters: 3, pcaDim: 7 }, /createDeepCluster: options.pcaDim must be <= encoderDim = 6, got 7/],
    [{ encoder, encoderDim: 6, images, clusters: 3, hidden: [0] }, /createDeepCluster: options.hidden must be an array of positive integers, got \[0\]/],
    [{ encoder, encoderDim: 6, images, clusters: 3, labels: [1, 2] }, /createDeepCluster: options.labels must have length 10 \(one per image\), got 2/],
    [{ encoder, encoderDim: 6, images, clusters: 3, optimizer: tf.train.adagrad(0.1) }, /createDeepCluster: options.optimizer must be a tf.AdamOptimizer, tf.MomentumOptimizer or tf.SGDOptimizer \(whose head slots can be reset\), got Adagrad/],
    [{ encoder, encoderDim: 6, images, clusters: 3, augmentation: 3 }, /createDeepCluster: options.augmentation must be a function \(images, seed\) => images, got number/],
    [{ encoder: {}, encoderDim: 6, images }, /createDeepCluster: options.encoder must be a tf.LayersModel/],
    [{ encoder, encoderDim: 0, images }, /createDeepCluster: options.encoderDim must be a positive integer, got 0/],
  ];
  for (const [options, message] of bad) assert.throws(() => createDeepCluster(options as never), message, String(message));
  assert.throws(() => createDeepCluster(null as never), /createDeepCluster: options must be an object/);
  const dc = createDeepCluster({ encoder, encoderDim: 6, images, clusters: 3, augmentation: noise });
  const x = images.slice(0, 2) as tf.Tensor4D;
  assert.throws(() => dc.loss({ images: x, indices: Int32Array.from([0, 1]) }, ctxOf(1)), /DeepCluster.loss: pseudo-labels must exist: call batches\(epoch, rng\) first/);
  assert.throws(() => dc.batches(-1, createRng(1)), /DeepCluster.batches: epoch must be a non-negative integer, got -1/);
  const wrongDim = createDeepCluster({ encoder, encoderDim: 5, images, clusters: 3, augmentation: noise });
  assert.throws(() => wrongDim.batches(0, createRng(1)), /createDeepCluster: encoder must map images to \[N, 5\], got \[10, 6\]/);
  wrongDim.dispose();
  x.dispose();
  dc.dispose();
  encoder.dispose();
  images.dispose();
});
