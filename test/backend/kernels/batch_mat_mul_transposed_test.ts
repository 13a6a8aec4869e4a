import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels, unregisterTrainingKernels } from "../../../src/backend/kernels";
import { createRng } from "../../../src/data/random";
import { maxRelError, randomValues } from "./conv_reference";

/** Float64 `op(a) op(b)` for row-major `a` and `b` with the given stored shapes. */
function matMulRef(a: ArrayLike<number>, aShape: [number, number], tA: boolean, b: ArrayLike<number>, bShape: [number, number], tB: boolean): Float64Array {
  const [M, K] = tA ? [aShape[1], aShape[0]] : aShape;
  const N = tB ? bShape[0] : bShape[1];
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (tA ? a[k * M + i] : a[i * K + k]) * (tB ? b[j * K + k] : b[k * N + j]);
      out[i * N + j] = s;
    }
  }
  return out;
}

registerTrainingKernels("wasm");

test("BatchMatMul on wasm matches the float64 reference for every transpose combination and leading ones", async () => {
  await tf.setBackend("wasm");
  const rng = createRng(2);
  const [M, K, N] = [7, 5, 3];
  for (const tA of [false, true]) {
    for (const tB of [false, true]) {
      for (const lead of [[], [1], [1, 1]]) {
        const aShape: [number, number] = tA ? [K, M] : [M, K];
        const bShape: [number, number] = tB ? [N, K] : [K, N];
        const a = randomValues(M * K, rng.next);
        const b = randomValues(K * N, rng.next);
        const [got, shape] = tf.tidy(() => {
          const out = tf.engine().runKernel("BatchMatMul", { a: tf.tensor(a, [...lead, ...aShape]), b: tf.tensor(b, bShape) },
            { transposeA: tA, transposeB: tB } as unknown as tf.NamedAttrMap) as tf.Tensor;
          return [out.dataSync(), out.shape] as [Float32Array, number[]];
        });
        assert.deepEqual(shape, [...lead, M, N]);
        assert.ok(maxRelError(got, matMulRef(a, aShape, tA, b, bShape, tB)) < 1e-5, `tA=${tA} tB=${tB} lead=${lead}`);
      }
    }
  }
});

test("BatchMatMul on wasm agrees with the stock kernel on batched and transposed products and leaves counts unchanged", async () => {
  await tf.setBackend("wasm");
  const rng = createRng(4);
  const a = tf.tensor(randomValues(3 * 6 * 4, rng.next), [3, 6, 4]);
  const b = tf.tensor(randomValues(3 * 5 * 4, rng.next), [3, 5, 4]);
  const a2 = tf.tensor(randomValues(64 * 32, rng.next), [64, 32]);
  const b2 = tf.tensor(randomValues(64 * 48, rng.next), [64, 48]);
  const run = () => tf.tidy(() => [tf.matMul(a, b, false, true).dataSync(), tf.matMul(a2, b2, true, false).dataSync()]);
  unregisterTrainingKernels("wasm");
  const stock = run();
  registerTrainingKernels("wasm");
  run().forEach((got, i) => assert.ok(maxRelError(got, stock[i]) < 1e-5, `product ${i}`));
  const tensors = tf.memory().numTensors;
  const data = tf.engine().backend.numDataIds();
  const out = tf.matMul(a2, b2, true, false);
  assert.equal(tf.memory().numTensors, tensors + 1);
  assert.equal(tf.engine().backend.numDataIds(), data + 1);
  out.dispose();
  assert.throws(() => tf.engine().runKernel("BatchMatMul", { a: a2, b: b2 }, { transposeA: true, transposeB: true } as unknown as tf.NamedAttrMap),
    /BatchMatMul \(wasm\): inner dimensions of a \[64,32\] \(transposeA=true\) and b \[64,48\] \(transposeB=true\) must match/);
  assert.equal(tf.engine().backend.numDataIds(), data);
  tf.dispose([a, b, a2, b2]);
});

test("BatchMatMul on wasm computes a^T b by the SIMD loop (N or M a multiple of 4 up to 64), in blocks of rows, against float64", async () => {
  await tf.setBackend("wasm");
  const rng = createRng(6);
  // [K, M]^T [K, N]: N = 8 (K = 5000 spans three blocks of 2048 rows), M = 12 with N = 100 (the swapped loop), leading ones.
  for (const [K, M, N, lead] of [[5000, 7, 8, []], [300, 12, 100, [1]], [1, 4, 64, []], [33, 64, 4, [1, 1]]] as Array<[number, number, number, number[]]>) {
    const a = randomValues(K * M, rng.next);
    const b = randomValues(K * N, rng.next);
    const tensors = tf.memory().numTensors;
    const [got, shape] = tf.tidy(() => {
      const out = tf.engine().runKernel("BatchMatMul", { a: tf.tensor(a, [...lead, K, M]), b: tf.tensor(b, [...lead, K, N]) },
        { transposeA: true, transposeB: false } as unknown as tf.NamedAttrMap) as tf.Tensor;
      return [out.dataSync(), out.shape] as [Float32Array, number[]];
    });
    assert.equal(tf.memory().numTensors, tensors);
    assert.deepEqual(shape, [...lead, M, N]);
    assert.ok(maxRelError(got, matMulRef(a, [K, M], true, b, [K, N], false)) < 1e-5, `[${K},${M}]^T [${K},${N}]`);
  }
});

test("BatchMatMul on wasm multiplies batches of matrices by the batched SIMD loop for every transpose combination, against float64", async () => {
  await tf.setBackend("wasm");
  const rng = createRng(8);
  // Attention's shapes in small ([B, heads, T, dk]), N = 4..64; a broadcast batch and N = 6 take the stock kernel.
  for (const [lead, M, K, N, bLead] of [[[2, 3], 5, 8, 12, undefined], [[4], 7, 3, 4, undefined], [[3], 2, 1, 64, undefined], [[2], 3, 5, 6, undefined], [[3], 4, 5, 8, [1]]] as Array<[number[], number, number, number, number[] | undefined]>) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const batch = lead.reduce((x, y) => x * y, 1);
        const bBatchLead = bLead ?? lead;
        const bBatch = bBatchLead.reduce((x, y) => x * y, 1);
        const aShape: [number, number] = tA ? [K, M] : [M, K];
        const bShape: [number, number] = tB ? [N, K] : [K, N];
        const a = randomValues(batch * M * K, rng.next);
        const b = randomValues(bBatch * K * N, rng.next);
        const tensors = tf.memory().numTensors;
        const data = tf.engine().backend.numDataIds();
        const [got, shape] = tf.tidy(() => {
          const out = tf.engine().runKernel("BatchMatMul", { a: tf.tensor(a, [...lead, ...aShape]), b: tf.tensor(b, [...bBatchLead, ...bShape]) },
            { transposeA: tA, transposeB: tB } as unknown as tf.NamedAttrMap) as tf.Tensor;
          return [out.dataSync(), out.shape] as [Float32Array, number[]];
        });
        assert.equal(tf.memory().numTensors, tensors);
        assert.equal(tf.engine().backend.numDataIds(), data);
        assert.deepEqual(shape, [...lead, M, N]);
        const want = new Float64Array(batch * M * N);
        for (let i = 0; i < batch; i++) {
          const j = bBatch === 1 ? 0 : i;
          want.set(matMulRef(a.subarray(i * M * K, (i + 1) * M * K), aShape, tA, b.subarray(j * K * N, (j + 1) * K * N), bShape, tB), i * M * N);
        }
        assert.ok(maxRelError(got, want) < 1e-5, `lead ${lead} M ${M} K ${K} N ${N} tA=${tA} tB=${tB}`);
      }
    }
  }
});
