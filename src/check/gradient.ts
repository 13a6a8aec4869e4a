/**
 * Gradients of a checked function with respect to its float32 tensor
 * inputs, computed the same way for the student's function and the
 * reference so the two can be compared element by element.
 */
import { tf } from "../backend/tf";
import { createRng } from "../data/random";
import { disposeNewVariables, tensorIdMark, type Leaf, tensorLeaves } from "./call";
import { readOutputs } from "./outputs";

/**
 * The inputs a check differentiates: the float32 tensors among `inputs`
 * (nested ones included), named by `names`. Variables are left out: in an
 * exercise they are state the function updates, not what a loss is
 * differentiated by.
 *
 * @example
 * differentiableLeaves([z1, z2, 0.5], ["z1", "z2"]); // leaves named "z1" and "z2"
 */
export function differentiableLeaves(inputs: readonly unknown[], names: readonly string[]): Leaf[] {
  return inputs.flatMap((input, i) =>
    tensorLeaves(input, names[i]).filter((leaf) => leaf.tensor.dtype === "float32" && !(leaf.tensor instanceof tf.Variable)),
  );
}

/**
 * Fixed random weights that turn outputs of these shapes into one scalar,
 * sum_k sum(output_k * weight_k), so that a non-scalar output's gradient
 * tests every element with a different weight (a plain sum would miss a
 * mistake that only permutes elements). A single scalar output needs none:
 * `[null]`. Seeded by `seed`, so the student and the reference get the same.
 * The caller disposes the tensors.
 *
 * Shapes: `shapes[k]` -> a float32 tensor of shape `shapes[k]`.
 *
 * @example
 * const weights = gradientWeights([[8, 4]], 0); // one [8,4] tensor
 */
export function gradientWeights(shapes: readonly number[][], seed: number): Array<tf.Tensor | null> {
  if (shapes.length === 1 && shapes[0].length === 0) return [null];
  const rng = createRng(0x9e3779b9 ^ seed);
  return shapes.map((shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return tf.tensor(Float32Array.from({ length: size }, () => rng.normal()), shape, "float32");
  });
}

/** `fn(...args)`'s outputs as one scalar: each output times its weight, summed. */
function weightedSum(value: unknown, weights: readonly (tf.Tensor | null)[]): tf.Scalar {
  const outputs = readOutputs(value);
  if (outputs === undefined || outputs.parts.length !== weights.length || outputs.kind === "number" || outputs.kind === "numbers") {
    throw new Error("under tf.grads it returned something other than the tensors it returned before");
  }
  const terms = outputs.parts.map((part, k) => {
    const t = tf.cast(part as tf.Tensor, "float32");
    const w = weights[k];
    return w === null ? tf.sum(t) : tf.sum(tf.mul(t, w));
  });
  return (terms.length === 1 ? terms[0] : tf.addN(terms)) as tf.Scalar;
}

/**
 * tfjs keeps clones of the tensors a gradient needs on its tape and frees
 * them at the end of a successful pass; when the function (or a custom
 * gradient) throws, they stay. Freeing them as tfjs would keeps a failing
 * check from leaking.
 */
function clearTape(): void {
  const state = tf.engine().state;
  if (state.gradientDepth !== 0 || state.activeTape == null) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
  (state as { activeTape: unknown }).activeTape = null;
}

/** Gradients of one function, or what stopped them. */
export interface GradientResult {
  /** True when differentiating threw; `thrown` is what it threw. */
  threw: boolean;
  thrown?: unknown;
  /** One per leaf; null where no gradient flows back (the output does not depend on that input through tf ops). */
  grads: Array<tf.Tensor | null>;
}

/**
 * Gradients of the weighted sum of `fn(...args)`'s outputs with respect to
 * each of `leaves` (tensors inside `args`). Everything the function
 * allocates is freed; the caller disposes the returned gradients. A throw
 * is caught and reported.
 *
 * @example
 * const { grads } = gradientsOf(losses.ntXentLoss, [z1, z2], differentiableLeaves([z1, z2], ["z1", "z2"]), [null]);
 */
export function gradientsOf(
  fn: (...args: never[]) => unknown,
  args: readonly unknown[],
  leaves: readonly Leaf[],
  weights: readonly (tf.Tensor | null)[],
): GradientResult {
  const mark = tensorIdMark();
  try {
    const grads = tf.tidy(() => {
      const f = () => weightedSum((fn as (...a: unknown[]) => unknown)(...args), weights);
      // allowNoGradients: an input the output does not depend on gets null, not a throw.
      return tf.engine().gradients(f, leaves.map((leaf) => leaf.tensor), undefined, true).grads;
    });
    const found = grads.map((g) => g ?? null);
    disposeNewVariables(mark, []);
    return { threw: false, grads: found };
  } catch (error) {
    clearTape();
    disposeNewVariables(mark, []);
    return { threw: true, thrown: error, grads: [] };
  }
}
