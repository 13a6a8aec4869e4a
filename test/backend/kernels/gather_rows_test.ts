import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import { createRng } from "../../../src/data/random";
import { runOn } from "./run_on";
import { restartWasm } from "./wasm_route_harness";

/** Plain-TS gather of rows: `x` `[rows, rowSize]` flat, result `[ids.length * rowSize]`. */
function gatherRowsRef(x: ArrayLike<number>, rowSize: number, ids: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < ids.length; i++) for (let c = 0; c < rowSize; c++) out.push(x[ids[i] * rowSize + c]);
  return out;
}

registerTrainingKernels("wasm");

test("GatherV2 on wasm gathers rows exactly, for float32 and int32 tables and indices of any shape", async () => {
  await tf.setBackend("wasm");
  const rng = createRng(3);
  const cases: Array<{ shape: number[]; ids: number[]; idsShape: number[] }> = [
    { shape: [20, 5], ids: [3, 0, 19, 3, 7, 7], idsShape: [6] },
    { shape: [9, 2, 3], ids: [8, 1, 4, 0], idsShape: [2, 2] },
    { shape: [4], ids: [3, 3, 0], idsShape: [3] },
    { shape: [6, 1], ids: [], idsShape: [0] },
  ];
  for (const c of cases) {
    const size = c.shape.reduce((a, b) => a * b, 1);
    const rowSize = size / c.shape[0];
    const floats = Array.from({ length: size }, () => rng.normal());
    const ints = Array.from({ length: size }, () => rng.int(1000) - 500);
    for (const [values, dtype] of [[floats, "float32"], [ints, "int32"]] as const) {
      const before = tf.memory().numTensors;
      const [got, shape] = tf.tidy(() => {
        const out = tf.gather(tf.tensor(values, c.shape, dtype), tf.tensor(c.ids, c.idsShape, "int32"));
        return [Array.from(out.dataSync()), out.shape] as [number[], number[]];
      });
      assert.equal(tf.memory().numTensors, before);
      assert.deepEqual(shape, [...c.idsShape, ...c.shape.slice(1)], JSON.stringify(c));
      const want = gatherRowsRef(dtype === "float32" ? new Float32Array(values) : values, rowSize, c.ids);
      assert.deepEqual(got, want, `${dtype} ${JSON.stringify(c)}`);
    }
  }
});

test("GatherV2 on wasm along any axis matches the cpu backend (STFT framing, middle axes), and a bad index is an error naming it", async () => {
  const rng = createRng(4);
  const cases: Array<{ shape: number[]; axis: number; ids: number[]; idsShape: number[] }> = [
    { shape: [3, 4], axis: 1, ids: [3, 0, 2], idsShape: [3] },
    { shape: [2, 10], axis: 1, ids: [0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7], idsShape: [3, 4] }, // frames of 4, hop 2
    { shape: [2, 5, 3], axis: 1, ids: [4, 4, 0], idsShape: [3] },
    { shape: [2, 3, 4], axis: -1, ids: [1, 3], idsShape: [2] },
    { shape: [2, 3, 4], axis: 2, ids: [], idsShape: [0] },
  ];
  for (const c of cases) {
    const size = c.shape.reduce((a, b) => a * b, 1);
    const floats = Array.from({ length: size }, () => rng.normal());
    const ints = Array.from({ length: size }, () => rng.int(1000) - 500);
    for (const [values, dtype] of [[floats, "float32"], [ints, "int32"]] as const) {
      const f = () => tf.gather(tf.tensor(values, c.shape, dtype), tf.tensor(c.ids, c.idsShape, "int32"), c.axis);
      assert.deepEqual(await runOn("wasm", f, `${dtype} ${JSON.stringify(c)}`), await runOn("cpu", f, `${dtype} ${JSON.stringify(c)}`), `${dtype} ${JSON.stringify(c)}`);
    }
  }
  await tf.setBackend("wasm");
  const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const before = tf.memory().numTensors;
  assert.throws(
    () => tf.tidy(() => tf.gather(tf.tensor(x, [3, 4]), tf.tensor1d([0, 3], "int32")).dataSync()),
    /GatherV2 \(wasm\): indices\[1\] = 3 is not in \[0, 2\]/,
  );
  assert.throws(
    () => tf.tidy(() => tf.gather(tf.tensor(x, [3, 4]), tf.tensor1d([4], "int32"), 1).dataSync()),
    /GatherV2 \(wasm\): indices\[0\] = 4 is not in \[0, 3\]/,
  );
  assert.equal(tf.memory().numTensors, before);
});

test("the embedding gradient through the fast gather matches the cpu backend", async () => {
  const grad = () =>
    tf.tidy(() => {
      const table = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
      const ids = tf.tensor1d([2, 0, 2, 3], "int32");
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]))))(table);
      return Array.from(g.dataSync());
    });
  await tf.setBackend("cpu");
  const want = grad();
  await tf.setBackend("wasm");
  assert.deepEqual(grad(), want);
});

test("GatherV2 on the threaded build (shared memory) gathers rows and single values like the cpu backend", async () => {
  const rng = createRng(6);
  const cases: Array<{ shape: number[]; axis: number; ids: number[] }> = [
    { shape: [7, 3], axis: 0, ids: [6, 0, 6, 2] },
    { shape: [3, 12], axis: 1, ids: [0, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 11] },
  ];
  try {
    restartWasm(true);
    for (const c of cases) {
      const values = Array.from({ length: c.shape[0] * c.shape[1] }, () => rng.normal());
      const f = () => tf.gather(tf.tensor(values, c.shape), tf.tensor1d(c.ids, "int32"), c.axis);
      assert.deepEqual(await runOn("wasm", f, JSON.stringify(c)), await runOn("cpu", f, JSON.stringify(c)), JSON.stringify(c));
    }
  } finally {
    restartWasm(false);
  }
});
