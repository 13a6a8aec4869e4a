import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { recordResults } from "../../src/notebook/results";

test("recordResults merges values into the harness's results file", () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "results-")), "nb.json");
  const before = process.env.SSL_WORKBOOK_RESULTS;
  process.env.SSL_WORKBOOK_RESULTS = file;
  try {
    recordResults({ a: 1, label: "x" });
    recordResults({ a: 2, b: [0.5, 0.25] });
    assert.deepEqual(JSON.parse(fs.readFileSync(file, "utf8")), { a: 2, label: "x", b: [0.5, 0.25] });
  } finally {
    if (before === undefined) delete process.env.SSL_WORKBOOK_RESULTS;
    else process.env.SSL_WORKBOOK_RESULTS = before;
  }
});

test("recordResults rejects values a test could not compare", () => {
  assert.throws(() => recordResults({ acc: NaN }), /values\.acc must be a finite number/);
  assert.throws(() => recordResults({ acc: [1, Infinity] }), /values\.acc/);
});
