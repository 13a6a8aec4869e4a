import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { spectralContrastiveLoss } from "../../src/losses/spectral_contrastive";
import { createRng } from "../../src/data/random";
import { assertGradientsMatch, close, randomMatrix } from "./two_view_reference";

const dot = (a: number[], b: number[]): number => a.reduce((s, v, k) => s + v * b[k], 0);

/** Float64 loss with plain loops over the pairs: -2/B sum_i z1_i.z2_i + 1/(B(B-1)) sum_{i != j} (z1_i.z2_j)^2. */
function reference(z1: number[][], z2: number[][]): number {
  const b = z1.length;
  let positive = 0;
  let negative = 0;
  for (let i = 0; i < b; i++) {
    positive += dot(z1[i], z2[i]);
    for (let j = 0; j < b; j++) if (j !== i) negative += dot(z1[i], z2[j]) ** 2;
  }
  return (-2 * positive) / b + negative / (b * (b - 1));
}

test("spectralContrastiveLoss matches a float64 reference on cpu and wasm", async () => {
  await import("@tensorflow/tfjs-backend-wasm");
  const rng = createRng(3);
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    for (const [n, d] of [[2, 1], [5, 4], [16, 8], [7, 33]] as const) {
      const a = randomMatrix(rng, n, d);
      const b = randomMatrix(rng, n, d);
      const loss = spectralContrastiveLoss(tf.tensor2d(a), tf.tensor2d(b));
      const got = loss.dataSync()[0];
      const want = reference(a, b);
      assert.ok(close(got, want, 1e-5), `${backend} n=${n} d=${d}: got ${got}, want ${want}`);
      loss.dispose();
    }
  }
  await tf.setBackend("cpu");
});

test("spectralContrastiveLoss: orthonormal identical views reach -2, the minimum for unit rows", async () => {
  await tf.setBackend("cpu");
  // B one-hot rows in D >= B dimensions: every positive product 1, every negative 0.
  const eye = tf.eye(4, 6) as tf.Tensor2D;
  const loss = spectralContrastiveLoss(eye, eye);
  assert.ok(Math.abs(loss.dataSync()[0] + 2) < 1e-6);
  tf.dispose([eye, loss]);
});

test("spectralContrastiveLoss gradient matches central finite differences of the float64 reference", async () => {
  const rng = createRng(13);
  const a = randomMatrix(rng, 4, 3);
  const b = randomMatrix(rng, 4, 3);
  const h = 1e-6;
  const numeric = (which: 0 | 1): number[][] =>
    (which === 0 ? a : b).map((row, i) => row.map((_, k) => {
      const plus = [a.map((r) => [...r]), b.map((r) => [...r])];
      const minus = [a.map((r) => [...r]), b.map((r) => [...r])];
      plus[which][i][k] += h;
      minus[which][i][k] -= h;
      return (reference(plus[0], plus[1]) - reference(minus[0], minus[1])) / (2 * h);
    }));
  const want = [numeric(0), numeric(1)];
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    const x1 = tf.tensor2d(a);
    const x2 = tf.tensor2d(b);
    const grads = tf.grads((p: tf.Tensor, q: tf.Tensor) => spectralContrastiveLoss(p as tf.Tensor2D, q as tf.Tensor2D))([x1, x2]);
    assertGradientsMatch(backend, grads.map((g) => g.arraySync() as number[][]), want);
    tf.dispose([x1, x2, ...grads]);
  }
  await tf.setBackend("cpu");
});

test("spectralContrastiveLoss leaves no tensors behind and rejects bad input by name", async () => {
  await tf.setBackend("cpu");
  const z1 = tf.randomNormal([6, 5], 0, 1, "float32", 1) as tf.Tensor2D;
  const z2 = tf.randomNormal([6, 5], 0, 1, "float32", 2) as tf.Tensor2D;
  const before = tf.memory().numTensors;
  const loss = spectralContrastiveLoss(z1, z2);
  assert.equal(tf.memory().numTensors, before + 1);
  loss.dispose();
  const cases: Array<[() => unknown, RegExp]> = [
    [() => spectralContrastiveLoss(tf.zeros([4]) as unknown as tf.Tensor2D, z2), /spectralContrastiveLoss: z1 must be a float32 tensor of shape \[n,d\], got a tensor of shape \[4\]/],
    [() => spectralContrastiveLoss(z1, tf.zeros([6, 4]) as tf.Tensor2D), /spectralContrastiveLoss: z2 must be a float32 tensor of shape \[6,5\], got a tensor of shape \[6,4\]/],
    [() => spectralContrastiveLoss(z1, tf.zeros([6, 5], "int32") as tf.Tensor2D), /spectralContrastiveLoss: z2 must be a float32 tensor of shape \[6,5\], got an int32 tensor of shape \[6,5\]/],
    [() => spectralContrastiveLoss(tf.zeros([1, 5]) as tf.Tensor2D, tf.zeros([1, 5]) as tf.Tensor2D), /spectralContrastiveLoss: z1 must have at least 2 rows \(pairs i != j\) and 1 column, got a tensor of shape \[1,5\]/],
  ];
  for (const [fn, message] of cases) assert.throws(fn, message);
  tf.disposeVariables();
  tf.dispose([z1, z2]);
});
