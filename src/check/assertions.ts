/**
 * Checks of a single value a student computed: a tensor, a number, or any
 * condition the exercise states. Each prints one "✓ " line and returns
 * undefined when it passes, and throws a one-sentence {@link CheckFailed}
 * when it does not.
 */
import { tf } from "../backend/tf";
import { describe } from "../validation/arguments";
import { checkCommon, checkNonEmptyString, checkObject } from "./arguments";
import { findMismatch, nanText, toleranceText, valuesText } from "./compare";
import { fail, pass } from "./errors";
import { formatNumber, formatShape } from "./format";
import { wrongFormText } from "./outputs";

/** Options of {@link tensor} and {@link number}. */
export interface ValueCheckOptions {
  /** The exercise id, e.g. "04.1": every message starts "Exercise 04.1: ". */
  exercise: string;
  /** The value as the student knows it, e.g. "mask". */
  name: string;
  /** Absolute tolerance; default 1e-4. */
  atol?: number;
  /** Relative tolerance; default 1e-3. */
  rtol?: number;
}

/** A nested array of numbers, as `tf.tensor` takes it. */
export type NestedNumbers = number | readonly NestedNumbers[];

/** The shape and row-major values of a nested array of numbers, or undefined when it is ragged or holds non-numbers. */
function hostArray(value: NestedNumbers): { shape: number[]; values: number[] } | undefined {
  if (typeof value === "number") return { shape: [], values: [value] };
  if (!Array.isArray(value)) return undefined;
  const rows = value.map((v) => hostArray(v as NestedNumbers));
  const first = rows[0];
  if (rows.some((r) => r === undefined || formatShape(r.shape) !== formatShape(first!.shape))) return undefined;
  return { shape: [value.length, ...(first?.shape ?? [])], values: rows.flatMap((r) => r!.values) };
}

/**
 * Checks that `actual` is a tf.Tensor with the shape and values of
 * `expected` (a tensor, a nested array of numbers, or a number for a
 * scalar): |actual - expected| <= atol + rtol * |expected| element-wise, in
 * float64. Neither tensor is disposed: they are the caller's.
 *
 * Shapes: `actual` and `expected` the same, e.g. `[8,8]`.
 *
 * @example
 * check.tensor(mask, tf.sub(1, tf.eye(8)), { exercise: "04.2", name: "mask" });
 * // ✓ Exercise 04.2: mask has the expected shape [8,8] and values.
 * check.tensor(mask, tf.sub(1, tf.eye(8)), { exercise: "04.2", name: "mask" }); // mask = tf.ones([8, 8])
 * // CheckFailed: Exercise 04.2: mask differs from the expected values at 8 of 64 positions: max error 1 at [0,0] (got 1, expected 0); tolerance 1e-4 + 1e-3 * |expected|.
 */
export function tensor(actual: unknown, expected: tf.Tensor | NestedNumbers, options: ValueCheckOptions): void {
  const fn = "check.tensor";
  const tol = checkCommon(fn, "options", options);
  const want = expected instanceof tf.Tensor && !expected.isDisposed
    ? { shape: expected.shape, values: expected.dataSync() as ArrayLike<number> }
    : hostArray(expected as NestedNumbers);
  if (want === undefined) throw new Error(`${fn}: expected must be a tensor, a number or a nested array of numbers, got ${describe(expected)}`);
  const { exercise, name } = options;
  if (!(actual instanceof tf.Tensor) || actual.isDisposed || actual.dtype === "string" || actual.dtype === "complex64") {
    fail(exercise, "type", `${name} is ${wrongFormText(actual, { kind: "tensor", parts: [] }, false)}.`);
  }
  if (formatShape(actual.shape) !== formatShape(want.shape)) {
    fail(exercise, "shape", `${name} has shape ${formatShape(actual.shape)} but should have shape ${formatShape(want.shape)}.`);
  }
  const m = findMismatch(actual.dataSync() as ArrayLike<number>, want.values, tol);
  if (m?.kind === "nan") fail(exercise, "nan", `${name} is ${nanText(m, want.shape)} (the expected value is finite there).`);
  if (m !== undefined) fail(exercise, "values", `${name} differs from the expected values${valuesText(m, want.shape, tol)}.`);
  pass(exercise, `${name} has the expected shape ${formatShape(want.shape)} and values.`);
}

/**
 * Checks that `actual` is a number within `atol + rtol * |expected|` of
 * `expected`.
 *
 * @example
 * check.number(loss, Math.log(15), { exercise: "04.1", name: "the loss of equal rows" });
 * // ✓ Exercise 04.1: the loss of equal rows is 2.708, as expected.
 */
export function number(actual: unknown, expected: number, options: ValueCheckOptions): void {
  const fn = "check.number";
  const tol = checkCommon(fn, "options", options);
  if (typeof expected !== "number" || Number.isNaN(expected)) throw new Error(`${fn}: expected must be a number, got ${describe(expected)}`);
  const { exercise, name } = options;
  if (typeof actual !== "number") fail(exercise, "type", `${name} is ${wrongFormText(actual, { kind: "number", parts: [] }, false)}.`);
  const m = findMismatch([actual], [expected], tol);
  if (m?.kind === "nan") fail(exercise, "nan", `${name} is ${formatNumber(actual)}; expected ${formatNumber(expected)}.`);
  if (m !== undefined) {
    fail(exercise, "values", `${name} is ${formatNumber(actual)}; expected ${formatNumber(expected)} (error ${formatNumber(m.error)}; ${toleranceText(tol)}).`);
  }
  pass(exercise, `${name} is ${formatNumber(actual)}, as expected.`);
}

/** Options of {@link that}. */
export interface ConditionOptions {
  /** The exercise id, e.g. "04.1". */
  exercise: string;
  /** What is wrong when `condition` is false, as one sentence that teaches. */
  message: string;
  /** What the pass line says; default "check passed." */
  passed?: string;
}

/** A sentence ends with a stop; add one if the author left it off. */
function sentence(text: string): string {
  return /[.!?]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`;
}

/**
 * Checks any condition an exercise states; fails (kind "condition") with
 * `message` when `condition` is false.
 *
 * @example
 * check.that(queue.shape[0] === 4096, {
 *   exercise: "05.3",
 *   message: "the queue should keep 4096 keys: enqueue the new batch, then drop the oldest",
 *   passed: "the queue keeps 4096 keys",
 * });
 * // ✓ Exercise 05.3: the queue keeps 4096 keys.
 */
export function that(condition: boolean, options: ConditionOptions): void {
  const fn = "check.that";
  if (typeof condition !== "boolean") throw new Error(`${fn}: condition must be true or false, got ${describe(condition)}`);
  checkObject(fn, "options", options, "{exercise, message, passed?}");
  checkNonEmptyString(fn, "options.exercise", options.exercise);
  checkNonEmptyString(fn, "options.message", options.message);
  if (options.passed !== undefined) checkNonEmptyString(fn, "options.passed", options.passed);
  if (!condition) fail(options.exercise, "condition", sentence(options.message));
  pass(options.exercise, sentence(options.passed ?? "check passed"));
}
