import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { twoViews } from "../../../src/augment/compose";
import { gaussianPixelNoise } from "../../../src/augment/photometric";
import { toTensors, type ImageSet } from "../../../src/data/mnist";
import { createSimclr } from "../../../src/methods/vision/simclr";
import { visionComparison } from "../../../src/methods/vision/comparison";
import { representationDiagnostics } from "../../../src/evaluation/diagnostics";

// Two classes of 28x28 images: a bright left half or a bright right half, with noise.
function halves(n: number, seed: number): ImageSet {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const images = new Float32Array(n * 784);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2;
    for (let p = 0; p < 784; p++) {
      const left = p % 28 < 14;
      images[i * 784 + p] = Math.min(1, (left === (labels[i] === 0) ? 0.8 : 0.1) + 0.2 * rand());
    }
  }
  return { images, labels, n, shape: [28, 28, 1] };
}

const denseEncoder = (seed: number) =>
  tf.sequential({
    name: "dense_encoder",
    layers: [
      tf.layers.flatten({ inputShape: [28, 28, 1] }),
      tf.layers.dense({ units: 8, activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
    ],
  });

test("visionComparison: baselines and runs become rows with the shared diagnosis; no tensor leak", async () => {
  await tf.setBackend("cpu");
  const trainSet = halves(32, 1);
  const testSet = halves(16, 2);
  const train = toTensors(trainSet);
  const test_ = toTensors(testSet);
  const views = twoViews(gaussianPixelNoise({ std: 0.05 }));
  const before = tf.memory().numTensors;
  const seen: string[] = [];
  const cmp = visionComparison({ trainSet, train: { x: train.x, y: train.y }, test: { x: test_.x, y: test_.y }, views, batchSize: 8, steps: 3, seed: 5,
    diagnostics: { labelsPerClass: [2], labelDraws: 2 }, onRun: (row, history) => seen.push(`${row.name}:${history.steps}`) });
  const raw = cmp.addBaseline("raw pixels", (x: tf.Tensor) => tf.reshape(x, [x.shape[0], -1]));
  assert.equal(raw.name, "raw pixels");
  assert.equal(raw.trainSeconds, 0);
  assert.equal(raw.dim, 784);
  // The same diagnosis as calling representationDiagnostics with the shared settings.
  const direct = representationDiagnostics({ encoder: (x: tf.Tensor) => tf.reshape(x, [x.shape[0], -1]), train: { x: train.x, y: train.y }, test: { x: test_.x, y: test_.y }, views, seed: 5 });
  assert.equal(raw.linearProbe, direct.linearProbe);
  assert.equal(raw.alignment, direct.alignment);
  assert.equal(raw.fewLabels?.[0].labelsPerClass, 2);
  assert.equal(raw.fewLabels?.[0].linearProbe.values.length, 2);

  const encoder = denseEncoder(3);
  const simclr = createSimclr({ encoder, encoderDim: 8, projectionDim: 4, hidden: [8], augmentation: views, seed: 4 });
  const { history, diagnostics } = await cmp.run(simclr, { learningRate: 1e-2 });
  assert.equal(history.steps, 3);
  assert.equal(diagnostics.name, "SimCLR");
  assert.equal(diagnostics.dim, 8);
  assert.ok(diagnostics.linearProbe >= 0 && diagnostics.linearProbe <= 1);
  assert.deepEqual(cmp.rows.map((r) => r.name), ["raw pixels", "SimCLR"]);
  assert.deepEqual(seen, ["SimCLR:3"]);
  const line = cmp.describe(diagnostics, "raw pixels");
  assert.match(line, /^\*\*SimCLR\*\* after \d+ s of training: linear probe \*\*\d\.\d{3}\*\* \(raw pixels \d\.\d{3}\), kNN \d\.\d{3} \(raw pixels \d\.\d{3}\), effective rank \d+\.\d\.$/);
  const ablation = await cmp.run(simclr, { name: "SimCLR (ablation)", steps: 2, record: false, fewLabels: false });
  assert.equal(ablation.diagnostics.fewLabels, undefined, "the run's override skips the few-labels probes");
  assert.equal(diagnostics.fewLabels?.length, 1);
  assert.equal(cmp.rows.length, 2);
  simclr.dispose();
  encoder.dispose();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([train.x, train.y, test_.x, test_.y]);
});

test("visionComparison: bad options are refused by name", () => {
  const trainSet = halves(8, 1);
  const views = twoViews(gaussianPixelNoise({ std: 0.05 }));
  const split = { x: tf.zeros([2, 28, 28, 1]), y: [0, 1] };
  assert.throws(() => visionComparison({ trainSet, train: split, test: split, views, steps: 0 }), /visionComparison: options.steps must be a positive integer, got 0/);
  assert.throws(() => visionComparison({ trainSet, train: split, test: split, views, learningRate: -1 }), /visionComparison: options.learningRate must be a positive number, got -1/);
  assert.throws(() => visionComparison({ trainSet, train: split, test: split, views, seed: 1.5 }), /visionComparison: options.seed must be an integer, got 1.5/);
  split.x.dispose();
});
