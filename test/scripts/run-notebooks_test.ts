import { test } from "node:test";
import assert from "node:assert/strict";
import { errorOutputs } from "../../scripts/run-notebooks";

test("errorOutputs lists every error output with its cell number", () => {
  const nb = {
    cells: [
      { cell_type: "markdown", source: "# x" },
      { cell_type: "code", source: "1", outputs: [{ output_type: "stream" }] },
      { cell_type: "code", source: "bad", outputs: [{ output_type: "error", ename: "TypeError", evalue: "x is undefined" }] },
    ],
  };
  assert.deepEqual(errorOutputs(nb), ["cell 3: TypeError: x is undefined"]);
  assert.deepEqual(errorOutputs({ cells: [] }), []);
});
