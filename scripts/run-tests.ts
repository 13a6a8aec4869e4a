/**
 * Runs Node's test runner on every compiled test file under a folder whose
 * name ends with a suffix (Node 20's `node --test` takes no globs).
 *
 *   node dist/scripts/run-tests.js dist/test _test.js [--skip notebooks]
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

function findFiles(dir: string, suffix: string, skip: Set<string>): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return skip.has(entry.name) ? [] : findFiles(full, suffix, skip);
      return entry.name.endsWith(suffix) ? [full] : [];
    })
    .sort();
}

const [dir, suffix, ...rest] = process.argv.slice(2);
if (!dir || !suffix) {
  console.error("usage: run-tests.js DIR SUFFIX [--skip FOLDER]...");
  process.exit(2);
}
const skip = new Set<string>();
for (let i = 0; i < rest.length; i++) {
  if (rest[i] === "--skip" && rest[i + 1]) skip.add(rest[++i]);
  else {
    console.error(`run-tests: unknown argument ${rest[i]}`);
    process.exit(2);
  }
}
const files = findFiles(dir, suffix, skip);
if (files.length === 0) {
  console.error(`run-tests: no files ending in ${suffix} under ${dir}`);
  process.exit(1);
}
// One file at a time: the tests share two cores and some measure tf memory.
const run = spawnSync(process.execPath, ["--test", "--test-concurrency=1", ...files], { stdio: "inherit" });
process.exit(run.status ?? 1);
