/**
 * Types and doc comments of the library reach the notebook: the registered
 * kernel completes library names and shows their signature and JSDoc.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { findJupyter, jupyterPython, KERNEL_NAME, REPO_ROOT } from "../../kernel/jupyter";

test("the kernel completes library names and shows signatures with their doc comments", () => {
  const jupyter = findJupyter();
  assert.ok(jupyter, "Jupyter is needed for the notebook checks");
  const run = spawnSync(
    jupyterPython(jupyter),
    [path.join(REPO_ROOT, "scripts", "introspect_kernel.py"), KERNEL_NAME, path.join(REPO_ROOT, "notebooks")],
    { encoding: "utf8", timeout: 180_000 },
  );
  assert.equal(run.status, 0, run.stderr);
  const { matches, inspect } = JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}") as { matches: string[]; inspect: string };
  assert.ok(matches.includes("smallCnnEncoder"), `completions: ${JSON.stringify(matches)}`);
  assert.match(inspect, /function linearProbe\(trainFeatures: tf\.Tensor2D/);
  assert.match(inspect, /softmax regression on frozen/);
});
