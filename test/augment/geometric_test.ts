import { test } from "node:test";
import assert from "node:assert/strict";
import "../../src/backend/select"; // registers the wasm backend
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { horizontalFlip, randomRotation, rotationTransforms } from "../../src/augment/geometric";

function randomImages(seed: number, n: number, h: number, w: number, c = 1): tf.Tensor4D {
  const rng = createRng(seed);
  return tf.tensor4d(Float32Array.from({ length: n * h * w * c }, () => rng.next()), [n, h, w, c]);
}

/** Float64 bilinear rotation of one single-channel image by `angle` radians, counterclockwise as displayed, fill 0. */
function rotateReference(img: ArrayLike<number>, h: number, w: number, angle: number): Float64Array {
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const at = (y: number, x: number): number => (y >= 0 && y < h && x >= 0 && x < w ? img[y * w + x] : 0);
  const out = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Inverse of a counterclockwise turn on screen (y down).
      const xi = Math.cos(angle) * (x - cx) - Math.sin(angle) * (y - cy) + cx;
      const yi = Math.sin(angle) * (x - cx) + Math.cos(angle) * (y - cy) + cy;
      const x0 = Math.floor(xi);
      const y0 = Math.floor(yi);
      const fx = xi - x0;
      const fy = yi - y0;
      out[y * w + x] =
        (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
    }
  }
  return out;
}

test("horizontalFlip flips each image or leaves it, with frequency p", async () => {
  await tf.setBackend("cpu");
  const n = 2000;
  const x = randomImages(1, n, 4, 5, 2);
  const before = tf.memory().numTensors;
  const y = horizontalFlip({ p: 0.3 })(x, 7);
  assert.equal(tf.memory().numTensors, before + 1);
  assert.deepEqual(y.shape, x.shape);
  const xs = x.dataSync();
  const ys = y.dataSync();
  let flipped = 0;
  for (let i = 0; i < n; i++) {
    let same = true;
    let mirrored = true;
    for (let r = 0; r < 4; r++) {
      for (let c = 0; c < 5; c++) {
        for (let k = 0; k < 2; k++) {
          const v = ys[((i * 4 + r) * 5 + c) * 2 + k];
          if (v !== xs[((i * 4 + r) * 5 + c) * 2 + k]) same = false;
          if (v !== xs[((i * 4 + r) * 5 + (4 - c)) * 2 + k]) mirrored = false;
        }
      }
    }
    assert.ok(same !== mirrored, `image ${i} is neither itself nor its mirror`);
    if (mirrored) flipped++;
  }
  // Binomial(2000, 0.3): sd 0.010.
  assert.ok(Math.abs(flipped / n - 0.3) < 0.04, `flipped fraction ${flipped / n}`);
  const again = horizontalFlip({ p: 0.3 })(x, 7);
  assert.deepEqual(again.dataSync(), ys);
  const other = horizontalFlip({ p: 0.3 })(x, 8);
  assert.notDeepEqual(other.dataSync(), ys);
  const none = horizontalFlip({ p: 0 })(x, 7);
  assert.deepEqual(none.dataSync(), xs);
  const all = horizontalFlip({ p: 1 })(x, 7);
  const ref = tf.reverse(x, 2);
  assert.deepEqual(all.dataSync(), ref.dataSync());
  tf.dispose([x, y, again, other, none, all, ref]);
});

test("randomRotation by 90 degrees turns the image counterclockwise on screen", async () => {
  await tf.setBackend("cpu");
  const x = randomImages(2, 1, 6, 6);
  const y = randomRotation({ degrees: [90, 90] })(x, 1);
  const xs = x.dataSync();
  const ys = y.dataSync();
  // Counterclockwise: the top row becomes the left column, top-right to top-left.
  for (let r = 0; r < 6; r++) {
    for (let c = 0; c < 6; c++) assert.ok(Math.abs(ys[r * 6 + c] - xs[c * 6 + (5 - r)]) < 1e-5, `pixel ${r},${c}`);
  }
  tf.dispose([x, y]);
});

for (const backend of ["cpu", "wasm"]) {
test(`randomRotation on ${backend} matches a float64 bilinear rotation per image and stays in [0, 1]`, async () => {
  await tf.setBackend(backend);
  const x = randomImages(3, 3, 28, 28);
  for (const deg of [-23, 7.5, 40]) {
    const before = tf.memory().numTensors;
    const y = randomRotation({ degrees: [deg, deg] })(x, 5);
    assert.equal(tf.memory().numTensors, before + 1);
    const xs = x.dataSync();
    const ys = y.dataSync();
    let maxErr = 0;
    for (let i = 0; i < 3; i++) {
      const ref = rotateReference(xs.subarray(i * 784, (i + 1) * 784), 28, 28, (deg * Math.PI) / 180);
      for (let k = 0; k < 784; k++) maxErr = Math.max(maxErr, Math.abs(ref[k] - ys[i * 784 + k]));
    }
    assert.ok(maxErr < 1e-4, `${deg} degrees: max error ${maxErr}`);
    assert.ok(Math.min(...ys) >= 0 && Math.max(...ys) <= 1);
    y.dispose();
  }
  x.dispose();
});
}

test("randomRotation draws one angle per image, seeded; degrees [0, 0] is the identity", async () => {
  await tf.setBackend("cpu");
  // The same image four times: different outputs mean per-image angles.
  const one = randomImages(4, 1, 28, 28);
  const x = tf.tile(one, [4, 1, 1, 1]) as tf.Tensor4D;
  const rot = randomRotation({ degrees: [-30, 30] });
  const [a, b, c] = [rot(x, 1), rot(x, 1), rot(x, 2)];
  assert.deepEqual(a.dataSync(), b.dataSync());
  assert.notDeepEqual(a.dataSync(), c.dataSync());
  const imgs = tf.unstack(a);
  assert.ok(tf.max(tf.abs(tf.sub(imgs[0], imgs[1]))).dataSync()[0] > 0.01);
  const id = randomRotation({ degrees: [0, 0] })(x, 3);
  assert.deepEqual(id.dataSync(), x.dataSync());
  const m = rotationTransforms([0], 28, 28);
  assert.deepEqual(Array.from(m, (v) => v + 0), [1, 0, 0, 0, 1, 0, 0, 0]);
  tf.dispose([one, x, a, b, c, id, ...imgs]);
});

test("geometric augmentations reject bad options by name", () => {
  assert.throws(() => horizontalFlip({ p: 1.5 }), /horizontalFlip: options.p must be a probability in \[0, 1\], got 1.5/);
  assert.throws(() => randomRotation({ degrees: [10, -10] }), /randomRotation: options.degrees must be \[low, high\].*got \[10,-10\]/);
  assert.throws(() => randomRotation({ degrees: [-200, 0] }), /randomRotation: options.degrees/);
  assert.throws(() => randomRotation({ fill: NaN }), /randomRotation: options\.fill must be a finite number, got NaN/);
});
