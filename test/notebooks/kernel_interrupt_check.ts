/**
 * Interrupting a training cell through Jupyter (the ■ button) stops the run
 * after its current step, keeps the history, and leaves the model usable and
 * the kernel alive.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { findJupyter, jupyterPython, KERNEL_NAME, REPO_ROOT } from "../../kernel/jupyter";

test("an interrupted training cell returns its history and leaves the model usable", () => {
  const jupyter = findJupyter();
  assert.ok(jupyter, "Jupyter is needed for the notebook checks");
  const run = spawnSync(
    jupyterPython(jupyter),
    [path.join(REPO_ROOT, "scripts", "interrupt_kernel.py"), KERNEL_NAME, path.join(REPO_ROOT, "notebooks")],
    { encoding: "utf8", timeout: 240_000 },
  );
  assert.equal(run.status, 0, run.stderr);
  const reply = JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}") as { status: string; printed: string; alive: boolean };
  assert.equal(reply.status, "ok", reply.printed);
  assert.equal(reply.alive, true);
  const seen = JSON.parse(reply.printed.trim()) as { interrupted: boolean; stopReason: string; steps: number; finite: boolean };
  assert.equal(seen.interrupted, true);
  assert.equal(seen.stopReason, "interrupt");
  assert.ok(seen.steps > 0 && seen.steps < 1_000_000, `steps ${seen.steps}`);
  assert.equal(seen.finite, true);
});
