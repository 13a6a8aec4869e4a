import { test } from "node:test";
import assert from "node:assert/strict";
import "../../src/backend/select"; // registers the wasm backend
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { colorJitter, colorJitterParameters, randomGrayscale, shiftHue } from "../../src/augment/color";
import { compose, simclrAugment } from "../../src/augment/compose";
import { randomResizedCrop } from "../../src/augment/crop";
import { randomRotation } from "../../src/augment/geometric";
import { gaussianBlur, gaussianPixelNoise } from "../../src/augment/photometric";

const SIZES: [number, number][] = [
  [20, 20],
  [32, 32],
];

/** Uniform RGB pixels from createRng, with some exactly grey pixels (R = G = B) and some pure 0 / 1 values. */
function rgbImages(seed: number, n: number, h: number, w: number): tf.Tensor4D {
  const rng = createRng(seed);
  const data = new Float32Array(n * h * w * 3);
  for (let p = 0; p < n * h * w; p++) {
    const u = rng.next();
    if (u < 0.1) data.fill(rng.next(), p * 3, p * 3 + 3);
    else if (u < 0.15) for (let c = 0; c < 3; c++) data[p * 3 + c] = rng.next() < 0.5 ? 0 : 1;
    else for (let c = 0; c < 3; c++) data[p * 3 + c] = rng.next();
  }
  return tf.tensor4d(data, [n, h, w, 3]);
}

/** Float64 RGB -> HSV, the textbook branching by sector (Python's colorsys), h in [0, 1). */
function rgbToHsv(r: number, g: number, b: number): [number, number, number] {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  if (max === min) return [0, 0, max];
  const s = (max - min) / max;
  const rc = (max - r) / (max - min);
  const gc = (max - g) / (max - min);
  const bc = (max - b) / (max - min);
  let h: number;
  if (r === max) h = bc - gc;
  else if (g === max) h = 2 + rc - bc;
  else h = 4 + gc - rc;
  h = (h / 6) % 1;
  return [h < 0 ? h + 1 : h, s, max];
}

/** Float64 HSV -> RGB by the integer sector i = floor(6 h) (Python's colorsys). */
function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  if (s === 0) return [v, v, v];
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - s * f);
  const t = v * (1 - s * (1 - f));
  switch (((i % 6) + 6) % 6) {
    case 0:
      return [v, t, p];
    case 1:
      return [q, v, p];
    case 2:
      return [p, v, t];
    case 3:
      return [p, q, v];
    case 4:
      return [t, p, v];
    default:
      return [v, p, q];
  }
}

const clip = (x: number): number => Math.min(1, Math.max(0, x));
const luma = (px: Float64Array, p: number): number => 0.299 * px[p * 3] + 0.587 * px[p * 3 + 1] + 0.114 * px[p * 3 + 2];

/** Float64 reference of one jitter op on one image's pixels `[pixels * 3]`. */
function referenceOp(op: number, px: Float64Array, factor: number): Float64Array {
  const pixels = px.length / 3;
  const out = new Float64Array(px.length);
  if (op === 0) for (let k = 0; k < px.length; k++) out[k] = clip(factor * px[k]);
  if (op === 1) {
    let mean = 0;
    for (let p = 0; p < pixels; p++) mean += luma(px, p) / pixels;
    for (let k = 0; k < px.length; k++) out[k] = clip(factor * px[k] + (1 - factor) * mean);
  }
  if (op === 2) {
    for (let p = 0; p < pixels; p++) {
      const y = luma(px, p);
      for (let c = 0; c < 3; c++) out[p * 3 + c] = clip(factor * px[p * 3 + c] + (1 - factor) * y);
    }
  }
  if (op === 3) {
    for (let p = 0; p < pixels; p++) {
      const [h, s, v] = rgbToHsv(px[p * 3], px[p * 3 + 1], px[p * 3 + 2]);
      const shifted = (((h + factor) % 1) + 1) % 1;
      out.set(hsvToRgb(shifted, s, v), p * 3);
    }
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function assertUnitRange(values: ArrayLike<number>): void {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  assert.ok(lo >= 0 && hi <= 1, `values in [${lo}, ${hi}]`);
}

test("shiftHue matches a float64 RGB->HSV->RGB reference at 20x20 and 32x32", async () => {
  await tf.setBackend("wasm");
  for (const [h, w] of SIZES) {
    const x = rgbImages(h, 4, h, w);
    const shifts = [0.25, -0.1, 0.5, 0.013];
    const before = tf.memory().numTensors;
    const y = shiftHue(x, shifts);
    assert.equal(tf.memory().numTensors, before + 1);
    assert.deepEqual(y.shape, [4, h, w, 3]);
    const xs = x.dataSync();
    const ys = y.dataSync();
    const size = h * w * 3;
    for (let i = 0; i < 4; i++) {
      const ref = referenceOp(3, Float64Array.from(xs.subarray(i * size, (i + 1) * size)), shifts[i]);
      const err = maxAbsDiff(ys.subarray(i * size, (i + 1) * size), ref);
      assert.ok(err < 2e-6, `image ${i} (${h}x${w}) differs by ${err}`);
    }
    // A full turn brings every colour back; a half turn of pure red is cyan.
    const turned = shiftHue(x, [1, -1, 2, 0]);
    assert.ok(maxAbsDiff(turned.dataSync(), xs) < 2e-6);
    const red = tf.tensor4d([1, 0, 0], [1, 1, 1, 3]);
    const cyan = shiftHue(red, [0.5]);
    assert.ok(maxAbsDiff(cyan.dataSync(), [0, 1, 1]) < 1e-6);
    tf.dispose([x, y, turned, red, cyan]);
  }
});

test("colorJitter matches a float64 reference of its draws (random order per image), keeps [0, 1], is seeded and leaks nothing", async () => {
  await tf.setBackend("wasm");
  const options = { brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.2, probability: 0.8 };
  const jitter = colorJitter(options);
  for (const [h, w] of SIZES) {
    const n = 12;
    const x = rgbImages(100 + h, n, h, w);
    const before = tf.memory().numTensors;
    const y = jitter(x, 31);
    assert.equal(tf.memory().numTensors, before + 1);
    assert.deepEqual(y.shape, [n, h, w, 3]);
    const xs = x.dataSync();
    const ys = y.dataSync();
    assertUnitRange(ys);
    const params = colorJitterParameters(n, options, 31);
    const factors = [params.brightness, params.contrast, params.saturation, params.hue];
    const size = h * w * 3;
    let jittered = 0;
    for (let i = 0; i < n; i++) {
      const own = xs.subarray(i * size, (i + 1) * size);
      const got = ys.subarray(i * size, (i + 1) * size);
      if (!params.applied[i]) {
        assert.deepEqual(got, own, `image ${i} is not jittered and must come back bit for bit`);
        continue;
      }
      jittered++;
      const order = Array.from(params.order.subarray(i * 4, i * 4 + 4));
      assert.deepEqual([...order].sort(), [0, 1, 2, 3]);
      let ref = Float64Array.from(own);
      for (const op of order) ref = referenceOp(op, ref, Math.fround(factors[op][i]));
      const err = maxAbsDiff(got, ref);
      assert.ok(err < 1e-5, `image ${i} (${h}x${w}, order ${order}) differs by ${err}`);
    }
    assert.ok(jittered > 0 && jittered < n, `${jittered} of ${n} jittered`);
    const again = jitter(x, 31);
    assert.deepEqual(again.dataSync(), ys);
    const other = jitter(x, 32);
    assert.ok(maxAbsDiff(other.dataSync(), ys) > 0.05);
    tf.dispose([x, y, again, other]);
  }
});

test("colorJitterParameters draws factors in range, every order, and applies with the probability asked", () => {
  const n = 4000;
  const p = colorJitterParameters(n, { brightness: 0.5, contrast: 0.2, saturation: 0.8, hue: 0.1, probability: 0.8 }, 5);
  const range = (a: Float64Array): [number, number] => [Math.min(...a), Math.max(...a)];
  const [bLo, bHi] = range(p.brightness);
  assert.ok(bLo >= 0.5 && bLo < 0.51 && bHi <= 1.5 && bHi > 1.49);
  const [cLo, cHi] = range(p.contrast);
  assert.ok(cLo >= 0.8 && cHi <= 1.2);
  const [hLo, hHi] = range(p.hue);
  assert.ok(hLo >= -0.1 && hLo < -0.099 && hHi <= 0.1 && hHi > 0.099);
  const rate = p.applied.reduce((a, v) => a + v, 0) / n;
  assert.ok(Math.abs(rate - 0.8) < 0.03, `applied rate ${rate}`);
  const orders = new Set<string>();
  for (let i = 0; i < n; i++) orders.add(Array.from(p.order.subarray(i * 4, i * 4 + 4)).join(""));
  assert.equal(orders.size, 24);
  assert.deepEqual(colorJitterParameters(n, {}, 5), colorJitterParameters(n, {}, 5));
});

test("randomGrayscale gives R = G = B = luma on the chosen images and leaves the others bit for bit", async () => {
  await tf.setBackend("wasm");
  for (const [h, w] of SIZES) {
    const n = 40;
    const x = rgbImages(7 + h, n, h, w);
    const grey = randomGrayscale({ probability: 0.5 });
    const before = tf.memory().numTensors;
    const y = grey(x, 3);
    assert.equal(tf.memory().numTensors, before + 1);
    assert.deepEqual(y.shape, [n, h, w, 3]);
    const xs = x.dataSync();
    const ys = y.dataSync();
    assertUnitRange(ys);
    const size = h * w * 3;
    let greyed = 0;
    for (let i = 0; i < n; i++) {
      const own = Float64Array.from(xs.subarray(i * size, (i + 1) * size));
      const got = ys.subarray(i * size, (i + 1) * size);
      const isGrey = got.every((v, k) => v === got[k - (k % 3)]);
      if (!isGrey) {
        assert.deepEqual(got, xs.subarray(i * size, (i + 1) * size));
        continue;
      }
      greyed++;
      for (let p = 0; p < h * w; p++) assert.ok(Math.abs(got[p * 3] - luma(own, p)) < 1e-6);
    }
    assert.ok(greyed > 5 && greyed < 35, `${greyed} of ${n} grey`);
    assert.deepEqual(grey(x, 3).dataSync(), ys);
    const all = randomGrayscale({ probability: 1 })(x, 3);
    const none = randomGrayscale({ probability: 0 })(x, 3);
    const alls = all.dataSync();
    for (let k = 0; k < alls.length; k += 3) assert.ok(alls[k] === alls[k + 1] && alls[k] === alls[k + 2]);
    assert.deepEqual(none.dataSync(), xs);
    tf.dispose([x, y, all, none]);
  }
});

test("the colour ops reject grey images and bad options with messages naming the shape", async () => {
  await tf.setBackend("wasm");
  const grey = tf.zeros([2, 20, 20, 1]) as tf.Tensor4D;
  assert.throws(() => colorJitter()(grey, 1), /colorJitter: images must be RGB, a float32 tensor of shape \[batch,height,width,3\], got a tensor of shape \[2,20,20,1\]/);
  assert.throws(() => randomGrayscale()(grey, 1), /randomGrayscale: images must be RGB.*got a tensor of shape \[2,20,20,1\]/);
  assert.throws(() => shiftHue(grey, [0, 0]), /shiftHue: images must be RGB/);
  const rgb = tf.zeros([2, 4, 4, 3]) as tf.Tensor4D;
  assert.throws(() => shiftHue(rgb, [0]), /shiftHue: shifts must hold one number per image \(2\), got \[0\]/);
  assert.throws(() => colorJitter({ hue: 0.7 }), /colorJitter: options.hue must be a number in \[0, 0.5\], got 0.7/);
  assert.throws(() => colorJitter({ brightness: -1 }), /colorJitter: options.brightness must be a number in \[0, 1\], got -1/);
  assert.throws(() => randomGrayscale({ probability: 2 }), /randomGrayscale: options.probability must be a probability in \[0, 1\], got 2/);
  assert.throws(() => colorJitter()(rgb, 0.5), /colorJitter: seed must be an integer, got 0.5/);
  tf.dispose([grey, rgb]);
});

test("simclrAugment on RGB adds colour jitter and grayscale to the grey pipeline; on grey at 20x20 it runs the intensity pipeline", async () => {
  await tf.setBackend("wasm");
  for (const [h, w] of SIZES) {
    const x = rgbImages(50 + h, 6, h, w);
    const aug = simclrAugment();
    const before = tf.memory().numTensors;
    const y = aug(x, 9);
    assert.equal(tf.memory().numTensors, before + 1);
    assert.deepEqual(y.shape, [6, h, w, 3]);
    const ys = y.dataSync();
    assertUnitRange(ys);
    const reference = compose([
      randomResizedCrop({ scale: [0.4, 1], ratio: [3 / 4, 4 / 3] }),
      randomRotation({ degrees: [-15, 15] }),
      colorJitter({ brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.2, probability: 0.8 }),
      randomGrayscale({ probability: 0.2 }),
      gaussianBlur({ sigma: [0.1, 1], p: 0.5 }),
      gaussianPixelNoise({ std: 0.05 }),
    ])(x, 9);
    assert.deepEqual(ys, reference.dataSync());
    assert.deepEqual(aug(x, 9).dataSync(), ys);
    const identity = simclrAugment({ strength: 0 })(x, 9);
    assert.ok(maxAbsDiff(identity.dataSync(), x.dataSync()) < 1e-5);
    tf.dispose([x, y, reference, identity]);
  }
  const rng = createRng(4);
  const g = tf.tensor4d(Float32Array.from({ length: 5 * 400 }, () => rng.next()), [5, 20, 20, 1]);
  const before = tf.memory().numTensors;
  const gy = simclrAugment()(g, 2);
  assert.equal(tf.memory().numTensors, before + 1);
  assert.deepEqual(gy.shape, [5, 20, 20, 1]);
  assertUnitRange(gy.dataSync());
  assert.ok(maxAbsDiff(gy.dataSync(), g.dataSync()) > 0.1);
  tf.dispose([g, gy]);
});
