import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { pairBatches, tripletBatches } from "../../src/data/image_batches";
import type { ImageSet } from "../../src/data/mnist";
import { contrastiveLoss } from "../../src/losses/contrastive";
import { tripletLoss } from "../../src/losses/triplet";
import { mlpHead } from "../../src/models/encoders";
import { createSiameseContrastive, createSiameseTriplet, fitDistanceThreshold, pairDistances, verificationAccuracy } from "../../src/methods/siamese";
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

test("createSiameseContrastive and createSiameseTriplet: losses of the split embeddings; they train through training.train; dispose keeps the encoder", async () => {
  await tf.setBackend("cpu");
  const set = clusteredSet(60, 1);
  for (const kind of ["contrastive", "triplet"] as const) {
    const encoder = mlpHead({ inputDim: 4, hidden: [8], outputDim: 2, seed: 2, name: `siamese_${kind}` });
    const before = tf.memory().numTensors;
    const method = kind === "contrastive" ? createSiameseContrastive({ encoder, margin: 1 }) : createSiameseTriplet({ encoder, margin: 1 });
    assert.equal(method.name, `siamese, ${kind} loss`);
    assert.deepEqual(method.trainable, [encoder]);
    assert.equal(method.margin, 1);
    const batches = (kind === "contrastive" ? pairBatches(set, { batchSize: 16 }) : tripletBatches(set, { batchSize: 16 })) as (e: number, r: ReturnType<typeof createRng>) => Generator<{ x: tf.Tensor2D; same?: tf.Tensor1D }>;
    const batch = batches(0, createRng(5)).next().value!;
    const [got, want] = tf.tidy(() => {
      const loss = (method.loss as (b: typeof batch, c: StepContext) => tf.Tensor)(batch, ctxOf(0));
      // The reference embeds each side on its own.
      const parts = kind === "contrastive" ? 2 : 3;
      const z = Array.from({ length: parts }, (_, i) => encoder.apply(batch.x.slice([16 * i, 0], [16, 4])) as tf.Tensor2D);
      const reference = kind === "contrastive" ? contrastiveLoss(z[0], z[1], batch.same!, { margin: 1 }) : tripletLoss(z[0], z[1], z[2], { margin: 1 });
      return [loss, reference];
    });
    assert.ok(Math.abs(got.dataSync()[0] - want.dataSync()[0]) < 1e-6, `${kind}: ${got.dataSync()[0]} vs ${want.dataSync()[0]}`);
    assert.equal((method.itemsPerBatch as (b: typeof batch) => number)(batch), kind === "contrastive" ? 32 : 48);
    tf.dispose([got, want, batch.x, ...(batch.same ? [batch.same] : [])]);
    const optimizer = tf.train.adam(0.02);
    const history = await train({ ...(method as never as { loss: (b: typeof batch) => tf.Tensor; trainable: tf.LayersModel[] }), optimizer, batches, steps: 80, seed: 3, progress: false });
    optimizer.dispose();
    assert.equal(tf.memory().numTensors, before);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const first = mean(history.loss.slice(0, 10)), last = mean(history.loss.slice(-10));
    assert.ok(last < first / 2, `${kind}: loss ${first} -> ${last}`);
    method.dispose();
    assert.equal(tf.memory().numTensors, before, `${kind}: the encoder was passed in, dispose frees nothing`);
    const odd = tf.zeros([5, 4]) as tf.Tensor2D;
    const name = kind === "contrastive" ? "SiameseContrastive" : "SiameseTriplet";
    assert.throws(() => tf.tidy(() => (method.loss as (b: { x: tf.Tensor2D; same?: tf.Tensor1D }, c: StepContext) => tf.Tensor)({ x: odd, same: tf.ones([2]) as tf.Tensor1D }, ctxOf(0))), new RegExp(`${name}.loss: batch.x must have shape \\[${kind === "contrastive" ? 2 : 3} \\* B, ...\\] with B >= 1, got \\[5, 4\\]`));
    odd.dispose();
    encoder.dispose();
  }
  assert.throws(() => createSiameseContrastive({ encoder: {} as tf.LayersModel }), /createSiameseContrastive: options.encoder must be a tf.LayersModel, got object/);
  const encoder = mlpHead({ inputDim: 4, hidden: [], outputDim: 2, seed: 1 });
  assert.throws(() => createSiameseTriplet({ encoder, margin: 0 }), /createSiameseTriplet: options.margin must be a finite number > 0, got 0/);
  assert.equal(createSiameseTriplet({ encoder }).margin, 0.2);
  encoder.dispose();
});
