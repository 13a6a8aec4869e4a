import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { matchesReference, type ReferenceCheck } from "../../src/check/reference";
import { fails, passes } from "./expect";

/** An EMA update's arguments: the target's variables, the online weights, the momentum. */
type EmaArgs = [tf.Variable[], tf.Tensor[], number];

/** The reference: target <- m * target + (1 - m) * online, in place; returns copies of the new target. */
function emaUpdate(target: tf.Variable[], online: tf.Tensor[], m: number): tf.Tensor[] {
  return tf.tidy(() =>
    target.map((t, i) => {
      t.assign(tf.add(tf.mul(t, m), tf.mul(online[i], 1 - m)));
      return t.clone();
    }),
  );
}

function emaSpec(student: (...args: EmaArgs) => unknown): ReferenceCheck<EmaArgs> {
  const shapes = [[4, 3], [3]];
  return {
    exercise: "05.2",
    name: "emaUpdate",
    student,
    reference: emaUpdate,
    inputs: (seed) => [
      shapes.map((shape, k) => tf.variable(tf.randomNormal(shape, 0, 1, "float32", 10 * seed + k + 1))),
      shapes.map((shape, k) => tf.randomNormal(shape, 0, 1, "float32", 10 * seed + k + 6)),
      0.9,
    ],
    inputNames: ["target", "online", "momentum"],
  };
}

test("a correct in-place EMA update passes, and the variables the check made are gone", async () => {
  await tf.setBackend("cpu");
  const variables = Object.keys(tf.engine().registeredVariables).length;
  const line = passes(() => matchesReference(emaSpec(emaUpdate)));
  assert.equal(line, "✓ Exercise 05.2: emaUpdate matches the reference on 3 seeded inputs (values).");
  assert.equal(Object.keys(tf.engine().registeredVariables).length, variables);
});

test("swapping m and 1 - m fails on the first output, with its position", async () => {
  await tf.setBackend("cpu");
  const swapped = (target: tf.Variable[], online: tf.Tensor[], m: number) =>
    tf.tidy(() =>
      target.map((t, i) => {
        t.assign(tf.add(tf.mul(t, 1 - m), tf.mul(online[i], m)));
        return t.clone();
      }),
    );
  const message = fails(() => matchesReference(emaSpec(swapped)), "values", [
    "Exercise 05.2: emaUpdate differs from the reference in output 1 of 2 on seeded input 0 at 12 of 12 positions: max error ",
  ]);
  assert.match(message, /max error [\d.]+ at \[\d,\d\] \(got -?[\d.]+, expected -?[\d.]+\)/);
});

test("returning the right values without writing them fails on the variable left behind", async () => {
  await tf.setBackend("cpu");
  const forgetsAssign = (target: tf.Variable[], online: tf.Tensor[], m: number) =>
    tf.tidy(() => target.map((t, i) => tf.add(tf.mul(t, m), tf.mul(online[i], 1 - m))));
  fails(() => matchesReference(emaSpec(forgetsAssign)), "values", [
    "Exercise 05.2: emaUpdate leaves target[0] different from the reference's after seeded input 0 at 12 of 12 positions: max error ",
  ]);
  const nanInSecond = (target: tf.Variable[], online: tf.Tensor[], m: number) =>
    tf.tidy(() => {
      const out = emaUpdate(target, online, m);
      target[1].assign(tf.div(target[1], 0).mul(0));
      return out;
    });
  fails(() => matchesReference(emaSpec(nanInSecond)), "nan", ["emaUpdate leaves NaN at [0] in target[1] after seeded input 0 (the reference's is finite there)."]);
});

test("an update that allocates without tidy leaks, one that disposes its target is told so", async () => {
  await tf.setBackend("cpu");
  const untidy = (target: tf.Variable[], online: tf.Tensor[], m: number) =>
    target.map((t, i) => {
      t.assign(tf.add(tf.mul(t, m), tf.mul(online[i], 1 - m)));
      return t.clone();
    });
  // Per variable: two products and their sum.
  fails(() => matchesReference(emaSpec(untidy)), "leak", ["emaUpdate leaves 6 tensors allocated per call"]);
  const disposes = (target: tf.Variable[], online: tf.Tensor[], m: number) => {
    const out = emaUpdate(target, online, m);
    target[0].dispose();
    return out;
  };
  fails(() => matchesReference(emaSpec(disposes)), "type", ["Exercise 05.2: emaUpdate disposed the variable target[0], which it should update in place."]);
});
