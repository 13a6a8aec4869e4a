import { test } from "node:test";
import assert from "node:assert/strict";
import * as zlib from "node:zlib";
import { tf } from "../../src/backend/tf";
import { imageGrid } from "../../src/plot";
import { crc32, encodePng } from "../../src/plot/png";
import { dataUriBytes, decodePng } from "./helpers";

type AnyTrace = Record<string, any>;

// Node's own CRC-32 where it has one (>= 20.15), else ours (checked below against the standard check value).
const nodeCrc32 = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32;
const referenceCrc = nodeCrc32 ?? crc32;

test("crc32 and encodePng: standard check value, and a PNG that decodes back", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  if (nodeCrc32) {
    const bytes = new Uint8Array(1000).map((_, i) => (i * 37 + 11) & 255);
    assert.equal(crc32(bytes), nodeCrc32(bytes));
  }
  const pixels = new Uint8Array([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170]);
  const png = decodePng(encodePng(pixels, 3, 2, 3), referenceCrc);
  assert.deepEqual([png.width, png.height, png.channels], [3, 2, 3]);
  assert.deepEqual(Array.from(png.pixels), Array.from(pixels));
  assert.throws(() => encodePng(pixels, 3, 3, 3), /encodePng: pixels must have length 27 \(3 x 3 x 3\), got 18/);
});

test("imageGrid: a known tiny input gives the expected PNG grid", async () => {
  await tf.setBackend("cpu");
  // Three 2x2 greyscale images, two per row, gap 1 image pixel, scale 10.
  const images = tf.tensor4d(
    [
      [[[0], [1]], [[0.5], [0.25]]],
      [[[1], [1]], [[0], [0]]],
      [[[0.2], [0.4]], [[0.6], [0.8]]],
    ],
  );
  const before = tf.memory().numTensors;
  const fig = imageGrid(images, { columns: 2, gap: 1, scale: 10 });
  assert.equal(tf.memory().numTensors, before, "no tensors left behind");
  const image = fig.data[0] as AnyTrace;
  assert.equal(image.type, "image");
  const png = decodePng(dataUriBytes(image.source), referenceCrc);
  // Grid: width 2*2 + 1 = 5, height 2*2 + 1 = 5; gaps and the empty 4th slot white (255).
  const W = 255;
  const v = (x: number) => Math.round(x * 255);
  const expected = [
    [v(0), v(1), W, v(1), v(1)],
    [v(0.5), v(0.25), W, v(0), v(0)],
    [W, W, W, W, W],
    [v(0.2), v(0.4), W, W, W],
    [v(0.6), v(0.8), W, W, W],
  ];
  assert.deepEqual([png.width, png.height, png.channels], [5, 5, 1]);
  assert.deepEqual(Array.from(png.pixels), expected.flat());
  assert.equal(fig.layout.width, 5 * 10 + 8);
  assert.equal(fig.layout.height, 5 * 10 + 8);
  assert.deepEqual((fig.layout.yaxis as AnyTrace).range, [4.5, -0.5], "row 0 on top");
  // The hover layer names each image at its centre.
  const hover = fig.data[1] as AnyTrace;
  assert.deepEqual(hover.x, [0.5, 3.5, 0.5]);
  assert.deepEqual(hover.y, [0.5, 0.5, 3.5]);
  images.dispose();
});

test("imageGrid: RGB from a Float32Array, captions, and the range options", () => {
  // Two 1x2 RGB images: red-green and blue-white.
  const data = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1]);
  const fig = imageGrid(data, { shape: [2, 1, 2, 3], columns: 2, gap: 0, scale: 20, captions: ["rg", "bw"] });
  const png = decodePng(dataUriBytes((fig.data[0] as AnyTrace).source), referenceCrc);
  assert.equal(png.channels, 3);
  // Caption space under the row: ceil(18 / 20) = 1 white pixel row.
  assert.deepEqual([png.width, png.height], [4, 2]);
  assert.deepEqual(Array.from(png.pixels.slice(0, 12)), [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
  assert.deepEqual(Array.from(png.pixels.slice(12)), new Array(12).fill(255));
  const annotations = fig.layout.annotations as AnyTrace[];
  assert.deepEqual(annotations.map((a) => a.text), ["rg", "bw"]);
  assert.deepEqual(annotations.map((a) => a.x), [0.5, 2.5]);

  // Values outside [0, 1] are an error by default, never clipped.
  const wide = new Float32Array([-1, 0, 1, 3]);
  assert.throws(
    () => imageGrid(wide, { shape: [1, 2, 2, 1] }),
    /imageGrid: images values must lie in \[0, 1\], got \[-1, 3\] in image 0; set options.range/,
  );
  const all = decodePng(dataUriBytes((imageGrid(wide, { shape: [1, 2, 2, 1], range: "all" }).data[0] as AnyTrace).source), referenceCrc);
  assert.deepEqual(Array.from(all.pixels), [0, 64, 128, 255]);
  const fixed = decodePng(dataUriBytes((imageGrid(wide, { shape: [1, 2, 2, 1], range: [-1, 7] }).data[0] as AnyTrace).source), referenceCrc);
  assert.deepEqual(Array.from(fixed.pixels), [0, 32, 64, 128]);
  // "each": every image stretched on its own.
  const two = new Float32Array([0, 2, 10, 20]);
  const each = decodePng(dataUriBytes((imageGrid(two, { shape: [2, 1, 2, 1], range: "each", gap: 1, scale: 10 }).data[0] as AnyTrace).source), referenceCrc);
  assert.deepEqual(Array.from(each.pixels), [0, 255, 255, 0, 255]);
});

test("imageGrid: shape and option errors", () => {
  assert.throws(() => imageGrid(tf.zeros([2, 4, 4, 2]) as tf.Tensor), /imageGrid: images must have shape \[n, height, width, 1 or 3\], got \[2,4,4,2\]/);
  assert.throws(() => imageGrid(tf.zeros([4, 4, 1]) as tf.Tensor), /imageGrid: images must have shape \[n, height, width, 1 or 3\], got \[4,4,1\]/);
  assert.throws(() => imageGrid(new Float32Array(16)), /imageGrid: images must have shape \[n, height, width, 1 or 3\], got \[16\] \(give options.shape for a flat array\)/);
  assert.throws(() => imageGrid(new Float32Array(8), { shape: [2, 2, 2, 1], captions: ["a"] }), /imageGrid: options.captions must have shape \[2\] \(one per image\), got \[1\]/);
  assert.throws(() => imageGrid(new Float32Array([0, NaN]), { shape: [2, 1, 1, 1] }), /imageGrid: images must be finite, got NaN in image 1/);
  assert.throws(() => imageGrid(new Float32Array(4), { shape: [1, 2, 2, 1], columns: 0 }), /imageGrid: options.columns must be a positive integer, got 0/);
  assert.throws(() => imageGrid(new Float32Array(4), { shape: [1, 2, 2, 1], range: [1, 1] }), /imageGrid: options.range must be \[low, high\] with low < high/);
});
