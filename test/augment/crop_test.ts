import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { randomResizedCrop, randomResizedCropBoxes } from "../../src/augment/crop";

function randomImages(seed: number, n: number, h: number, w: number): tf.Tensor4D {
  const rng = createRng(seed);
  return tf.tensor4d(Float32Array.from({ length: n * h * w }, () => rng.next()), [n, h, w, 1]);
}

/** Float64 bilinear crop-and-resize of one single-channel image to the box (tf.image.cropAndResize's convention). */
function cropReference(img: ArrayLike<number>, h: number, w: number, box: ArrayLike<number>): Float64Array {
  const [y1, x1, y2, x2] = Array.from(box);
  const out = new Float64Array(h * w);
  for (let i = 0; i < h; i++) {
    const y = y1 * (h - 1) + (i * (y2 - y1) * (h - 1)) / (h - 1);
    const t = Math.floor(y);
    const b = Math.min(h - 1, Math.ceil(y));
    for (let j = 0; j < w; j++) {
      const x = x1 * (w - 1) + (j * (x2 - x1) * (w - 1)) / (w - 1);
      const l = Math.floor(x);
      const r = Math.min(w - 1, Math.ceil(x));
      const top = img[t * w + l] + (img[t * w + r] - img[t * w + l]) * (x - l);
      const bot = img[b * w + l] + (img[b * w + r] - img[b * w + l]) * (x - l);
      out[i * w + j] = top + (bot - top) * (y - t);
    }
  }
  return out;
}

test("randomResizedCrop matches a float64 bilinear crop of each image to its own box", async () => {
  await tf.setBackend("cpu");
  const x = randomImages(1, 6, 28, 28);
  const before = tf.memory().numTensors;
  const y = randomResizedCrop({ scale: [0.4, 1] })(x, 11);
  assert.equal(tf.memory().numTensors, before + 1);
  assert.deepEqual(y.shape, [6, 28, 28, 1]);
  const boxes = randomResizedCropBoxes(6, 28, 28, { scale: [0.4, 1] }, 11);
  const xs = x.dataSync();
  const ys = y.dataSync();
  let maxErr = 0;
  for (let i = 0; i < 6; i++) {
    const ref = cropReference(xs.subarray(i * 784, (i + 1) * 784), 28, 28, boxes.subarray(i * 4, i * 4 + 4));
    for (let k = 0; k < 784; k++) maxErr = Math.max(maxErr, Math.abs(ref[k] - ys[i * 784 + k]));
  }
  assert.ok(maxErr < 1e-4, `max error ${maxErr}`);
  const min = Math.min(...ys);
  const max = Math.max(...ys);
  assert.ok(min >= 0 && max <= 1, `values in [${min}, ${max}]`);
  tf.dispose([x, y]);
});

test("randomResizedCropBoxes lie inside the image with area and ratio in range", () => {
  const scale: [number, number] = [0.3, 0.9];
  const ratio: [number, number] = [0.6, 1.5];
  for (const [h, w] of [[28, 28], [20, 40]]) {
    const boxes = randomResizedCropBoxes(2000, h, w, { scale, ratio }, 5);
    let fullImage = 0;
    const areas: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const [y1, x1, y2, x2] = boxes.subarray(i * 4, i * 4 + 4);
      assert.ok(y1 >= 0 && x1 >= 0 && y2 <= 1 + 1e-6 && x2 <= 1 + 1e-6 && y1 < y2 && x1 < x2, `box ${i}: ${[y1, x1, y2, x2]}`);
      const area = (y2 - y1) * (x2 - x1);
      if (area > 1 - 1e-6 && scale[1] < 1) {
        fullImage++;
        continue;
      }
      const r = ((x2 - x1) * w) / ((y2 - y1) * h);
      assert.ok(area >= scale[0] - 1e-5 && area <= scale[1] + 1e-5, `area ${area}`);
      assert.ok(r >= ratio[0] - 1e-4 && r <= ratio[1] + 1e-4, `ratio ${r}`);
      areas.push(area);
    }
    assert.ok(fullImage < 2000 * 0.05, `${fullImage} fallbacks`);
  }
  // On a square image with s r <= 1 and s / r <= 1 every draw fits: no fallback, and the area is uniform.
  const square = randomResizedCropBoxes(2000, 28, 28, { scale: [0.3, 0.75], ratio: [3 / 4, 4 / 3] }, 6);
  let sum = 0;
  for (let i = 0; i < 2000; i++) {
    const area = (square[i * 4 + 2] - square[i * 4]) * (square[i * 4 + 3] - square[i * 4 + 1]);
    assert.ok(area >= 0.3 - 1e-5 && area <= 0.75 + 1e-5, `area ${area}`);
    sum += area;
  }
  // Uniform on [0.3, 0.75]: mean 0.525, sd of the mean 0.003.
  assert.ok(Math.abs(sum / 2000 - 0.525) < 0.015, `mean area ${sum / 2000}`);
});

test("randomResizedCrop is seeded, and the identity at scale [1, 1], ratio [1, 1]", async () => {
  await tf.setBackend("cpu");
  const x = randomImages(2, 4, 28, 28);
  const crop = randomResizedCrop({ scale: [0.2, 1] });
  const [a, b, c] = [crop(x, 3), crop(x, 3), crop(x, 4)];
  assert.deepEqual(a.dataSync(), b.dataSync());
  assert.ok(tf.max(tf.abs(tf.sub(a, c))).dataSync()[0] > 0.05);
  const id = randomResizedCrop({ scale: [1, 1], ratio: [1, 1] })(x, 9);
  assert.ok(tf.max(tf.abs(tf.sub(id, x))).dataSync()[0] < 1e-6);
  tf.dispose([x, a, b, c, id]);
});

test("randomResizedCrop rejects bad options and inputs by name", async () => {
  await tf.setBackend("cpu");
  assert.throws(() => randomResizedCrop({ scale: [0.5, 1.2] }), /randomResizedCrop: options.scale must be \[low, high\].*got \[0.5,1.2\]/);
  assert.throws(() => randomResizedCrop({ scale: [0, 1] }), /randomResizedCrop: options.scale .*0 < low/);
  assert.throws(() => randomResizedCrop({ ratio: [2, 1] }), /randomResizedCrop: options.ratio/);
  const crop = randomResizedCrop();
  const flat = tf.zeros([4, 784]);
  assert.throws(() => crop(flat as unknown as tf.Tensor4D, 1), /randomResizedCrop: images must be a float32 tensor of rank 4, got a tensor of shape \[4,784\]/);
  const x = tf.zeros([2, 28, 28, 1]);
  assert.throws(() => crop(x as tf.Tensor4D, 1.5), /randomResizedCrop: seed must be an integer, got 1.5/);
  const ints = tf.zeros([2, 28, 28, 1], "int32");
  assert.throws(() => crop(ints as tf.Tensor4D, 1), /randomResizedCrop: images must be a float32 tensor of rank 4, got an int32 tensor of shape \[2,28,28,1\]/);
  tf.dispose([flat, x, ints]);
});
