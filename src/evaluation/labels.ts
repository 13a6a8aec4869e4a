/**
 * Class labels as the evaluation functions accept them: a `tf.Tensor1D` or
 * any array-like of integers in [0, numClasses).
 */
import { tf } from "../backend/tf";

/** Integer class labels `[n]`: a tensor or an array. */
export type Labels = tf.Tensor1D | ArrayLike<number>;

/**
 * Reads labels into an `Int32Array`, checking the length, integrality and
 * range (`numClasses`, when given). `fn` and `arg` name the caller in errors.
 *
 * @example
 * readLabels([0, 2, 1], 3, "linearProbe", "trainLabels"); // Int32Array [0, 2, 1]
 */
export function readLabels(labels: Labels, n: number, fn: string, arg: string, numClasses?: number): Int32Array {
  let values: ArrayLike<number>;
  if (labels instanceof tf.Tensor) {
    if (labels.rank !== 1) throw new Error(`${fn}: ${arg} must have shape [${n}], got [${labels.shape}]`);
    values = labels.dataSync();
  } else {
    values = labels;
  }
  if (values.length !== n) throw new Error(`${fn}: ${arg} must have shape [${n}], got [${values.length}]`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || (numClasses !== undefined && v >= numClasses)) {
      const range = numClasses !== undefined ? `[0, ${numClasses})` : "[0, inf)";
      throw new Error(`${fn}: ${arg} must hold integers in ${range}, got ${v} at index ${i}`);
    }
    out[i] = v;
  }
  return out;
}

/**
 * Accuracy overall and per class, from predicted and true labels.
 * A class absent from `truth` gets `NaN`.
 *
 * @example
 * scorePredictions(Int32Array.from([0, 1, 1]), Int32Array.from([0, 1, 0]), 2);
 * // { accuracy: 2/3, perClassAccuracy: [0.5, 1] }
 */
export function scorePredictions(
  predicted: Int32Array,
  truth: Int32Array,
  numClasses: number,
): { accuracy: number; perClassAccuracy: number[] } {
  const hits = new Array<number>(numClasses).fill(0);
  const counts = new Array<number>(numClasses).fill(0);
  let correct = 0;
  for (let i = 0; i < truth.length; i++) {
    counts[truth[i]]++;
    if (predicted[i] === truth[i]) {
      hits[truth[i]]++;
      correct++;
    }
  }
  return {
    accuracy: truth.length === 0 ? NaN : correct / truth.length,
    perClassAccuracy: counts.map((c, k) => (c === 0 ? NaN : hits[k] / c)),
  };
}
