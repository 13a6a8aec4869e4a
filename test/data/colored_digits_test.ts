import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { chroma, coloredDigits, DIGIT_HUES, isoluminantColor, luminance, luminanceSet, rgbFromLuminanceChroma } from "../../src/data/colored_digits";
import { loadMnist, toTensors } from "../../src/data/mnist";
import { createRng } from "../../src/data/random";
import { onWasm } from "../methods/vision/helpers";

const digits = loadMnist({ trainSize: 60, testSize: 1 }).train;

/** HSV (hue in turns, s = v = 1) to RGB by the textbook sector table, in float64. */
function hsvRef(hue: number): number[] {
  const h = (((hue % 1) + 1) % 1) * 6;
  const sector = Math.floor(h);
  const f = h - sector;
  const table = [[1, f, 0], [1 - f, 1, 0], [0, 1, f], [0, 1 - f, 1], [f, 0, 1], [1, 0, 1 - f]];
  return table[sector];
}

const lumaRef = ([r, g, b]: number[]): number => 0.299 * r + 0.587 * g + 0.114 * b;

/** The documented rule written out: fg = L + k (rgb - Y(rgb)). */
function strokeRef(hue: number, l: number, k: number): number[] {
  const rgb = hsvRef(hue);
  const y = lumaRef(rgb);
  return rgb.map((v) => l + k * (v - y));
}

test("coloredDigits: every pixel follows the stated rule (float64 reference of hue noise, stroke colour and background)", () => {
  const options = { seed: 7, hueJitter: 0.05, strokeLuminance: 0.55, chroma: 0.4, backgroundMax: 0.3 };
  const set = coloredDigits(digits, options);
  assert.deepEqual(set.shape, [28, 28, 3]);
  assert.equal(set.n, 60);
  assert.deepEqual(Array.from(set.labels), Array.from(digits.labels));
  const rng = createRng(7);
  let maxError = 0;
  for (let i = 0; i < set.n; i++) {
    const hue = (((DIGIT_HUES[digits.labels[i]] + 0.05 * rng.normal()) % 1) + 1) % 1;
    const bg = [rng.next() * 0.3, rng.next() * 0.3, rng.next() * 0.3];
    assert.ok(Math.abs(set.strokeHues[i] - hue) < 1e-6, `hue of image ${i}`);
    assert.ok(Array.from(set.backgrounds.subarray(3 * i, 3 * i + 3)).every((v, c) => Math.abs(v - bg[c]) < 1e-6));
    const fg = strokeRef(hue, 0.55, 0.4);
    for (let p = 0; p < 784; p++) {
      const m = digits.images[i * 784 + p];
      for (let c = 0; c < 3; c++) maxError = Math.max(maxError, Math.abs(set.images[(i * 784 + p) * 3 + c] - (m * fg[c] + (1 - m) * bg[c])));
    }
  }
  assert.ok(maxError < 1e-6, `largest pixel error ${maxError}`);
  assert.ok(set.images.every((v) => v >= 0 && v <= 1));
});

test("coloredDigits: hue follows the class (within 4 jitter sds), strokes are isoluminant, the background ignores the label", () => {
  const set = coloredDigits(digits, { seed: 3 });
  for (let i = 0; i < set.n; i++) {
    const d = Math.abs(set.strokeHues[i] - DIGIT_HUES[set.labels[i]]);
    assert.ok(Math.min(d, 1 - d) < 4 * 0.03, `image ${i}: hue ${set.strokeHues[i]} for class ${set.labels[i]}`);
  }
  for (let hue = 0; hue < 1; hue += 0.01) {
    const fg = isoluminantColor(hue, 0.6, 0.45);
    assert.ok(Math.abs(lumaRef(fg) - 0.6) < 1e-12, `luminance of hue ${hue}`);
    strokeRef(hue, 0.6, 0.45).forEach((v, c) => assert.ok(Math.abs(v - fg[c]) < 1e-12));
  }
  // With 60 images the background tints of the even and odd classes have near-equal means (uniform [0, 0.1], sd 0.029; sd of a mean of 90 values 0.003).
  const meanBg = (parity: number) => {
    const rows = Array.from({ length: set.n }, (_, i) => i).filter((i) => set.labels[i] % 2 === parity);
    return rows.reduce((s, i) => s + set.backgrounds[3 * i] + set.backgrounds[3 * i + 1] + set.backgrounds[3 * i + 2], 0) / (3 * rows.length);
  };
  assert.ok(Math.abs(meanBg(0) - meanBg(1)) < 0.015, `${meanBg(0)} vs ${meanBg(1)}`);
  assert.ok(Math.abs(meanBg(0) - 0.05) < 0.012);
});

test("coloredDigits is seeded: one seed, one set; another seed, other colours", () => {
  const a = coloredDigits(digits, { seed: 11 });
  const b = coloredDigits(digits, { seed: 11 });
  const c = coloredDigits(digits, { seed: 12 });
  assert.deepEqual(a.images, b.images);
  assert.deepEqual(a.strokeHues, b.strokeHues);
  assert.notDeepEqual(a.images, c.images);
  assert.equal(digits.shape[2], 1, "the input set is left as it was");
});

test("luminance, chroma and their inverse match float64 BT.601 references; luminanceSet agrees with luminance", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(5);
  const values = Float32Array.from({ length: 2 * 3 * 4 * 3 }, () => rng.next());
  const x = tf.tensor4d(values, [2, 3, 4, 3]);
  const before = tf.memory().numTensors;
  const y = luminance(x);
  const cbcr = chroma(x);
  const back = rgbFromLuminanceChroma(y, cbcr);
  assert.deepEqual(y.shape, [2, 3, 4, 1]);
  assert.deepEqual(cbcr.shape, [2, 3, 4, 2]);
  const yv = y.dataSync();
  const cv = cbcr.dataSync();
  const bv = back.dataSync();
  for (let p = 0; p < 24; p++) {
    const [r, g, b] = [values[3 * p], values[3 * p + 1], values[3 * p + 2]];
    const luma = 0.299 * r + 0.587 * g + 0.114 * b;
    assert.ok(Math.abs(yv[p] - luma) < 1e-6);
    assert.ok(Math.abs(cv[2 * p] - (b - luma) / 1.772) < 1e-6);
    assert.ok(Math.abs(cv[2 * p + 1] - (r - luma) / 1.402) < 1e-6);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(bv[3 * p + c] - values[3 * p + c]) < 1e-5, "the inverse gives RGB back");
  }
  tf.dispose([y, cbcr, back]);
  assert.equal(tf.memory().numTensors, before);
  const set = coloredDigits(digits, { seed: 1 });
  const grey = luminanceSet(set);
  assert.deepEqual(grey.shape, [28, 28, 1]);
  const { x: rgb, y: labels } = toTensors(set);
  const viaTensor = luminance(rgb);
  const tv = viaTensor.dataSync();
  assert.ok(grey.images.every((v, i) => Math.abs(v - tv[i]) < 1e-6));
  // The grey image is m * 0.6 + (1 - m) * Y(background): on full-ink pixels it is 0.6 for every class.
  for (let p = 0; p < digits.images.length; p++) if (digits.images[p] === 1) assert.ok(Math.abs(grey.images[p] - 0.6) < 1e-6);
  tf.dispose([x, rgb, labels, viaTensor]);
  await onWasm(() => {
    const w = tf.tensor4d(values, [2, 3, 4, 3]);
    const wy = luminance(w);
    assert.ok(Array.from(wy.dataSync()).every((v, i) => Math.abs(v - yv[i]) < 1e-6), "the same on wasm");
    tf.dispose([w, wy]);
  });
});

test("coloredDigits and the colour transforms reject bad input", () => {
  const bad: Array<[() => unknown, RegExp]> = [
    [() => coloredDigits(digits, undefined as never), /coloredDigits: options must be an object \{seed, hues\?/],
    [() => coloredDigits(digits, { seed: 0.5 }), /coloredDigits: options.seed must be an integer, got 0.5/],
    [() => coloredDigits(digits, { seed: 1, chroma: 0.6 }), /coloredDigits: options.chroma must keep every stroke colour in \[0, 1\] .*got chroma 0.6 with strokeLuminance 0.6/],
    [() => coloredDigits(digits, { seed: 1, hueJitter: -1 }), /coloredDigits: options.hueJitter must be a finite number >= 0, got -1/],
    [() => coloredDigits(digits, { seed: 1, hues: [0, 0.5] }), /coloredDigits: set.labels\[\d+\] must be a class in \[0, 2\)/],
    [() => coloredDigits(coloredDigits(digits, { seed: 1 }), { seed: 1 }), /coloredDigits: set must hold grey images \[n, height, width, 1\], got shape \[28,28,3\]/],
    [() => luminanceSet(digits), /luminanceSet: set must hold RGB images \[n, height, width, 3\], got shape \[28,28,1\]/],
  ];
  for (const [call, message] of bad) assert.throws(call, message);
  const grey = tf.zeros([2, 4, 4, 1]) as tf.Tensor4D;
  assert.throws(() => luminance(grey), /luminance: images must be RGB \[batch, height, width, 3\], got a tensor of shape \[2,4,4,1\]/);
  assert.throws(() => chroma(tf.zeros([4, 4, 3]) as never), /chroma: images must be a float32 tensor of rank 4, got a tensor of shape \[4,4,3\]/);
  assert.throws(() => rgbFromLuminanceChroma(grey, grey), /rgbFromLuminanceChroma: cbcr must be \[2, 4, 4, 2\] like y, got a tensor of shape \[2,4,4,1\]/);
  grey.dispose();
});
