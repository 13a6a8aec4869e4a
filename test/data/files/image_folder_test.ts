import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { PNG } from "pngjs";
import { tf } from "../../../src/backend/tf";
import type { ImageSet } from "../../../src/data/mnist";
import { createRng } from "../../../src/data/random";
import { readImageFolder, writeImageFolder } from "../../../src/data/files/image_folder";
import { greyToRgb, resizeBilinear, rgbToGrey } from "../../../src/data/files/pixels";
import { withTempDir } from "./temp_dir";

/** A seeded set of byte-valued images (value k/255), labels in the given order. */
function byteSet(labels: number[], shape: [number, number, number], seed: number, grey = false): ImageSet {
  const [h, w, c] = shape;
  const rng = createRng(seed);
  const images = new Float32Array(labels.length * h * w * c);
  for (let p = 0; p < images.length / c; p++) {
    const v = rng.int(256);
    for (let k = 0; k < c; k++) images[p * c + k] = (grey ? v : rng.int(256)) / 255;
  }
  return { images, labels: Int32Array.from(labels), n: labels.length, shape };
}

/** Indices of `labels` in the order a folder reads them back: by class, then by index. */
function folderOrder(labels: ArrayLike<number>): number[] {
  return Array.from(labels, (_, i) => i).sort((a, b) => labels[a] - labels[b] || a - b);
}

function imageOf(set: ImageSet, i: number): Float32Array {
  const size = set.shape[0] * set.shape[1] * set.shape[2];
  return set.images.subarray(i * size, (i + 1) * size);
}

/** Writes a PNG with explicit RGBA bytes through pngjs (independent of the library's encoder). */
function writeRgbaPng(file: string, width: number, height: number, rgba: number[]): void {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba);
  fs.writeFileSync(file, PNG.sync.write(png));
}

test("PNG round trip: every pixel back exactly (byte / 255), labels and files in class order", async () => {
  await withTempDir((dir) => {
    const labels = [2, 0, 1, 0, 2, 1, 1];
    const set = byteSet(labels, [5, 4, 3], 1);
    const root = path.join(dir, "rgb");
    writeImageFolder(root, set, { format: "png" });
    assert.deepEqual(fs.readdirSync(root).sort(), ["0", "1", "2"]);
    const back = readImageFolder(root);
    assert.deepEqual(back.shape, [5, 4, 3]);
    assert.equal(back.n, 7);
    assert.equal(back.labelled, true);
    assert.deepEqual(back.classNames, ["0", "1", "2"]);
    assert.deepEqual(back.skipped, []);
    const order = folderOrder(labels);
    assert.deepEqual(Array.from(back.labels), order.map((i) => labels[i]));
    assert.deepEqual(back.files.map((f) => path.relative(root, f)), order.map((i) => path.join(String(labels[i]), `${i}.png`)));
    order.forEach((i, j) => assert.deepEqual(Array.from(imageOf(back, j)), Array.from(imageOf(set, i)), `image ${i}`));
    // Sorted and deterministic: a second read is identical.
    assert.deepEqual(readImageFolder(root).images, back.images);
  });
});

test("grey images: written grey, read back with one channel by default and exactly", async () => {
  await withTempDir((dir) => {
    const set = byteSet([0, 1, 0], [3, 6, 1], 2);
    writeImageFolder(path.join(dir, "g"), set, { format: "png", classNames: ["cat", "dog"] });
    const back = readImageFolder(path.join(dir, "g"));
    assert.deepEqual(back.shape, [3, 6, 1]);
    assert.deepEqual(back.classNames, ["cat", "dog"]);
    assert.deepEqual(Array.from(back.labels), [0, 0, 1]);
    assert.deepEqual(Array.from(back.images), [...imageOf(set, 0), ...imageOf(set, 2), ...imageOf(set, 1)]);
  });
});

test("JPEG at quality 95: smooth images back within 6/255 per value and 1.5/255 on average; grey stays grey", async () => {
  await withTempDir((dir) => {
    const [h, w] = [8, 8];
    const images = new Float32Array(2 * h * w * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = (y * w + x) * 3;
        images.set([(x * 30) / 255, (y * 30) / 255, (100 + x * 10) / 255], p);
        images.set([(y * 25 + x * 5) / 255, (200 - x * 20) / 255, (50 + y * y * 3) / 255], h * w * 3 + p);
      }
    }
    const set: ImageSet = { images, labels: Int32Array.from([0, 1]), n: 2, shape: [h, w, 3] };
    writeImageFolder(path.join(dir, "j"), set, { format: "jpeg", quality: 95 });
    const back = readImageFolder(path.join(dir, "j"));
    assert.deepEqual(back.shape, [h, w, 3]);
    assert.ok(back.files.every((f) => f.endsWith(".jpg")));
    let max = 0;
    let sum = 0;
    for (let i = 0; i < images.length; i++) {
      const e = Math.abs(back.images[i] - images[i]) * 255;
      max = Math.max(max, e);
      sum += e;
    }
    assert.ok(max <= 6, `max error ${max}/255`);
    assert.ok(sum / images.length <= 1.5, `mean error ${sum / images.length}/255`);
    const grey = byteSet([0], [8, 8, 1], 3);
    writeImageFolder(path.join(dir, "jg"), { ...grey, labels: Int32Array.from([-1]) }, { format: "jpeg" });
    assert.equal(readImageFolder(path.join(dir, "jg")).shape[2], 1);
  });
});

test("unlabelled folder: files directly in root, labels all -1, labelled false", async () => {
  await withTempDir((dir) => {
    const set = byteSet([-1, -1, -1], [2, 2, 3], 4);
    writeImageFolder(path.join(dir, "u"), set, { format: "png" });
    assert.deepEqual(fs.readdirSync(path.join(dir, "u")).sort(), ["0.png", "1.png", "2.png"]);
    const back = readImageFolder(path.join(dir, "u"));
    assert.equal(back.labelled, false);
    assert.deepEqual(back.classNames, []);
    assert.deepEqual(Array.from(back.labels), [-1, -1, -1]);
    assert.deepEqual(back.images, set.images);
  });
});

test("channels: RGB to grey by BT.601 luma (float64 reference), grey to RGB replicated, alpha dropped keeping the stored colour", async () => {
  await withTempDir((dir) => {
    const rgba = [255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 10, 200, 90, 255];
    writeRgbaPng(path.join(dir, "a.png"), 2, 2, rgba);
    const asRgb = readImageFolder(dir);
    assert.deepEqual(asRgb.shape, [2, 2, 3]);
    const rgbBytes = rgba.filter((_, i) => i % 4 !== 3);
    assert.deepEqual(Array.from(asRgb.images), rgbBytes.map((v) => Math.fround(v / 255)));
    const asGrey = readImageFolder(dir, { channels: 1 });
    for (let p = 0; p < 4; p++) {
      const expected = (0.299 * rgba[4 * p] + 0.587 * rgba[4 * p + 1] + 0.114 * rgba[4 * p + 2]) / 255;
      assert.ok(Math.abs(asGrey.images[p] - expected) < 1e-6, `pixel ${p}: ${asGrey.images[p]} vs ${expected}`);
    }
    fs.rmSync(path.join(dir, "a.png"));
    writeRgbaPng(path.join(dir, "g.png"), 2, 1, [7, 7, 7, 255, 200, 200, 200, 255]);
    const replicated = readImageFolder(dir, { channels: 3 });
    assert.deepEqual(Array.from(replicated.images), [7, 7, 7, 200, 200, 200].map((v) => Math.fround(v / 255)));
  });
  assert.deepEqual(Array.from(rgbToGrey(new Float32Array([0.5, 0.25, 1]))), [Math.fround(0.299 * 0.5 + 0.587 * 0.25 + 0.114)]);
  assert.deepEqual(Array.from(greyToRgb(new Float32Array([0.25, 1]))), [0.25, 0.25, 0.25, 1, 1, 1]);
});

/** Bilinear resize with half-pixel centres, written out per output pixel in float64. */
function resizeReference(pixels: ArrayLike<number>, [h, w, c]: number[], [outH, outW]: number[]): number[] {
  const coordinate = (o: number, inSize: number, outSize: number) => {
    const s = ((o + 0.5) * inSize) / outSize - 0.5;
    if (s <= 0) return { a: 0, b: 0, t: 0 };
    const a = Math.floor(s);
    return a >= inSize - 1 ? { a: inSize - 1, b: inSize - 1, t: 0 } : { a, b: a + 1, t: s - a };
  };
  const out: number[] = [];
  for (let y = 0; y < outH; y++) {
    const r = coordinate(y, h, outH);
    for (let x = 0; x < outW; x++) {
      const q = coordinate(x, w, outW);
      for (let k = 0; k < c; k++) {
        const at = (yy: number, xx: number) => pixels[(yy * w + xx) * c + k];
        out.push(
          (1 - r.t) * (1 - q.t) * at(r.a, q.a) + (1 - r.t) * q.t * at(r.a, q.b) + r.t * (1 - q.t) * at(r.b, q.a) + r.t * q.t * at(r.b, q.b),
        );
      }
    }
  }
  return out;
}

test("resizeBilinear: a ramp stays a ramp (hand-computed), matches a float64 reference and tf.image.resizeBilinear(…, false, true) on cpu", async () => {
  // Row [0, 1, 2, 3] to 8 columns: x maps to (x + 0.5) / 2 - 0.5, clamped to [0, 3].
  assert.deepEqual(Array.from(resizeBilinear(new Float32Array([0, 1, 2, 3]), [1, 4, 1], [1, 8])), [0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3]);
  await tf.setBackend("cpu");
  const rng = createRng(5);
  for (const [shape, size] of [[[5, 7, 3], [9, 4]], [[6, 6, 1], [4, 10]], [[3, 8, 2], [3, 8]], [[7, 5, 3], [2, 3]]] as [[number, number, number], [number, number]][]) {
    const pixels = Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, () => rng.next());
    const ours = resizeBilinear(pixels, shape, size);
    const reference = resizeReference(pixels, shape, size);
    const before = tf.memory().numTensors;
    const theirs = tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(pixels, shape), size, false, true).dataSync());
    assert.equal(tf.memory().numTensors, before);
    assert.equal(ours.length, reference.length);
    for (let i = 0; i < ours.length; i++) {
      assert.ok(Math.abs(ours[i] - reference[i]) < 1e-6, `${shape}->${size} [${i}] vs float64: ${ours[i]} vs ${reference[i]}`);
      assert.ok(Math.abs(ours[i] - theirs[i]) < 1e-5, `${shape}->${size} [${i}] vs tf: ${ours[i]} vs ${theirs[i]}`);
    }
  }
});

test("options.size resizes images of mixed sizes; without it the error names two files and their sizes", async () => {
  await withTempDir((dir) => {
    const small = byteSet([0], [4, 6, 3], 6);
    const large = byteSet([0], [7, 5, 3], 7);
    writeImageFolder(path.join(dir, "a"), small, { format: "png", classNames: ["x"] });
    writeImageFolder(path.join(dir, "b"), large, { format: "png", classNames: ["x"] });
    const root = path.join(dir, "mixed");
    fs.mkdirSync(path.join(root, "x"), { recursive: true });
    fs.copyFileSync(path.join(dir, "a", "x", "0.png"), path.join(root, "x", "a.png"));
    fs.copyFileSync(path.join(dir, "b", "x", "0.png"), path.join(root, "x", "b.png"));
    assert.throws(
      () => readImageFolder(root),
      (e: Error) =>
        e.message.startsWith("readImageFolder: images must all have one size unless options.size is given") &&
        e.message.includes(`4x6 (height x width) for ${path.join(root, "x", "a.png")}`) &&
        e.message.includes(`7x5 for ${path.join(root, "x", "b.png")}`),
    );
    const resized = readImageFolder(root, { size: [5, 5] });
    assert.deepEqual(resized.shape, [5, 5, 3]);
    const expected = [...resizeReference(small.images, [4, 6, 3], [5, 5]), ...resizeReference(large.images, [7, 5, 3], [5, 5])];
    expected.forEach((v, i) => assert.ok(Math.abs(resized.images[i] - v) < 1e-6, `value ${i}`));
  });
});

test("skipped files are reported with their reason: a corrupt .png, a .gif, a hidden file, a file beside class folders", async () => {
  await withTempDir((dir) => {
    const set = byteSet([0, 1], [2, 2, 1], 8);
    writeImageFolder(dir, set, { format: "png", classNames: ["a", "b"] });
    fs.writeFileSync(path.join(dir, "a", "broken.png"), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from("not a png body")]));
    fs.writeFileSync(path.join(dir, "b", "anim.gif"), Buffer.from("GIF89a"));
    fs.writeFileSync(path.join(dir, "b", ".DS_Store"), "x");
    fs.writeFileSync(path.join(dir, "notes.png"), "x");
    const back = readImageFolder(dir);
    assert.equal(back.n, 2);
    const reasons = new Map(back.skipped.map((s) => [path.relative(dir, s.file), s.reason]));
    assert.deepEqual([...reasons.keys()].sort(), [path.join("a", "broken.png"), path.join("b", ".DS_Store"), path.join("b", "anim.gif"), "notes.png"]);
    assert.match(reasons.get(path.join("a", "broken.png")) as string, /^not decodable: /);
    assert.match(reasons.get(path.join("b", "anim.gif")) as string, /^unsupported extension "\.gif"/);
    assert.equal(reasons.get(path.join("b", ".DS_Store")), "hidden file");
    assert.match(reasons.get("notes.png") as string, /belongs to no class/);
  });
});

test("limitPerClass takes the first images of each class in sorted order", async () => {
  await withTempDir((dir) => {
    const set = byteSet([0, 0, 0, 1, 1], [2, 2, 1], 9);
    writeImageFolder(dir, set, { format: "png" });
    const back = readImageFolder(dir, { limitPerClass: 2 });
    assert.deepEqual(back.files.map((f) => path.relative(dir, f)), [path.join("0", "0.png"), path.join("0", "1.png"), path.join("1", "3.png"), path.join("1", "4.png")]);
  });
});

test("readImageFolder errors: missing folder, empty class folder, a class of only undecodable files, no images, bad options", async () => {
  await withTempDir((dir) => {
    const missing = path.join(dir, "nope");
    assert.throws(() => readImageFolder(missing), { message: `readImageFolder: root must be an existing folder, got ${JSON.stringify(missing)} (no such file or folder)` });
    writeImageFolder(path.join(dir, "r"), byteSet([0], [2, 2, 1], 10), { format: "png", classNames: ["cat"] });
    fs.mkdirSync(path.join(dir, "r", "dog"));
    fs.writeFileSync(path.join(dir, "r", "dog", "x.gif"), "GIF89a");
    assert.throws(() => readImageFolder(path.join(dir, "r")), {
      message: `readImageFolder: class folder ${JSON.stringify(path.join(dir, "r", "dog"))} holds no .png, .jpg, .jpeg file; remove it or add files`,
    });
    fs.writeFileSync(path.join(dir, "r", "dog", "y.png"), "garbage");
    assert.throws(() => readImageFolder(path.join(dir, "r")), {
      message: `readImageFolder: class folder ${JSON.stringify(path.join(dir, "r", "dog"))} holds no decodable image (see the files it skipped)`,
    });
    fs.mkdirSync(path.join(dir, "empty"));
    assert.throws(() => readImageFolder(path.join(dir, "empty")), { message: `readImageFolder: root ${JSON.stringify(path.join(dir, "empty"))} holds no .png, .jpg, .jpeg file and no class folder` });
    assert.throws(() => readImageFolder(path.join(dir, "r"), { channels: 2 as 1 }), { message: "readImageFolder: options.channels must be one of 1, 3, got 2" });
    assert.throws(() => readImageFolder(path.join(dir, "r"), { size: [0, 4] }), { message: "readImageFolder: options.size[0] must be a positive integer, got 0" });
  });
});

test("writeImageFolder errors: non-empty root, values outside [0, 1], unsorted class names, mixed -1 labels", async () => {
  await withTempDir((dir) => {
    const set = byteSet([0, 1], [2, 2, 1], 11);
    fs.writeFileSync(path.join(dir, "old.txt"), "x");
    assert.throws(() => writeImageFolder(dir, set, { format: "png" }), { message: `writeImageFolder: root must be a new or empty folder, got ${JSON.stringify(dir)} holding 1 entries` });
    const out = path.join(dir, "out");
    const bright = { ...set, images: set.images.map((v, i) => (i === 5 ? 1.5 : v)) };
    assert.throws(() => writeImageFolder(out, bright, { format: "png" }), { message: "writeImageFolder: set.images values must be in [0, 1], got 1.5 in image 1" });
    assert.throws(() => writeImageFolder(out, set, { format: "png", classNames: ["dog", "cat"] }), /writeImageFolder: classNames must be distinct and sorted, .* got "dog" before "cat"/);
    assert.throws(() => writeImageFolder(out, { ...set, labels: Int32Array.from([0, -1]) }, { format: "png" }), {
      message: "writeImageFolder: labels must be all -1 (unlabelled) or all class ids, got 1 of 2 set to -1",
    });
    assert.throws(() => writeImageFolder(out, set, { format: "gif" as "png" }), { message: 'writeImageFolder: options.format must be one of "png", "jpeg", got "gif"' });
    assert.equal(fs.existsSync(out), false);
  });
});
