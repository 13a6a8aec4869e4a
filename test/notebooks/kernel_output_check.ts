/**
 * A cell that writes fast keeps every output and does not fail. Through
 * tslab's zeromq sockets, the send after a deferred one (every 513th message
 * in a synchronous run) used to throw EBUSY: the cell failed with an empty
 * error and log lines vanished (see kernel/serial_sends.ts). 1,500 displays
 * and 1,500 log lines in one synchronous stretch crossed that point twice.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { findJupyter, jupyterPython, KERNEL_NAME, REPO_ROOT } from "../../kernel/jupyter";

const LINES = 1500;

function codeCell(source: string): Record<string, unknown> {
  return { cell_type: "code", execution_count: null, metadata: {}, outputs: [], source };
}

test("a cell that writes 1,500 displays and 1,500 log lines succeeds and keeps them all, in order", () => {
  const jupyter = findJupyter();
  assert.ok(jupyter, "Jupyter is needed for the notebook checks");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ssl-workbook-output-"));
  const source = path.join(dir, "burst.ipynb");
  const output = path.join(dir, "burst.out.ipynb");
  const notebook = {
    cells: [
      codeCell(`import * as tslab from "tslab";\nfor (let i = 0; i < ${LINES}; i++) tslab.display.text("display " + i);`),
      codeCell(`for (let i = 0; i < ${LINES}; i++) console.log("log " + i);`),
    ],
    metadata: { kernelspec: { name: KERNEL_NAME, display_name: "SSL Workbook (TypeScript)", language: "typescript" } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  fs.writeFileSync(source, JSON.stringify(notebook));
  const run = spawnSync(
    jupyterPython(jupyter),
    [path.join(REPO_ROOT, "scripts", "execute_notebook.py"), source, output, KERNEL_NAME, "180"],
    { encoding: "utf8", timeout: 240_000, cwd: path.join(REPO_ROOT, "notebooks") },
  );
  assert.equal(run.status, 0, `the burst notebook failed:\n${run.stderr}`);
  const executed = JSON.parse(fs.readFileSync(output, "utf8")) as {
    cells: { outputs: { output_type: string; name?: string; text?: string | string[]; data?: Record<string, string | string[]> }[] }[];
  };
  const join = (v: string | string[] | undefined): string => (Array.isArray(v) ? v.join("") : v ?? "");
  const displays = executed.cells[0].outputs.filter((o) => o.output_type === "display_data").map((o) => join(o.data?.["text/plain"]));
  assert.deepEqual(displays, Array.from({ length: LINES }, (_, i) => `display ${i}`));
  const logged = executed.cells[1].outputs
    .filter((o) => o.output_type === "stream" && o.name === "stdout")
    .map((o) => join(o.text))
    .join("");
  assert.equal(logged, Array.from({ length: LINES }, (_, i) => `log ${i}\n`).join(""));
  fs.rmSync(dir, { recursive: true, force: true });
});
