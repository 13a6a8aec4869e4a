import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { checkCommon, checkFunction, checkNonEmptyString, checkObject, checkOptionalBoolean, checkOptionalStrings } from "../../src/check/arguments";
import { matchesReference, type ReferenceCheck } from "../../src/check/reference";

/** Asserts that `f` throws a plain Error (not a CheckFailed) with exactly `message`. */
function throwsExactly(f: () => void, message: string): void {
  assert.throws(f, (e: unknown) => e instanceof Error && e.name === "Error" && e.message === message);
}

test("the check's own argument checks name the argument and what it got", () => {
  throwsExactly(() => checkFunction("check.matchesReference", "spec.student", undefined), "check.matchesReference: spec.student must be a function, got undefined");
  throwsExactly(() => checkNonEmptyString("check.tensor", "options.exercise", " "), 'check.tensor: options.exercise must be a non-empty string, got " "');
  throwsExactly(() => checkObject("check.tensor", "options", null, "{exercise, name}"), "check.tensor: options must be an object {exercise, name}, got null");
  throwsExactly(() => checkOptionalBoolean("f", "spec.scalar", "yes"), 'f: spec.scalar must be true or false, got "yes"');
  throwsExactly(() => checkOptionalStrings("f", "spec.inputNames", ["z1", 2]), 'f: spec.inputNames must be an array of strings, got ["z1",2]');
  checkOptionalBoolean("f", "spec.scalar", undefined);
  checkOptionalStrings("f", "spec.inputNames", undefined);
  assert.deepEqual(checkCommon("f", "options", { exercise: "1", name: "x" }), { atol: 1e-4, rtol: 1e-3 });
  assert.deepEqual(checkCommon("f", "options", { exercise: "1", name: "x", atol: 0, rtol: 0.5 }), { atol: 0, rtol: 0.5 });
  throwsExactly(() => checkCommon("f", "options", { exercise: "1", name: "x", atol: -1 }), "f: options.atol must be a finite number >= 0, got -1");
  throwsExactly(() => checkCommon("f", "options", { name: "x" }), "f: options.exercise must be a non-empty string, got undefined");
});

function goodSpec(): ReferenceCheck<[tf.Tensor]> {
  return {
    exercise: "03.1",
    name: "double",
    student: (x) => tf.mul(x, 2),
    reference: (x) => tf.mul(x, 2),
    inputs: (seed) => [tf.randomNormal([3], 0, 1, "float32", seed + 1)],
  };
}

test("matchesReference rejects a bad spec with a plain Error naming the field, leaving no tensors", async () => {
  await tf.setBackend("cpu");
  const before = tf.memory().numTensors;
  const bad = (patch: Record<string, unknown>, message: string) =>
    throwsExactly(() => matchesReference({ ...goodSpec(), ...patch } as ReferenceCheck<[tf.Tensor]>), message);
  throwsExactly(() => matchesReference(undefined as unknown as ReferenceCheck<[]>), "check.matchesReference: spec must be an object {exercise, name, student, reference, inputs, ...}, got undefined");
  bad({ exercise: undefined }, "check.matchesReference: spec.exercise must be a non-empty string, got undefined");
  bad({ name: 3 }, "check.matchesReference: spec.name must be a non-empty string, got 3");
  bad({ student: undefined }, "check.matchesReference: spec.student must be a function, got undefined");
  bad({ reference: "double" }, 'check.matchesReference: spec.reference must be a function, got "double"');
  bad({ inputs: [1] }, "check.matchesReference: spec.inputs must be a function, got [1]");
  bad({ trials: 0 }, "check.matchesReference: spec.trials must be a positive integer, got 0");
  bad({ rtol: Number.NaN }, "check.matchesReference: spec.rtol must be a finite number >= 0, got NaN");
  bad({ gradient: 1 }, "check.matchesReference: spec.gradient must be true or false, got 1");
  bad({ inputs: () => tf.zeros([3]) }, "check.matchesReference: spec.inputs(0) must return an array of arguments, got a tensor of shape [3]");
  bad({ inputs: () => { throw new Error("no data"); } }, 'check.matchesReference: spec.inputs(0) threw "no data"');
  bad(
    { inputs: () => [tf.randomNormal([3])] },
    "check.matchesReference: spec.inputs(0) must build the same tensors each time it is called, so that the student and the reference get equal copies (tfjs ops treat seed 0 as no seed: pass seed + 1)",
  );
  bad({ reference: () => { throw new Error("oops"); } }, 'check.matchesReference: spec.reference threw "oops" on seeded input 0');
  bad({ reference: () => undefined }, "check.matchesReference: spec.reference must return a tf.Tensor, an array of tf.Tensors, a number or an array of numbers, got undefined");
  bad({ scalar: true }, "check.matchesReference: spec.scalar is true but spec.reference returns shape [3]");
  bad({ gradient: true, student: () => 1, reference: () => 1 }, "check.matchesReference: spec.gradient needs a spec.reference that returns tensors, got 1");
  bad(
    { gradient: true, inputs: (seed: number) => [tf.tensor1d([seed, 1], "int32")], student: (x: tf.Tensor) => x.sum(), reference: (x: tf.Tensor) => x.sum() },
    "check.matchesReference: spec.gradient needs a float32 tensor (not a variable) among the inputs, got none from spec.inputs(0)",
  );
  assert.equal(tf.memory().numTensors, before);
});
