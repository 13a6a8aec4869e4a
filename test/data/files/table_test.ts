import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { tf } from "../../../src/backend/tf";
import { createRng } from "../../../src/data/random";
import { readTable, tableToDataFrame, tableToTensors, writeCsv, writeParquet, type Table } from "../../../src/data/files/table";
import { withTempDir } from "./temp_dir";

/** A seeded table of awkward float32 values (tiny, huge, negative) and string labels. */
function sampleTable(n: number, dim: number, seed: number, classNames: string[]): Table {
  const rng = createRng(seed);
  const features = Float32Array.from({ length: n * dim }, (_, i) => (rng.next() - 0.5) * 10 ** ((i % 7) - 3));
  const labels = Int32Array.from({ length: n }, (_, i) => i % classNames.length);
  return { columns: Array.from({ length: dim }, (_, j) => `f${j}`), features, n, dim, labels, classNames, labelColumn: "species" };
}

for (const format of ["csv", "parquet"] as const) {
  test(`${format} round trip: features bit for bit, labels and class names back`, async () => {
    await withTempDir(async (dir) => {
      const table = sampleTable(23, 5, format === "csv" ? 1 : 2, ["a,b", "cat", "dog \"x\""]);
      const file = path.join(dir, `t.${format}`);
      if (format === "csv") writeCsv(file, table);
      else await writeParquet(file, table);
      const back = await readTable(file, { labelColumn: "species" });
      assert.deepEqual(back.columns, ["f0", "f1", "f2", "f3", "f4"]);
      assert.equal(back.n, 23);
      assert.equal(back.dim, 5);
      assert.deepEqual(back.features, table.features);
      assert.deepEqual(back.labels, table.labels);
      assert.deepEqual(back.classNames, table.classNames);
      assert.equal(back.labelColumn, "species");
      const unlabelled = await readTable(file, { featureColumns: ["f3", "f1"] });
      assert.equal(unlabelled.labels, undefined);
      assert.deepEqual(unlabelled.columns, ["f3", "f1"]);
      assert.deepEqual(Array.from(unlabelled.features.subarray(0, 2)), [table.features[3], table.features[1]]);
    });
  });

  test(`${format}: numeric labels map to ids in numeric order (2 < 10), written as integers`, async () => {
    await withTempDir(async (dir) => {
      const table: Table = { columns: ["x"], features: Float32Array.from([1, 2, 3, 4]), n: 4, dim: 1, labels: Int32Array.from([1, 0, 2, 1]), classNames: ["-1", "2", "10"] };
      const file = path.join(dir, `t.${format}`);
      if (format === "csv") writeCsv(file, table);
      else await writeParquet(file, table);
      const back = await readTable(file, { labelColumn: "label" });
      assert.deepEqual(back.classNames, ["-1", "2", "10"]);
      assert.deepEqual(Array.from(back.labels as Int32Array), [1, 0, 2, 1]);
    });
  });
}

test("readTable on a hand-written CSV: quotes, BOM, blank lines, spaces; string labels sorted", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "h.csv");
    fs.writeFileSync(file, '\ufeffwidth, "height",kind\n1.5,2e-3,"zebra"\n\n -4 ,.25,ant\n0,7,zebra\n');
    const t = await readTable(file, { labelColumn: "kind" });
    assert.deepEqual(t.columns, ["width", "height"]);
    assert.deepEqual(Array.from(t.features), [1.5, Math.fround(2e-3), -4, 0.25, 0, 7]);
    assert.deepEqual(t.classNames, ["ant", "zebra"]);
    assert.deepEqual(Array.from(t.labels as Int32Array), [1, 0, 1]);
  });
});

test("readTable errors: non-numeric feature (file, column, row, value), empty cell, unknown label column, unknown feature column, missing file, bad extension", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "bad.csv");
    fs.writeFileSync(file, "a,b,label\n1,2,x\n3,oops,y\n");
    await assert.rejects(readTable(file), { message: `readTable: feature column "b" of ${file} must be numeric, got "oops" in data row 2` });
    await assert.rejects(readTable(file, { labelColumn: "lbl" }), { message: `readTable: options.labelColumn must be a column of ${file} ("a", "b", "label"), got "lbl"` });
    await assert.rejects(readTable(file, { featureColumns: ["a", "c"] }), { message: `readTable: options.featureColumns[1] must be a column of ${file} ("a", "b", "label"), got "c"` });
    const empty = path.join(dir, "empty.csv");
    fs.writeFileSync(empty, "a,b\n1,\n");
    await assert.rejects(readTable(empty), { message: `readTable: feature column "b" of ${empty} must be numeric, got "" in data row 1` });
    const missing = path.join(dir, "none.parquet");
    await assert.rejects(readTable(missing), { message: `readTable: file must be an existing file, got ${JSON.stringify(missing)} (no such file)` });
    await assert.rejects(readTable(path.join(dir, "x.tsv")), /^Error: readTable: file must end in \.csv or \.parquet/);
    const notParquet = path.join(dir, "fake.parquet");
    fs.writeFileSync(notParquet, "a,b\n1,2\n");
    await assert.rejects(readTable(notParquet), (e: Error) => e.message.startsWith(`readTable: ${notParquet} is not a readable Parquet file: `));
  });
});

test("readTable: a non-numeric Parquet column is named with its first bad row", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "s.parquet");
    // A label-like string column read as a feature: written through the label path, read without labelColumn.
    await writeParquet(file, { columns: ["x"], features: Float32Array.from([1, 2]), n: 2, dim: 1, labels: Int32Array.from([0, 1]), classNames: ["red", "blue"], labelColumn: "colour" });
    await assert.rejects(readTable(file), { message: `readTable: feature column "colour" of ${file} must be numeric, got "red" in data row 1` });
  });
});

test("writers reject inconsistent tables; tableToTensors keeps the tensor count; tableToDataFrame shows names", async () => {
  await withTempDir(async (dir) => {
    const bad: Table = { columns: ["a"], features: new Float32Array(3), n: 2, dim: 1 };
    assert.throws(() => writeCsv(path.join(dir, "b.csv"), bad), { message: "writeCsv: table.features must be a Float32Array of length n*dim = 2*1 = 2, got a Float32Array of length 3" });
    await assert.rejects(writeParquet(path.join(dir, "b.parquet"), { columns: ["a"], features: new Float32Array(2), n: 2, dim: 1, labels: Int32Array.from([0, 3]), classNames: ["p", "q"] }), {
      message: "writeParquet: table.labels[1] must be a class id in [0, 2), got 3",
    });
    assert.throws(() => writeCsv(path.join(dir, "c.csv"), { columns: ["label"], features: new Float32Array(1), n: 1, dim: 1, labels: Int32Array.from([0]) }), {
      message: 'writeCsv: table.labelColumn "label" must differ from every feature column name',
    });
  });
  const table = sampleTable(6, 3, 3, ["p", "q"]);
  await tf.setBackend("cpu");
  const before = tf.memory().numTensors;
  const { x, y } = tableToTensors(table);
  assert.deepEqual(x.shape, [6, 3]);
  assert.deepEqual(x.dataSync(), table.features);
  assert.deepEqual(Array.from((y as tf.Tensor).dataSync()), Array.from(table.labels as Int32Array));
  x.dispose();
  y?.dispose();
  assert.equal(tf.memory().numTensors, before);
  const df = tableToDataFrame(table);
  assert.deepEqual(df.columns, ["f0", "f1", "f2", "species"]);
  assert.deepEqual(df.shape, [6, 4]);
  assert.deepEqual(df["species"].values, ["p", "q", "p", "q", "p", "q"]);
  assert.equal(tf.memory().numTensors, before);
});
