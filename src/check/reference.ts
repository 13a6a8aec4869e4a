/**
 * `matchesReference`: a student's function against the library's reference
 * implementation on a few seeded inputs, failing with the first mistake
 * found, in this order per input: threw, type, shape (not-scalar), nan,
 * values (outputs, then variables it updates in place), gradient; on the
 * first input, then, leak.
 */
import { tf } from "../backend/tf";
import { checkPositiveInteger, describe } from "../validation/arguments";
import { checkCommon, checkFunction, checkObject, checkOptionalBoolean, checkOptionalStrings, type Tolerance } from "./arguments";
import { callTracked, disposeAll, type Leaf, tensorLeaves } from "./call";
import { findMismatch } from "./compare";
import { fail, pass } from "./errors";
import { formatShape, formatThrown, plural } from "./format";
import { type Checkable, type Outputs, readOutputs, sameForm, wrongFormText } from "./outputs";
import { FN, type Settings, checkGradients, checkShapes, checkUpdatedVariables, checkValues } from "./stages";

export type { Checkable } from "./outputs";

/**
 * What {@link matchesReference} compares, and how. `I` is the tuple of the
 * functions' arguments; its `[] | unknown[]` constraint makes TypeScript
 * read the array that `inputs` returns as a tuple (`[tf.Tensor2D,
 * tf.Tensor2D]`, not `tf.Tensor2D[]`), so a spec written inline type-checks
 * against the student's parameters without a type argument.
 */
export interface ReferenceCheck<I extends [] | unknown[]> {
  /** The exercise id, e.g. "04.1": every message starts "Exercise 04.1: ". */
  exercise: string;
  /** The student's function as the student knows it, e.g. "ntXentLoss". */
  name: string;
  /**
   * The student's function. Typed to return `unknown` (a {@link Checkable} is
   * expected) so that a wrong return type reaches the check, which explains
   * it, rather than stopping the notebook's type checker.
   */
  student: (...inputs: I) => unknown;
  /** The reference implementation, called on its own fresh copy of the same inputs. */
  reference: (...inputs: I) => Checkable;
  /**
   * Fresh inputs for trial `seed` (0, 1, 2, ...). Called once for the
   * student and once for the reference, so it must build the same values for
   * the same seed (use seeded ops); a function that updates variables in
   * place then touches only its own copy. Tensors it creates are disposed by
   * the check (ones that existed before, such as a shared constant, are left
   * alone).
   */
  inputs: (seed: number) => I;
  /** How many seeded inputs; default 3. */
  trials?: number;
  /** Absolute tolerance; default 1e-4. */
  atol?: number;
  /** Relative tolerance; default 1e-3. */
  rtol?: number;
  /** The output must be a scalar loss (shape []). */
  scalar?: boolean;
  /**
   * Also compare gradients with respect to every float32 tensor input
   * (variables excluded): of the output when it is one scalar, else of
   * sum(output * fixed random weights).
   */
  gradient?: boolean;
  /** Names of the inputs for messages, e.g. ["z1", "z2"]; default "input 1", "input 2", ... */
  inputNames?: string[];
}

const DEFAULT_TRIALS = 3;
/** Inputs built twice from one seed must be equal to the bit. */
const EXACT: Tolerance = { atol: 0, rtol: 0 };

function validate(spec: unknown): Settings {
  checkObject(FN, "spec", spec, "{exercise, name, student, reference, inputs, ...}");
  const tol = checkCommon(FN, "spec", spec);
  checkFunction(FN, "spec.student", spec.student);
  checkFunction(FN, "spec.reference", spec.reference);
  checkFunction(FN, "spec.inputs", spec.inputs);
  const trials = spec.trials ?? DEFAULT_TRIALS;
  checkPositiveInteger(FN, "spec.trials", trials);
  checkOptionalBoolean(FN, "spec.scalar", spec.scalar);
  checkOptionalBoolean(FN, "spec.gradient", spec.gradient);
  checkOptionalStrings(FN, "spec.inputNames", spec.inputNames);
  const given = (spec.inputNames ?? []) as string[];
  return {
    exercise: spec.exercise as string,
    name: spec.name as string,
    tol,
    trials,
    scalar: spec.scalar === true,
    gradient: spec.gradient === true,
    names: (i) => given[i] ?? `input ${i + 1}`,
  };
}

/**
 * Checks that the student's function `spec.student` computes what
 * `spec.reference` does on `spec.trials` seeded inputs: same form of
 * result, same shapes, finite where the reference is, values within
 * `atol + rtol * |expected|` (compared in float64 on the host), the same
 * final values in any tf.Variable input it updates in place, gradients too
 * when `spec.gradient`, and no tensors left allocated per call.
 *
 * Throws a {@link CheckFailed} whose one-sentence message says what is
 * wrong; on success prints `✓ Exercise <id>: <name> matches the reference
 * on 3 seeded inputs (values and gradients).` and returns undefined. Passing
 * or failing, it leaves `tf.memory().numTensors` as it found it. A bad
 * `spec` (the author's mistake) throws a plain Error naming the field.
 *
 * Shapes: whatever the functions take and return; e.g. `z1`, `z2` `[8,16]` -> `[]`.
 *
 * @example
 * check.matchesReference({
 *   exercise: "04.1",
 *   name: "ntXentLoss",
 *   student: ntXentLoss, // the student's, defined in the cell above
 *   reference: (z1, z2) => losses.ntXentLoss(z1, z2, { temperature: 0.5 }),
 *   // Seeds from 1: tfjs ops treat seed 0 as no seed.
 *   inputs: (seed) => [tf.randomNormal([8, 16], 0, 1, "float32", 2 * seed + 1) as tf.Tensor2D,
 *                      tf.randomNormal([8, 16], 0, 1, "float32", 2 * seed + 2) as tf.Tensor2D],
 *   scalar: true,
 *   gradient: true,
 *   inputNames: ["z1", "z2"],
 * });
 * // ✓ Exercise 04.1: ntXentLoss matches the reference on 3 seeded inputs (values and gradients).
 */
export function matchesReference<I extends [] | unknown[]>(spec: ReferenceCheck<I>): void {
  const settings = validate(spec);
  for (let seed = 0; seed < settings.trials; seed++) {
    const owned: tf.Tensor[] = [];
    try {
      trial(spec, settings, seed, owned);
    } finally {
      disposeAll(owned);
    }
  }
  const what = settings.gradient ? "values and gradients" : "values";
  pass(settings.exercise, `${settings.name} matches the reference on ${plural(settings.trials, "seeded input")} (${what}).`);
}

/** Builds the inputs for `seed`; the tensors they hold go to `owned`. */
function makeInputs<I extends [] | unknown[]>(spec: ReferenceCheck<I>, seed: number, owned: tf.Tensor[]): I {
  const call = callTracked(spec.inputs, [seed]);
  owned.push(...call.created);
  if (call.threw) throw new Error(`${FN}: spec.inputs(${seed}) threw ${formatThrown(call.thrown)}`);
  if (!Array.isArray(call.value)) throw new Error(`${FN}: spec.inputs(${seed}) must return an array of arguments, got ${describe(call.value)}`);
  return call.value as I;
}

function trial<I extends [] | unknown[]>(spec: ReferenceCheck<I>, s: Settings, seed: number, owned: tf.Tensor[]): void {
  const studentInputs = makeInputs(spec, seed, owned);
  const referenceInputs = makeInputs(spec, seed, owned);
  checkSameInputs(studentInputs, referenceInputs, seed, s.names);
  const student = callTracked(spec.student, studentInputs);
  owned.push(...student.created);
  if (student.threw) fail(s.exercise, "threw", `${s.name} threw ${formatThrown(student.thrown)} on seeded input ${seed}.`);
  const expected = referenceOutputs(spec, referenceInputs, seed, owned);
  const got = readOutputs(student.value);
  if (got === undefined || !sameForm(got, expected)) {
    fail(s.exercise, "type", `${s.name} returned ${wrongFormText(student.value, expected, true)}.`);
  }
  checkShapes(s, got, expected, studentInputs);
  checkValues(s, got, expected, seed);
  checkUpdatedVariables(s, studentInputs, referenceInputs, seed);
  if (s.gradient) checkGradients(s, spec.student, spec.reference, studentInputs, referenceInputs, expected, seed, owned);
  if (seed === 0 && student.leaked > 0) {
    fail(s.exercise, "leak", `${s.name} leaves ${plural(student.leaked, "tensor")} allocated per call: wrap its work in tf.tidy or dispose intermediates.`);
  }
}

/** The reference's outputs on `inputs`; a reference that fails is the author's mistake, a plain Error. */
function referenceOutputs<I extends [] | unknown[]>(spec: ReferenceCheck<I>, inputs: I, seed: number, owned: tf.Tensor[]): Outputs {
  const call = callTracked(spec.reference, inputs);
  owned.push(...call.created);
  if (call.threw) throw new Error(`${FN}: spec.reference threw ${formatThrown(call.thrown)} on seeded input ${seed}`);
  const outputs = readOutputs(call.value);
  if (outputs === undefined) {
    throw new Error(`${FN}: spec.reference must return a tf.Tensor, an array of tf.Tensors, a number or an array of numbers, got ${describe(call.value)}`);
  }
  if (spec.scalar && !(outputs.parts.length === 1 && outputs.shapes[0].length === 0)) {
    throw new Error(`${FN}: spec.scalar is true but spec.reference returns shape ${formatShape(outputs.shapes[0])}`);
  }
  if (spec.gradient && (outputs.kind === "number" || outputs.kind === "numbers")) {
    throw new Error(`${FN}: spec.gradient needs a spec.reference that returns tensors, got ${describe(call.value)}`);
  }
  return outputs;
}

/**
 * Two calls of `spec.inputs(seed)` must build the same tensors, or the
 * comparison means nothing. The usual cause is a seeded op given seed 0,
 * which tfjs treats as no seed at all.
 */
function checkSameInputs(mine: readonly unknown[], theirs: readonly unknown[], seed: number, names: (i: number) => string): void {
  const leaves = (inputs: readonly unknown[]) => inputs.flatMap((input, i) => tensorLeaves(input, names(i)));
  const [a, b] = [leaves(mine), leaves(theirs)];
  const layout = (ls: Leaf[]) => ls.map((l) => `${l.path} ${formatShape(l.tensor.shape)}`).join(", ");
  const differs = layout(a) !== layout(b) || a.some((l, i) => findMismatch(l.tensor.dataSync() as ArrayLike<number>, b[i].tensor.dataSync() as ArrayLike<number>, EXACT) !== undefined);
  if (differs) {
    throw new Error(`${FN}: spec.inputs(${seed}) must build the same tensors each time it is called, so that the student and the reference get equal copies (tfjs ops treat seed 0 as no seed: pass seed + 1)`);
  }
}
