import { test } from "node:test";
import assert from "node:assert/strict";
import "../../src/backend/select"; // registers the wasm backend
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { gaussianBlur, gaussianKernels, gaussianPixelNoise, intensityJitter } from "../../src/augment/photometric";

function randomImages(seed: number, n: number, h: number, w: number, c = 1): tf.Tensor4D {
  const rng = createRng(seed);
  return tf.tensor4d(Float32Array.from({ length: n * h * w * c }, () => rng.next()), [n, h, w, c]);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Float64 2-D Gaussian blur of one single-channel image, zero padding, kernel truncated to `size` and normalised. */
function blurReference(img: ArrayLike<number>, h: number, w: number, sigma: number, size: number): Float64Array {
  const r = (size - 1) / 2;
  const k: number[] = [];
  for (let d = -r; d <= r; d++) k.push(Math.exp(-(d * d) / (2 * sigma * sigma)));
  const s = k.reduce((a, v) => a + v, 0);
  const out = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy >= 0 && yy < h && xx >= 0 && xx < w) acc += (k[dy + r] * k[dx + r] * img[yy * w + xx]) / (s * s);
        }
      }
      out[y * w + x] = acc;
    }
  }
  return out;
}

test("intensityJitter with brightness only scales each image by one factor in range, clipped to [0, 1]", async () => {
  await tf.setBackend("cpu");
  const x = randomImages(1, 50, 6, 6);
  const before = tf.memory().numTensors;
  const y = intensityJitter({ brightness: 0.5, contrast: 0 })(x, 3);
  assert.equal(tf.memory().numTensors, before + 1);
  const xs = x.dataSync();
  const ys = y.dataSync();
  const factors: number[] = [];
  for (let i = 0; i < 50; i++) {
    // The factor from the largest unclipped pixel ratio; every pixel must agree with it.
    let f = NaN;
    for (let k = i * 36; k < (i + 1) * 36; k++) if (ys[k] < 1 && xs[k] > 0.05) f = ys[k] / xs[k];
    assert.ok(f >= 0.5 - 1e-5 && f <= 1.5 + 1e-5, `factor ${f}`);
    for (let k = i * 36; k < (i + 1) * 36; k++) assert.ok(Math.abs(ys[k] - Math.min(1, f * xs[k])) < 1e-5, `image ${i} pixel ${k}`);
    factors.push(f);
  }
  assert.ok(Math.max(...factors) - Math.min(...factors) > 0.5, "factors differ between images");
  tf.dispose([x, y]);
});

test("intensityJitter contrast keeps each image's mean where nothing clips, and scales its spread", async () => {
  await tf.setBackend("cpu");
  // Values in [0.4, 0.6]: contrast factors up to 1.5 cannot leave [0, 1].
  const base = randomImages(2, 40, 5, 5);
  const x = tf.tidy(() => tf.add(0.4, tf.mul(0.2, base))) as tf.Tensor4D;
  const y = intensityJitter({ brightness: 0, contrast: 0.5 })(x, 4);
  const xs = x.dataSync();
  const ys = y.dataSync();
  for (let i = 0; i < 40; i++) {
    const xi = Array.from(xs.subarray(i * 25, (i + 1) * 25));
    const yi = Array.from(ys.subarray(i * 25, (i + 1) * 25));
    const mx = xi.reduce((a, v) => a + v, 0) / 25;
    const my = yi.reduce((a, v) => a + v, 0) / 25;
    assert.ok(Math.abs(mx - my) < 1e-5, `image ${i}: mean ${mx} -> ${my}`);
    const c = (yi[0] - my) / (xi[0] - mx);
    assert.ok(c >= 0.5 - 1e-3 && c <= 1.5 + 1e-3, `contrast ${c}`);
    for (let k = 0; k < 25; k++) assert.ok(Math.abs(yi[k] - (mx + c * (xi[k] - mx))) < 1e-4);
  }
  tf.dispose([base, x, y]);
});

test("intensityJitter stays in [0, 1], is seeded, and is the identity at zero strength", async () => {
  await tf.setBackend("cpu");
  const x = randomImages(3, 16, 8, 8);
  const jitter = intensityJitter({ brightness: 0.8, contrast: 0.8 });
  const [a, b, c] = [jitter(x, 1), jitter(x, 1), jitter(x, 2)];
  const as = a.dataSync();
  assert.ok(Math.min(...as) >= 0 && Math.max(...as) <= 1);
  assert.deepEqual(as, b.dataSync());
  assert.ok(maxAbsDiff(as, c.dataSync()) > 0.05);
  const id = intensityJitter({ brightness: 0, contrast: 0 })(x, 1);
  assert.deepEqual(id.dataSync(), x.dataSync());
  tf.dispose([x, a, b, c, id]);
});

test("gaussianKernels are normalised, symmetric, and a delta at sigma 0", () => {
  const k = gaussianKernels([0, 0.7, 2], 7);
  assert.deepEqual(Array.from(k.subarray(0, 7)), [0, 0, 0, 1, 0, 0, 0]);
  for (const row of [k.subarray(7, 14), k.subarray(14, 21)]) {
    assert.ok(Math.abs(row.reduce((a, v) => a + v, 0) - 1) < 1e-6);
    for (let i = 0; i < 3; i++) assert.equal(row[i], row[6 - i]);
    assert.ok(row[3] > row[2] && row[2] > row[1]);
  }
  assert.ok(Math.abs(k[14 + 2] / k[14 + 3] - Math.exp(-1 / 8)) < 1e-6);
});

for (const backend of ["cpu", "wasm"]) {
  test(`gaussianBlur on ${backend} matches a float64 2-D blur with zero padding, per channel`, async () => {
    await tf.setBackend(backend);
    const x = randomImages(4, 3, 12, 10, 2);
    const before = tf.memory().numTensors;
    const y = gaussianBlur({ sigma: [0.8, 0.8], p: 1 })(x, 5);
    assert.equal(tf.memory().numTensors, before + 1);
    assert.deepEqual(y.shape, [3, 12, 10, 2]);
    const xs = x.dataSync();
    const ys = y.dataSync();
    // Default kernel size 2 ceil(3 * 0.8) + 1 = 7.
    let maxErr = 0;
    for (let i = 0; i < 3; i++) {
      for (let ch = 0; ch < 2; ch++) {
        const img = Float64Array.from({ length: 120 }, (_, k) => xs[(i * 120 + k) * 2 + ch]);
        const ref = blurReference(img, 12, 10, 0.8, 7);
        for (let k = 0; k < 120; k++) maxErr = Math.max(maxErr, Math.abs(ref[k] - ys[(i * 120 + k) * 2 + ch]));
      }
    }
    assert.ok(maxErr < 1e-5, `max error ${maxErr}`);
    tf.dispose([x, y]);
  });
}

test("gaussianBlur blurs a fraction p of the images, seeded; p 0 and sigma [0, 0] are the identity", async () => {
  await tf.setBackend("cpu");
  const n = 400;
  const x = randomImages(6, n, 6, 6);
  const blur = gaussianBlur({ sigma: [0.5, 1.5], p: 0.25, kernelSize: 5 });
  const y = blur(x, 9);
  const xs = x.dataSync();
  const ys = y.dataSync();
  let blurred = 0;
  for (let i = 0; i < n; i++) {
    const d = maxAbsDiff(xs.subarray(i * 36, (i + 1) * 36), ys.subarray(i * 36, (i + 1) * 36));
    if (d > 1e-6) blurred++;
  }
  // Binomial(400, 0.25): sd 0.022.
  assert.ok(Math.abs(blurred / n - 0.25) < 0.08, `blurred fraction ${blurred / n}`);
  assert.ok(Math.min(...ys) >= 0 && Math.max(...ys) <= 1);
  const again = blur(x, 9);
  assert.deepEqual(again.dataSync(), ys);
  const other = blur(x, 10);
  assert.ok(maxAbsDiff(other.dataSync(), ys) > 0.01);
  const p0 = gaussianBlur({ p: 0 })(x, 1);
  const s0 = gaussianBlur({ sigma: [0, 0], p: 1 })(x, 1);
  assert.deepEqual(p0.dataSync(), xs);
  assert.deepEqual(s0.dataSync(), xs);
  tf.dispose([x, y, again, other, p0, s0]);
});

test("gaussianPixelNoise adds noise of the given std, clipped to [0, 1], seeded; std 0 is the identity", async () => {
  await tf.setBackend("cpu");
  const x = tf.fill([64, 28, 28, 1], 0.5) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  const noise = gaussianPixelNoise({ std: 0.05 });
  const y = noise(x, 3);
  assert.equal(tf.memory().numTensors, before + 1);
  const ys = y.dataSync();
  let s = 0;
  let s2 = 0;
  for (const v of ys) {
    s += v - 0.5;
    s2 += (v - 0.5) ** 2;
  }
  const mean = s / ys.length;
  const std = Math.sqrt(s2 / ys.length - mean * mean);
  assert.ok(Math.abs(mean) < 0.002 && Math.abs(std - 0.05) < 0.002, `mean ${mean}, std ${std}`);
  const big = gaussianPixelNoise({ std: 1 })(x, 3);
  const bs = big.dataSync();
  assert.ok(Math.min(...bs) === 0 && Math.max(...bs) === 1, "clipped to [0, 1]");
  const again = noise(x, 3);
  assert.deepEqual(again.dataSync(), ys);
  const other = noise(x, 4);
  assert.ok(maxAbsDiff(other.dataSync(), ys) > 0.05);
  const id = gaussianPixelNoise({ std: 0 })(x, 1);
  assert.deepEqual(id.dataSync(), x.dataSync());
  tf.dispose([x, y, big, again, other, id]);
  assert.equal(tf.memory().numTensors, before - 1);
});

test("photometric augmentations reject bad options by name", () => {
  assert.throws(() => intensityJitter({ brightness: 1.5 }), /intensityJitter: options\.brightness must be a number in \[0, 1\], got 1\.5/);
  assert.throws(() => intensityJitter({ contrast: -0.1 }), /intensityJitter: options\.contrast must be a number in \[0, 1\], got -0\.1/);
  assert.throws(() => gaussianBlur({ sigma: [-1, 1] }), /gaussianBlur: options.sigma must be \[low, high\].*got \[-1,1\]/);
  assert.throws(() => gaussianBlur({ kernelSize: 4 }), /gaussianBlur: options.kernelSize must be an odd positive integer, got 4/);
  assert.throws(() => gaussianBlur({ p: 2 }), /gaussianBlur: options.p must be a probability in \[0, 1\], got 2/);
  assert.throws(() => gaussianPixelNoise({ std: -1 }), /gaussianPixelNoise: options.std must be a finite number >= 0, got -1/);
});
