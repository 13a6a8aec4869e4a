import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import { BATCH_NORM, BATCH_NORM_GRAD } from "../../../src/backend/kernels/batch_norm";
import { batchNormTraining } from "../../../src/models/batch_norm";
import { createRng } from "../../../src/data/random";

// The values against float64 and finite differences: test/models/batch_norm_test.ts, over both implementations.
registerTrainingKernels();

function inputs(shape: number[], seed: number) {
  const rng = createRng(seed);
  const c = shape[shape.length - 1];
  const n = shape.reduce((a, b) => a * b, 1);
  const draw = (k: number, scale = 1, shift = 0) => Float32Array.from({ length: k }, () => shift + scale * rng.normal());
  return { x: tf.tensor(draw(n, 2, 5), shape), dy: tf.tensor(draw(n), shape), gamma: tf.tensor1d(draw(c)), beta: tf.tensor1d(draw(c)) };
}

for (const backend of ["wasm", "cpu"] as const) {
  test(`${BATCH_NORM} and ${BATCH_NORM_GRAD} on ${backend} return three tensors each and leave no tensor or backend data behind`, async () => {
    await tf.setBackend(backend);
    // C = 16 takes the SIMD passes on wasm (rows in two blocks), C = 5 the plain loops.
    for (const shape of [[2, 10, 10, 16], [3, 4, 5]]) {
      const { x, dy, gamma, beta } = inputs(shape, shape.length);
      const tensors = tf.memory().numTensors;
      const data = tf.engine().backend.numDataIds();
      const forward = tf.engine().runKernel(BATCH_NORM, { x, gamma, beta }, { epsilon: 1e-3 }) as tf.Tensor[];
      assert.deepEqual(forward.map((t) => t.shape), [shape, [shape[shape.length - 1]], [shape[shape.length - 1]]]);
      const [, mean, variance] = forward;
      const backward = tf.engine().runKernel(BATCH_NORM_GRAD, { dy, x, mean, variance, gamma }, { epsilon: 1e-3 }) as tf.Tensor[];
      assert.deepEqual(backward.map((t) => t.shape), [shape, [shape[shape.length - 1]], [shape[shape.length - 1]]]);
      assert.equal(tf.memory().numTensors, tensors + 6);
      tf.dispose([...forward, ...backward]);
      assert.equal(tf.memory().numTensors, tensors);
      assert.equal(tf.engine().backend.numDataIds(), data, `[${shape}]: backend data leaked`);
      tf.dispose([x, dy, gamma, beta]);
    }
  });

  test(`batchNormTraining on ${backend} runs the two kernels, one each way`, async () => {
    await tf.setBackend(backend);
    const { x, dy, gamma, beta } = inputs([4, 3, 3, 8], 9);
    const profile = await tf.profile(() => {
      const [dx] = tf.grads((a: tf.Tensor) => {
        const r = batchNormTraining(a, gamma as tf.Tensor1D, beta as tf.Tensor1D, 1e-3);
        tf.dispose([r.mean, r.variance]);
        return tf.sum(tf.mul(r.y, dy));
      })([x]);
      dx.dispose();
    });
    const names = profile.kernels.map((k) => k.name);
    assert.equal(names.filter((n) => n === BATCH_NORM).length, 1, names.join());
    assert.equal(names.filter((n) => n === BATCH_NORM_GRAD).length, 1, names.join());
    tf.dispose([x, dy, gamma, beta]);
  });

  test(`${BATCH_NORM} and ${BATCH_NORM_GRAD} on ${backend} name the kernel, the argument and what they expected`, async () => {
    await tf.setBackend(backend);
    const tensors = tf.memory().numTensors;
    const { x, dy, gamma, beta } = inputs([6, 4], 2);
    const [vector, gamma3, rank1, xInt, dyNarrow, variance5] = [tf.ones([4]), tf.ones([3]), tf.ones([4]), tf.zeros([6, 4], "int32"), tf.ones([6, 3]), tf.ones([5])];
    const forward = (inputsMap: Record<string, tf.Tensor>, attrs: Record<string, unknown> = { epsilon: 1e-3 }) => () =>
      tf.engine().runKernel(BATCH_NORM, inputsMap, attrs as tf.NamedAttrMap);
    const backward = (inputsMap: Record<string, tf.Tensor>) => () => tf.engine().runKernel(BATCH_NORM_GRAD, inputsMap, { epsilon: 1e-3 });
    const fwd = `${BATCH_NORM} \\(${backend}\\)`, bwd = `${BATCH_NORM_GRAD} \\(${backend}\\)`;
    assert.throws(forward({ x, gamma: gamma3, beta }), new RegExp(`${fwd}: gamma must have shape \\[4\\], got \\[3\\]`));
    assert.throws(forward({ x: rank1, gamma, beta }), new RegExp(`${fwd}: x must be \\[\\.\\.\\., C\\] of rank at least 2 with at least one element, got \\[4\\]`));
    assert.throws(forward({ x: xInt, gamma, beta }), new RegExp(`${fwd}: x must be float32, got int32`));
    assert.throws(forward({ x, gamma, beta }, {}), new RegExp(`${fwd}: attribute epsilon must be a positive number, got undefined`));
    assert.throws(backward({ dy: dyNarrow, x, mean: vector, variance: vector, gamma }), new RegExp(`${bwd}: dy must have shape \\[6,4\\], got \\[6,3\\]`));
    assert.throws(backward({ dy, x, mean: vector, variance: variance5, gamma }), new RegExp(`${bwd}: variance must have shape \\[4\\], got \\[5\\]`));
    assert.throws(backward({ dy, x, variance: vector, gamma }), new RegExp(`${bwd}: input mean is required`));
    tf.dispose([x, dy, gamma, beta, vector, gamma3, rank1, xInt, dyNarrow, variance5]);
    assert.equal(tf.memory().numTensors, tensors);
  });
}
