/**
 * Argument checks shared by the losses: each throws an Error naming the
 * function, the argument, what was expected and what was given.
 */
import { tf } from "../../backend/tf";

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/**
 * Checks that `t` is a float32 matrix `[rows, cols]`; `rows`/`cols` are
 * checked when given.
 *
 * @example
 * checkMatrix("tripletLoss", "anchor", anchor);
 * checkMatrix("tripletLoss", "positive", positive, anchor.shape[0], anchor.shape[1]);
 */
export function checkMatrix(fn: string, arg: string, t: unknown, rows?: number, cols?: number): asserts t is tf.Tensor2D {
  if (!(t instanceof tf.Tensor)) {
    throw new Error(`${fn}: ${arg} must be a tf.Tensor of shape [batch, dim], got ${t === null ? "null" : typeof t}`);
  }
  const expected = `[${rows ?? "batch"},${cols ?? "dim"}]`;
  if (t.rank !== 2) {
    throw new Error(`${fn}: ${arg} must have rank 2, shape ${expected}, got shape ${shapeText(t.shape)}`);
  }
  if ((rows !== undefined && t.shape[0] !== rows) || (cols !== undefined && t.shape[1] !== cols)) {
    throw new Error(`${fn}: ${arg} must have shape ${expected}, got ${shapeText(t.shape)}`);
  }
  if (t.dtype !== "float32") {
    throw new Error(`${fn}: ${arg} must be float32, got ${t.dtype}`);
  }
}

/**
 * Checks that `t` is a vector `[length]` (any length when omitted) of
 * `dtype` (float32 or int32).
 */
export function checkVector(
  fn: string,
  arg: string,
  t: unknown,
  length?: number,
  dtype: "float32" | "int32" = "float32",
): asserts t is tf.Tensor1D {
  if (!(t instanceof tf.Tensor)) {
    throw new Error(`${fn}: ${arg} must be a tf.Tensor of shape [${length ?? "n"}], got ${t === null ? "null" : typeof t}`);
  }
  if (t.rank !== 1 || (length !== undefined && t.shape[0] !== length)) {
    throw new Error(`${fn}: ${arg} must have shape [${length ?? "n"}], got ${shapeText(t.shape)}`);
  }
  if (t.dtype !== dtype) {
    throw new Error(`${fn}: ${arg} must be ${dtype}, got ${t.dtype}`);
  }
}

/** Checks that an option is a finite number > 0 (or >= 0 with `allowZero`). */
export function checkPositive(fn: string, option: string, value: number, allowZero = false): void {
  const ok = typeof value === "number" && Number.isFinite(value) && (allowZero ? value >= 0 : value > 0);
  if (!ok) {
    throw new Error(`${fn}: options.${option} must be a finite number ${allowZero ? ">= 0" : "> 0"}, got ${value}`);
  }
}
