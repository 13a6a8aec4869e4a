/**
 * The encoders on image shapes other than MNIST's: RGB 32x32 and grey 20x20.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import "../../src/backend/select"; // registers the wasm backend
import { tf } from "../../src/backend/tf";
import { registerTrainingKernels } from "../../src/backend/kernels";
import { createRng } from "../../src/data/random";
import { smallCnnEncoder } from "../../src/models/encoders";
import { smallResNetEncoder } from "../../src/models/resnet";
import { createVit } from "../../src/models/vit";
import { type Act, at, conv, relu } from "./nhwc_reference";

registerTrainingKernels();

function images(b: number, seed: number, shape: [number, number, number]): tf.Tensor4D {
  const rng = createRng(seed);
  return tf.tensor4d(Float32Array.from({ length: b * shape[0] * shape[1] * shape[2] }, () => rng.next()), [b, ...shape]);
}

/** 2x2 max pool, stride 2, "valid" padding (odd sizes drop the last row/column) in float64. */
function maxPool(a: Act): Act {
  const h = Math.floor(a.h / 2);
  const w = Math.floor(a.w / 2);
  const out: Act = { n: a.n, h, w, c: a.c, v: new Float64Array(a.n * h * w * a.c) };
  for (let n = 0; n < a.n; n++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let c = 0; c < a.c; c++) {
          const v = [0, 1].flatMap((dy) => [0, 1].map((dx) => a.v[at(a, n, 2 * y + dy, 2 * x + dx, c)]));
          out.v[at(out, n, y, x, c)] = Math.max(...v);
        }
  return out;
}

function globalAveragePool(a: Act): Float64Array {
  const out = new Float64Array(a.n * a.c);
  for (let n = 0; n < a.n; n++)
    for (let y = 0; y < a.h; y++)
      for (let x = 0; x < a.w; x++)
        for (let c = 0; c < a.c; c++) out[n * a.c + c] += a.v[at(a, n, y, x, c)] / (a.h * a.w);
  return out;
}

for (const shape of [
  [32, 32, 3],
  [20, 20, 1],
  [21, 13, 3],
] as [number, number, number][]) {
  test(`smallCnnEncoder on [${shape}] matches a float64 forward pass of its weights`, async () => {
    await tf.setBackend("wasm");
    const channels: [number, number, number] = [4, 8, 8];
    const encoder = smallCnnEncoder({ inputShape: shape, channels, seed: 3 });
    const w = encoder.getWeights().map((t) => t.dataSync());
    assert.deepEqual(encoder.getWeights()[0].shape, [3, 3, shape[2], 4]);
    const x = images(3, 5, shape);
    const before = tf.memory().numTensors;
    const y = encoder.predict(x) as tf.Tensor;
    assert.equal(tf.memory().numTensors, before + 1);
    assert.deepEqual(y.shape, [3, 8]);
    let a: Act = { n: 3, h: shape[0], w: shape[1], c: shape[2], v: Float64Array.from(x.dataSync()) };
    a = maxPool(relu(conv(a, w[0], 3, 4, { bias: w[1] })));
    a = maxPool(relu(conv(a, w[2], 3, 8, { bias: w[3] })));
    const ref = globalAveragePool(relu(conv(a, w[4], 3, 8, { bias: w[5] })));
    const got = y.dataSync();
    for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(got[i] - ref[i]) < 1e-5, `feature ${i}: ${got[i]} vs ${ref[i]}`);
    tf.dispose([x, y]);
    encoder.dispose();
  });
}

test("smallCnnEncoder keeps the MNIST default and rejects shapes it cannot pool", () => {
  const mnist = smallCnnEncoder({ seed: 1 });
  assert.deepEqual(mnist.inputs[0].shape, [null, 28, 28, 1]);
  assert.deepEqual(mnist.outputs[0].shape, [null, 128]);
  assert.equal(mnist.countParams(), 92672);
  mnist.dispose();
  assert.throws(() => smallCnnEncoder({ inputShape: [3, 8, 1] }), /smallCnnEncoder: options.inputShape must be at least 4 x 4 \(two 2x2 max pools\), got \[3,8,1\]/);
  assert.throws(() => smallCnnEncoder({ inputShape: [28, 28] as unknown as [number, number, number] }), /smallCnnEncoder: options.inputShape must be \[height, width, channels\], got \[28,28\]/);
  assert.throws(() => smallCnnEncoder({ inputShape: [32, 32, 0] }), /smallCnnEncoder: options.inputShape\[2\] must be a positive integer, got 0/);
  assert.throws(() => smallCnnEncoder({ channels: [4, 8] as unknown as [number, number, number] }), /smallCnnEncoder: options.channels must list the channels of the 3 conv layers, got \[4,8\]/);
});

test("smallResNetEncoder maps [B, 32, 32, 3] and [B, 20, 20, 1] to [B, last width], training and inference", async () => {
  await tf.setBackend("wasm");
  for (const shape of [
    [32, 32, 3],
    [20, 20, 1],
  ] as [number, number, number][]) {
    const encoder = smallResNetEncoder({ inputShape: shape, stemWidth: 4, widths: [8, 12], seed: 2 });
    const x = images(4, 1, shape);
    const before = tf.memory().numTensors;
    const train = encoder.apply(x, { training: true }) as tf.Tensor;
    const infer = encoder.predict(x) as tf.Tensor;
    assert.equal(tf.memory().numTensors, before + 2);
    assert.deepEqual(train.shape, [4, 12]);
    assert.deepEqual(infer.shape, [4, 12]);
    assert.ok(train.dataSync().every(Number.isFinite));
    // Features differ between images: the network sees the input, not only its shape.
    const f = infer.arraySync() as number[][];
    assert.ok(f[0].some((v, j) => Math.abs(v - f[1][j]) > 1e-6));
    tf.dispose([x, train, infer]);
    encoder.dispose();
  }
});

test("createVit encodes [B, 32, 32, 3] with patch 8 and [B, 20, 20, 1] with patch 5; a patch that does not divide the size is an error", async () => {
  await tf.setBackend("wasm");
  const cases: [[number, number, number], number, number, number][] = [
    [[32, 32, 3], 8, 16, 192],
    [[20, 20, 1], 5, 16, 25],
    [[20, 12, 3], 4, 15, 48],
  ];
  for (const [shape, patch, numPatches, patchDim] of cases) {
    const vit = createVit({ imageShape: shape, patch, dim: 16, heads: 2, layers: 1, seed: 1 });
    assert.equal(vit.numPatches, numPatches);
    assert.equal(vit.patchDim, patchDim);
    const x = images(3, 2, shape);
    const before = tf.memory().numTensors;
    const tokens = vit.encodeTokens(x);
    const features = vit.encode(x);
    assert.equal(tf.memory().numTensors, before + 2);
    assert.deepEqual(tokens.shape, [3, numPatches, 16]);
    assert.deepEqual(features.shape, [3, 16]);
    // encode is the mean of the tokens.
    const mean = tf.mean(tokens, 1);
    const diff = tf.max(tf.abs(tf.sub(mean, features)));
    assert.ok(diff.dataSync()[0] < 1e-5);
    const wrong = images(1, 2, [shape[0], shape[1], shape[2] === 3 ? 1 : 3]);
    assert.throws(() => vit.encode(wrong), new RegExp(`Vit.encode: images must be a float32 tensor of shape \\[batch,${shape.join(",")}\\]`));
    tf.dispose([x, tokens, features, mean, diff, wrong]);
    vit.dispose();
  }
  assert.throws(
    () => createVit({ imageShape: [20, 20, 1], patch: 7, dim: 16, heads: 2, layers: 1 }),
    /createVit: options.patch must divide the image height and width, got 7 for images of 20x20/,
  );
});
