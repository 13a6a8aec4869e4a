import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import { tileInto } from "../../../src/backend/kernels/tile";
import { createRng } from "../../../src/data/random";
import { runOn } from "./run_on";

/** Plain-TS tile: output element at multi-index i reads input at i mod shape. */
function tileRef(x: ArrayLike<number>, shape: number[], reps: number[]): number[] {
  const outShape = shape.map((s, a) => s * reps[a]);
  const size = outShape.reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let flat = 0; flat < size; flat++) {
    let rest = flat;
    let src = 0;
    let stride = 1;
    const index: number[] = [];
    for (let a = outShape.length - 1; a >= 0; a--) {
      index[a] = rest % outShape[a];
      rest = Math.floor(rest / outShape[a]);
    }
    for (let a = shape.length - 1; a >= 0; a--) {
      src += (index[a] % shape[a]) * stride;
      stride *= shape[a];
    }
    out.push(x[src]);
  }
  return out;
}

registerTrainingKernels("wasm");

const CASES: Array<{ shape: number[]; reps: number[] }> = [
  { shape: [1, 1, 1, 5], reps: [3, 4, 2, 1] }, // BatchNorm's gradient
  { shape: [2, 3], reps: [2, 3] },
  { shape: [4, 1], reps: [1, 6] },
  { shape: [3], reps: [5] },
  { shape: [2, 1, 3], reps: [1, 7, 1] },
  { shape: [2, 2, 2, 2, 2], reps: [1, 2, 1, 3, 2] },
  { shape: [3, 2], reps: [0, 2] },
  { shape: [1], reps: [1] },
];

test("tileInto matches the definition of tf.tile on every case", () => {
  const rng = createRng(1);
  for (const c of CASES) {
    const x = Float32Array.from({ length: c.shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
    const out = new Float32Array(c.shape.reduce((a, s, i) => a * s * c.reps[i], 1));
    tileInto(x, c.shape, c.reps, out);
    assert.deepEqual(Array.from(out), tileRef(x, c.shape, c.reps), JSON.stringify(c));
  }
});

test("Tile on wasm equals the cpu backend for float32, int32 and bool, and leaks nothing", async () => {
  const rng = createRng(2);
  for (const c of CASES) {
    const size = c.shape.reduce((a, b) => a * b, 1);
    const floats = Array.from({ length: size }, () => rng.normal());
    const ints = Array.from({ length: size }, () => rng.int(1000) - 500);
    const bools = Array.from({ length: size }, () => rng.int(2));
    for (const [values, dtype] of [[floats, "float32"], [ints, "int32"], [bools, "bool"]] as const) {
      const f = () => tf.tile(tf.tensor(values, c.shape, dtype), c.reps);
      assert.deepEqual(await runOn("wasm", f, `${dtype} ${JSON.stringify(c)}`), await runOn("cpu", f, `${dtype} ${JSON.stringify(c)}`), `${dtype} ${JSON.stringify(c)}`);
    }
  }
});

test("BatchNorm's gradient on wasm (which tiles) matches the cpu backend", async () => {
  const grads = async (backend: string) => {
    await tf.setBackend(backend);
    return tf.tidy(() => {
      const x = tf.randomNormal([4, 3, 3, 5], 0, 1, "float32", 1);
      const scale = tf.randomUniform([5], 0.5, 1.5, "float32", 2);
      const offset = tf.randomNormal([5], 0, 1, "float32", 3);
      const weights = tf.randomNormal([4, 3, 3, 5], 0, 1, "float32", 4);
      const f = (a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
        const { mean, variance } = tf.moments(a, [0, 1, 2]);
        return tf.sum(tf.mul(tf.batchNorm(a, mean, variance, o, s, 1e-5), weights));
      };
      return tf.grads(f)([x, scale, offset]).map((g) => Array.from(g.dataSync()));
    });
  };
  const wasm = await grads("wasm");
  const cpu = await grads("cpu");
  wasm.forEach((g, i) => g.forEach((v, k) => assert.ok(Math.abs(v - cpu[i][k]) < 1e-4, `grad ${i}[${k}]: ${v} vs ${cpu[i][k]}`)));
});

test("Tile on wasm names reps that do not fit x", async () => {
  await tf.setBackend("wasm");
  const kernel = tf.getKernel("Tile", "wasm")!;
  const x = tf.ones([2, 3]);
  assert.throws(
    () => kernel.kernelFunc({ inputs: { x }, backend: tf.backend(), attrs: { reps: [2] } }),
    /Tile \(wasm\): reps must hold 2 non-negative integers \(one per axis of x \[2,3\]\), got \[2\]/,
  );
  x.dispose();
});
