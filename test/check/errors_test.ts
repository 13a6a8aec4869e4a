import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { CheckFailed, fail, pass } from "../../src/check/errors";

test("CheckFailed carries the exercise and kind, and a stack that is just its sentence", () => {
  const e = new CheckFailed("04.1", "leak", "ntXentLoss leaves 3 tensors allocated per call.");
  assert.ok(e instanceof Error);
  assert.equal(e.name, "CheckFailed");
  assert.equal(e.message, "Exercise 04.1: ntXentLoss leaves 3 tensors allocated per call.");
  assert.equal(e.stack, "CheckFailed: Exercise 04.1: ntXentLoss leaves 3 tensors allocated per call.");
  assert.equal(e.exercise, "04.1");
  assert.equal(e.kind, "leak");
  assert.equal(String(e), "CheckFailed: Exercise 04.1: ntXentLoss leaves 3 tensors allocated per call.");
  // How tslab prints a failed cell: Node's inspector, after Node has tried to prepend the throwing source line.
  e.stack = "errors.js:41\n    throw new CheckFailed(exercise, kind, sentence);\n    ^\n\n" + e.stack;
  // (Node brackets a stack without call frames.)
  assert.equal(inspect(e), "[CheckFailed: Exercise 04.1: ntXentLoss leaves 3 tensors allocated per call.]");
});

test("fail throws a CheckFailed; pass prints one line and returns undefined", () => {
  assert.throws(() => fail("02.3", "condition", "the queue should keep 4096 keys."), (e: unknown) => e instanceof CheckFailed && e.kind === "condition" && e.message === "Exercise 02.3: the queue should keep 4096 keys.");
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => void lines.push(args.join(" "));
  let result: unknown;
  try {
    result = pass("02.3", "the queue keeps 4096 keys.");
  } finally {
    console.log = log;
  }
  assert.equal(result, undefined);
  assert.deepEqual(lines, ["✓ Exercise 02.3: the queue keeps 4096 keys."]);
});
