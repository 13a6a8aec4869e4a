import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../../kernel/jupyter";
import { errorOutputs, statedLimitMinutes, timingTable } from "../../scripts/run-notebooks";

test("errorOutputs lists every error output with its cell number", () => {
  const nb = {
    cells: [
      { cell_type: "markdown", source: "# x" },
      { cell_type: "code", source: "1", outputs: [{ output_type: "stream" }] },
      { cell_type: "code", source: "bad()\nmore", outputs: [{ output_type: "error", ename: "TypeError", evalue: "x is undefined" }] },
      {
        cell_type: "code",
        source: ["const a: number = 's';"],
        outputs: [
          { output_type: "stream", name: "stderr", text: ["1:7 - Type 'string' is not assignable to type 'number'.\n"] },
          { output_type: "error", ename: "Error", evalue: "" },
        ],
      },
    ],
  };
  assert.deepEqual(errorOutputs(nb), [
    "cell 3 (bad()): TypeError: x is undefined",
    "cell 4 (const a: number = 's';): Error: \n    1:7 - Type 'string' is not assignable to type 'number'.",
  ]);
  assert.deepEqual(errorOutputs({ cells: [] }), []);
});

test("statedLimitMinutes reads metadata.workbook.quickMinutes and refuses a malformed one", () => {
  assert.equal(statedLimitMinutes({ metadata: { workbook: { quickMinutes: 8 } } }, "a.ipynb"), 8);
  assert.equal(statedLimitMinutes({ metadata: {} }, "a.ipynb"), null);
  assert.equal(statedLimitMinutes({}, "a.ipynb"), null);
  assert.throws(
    () => statedLimitMinutes({ metadata: { workbook: { quickMinutes: "8" } } }, "b.ipynb"),
    /run-notebooks: b\.ipynb: metadata\.workbook\.quickMinutes must be a positive number of minutes, got "8"/,
  );
});

test("timingTable flags a notebook over its limit and a failed one, and sums the total", () => {
  const table = timingTable([
    { notebook: "00-a.ipynb", seconds: 200, limitMinutes: 4, ok: true },
    { notebook: "04-b.ipynb", seconds: 652, limitMinutes: 8, ok: true },
    { notebook: "05-c.ipynb", seconds: 30, limitMinutes: null, ok: false },
  ]).split("\n");
  assert.equal(table.length, 5);
  assert.match(table[1], /^00-a\.ipynb\s+200\s+3\.3\s+4$/);
  assert.match(table[2], /^04-b\.ipynb\s+652\s+10\.9\s+8\s+OVER$/);
  assert.match(table[3], /^05-c\.ipynb\s+30\s+0\.5\s+-\s+failed$/);
  assert.match(table[4], /^total\s+882\s+14\.7$/);
});

test("every notebook of the workbook states its limit at the quick budget", () => {
  const dir = path.join(REPO_ROOT, "notebooks");
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".ipynb"));
  assert.ok(files.length > 0);
  for (const file of files) {
    const limit = statedLimitMinutes(JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")), file);
    assert.ok(limit !== null && limit <= 10, `${file}: metadata.workbook.quickMinutes is ${limit}`);
  }
});
