/**
 * Calling code the check does not trust (a student's function, a spec's
 * input builder) so that whatever it does, the check can clean up after it:
 * each call runs in a tf.tidy, which ends its scope even when the call
 * throws, and the check learns which tensors the call created, which ones
 * it returned, and how many it left allocated besides.
 */
import { tf } from "../backend/tf";

/** A tensor found in a value, and the path to it for messages (`z1`, `online[2]`, `state.queue`). */
export interface Leaf {
  tensor: tf.Tensor;
  path: string;
}

/** How deep `tensorLeaves` looks into arrays and objects: inputs are lists of tensors, not trees. */
const MAX_DEPTH = 4;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The tensors in `value`: itself, or those inside its arrays and plain
 * objects, in order, each once, with their paths from `path`.
 *
 * @example
 * tensorLeaves([z1, [w0, w1], 0.5], "inputs"); // paths "inputs[0]", "inputs[1][0]", "inputs[1][1]"
 */
export function tensorLeaves(value: unknown, path: string, depth = 0, seen = new Set<tf.Tensor>()): Leaf[] {
  if (value instanceof tf.Tensor) {
    if (seen.has(value)) return [];
    seen.add(value);
    return [{ tensor: value, path }];
  }
  if (depth >= MAX_DEPTH) return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => tensorLeaves(v, `${path}[${i}]`, depth + 1, seen));
  if (isPlainObject(value)) return Object.entries(value).flatMap(([k, v]) => tensorLeaves(v, `${path}.${k}`, depth + 1, seen));
  return [];
}

/**
 * A tensor id to compare with: every tensor (or variable) created after this
 * call has a larger id. Ids come from one counter in the engine, which tfjs
 * does not expose, so a throwaway scalar reads it.
 *
 * @example
 * const mark = tensorIdMark();
 * const t = tf.zeros([2]); // t.id > mark
 */
export function tensorIdMark(): number {
  const probe = tf.scalar(0);
  const id = probe.id;
  probe.dispose();
  return id;
}

/**
 * Disposes the variables registered since `mark` other than `keep`: a
 * tf.tidy does not free variables, so a function that creates one and drops
 * it would otherwise leave it behind for good.
 *
 * @example
 * const mark = tensorIdMark();
 * studentFunction(x); // may call tf.variable(...)
 * disposeNewVariables(mark, []);
 */
export function disposeNewVariables(mark: number, keep: readonly tf.Tensor[]): void {
  const registered = tf.engine().registeredVariables;
  for (const name of Object.keys(registered)) {
    const v = registered[name];
    if (v.id > mark && !keep.includes(v)) v.dispose();
  }
}

/** What a tracked call did. */
export interface TrackedCall {
  /** True when the call threw; `thrown` is what it threw. */
  threw: boolean;
  thrown?: unknown;
  /** What it returned. */
  value: unknown;
  /** Tensors it created and returned (anywhere inside the value): the caller owns and disposes them. */
  created: tf.Tensor[];
  /** Tensors it created and left allocated besides what it returned (0 when it threw). */
  leaked: number;
}

/**
 * Calls `fn(...args)` inside a tf.tidy: the tensors it returns survive (those
 * it created are listed in `created` for the caller to dispose); everything
 * else it allocated is counted in `leaked`, then freed by the tidy (or, for
 * variables, disposed), so the call leaves the engine as it found it but
 * for `created`. A throw is caught and reported, never rethrown.
 *
 * @example
 * const call = callTracked(studentNtXent, [z1, z2]);
 * if (call.threw) ...; else if (call.leaked > 0) ...;
 * tf.dispose(call.created);
 */
export function callTracked(fn: (...args: never[]) => unknown, args: readonly unknown[]): TrackedCall {
  let result: TrackedCall = { threw: false, value: undefined, created: [], leaked: 0 };
  const mark = tensorIdMark();
  tf.tidy(() => {
    const before = tf.memory().numTensors;
    let value: unknown;
    try {
      value = (fn as (...a: unknown[]) => unknown)(...args);
    } catch (error) {
      result = { threw: true, thrown: error, value: undefined, created: [], leaked: 0 };
      return;
    }
    const returned = tensorLeaves(value, "").map((leaf) => leaf.tensor).filter((t) => !t.isDisposed);
    const created = returned.filter((t) => t.id > mark);
    const leaked = tf.memory().numTensors - before - created.length;
    // Kept tensors outlive the tidy; the caller disposes them explicitly.
    for (const t of created) tf.keep(t);
    result = { threw: false, value, created, leaked: Math.max(0, leaked) };
  });
  disposeNewVariables(mark, result.created);
  return result;
}

/**
 * Disposes each tensor once, skipping any already disposed (a function may
 * return its input, which is then listed twice).
 *
 * @example
 * disposeAll([...inputs, ...outputs]);
 */
export function disposeAll(tensors: Iterable<tf.Tensor>): void {
  for (const t of new Set(tensors)) if (!t.isDisposed) t.dispose();
}
