/**
 * Shared assertions of the check tests: a check that passes prints one "✓ "
 * line and returns undefined; one that fails throws a CheckFailed of a kind,
 * with a message holding given phrases. Either way the tensor count is left
 * as it was: every test of a check is also a memory test.
 *
 * SHOW_MESSAGES=1 prints every failure message, to read them as a student would.
 */
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { CheckFailed, type CheckFailureKind } from "../../src/check/errors";

function engineSettled(): void {
  const state = tf.engine().state;
  assert.equal(state.scopeStack.length, 0, "every tidy scope ended");
  assert.equal(state.gradientDepth, 0, "no gradient tape left open");
}

/** Runs a passing check; returns the lines it printed (asserting there is one, starting "✓ "). */
export function passes(run: () => unknown): string {
  const lines: string[] = [];
  const log = console.log;
  const before = tf.memory().numTensors;
  console.log = (...args: unknown[]) => void lines.push(args.join(" "));
  let result: unknown;
  try {
    result = run();
  } finally {
    console.log = log;
  }
  assert.equal(result, undefined, "a passing check returns undefined");
  assert.equal(lines.length, 1, `one line printed, got ${JSON.stringify(lines)}`);
  assert.ok(lines[0].startsWith("✓ "), lines[0]);
  assert.equal(tf.memory().numTensors, before, "a passing check leaves the tensor count as it found it");
  engineSettled();
  return lines[0];
}

/** Runs a failing check; asserts the kind and that the message holds every phrase; returns the message. */
export function fails(run: () => unknown, kind: CheckFailureKind, phrases: readonly string[]): string {
  const before = tf.memory().numTensors;
  let caught: unknown;
  try {
    run();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof CheckFailed, `expected a CheckFailed, got ${caught}`);
  assert.equal(caught.kind, kind, caught.message);
  assert.equal(caught.name, "CheckFailed");
  assert.equal(caught.stack, `CheckFailed: ${caught.message}`);
  if (process.env.SHOW_MESSAGES) console.error(caught.message);
  for (const phrase of phrases) assert.ok(caught.message.includes(phrase), `${JSON.stringify(phrase)} not in: ${caught.message}`);
  assert.equal(tf.memory().numTensors, before, `a failing check leaves the tensor count as it found it (${caught.message})`);
  engineSettled();
  return caught.message;
}
