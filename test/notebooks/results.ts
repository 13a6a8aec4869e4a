/**
 * Reads the numbers an executed notebook recorded (build/results/<name>.json,
 * written by `notebook.recordResults` under the notebook harness).
 */
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..", "..");

export function notebookResults(name: string): Record<string, unknown> {
  const file = path.join(ROOT, "build", "results", `${name}.json`);
  if (!fs.existsSync(file)) {
    throw new Error(`notebookResults: ${file} is missing; run \`node dist/scripts/run-notebooks.js ${name}\` first`);
  }
  return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
}

/** A recorded number, or a failure naming the key. */
export function num(results: Record<string, unknown>, key: string): number {
  const v = results[key];
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new Error(`notebook result ${key} must be a finite number, got ${JSON.stringify(v)}`);
  }
  return v;
}
