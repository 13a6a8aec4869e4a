import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { filterGrid, imageGrid, imageRows } from "../../src/plot";

test("imageRows: the same figure as imageGrid of the rows stacked by hand, with row captions repeated", async () => {
  await tf.setBackend("cpu");
  // Two rows of three 2x2 images: a tensor [3, 4] and a flat array.
  const first = tf.tensor2d([[0, 0.1, 0.2, 0.3], [0.4, 0.5, 0.6, 0.7], [0.8, 0.9, 1, 0]]);
  const second = Float32Array.from({ length: 12 }, (_, i) => (11 - i) / 11);
  const fig = imageRows([{ images: first, caption: "clean" }, { images: second, caption: ["a", "b", "c"] }], { imageShape: [2, 2, 1], title: "t" });
  // Float32 like the inputs: imageGrid writes float32 values with their shortest decimals.
  const values = Float32Array.from([...Array.from(first.dataSync()), ...Array.from(second)]);
  const want = imageGrid(values, { shape: [6, 2, 2, 1], columns: 3, captions: ["clean", "clean", "clean", "a", "b", "c"], title: "t" });
  assert.deepEqual(JSON.parse(JSON.stringify(fig)), JSON.parse(JSON.stringify(want)));
  assert.ok(!first.isDisposed, "tensors passed in are not disposed");
  // Without captions, none are drawn.
  const plain = imageRows([{ images: second }], { imageShape: [2, 2, 1] });
  assert.deepEqual(JSON.parse(JSON.stringify(plain)), JSON.parse(JSON.stringify(imageGrid(second, { shape: [3, 2, 2, 1], columns: 3 }))));
  assert.throws(() => imageRows([{ images: first }, { images: second.subarray(0, 8) }], { imageShape: [2, 2, 1] }), /imageRows: rows\[1\]\.images must hold 3 images like rows\[0\], got 2/);
  assert.throws(() => imageRows([{ images: second.subarray(0, 5) }], { imageShape: [2, 2, 1] }), /imageRows: rows\[0\]\.images must hold whole images of 2 x 2 x 1 = 4 values, got 5 values/);
  assert.throws(() => imageRows([{ images: first, caption: ["x"] }], { imageShape: [2, 2, 1] }), /imageRows: rows\[0\]\.caption must be a string or 3 strings, got \["x"\]/);
  assert.throws(() => imageRows([]), /imageRows: rows must be a non-empty array/);
  first.dispose();
});

test("filterGrid: column j of [inputs, units] weights becomes image j, each stretched to its own range", async () => {
  await tf.setBackend("cpu");
  // 4 inputs (2x2 images), 3 units; column j holds j*10 + (0, 1, 2, 3).
  const rows = [0, 1, 2, 3].map((i) => [0, 1, 2].map((j) => j * 10 + i));
  const weights = tf.tensor2d(rows);
  const fig = filterGrid(weights, { imageShape: [2, 2, 1], count: 2, columns: 2, title: "filters" });
  const want = imageGrid([0, 1, 2, 3, 10, 11, 12, 13], { shape: [2, 2, 2, 1], columns: 2, range: "each", title: "filters" });
  assert.deepEqual(JSON.parse(JSON.stringify(fig)), JSON.parse(JSON.stringify(want)));
  assert.throws(() => filterGrid(weights, { imageShape: [2, 2, 1], count: 4 }), /filterGrid: options.count must be an integer in \[1, 3\], got 4/);
  assert.throws(() => filterGrid(weights, { imageShape: [3, 3, 1] }), /filterGrid: weights must have shape \[9, units\] for images of 3 x 3 x 1, got \[4, 3\]/);
  weights.dispose();
});
