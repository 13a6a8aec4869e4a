/**
 * What a checked function returned, read as a list of parts (tensors or
 * numbers) with their shapes, and the sentence saying why a return value is
 * not what was expected.
 */
import { tf } from "../backend/tf";
import { describe } from "../validation/arguments";
import { formatNumber, formatShape, plural } from "./format";

/** What a student's function may return: a tensor, an array of tensors, or a number (or array of numbers). */
export type Checkable = tf.Tensor | tf.Tensor[] | number | number[];

/** The form of a {@link Checkable}: one tensor, an array of tensors, a number, an array of numbers. */
export type OutputKind = "tensor" | "tensors" | "number" | "numbers";

/** A {@link Checkable} taken apart. */
export interface Outputs {
  kind: OutputKind;
  /** One part per tensor; a number or an array of numbers is one part. */
  parts: Array<tf.Tensor | number | number[]>;
  /** The shape of each part: a number is `[]`, an array of n numbers `[n]`. */
  shapes: number[][];
}

function usableTensor(value: unknown): value is tf.Tensor {
  return value instanceof tf.Tensor && !value.isDisposed && value.dtype !== "string" && value.dtype !== "complex64";
}

/**
 * Takes a return value apart, or gives undefined when it is not a usable
 * {@link Checkable} (undefined, a Promise, a disposed or string tensor, an
 * empty or mixed array, ...).
 *
 * @example
 * readOutputs([tf.zeros([2]), tf.ones([3])]); // { kind: "tensors", shapes: [[2], [3]], parts: [...] }
 * readOutputs(undefined);                     // undefined
 */
export function readOutputs(value: unknown): Outputs | undefined {
  if (typeof value === "number") return { kind: "number", parts: [value], shapes: [[]] };
  if (usableTensor(value)) return { kind: "tensor", parts: [value], shapes: [value.shape.slice()] };
  if (!Array.isArray(value) || value.length === 0) return undefined;
  if (value.every((v) => typeof v === "number")) return { kind: "numbers", parts: [value], shapes: [[value.length]] };
  if (value.every(usableTensor)) return { kind: "tensors", parts: value, shapes: value.map((t) => t.shape.slice()) };
  return undefined;
}

/**
 * The tensors among `outputs`' parts.
 *
 * @example
 * tensorsOf(readOutputs([a, b])!); // [a, b]
 */
export function tensorsOf(outputs: Outputs): tf.Tensor[] {
  return outputs.parts.filter((p): p is tf.Tensor => p instanceof tf.Tensor);
}

/**
 * The values of one part on the host: a tensor's `dataSync()` (float32 stays
 * exact as a JS double), a number as a one-element array.
 *
 * @example
 * partValues(tf.tensor1d([1, 2])); // Float32Array [1, 2]
 * partValues(0.5);                 // [0.5]
 */
export function partValues(part: tf.Tensor | number | number[]): ArrayLike<number> {
  if (part instanceof tf.Tensor) return part.dataSync() as ArrayLike<number>;
  return typeof part === "number" ? [part] : part;
}

/**
 * What was expected, as a message says it.
 *
 * @example
 * expectationText({ kind: "tensors", parts: [a, b], shapes: [[2], [2]] }); // "an array of 2 tf.Tensors"
 */
export function expectationText(expected: Pick<Outputs, "kind" | "parts">): string {
  switch (expected.kind) {
    case "tensor":
      return "a tf.Tensor";
    case "tensors":
      return `an array of ${expected.parts.length} tf.Tensors`;
    case "number":
      return "a number";
    case "numbers":
      return "an array of numbers";
  }
}

/** A number, or an array (nested or not) of numbers: what `tf.tensor` would take. */
function isNumbers(value: unknown): boolean {
  return typeof value === "number" || (Array.isArray(value) && value.every(isNumbers));
}

/** What a wrong value is, as a message says it: more specific than `describe` where a student needs it. */
function whatItIs(value: unknown): string {
  if (value instanceof Promise) return "a Promise";
  if (typeof value === "number") return `the number ${formatNumber(value)}`;
  if (value instanceof tf.Tensor) {
    if (value.isDisposed) return "a tensor that was already disposed";
    if (!usableTensor(value)) return `a ${value.dtype} tensor of shape ${formatShape(value.shape)}`;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return "an empty array";
    if (isNumbers(value)) return describe(value);
    if (value.every((v) => v instanceof tf.Tensor)) return `an array of ${plural(value.length, "tensor")}${value.some((v) => v.isDisposed) ? ", some already disposed" : ""}`;
    const bad = value.findIndex((v) => typeof v !== "number" && !(v instanceof tf.Tensor));
    if (bad < 0) return "an array mixing tensors and numbers";
    return `an array whose element ${bad} is ${whatItIs(value[bad])}`;
  }
  return describe(value);
}

/** A hint for the commonest ways to return the wrong thing; "" when there is none. */
function hint(value: unknown, expected: OutputKind, returned: boolean): string {
  if (value === undefined && returned) return " (did you forget to return?)";
  if (value instanceof Promise) return " (is it declared async? it must return its result directly)";
  if (value instanceof tf.Tensor && value.isDisposed) return " (a tensor returned from tf.tidy survives it: don't dispose what you return)";
  if (typeof value === "number" && expected !== "number") return " (return the tensor itself rather than reading its value out)";
  if (value instanceof tf.Tensor && expected === "number") return " (read its value out with dataSync()[0])";
  if (Array.isArray(value) && isNumbers(value) && expected === "tensor") return " (make one with tf.tensor(...))";
  return "";
}

/**
 * The sentence body for a value of the wrong form: what it is, what was
 * expected, and a hint. `returned` says whether it came back from a call
 * (then `undefined` suggests a missing return).
 *
 * @example
 * `ntXentLoss returned ${wrongFormText(undefined, { kind: "tensor", parts: [loss] }, true)}.`
 * // "ntXentLoss returned undefined; expected a tf.Tensor (did you forget to return?)."
 */
export function wrongFormText(value: unknown, expected: Pick<Outputs, "kind" | "parts">, returned: boolean): string {
  return `${whatItIs(value)}; expected ${expectationText(expected)}${hint(value, expected.kind, returned)}`;
}

/**
 * True when `got` has the form of `expected`: the same kind and, for arrays
 * of tensors, as many.
 *
 * @example
 * sameForm(readOutputs([a])!, readOutputs([a, b])!); // false
 */
export function sameForm(got: Outputs, expected: Outputs): boolean {
  return got.kind === expected.kind && (got.kind !== "tensors" || got.parts.length === expected.parts.length);
}
