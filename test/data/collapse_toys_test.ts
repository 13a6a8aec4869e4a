import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { augmentationNoiseStd, countAboveFraction, gaussianToyData, linearToyEncoder, trainCollapseToy } from "../../src/data/collapse_toys";
import { onWasm } from "../methods/vision/helpers";

const FRACTION = 0.05;

test("collapse from strong augmentation: a linear encoder keeps fewer singular values above 5% of the largest than under weak noise, seeds 1-3", async () => {
  await onWasm(async () => {
    for (const seed of [1, 2, 3]) {
      const x = gaussianToyData(512, 16, seed);
      const counts: number[] = [];
      for (const strongDims of [6, 0]) {
        const encoder = linearToyEncoder({ inputDim: 16, seed });
        const run = await trainCollapseToy({ encoder, data: x, noiseStd: augmentationNoiseStd({ dim: 16, strongDims }), steps: 300, seed });
        counts.push(countAboveFraction(run.singularValues.at(-1)!, FRACTION));
        encoder.dispose();
      }
      // Measured: strong 10 (the 6 noisy directions vanish), weak 15 or 16.
      assert.ok(counts[0] <= 11 && counts[1] >= 14, `seed ${seed}: strong noise keeps ${counts[0]}, weak noise ${counts[1]}`);
      x.dispose();
    }
  });
});

test("collapse from implicit regularisation: two linear layers keep fewer singular values above 5% of the largest than one, seeds 1-3", async () => {
  await onWasm(async () => {
    for (const seed of [1, 2, 3]) {
      const x = gaussianToyData(512, 16, seed);
      const counts: number[] = [];
      for (const layers of [2, 1] as const) {
        const encoder = linearToyEncoder({ inputDim: 16, layers, initStd: 0.025, seed });
        const run = await trainCollapseToy({ encoder, data: x, noiseStd: augmentationNoiseStd({ dim: 16 }), steps: 300, seed, loss: "info-nce", temperature: 1 });
        counts.push(countAboveFraction(run.singularValues.at(-1)!, FRACTION));
        encoder.dispose();
      }
      // Measured: two layers 3 or 4, one layer 16.
      assert.ok(counts[0] <= 8 && counts[1] >= 14, `seed ${seed}: two layers keep ${counts[0]}, one layer ${counts[1]}`);
      x.dispose();
    }
  });
});

test("trainCollapseToy records the spectrum over time, leaves no tensors, and repeats under a seed", async () => {
  await tf.setBackend("cpu");
  const x = gaussianToyData(64, 6, 1);
  const noiseStd = augmentationNoiseStd({ dim: 6, strongDims: 2 });
  const before = tf.memory().numTensors;
  const runOnce = async (seed: number) => {
    const encoder = linearToyEncoder({ inputDim: 6, outputDim: 4, seed: 2 });
    const count = tf.memory().numTensors;
    const run = await trainCollapseToy({ encoder, data: x, noiseStd, steps: 10, batchSize: 16, recordEvery: 4, seed });
    assert.equal(tf.memory().numTensors, count, "only the encoder's weights remain");
    const weights = Array.from(encoder.getWeights()[0].dataSync());
    encoder.dispose();
    return { run, weights };
  };
  const a = await runOnce(3);
  const b = await runOnce(3);
  const c = await runOnce(4);
  assert.deepEqual(a.run.steps, [0, 4, 8, 10]);
  assert.equal(a.run.singularValues.length, 4);
  a.run.singularValues.forEach((s) => { assert.equal(s.length, 4); for (let i = 1; i < 4; i++) assert.ok(s[i] <= s[i - 1]); });
  assert.equal(a.run.loss.length, 10);
  assert.deepEqual(a.run.loss, b.run.loss);
  assert.deepEqual(a.weights, b.weights);
  assert.notDeepEqual(a.run.loss, c.run.loss);
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});

test("the toy pieces: data statistics, noise levels, encoder shapes, counting", async () => {
  await tf.setBackend("cpu");
  const x = gaussianToyData(4000, 3, 7);
  const { mean, variance } = tf.moments(x, 0);
  assert.ok(Array.from(mean.dataSync()).every((m) => Math.abs(m) < 0.07));
  assert.ok(Array.from(variance.dataSync()).every((v) => Math.abs(v - 1) < 0.1));
  assert.deepEqual(Array.from(gaussianToyData(2, 3, 7).dataSync()), Array.from(x.slice([0, 0], [2, 3]).dataSync()), "the same seed draws the same stream");
  tf.dispose([x, mean, variance]);
  assert.deepEqual(augmentationNoiseStd({ dim: 4, strongDims: 1, strongStd: 3, weakStd: 0.1 }), [3, 0.1, 0.1, 0.1]);
  assert.deepEqual(augmentationNoiseStd({ dim: 2 }), [0.2, 0.2]);
  const deep = linearToyEncoder({ inputDim: 5, outputDim: 3, layers: 2, seed: 1 });
  assert.equal(deep.layers.length, 2);
  assert.equal(deep.getWeights().length, 2, "no biases");
  const y = deep.predict(tf.ones([7, 5])) as tf.Tensor;
  assert.deepEqual(y.shape, [7, 3]);
  tf.dispose(y);
  deep.dispose();
  assert.equal(countAboveFraction([4, 2, 0.01, 0], 0.05), 2);
  assert.equal(countAboveFraction([0, 0], 0.05), 0);
});

test("the toy pieces reject bad input by name", async () => {
  await tf.setBackend("cpu");
  const x = gaussianToyData(8, 3, 1);
  const encoder = linearToyEncoder({ inputDim: 3 });
  const cases: Array<[() => unknown, RegExp]> = [
    [() => gaussianToyData(0, 3, 1), /gaussianToyData: n must be a positive integer, got 0/],
    [() => augmentationNoiseStd({ dim: 4, strongDims: 5 }), /augmentationNoiseStd: options\.strongDims must be an integer in \[0, 4\], got 5/],
    [() => augmentationNoiseStd({ dim: 4, weakStd: -1 }), /augmentationNoiseStd: options\.weakStd must be a finite number >= 0, got -1/],
    [() => linearToyEncoder({ inputDim: 3, layers: 3 as never }), /linearToyEncoder: options\.layers must be 1 or 2, got 3/],
    [() => linearToyEncoder({ inputDim: 3, initStd: 0 }), /linearToyEncoder: options\.initStd must be a finite number > 0, got 0/],
    [() => countAboveFraction([], 0.1), /countAboveFraction: singularValues must be a non-empty array of numbers/],
    [() => countAboveFraction([1, -1], 0.1), /countAboveFraction: singularValues must be finite and >= 0, got -1 at index 1/],
    [() => countAboveFraction([1], 0), /countAboveFraction: fraction must be a finite number > 0, got 0/],
  ];
  for (const [fn, message] of cases) assert.throws(fn, message);
  const rejects: Array<[object, RegExp]> = [
    [{ encoder: {}, data: x, noiseStd: [0, 0, 0], steps: 1 }, /trainCollapseToy: options\.encoder must be a tf\.LayersModel/],
    [{ encoder, data: x, noiseStd: [0, 0], steps: 1 }, /trainCollapseToy: options\.noiseStd must be 3 finite numbers >= 0 \(one per input dimension\), got \[0,0\]/],
    [{ encoder, data: x, noiseStd: [0, 0, 0], steps: 1, batchSize: 9 }, /trainCollapseToy: options\.batchSize must be at most the 8 rows of options\.data, got 9/],
    [{ encoder, data: x, noiseStd: [0, 0, 0], steps: 1, batchSize: 4, loss: "mse" }, /trainCollapseToy: options\.loss must be one of "nt-xent", "info-nce", got "mse"/],
    [{ encoder, data: x, noiseStd: [0, 0, 0], steps: 0 }, /trainCollapseToy: options\.steps must be a positive integer, got 0/],
  ];
  for (const [options, message] of rejects) await assert.rejects(trainCollapseToy(options as never), message);
  x.dispose();
  encoder.dispose();
});
