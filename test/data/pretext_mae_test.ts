import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { maePatchMask, patchify, unpatchify } from "../../src/data/pretext_mae";
import { onWasm, rngImages } from "../methods/vision/helpers";

/** patchify by plain loops: value [b][n][(i * p + j) * c + ch] = pixel (row of patch n * p + i, column * p + j, ch) of image b. */
function patchifyRef(data: Float32Array, [batch, h, w, c]: number[], p: number): number[][][] {
  const cols = w / p;
  return Array.from({ length: batch }, (_, b) =>
    Array.from({ length: (h / p) * cols }, (_, n) => {
      const row: number[] = [];
      for (let i = 0; i < p; i++) {
        for (let j = 0; j < p; j++) {
          for (let ch = 0; ch < c; ch++) row.push(data[((b * h + Math.floor(n / cols) * p + i) * w + (n % cols) * p + j) * c + ch]);
        }
      }
      return row;
    }),
  );
}

const rowsOf = (t: tf.Tensor): number[][] => t.arraySync() as number[][];

test("maePatchMask: per image, keep and masked split 0..N-1 exactly, sorted, sizes exact, different per image; same seed, same masks", async () => {
  await tf.setBackend("cpu");
  const { keep, masked } = maePatchMask(64, 16, { seed: 3 });
  assert.deepEqual([keep.shape, masked.shape, keep.dtype, masked.dtype], [[64, 4], [64, 12], "int32", "int32"]);
  const k = rowsOf(keep);
  const m = rowsOf(masked);
  const kept = new Array(16).fill(0);
  for (let b = 0; b < 64; b++) {
    assert.deepEqual([...k[b], ...m[b]].sort((x, y) => x - y), Array.from({ length: 16 }, (_, i) => i), `image ${b}: disjoint and complete`);
    assert.deepEqual(k[b], [...k[b]].sort((x, y) => x - y));
    assert.deepEqual(m[b], [...m[b]].sort((x, y) => x - y));
    k[b].forEach((i) => kept[i]++);
  }
  assert.ok(new Set(k.map((r) => r.join())).size >= 60, "the images get their own masks");
  // Each patch is kept with probability 1/4: Binomial(64, 0.25), mean 16, sd 3.5.
  for (const c of kept) assert.ok(Math.abs(c - 16) <= 4 * Math.sqrt(64 * 0.25 * 0.75), `times kept per patch ${kept}`);
  const again = maePatchMask(64, 16, { seed: 3 });
  assert.deepEqual(rowsOf(again.keep), k);
  const other = maePatchMask(64, 16, { seed: 4 });
  assert.notDeepEqual(rowsOf(other.keep), k);
  // round(0.75 * 10) = 8 hidden (7.5 rounds up), 2 kept; ratio 0.5 of 16 is 8 and 8.
  const ten = maePatchMask(2, 10, { seed: 1 });
  const half = maePatchMask(2, 16, { seed: 1, ratio: 0.5 });
  assert.deepEqual([ten.keep.shape, ten.masked.shape, half.keep.shape, half.masked.shape], [[2, 2], [2, 8], [2, 8], [2, 8]]);
  tf.dispose([keep, masked, again.keep, again.masked, other.keep, other.masked, ten.keep, ten.masked, half.keep, half.masked]);
});

test("patchify matches plain loops, unpatchify inverts it bit for bit; the visible patches gather as the doc says", async () => {
  await tf.setBackend("cpu");
  const x = rngImages(3, 6);
  const data = x.dataSync() as Float32Array;
  const p = patchify(x, 7);
  assert.deepEqual(p.shape, [3, 16, 49]);
  assert.deepEqual(p.arraySync(), patchifyRef(data, [3, 28, 28, 1], 7));
  const back = unpatchify(p, 7);
  assert.deepEqual(back.shape, [3, 28, 28, 1]);
  assert.deepEqual(back.dataSync(), data);
  // Non-square, three channels: the shape must be given to unpatchify.
  const y = tf.tidy(() => tf.reshape(tf.range(0, 2 * 8 * 12 * 3), [2, 8, 12, 3]) as tf.Tensor4D);
  const py = patchify(y, 4);
  assert.deepEqual(py.shape, [2, 6, 48]);
  assert.deepEqual(py.arraySync(), patchifyRef(y.dataSync() as Float32Array, [2, 8, 12, 3], 4));
  const backY = unpatchify(py, 4, [8, 12, 3]);
  assert.deepEqual(backY.dataSync(), y.dataSync());
  // unpatchify then patchify is the identity too.
  const again = tf.tidy(() => patchify(unpatchify(p, 7), 7));
  assert.deepEqual(again.dataSync(), p.dataSync());
  const { keep, masked } = maePatchMask(3, 16, { seed: 2 });
  const visible = tf.gather(p, keep, 1, 1);
  const rows = p.arraySync();
  assert.deepEqual(visible.arraySync(), rowsOf(keep).map((idx, b) => idx.map((n) => rows[b][n])));
  tf.dispose([x, p, back, y, py, backY, again, keep, masked, visible]);
});

test("patchify and unpatchify give the same values on wasm as on cpu", async () => {
  await tf.setBackend("cpu");
  const run = () => tf.tidy(() => {
    const p = patchify(rngImages(2, 3), 7);
    return [Array.from(p.dataSync()), Array.from(unpatchify(p, 7).dataSync())];
  });
  const cpu = run();
  assert.deepEqual(await onWasm(run), cpu);
});

test("maePatchMask, patchify and unpatchify leave no tensors behind and reject bad input by name", async () => {
  await tf.setBackend("cpu");
  const x = rngImages(2, 1);
  const before = tf.memory().numTensors;
  const p = patchify(x, 7);
  const back = unpatchify(p, 7);
  const mask = maePatchMask(2, 16, { seed: 1 });
  assert.equal(tf.memory().numTensors, before + 4);
  tf.dispose([p, back, mask.keep, mask.masked]);
  assert.equal(tf.memory().numTensors, before);
  const cases: Array<[() => unknown, RegExp]> = [
    [() => maePatchMask(2, 16, { seed: 1, ratio: 1 }), /maePatchMask: options.ratio must be a number in \(0, 1\), got 1/],
    [() => maePatchMask(2, 16, { seed: 1, ratio: 0.99 }), /maePatchMask: options.ratio must hide at least one and keep at least one of the 16 patches, got 0.99 \(round\(0.99 \* 16\) = 16 hidden\)/],
    [() => maePatchMask(2, 1, { seed: 1 }), /maePatchMask: options.ratio must hide at least one and keep at least one of the 1 patches, got 0.75/],
    [() => maePatchMask(0, 16, { seed: 1 }), /maePatchMask: batch must be a positive integer, got 0/],
    [() => maePatchMask(2, 16, { seed: 0.5 }), /maePatchMask: options.seed must be an integer, got 0.5/],
    [() => maePatchMask(2, 16, undefined as never), /maePatchMask: options must be an object \{seed, ratio\?\}, got undefined/],
    [() => patchify(x, 5), /patchify: patch must divide the image height and width, got 5 for images of 28x28/],
    [() => patchify(x, 0), /patchify: patch must be a positive integer, got 0/],
    [() => unpatchify(tf.zeros([2, 12, 49]) as tf.Tensor3D, 7), /unpatchify: patches must be a square grid of rows of patch \* patch \* channels values, got a tensor of shape \[2,12,49\] with patch 7; pass shape for other grids/],
    [() => unpatchify(tf.zeros([2, 16, 50]) as tf.Tensor3D, 7), /unpatchify: patches must be a square grid/],
    [() => unpatchify(tf.zeros([2, 16, 49]) as tf.Tensor3D, 7, [28, 21, 1]), /unpatchify: patches must have shape \[batch, 12, 49\] for images \[28,21,1\] and patch 7, got a tensor of shape \[2,16,49\]/],
    [() => unpatchify(tf.zeros([2, 16, 49]) as tf.Tensor3D, 7, [28, 20, 1]), /unpatchify: patch must divide the height and width of shape, got 7 for shape \[28,20,1\]/],
    [() => unpatchify(tf.zeros([2, 16, 49]) as tf.Tensor3D, 7, [28, 28] as never), /unpatchify: shape must be \[height, width, channels\], got \[28,28\]/],
    [() => unpatchify(tf.zeros([16, 49]) as never, 7), /unpatchify: patches must be a float32 tensor of rank 3, got a tensor of shape \[16,49\]/],
  ];
  for (const [fn, message] of cases) assert.throws(() => tf.tidy(() => { fn(); }), message);
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});
