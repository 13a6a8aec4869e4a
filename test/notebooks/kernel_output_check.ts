/**
 * A cell that writes fast keeps every output and does not fail. Through
 * tslab's zeromq sockets, the send after a deferred one (every 513th message
 * in a synchronous run) used to throw EBUSY: the cell failed with an empty
 * error and log lines vanished (see kernel/serial_sends.ts). 1,500 displays
 * and 1,500 log lines in one synchronous stretch crossed that point twice.
 *
 * Nothing may be dropped on the way to the frontend either. On a busy CI
 * machine the log cell kept only its first 993 lines: the kernel's iopub
 * Publisher drops what a lagging frontend has not read beyond 1,000 queued
 * messages, the cell's "idle" included (now fixed in
 * kernel/unbounded_publisher.ts), and nbclient, after 4 s without that
 * "idle", kept the truncated outputs without a word. scripts/execute_notebook.py
 * now waits 120 s and fails when even that is not enough; the second test
 * forces that failure with a wait of 0 s.
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

function burstNotebook(dir: string, cells: string[]): { source: string; output: string } {
  const source = path.join(dir, "burst.ipynb");
  const output = path.join(dir, "burst.out.ipynb");
  const notebook = {
    cells: cells.map(codeCell),
    metadata: { kernelspec: { name: KERNEL_NAME, display_name: "SSL Workbook (TypeScript)", language: "typescript" } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  fs.writeFileSync(source, JSON.stringify(notebook));
  return { source, output };
}

function execute(jupyter: string, source: string, output: string, extra: string[] = []) {
  return spawnSync(
    jupyterPython(jupyter),
    [path.join(REPO_ROOT, "scripts", "execute_notebook.py"), source, output, KERNEL_NAME, "180", ...extra],
    { encoding: "utf8", timeout: 240_000, cwd: path.join(REPO_ROOT, "notebooks") },
  );
}

test("a cell that writes 1,500 displays and 1,500 log lines succeeds and keeps them all, in order", () => {
  const jupyter = findJupyter();
  assert.ok(jupyter, "Jupyter is needed for the notebook checks");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ssl-workbook-output-"));
  const { source, output } = burstNotebook(dir, [
    `import * as tslab from "tslab";\nfor (let i = 0; i < ${LINES}; i++) tslab.display.text("display " + i);`,
    `for (let i = 0; i < ${LINES}; i++) console.log("log " + i);`,
  ]);
  const run = execute(jupyter, source, output);
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

test("an executor that cannot collect a cell's outputs in time fails and says so instead of keeping a truncated notebook", () => {
  const jupyter = findJupyter();
  assert.ok(jupyter, "Jupyter is needed for the notebook checks");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ssl-workbook-output-"));
  const { source, output } = burstNotebook(dir, [`for (let i = 0; i < ${LINES}; i++) console.log("log " + i);`]);
  const run = execute(jupyter, source, output, ["0"]);
  assert.equal(run.status, 1, `a 0 s wait for outputs must fail the run; stderr:\n${run.stderr}`);
  assert.match(run.stderr, /cell 1 failed/);
  assert.match(run.stderr, /Timeout waiting for IOPub output/);
  fs.rmSync(dir, { recursive: true, force: true });
});
