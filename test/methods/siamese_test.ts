import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng, type Rng } from "../../src/data/random";
import { pairBatches, tripletBatches } from "../../src/data/image_batches";
import type { ImageSet } from "../../src/data/mnist";
import { contrastiveLoss } from "../../src/losses/contrastive";
import { tripletLoss } from "../../src/losses/triplet";
import { mlpHead } from "../../src/models/encoders";
import { createSiameseContrastive, createSiameseTriplet, fitDistanceThreshold, pairDistances, verificationAccuracy, type SiameseMethod } from "../../src/methods/siamese";
import { train, type StepContext } from "../../src/training/loop";

test("pairDistances matches a float64 loop and leaves no tensors", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(1);
  const a = Array.from({ length: 6 }, () => Array.from({ length: 3 }, () => rng.normal()));
  const b = Array.from({ length: 6 }, () => Array.from({ length: 3 }, () => rng.normal()));
  const ta = tf.tensor2d(a), tb = tf.tensor2d(b);
  const before = tf.memory().numTensors;
  const d = pairDistances(ta, tb);
  assert.equal(tf.memory().numTensors, before);
  for (let i = 0; i < 6; i++) {
    const ref = Math.hypot(...a[i].map((v, k) => v - b[i][k]));
    assert.ok(Math.abs(d[i] - ref) < 1e-5);
  }
  const wrong = tf.zeros([5, 3]) as tf.Tensor2D;
  assert.throws(() => pairDistances(ta, wrong), /pairDistances: b must have shape \[6, 3\], got \[5, 3\]/);
  tf.dispose([ta, tb, wrong]);
});

test("fitDistanceThreshold finds the best threshold of a brute-force search", () => {
  // Hand case: same pairs at 0.1, 0.3, 0.9; different at 0.5, 1.2, 2. Best: threshold in (0.3, 0.5) -> 5/6.
  const fit = fitDistanceThreshold([0.1, 0.5, 0.3, 1.2, 0.9, 2], [1, 0, 1, 0, 1, 0]);
  assert.equal(fit.threshold, 0.4);
  assert.ok(Math.abs(fit.accuracy - 5 / 6) < 1e-12);
  assert.equal(verificationAccuracy([0.1, 0.5, 0.3, 1.2, 0.9, 2], [1, 0, 1, 0, 1, 0], 0.4), 5 / 6);
  // Random cases with ties against trying every candidate threshold.
  const rng = createRng(3);
  for (let trial = 0; trial < 30; trial++) {
    const n = 1 + rng.int(40);
    const dist = Array.from({ length: n }, () => Math.round(rng.next() * 10) / 2);
    const same = Array.from({ length: n }, (_, i) => (rng.next() < 0.6 - 0.05 * dist[i] ? 1 : 0));
    const candidates = [-1, ...dist, ...dist.map((v) => v + 1e-9), 100];
    const best = Math.max(...candidates.map((t) => verificationAccuracy(dist, same, t)));
    const got = fitDistanceThreshold(dist, same);
    assert.ok(Math.abs(got.accuracy - best) < 1e-12, `trial ${trial}: ${got.accuracy} vs ${best}`);
    assert.ok(Math.abs(verificationAccuracy(dist, same, got.threshold) - got.accuracy) < 1e-12);
  }
  // All "same": a threshold above every distance.
  const allSame = fitDistanceThreshold([1, 2, 3], [1, 1, 1]);
  assert.equal(allSame.accuracy, 1);
  assert.ok(allSame.threshold > 3);
});

test("bad input is rejected naming the argument", () => {
  assert.throws(() => fitDistanceThreshold([], []), /fitDistanceThreshold: distances must not be empty/);
  assert.throws(() => fitDistanceThreshold([1, 2], [1]), /fitDistanceThreshold: same must have length 2, got 1/);
  assert.throws(() => fitDistanceThreshold([1, NaN], [1, 0]), /fitDistanceThreshold: distances\[1\] must be finite, got NaN/);
  assert.throws(() => verificationAccuracy([1, 2], [1, 2], 1), /verificationAccuracy: same\[1\] must be 0 or 1, got 2/);
  assert.throws(() => verificationAccuracy([1, 2], [1, 0], NaN), /verificationAccuracy: threshold must be a number, got NaN/);
});

/** Three classes of 4-pixel "images": a class prototype plus small noise. */
function clusteredSet(n: number, seed: number): ImageSet {
  const rng = createRng(seed);
  const protos = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1]];
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  const images = Float32Array.from({ length: n * 4 }, (_, k) => protos[labels[Math.floor(k / 4)]][k % 4] + 0.1 * rng.normal());
  return { images, labels, n, shape: [2, 2, 1] };
}

const ctxOf = (seed: number): StepContext => ({ step: 0, epoch: 0, stepInEpoch: 0, seed, rng: createRng(seed) });

/** Checks one siamese method against a reference loss of the sides embedded one at a time, trains it, disposes it. */
async function checkSiamese<B extends { x: tf.Tensor2D }>(
  kind: string,
  encoder: tf.LayersModel,
  method: SiameseMethod<B>,
  batches: (epoch: number, rng: Rng) => Generator<B>,
  reference: (sides: tf.Tensor2D[], batch: B) => tf.Tensor,
  parts: number,
): Promise<void> {
  const before = tf.memory().numTensors;
  assert.equal(method.name, `siamese, ${kind} loss`);
  assert.deepEqual(method.trainable, [encoder]);
  assert.equal(method.margin, 1);
  const batch = batches(0, createRng(5)).next().value as B;
  const b = batch.x.shape[0] / parts;
  const [got, want] = tf.tidy(() => {
    const sides = Array.from({ length: parts }, (_, i) => encoder.apply(batch.x.slice([b * i, 0], [b, 4])) as tf.Tensor2D);
    return [method.loss(batch, ctxOf(0)) as tf.Tensor, reference(sides, batch)];
  });
  assert.ok(Math.abs(got.dataSync()[0] - want.dataSync()[0]) < 1e-6, `${kind}: ${got.dataSync()[0]} vs ${want.dataSync()[0]}`);
  assert.equal(method.itemsPerBatch!(batch), parts * 16);
  tf.dispose([got, want, ...(Object.values(batch) as tf.Tensor[])]);
  const optimizer = tf.train.adam(0.02);
  const history = await train({ ...method, optimizer, batches, steps: 80, seed: 3, progress: false });
  optimizer.dispose();
  assert.equal(tf.memory().numTensors, before);
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const first = mean(history.loss.slice(0, 10)), last = mean(history.loss.slice(-10));
  assert.ok(last < first / 2, `${kind}: loss ${first} -> ${last}`);
  method.dispose();
  assert.equal(tf.memory().numTensors, before, `${kind}: the encoder was passed in, dispose frees nothing`);
  const odd = { x: tf.zeros([5, 4]), same: tf.ones([2]) } as unknown as B;
  const where = kind === "contrastive" ? "SiameseContrastive" : "SiameseTriplet";
  assert.throws(() => tf.tidy(() => method.loss(odd, ctxOf(0)) as tf.Tensor), new RegExp(`${where}\\.loss: batch\\.x must have shape \\[${parts} \\* B, \\.\\.\\.\\] with B >= 1, got \\[5, 4\\]`));
  tf.dispose(Object.values(odd) as tf.Tensor[]);
}

test("createSiameseContrastive and createSiameseTriplet: losses of the split embeddings; they train through training.train; dispose keeps the encoder", async () => {
  await tf.setBackend("cpu");
  const set = clusteredSet(60, 1);
  const contrastiveEncoder = mlpHead({ inputDim: 4, hidden: [8], outputDim: 2, seed: 2, name: "siamese_contrastive" });
  await checkSiamese("contrastive", contrastiveEncoder, createSiameseContrastive({ encoder: contrastiveEncoder, margin: 1 }),
    pairBatches(set, { batchSize: 16 }), ([z1, z2], batch) => contrastiveLoss(z1, z2, batch.same, { margin: 1 }), 2);
  const tripletEncoder = mlpHead({ inputDim: 4, hidden: [8], outputDim: 2, seed: 2, name: "siamese_triplet" });
  await checkSiamese("triplet", tripletEncoder, createSiameseTriplet({ encoder: tripletEncoder, margin: 1 }),
    tripletBatches(set, { batchSize: 16 }), ([a, p, n]) => tripletLoss(a, p, n, { margin: 1 }), 3);
  contrastiveEncoder.dispose();
  tripletEncoder.dispose();
  assert.throws(() => createSiameseContrastive({ encoder: {} as tf.LayersModel }), /createSiameseContrastive: options.encoder must be a tf.LayersModel, got object/);
  const encoder = mlpHead({ inputDim: 4, hidden: [], outputDim: 2, seed: 1 });
  assert.throws(() => createSiameseTriplet({ encoder, margin: 0 }), /createSiameseTriplet: options.margin must be a finite number > 0, got 0/);
  assert.equal(createSiameseTriplet({ encoder }).margin, 0.2);
  encoder.dispose();
});
