import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels, unregisterTrainingKernels } from "../../../src/backend/kernels";
import { leadingAxesCount } from "../../../src/backend/kernels/sum_leading_axes";
import { createRng } from "../../../src/data/random";
import { maxRelError, randomValues } from "./conv_reference";

/** Float64 sum of `x` over its first `k` axes. */
function sumLeadingRef(x: ArrayLike<number>, shape: number[], k: number): Float64Array {
  const cols = shape.slice(k).reduce((a, b) => a * b, 1);
  const out = new Float64Array(cols);
  for (let i = 0; i < x.length; i++) out[i % cols] += x[i];
  return out;
}

test("leadingAxesCount recognises exactly the reductions over leading axes", () => {
  assert.equal(leadingAxesCount([0, 1, 2], 4), 3);
  assert.equal(leadingAxesCount([2, 0, 1], 4), 3);
  assert.equal(leadingAxesCount([-4, -3], 4), 2);
  assert.equal(leadingAxesCount(0, 2), 1);
  assert.equal(leadingAxesCount([0, 2], 4), 0);
  assert.equal(leadingAxesCount([1, 2], 4), 0);
  assert.equal(leadingAxesCount([0, 1, 2, 3], 4), 0, "a full reduction is the stock kernel's fast case");
  assert.equal(leadingAxesCount([0, 0], 3), 0);
  assert.equal(leadingAxesCount(undefined, 3), 0);
});

registerTrainingKernels();

const CASES: Array<{ shape: number[]; axis: number | number[]; keepDims: boolean }> = [
  { shape: [4, 5, 3, 6], axis: [0, 1, 2], keepDims: false },
  { shape: [4, 5, 3, 6], axis: [1, 0], keepDims: true },
  { shape: [7, 3], axis: 0, keepDims: false },
  { shape: [2, 3, 4], axis: [-3], keepDims: false },
  // Not leading axes: the stock kernel runs.
  { shape: [4, 5, 6], axis: [1, 2], keepDims: false },
  { shape: [4, 5, 6], axis: [0, 2], keepDims: true },
  { shape: [4, 5, 6], axis: [0, 1, 2], keepDims: false },
];

/** The two reductions with the fast path: the op, and its float64 reference from column sums over `rows`. */
const OPS = [
  { name: "Sum", op: tf.sum, fromSum: (sum: Float64Array) => sum },
  { name: "Mean", op: tf.mean, fromSum: (sum: Float64Array, rows: number) => sum.map((v) => v / rows) },
] as const;

for (const backend of ["wasm", "cpu"] as const) {
  for (const { name, op, fromSum } of OPS) {
    test(`${name} on ${backend} with leading axes matches the float64 reference; other reductions match tf's own`, async () => {
      await tf.setBackend(backend);
      const rng = createRng(5);
      for (const c of CASES) {
        const x = randomValues(c.shape.reduce((a, b) => a * b, 1), rng.next);
        const [got, shape] = tf.tidy(() => {
          const out = op(tf.tensor(x, c.shape), c.axis, c.keepDims);
          return [out.dataSync(), out.shape] as [Float32Array, number[]];
        });
        const k = leadingAxesCount(c.axis, c.shape.length);
        if (k > 0) {
          const rows = c.shape.slice(0, k).reduce((a, b) => a * b, 1);
          assert.ok(maxRelError(got, fromSum(sumLeadingRef(x, c.shape, k), rows)) < 1e-6, JSON.stringify(c));
          assert.deepEqual(shape, c.keepDims ? [...new Array(k).fill(1), ...c.shape.slice(k)] : c.shape.slice(k));
        } else {
          // Stock path: compare with a float64 reduction over the transposed layout.
          const axes = (Array.isArray(c.axis) ? c.axis : [c.axis]).map((a) => (a < 0 ? a + c.shape.length : a));
          const kept = c.shape.map((_, i) => i).filter((i) => !axes.includes(i));
          const perm = [...axes, ...kept];
          const transposed = tf.tidy(() => tf.tensor(x, c.shape).transpose(perm));
          const rows = axes.reduce((a, i) => a * c.shape[i], 1);
          const ref = fromSum(sumLeadingRef(transposed.dataSync(), perm.map((p) => c.shape[p]), axes.length), rows);
          transposed.dispose();
          assert.ok(maxRelError(got, ref) < 1e-6, JSON.stringify(c));
        }
      }
    });

    test(`${name} on ${backend} agrees with the stock kernel, treats int32 as tf does, and leaves counts unchanged`, async () => {
      await tf.setBackend(backend);
      const x = tf.tensor(randomValues(3 * 4 * 5 * 6, createRng(8).next), [3, 4, 5, 6]);
      const xi = tf.tensor([1, 2, 3, 4, 5, 6], [3, 2], "int32");
      unregisterTrainingKernels(backend);
      const stock = tf.tidy(() => op(x, [0, 1, 2]).dataSync());
      registerTrainingKernels(backend);
      const tensors = tf.memory().numTensors;
      const data = tf.engine().backend.numDataIds();
      const out = op(x, [0, 1, 2]);
      assert.equal(tf.memory().numTensors, tensors + 1);
      assert.equal(tf.engine().backend.numDataIds(), data + 1);
      assert.ok(maxRelError(out.dataSync(), stock) < 1e-6);
      out.dispose();
      const si = op(xi, 0);
      // int32 [1 2; 3 4; 5 6]: Sum stays int32 (column sums 9, 12); tf.mean gives float32 (3, 4).
      assert.equal(si.dtype, name === "Sum" ? "int32" : "float32");
      assert.deepEqual(Array.from(si.dataSync()), name === "Sum" ? [9, 12] : [3, 4]);
      tf.dispose([x, xi, si]);
    });
  }
}
