/**
 * Every two-view and classification vision method trains on image sets of
 * another shape than MNIST's (RGB 32x32 and grey 20x20) with a tiny
 * smallCnnEncoder sized from the set, the default augmentation
 * (simclrAugment, colour ops on RGB), and leaks nothing; visionComparison
 * runs end to end on RGB with baselines of the right sizes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import "../../../src/backend/select"; // registers the wasm backend
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import { twoViews, simclrAugment } from "../../../src/augment/compose";
import { createRng } from "../../../src/data/random";
import { toTensors, type ImageSet } from "../../../src/data/mnist";
import { gatherImages } from "../../../src/data/batches";
import { smallCnnEncoder } from "../../../src/models/encoders";
import { adam } from "../../../src/training/adam";
import { visionBatches } from "../../../src/methods/vision/batches";
import { visionComparison } from "../../../src/methods/vision/comparison";
import type { VisionMethod } from "../../../src/methods/vision/method";
import { createSimclr } from "../../../src/methods/vision/simclr";
import { createMoco } from "../../../src/methods/vision/moco";
import { createByol } from "../../../src/methods/vision/byol";
import { createSimsiam } from "../../../src/methods/vision/simsiam";
import { createBarlowTwins } from "../../../src/methods/vision/barlow_twins";
import { createSwav } from "../../../src/methods/vision/swav";
import { createAlignUniform } from "../../../src/methods/vision/align_uniform";
import { createDirectClr } from "../../../src/methods/vision/direct_clr";
import { createIMix } from "../../../src/methods/vision/i_mix";
import { createInstDisc } from "../../../src/methods/vision/instdisc";
import { createNnclr } from "../../../src/methods/vision/nnclr";
import { createSupCon } from "../../../src/methods/vision/supcon";
import { createRotNet } from "../../../src/methods/vision/pretext_classifier";
import { createDeepCluster } from "../../../src/methods/vision/deepcluster";
import { createUda, udaBatches } from "../../../src/methods/vision/uda";
import { assertSteadyTensors, snapshot, anyMoved, trainCounting } from "./helpers";

registerTrainingKernels();

const DIM = 8;
const STEPS = 3;
const BATCH = 8;

/** `n` images of `shape` in two classes: class 0 brighter on the left half, class 1 on the right, plus noise; RGB images get a class tint. */
function twoClassSet(n: number, shape: [number, number, number], seed: number): ImageSet {
  const [h, w, c] = shape;
  const rng = createRng(seed);
  const images = new Float32Array(n * h * w * c);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++) {
          const bright = (x < w / 2) === (labels[i] === 0) ? 0.7 : 0.1;
          const tint = c === 3 && k === labels[i] ? 0.1 : 0;
          images[((i * h + y) * w + x) * c + k] = Math.min(1, bright + tint + 0.2 * rng.next());
        }
  }
  return { images, labels, n, shape };
}

const encoderFor = (shape: [number, number, number], seed: number): tf.LayersModel => smallCnnEncoder({ inputShape: shape, channels: [4, 8, DIM], seed });

type Factory = (encoder: tf.LayersModel, set: ImageSet) => { method: VisionMethod<any>; batches?: TrainBatches; labels?: boolean; extra?: () => void };
type TrainBatches = (epoch: number, rng: ReturnType<typeof createRng>) => Iterable<unknown>;

const METHODS: Record<string, Factory> = {
  SimCLR: (encoder) => ({ method: createSimclr({ encoder, encoderDim: DIM, projectionDim: 4, seed: 1 }) }),
  MoCo: (encoder) => ({ method: createMoco({ encoder, encoderDim: DIM, projectionDim: 4, queueSize: 16, seed: 1 }) }),
  BYOL: (encoder) => ({ method: createByol({ encoder, encoderDim: DIM, projectionDim: 4, seed: 1 }) }),
  SimSiam: (encoder) => ({ method: createSimsiam({ encoder, encoderDim: DIM, projectionDim: 4, seed: 1 }) }),
  "Barlow Twins": (encoder) => ({ method: createBarlowTwins({ encoder, encoderDim: DIM, projectionDim: 8, seed: 1 }) }),
  SwAV: (encoder) => ({ method: createSwav({ encoder, encoderDim: DIM, projectionDim: 4, numPrototypes: 5, seed: 1 }) }),
  "alignment + uniformity": (encoder) => ({ method: createAlignUniform({ encoder, encoderDim: DIM, seed: 1 }) }),
  DirectCLR: (encoder) => ({ method: createDirectClr({ encoder, encoderDim: DIM, subvectorDim: 4, seed: 1 }) }),
  "i-Mix": (encoder) => ({ method: createIMix({ encoder, encoderDim: DIM, projectionDim: 4, seed: 1 }) }),
  InstDisc: (encoder, set) => ({ method: createInstDisc({ encoder, encoderDim: DIM, datasetSize: set.n, featureDim: 4, negatives: 8, seed: 1 }) }),
  NNCLR: (encoder) => ({ method: createNnclr({ encoder, encoderDim: DIM, projectionDim: 4, queueSize: 16, seed: 1 }) }),
  SupCon: (encoder) => ({ method: createSupCon({ encoder, encoderDim: DIM, projectionDim: 4, seed: 1 }), labels: true }),
  RotNet: (encoder) => ({ method: createRotNet({ encoder, encoderDim: DIM, seed: 1 }) }),
  DeepCluster: (encoder, set) => {
    const images = gatherImages(set, Int32Array.from({ length: set.n }, (_, i) => i));
    const method = createDeepCluster({ encoder, encoderDim: DIM, images, clusters: 3, batchSize: BATCH, stepsPerEpoch: 2, pcaDim: 4, kmeansIterations: 3, seed: 1 });
    return { method, batches: method.batches, extra: () => images.dispose() };
  },
  UDA: (encoder, set) => {
    const method = createUda({ encoder, encoderDim: DIM, numClasses: 2, seed: 1 });
    return { method, batches: udaBatches(set, [0, 1, 2, 3], { labelledBatchSize: 4, unlabelledBatchSize: BATCH }) };
  },
};

for (const shape of [
  [32, 32, 3],
  [20, 20, 1],
] as [number, number, number][]) {
  test(`every vision method trains ${STEPS} steps on a [${shape}] set with its default augmentation; finite losses, moved weights, no leak`, async () => {
    await tf.setBackend("wasm");
    const set = twoClassSet(24, shape, shape[0]);
    for (const [name, make] of Object.entries(METHODS)) {
      const start = tf.memory().numTensors;
      const encoder = encoderFor(shape, 2);
      const { method, batches, labels, extra } = make(encoder, set);
      const optimizer = adam(1e-3);
      const before = snapshot(encoder);
      const { history, counts } = await trainCounting({
        ...method,
        optimizer,
        steps: STEPS,
        seed: 3,
        batches: (batches ?? visionBatches(set, { batchSize: BATCH, labels: labels ?? false })) as never,
      });
      assert.equal(history.steps, STEPS, name);
      assert.ok(history.loss.every(Number.isFinite), `${name} on [${shape}]: losses ${history.loss}`);
      assert.ok(anyMoved(before, snapshot(encoder)), `${name} on [${shape}]: the encoder did not move`);
      assertSteadyTensors(counts, STEPS);
      method.dispose?.();
      optimizer.dispose();
      encoder.dispose();
      extra?.();
      assert.equal(tf.memory().numTensors, start, `${name} on [${shape}] left tensors behind`);
    }
  });
}

test("visionComparison runs end to end on a tiny RGB 32x32 set; raw pixels are 3072-d, random init and SimCLR 8-d", async () => {
  await tf.setBackend("wasm");
  const shape: [number, number, number] = [32, 32, 3];
  const trainSet = twoClassSet(32, shape, 7);
  const train = toTensors(trainSet);
  const testSplit = toTensors(twoClassSet(16, shape, 8));
  const views = twoViews(simclrAugment());
  const before = tf.memory().numTensors;
  const cmp = visionComparison({ trainSet, train: { x: train.x, y: train.y }, test: { x: testSplit.x, y: testSplit.y }, views, batchSize: BATCH, steps: STEPS, seed: 2 });
  const raw = cmp.addBaseline("raw pixels", (x: tf.Tensor) => tf.reshape(x, [x.shape[0], -1]));
  assert.equal(raw.dim, 32 * 32 * 3);
  const randomEncoder = encoderFor(shape, 4);
  const random = cmp.addBaseline("random init", randomEncoder);
  assert.equal(random.dim, DIM);
  const encoder = encoderFor(shape, 4);
  const simclr = createSimclr({ encoder, encoderDim: DIM, projectionDim: 4, seed: 1 });
  const { history, diagnostics } = await cmp.run(simclr);
  assert.equal(history.steps, STEPS);
  assert.equal(diagnostics.dim, DIM);
  assert.deepEqual(cmp.rows.map((r) => r.name), ["raw pixels", "random init", "SimCLR"]);
  for (const row of cmp.rows) {
    assert.ok(row.linearProbe >= 0 && row.linearProbe <= 1 && row.knn >= 0 && row.knn <= 1, `${row.name}: ${row.linearProbe}, ${row.knn}`);
    assert.ok(Number.isFinite(row.alignment) && Number.isFinite(row.uniformity) && row.effectiveRank >= 1, row.name);
  }
  // The raw RGB halves are linearly separable: the probe on pixels must find it.
  assert.ok(raw.linearProbe >= 0.9, `raw pixels probe ${raw.linearProbe}`);
  assert.match(cmp.describe(diagnostics), /^\*\*SimCLR\*\* after \d+ s of training: linear probe \*\*[0-9.]+\*\* \(random init [0-9.]+\)/);
  simclr.dispose();
  encoder.dispose();
  randomEncoder.dispose();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([train.x, train.y, testSplit.x, testSplit.y]);
});
