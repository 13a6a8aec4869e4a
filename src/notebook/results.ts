/**
 * The numbers a notebook reports, recorded for the workbook's tests.
 *
 * When the notebook harness (`npm run test:notebooks`) executes a notebook it
 * sets `SSL_WORKBOOK_RESULTS` to a JSON file; `recordResults` merges the given
 * values into it, and the notebook's check in test/notebooks/ asserts them.
 * Outside the harness it only checks the values, so the call costs nothing
 * in a normal session. It returns nothing, so a cell ending with it prints
 * nothing.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** A value a notebook reports: a number, a label, or a list of numbers. */
export type ResultValue = number | string | boolean | number[];

/**
 * Records `values` (e.g. `{ testAccuracy: 0.978 }`) for the notebook's test.
 *
 * @example
 * recordResults({ testAccuracy: acc, probeRawPixels: raw.accuracy });
 */
export function recordResults(values: Record<string, ResultValue>): void {
  for (const [key, value] of Object.entries(values)) {
    const ok =
      (typeof value === "number" && Number.isFinite(value)) ||
      typeof value === "string" ||
      typeof value === "boolean" ||
      (Array.isArray(value) && value.every((v) => typeof v === "number" && Number.isFinite(v)));
    if (!ok) {
      throw new Error(`recordResults: values.${key} must be a finite number, string, boolean or number[], got ${String(value)}`);
    }
  }
  const file = process.env.SSL_WORKBOOK_RESULTS;
  if (file) {
    const before = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, ResultValue>) : {};
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ ...before, ...values }, null, 2) + "\n");
  }
}
