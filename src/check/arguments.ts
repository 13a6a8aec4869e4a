/**
 * Argument checks for the check functions themselves. A bad argument here is
 * the course author's mistake, not the student's, so it throws a plain Error
 * in the library's style (`check.tensor: options.exercise must be a non-empty
 * string, got undefined`) and never a {@link CheckFailed}.
 */
import { checkNonNegativeNumber, describe } from "../validation/arguments";

/** Default tolerance: |got - expected| <= atol + rtol * |expected|. */
export const DEFAULT_ATOL = 1e-4;
export const DEFAULT_RTOL = 1e-3;

/** The absolute and relative tolerance of a comparison. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

function fail(fn: string, arg: string, expectation: string, value: unknown): never {
  throw new Error(`${fn}: ${arg} must be ${expectation}, got ${describe(value)}`);
}

/**
 * Checks that `value` is an object (not null); `fields` says what it should hold.
 *
 * @example
 * checkObject("check.matchesReference", "spec", undefined, "{exercise, name, ...}");
 * // Error: check.matchesReference: spec must be an object {exercise, name, ...}, got undefined
 */
export function checkObject(fn: string, arg: string, value: unknown, fields: string): asserts value is Record<string, unknown> {
  if (value === null || typeof value !== "object") fail(fn, arg, `an object ${fields}`, value);
}

/**
 * Checks that `value` is a string with at least one non-blank character.
 *
 * @example
 * checkNonEmptyString("check.tensor", "options.exercise", "");
 * // Error: check.tensor: options.exercise must be a non-empty string, got ""
 */
export function checkNonEmptyString(fn: string, arg: string, value: unknown): asserts value is string {
  if (typeof value !== "string" || value.trim() === "") fail(fn, arg, "a non-empty string", value);
}

/**
 * Checks that `value` is a function.
 *
 * @example
 * checkFunction("check.matchesReference", "spec.student", undefined);
 * // Error: check.matchesReference: spec.student must be a function, got undefined
 */
export function checkFunction(fn: string, arg: string, value: unknown): asserts value is (...args: never[]) => unknown {
  if (typeof value !== "function") fail(fn, arg, "a function", value);
}

/**
 * Checks that `value` is `true` or `false`, when it is given at all.
 *
 * @example
 * checkOptionalBoolean("check.matchesReference", "spec.gradient", 1);
 * // Error: check.matchesReference: spec.gradient must be true or false, got 1
 */
export function checkOptionalBoolean(fn: string, arg: string, value: unknown): void {
  if (value !== undefined && typeof value !== "boolean") fail(fn, arg, "true or false", value);
}

/**
 * Checks that `value`, when given, is an array of strings.
 *
 * @example
 * checkOptionalStrings("check.matchesReference", "spec.inputNames", "z1");
 * // Error: check.matchesReference: spec.inputNames must be an array of strings, got "z1"
 */
export function checkOptionalStrings(fn: string, arg: string, value: unknown): void {
  if (value !== undefined && !(Array.isArray(value) && value.every((v) => typeof v === "string"))) {
    fail(fn, arg, "an array of strings", value);
  }
}

/**
 * Checks the fields every check takes (`exercise`, `name`, `atol`, `rtol`)
 * in `options` (called `prefix` in messages) and returns the tolerance.
 *
 * @example
 * const tol = checkCommon("check.tensor", "options", { exercise: "04.1", name: "mask" });
 * // { atol: 1e-4, rtol: 1e-3 }
 */
export function checkCommon(fn: string, prefix: string, options: unknown): Tolerance {
  checkObject(fn, prefix, options, "{exercise, name, atol?, rtol?}");
  checkNonEmptyString(fn, `${prefix}.exercise`, options.exercise);
  checkNonEmptyString(fn, `${prefix}.name`, options.name);
  const atol = options.atol ?? DEFAULT_ATOL;
  const rtol = options.rtol ?? DEFAULT_RTOL;
  checkNonNegativeNumber(fn, `${prefix}.atol`, atol);
  checkNonNegativeNumber(fn, `${prefix}.rtol`, rtol);
  return { atol, rtol };
}
