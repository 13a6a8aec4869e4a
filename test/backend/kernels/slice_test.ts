import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import { sliceInto } from "../../../src/backend/kernels/slice";
import { createRng } from "../../../src/data/random";
import { runOn } from "./run_on";

/** Plain-TS slice: every output multi-index i reads input at begin + i. */
function sliceRef(x: ArrayLike<number>, shape: number[], begin: number[], size: number[]): number[] {
  const total = size.reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let flat = 0; flat < total; flat++) {
    let rest = flat;
    let src = 0;
    let stride = 1;
    const index: number[] = [];
    for (let a = size.length - 1; a >= 0; a--) {
      index[a] = rest % size[a];
      rest = Math.floor(rest / size[a]);
    }
    for (let a = shape.length - 1; a >= 0; a--) {
      src += (begin[a] + index[a]) * stride;
      stride *= shape[a];
    }
    out.push(x[src]);
  }
  return out;
}

registerTrainingKernels("wasm");

const CASES: Array<{ shape: number[]; begin: number[]; size: number[] }> = [
  { shape: [8, 3, 3, 2], begin: [0, 0, 0, 0], size: [4, 3, 3, 2] }, // half a batch: one run
  { shape: [8, 3, 3, 2], begin: [4, 0, 0, 0], size: [4, 3, 3, 2] },
  { shape: [5, 7], begin: [1, 2], size: [3, 4] },
  { shape: [5, 7], begin: [0, 6], size: [5, 1] },
  { shape: [4, 33], begin: [0, 1], size: [4, 32] }, // a language model's targets
  { shape: [9], begin: [2], size: [5] },
  { shape: [2, 3, 4, 5, 6], begin: [1, 0, 1, 0, 0], size: [1, 3, 2, 5, 6] },
  { shape: [3, 4], begin: [1, 0], size: [0, 4] },
];

test("sliceInto matches the definition of tf.slice on every case", () => {
  const rng = createRng(1);
  for (const c of CASES) {
    const x = Float32Array.from({ length: c.shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
    const out = new Float32Array(c.size.reduce((a, b) => a * b, 1));
    sliceInto(x, c.shape, c.begin, c.size, out);
    assert.deepEqual(Array.from(out), sliceRef(x, c.shape, c.begin, c.size), JSON.stringify(c));
  }
});

test("Slice on wasm equals the cpu backend for float32, int32 and bool, with size -1, and leaks nothing", async () => {
  const rng = createRng(2);
  const cases = [...CASES, { shape: [6, 5], begin: [2, 1], size: [-1, 3] }];
  for (const c of cases) {
    const total = c.shape.reduce((a, b) => a * b, 1);
    const floats = Array.from({ length: total }, () => rng.normal());
    const ints = Array.from({ length: total }, () => rng.int(1000) - 500);
    const bools = Array.from({ length: total }, () => rng.int(2));
    for (const [values, dtype] of [[floats, "float32"], [ints, "int32"], [bools, "bool"]] as const) {
      const f = () => tf.slice(tf.tensor(values, c.shape, dtype), c.begin, c.size);
      assert.deepEqual(await runOn("wasm", f, `${dtype} ${JSON.stringify(c)}`), await runOn("cpu", f, `${dtype} ${JSON.stringify(c)}`), `${dtype} ${JSON.stringify(c)}`);
    }
  }
});

test("Slice's gradient on wasm matches the cpu backend", async () => {
  const grad = async (backend: string) => {
    await tf.setBackend(backend);
    return tf.tidy(() => {
      const w = tf.randomNormal([3, 4], 0, 1, "float32", 5);
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.slice(x, [1, 2, 0], [2, 3, 4]), w)))(tf.randomNormal([4, 6, 4], 0, 1, "float32", 6));
      return Array.from(g.dataSync());
    });
  };
  assert.deepEqual(await grad("wasm"), await grad("cpu"));
});

test("Slice on wasm refuses a box outside x", async () => {
  await tf.setBackend("wasm");
  const x = tf.ones([2, 3]);
  assert.throws(() => tf.slice(x, [1, 1], [2, 2]));
  x.dispose();
});
