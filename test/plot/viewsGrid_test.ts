import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { imageGrid, viewsGrid } from "../../src/plot";
import { crc32 } from "../../src/plot/png";
import { randomRotation } from "../../src/augment/geometric";
import { simclrAugment } from "../../src/augment/compose";
import type { Augmentation } from "../../src/augment/augmentation";
import { dataUriBytes, decodePng } from "./helpers";

function randomImages(seed: number, n: number): tf.Tensor4D {
  const rng = createRng(seed);
  return tf.tensor4d(Float32Array.from({ length: n * 28 * 28 }, () => (rng.next() < 0.3 ? rng.next() : 0)), [n, 28, 28, 1]);
}

test("viewsGrid shows each image then its views in a row, the views drawn with seeds forked from options.seed", async () => {
  await tf.setBackend("cpu");
  const x = randomImages(1, 3);
  const aug = randomRotation({ degrees: [-40, 40] });
  const before = tf.memory().numTensors;
  const fig = viewsGrid(x, aug, { views: 2, seed: 4, title: "rotations" });
  assert.equal(tf.memory().numTensors, before);

  // Reference: the same grid assembled by hand, row-major [image, original + views].
  const rng = createRng(4);
  const views = [aug(x, rng.fork()), aug(x, rng.fork())];
  const [xs, v1, v2] = [x.arraySync(), views[0].arraySync(), views[1].arraySync()];
  const rows = xs.flatMap((img, i) => [img, v1[i], v2[i]]);
  const grid = tf.tensor4d(rows);
  const captions = ["original", "view 1", "view 2", "", "", "", "", "", ""];
  const ref = imageGrid(grid, { columns: 3, captions, title: "rotations" });
  assert.deepEqual(fig, ref);

  // The PNG's first row: image 0, then its first view, 28 px + 1 px gap apart.
  const png = decodePng(dataUriBytes((fig.data[0] as unknown as { source: string }).source), crc32);
  const v1Values = views[0].dataSync();
  const xValues = x.dataSync();
  for (let y = 0; y < 28; y++) {
    for (let c = 0; c < 28; c++) {
      assert.equal(png.pixels[y * png.width + c], Math.round(xValues[y * 28 + c] * 255));
      assert.equal(png.pixels[y * png.width + 29 + c], Math.round(v1Values[y * 28 + c] * 255));
    }
  }
  const other = viewsGrid(x, aug, { views: 2, seed: 5 });
  assert.notDeepEqual(other.data[0], fig.data[0]);
  tf.dispose([x, grid, ...views]);
});

test("viewsGrid works with the SimCLR preset and rejects bad arguments by name", async () => {
  await tf.setBackend("cpu");
  const x = randomImages(2, 4);
  const before = tf.memory().numTensors;
  const fig = viewsGrid(x, simclrAugment(), {});
  assert.equal(tf.memory().numTensors, before);
  // Default 4 views: 5 columns, captions under the first row only.
  const annotations = (fig.layout as { annotations: { text: string }[] }).annotations;
  assert.equal(annotations.length, 20);
  assert.deepEqual(annotations.slice(0, 5).map((a) => a.text), ["original", "view 1", "view 2", "view 3", "view 4"]);
  assert.throws(() => viewsGrid(x, simclrAugment(), { views: 0 }), /viewsGrid: options.views must be a positive integer, got 0/);
  assert.throws(() => viewsGrid(x, simclrAugment(), { seed: 0.5 }), /viewsGrid: options.seed must be an integer, got 0.5/);
  assert.throws(() => viewsGrid(x, "crop" as unknown as Augmentation), /viewsGrid: augmentation must be a function/);
  const flat = tf.zeros([4, 784]);
  assert.throws(() => viewsGrid(flat as unknown as tf.Tensor4D, simclrAugment()), /viewsGrid: images must be a tensor of shape \[n, height, width, channels\], got \[4,784\]/);
  const shrink: Augmentation = (images) => tf.slice(images, [0, 0, 0, 0], [-1, 14, 14, 1]) as tf.Tensor4D;
  assert.throws(() => viewsGrid(x, shrink), /viewsGrid: augmentation must return shape \[4,28,28,1\], got \[4,14,14,1\]/);
  assert.equal(tf.memory().numTensors, before + 1);
  tf.dispose([x, flat]);
});
