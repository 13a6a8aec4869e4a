/**
 * The notebook harness: executes notebooks top to bottom through the
 * registered workbook kernel with Jupyter's own executor (nbclient, what `nbconvert --execute` runs), writes
 * the executed copies to build/notebooks/, and fails on any error output.
 * Each notebook's reported numbers land in build/results/<name>.json (see
 * src/notebook/results.ts) for its check in test/notebooks/.
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
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
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
  }
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
