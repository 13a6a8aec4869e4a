/**
 * Reading the numbers a figure is made of, from whatever a notebook holds:
 * a `tf.Tensor`, a typed array, a plain array or an array of rows.
 *
 * Plots are drawn in the browser from JSON, so every input becomes a plain
 * `number[]` here, once. Float32 values (tensors, `Float32Array`) are written
 * with the fewest digits that still round to the same float32, so
 * `0.1f` travels as `0.1` and not as `0.10000000149011612`: figures stay
 * small and the numbers in them are exactly the ones the notebook computed.
 */
import { tf } from "../backend/tf";

/** A typed array of numbers. */
export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint8ClampedArray
  | Uint16Array
  | Uint32Array;

/**
 * Numbers a plot helper accepts: a tensor, a typed array or a plain array.
 * A rank-2 input may also be an array of equal-length rows (`number[][]`).
 */
export type PlotValues = tf.Tensor | NumericArray | readonly number[] | readonly (readonly number[])[];

/** Numbers read from {@link PlotValues}: row-major values and their shape. */
export interface DenseValues {
  /** Row-major values, `shape.reduce(*)` of them. */
  values: number[];
  /** The shape, e.g. `[rows, cols]`. */
  shape: number[];
}

/**
 * The shortest decimal that rounds to the same float32 as `v`.
 *
 * @example
 * shortestFloat32(Math.fround(0.1)); // 0.1
 */
export function shortestFloat32(v: number): number {
  if (!Number.isFinite(v) || Number.isInteger(v)) return v;
  // 9 significant digits always round-trip a float32; fewer usually do.
  for (let digits = 6; digits <= 9; digits++) {
    const candidate = Number(v.toPrecision(digits));
    if (Math.fround(candidate) === v) return candidate;
  }
  return v;
}

/** How an input is described in an error message: its type and shape. */
export function describeInput(input: unknown): string {
  if (input instanceof tf.Tensor) return `tf.Tensor of shape [${input.shape}] (${input.dtype})`;
  if (ArrayBuffer.isView(input)) {
    return `${input.constructor.name} of length ${(input as unknown as NumericArray).length}`;
  }
  if (Array.isArray(input)) {
    if (input.length > 0 && Array.isArray(input[0])) return `array of ${input.length} rows`;
    return `array of length ${input.length}`;
  }
  return input === null ? "null" : typeof input;
}

function isFloat32Source(input: unknown): boolean {
  if (input instanceof tf.Tensor) return input.dtype === "float32";
  return input instanceof Float32Array;
}

/**
 * Reads `input` into a plain row-major array and its shape.
 *
 * A tensor keeps its shape. A nested array `number[][]` is `[rows, cols]` and
 * must be rectangular. A flat typed or plain array is `[length]` unless
 * `shape` is given, which must then account for every element. With `rank`,
 * the result must have that rank. Values are read synchronously
 * (`dataSync`), creating no tensors; the caller keeps ownership of `input`.
 *
 * Shapes: any; `rank` and `shape` constrain it.
 *
 * @param fn function name for error messages, e.g. `"heatmap"`.
 * @param arg argument name for error messages, e.g. `"matrix"`.
 * @example
 * readValues(tf.tensor2d([[1, 2], [3, 4]]), "heatmap", "matrix", { rank: 2 });
 * // { values: [1, 2, 3, 4], shape: [2, 2] }
 */
export function readValues(
  input: PlotValues,
  fn: string,
  arg: string,
  options: { rank?: number; shape?: readonly number[] } = {},
): DenseValues {
  let values: number[];
  let shape: number[];
  if (input instanceof tf.Tensor) {
    if (input.isDisposed) throw new Error(`${fn}: ${arg} is a disposed tensor`);
    if (input.dtype === "string" || input.dtype === "complex64") {
      throw new Error(`${fn}: ${arg} must be a numeric tensor, got dtype ${input.dtype}`);
    }
    values = Array.from(input.dataSync() as NumericArray);
    shape = input.shape.slice();
  } else if (ArrayBuffer.isView(input)) {
    values = Array.from(input as NumericArray);
    shape = [values.length];
  } else if (Array.isArray(input)) {
    if (input.length > 0 && input.every((row) => Array.isArray(row))) {
      const rows = input as readonly (readonly number[])[];
      const cols = rows[0].length;
      rows.forEach((row, i) => {
        if (row.length !== cols) {
          throw new Error(`${fn}: ${arg} rows must all have length ${cols} (row 0), got length ${row.length} at row ${i}`);
        }
      });
      values = rows.flat();
      shape = [rows.length, cols];
    } else {
      values = (input as readonly unknown[]).map((v, i) => {
        if (typeof v !== "number") {
          throw new Error(`${fn}: ${arg}[${i}] must be a number, got ${Array.isArray(v) ? "an array" : typeof v}`);
        }
        return v;
      });
      shape = [values.length];
    }
  } else {
    throw new Error(`${fn}: ${arg} must be a tf.Tensor, a typed array or an array of numbers, got ${describeInput(input)}`);
  }
  if (options.shape) {
    const want = options.shape;
    const size = want.reduce((a, b) => a * b, 1);
    const compatible = shape.length === 1 || shape.length === want.length && shape.every((d, i) => d === want[i]);
    if (!compatible || size !== values.length || want.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new Error(`${fn}: ${arg} of ${describeInput(input)} does not have shape [${want}] (${size} values)`);
    }
    shape = want.slice();
  }
  if (options.rank !== undefined && shape.length !== options.rank) {
    throw new Error(`${fn}: ${arg} must have rank ${options.rank}, got ${describeInput(input)}`);
  }
  if (isFloat32Source(input)) values = values.map(shortestFloat32);
  return { values, shape };
}

/** Reads a vector (rank 1); see {@link readValues}. */
export function readVector(input: PlotValues, fn: string, arg: string, length?: number): number[] {
  const { values, shape } = readValues(input, fn, arg, { rank: 1 });
  if (length !== undefined && shape[0] !== length) {
    throw new Error(`${fn}: ${arg} must have shape [${length}], got [${shape}]`);
  }
  return values;
}

/** Throws unless every value is finite, naming the first one that is not. */
export function requireFinite(values: readonly number[], fn: string, arg: string): void {
  const i = values.findIndex((v) => !Number.isFinite(v));
  if (i >= 0) throw new Error(`${fn}: ${arg} must be finite, got ${values[i]} at flat index ${i}`);
}

/** Labels: class ids (integers) or names. */
export type PlotLabels = PlotValues | readonly string[];

/**
 * Reads per-point labels: integer class ids from a tensor or array, or strings.
 *
 * Shapes: `[n]` -> `n` labels.
 */
export function readPlotLabels(input: PlotLabels, fn: string, arg: string, n: number): (number | string)[] {
  if (Array.isArray(input) && input.length > 0 && input.every((v) => typeof v === "string")) {
    if (input.length !== n) throw new Error(`${fn}: ${arg} must have shape [${n}], got [${input.length}]`);
    return (input as readonly string[]).slice();
  }
  const ids = readVector(input as PlotValues, fn, arg, n);
  const bad = ids.findIndex((v) => !Number.isInteger(v));
  if (bad >= 0) throw new Error(`${fn}: ${arg} must hold integer class ids or strings, got ${ids[bad]} at index ${bad}`);
  return ids;
}
