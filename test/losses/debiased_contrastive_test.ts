import { test } from "node:test";
import assert from "node:assert/strict";
import "@tensorflow/tfjs-backend-wasm";
import { tf } from "../../src/backend/tf";
import { debiasedContrastiveLoss, debiasedNtXent } from "../../src/losses/debiased_contrastive";
import { ntXentLoss } from "../../src/losses/nt_xent";
import { createRng } from "../../src/data/random";
import { assertGradientsMatch, close, randomMatrix } from "./two_view_reference";

/**
 * Float64 debiased loss straight from Chuang et al.'s eq. 6, plain loops: per
 * anchor, g = max((mean_neg e^s - tau+ e^pos) / (1 - tau+), e^{-1/t}), loss =
 * -log(e^pos / (e^pos + M g)).
 */
function referenceDebiased(z1: number[][], z2: number[][], t: number, tauPlus: number): number {
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
    const negatives: number[] = [];
    for (let j = 0; j < m; j++) if (j !== i && j !== pos) negatives.push(Math.exp(dot(z[i], z[j]) / t));
    const ePos = Math.exp(dot(z[i], z[pos]) / t);
    const meanNeg = negatives.reduce((s, v) => s + v, 0) / negatives.length;
    const g = Math.max((meanNeg - tauPlus * ePos) / (1 - tauPlus), Math.exp(-1 / t));
    total += -Math.log(ePos / (ePos + negatives.length * g));
  }
  return total / m;
}

test("debiasedContrastiveLoss matches a float64 reference on cpu and wasm", async () => {
  const rng = createRng(5);
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    const cases = [[2, 3, 0.5, 0.1], [4, 8, 0.5, 0.3], [16, 5, 0.1, 0.1], [9, 64, 1.0, 0.05], [6, 4, 0.01, 0.2]] as const;
    for (const [n, d, t, tauPlus] of cases) {
      const a = randomMatrix(rng, n, d);
      const b = randomMatrix(rng, n, d);
      const loss = debiasedContrastiveLoss(tf.tensor2d(a), tf.tensor2d(b), { temperature: t, tauPlus });
      const got = loss.dataSync()[0];
      const want = referenceDebiased(a, b, t, tauPlus);
      assert.ok(close(got, want), `${backend} n=${n} d=${d} t=${t} tau+=${tauPlus}: got ${got}, want ${want}`);
      tf.dispose(loss);
    }
  }
  tf.disposeVariables();
});

test("debiasedContrastiveLoss reduces to NT-Xent at tau+ = 0", async () => {
  const rng = createRng(8);
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    for (const [n, d, t] of [[2, 3, 0.5], [8, 6, 0.2], [12, 16, 1]] as const) {
      const a = tf.tensor2d(randomMatrix(rng, n, d));
      const b = tf.tensor2d(randomMatrix(rng, n, d));
      const debiased = debiasedContrastiveLoss(a, b, { temperature: t, tauPlus: 0 }).dataSync()[0];
      const plain = ntXentLoss(a, b, { temperature: t }).dataSync()[0];
      assert.ok(close(debiased, plain), `${backend} n=${n}: ${debiased} vs NT-Xent ${plain}`);
      tf.dispose([a, b]);
    }
  }
});

test("debiasedContrastiveLoss applies the floor M e^{-1/t} when tau+ over-corrects", async () => {
  await tf.setBackend("cpu");
  // Positives identical, negatives orthogonal: tau+ = 0.9 makes the corrected mean negative.
  const z1 = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]];
  const t = 0.5;
  const loss = debiasedContrastiveLoss(tf.tensor2d(z1), tf.tensor2d(z1), { temperature: t, tauPlus: 0.9 });
  const got = loss.dataSync()[0];
  const m = 4;
  const floored = -Math.log(Math.exp(1 / t) / (Math.exp(1 / t) + m * Math.exp(-1 / t)));
  assert.ok(close(got, floored), `got ${got}, want the floored ${floored}`);
  assert.ok(close(got, referenceDebiased(z1, z1, t, 0.9)));
  // Raising tau+ lowers the loss until the floor binds.
  const losses = [0, 0.1, 0.2].map((tauPlus) =>
    tf.tidy(() => debiasedContrastiveLoss(tf.tensor2d(z1), tf.tensor2d(z1), { temperature: t, tauPlus }).dataSync()[0]),
  );
  assert.ok(losses[0] > losses[1] && losses[1] > losses[2], `${losses}`);
  tf.dispose(loss);
});

test("debiasedContrastiveLoss gradient matches central finite differences of the float64 reference", async () => {
  const rng = createRng(12);
  const n = 3;
  const d = 4;
  const t = 0.5;
  const tauPlus = 0.15;
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
        return (referenceDebiased(plus[0], plus[1], t, tauPlus) - referenceDebiased(minus[0], minus[1], t, tauPlus)) / (2 * h);
      }),
    );
  const want = [numeric(0), numeric(1)];
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    const x1 = tf.tensor2d(a);
    const x2 = tf.tensor2d(b);
    const grads = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
      debiasedContrastiveLoss(p as tf.Tensor2D, q as tf.Tensor2D, { temperature: t, tauPlus }),
    )([x1, x2]);
    assertGradientsMatch(backend, grads.map((g) => g.arraySync() as number[][]), want);
    tf.dispose([x1, x2, ...grads]);
  }
});

test("debiasedContrastiveLoss stays finite at a small temperature and on an all-zero row", async () => {
  await tf.setBackend("cpu");
  const z1 = tf.tensor2d([[0, 0, 0], [1, 2, 3], [3, -1, 0]]);
  const z2 = tf.tensor2d([[1, 0, 0], [1, 2, 3.1], [-3, 1, 0]]);
  for (const t of [0.005, 0.5]) {
    const [value, grad] = tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((x: tf.Tensor) =>
        debiasedContrastiveLoss(x as tf.Tensor2D, z2, { temperature: t, tauPlus: 0.2 }),
      )([z1]);
      return [value.dataSync()[0], Array.from(grads[0].dataSync())];
    });
    assert.ok(Number.isFinite(value), `t=${t}: loss ${value}`);
    assert.ok(grad.every(Number.isFinite), `t=${t}: gradient ${grad}`);
  }
  tf.dispose([z1, z2]);
});

test("debiasedNtXent is SimCLR's ntXent hook for the same loss", async () => {
  await tf.setBackend("cpu");
  const z1 = tf.randomNormal([5, 4], 0, 1, "float32", 3) as tf.Tensor2D;
  const z2 = tf.randomNormal([5, 4], 0, 1, "float32", 4) as tf.Tensor2D;
  const hook = debiasedNtXent({ tauPlus: 0.2 });
  const a = hook(z1, z2, 0.3);
  const b = debiasedContrastiveLoss(z1, z2, { temperature: 0.3, tauPlus: 0.2 });
  assert.equal(a.dataSync()[0], b.dataSync()[0]);
  assert.throws(() => debiasedNtXent({ tauPlus: 1 }), /debiasedNtXent: options\.tauPlus must be a number in \[0, 1\), got 1/);
  assert.throws(() => debiasedNtXent(undefined as unknown as { tauPlus: number }), /debiasedNtXent: options must be an object/);
  tf.dispose([z1, z2, a, b]);
});

test("debiasedContrastiveLoss and its gradient leave no tensors behind", async () => {
  await tf.setBackend("cpu");
  const z1 = tf.randomNormal([6, 5], 0, 1, "float32", 1) as tf.Tensor2D;
  const z2 = tf.randomNormal([6, 5], 0, 1, "float32", 2) as tf.Tensor2D;
  const before = tf.memory().numTensors;
  const loss = debiasedContrastiveLoss(z1, z2);
  assert.equal(tf.memory().numTensors, before + 1);
  loss.dispose();
  const grads = tf.grads((p: tf.Tensor, q: tf.Tensor) => debiasedContrastiveLoss(p as tf.Tensor2D, q as tf.Tensor2D))([z1, z2]);
  assert.equal(tf.memory().numTensors, before + 2);
  tf.dispose(grads);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([z1, z2]);
});

test("debiasedContrastiveLoss rejects bad input with named errors", async () => {
  await tf.setBackend("cpu");
  const ok = tf.zeros([4, 3]) as tf.Tensor2D;
  const cases: Array<[() => unknown, RegExp]> = [
    [() => debiasedContrastiveLoss(tf.zeros([4]) as unknown as tf.Tensor2D, ok), /debiasedContrastiveLoss: z1 must be a float32 tensor of shape \[n,d\], got a tensor of shape \[4\]/],
    [() => debiasedContrastiveLoss(ok, tf.zeros([5, 3]) as tf.Tensor2D), /debiasedContrastiveLoss: z2 must be a float32 tensor of shape \[4,3\], got a tensor of shape \[5,3\]/],
    [() => debiasedContrastiveLoss(ok, tf.zeros([4, 3], "int32") as tf.Tensor2D), /z2 must be a float32 tensor of shape \[4,3\], got an int32 tensor/],
    [() => debiasedContrastiveLoss(tf.zeros([1, 3]) as tf.Tensor2D, tf.zeros([1, 3]) as tf.Tensor2D), /debiasedContrastiveLoss: z1 must have at least two rows \(each anchor needs a negative\) and one column, got a tensor of shape \[1,3\]/],
    [() => debiasedContrastiveLoss(ok, ok, { temperature: 0 }), /debiasedContrastiveLoss: options\.temperature must be a finite number > 0, got 0/],
    [() => debiasedContrastiveLoss(ok, ok, { tauPlus: 1 }), /debiasedContrastiveLoss: options\.tauPlus must be a number in \[0, 1\), got 1/],
    [() => debiasedContrastiveLoss(ok, ok, { tauPlus: -0.1 }), /options\.tauPlus must be a number in \[0, 1\), got -0\.1/],
    [() => debiasedContrastiveLoss(ok, ok, { tauPlus: Number.NaN }), /options\.tauPlus must be a number in \[0, 1\), got NaN/],
  ];
  for (const [fn, message] of cases) assert.throws(fn, message);
  tf.disposeVariables();
});
