/**
 * The notebook harness: executes notebooks top to bottom through the
 * registered workbook kernel with Jupyter's own executor (nbclient, what `nbconvert --execute` runs), writes
 * the executed copies to build/notebooks/, and fails on any error output.
 * Each notebook's reported numbers land in build/results/<name>.json (see
 * src/notebook/results.ts) for its check in test/notebooks/. At the end it
 * prints the wall time of every notebook beside the limit its metadata states
 * (`metadata.workbook.quickMinutes`) and the total, and writes that table to
 * build/notebook-times.json (`npm run workbook:time` runs every notebook for it).
 *
 *   node dist/scripts/run-notebooks.js                 every notebook in notebooks/
 *   node dist/scripts/run-notebooks.js 00-getting-started   the named ones
 *   --timeout SECONDS   per cell (default 900)
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  findJupyter,
  installKernel,
  JUPYTER_MISSING_HELP,
  jupyterPython,
  KERNEL_NAME,
  kernelPointsHere,
  REPO_ROOT,
} from "../kernel/jupyter";

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  ename?: string;
  evalue?: string;
  traceback?: string[];
}
interface Cell {
  cell_type: string;
  source: string | string[];
  outputs?: Output[];
}

/** One notebook's run, for the timing table. */
export interface NotebookTime {
  /** File name, e.g. `"04-pretext-vision.ipynb"`. */
  notebook: string;
  /** Wall time of the run, seconds. */
  seconds: number;
  /** The limit the notebook states for its quick budget, minutes; null when it states none. */
  limitMinutes: number | null;
  /** Whether it ran without error. */
  ok: boolean;
}

/**
 * The limit a notebook states for its quick budget (`metadata.workbook.quickMinutes`),
 * or null. A malformed value is an error naming the notebook.
 *
 * @example
 * statedLimitMinutes({ metadata: { workbook: { quickMinutes: 8 } } }, "04.ipynb"); // 8
 */
export function statedLimitMinutes(notebook: { metadata?: { workbook?: { quickMinutes?: unknown } } }, file: string): number | null {
  const value = notebook.metadata?.workbook?.quickMinutes;
  if (value === undefined) return null;
  if (typeof value !== "number" || !(value > 0)) {
    throw new Error(`run-notebooks: ${file}: metadata.workbook.quickMinutes must be a positive number of minutes, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * The timing table as text: one row per notebook (seconds, minutes, its
 * stated limit, and "OVER" when above it or "failed"), then the total.
 *
 * @example
 * timingTable([{ notebook: "00.ipynb", seconds: 200, limitMinutes: 4, ok: true }]);
 */
export function timingTable(rows: NotebookTime[]): string {
  const width = Math.max(8, ...rows.map((r) => r.notebook.length));
  const line = (name: string, seconds: number, limit: string, note: string) =>
    `${name.padEnd(width)}  ${seconds.toFixed(0).padStart(7)}  ${(seconds / 60).toFixed(1).padStart(7)}  ${limit.padStart(7)}  ${note}`.trimEnd();
  const total = rows.reduce((a, r) => a + r.seconds, 0);
  return [
    `${"notebook".padEnd(width)}  ${"seconds".padStart(7)}  ${"minutes".padStart(7)}  ${"limit".padStart(7)}`,
    ...rows.map((r) => {
      const over = r.limitMinutes !== null && r.seconds > 60 * r.limitMinutes;
      return line(r.notebook, r.seconds, r.limitMinutes === null ? "-" : `${r.limitMinutes}`, !r.ok ? "failed" : over ? "OVER" : "");
    }),
    line("total", total, "", ""),
  ].join("\n");
}

const joined = (text: string | string[] | undefined): string => (Array.isArray(text) ? text.join("") : text ?? "");

/**
 * The error outputs of an executed notebook, as readable lines. tslab reports
 * a TypeScript compile error as an empty `Error` and the diagnostics on
 * stderr, so a failing cell's stderr is included.
 */
export function errorOutputs(notebook: { cells: Cell[] }): string[] {
  const errors: string[] = [];
  notebook.cells.forEach((cell, i) => {
    const outputs = cell.outputs ?? [];
    for (const out of outputs) {
      if (out.output_type === "error") {
        const stderr = outputs
          .filter((o) => o.output_type === "stream" && o.name === "stderr")
          .map((o) => joined(o.text).trim())
          .filter(Boolean);
        const source = joined(cell.source).split("\n")[0];
        errors.push([`cell ${i + 1} (${source}): ${out.ename}: ${out.evalue}`, ...stderr].join("\n    "));
      }
    }
  });
  return errors;
}

function main(): void {
  const args = process.argv.slice(2);
  let timeout = 900;
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--timeout") timeout = Number(args[++i]);
    else names.push(args[i].replace(/\.ipynb$/, "").replace(/^notebooks\//, ""));
  }
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw new Error(`run-notebooks: --timeout must be a positive number of seconds, got ${timeout}`);
  }
  const jupyter = findJupyter();
  if (!jupyter) {
    console.error(JUPYTER_MISSING_HELP);
    process.exit(1);
  }
  const python = jupyterPython(jupyter);
  if (!kernelPointsHere(jupyter)) {
    console.log(`Registering the kernel for this checkout: ${installKernel(jupyter, { kind: "user" })}`);
  }
  const notebookDir = path.join(REPO_ROOT, "notebooks");
  const all = fs.readdirSync(notebookDir).filter((f) => f.endsWith(".ipynb")).sort();
  const selected = names.length === 0 ? all : names.map((n) => `${n}.ipynb`);
  for (const file of selected) {
    if (!all.includes(file)) {
      throw new Error(`run-notebooks: no notebook ${file} in notebooks/; have ${all.join(", ")}`);
    }
  }
  const outDir = path.join(REPO_ROOT, "build", "notebooks");
  const resultsDir = path.join(REPO_ROOT, "build", "results");
  fs.mkdirSync(outDir, { recursive: true });
  fs.mkdirSync(resultsDir, { recursive: true });

  const failures: string[] = [];
  const times: NotebookTime[] = [];
  for (const file of selected) {
    const name = file.replace(/\.ipynb$/, "");
    const results = path.join(resultsDir, `${name}.json`);
    const executed = path.join(outDir, file);
    fs.rmSync(results, { force: true });
    fs.rmSync(executed, { force: true });
    const started = Date.now();
    console.log(`▶ ${file}`);
    const run = spawnSync(
      python,
      [path.join(REPO_ROOT, "scripts", "execute_notebook.py"), path.join(notebookDir, file), executed, KERNEL_NAME, String(timeout)],
      { cwd: notebookDir, encoding: "utf8", env: { ...process.env, SSL_WORKBOOK_RESULTS: results } },
    );
    const elapsed = (Date.now() - started) / 1000;
    const seconds = elapsed.toFixed(1);
    const limitMinutes = statedLimitMinutes(JSON.parse(fs.readFileSync(path.join(notebookDir, file), "utf8")), file);
    const failed = failures.length;
    const errors = () => errorOutputs(JSON.parse(fs.readFileSync(executed, "utf8")));
    if (run.status !== 0 || !fs.existsSync(executed)) {
      // The executor stops at the first failing cell and prints it on stderr.
      failures.push(`${file}: exited ${run.status}\n${(run.stderr ?? "").split("\n").slice(-60).join("\n")}`);
      console.log(`✗ ${file} failed after ${seconds} s`);
    } else if (errors().length > 0) {
      failures.push(`${file}: error outputs\n  ${errors().join("\n  ")}`);
      console.log(`✗ ${file} has error outputs (${seconds} s)`);
    } else {
      console.log(`✓ ${file} ran in ${seconds} s -> ${path.relative(REPO_ROOT, executed)}`);
    }
    times.push({ notebook: file, seconds: elapsed, limitMinutes, ok: failures.length === failed });
  }
  console.log(`\n${timingTable(times)}`);
  fs.writeFileSync(path.join(REPO_ROOT, "build", "notebook-times.json"), JSON.stringify(times, null, 1) + "\n");
  if (failures.length > 0) {
    console.error(`\n${failures.length} notebook(s) failed:\n\n${failures.join("\n\n")}`);
    process.exit(1);
  }
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
