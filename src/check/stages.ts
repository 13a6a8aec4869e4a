/**
 * The comparisons of one trial of `matchesReference`, in the order a
 * student should hear about problems: shape (not-scalar), nan, values (the
 * outputs, then any variable updated in place), gradient. Each fails with
 * one sentence; a mistake in the spec itself is a plain Error.
 */
import { tf } from "../backend/tf";
import type { Tolerance } from "./arguments";
import { type Leaf, tensorLeaves } from "./call";
import { findMismatch, nanText, valuesText } from "./compare";
import { fail } from "./errors";
import { formatList, formatShape, formatThrown } from "./format";
import { differentiableLeaves, gradientsOf, gradientWeights } from "./gradient";
import { type Outputs, partValues } from "./outputs";

/** The name plain Errors about the spec start with. */
export const FN = "check.matchesReference";

/** A spec, validated, with its defaults filled in. */
export interface Settings {
  exercise: string;
  name: string;
  tol: Tolerance;
  trials: number;
  scalar: boolean;
  gradient: boolean;
  /** The name of top-level input `i` in messages. */
  names: (i: number) => string;
}

/** A function under check, as the stages call it. */
type Fn = (...args: never[]) => unknown;

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

/** The output's shapes: a scalar where `scalar` demands one, else the reference's. */
export function checkShapes(s: Settings, got: Outputs, expected: Outputs, inputs: readonly unknown[]): void {
  if (s.scalar && got.shapes[0].length !== 0) {
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

/** The output's values: non-finite ones first, then any out of tolerance. */
export function checkValues(s: Settings, got: Outputs, expected: Outputs, seed: number): void {
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

/** A function that updates tf.Variables in place must leave them as the reference leaves its copies. */
export function checkUpdatedVariables(s: Settings, studentInputs: readonly unknown[], referenceInputs: readonly unknown[], seed: number): void {
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

/** Gradients with respect to every float32 tensor input, of the student's function and the reference's. */
export function checkGradients(
  s: Settings,
  studentFn: Fn,
  referenceFn: Fn,
  studentInputs: readonly unknown[],
  referenceInputs: readonly unknown[],
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
  const reference = gradientsOf(referenceFn, referenceInputs, theirs, weights);
  owned.push(...reference.grads.filter((g): g is tf.Tensor => g !== null));
  if (reference.threw) throw new Error(`${FN}: differentiating spec.reference threw ${formatThrown(reference.thrown)} on seeded input ${seed}`);
  const student = gradientsOf(studentFn, studentInputs, mine, weights);
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
