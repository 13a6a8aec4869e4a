import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { formatNumber, loadDanfo, showTable, tableHtml, tableText, toDataFrame } from "../../src/plot/table";

/** Text of each <th>/<td> cell in row order, tags stripped. */
function cells(html: string): string[][] {
  return [...html.matchAll(/<tr>(.*?)<\/tr>/g)].map((row) => [...row[1].matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/g)].map((c) => c[1]));
}

test("danfojs-node loads lazily and shares the workbook's tfjs-core", async () => {
  await tf.setBackend("cpu");
  const coreFiles = () => Object.keys(require.cache).filter((f) => /[\\/]tfjs-core[\\/]dist[\\/]tf-core\.node\.js$/.test(f));
  assert.equal(Object.keys(require.cache).some((f) => f.includes(`${require("path").sep}danfojs-node${require("path").sep}`)), false, "not loaded by importing the table module");
  assert.equal(coreFiles().length, 1);
  const engine = tf.engine();
  const before = tf.memory().numTensors;
  const dfd = loadDanfo();
  assert.equal(coreFiles().length, 1, "still one tfjs-core after loading danfo");
  const theirs = dfd.tensorflow as unknown as typeof tf;
  assert.equal(theirs.Tensor, tf.Tensor);
  assert.equal(theirs.engine(), engine);
  assert.equal(tf.getBackend(), "cpu");
  assert.equal(tf.memory().numTensors, before);
});

test("tableHtml: header, fixed decimals, integer columns, escaping, highlight", () => {
  const rows = [
    { method: "raw <pixels>", accuracy: 0.86123, loss: 1.5, epochs: 0, lr: 0.00003 },
    { method: "SimCLR", accuracy: 0.93456, loss: 0.25, epochs: 10, lr: 0.001 },
    { method: "BYOL", accuracy: NaN, loss: null, epochs: 10, lr: 0.001 },
  ];
  const before = tf.memory().numTensors;
  const html = tableHtml(rows, { caption: "Probe & kNN", highlight: { accuracy: "max", loss: "min" } });
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(cells(html), [
    ["method", "accuracy", "loss", "epochs", "lr"],
    ["raw &lt;pixels&gt;", "0.861", "1.500", "0", "3.00e-5"],
    ["SimCLR", "0.935", "0.250", "10", "0.001"],
    ["BYOL", "NaN", "", "10", "0.001"],
  ]);
  assert.match(html, /^<div class="ssl-workbook-caption"[^>]*>Probe &amp; kNN<\/div>\n<table/);
  // The best accuracy and the lowest loss are bold, nothing else.
  assert.equal((html.match(/font-weight:700/g) ?? []).length, 2);
  assert.match(html, /font-weight:700;">0\.935<\/td>/);
  assert.match(html, /font-weight:700;">0\.250<\/td>/);
  // Numbers right-aligned, text left-aligned.
  assert.match(html, /text-align:right;font-variant-numeric:tabular-nums;">0\.861/);
  assert.match(html, /text-align:left;">SimCLR/);

  const perColumn = tableHtml(rows, { decimals: { accuracy: 1, epochs: 2 } });
  assert.deepEqual(cells(perColumn)[1], ["raw &lt;pixels&gt;", "0.9", "1.500", "0.00", "3.00e-5"]);
  assert.deepEqual(cells(tableHtml(rows, { decimals: 2 }))[2], ["SimCLR", "0.93", "0.25", "10", "1.0e-3"]);
});

test("tableHtml: DataFrame input with its index; scalar tensors as cells", () => {
  const dfd = loadDanfo();
  const df = new dfd.DataFrame({ acc: [0.5, 0.75] }, { index: ["run a", "run b"] });
  assert.deepEqual(cells(tableHtml(df)), [["", "acc"], ["run a", "0.500"], ["run b", "0.750"]]);
  assert.deepEqual(cells(tableHtml(df, { showIndex: false })), [["acc"], ["0.500"], ["0.750"]]);
  const scalar = tf.scalar(0.125);
  const before = tf.memory().numTensors;
  assert.deepEqual(cells(tableHtml([{ m: "x", v: scalar }]))[1], ["x", "0.125"]);
  assert.equal(tf.memory().numTensors, before);
  scalar.dispose();
  const vector = tf.tensor1d([1, 2]);
  assert.throws(() => tableHtml([{ v: vector }]), /tableHtml: rows\[0\].v is a tensor of shape \[2\]; a table cell takes a scalar/);
  vector.dispose();
});

test("tables: bad input errors name the function, argument and values", () => {
  assert.throws(
    () => tableHtml([{ a: 1, b: 2 }, { a: 1, c: 3 }]),
    /tableHtml: rows\[1\] has keys \[a, c\], expected \[a, b\] \(the keys of rows\[0\]\)/,
  );
  assert.throws(() => toDataFrame([]), /toDataFrame: rows must be a non-empty array of objects, got \[\]/);
  assert.throws(() => tableHtml([{ a: 1 }], { decimals: { b: 2 } }), /tableHtml: options.decimals names column "b", not among \[a\]/);
  assert.throws(() => tableHtml([{ a: 1 }], { decimals: -1 }), /tableHtml: options.decimals must be an integer in \[0, 20\], got -1/);
  assert.throws(() => tableHtml([{ a: "x" }], { highlight: { a: "max" } }), /tableHtml: options.highlight column "a" is not numeric/);
  assert.throws(() => tableHtml(42 as never), /tableHtml: table must be a DataFrame or an array of row objects, got number/);
  const dfd = loadDanfo();
  assert.throws(() => tableHtml(new dfd.Series([1, 2]) as never), /tableHtml: table.values must be rows \(a DataFrame\), got a flat array \(a Series\?\) at row 0/);
});

test("showTable: sends the HTML to the display; tableText aligns columns", () => {
  const outputs: string[] = [];
  const rows = [{ method: "raw", acc: 0.8 }, { method: "SimCLR", acc: 0.93456 }];
  showTable(rows, { display: { html: (s) => outputs.push(s) }, caption: "c" });
  assert.equal(outputs.length, 1);
  assert.equal(outputs[0], tableHtml(rows, { caption: "c" }));
  assert.equal(tableText(rows, { caption: "c" }), ["c", "method    acc", "------  -----", "raw     0.800", "SimCLR  0.935"].join("\n"));
  assert.equal(formatNumber(-Infinity, 3), "−∞");
  assert.equal(formatNumber(0, 3), "0.000");
  assert.equal(formatNumber(-0.0004, 3), "-4.00e-4");
});
