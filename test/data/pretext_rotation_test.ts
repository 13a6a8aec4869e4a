import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { rotateQuarterTurns, rotationBatch } from "../../src/data/pretext_rotation";
import { train } from "../../src/training/loop";
import { onWasm, rngImages } from "../methods/vision/helpers";

/** Image `b` of a flat `[batch, n, n, c]` array turned `k` quarter turns counter-clockwise, by index arithmetic. */
function rotatedRef(data: Float32Array, n: number, c: number, b: number, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      // Where output pixel (i, j) comes from: np.rot90's mapping.
      const [r, s] = [[i, j], [j, n - 1 - i], [n - 1 - i, n - 1 - j], [n - 1 - j, i]][k];
      for (let ch = 0; ch < c; ch++) out.push(data[((b * n + r) * n + s) * c + ch]);
    }
  }
  return out;
}

/** `[b, n, n, c]` with every value distinct, so a wrong pixel cannot go unnoticed. */
const distinctImages = (b: number, n: number, c: number): tf.Tensor4D =>
  tf.tensor4d(Float32Array.from({ length: b * n * n * c }, (_, k) => k), [b, n, n, c]);

test("rotateQuarterTurns: the pixels of np.rot90 for every k, exactly; four turns are the identity", async () => {
  await tf.setBackend("cpu");
  const x = distinctImages(2, 5, 2);
  const data = x.dataSync() as Float32Array;
  for (const k of [0, 1, 2, 3, -1, 5]) {
    const y = rotateQuarterTurns(x, k);
    const want = [0, 1].flatMap((b) => rotatedRef(data, 5, 2, b, ((k % 4) + 4) % 4));
    assert.deepEqual(Array.from(y.dataSync()), want, `k = ${k}`);
    y.dispose();
  }
  // A visual check of the direction: the top-right corner goes to the top-left.
  const small = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
  const turned = rotateQuarterTurns(small, 1);
  assert.deepEqual(Array.from(turned.dataSync()), [2, 4, 1, 3]);
  const four = tf.tidy(() => [1, 2, 3, 4].reduce((t) => rotateQuarterTurns(t, 1), x as tf.Tensor4D));
  assert.deepEqual(Array.from(four.dataSync()), Array.from(data));
  tf.dispose([x, small, turned, four]);
});

test("rotationBatch without a seed: angle-major rows, labels exactly balanced", async () => {
  await tf.setBackend("cpu");
  const x = distinctImages(3, 4, 1);
  const data = x.dataSync() as Float32Array;
  const { images, labels, sources } = rotationBatch(x);
  assert.deepEqual(images.shape, [12, 4, 4, 1]);
  assert.equal(labels.dtype, "int32");
  assert.deepEqual(Array.from(labels.dataSync()), [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
  assert.deepEqual(Array.from(sources), [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]);
  const got = images.dataSync();
  for (let r = 0; r < 12; r++) {
    assert.deepEqual(Array.from(got.subarray(r * 16, (r + 1) * 16)), rotatedRef(data, 4, 1, r % 3, Math.floor(r / 3)), `row ${r}`);
  }
  tf.dispose([x, images, labels]);
});

test("rotationBatch with a seed: shuffled rows, each the stated rotation of its source; every (image, angle) once; same seed, same batch", async () => {
  await tf.setBackend("cpu");
  const x = rngImages(5, 3);
  const data = x.dataSync() as Float32Array;
  const a = rotationBatch(x, 11);
  const labels = Array.from(a.labels.dataSync());
  const got = a.images.dataSync();
  for (let r = 0; r < 20; r++) {
    assert.deepEqual(Array.from(got.subarray(r * 784, (r + 1) * 784)), rotatedRef(data, 28, 1, a.sources[r], labels[r]), `row ${r}`);
  }
  const pairs = new Set(labels.map((k, r) => `${a.sources[r]}:${k}`));
  assert.equal(pairs.size, 20, "all 5 images at all 4 angles");
  assert.deepEqual([0, 1, 2, 3].map((k) => labels.filter((l) => l === k).length), [5, 5, 5, 5]);
  assert.notDeepEqual(labels, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3], "the seed shuffles the rows");
  const b = rotationBatch(x, 11);
  assert.deepEqual(Array.from(b.images.dataSync()), Array.from(got));
  assert.deepEqual(Array.from(b.labels.dataSync()), labels);
  const c = rotationBatch(x, 12);
  assert.notDeepEqual(Array.from(c.labels.dataSync()), labels);
  tf.dispose([x, a.images, a.labels, b.images, b.labels, c.images, c.labels]);
});

test("rotationBatch and rotateQuarterTurns leave no tensors behind and reject bad input by name", async () => {
  await tf.setBackend("cpu");
  const x = rngImages(2, 1);
  const before = tf.memory().numTensors;
  const out = rotationBatch(x, 1);
  assert.equal(tf.memory().numTensors, before + 2);
  tf.dispose([out.images, out.labels]);
  tf.dispose(rotateQuarterTurns(x, 3));
  assert.equal(tf.memory().numTensors, before);
  const cases: Array<[() => unknown, RegExp]> = [
    [() => rotationBatch(tf.zeros([2, 28, 27, 1]) as tf.Tensor4D), /rotationBatch: images must be square, \[batch, n, n, channels\], got a tensor of shape \[2,28,27,1\]/],
    [() => rotationBatch(tf.zeros([28, 28, 1]) as unknown as tf.Tensor4D), /rotationBatch: images must be a float32 tensor of rank 4, got a tensor of shape \[28,28,1\]/],
    [() => rotationBatch(tf.zeros([1, 4, 4, 1], "int32") as tf.Tensor4D), /rotationBatch: images must be a float32 tensor of rank 4, got an int32 tensor of shape \[1,4,4,1\]/],
    [() => rotationBatch(tf.zeros([0, 4, 4, 1]) as tf.Tensor4D), /rotationBatch: images must have at least one image, row, column and channel, got a tensor of shape \[0,4,4,1\]/],
    [() => rotationBatch(x, 1.5), /rotationBatch: seed must be an integer, got 1.5/],
    [() => rotateQuarterTurns(x, 0.5), /rotateQuarterTurns: k must be an integer, got 0.5/],
  ];
  for (const [fn, message] of cases) assert.throws(() => tf.tidy(() => { fn(); }), message);
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});

test("rotationBatch gives the same pixels on wasm as on cpu", async () => {
  await tf.setBackend("cpu");
  const cpu = tf.tidy(() => Array.from(rotationBatch(rngImages(3, 2), 4).images.dataSync()));
  const wasm = await onWasm(() => tf.tidy(() => Array.from(rotationBatch(rngImages(3, 2), 4).images.dataSync())));
  assert.deepEqual(wasm, cpu);
});

test("rotationBatch feeds training.train: a linear rotation classifier learns, with no tensor growth per step", async () => {
  await tf.setBackend("cpu");
  const x = tf.tidy(() => rngImages(4, 9).slice([0, 0, 0, 0], [4, 8, 8, 1]) as tf.Tensor4D);
  const w = tf.variable(tf.zeros([64, 4]));
  const counts: number[] = [];
  const history = await train({
    loss: (batch: { images: tf.Tensor4D; labels: tf.Tensor1D }) =>
      tf.losses.softmaxCrossEntropy(tf.oneHot(batch.labels, 4), tf.matMul(tf.reshape(batch.images, [-1, 64]), w)),
    trainable: [w],
    optimizer: tf.train.sgd(0.5),
    batches: function* (_epoch, rng) {
      for (;;) {
        const { images, labels } = rotationBatch(x, rng.fork());
        yield { images, labels };
      }
    },
    steps: 30,
    progress: false,
    callbacks: { onStep: () => void counts.push(tf.memory().numTensors) },
  });
  assert.ok(Math.abs(history.loss[0] - Math.log(4)) < 1e-5, `a zero classifier starts at log 4: ${history.loss[0]}`);
  assert.ok(history.loss[29] < 0.5 * history.loss[0], `loss ${history.loss[0]} -> ${history.loss[29]}`);
  assert.deepEqual(counts.slice(1), Array(29).fill(counts[1]), `tensor counts ${counts}`);
  tf.dispose([x, w]);
});
