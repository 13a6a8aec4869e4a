import { test } from "node:test";
import assert from "node:assert/strict";
import "@tensorflow/tfjs-backend-wasm";
import { tf } from "../../src/backend/tf";
import { ntXentLoss } from "../../src/losses/nt_xent";
import { createRng } from "../../src/data/random";
import { assertGradientsMatch, randomMatrix } from "./two_view_reference";

/** Float64 NT-Xent straight from the SimCLR paper's equation, plain loops. */
function referenceNtXent(z1: number[][], z2: number[][], tau: number): number {
  const z = [...z1, ...z2].map((row) => {
    const norm = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
    return row.map((v) => v / Math.max(norm, 1e-12));
  });
  const m = z.length;
  const n = m / 2;
  const dot = (a: number[], b: number[]) => a.reduce((s, v, k) => s + v * b[k], 0);
  let total = 0;
  for (let i = 0; i < m; i++) {
    const pos = (i + n) % m;
    let denom = 0;
    for (let j = 0; j < m; j++) if (j !== i) denom += Math.exp(dot(z[i], z[j]) / tau);
    total += -Math.log(Math.exp(dot(z[i], z[pos]) / tau) / denom);
  }
  return total / m;
}

test("ntXentLoss matches a float64 reference on cpu and wasm", async () => {
  const rng = createRng(7);
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    for (const [n, d, tau] of [[1, 3, 0.5], [4, 8, 0.5], [16, 5, 0.1], [9, 64, 1.0]] as const) {
      const a = randomMatrix(rng, n, d);
      const b = randomMatrix(rng, n, d);
      const loss = ntXentLoss(tf.tensor2d(a), tf.tensor2d(b), { temperature: tau });
      const got = loss.dataSync()[0];
      const want = referenceNtXent(a, b, tau);
      assert.ok(
        Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)),
        `${backend} n=${n} d=${d} tau=${tau}: got ${got}, want ${want}`,
      );
      tf.dispose(loss);
    }
  }
  tf.disposeVariables();
});

test("ntXentLoss is log(2N-1) when all rows are equal, and scale-invariant", async () => {
  await tf.setBackend("cpu");
  const n = 5;
  const same = tf.ones([n, 4]) as tf.Tensor2D;
  const loss = ntXentLoss(same, same);
  assert.ok(Math.abs(loss.dataSync()[0] - Math.log(2 * n - 1)) < 1e-5);
  const rng = createRng(3);
  const a = tf.tensor2d(randomMatrix(rng, n, 6));
  const b = tf.tensor2d(randomMatrix(rng, n, 6));
  const l1 = ntXentLoss(a, b).dataSync()[0];
  const l2 = ntXentLoss(a.mul(7) as tf.Tensor2D, b.mul(0.01) as tf.Tensor2D).dataSync()[0];
  assert.ok(Math.abs(l1 - l2) < 1e-5, `${l1} vs ${l2}`);
  tf.dispose([same, loss, a, b]);
});

test("ntXentLoss gradient matches central finite differences of the float64 reference", async () => {
  const rng = createRng(11);
  const n = 3;
  const d = 4;
  const tau = 0.5;
  const a = randomMatrix(rng, n, d);
  const b = randomMatrix(rng, n, d);
  const h = 1e-6;
  const numeric = (which: 0 | 1): number[][] =>
    (which === 0 ? a : b).map((row, i) =>
      row.map((_, k) => {
        const plus = [a.map((r) => [...r]), b.map((r) => [...r])];
        const minus = [a.map((r) => [...r]), b.map((r) => [...r])];
        plus[which][i][k] += h;
        minus[which][i][k] -= h;
        return (referenceNtXent(plus[0], plus[1], tau) - referenceNtXent(minus[0], minus[1], tau)) / (2 * h);
      }),
    );
  const want = [numeric(0), numeric(1)];
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    const x1 = tf.tensor2d(a);
    const x2 = tf.tensor2d(b);
    const grads = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
      ntXentLoss(p as tf.Tensor2D, q as tf.Tensor2D, { temperature: tau }),
    )([x1, x2]);
    assertGradientsMatch(backend, grads.map((g) => g.arraySync() as number[][]), want);
    tf.dispose([x1, x2, ...grads]);
  }
});

test("ntXentLoss gradient is finite on an all-zero row", async () => {
  await tf.setBackend("cpu");
  const z1 = tf.tensor2d([[0, 0, 0], [1, 2, 3]]);
  const z2 = tf.tensor2d([[1, 0, 0], [0, 1, 0]]);
  const g = tf.grad((x: tf.Tensor) => ntXentLoss(x as tf.Tensor2D, z2))(z1);
  assert.ok(Array.from(g.dataSync()).every(Number.isFinite));
  tf.dispose([z1, z2, g]);
});

test("ntXentLoss leaves no tensors behind", async () => {
  await tf.setBackend("cpu");
  const z1 = tf.randomNormal([6, 5], 0, 1, "float32", 1) as tf.Tensor2D;
  const z2 = tf.randomNormal([6, 5], 0, 1, "float32", 2) as tf.Tensor2D;
  const before = tf.memory().numTensors;
  const loss = ntXentLoss(z1, z2);
  assert.equal(tf.memory().numTensors, before + 1);
  loss.dispose();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([z1, z2]);
});

test("ntXentLoss rejects bad input with named errors", async () => {
  await tf.setBackend("cpu");
  const ok = tf.zeros([4, 3]) as tf.Tensor2D;
  const cases: Array<[() => unknown, RegExp]> = [
    [() => ntXentLoss(tf.zeros([4]) as unknown as tf.Tensor2D, ok), /ntXentLoss: z1 must be a float32 tensor of shape \[n,d\], got a tensor of shape \[4\]/],
    [() => ntXentLoss(ok, tf.zeros([4, 3, 1]) as unknown as tf.Tensor2D), /ntXentLoss: z2 must be a float32 tensor of shape \[4,3\], got a tensor of shape \[4,3,1\]/],
    [() => ntXentLoss(ok, tf.zeros([5, 3]) as tf.Tensor2D), /ntXentLoss: z2 must be a float32 tensor of shape \[4,3\], got a tensor of shape \[5,3\]/],
    [() => ntXentLoss(ok, tf.zeros([4, 2]) as tf.Tensor2D), /ntXentLoss: z2 must be a float32 tensor of shape \[4,3\], got a tensor of shape \[4,2\]/],
    [() => ntXentLoss(ok, tf.zeros([4, 3], "int32") as tf.Tensor2D), /ntXentLoss: z2 must be a float32 tensor of shape \[4,3\], got an int32 tensor of shape \[4,3\]/],
    [() => ntXentLoss(tf.zeros([0, 3]) as tf.Tensor2D, tf.zeros([0, 3]) as tf.Tensor2D), /at least one row/],
    [() => ntXentLoss(ok, ok, { temperature: 0 }), /ntXentLoss: options\.temperature must be a finite number > 0, got 0/],
    [() => ntXentLoss(ok, ok, { temperature: Number.NaN }), /got NaN/],
  ];
  for (const [fn, message] of cases) assert.throws(fn, message);
  tf.disposeVariables();
});
