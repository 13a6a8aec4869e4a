import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { tf } from "../../src/backend/tf";
import {
  MNIST_SHA256,
  MNIST_TEST_POOL_SIZE,
  MNIST_TRAIN_POOL_SIZE,
  binarize,
  loadMnist,
  mnistSourceDir,
  toTensors,
} from "../../src/data/mnist";

/** The raw package data, parsed here independently of the loader: values and class per source id. */
function rawSource(): { values: number[][]; labels: number[] } {
  const values: number[][] = [];
  const labels: number[] = [];
  for (let d = 0; d < 10; d++) {
    const data = JSON.parse(fs.readFileSync(path.join(mnistSourceDir(), `${d}.json`), "utf8")).data as number[];
    for (let k = 0; k < data.length / 784; k++) {
      values.push(data.slice(k * 784, (k + 1) * 784));
      labels.push(d);
    }
  }
  return { values, labels };
}

const classCounts = (labels: Int32Array | number[]): number[] => {
  const c = new Array(10).fill(0);
  for (const l of labels) c[l]++;
  return c;
};

test("setup: cpu backend", async () => {
  await tf.setBackend("cpu");
});

test("loadMnist returns every source digit once, with its pixels and label", () => {
  const raw = rawSource();
  assert.equal(raw.labels.length, 10000);
  const { train, test: testSet } = loadMnist();
  assert.equal(train.n, MNIST_TRAIN_POOL_SIZE);
  assert.equal(testSet.n, MNIST_TEST_POOL_SIZE);
  const seen = new Set<number>();
  for (const set of [train, testSet]) {
    assert.deepEqual(set.shape, [28, 28, 1]);
    assert.equal(set.images.length, set.n * 784);
    assert.equal(set.labels.length, set.n);
    assert.equal(set.ids.length, set.n);
    for (let i = 0; i < set.n; i++) {
      const id = set.ids[i];
      assert.ok(!seen.has(id), `id ${id} appears twice`);
      seen.add(id);
      assert.equal(set.labels[i], raw.labels[id]);
      const src = raw.values[id];
      for (let p = 0; p < 784; p++) {
        const v = set.images[i * 784 + p];
        // Within the package's 3-decimal rounding of byte/255, and exactly a grey level.
        assert.ok(Math.abs(v - src[p]) <= 0.0005 + 1e-6, `image ${i} pixel ${p}: ${v} vs raw ${src[p]}`);
        assert.ok(Math.abs(v * 255 - Math.round(v * 255)) < 1e-4, `pixel ${v} is not k/255`);
        assert.ok(v >= 0 && v <= 1);
      }
    }
  }
  assert.equal(seen.size, 10000);
});

test("train and test share no image content", () => {
  const { train, test: testSet } = loadMnist();
  const key = (set: { images: Float32Array }, i: number) =>
    Buffer.from(set.images.buffer, set.images.byteOffset + i * 784 * 4, 784 * 4).toString("base64");
  const trainKeys = new Set<string>();
  for (let i = 0; i < train.n; i++) trainKeys.add(key(train, i));
  for (let i = 0; i < testSet.n; i++) assert.ok(!trainKeys.has(key(testSet, i)), `test image ${i} is in train`);
});

test("every size is stratified by class, and smaller sets are subsets of larger ones", () => {
  const full = loadMnist();
  const poolTrain = classCounts(full.train.labels);
  const poolTest = classCounts(full.test.labels);
  const source = classCounts(rawSource().labels);
  // Pools: each class's test share is its count / 5, rounded.
  for (let c = 0; c < 10; c++) {
    assert.ok(Math.abs(poolTest[c] - source[c] / 5) < 1, `class ${c}: ${poolTest[c]} vs ${source[c] / 5}`);
    assert.equal(poolTrain[c] + poolTest[c], source[c]);
  }
  const fullTrainIds = new Set(full.train.ids);
  for (const [trainSize, testSize] of [
    [10, 10],
    [100, 50],
    [1000, 500],
    [2500, 1999],
    [7999, 2000],
  ]) {
    const { train, test: testSet } = loadMnist({ trainSize, testSize });
    assert.equal(train.n, trainSize);
    assert.equal(testSet.n, testSize);
    const tr = classCounts(train.labels);
    const te = classCounts(testSet.labels);
    for (let c = 0; c < 10; c++) {
      const wantTrain = (trainSize * poolTrain[c]) / MNIST_TRAIN_POOL_SIZE;
      const wantTest = (testSize * poolTest[c]) / MNIST_TEST_POOL_SIZE;
      assert.ok(Math.abs(tr[c] - wantTrain) < 1, `train ${trainSize} class ${c}: ${tr[c]} vs ${wantTrain}`);
      assert.ok(Math.abs(te[c] - wantTest) < 1, `test ${testSize} class ${c}: ${te[c]} vs ${wantTest}`);
    }
    for (const id of train.ids) assert.ok(fullTrainIds.has(id));
  }
  // The test set does not depend on trainSize.
  assert.deepEqual(loadMnist({ trainSize: 10, testSize: 300 }).test.ids, loadMnist({ trainSize: 8000, testSize: 300 }).test.ids);
  const larger = new Set(loadMnist({ trainSize: 1500 }).train.ids);
  for (const id of loadMnist({ trainSize: 500 }).train.ids) assert.ok(larger.has(id));
});

test("loadMnist is deterministic and returns fresh arrays", () => {
  const a = loadMnist({ trainSize: 300, testSize: 200 });
  const b = loadMnist({ trainSize: 300, testSize: 200 });
  assert.deepEqual(a.train.ids, b.train.ids);
  assert.deepEqual(a.train.images, b.train.images);
  assert.deepEqual(a.test.labels, b.test.labels);
  a.train.images[0] = 7;
  assert.notEqual(loadMnist({ trainSize: 300 }).train.images[0], 7);
  // The returned order is shuffled: labels do not cycle 0..9.
  const firstTen = Array.from(a.train.labels.slice(0, 10));
  assert.notDeepEqual(firstTen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test("bad sizes throw errors naming the argument and the value", () => {
  assert.throws(() => loadMnist({ trainSize: 8001 }), /loadMnist: trainSize must be an integer in \[1, 8000\].*got 8001/);
  assert.throws(() => loadMnist({ testSize: 2001 }), /loadMnist: testSize must be an integer in \[1, 2000\].*got 2001/);
  assert.throws(() => loadMnist({ trainSize: 0 }), /trainSize.*got 0/);
  assert.throws(() => loadMnist({ trainSize: 12.5 }), /trainSize.*got 12.5/);
  assert.throws(() => loadMnist({ testSize: Number.NaN }), /testSize.*got NaN/);
});

test("a source file with the wrong checksum, or a missing one, is named in the error", () => {
  const good = fs.mkdtempSync(path.join(os.tmpdir(), "mnist-good-"));
  const bad = fs.mkdtempSync(path.join(os.tmpdir(), "mnist-bad-"));
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "mnist-empty-"));
  try {
    for (const name of Object.keys(MNIST_SHA256)) {
      fs.copyFileSync(path.join(mnistSourceDir(), name), path.join(good, name));
      fs.copyFileSync(path.join(mnistSourceDir(), name), path.join(bad, name));
    }
    assert.equal(loadMnist({ sourceDir: good, trainSize: 5, testSize: 5 }).train.n, 5);
    const file = path.join(bad, "3.json");
    const buf = fs.readFileSync(file);
    const at = buf.lastIndexOf("0.99"); // one pixel value changes: 0.99x -> 0.19x
    buf[at + 2] = "1".charCodeAt(0);
    fs.writeFileSync(file, buf);
    assert.throws(
      () => loadMnist({ sourceDir: bad }),
      /^Error: loadMnist: source file .*3\.json has SHA-256 [0-9a-f]{64}, expected c12910410ef5/,
    );
    assert.throws(() => loadMnist({ sourceDir: empty }), /^Error: loadMnist: cannot read source file .*0\.json/);
  } finally {
    for (const dir of [good, bad, empty]) fs.rmSync(dir, { recursive: true });
  }
});

test("toTensors copies values exactly and leaks nothing", () => {
  const { test: testSet } = loadMnist({ testSize: 64 });
  const before = tf.memory().numTensors;
  const { x, y } = toTensors(testSet);
  assert.equal(tf.memory().numTensors, before + 2);
  assert.deepEqual(x.shape, [64, 28, 28, 1]);
  assert.equal(x.dtype, "float32");
  assert.equal(y.dtype, "int32");
  assert.deepEqual(x.dataSync(), testSet.images);
  assert.deepEqual(y.dataSync(), testSet.labels);
  x.dispose();
  y.dispose();
  assert.equal(tf.memory().numTensors, before);
  const broken = { ...testSet, labels: testSet.labels.slice(1) };
  assert.throws(() => toTensors(broken), /toTensors: set.labels must have shape \[64\], got \[63\]/);
  assert.equal(tf.memory().numTensors, before);
});

test("binarize thresholds pixels into {0, 1} and keeps labels", () => {
  const { test: testSet } = loadMnist({ testSize: 20 });
  const bin = binarize(testSet, 0.5);
  assert.deepEqual(bin.labels, testSet.labels);
  assert.deepEqual(bin.ids, testSet.ids);
  for (let i = 0; i < bin.images.length; i++) assert.equal(bin.images[i], testSet.images[i] > 0.5 ? 1 : 0);
  assert.ok(bin.images.some((v) => v === 1) && bin.images.some((v) => v === 0));
  assert.throws(() => binarize(testSet, 1), /binarize: threshold must be a number in \[0, 1\), got 1/);
});
