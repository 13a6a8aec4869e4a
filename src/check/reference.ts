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
import { findMismatch, nanText, valuesText } from "./compare";
import { fail, pass } from "./errors";
import { formatList, formatShape, formatThrown, plural } from "./format";
import { differentiableLeaves, gradientsOf, gradientWeights } from "./gradient";
import { type Checkable, type Outputs, partValues, readOutputs, sameForm, wrongFormText } from "./outputs";

export type { Checkable } from "./outputs";

/** What {@link matchesReference} compares, and how. */
export interface ReferenceCheck<I extends unknown[]> {
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
   * the check.
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

const FN = "check.matchesReference";
const DEFAULT_TRIALS = 3;
/** Inputs built twice from one seed must be equal to the bit. */
const EXACT: Tolerance = { atol: 0, rtol: 0 };

/** The spec, validated, with its defaults filled in. */
interface Settings {
  exercise: string;
  name: string;
  tol: Tolerance;
  trials: number;
  names: (i: number) => string;
}

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
  return { exercise: spec.exercise as string, name: spec.name as string, tol, trials, names: (i) => given[i] ?? `input ${i + 1}` };
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
export function matchesReference<I extends unknown[]>(spec: ReferenceCheck<I>): void {
  const settings = validate(spec);
  for (let seed = 0; seed < settings.trials; seed++) {
    const owned: tf.Tensor[] = [];
    try {
      trial(spec, settings, seed, owned);
    } finally {
      disposeAll(owned);
    }
  }
  const what = spec.gradient ? "values and gradients" : "values";
  pass(settings.exercise, `${settings.name} matches the reference on ${plural(settings.trials, "seeded input")} (${what}).`);
}

/** Builds the inputs for `seed`; the tensors they hold go to `owned`. */
function makeInputs<I extends unknown[]>(spec: ReferenceCheck<I>, seed: number, owned: tf.Tensor[]): I {
  const call = callTracked(spec.inputs, [seed]);
  owned.push(...call.created);
  if (call.threw) throw new Error(`${FN}: spec.inputs(${seed}) threw ${formatThrown(call.thrown)}`);
  if (!Array.isArray(call.value)) throw new Error(`${FN}: spec.inputs(${seed}) must return an array of arguments, got ${describe(call.value)}`);
  return call.value as I;
}

function trial<I extends unknown[]>(spec: ReferenceCheck<I>, s: Settings, seed: number, owned: tf.Tensor[]): void {
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
  checkShapes(spec, s, got, expected, studentInputs);
  checkValues(s, got, expected, seed);
  checkUpdatedVariables(s, studentInputs, referenceInputs, seed);
  if (spec.gradient) checkGradients(spec, s, studentInputs, referenceInputs, expected, seed, owned);
  if (seed === 0 && student.leaked > 0) {
    fail(s.exercise, "leak", `${s.name} leaves ${plural(student.leaked, "tensor")} allocated per call: wrap its work in tf.tidy or dispose intermediates.`);
  }
}

/** The reference's outputs on `inputs`; a reference that fails is the author's mistake, a plain Error. */
function referenceOutputs<I extends unknown[]>(spec: ReferenceCheck<I>, inputs: I, seed: number, owned: tf.Tensor[]): Outputs {
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

/** "output 2 of 3" where there are several outputs, nothing where there is one. */
function outputLabel(k: number, outputs: Outputs, preposition: string): string {
  return outputs.parts.length === 1 ? "" : ` ${preposition} output ${k + 1} of ${outputs.parts.length}`;
}

/** "inputs of shapes [8,16] and [8,16]": the top-level tensor inputs, which the student can picture. */
function inputShapesText(inputs: readonly unknown[]): string {
  const shapes = inputs.filter((x): x is tf.Tensor => x instanceof tf.Tensor).map((t) => formatShape(t.shape));
  if (shapes.length === 0) return "its inputs";
  return shapes.length === 1 ? `an input of shape ${shapes[0]}` : `inputs of shapes ${formatList(shapes)}`;
}

function checkShapes<I extends unknown[]>(spec: ReferenceCheck<I>, s: Settings, got: Outputs, expected: Outputs, inputs: I): void {
  if (spec.scalar && got.shapes[0].length !== 0) {
    const shape = got.shapes[0];
    const advice = shape.length === 1 ? "average over the batch" : "reduce it to one number, e.g. with tf.mean";
    fail(s.exercise, "not-scalar", `${s.name} should return a scalar loss (shape []), got shape ${formatShape(shape)}: ${advice}.`);
  }
  got.shapes.forEach((shape, k) => {
    if (formatShape(shape) === formatShape(expected.shapes[k])) return;
    fail(
      s.exercise,
      "shape",
      `${s.name} returned shape ${formatShape(shape)}${outputLabel(k, got, "as")} for ${inputShapesText(inputs)}; the reference returns ${formatShape(expected.shapes[k])}.`,
    );
  });
}

function checkValues(s: Settings, got: Outputs, expected: Outputs, seed: number): void {
  const mismatches = got.parts.map((part, k) => findMismatch(partValues(part), partValues(expected.parts[k]), s.tol));
  const nan = mismatches.findIndex((m) => m?.kind === "nan");
  if (nan >= 0) {
    const m = mismatches[nan]!;
    fail(s.exercise, "nan", `${s.name} returned ${nanText(m, got.shapes[nan])}${outputLabel(nan, got, "in")} for seeded input ${seed} (the reference is finite there).`);
  }
  const k = mismatches.findIndex((m) => m !== undefined);
  if (k >= 0) {
    const m = mismatches[k]!;
    fail(s.exercise, "values", `${s.name} differs from the reference${outputLabel(k, got, "in")} on seeded input ${seed}${valuesText(m, got.shapes[k], s.tol)}.`);
  }
}

function variableLeaves(inputs: readonly unknown[], names: (i: number) => string): Leaf[] {
  return inputs.flatMap((input, i) => tensorLeaves(input, names(i)).filter((leaf) => leaf.tensor instanceof tf.Variable));
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

/** A function that updates tf.Variables in place must leave them as the reference leaves its copies. */
function checkUpdatedVariables(s: Settings, studentInputs: readonly unknown[], referenceInputs: readonly unknown[], seed: number): void {
  const mine = variableLeaves(studentInputs, s.names);
  const theirs = variableLeaves(referenceInputs, s.names);
  mine.forEach(({ tensor, path }, i) => {
    if (tensor.isDisposed) fail(s.exercise, "type", `${s.name} disposed the variable ${path}, which it should update in place.`);
    const m = findMismatch(tensor.dataSync() as ArrayLike<number>, theirs[i].tensor.dataSync() as ArrayLike<number>, s.tol);
    if (m === undefined) return;
    if (m.kind === "nan") {
      fail(s.exercise, "nan", `${s.name} leaves ${nanText(m, tensor.shape)} in ${path} after seeded input ${seed} (the reference's is finite there).`);
    }
    fail(s.exercise, "values", `${s.name} leaves ${path} different from the reference's after seeded input ${seed}${valuesText(m, tensor.shape, s.tol)}.`);
  });
}

function checkGradients<I extends unknown[]>(
  spec: ReferenceCheck<I>,
  s: Settings,
  studentInputs: I,
  referenceInputs: I,
  expected: Outputs,
  seed: number,
  owned: tf.Tensor[],
): void {
  const names = studentInputs.map((_, i) => s.names(i));
  const mine = differentiableLeaves(studentInputs, names);
  const theirs = differentiableLeaves(referenceInputs, names);
  if (mine.length === 0) throw new Error(`${FN}: spec.gradient needs a float32 tensor (not a variable) among the inputs, got none from spec.inputs(${seed})`);
  const weights = gradientWeights(expected.shapes, seed);
  owned.push(...weights.filter((w): w is tf.Tensor => w !== null));
  const reference = gradientsOf(spec.reference, referenceInputs, theirs, weights);
  owned.push(...reference.grads.filter((g): g is tf.Tensor => g !== null));
  if (reference.threw) throw new Error(`${FN}: differentiating spec.reference threw ${formatThrown(reference.thrown)} on seeded input ${seed}`);
  const student = gradientsOf(spec.student, studentInputs, mine, weights);
  owned.push(...student.grads.filter((g): g is tf.Tensor => g !== null));
  const prefix = `${s.name} has the right values but`;
  if (student.threw) fail(s.exercise, "gradient", `${prefix} tf.grads could not differentiate it on seeded input ${seed}: ${formatThrown(student.thrown)}.`);
  mine.forEach(({ tensor, path }, i) => {
    // No gradient flowing back means a gradient of zero.
    const values = (g: tf.Tensor | null) => (g === null ? new Float64Array(tensor.size) : (g.dataSync() as ArrayLike<number>));
    const m = findMismatch(values(student.grads[i]), values(reference.grads[i]), s.tol);
    if (m === undefined) return;
    if (student.grads[i] === null) {
      fail(
        s.exercise,
        "gradient",
        `${prefix} no gradient flows back to ${path} on seeded input ${seed} (did you read values out with dataSync or arraySync, build a new tensor from them, or stop the gradient?).`,
      );
    }
    if (m.kind === "nan") {
      fail(s.exercise, "gradient", `${prefix} its gradient with respect to ${path} is ${nanText(m, tensor.shape)} on seeded input ${seed} (the reference's is finite there).`);
    }
    fail(s.exercise, "gradient", `${prefix} its gradient with respect to ${path} differs on seeded input ${seed}${valuesText(m, tensor.shape, s.tol)}.`);
  });
}
