/**
 * How numbers, shapes and positions read in check messages: compact, so a
 * one-sentence message stays one line a student can take in.
 */

/** Significant digits of a number in a message: enough to compare, few enough to read. */
const DIGITS = 4;

/**
 * A number with 4 significant digits and no trailing zeros; exponent form
 * (`1e-4`, `2.5e6`) below 0.01 and from 1e5 on in magnitude.
 *
 * @example
 * formatNumber(0.31415926); // "0.3142"
 * formatNumber(1.2);        // "1.2"
 * formatNumber(1e-4);       // "1e-4"
 * formatNumber(-Infinity);  // "-Infinity"
 */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x) || x === 0) return Object.is(x, -0) ? "0" : String(x);
  const magnitude = Math.abs(x);
  if (magnitude >= 0.01 && magnitude < 1e5) return String(Number(x.toPrecision(DIGITS)));
  const [mantissa, exponent] = x.toExponential(DIGITS - 1).split("e");
  return `${Number(mantissa)}e${Number(exponent)}`;
}

/**
 * A shape as messages print it.
 *
 * @example
 * formatShape([8, 16]); // "[8,16]"
 * formatShape([]);      // "[]"
 */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/**
 * The multi-index `[i,j,...]` of row-major flat index `flat` in `shape`.
 *
 * @example
 * formatPosition(13, [2, 8]); // "[1,5]"
 */
export function formatPosition(flat: number, shape: readonly number[]): string {
  const index: number[] = new Array(shape.length);
  let rest = flat;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    index[axis] = rest % shape[axis];
    rest = Math.floor(rest / shape[axis]);
  }
  return formatShape(index);
}

/**
 * Words joined as a sentence lists them.
 *
 * @example
 * formatList(["[8,16]", "[8,16]"]);  // "[8,16] and [8,16]"
 * formatList(["a", "b", "c"]);       // "a, b and c"
 */
export function formatList(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** How many characters of a student's error message a check quotes. */
const MAX_QUOTED = 200;

/**
 * What a function threw, quoted for a message: the first line of its
 * message, prefixed with the error's class when that says something
 * (`TypeError "Cannot read properties of undefined (reading 'shape')"`).
 *
 * @example
 * formatThrown(new Error("not implemented yet")); // "\"not implemented yet\""
 * formatThrown(new TypeError("x is undefined"));  // "TypeError \"x is undefined\""
 */
export function formatThrown(error: unknown): string {
  const isError = error instanceof Error;
  let text = isError ? error.message : String(error);
  text = text.split("\n")[0].trim();
  if (text.length > MAX_QUOTED) text = `${text.slice(0, MAX_QUOTED - 3)}...`;
  const kind = isError && error.name !== "Error" ? `${error.name} ` : "";
  return `${kind}${JSON.stringify(text)}`;
}

/**
 * A count with its noun, singular or plural.
 *
 * @example
 * plural(1, "tensor"); // "1 tensor"
 * plural(3, "tensor"); // "3 tensors"
 */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
