import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import "../../src/backend/select";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { readProjectorFiles, writeProjectorFiles } from "../../src/evaluation/projector_export";

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "projector-test-"));
}

test("writeProjectorFiles: the exact bytes of a hand-written example, multi-column metadata with a header", () => {
  const dir = tempDir();
  const paths = writeProjectorFiles(dir, {
    vectors: new Float32Array([1, 0.5, -2, 0.1, 0, 1e-7, -0, 3.25]),
    dim: 2,
    metadata: { label: ["cat", "dog", "tab\there", "back\\slash"], index: [0, 1, 2.5, -3] },
  });
  assert.deepEqual(paths, { vectors: path.join(dir, "vectors.tsv"), metadata: path.join(dir, "metadata.tsv") });
  assert.equal(fs.readFileSync(paths.vectors, "utf8"), "1\t0.5\n-2\t0.1\n0\t1e-7\n-0\t3.25\n");
  assert.equal(fs.readFileSync(paths.metadata!, "utf8"), "label\tindex\ncat\t0\ndog\t1\ntab\\there\t2.5\nback\\\\slash\t-3\n");
  const back = readProjectorFiles(dir);
  assert.deepEqual(back.metadata, { label: ["cat", "dog", "tab\there", "back\\slash"], index: ["0", "1", "2.5", "-3"] });
  assert.deepEqual([back.n, back.dim], [4, 2]);
  fs.rmSync(dir, { recursive: true });
});

test("writeProjectorFiles: one metadata column has no header; escapes round-trip; no metadata writes no file", () => {
  const dir = tempDir();
  const words = ["line\nbreak", "cr\rhere", "a\\tb", "plain"];
  const paths = writeProjectorFiles(dir, { vectors: [[1, 2], [3, 4], [5, 6], [7, 8]], metadata: { word: words }, prefix: "w2v_" });
  assert.equal(path.basename(paths.metadata!), "w2v_metadata.tsv");
  assert.equal(fs.readFileSync(paths.metadata!, "utf8"), "line\\nbreak\ncr\\rhere\na\\\\tb\nplain\n");
  assert.deepEqual(readProjectorFiles(dir, { prefix: "w2v_" }).metadata, { label: words });
  assert.deepEqual(readProjectorFiles(dir, { prefix: "w2v_", singleColumnName: "word" }).metadata, { word: words });
  const bare = writeProjectorFiles(dir, { vectors: [[1, 2]], prefix: "bare_" });
  assert.deepEqual(bare, { vectors: path.join(dir, "bare_vectors.tsv") });
  assert.equal(fs.existsSync(path.join(dir, "bare_metadata.tsv")), false);
  const read = readProjectorFiles(dir, { prefix: "bare_" });
  assert.equal(read.metadata, undefined);
  assert.deepEqual(Array.from(read.vectors), [1, 2]);
  fs.rmSync(dir, { recursive: true });
});

test("writeProjectorFiles -> readProjectorFiles returns every float32 exactly; a tensor is read without leaking or disposing", async () => {
  await tf.setBackend("wasm");
  const dir = tempDir();
  const rng = createRng(12);
  const n = 50, d = 16;
  // Values over many magnitudes, including subnormal-adjacent and large ones.
  const values = Float32Array.from({ length: n * d }, (_, i) => rng.normal() * 10 ** ((i % 13) - 6));
  const t = tf.tensor2d(values, [n, d]);
  const before = tf.memory().numTensors;
  writeProjectorFiles(dir, { vectors: t, metadata: { id: Array.from({ length: n }, (_, i) => `item ${i}`) } });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(t.isDisposed, false);
  t.dispose();
  const back = readProjectorFiles(dir);
  assert.deepEqual([back.n, back.dim], [n, d]);
  assert.deepEqual(back.vectors, values);
  // Float64 input is stored as float32, as the Projector holds it; the old metadata of 50 rows goes.
  writeProjectorFiles(dir, { vectors: [[Math.PI, Math.E]] });
  assert.deepEqual(fs.readdirSync(dir), ["vectors.tsv"]);
  assert.deepEqual(Array.from(readProjectorFiles(dir).vectors), [Math.fround(Math.PI), Math.fround(Math.E)]);
  fs.rmSync(dir, { recursive: true });
});

test("writeProjectorFiles and readProjectorFiles reject bad input naming the argument", () => {
  const dir = tempDir();
  const vectors = [[1, 2], [3, 4]];
  assert.throws(() => writeProjectorFiles(path.join(dir, "missing"), { vectors }), /writeProjectorFiles: dir must be an existing directory, got ".*missing" \(no such path\)/);
  fs.writeFileSync(path.join(dir, "file"), "x");
  assert.throws(() => writeProjectorFiles(path.join(dir, "file"), { vectors }), /writeProjectorFiles: dir must be an existing directory, got ".*file" \(not a directory\)/);
  assert.throws(() => writeProjectorFiles(dir, { vectors, metadata: { label: ["a"] } }), /writeProjectorFiles: options.metadata.label must have one value per vector row \(2\), got 1/);
  assert.throws(() => writeProjectorFiles(dir, { vectors, metadata: { a: ["x", "y"], b: ["z"] } }), /options.metadata.b must have one value per vector row \(2\), got 1/);
  assert.throws(() => writeProjectorFiles(dir, { vectors, metadata: {} }), /writeProjectorFiles: options.metadata must have at least one column, got none/);
  assert.throws(() => writeProjectorFiles(dir, { vectors, metadata: { label: ["a", NaN] } }), /writeProjectorFiles: options.metadata.label\[1\] must be a string or a finite number, got NaN/);
  assert.throws(() => writeProjectorFiles(dir, { vectors, metadata: { label: ["a", " "] } }), /writeProjectorFiles: options.metadata row 1 is blank \(label: " "\); the Projector skips blank lines/);
  assert.throws(() => writeProjectorFiles(dir, { vectors, metadata: { a: ["x", ""], b: ["y", ""] } }), /options.metadata row 1 is blank \(a: "", b: ""\)/);
  assert.throws(() => writeProjectorFiles(dir, { vectors, prefix: "../up" }), /writeProjectorFiles: options.prefix must be letters, digits, "_", "." or "-" only, got "..\/up"/);
  assert.throws(() => writeProjectorFiles(dir, { vectors: [[1], [2]] }), /writeProjectorFiles: options.vectors must have at least 2 columns \(the Projector refuses 1-D vectors\), got 1/);
  assert.throws(() => writeProjectorFiles(dir, { vectors: [[1, Infinity]] }), /writeProjectorFiles: options.vectors must be finite, got Infinity at row 0, column 1/);
  assert.throws(() => writeProjectorFiles(dir, { vectors: new Float32Array(5), dim: 2 }), /writeProjectorFiles: options.vectors must hold n \* options.dim values \(options.dim = 2\), got a Float32Array of length 5/);
  assert.deepEqual(fs.readdirSync(dir), ["file"]);

  assert.throws(() => readProjectorFiles(path.join(dir, "missing")), /readProjectorFiles: dir must be an existing directory/);
  assert.throws(() => readProjectorFiles(dir), /readProjectorFiles: no vectors file in ".*": expected ".*vectors.tsv"/);
  fs.writeFileSync(path.join(dir, "vectors.tsv"), "1\t2\n3\n");
  assert.throws(() => readProjectorFiles(dir), /readProjectorFiles: .*vectors.tsv line 2 must have 2 components like line 1, got 1/);
  fs.writeFileSync(path.join(dir, "vectors.tsv"), "1\t2\n3\tx\n");
  assert.throws(() => readProjectorFiles(dir), /readProjectorFiles: .*vectors.tsv line 2, component 2 must be a finite number, got "x"/);
  fs.writeFileSync(path.join(dir, "vectors.tsv"), "1\t2\n3\t4\n");
  fs.writeFileSync(path.join(dir, "metadata.tsv"), "a\tb\nx\ty\n");
  assert.throws(() => readProjectorFiles(dir), /readProjectorFiles: .*metadata.tsv must have one row per vector \(2\) after its header, got 1/);
  fs.writeFileSync(path.join(dir, "metadata.tsv"), "a\tb\nx\ty\nz\n");
  assert.throws(() => readProjectorFiles(dir), /readProjectorFiles: .*metadata.tsv line 3 must have 2 fields like the header, got 1/);
  fs.rmSync(dir, { recursive: true });
});
