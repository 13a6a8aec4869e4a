import { test } from "node:test";
import assert from "node:assert/strict";
import { errorOutputs } from "../../scripts/run-notebooks";

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
