import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels, unregisterTrainingKernels } from "../../../src/backend/kernels";
import { createRng } from "../../../src/data/random";
import { maxRelError, randomValues } from "./conv_reference";
import { onTwoThreadsThenOne } from "./wasm_route_harness";

/** Float64 reference: out[s] = sum of rows i of x (each `inner` long) with ids[i] = s. */
function segmentSumRef(x: ArrayLike<number>, ids: ArrayLike<number>, numSegments: number, inner: number): Float64Array {
  const out = new Float64Array(numSegments * inner);
  for (let i = 0; i < ids.length; i++) {
    for (let j = 0; j < inner; j++) out[ids[i] * inner + j] += x[i * inner + j];
  }
  return out;
}

interface SegmentCase {
  xShape: number[];
  idRank: number;
  numSegments: number;
}

const CASES: SegmentCase[] = [
  { xShape: [7], idRank: 1, numSegments: 3 },
  { xShape: [12, 5], idRank: 1, numSegments: 4 },
  { xShape: [6, 3, 4], idRank: 1, numSegments: 9 },
  { xShape: [4, 3, 2], idRank: 2, numSegments: 5 },
  { xShape: [1, 8], idRank: 1, numSegments: 1 },
];

function caseData(c: SegmentCase, seed: number) {
  const rng = createRng(seed);
  const size = c.xShape.reduce((a, b) => a * b, 1);
  const idShape = c.xShape.slice(0, c.idRank);
  const numIds = idShape.reduce((a, b) => a * b, 1);
  const ids = Int32Array.from({ length: numIds }, () => rng.int(c.numSegments));
  return { x: randomValues(size, rng.next), ids, idShape, inner: size / numIds };
}

const segmentSum = (x: tf.Tensor, ids: tf.Tensor, numSegments: number) =>
  tf.engine().runKernel("UnsortedSegmentSum", { x, segmentIds: ids }, { numSegments }) as tf.Tensor;

registerTrainingKernels();

for (const backend of ["wasm", "cpu"] as const) {
  test(`UnsortedSegmentSum on ${backend} matches the float64 reference (float32 and int32)`, async () => {
    await tf.setBackend(backend);
    CASES.forEach((c, k) => {
      const d = caseData(c, 10 + k);
      const ref = segmentSumRef(d.x, d.ids, c.numSegments, d.inner);
      const got = tf.tidy(() => {
        const out = segmentSum(tf.tensor(d.x, c.xShape), tf.tensor(d.ids, d.idShape, "int32"), c.numSegments);
        assert.deepEqual(out.shape, [c.numSegments, ...c.xShape.slice(c.idRank)]);
        assert.equal(out.dtype, "float32");
        return out.dataSync();
      });
      assert.ok(maxRelError(got, ref) < 1e-6, JSON.stringify(c));
      const xInt = Int32Array.from(d.x, (v) => Math.round(v * 100));
      const gotInt = tf.tidy(() => {
        const out = segmentSum(tf.tensor(xInt, c.xShape, "int32"), tf.tensor(d.ids, d.idShape, "int32"), c.numSegments);
        assert.equal(out.dtype, "int32");
        return out.dataSync();
      });
      assert.deepEqual(Array.from(gotInt), Array.from(segmentSumRef(xInt, d.ids, c.numSegments, d.inner)));
    });
  });

  test(`the gradient of an embedding lookup on ${backend} matches float64 finite differences`, async () => {
    await tf.setBackend(backend);
    const rng = createRng(3);
    const vocab = 6;
    const dim = 4;
    const table = randomValues(vocab * dim, rng.next);
    const idx = [0, 2, 2, 5, 1, 2];
    const r = randomValues(idx.length * dim, rng.next);
    // L(T) = sum over lookups i, j of T[idx[i], j] * r[i, j].
    const loss = (t: ArrayLike<number>) => idx.reduce((s, w, i) => {
      let acc = s;
      for (let j = 0; j < dim; j++) acc += t[w * dim + j] * r[i * dim + j];
      return acc;
    }, 0);
    const grad = tf.tidy(() =>
      tf.grad((t: tf.Tensor) => tf.gather(t, tf.tensor1d(idx, "int32")).mul(tf.tensor2d(r, [idx.length, dim])).sum())(
        tf.tensor2d(table, [vocab, dim]),
      ).dataSync(),
    );
    const h = 1e-3;
    for (let i = 0; i < table.length; i++) {
      const plus = Float64Array.from(table);
      const minus = Float64Array.from(table);
      plus[i] += h;
      minus[i] -= h;
      const fd = (loss(plus) - loss(minus)) / (2 * h);
      assert.ok(Math.abs(fd - grad[i]) < 1e-4, `T[${i}]: ${grad[i]} vs ${fd}`);
    }
  });

  test(`UnsortedSegmentSum on ${backend} leaves counts unchanged and rejects bad input`, async () => {
    await tf.setBackend(backend);
    const x = tf.ones([4, 3]);
    const ids = tf.tensor1d([0, 1, 1, 3], "int32");
    const bad = tf.tensor1d([0, 1, 4, 3], "int32");
    const negative = tf.tensor1d([0, -1, 1, 3], "int32");
    const short = tf.tensor1d([0, 1, 1], "int32");
    const floatIds = tf.tensor1d([0, 1, 1, 3]);
    const tensors = tf.memory().numTensors;
    const data = tf.engine().backend.numDataIds();
    const out = segmentSum(x, ids, 4);
    assert.deepEqual(Array.from(out.dataSync()), [1, 1, 1, 2, 2, 2, 0, 0, 0, 1, 1, 1]);
    assert.equal(tf.memory().numTensors, tensors + 1);
    assert.equal(tf.engine().backend.numDataIds(), data + 1);
    out.dispose();
    const where = `UnsortedSegmentSum \\(${backend}\\)`;
    assert.throws(() => segmentSum(x, bad, 4), new RegExp(`${where}: segmentIds must lie in \\[0, 4\\), got 4 at flat index 2`));
    assert.throws(() => segmentSum(x, negative, 4), new RegExp(`${where}: segmentIds must lie in \\[0, 4\\), got -1 at flat index 1`));
    assert.throws(() => segmentSum(x, short, 4), new RegExp(`${where}: segmentIds shape must be a prefix of x shape \\[4,3\\], got \\[3\\]`));
    assert.throws(() => segmentSum(x, floatIds, 4), new RegExp(`${where}: segmentIds must be int32, got float32`));
    assert.throws(() => segmentSum(x, ids, 2.5), new RegExp(`${where}: numSegments must be a non-negative integer, got 2.5`));
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(tf.engine().backend.numDataIds(), data);
    tf.dispose([x, ids, bad, negative, short, floatIds]);
  });
}

test("the cpu replacement agrees with the stock cpu UnsortedSegmentSum", async () => {
  await tf.setBackend("cpu");
  // The stock kernel mis-broadcasts ids of rank 2; tfjs documents rank-1 ids only.
  const cases = CASES.filter((c) => c.idRank === 1);
  const data = cases.map((c, k) => caseData(c, 50 + k));
  const run = () => cases.map((c, k) => tf.tidy(() =>
    segmentSum(tf.tensor(data[k].x, c.xShape), tf.tensor(data[k].ids, data[k].idShape, "int32"), c.numSegments).dataSync(),
  ));
  unregisterTrainingKernels("cpu");
  const stock = run();
  registerTrainingKernels("cpu");
  run().forEach((got, k) => assert.ok(maxRelError(got, stock[k]) < 1e-6, JSON.stringify(cases[k])));
});

test("UnsortedSegmentSum's SIMD loop (float32 rows of a multiple of 4) matches the float64 reference on wasm with 2 threads and 1", async () => {
  // Odd and even segment counts split between the threads; one segment leaves the helper none.
  const simdCases: SegmentCase[] = [
    { xShape: [300, 64], idRank: 1, numSegments: 51 },
    { xShape: [7, 2, 8], idRank: 1, numSegments: 4 },
    { xShape: [5, 3, 4], idRank: 2, numSegments: 7 },
    { xShape: [9, 4], idRank: 1, numSegments: 1 },
  ];
  await onTwoThreadsThenOne((_host, threads) => {
    simdCases.forEach((c, k) => {
      const d = caseData(c, 40 + k);
      const before = tf.memory().numTensors;
      const got = tf.tidy(() => segmentSum(tf.tensor(d.x, c.xShape), tf.tensor(d.ids, d.idShape, "int32"), c.numSegments).dataSync());
      assert.equal(tf.memory().numTensors, before);
      const err = maxRelError(got, segmentSumRef(d.x, d.ids, c.numSegments, d.inner));
      assert.ok(err < 1e-6, `${JSON.stringify(c)} on ${threads} thread(s): relative error ${err}`);
    });
  });
});
