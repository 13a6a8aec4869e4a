/**
 * Argument checks shared by the whole library, so every function rejects bad
 * input with one message style:
 *
 * ```text
 * smallCnnEncoder: options.filters must be a positive integer, got 0
 * tripletLoss: positive must be a float32 tensor of shape [8,16], got a tensor of shape [8,4]
 * ```
 *
 * Every check takes `(fn, arg, value, ...)`: the public function's name, the
 * argument's name as the caller wrote it (`"options.filters"`), then the value.
 * It returns nothing and throws an Error `` `${fn}: ${arg} must be
 * <expectation>, got ${describe(value)}` `` when the value does not fit.
 *
 * Internal to the library: not exported from `src/index.ts`.
 */
import { tf } from "../backend/tf";

/** How many elements of an array `describe` prints before eliding the rest. */
const MAX_ELEMENTS = 8;

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? "an" : "a";
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

function tensorText(t: tf.Tensor, withDtype: boolean): string {
  return withDtype ? `${article(t.dtype)} ${t.dtype} tensor of shape ${shapeText(t.shape)}` : `a tensor of shape ${shapeText(t.shape)}`;
}

function elementsText(values: ArrayLike<unknown>): string {
  const shown: string[] = [];
  for (let i = 0; i < Math.min(values.length, MAX_ELEMENTS); i++) shown.push(describe(values[i]));
  if (values.length > MAX_ELEMENTS) shown.push(`... (${values.length} elements)`);
  return `[${shown.join(",")}]`;
}

/**
 * A value as an error message prints it: numbers as written (`0`, `NaN`,
 * `-Infinity`), strings quoted (`"adam"`), arrays and shapes as `[2,3]`
 * (long ones elided), typed arrays as `a Float32Array of length 5`, tensors
 * as `a tensor of shape [2,3]`, and `undefined` / `null` by name.
 *
 * @example
 * describe(tf.zeros([2, 3])); // "a tensor of shape [2,3]"
 * describe([2, 3]);           // "[2,3]"
 * describe("sgd");            // "\"sgd\""
 */
export function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return String(value);
  if (value instanceof tf.Tensor) return tensorText(value, false);
  if (Array.isArray(value)) return elementsText(value);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const name = value.constructor.name;
    return `${article(name)} ${name} of length ${(value as unknown as ArrayLike<number>).length}`;
  }
  const name = Object.getPrototypeOf(value)?.constructor?.name;
  return name && name !== "Object" ? `${article(name)} ${name}` : "an object";
}

function fail(fn: string, arg: string, expectation: string, got: string): never {
  throw new Error(`${fn}: ${arg} must be ${expectation}, got ${got}`);
}

/** Checks that `value` is an integer (any sign). */
export function checkInteger(fn: string, arg: string, value: unknown): asserts value is number {
  if (!Number.isInteger(value)) fail(fn, arg, "an integer", describe(value));
}

/**
 * Checks that `value` is an integer >= 1.
 *
 * @example
 * checkPositiveInteger("smallCnnEncoder", "options.filters", 0);
 * // Error: smallCnnEncoder: options.filters must be a positive integer, got 0
 */
export function checkPositiveInteger(fn: string, arg: string, value: unknown): asserts value is number {
  if (!Number.isInteger(value) || (value as number) < 1) fail(fn, arg, "a positive integer", describe(value));
}

/** Checks that `value` is an integer >= 0. */
export function checkNonNegativeInteger(fn: string, arg: string, value: unknown): asserts value is number {
  if (!Number.isInteger(value) || (value as number) < 0) fail(fn, arg, "a non-negative integer", describe(value));
}

/**
 * Checks that `options` is an object; `fields` says what it should hold, for
 * the message (`{rbm, k?}`).
 *
 * @example
 * checkOptions("createContrastiveDivergence", undefined, "{rbm, k?}");
 * // Error: createContrastiveDivergence: options must be an object {rbm, k?}, got undefined
 */
export function checkOptions(fn: string, options: unknown, fields: string): asserts options is object {
  if (options === null || typeof options !== "object") fail(fn, "options", `an object ${fields}`, describe(options));
}

/** Bounds of a range check; both are inclusive unless marked exclusive. */
export interface RangeBounds {
  /** Reject `value === min`. */
  minExclusive?: boolean;
  /** Reject `value === max`. */
  maxExclusive?: boolean;
}

function rangeText(min: number, max: number, bounds: RangeBounds): string {
  return `${bounds.minExclusive ? "(" : "["}${min}, ${max}${bounds.maxExclusive ? ")" : "]"}`;
}

function inRange(v: number, min: number, max: number, bounds: RangeBounds): boolean {
  const aboveMin = bounds.minExclusive ? v > min : v >= min;
  const belowMax = bounds.maxExclusive ? v < max : v <= max;
  return aboveMin && belowMax;
}

/** The range check of both kinds: `kind` is what the message calls an acceptable value. */
function checkRange(fn: string, arg: string, value: unknown, min: number, max: number, bounds: RangeBounds, integer: boolean): void {
  const isKind = integer ? Number.isInteger(value) : typeof value === "number" && !Number.isNaN(value);
  if (!isKind || !inRange(value as number, min, max, bounds)) {
    fail(fn, arg, `${integer ? "an integer" : "a number"} in ${rangeText(min, max, bounds)}`, describe(value));
  }
}

/**
 * Checks that `value` is an integer in `[min, max]` (a bound is left out
 * when marked exclusive: `{ maxExclusive: true }` gives `[min, max)`, as for
 * an index into `max` items).
 *
 * @example
 * checkIntegerInRange("pairCosines", "pairs.a[3]", 12, 0, 10, { maxExclusive: true });
 * // Error: pairCosines: pairs.a[3] must be an integer in [0, 10), got 12
 */
export function checkIntegerInRange(
  fn: string,
  arg: string,
  value: unknown,
  min: number,
  max: number,
  bounds: RangeBounds = {},
): asserts value is number {
  checkRange(fn, arg, value, min, max, bounds, true);
}

/** Checks that `value` is a finite number (not NaN, not ±Infinity). */
export function checkFiniteNumber(fn: string, arg: string, value: unknown): asserts value is number {
  if (typeof value !== "number" || !Number.isFinite(value)) fail(fn, arg, "a finite number", describe(value));
}

/** Checks that `value` is a finite number > 0. */
export function checkPositiveNumber(fn: string, arg: string, value: unknown): asserts value is number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) fail(fn, arg, "a finite number > 0", describe(value));
}

/** Checks that `value` is a finite number >= 0. */
export function checkNonNegativeNumber(fn: string, arg: string, value: unknown): asserts value is number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) fail(fn, arg, "a finite number >= 0", describe(value));
}

/**
 * Checks that `value` is a number in `[min, max]`; `bounds` makes either end
 * exclusive, and the message states which (`[0, 1)`).
 *
 * @example
 * checkNumberInRange("createMemoryBank", "options.momentum", 1, 0, 1, { maxExclusive: true });
 * // Error: createMemoryBank: options.momentum must be a number in [0, 1), got 1
 */
export function checkNumberInRange(
  fn: string,
  arg: string,
  value: unknown,
  min: number,
  max: number,
  bounds: RangeBounds = {},
): asserts value is number {
  checkRange(fn, arg, value, min, max, bounds, false);
}

/** Checks that `value` is a probability: a number in `[0, 1]`. */
export function checkProbability(fn: string, arg: string, value: unknown): asserts value is number {
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) fail(fn, arg, "a probability in [0, 1]", describe(value));
}

/**
 * Checks that `value` is one of `allowed` (compared with `===`).
 *
 * @example
 * checkOneOf("mineTriplets", "options.distance", "cosine", ["euclidean", "squared"]);
 * // Error: mineTriplets: options.distance must be one of "euclidean", "squared", got "cosine"
 */
export function checkOneOf<T>(fn: string, arg: string, value: unknown, allowed: readonly T[]): asserts value is T {
  if (!allowed.includes(value as T)) fail(fn, arg, `one of ${allowed.map(describe).join(", ")}`, describe(value));
}

/** Checks that `value` is a `tf.Tensor`, of `dtype` when given. */
export function checkTensor(fn: string, arg: string, value: unknown, dtype?: tf.DataType): asserts value is tf.Tensor {
  const expectation = dtype === undefined ? "a tensor" : `${article(dtype)} ${dtype} tensor`;
  if (!(value instanceof tf.Tensor)) fail(fn, arg, expectation, describe(value));
  if (dtype !== undefined && value.dtype !== dtype) fail(fn, arg, expectation, tensorText(value, true));
}

/** Checks that `value` is a `tf.Tensor` of rank `rank`, of `dtype` when given. */
export function checkRank(fn: string, arg: string, value: unknown, rank: number, dtype?: tf.DataType): asserts value is tf.Tensor {
  const expectation = `${dtype === undefined ? "a" : `${article(dtype)} ${dtype}`} tensor of rank ${rank}`;
  if (!(value instanceof tf.Tensor) || value.rank !== rank) fail(fn, arg, expectation, describe(value));
  if (dtype !== undefined && value.dtype !== dtype) fail(fn, arg, expectation, tensorText(value, true));
}

function checkShaped(fn: string, arg: string, value: unknown, expected: readonly (number | string | undefined)[], dtype?: tf.DataType): void {
  const dims = expected.map((e, i) => e ?? ["n", "d"][i] ?? `d${i}`);
  const expectation = `${dtype === undefined ? "a" : `${article(dtype)} ${dtype}`} tensor of shape [${dims.join(",")}]`;
  const fits =
    value instanceof tf.Tensor &&
    value.rank === expected.length &&
    expected.every((e, i) => typeof e !== "number" || value.shape[i] === e);
  if (!fits) fail(fn, arg, expectation, describe(value));
  if (dtype !== undefined && value.dtype !== dtype) fail(fn, arg, expectation, tensorText(value, true));
}

/**
 * Checks that `value` is a matrix `[rows, cols]`; `rows` and `cols` are
 * checked when given (the message writes `n` and `d` for the free ones), and
 * the dtype when `dtype` is given.
 *
 * @example
 * checkMatrix("tripletLoss", "positive", positive, 8, 16, "float32");
 * // Error: tripletLoss: positive must be a float32 tensor of shape [8,16], got a tensor of shape [8,4]
 */
export function checkMatrix(
  fn: string,
  arg: string,
  value: unknown,
  rows?: number,
  cols?: number,
  dtype?: tf.DataType,
): asserts value is tf.Tensor2D {
  checkShaped(fn, arg, value, [rows, cols], dtype);
}

/** Checks that `value` is a vector `[length]` (any length when omitted), of `dtype` when given. */
export function checkVector(fn: string, arg: string, value: unknown, length?: number, dtype?: tf.DataType): asserts value is tf.Tensor1D {
  checkShaped(fn, arg, value, [length ?? "n"], dtype);
}

/**
 * Checks that `value` (a tensor, or an array of rows) has as many rows as
 * `reference` (a tensor or array), whose name `referenceArg` the message gives.
 *
 * @example
 * checkSameRows("alignment", "y", tf.zeros([3, 2]), "x", tf.zeros([4, 2]));
 * // Error: alignment: y must have 4 rows like x, got a tensor of shape [3,2]
 */
export function checkSameRows(
  fn: string,
  arg: string,
  value: tf.Tensor | ArrayLike<unknown>,
  referenceArg: string,
  reference: tf.Tensor | ArrayLike<unknown>,
): void {
  const rowsOf = (v: unknown): number | undefined => {
    if (v instanceof tf.Tensor) return v.rank === 0 ? undefined : v.shape[0];
    if (v !== null && typeof v === "object" && typeof (v as ArrayLike<unknown>).length === "number") return (v as ArrayLike<unknown>).length;
    return undefined;
  };
  const expected = rowsOf(reference);
  if (expected === undefined) throw new Error(`checkSameRows: reference must be a tensor or an array, got ${describe(reference)}`);
  const got = rowsOf(value);
  if (got !== expected) {
    throw new Error(`${fn}: ${arg} must have ${expected} rows like ${referenceArg}, got ${describe(value)}`);
  }
}
