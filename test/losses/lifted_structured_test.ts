import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { liftedStructuredLoss } from "../../src/losses/lifted_structured";
import { createRng } from "../../src/data/random";

function ref(e: number[][], y: number[], margin: number): number {
  const n = e.length;
  const D = e.map((a) => e.map((b) => Math.sqrt(a.reduce((s, v, k) => s + (v - b[k]) ** 2, 0))));
  let t = 0, p = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) {
    if (y[i] !== y[j]) continue;
    p++;
    let s = 0;
    for (let k = 0; k < n; k++) if (y[k] !== y[i]) s += Math.exp(margin - D[i][k]);
    for (let l = 0; l < n; l++) if (y[l] !== y[j]) s += Math.exp(margin - D[j][l]);
    t += Math.max(0, D[i][j] + Math.log(s)) ** 2;
  }
  return p === 0 ? 0 : t / (2 * p);
}

test("liftedStructuredLoss matches float64 reference, gradient, memory", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(11);
  for (const [b, d, margin, k] of [[2, 3, 1, 1], [6, 4, 1, 2], [9, 3, 0.5, 3]]) {
    const e = Array.from({ length: b }, () => Array.from({ length: d }, () => rng.normal()));
    const y = Array.from({ length: b }, (_, i) => (b === 2 ? 0 : i % k));
    if (b === 2) y[1] = 0;
    const te = tf.tensor2d(e), ty = tf.tensor1d(y, "int32");
    const before = tf.memory().numTensors;
    const loss = liftedStructuredLoss(te, ty, { margin });
    assert.equal(tf.memory().numTensors, before + 1);
    const r = ref(e, y, margin);
    assert.ok(Math.abs(loss.dataSync()[0] - r) <= 1e-5 * Math.max(1, r), `${loss.dataSync()[0]} vs ${r}`);
    if (r > 0) {
      const g = tf.grad((x: tf.Tensor) => liftedStructuredLoss(x as tf.Tensor2D, ty, { margin }))(te).arraySync() as number[][];
      const h = 1e-6;
      for (let i = 0; i < b; i++) for (let c = 0; c < d; c++) {
        const u = e.map((r) => r.slice()), v = e.map((r) => r.slice());
        u[i][c] += h; v[i][c] -= h;
        const fd = (ref(u, y, margin) - ref(v, y, margin)) / (2 * h);
        assert.ok(Math.abs(g[i][c] - fd) < 1e-3 * Math.max(1, Math.abs(fd)), `grad ${g[i][c]} vs ${fd}`);
      }
    }
    tf.dispose([te, ty, loss]);
  }
});

test("liftedStructuredLoss: no positives or single label -> 0; large distances finite; separation lowers it", async () => {
  await tf.setBackend("cpu");
  const e = tf.tensor2d([[0, 0], [1, 0], [0, 1]]);
  assert.equal(liftedStructuredLoss(e, tf.tensor1d([0, 1, 2], "int32")).dataSync()[0], 0);
  assert.equal(liftedStructuredLoss(e, tf.tensor1d([4, 4, 4], "int32")).dataSync()[0], 0);
  const far = liftedStructuredLoss(tf.tensor2d([[0, 0], [1e3, 0], [0, 1e3], [1e3, 1e3]]), tf.tensor1d([0, 0, 1, 1], "int32"), { margin: 100 });
  assert.ok(Number.isFinite(far.dataSync()[0]));
  const good = liftedStructuredLoss(tf.tensor2d([[0, 0], [0.1, 0], [5, 5], [5, 5.1]]), tf.tensor1d([0, 0, 1, 1], "int32")).dataSync()[0];
  const bad = liftedStructuredLoss(tf.tensor2d([[0, 0], [5, 5], [0.1, 0], [5, 5.1]]), tf.tensor1d([0, 0, 1, 1], "int32")).dataSync()[0];
  assert.ok(good < bad);
});

test("liftedStructuredLoss rejects bad inputs naming the argument", async () => {
  await tf.setBackend("cpu");
  const e = tf.zeros([3, 2]) as tf.Tensor2D;
  assert.throws(() => liftedStructuredLoss(e, tf.tensor1d([0, 1], "int32")), /liftedStructuredLoss: labels/);
  assert.throws(() => liftedStructuredLoss(e, tf.tensor1d([0, 1, 1])), /liftedStructuredLoss: labels/);
  assert.throws(() => liftedStructuredLoss(e, tf.tensor1d([0, 1, 1], "int32"), { margin: -2 }), /options.margin/);
});
