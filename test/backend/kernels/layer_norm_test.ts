import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels, unregisterTrainingKernels } from "../../../src/backend/kernels";
import { LAYER_NORM, LAYER_NORM_GRAD } from "../../../src/backend/kernels/layer_norm";
import { createLayerNorm } from "../../../src/models/transformer";
import { createRng } from "../../../src/data/random";

/** Float64 layer normalization of rows of `d` values and the scalar sum(y * w). */
function reference(x: Float64Array, d: number, gain: Float64Array, bias: Float64Array, eps: number, w: Float64Array): { y: Float64Array; loss: number } {
  const y = new Float64Array(x.length);
  for (let o = 0; o < x.length; o += d) {
    let mean = 0;
    for (let j = 0; j < d; j++) mean += x[o + j] / d;
    let variance = 0;
    for (let j = 0; j < d; j++) variance += (x[o + j] - mean) ** 2 / d;
    for (let j = 0; j < d; j++) y[o + j] = ((x[o + j] - mean) / Math.sqrt(variance + eps)) * gain[j] + bias[j];
  }
  return { y, loss: y.reduce((s, v, i) => s + v * w[i], 0) };
}

const SHAPES = [[2, 4, 5], [3, 7], [1, 1, 6], [2, 3, 64]];
const PATHS = [
  { name: "composed ops", use: () => unregisterTrainingKernels() },
  { name: "LayerNorm kernels", use: () => registerTrainingKernels() },
];

for (const path of PATHS) {
  test(`createLayerNorm (${path.name}) matches float64 values and central differences of x, gain and bias on cpu and wasm`, async () => {
    path.use();
    for (const backend of ["cpu", "wasm"] as const) {
      await tf.setBackend(backend);
      assert.equal(tf.getKernel(LAYER_NORM, backend) != null, path === PATHS[1]);
      SHAPES.forEach((shape, k) => {
        const rng = createRng(30 + k);
        const d = shape[shape.length - 1];
        const n = shape.reduce((a, b) => a * b, 1);
        const draw = (m: number, scale: number, shift = 0) => Float64Array.from({ length: m }, () => shift + scale * rng.normal());
        const x = draw(n, 2, 3), w = draw(n, 1), gain = draw(d, 0.5, 1), bias = draw(d, 0.5);
        const ln = createLayerNorm({ dim: d, epsilon: 1e-3 });
        ln.gain.assign(tf.tensor1d(Float32Array.from(gain)));
        ln.bias.assign(tf.tensor1d(Float32Array.from(bias)));
        const before = tf.memory().numTensors;
        const xt = tf.tensor(Float32Array.from(x), shape), wt = tf.tensor(Float32Array.from(w), shape);
        const y = tf.tidy(() => ln.apply(xt).dataSync());
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(ln.apply(xt), wt)) as tf.Scalar, [ln.gain, ln.bias]);
        const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(ln.apply(a), wt)))(xt);
        const [dxv, dg, db] = [dx.dataSync(), grads[ln.gain.name].dataSync(), grads[ln.bias.name].dataSync()];
        tf.dispose([value, dx, xt, wt, ...Object.values(grads)]);
        assert.equal(tf.memory().numTensors, before, `${backend} [${shape}]: tensors leaked`);
        ln.dispose();
        const want = reference(x, d, gain, bias, 1e-3, w);
        y.forEach((v, i) => assert.ok(Math.abs(v - want.y[i]) <= 1e-4 * (1 + Math.abs(want.y[i])), `${backend} [${shape}] y[${i}] ${v} vs ${want.y[i]}`));
        const h = 1e-6;
        const central = (f: (e: number) => number) => (f(h) - f(-h)) / (2 * h);
        const bump = (a: Float64Array, i: number, e: number) => a.map((v, j) => (j === i ? v + e : v));
        const check = (what: string, got: number, expected: number) =>
          assert.ok(Math.abs(got - expected) <= 1e-3 * (1 + Math.abs(expected)), `${backend} [${shape}] ${what}: ${got} vs ${expected}`);
        for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 40))) check(`dx[${i}]`, dxv[i], central((e) => reference(bump(x, i, e), d, gain, bias, 1e-3, w).loss));
        for (let j = 0; j < d; j++) {
          check(`dgain[${j}]`, dg[j], central((e) => reference(x, d, bump(gain, j, e), bias, 1e-3, w).loss));
          check(`dbias[${j}]`, db[j], central((e) => reference(x, d, gain, bump(bias, j, e), 1e-3, w).loss));
        }
      });
    }
  });
}

for (const backend of ["wasm", "cpu"] as const) {
  test(`${LAYER_NORM} and ${LAYER_NORM_GRAD} on ${backend}: one each way per layer, no tensor or backend data left behind, errors that name the argument`, async () => {
    registerTrainingKernels();
    await tf.setBackend(backend);
    const ln = createLayerNorm({ dim: 8 });
    const x = tf.randomNormal([4, 3, 8], 0, 1, "float32", 2);
    const profile = await tf.profile(() => {
      const dx = tf.grad((a: tf.Tensor) => tf.sum(ln.apply(a)))(x);
      dx.dispose();
    });
    const names = profile.kernels.map((k) => k.name);
    assert.deepEqual([names.filter((k) => k === LAYER_NORM).length, names.filter((k) => k === LAYER_NORM_GRAD).length], [1, 1], names.join());
    const tensors = tf.memory().numTensors;
    const data = tf.engine().backend.numDataIds();
    const [y, mean, invStd] = tf.engine().runKernel(LAYER_NORM, { x, gain: ln.gain, bias: ln.bias }, { epsilon: 1e-5 }) as tf.Tensor[];
    assert.deepEqual([y.shape, mean.shape, invStd.shape], [[4, 3, 8], [12], [12]]);
    const grads = tf.engine().runKernel(LAYER_NORM_GRAD, { dy: y, x, mean, invStd, gain: ln.gain }) as tf.Tensor[];
    assert.deepEqual(grads.map((t) => t.shape), [[4, 3, 8], [8], [8]]);
    tf.dispose([y, mean, invStd, ...grads]);
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(tf.engine().backend.numDataIds(), data);
    const [gain5, rows7, xInt] = [tf.ones([5]), tf.ones([7]), tf.zeros([4, 3, 8], "int32")];
    const where = (k: string) => `${k} \\(${backend}\\)`;
    assert.throws(() => tf.engine().runKernel(LAYER_NORM, { x, gain: gain5, bias: ln.bias }, { epsilon: 1e-5 }), new RegExp(`${where(LAYER_NORM)}: gain must have shape \\[8\\], got \\[5\\]`));
    assert.throws(() => tf.engine().runKernel(LAYER_NORM, { x: xInt, gain: ln.gain, bias: ln.bias }, { epsilon: 1e-5 }), new RegExp(`${where(LAYER_NORM)}: x must be float32, got int32`));
    assert.throws(() => tf.engine().runKernel(LAYER_NORM, { x, gain: ln.gain, bias: ln.bias }, {}), new RegExp(`${where(LAYER_NORM)}: attribute epsilon must be a positive number, got undefined`));
    assert.throws(() => tf.engine().runKernel(LAYER_NORM_GRAD, { dy: x, x, mean: rows7, invStd: rows7, gain: ln.gain }), new RegExp(`${where(LAYER_NORM_GRAD)}: mean must have shape \\[12\\], got \\[7\\]`));
    tf.dispose([x, gain5, rows7, xInt]);
    ln.dispose();
    assert.equal(tf.memory().numTensors, tensors - 3);
  });
}
