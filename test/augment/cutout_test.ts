import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { cutout, cutoutMasks } from "../../src/augment/cutout";

/** Exact mean cut area for a size x size square with centre uniform over an h x w grid, clipped at the border. */
function expectedArea(h: number, w: number, size: number): number {
  const half = Math.floor(size / 2);
  const meanSpan = (len: number): number => {
    let s = 0;
    for (let c = 0; c < len; c++) s += Math.min(len, c - half + size) - Math.max(0, c - half);
    return s / len;
  };
  return meanSpan(h) * meanSpan(w);
}

test("cutoutMasks cut one clipped square per image, of the expected mean area, with frequency p", () => {
  const [n, h, w, size] = [3000, 28, 28, 8];
  const mask = cutoutMasks(n, h, w, { size, p: 0.6 }, 3);
  let cut = 0;
  let areaSum = 0;
  for (let i = 0; i < n; i++) {
    let area = 0;
    let [y0, y1, x0, x1] = [h, -1, w, -1];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = mask[(i * h + y) * w + x];
        assert.ok(v === 0 || v === 1);
        if (v === 0) {
          area++;
          [y0, y1, x0, x1] = [Math.min(y0, y), Math.max(y1, y), Math.min(x0, x), Math.max(x1, x)];
        }
      }
    }
    if (area === 0) continue;
    cut++;
    areaSum += area;
    // The zeros fill their bounding box, at most size x size, and a side shorter than size touches the border.
    const [bh, bw] = [y1 - y0 + 1, x1 - x0 + 1];
    assert.equal(area, bh * bw, `image ${i} is not a rectangle`);
    assert.ok(bh <= size && bw <= size);
    if (bh < size) assert.ok(y0 === 0 || y1 === h - 1);
    if (bw < size) assert.ok(x0 === 0 || x1 === w - 1);
  }
  // Binomial(3000, 0.6): sd 0.009.
  assert.ok(Math.abs(cut / n - 0.6) < 0.035, `cut fraction ${cut / n}`);
  const expected = expectedArea(h, w, size);
  assert.ok(Math.abs(areaSum / cut - expected) < 0.03 * expected, `mean area ${areaSum / cut}, expected ${expected}`);
});

test("cutout zeroes the mask's pixels in every channel, seeded; size 0 and p 0 are the identity", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(1);
  const x = tf.tensor4d(Float32Array.from({ length: 5 * 10 * 10 * 3 }, () => 0.1 + 0.9 * rng.next()), [5, 10, 10, 3]);
  const before = tf.memory().numTensors;
  const y = cutout({ size: 4 })(x, 7);
  assert.equal(tf.memory().numTensors, before + 1);
  const mask = cutoutMasks(5, 10, 10, { size: 4 }, 7);
  const xs = x.dataSync();
  const ys = y.dataSync();
  for (let k = 0; k < ys.length; k++) assert.equal(ys[k], mask[Math.floor(k / 3)] === 0 ? 0 : xs[k]);
  const again = cutout({ size: 4 })(x, 7);
  assert.deepEqual(again.dataSync(), ys);
  const other = cutout({ size: 4 })(x, 8);
  assert.notDeepEqual(other.dataSync(), ys);
  const s0 = cutout({ size: 0 })(x, 7);
  const p0 = cutout({ p: 0 })(x, 7);
  assert.deepEqual(s0.dataSync(), xs);
  assert.deepEqual(p0.dataSync(), xs);
  tf.dispose([x, y, again, other, s0, p0]);
});

test("cutout rejects bad options by name", () => {
  assert.throws(() => cutout({ size: 2.5 }), /cutout: options\.size must be a non-negative integer, got 2\.5/);
  assert.throws(() => cutout({ p: -0.5 }), /cutout: options.p must be a probability in \[0, 1\], got -0.5/);
});
