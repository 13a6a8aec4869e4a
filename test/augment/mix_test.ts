import { test } from "node:test";
import assert from "node:assert/strict";
import "../../src/backend/select"; // registers the wasm backend
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import {
  cutMix,
  cutMixAssignment,
  mixAsAugmentation,
  mixLabels,
  mixup,
  mixupAssignment,
  sampleBeta,
} from "../../src/augment/mix";

function randomImages(seed: number, n: number, h: number, w: number, c = 1): tf.Tensor4D {
  const rng = createRng(seed);
  return tf.tensor4d(Float32Array.from({ length: n * h * w * c }, () => rng.next()), [n, h, w, c]);
}

function moments(xs: number[]): [number, number] {
  const mean = xs.reduce((a, v) => a + v, 0) / xs.length;
  return [mean, xs.reduce((a, v) => a + (v - mean) ** 2, 0) / xs.length];
}

test("sampleBeta has the Beta distribution's mean and variance, also for small shapes", () => {
  const rng = createRng(1);
  for (const [a, b] of [[0.2, 0.2], [1, 1], [2, 5], [0.05, 0.05]] as const) {
    const xs = Array.from({ length: 20000 }, () => sampleBeta(rng, a, b));
    assert.ok(xs.every((x) => x >= 0 && x <= 1));
    const [mean, variance] = moments(xs);
    const wantMean = a / (a + b);
    const wantVar = (a * b) / ((a + b) ** 2 * (a + b + 1));
    assert.ok(Math.abs(mean - wantMean) < 0.01, `Beta(${a},${b}) mean ${mean}, want ${wantMean}`);
    assert.ok(Math.abs(variance - wantVar) < 0.05 * wantVar + 0.002, `Beta(${a},${b}) variance ${variance}, want ${wantVar}`);
  }
  assert.throws(() => sampleBeta(rng, 0, 1), /sampleBeta: a must be a finite number > 0, got 0/);
});

test("mixupAssignment: a permutation, one lambda per batch or per image, dominant keeps >= 1/2, alpha 0 gives 1", () => {
  const batchWise = mixupAssignment(64, { alpha: 1 }, 3);
  assert.deepEqual([...batchWise.partners].sort((a, b) => a - b), Array.from({ length: 64 }, (_, i) => i));
  assert.equal(new Set(batchWise.lambdas).size, 1);
  const perImage = mixupAssignment(64, { alpha: 1, per: "example" }, 3);
  assert.ok(new Set(perImage.lambdas).size > 60);
  const dominant = mixupAssignment(64, { alpha: 1, per: "example", dominant: true }, 3);
  assert.ok(dominant.lambdas.every((l) => l >= 0.5 && l <= 1));
  assert.ok(mixupAssignment(64, { alpha: 0 }, 3).lambdas.every((l) => l === 1));
  assert.deepEqual(mixupAssignment(64, { alpha: 1, per: "example" }, 3), perImage);
});

for (const backend of ["cpu", "wasm"]) {
  test(`mixup on ${backend} is lambda x + (1 - lambda) x[partner], seeded, no leak; alpha 0 is the identity`, async () => {
    await tf.setBackend(backend);
    const x = randomImages(1, 6, 5, 4, 2);
    const xs = x.dataSync();
    const before = tf.memory().numTensors;
    const mix = mixup({ alpha: 0.5, per: "example" });
    const out = mix(x, 9);
    assert.equal(tf.memory().numTensors, before + 1);
    const ys = out.images.dataSync();
    const size = 5 * 4 * 2;
    for (let i = 0; i < 6; i++) {
      const [l, p] = [out.lambdas[i], out.partners[i]];
      for (let k = 0; k < size; k++) {
        const want = l * xs[i * size + k] + (1 - l) * xs[p * size + k];
        assert.ok(Math.abs(ys[i * size + k] - want) < 1e-6, `image ${i} pixel ${k}`);
      }
    }
    const again = mix(x, 9);
    assert.deepEqual(again.images.dataSync(), ys);
    assert.deepEqual(again.partners, out.partners);
    const other = mix(x, 10);
    assert.notDeepEqual(other.images.dataSync(), ys);
    const id = mixup({ alpha: 0 })(x, 9);
    assert.deepEqual(id.images.dataSync(), xs);
    assert.ok(id.lambdas.every((l) => l === 1));
    tf.dispose([x, out.images, again.images, other.images, id.images]);
  });
}

test("cutMixAssignment: boxes inside the image, sized by lambda, effective lambda is the kept pixel share", () => {
  const [n, h, w] = [2000, 28, 20];
  const { partners, lambdas, boxes } = cutMixAssignment(n, h, w, { alpha: 1, per: "example" }, 5);
  assert.equal(partners.length, n);
  let clipped = 0;
  for (let i = 0; i < n; i++) {
    const [y1, x1, y2, x2] = boxes.subarray(i * 4, i * 4 + 4);
    assert.ok(0 <= y1 && y1 <= y2 && y2 <= h && 0 <= x1 && x1 <= x2 && x2 <= w, `box ${i}: ${[y1, x1, y2, x2]}`);
    assert.ok(Math.abs(lambdas[i] - (1 - ((y2 - y1) * (x2 - x1)) / (h * w))) < 1e-6);
    if (y1 === 0 || x1 === 0 || y2 === h || x2 === w) clipped++;
  }
  assert.ok(clipped > 0);
  // Unclipped boxes cover 1 - lambda of the image in expectation, clipping makes that less: mean kept share >= 1/2.
  const [meanKept] = moments(Array.from(lambdas));
  assert.ok(meanKept > 0.5 && meanKept < 0.8, `mean kept share ${meanKept}`);
  const batchWise = cutMixAssignment(8, h, w, { alpha: 1 }, 5);
  for (let i = 1; i < 8; i++) assert.deepEqual(batchWise.boxes.subarray(i * 4, i * 4 + 4), batchWise.boxes.subarray(0, 4));
  const none = cutMixAssignment(8, h, w, { alpha: 0 }, 5);
  assert.ok(none.lambdas.every((l) => l === 1));
  assert.deepEqual(cutMixAssignment(n, h, w, { alpha: 1, per: "example" }, 5).boxes, boxes);
});

for (const backend of ["cpu", "wasm"]) {
  test(`cutMix on ${backend} pastes the partner's box exactly, seeded, no leak; alpha 0 is the identity`, async () => {
    await tf.setBackend(backend);
    const [n, h, w, c] = [5, 9, 7, 2];
    const x = randomImages(2, n, h, w, c);
    const xs = x.dataSync();
    const before = tf.memory().numTensors;
    const out = cutMix({ alpha: 1, per: "example" })(x, 4);
    assert.equal(tf.memory().numTensors, before + 1);
    const { boxes, partners, lambdas } = cutMixAssignment(n, h, w, { alpha: 1, per: "example" }, 4);
    assert.deepEqual(out.partners, partners);
    assert.deepEqual(out.lambdas, lambdas);
    const ys = out.images.dataSync();
    for (let i = 0; i < n; i++) {
      const [y1, x1, y2, x2] = boxes.subarray(i * 4, i * 4 + 4);
      let own = 0;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const inBox = y >= y1 && y < y2 && x >= x1 && x < x2;
          if (!inBox) own++;
          const src = inBox ? partners[i] : i;
          for (let k = 0; k < c; k++) assert.equal(ys[((i * h + y) * w + x) * c + k], xs[((src * h + y) * w + x) * c + k]);
        }
      }
      assert.ok(Math.abs(own / (h * w) - lambdas[i]) < 1e-6);
    }
    const again = cutMix({ alpha: 1, per: "example" })(x, 4);
    assert.deepEqual(again.images.dataSync(), ys);
    const id = cutMix({ alpha: 0 })(x, 4);
    assert.deepEqual(id.images.dataSync(), xs);
    tf.dispose([x, out.images, again.images, id.images]);
  });
}

test("mixLabels mixes one-hot labels with the same lambdas and partners, rows still sum to 1", async () => {
  await tf.setBackend("cpu");
  const labels = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 1], "int32"), 3), "float32")) as tf.Tensor2D;
  const mix = { partners: Int32Array.from([1, 0, 3, 2]), lambdas: Float32Array.from([0.25, 1, 0.5, 0]) };
  const before = tf.memory().numTensors;
  const mixed = mixLabels(labels, mix);
  assert.equal(tf.memory().numTensors, before + 1);
  const want = [[0.25, 0.75, 0], [0, 1, 0], [0, 0.5, 0.5], [0, 0, 1]];
  const got = mixed.arraySync();
  for (let i = 0; i < 4; i++) for (let k = 0; k < 3; k++) assert.ok(Math.abs(got[i][k] - want[i][k]) < 1e-7, `row ${i}: ${got[i]}`);
  assert.throws(() => mixLabels(labels, { partners: Int32Array.from([1, 0, 3]), lambdas: mix.lambdas }), /mixLabels: mix\.partners must have length 4, got an Int32Array of length 3/);
  assert.throws(() => mixLabels(labels, { partners: Int32Array.from([1, 0, 4, 2]), lambdas: mix.lambdas }), /mixLabels: mix\.partners\[2\] must be an integer in \[0, 4\), got 4/);
  assert.throws(() => mixLabels(labels, { partners: mix.partners, lambdas: Float32Array.from([0, 1.5, 0, 0]) }), /mixLabels: mix\.lambdas\[1\] must be a number in \[0, 1\], got 1\.5/);
  tf.dispose([labels, mixed]);
});

test("mixAsAugmentation returns the mixed images only; options are checked by name", async () => {
  await tf.setBackend("cpu");
  const x = randomImages(3, 4, 6, 6);
  const before = tf.memory().numTensors;
  const y = mixAsAugmentation(mixup({ alpha: 1 }))(x, 2);
  assert.equal(tf.memory().numTensors, before + 1);
  const z = mixup({ alpha: 1 })(x, 2);
  assert.deepEqual(y.dataSync(), z.images.dataSync());
  tf.dispose([x, y, z.images]);
  assert.throws(() => mixup({ alpha: -1 }), /mixup: options\.alpha must be a finite number >= 0, got -1/);
  assert.throws(() => cutMix({ per: "pixel" as "batch" }), /cutMix: options\.per must be one of "batch", "example", got "pixel"/);
  assert.throws(() => mixup()(tf.zeros([2, 3]) as unknown as tf.Tensor4D, 1), /mixup: images must be a float32 tensor of rank 4/);
  assert.throws(() => mixAsAugmentation(3 as never), /mixAsAugmentation: mix must be a function/);
});
