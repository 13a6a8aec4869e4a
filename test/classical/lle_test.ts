import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { lle, lleWeights } from "../../src/classical/lle";

function ranks(v: number[]): number[] {
  const order = v.map((_, i) => i).sort((a, b) => v[a] - v[b]);
  const r = new Array<number>(v.length);
  order.forEach((i, k) => (r[i] = k));
  return r;
}
function spearman(a: number[], b: number[]): number {
  const ra = ranks(a), rb = ranks(b), n = a.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += (ra[i] - rb[i]) ** 2;
  return 1 - (6 * s) / (n * (n * n - 1));
}

test("lleWeights: hand-computed midpoint weights, rows sum to 1, neighbours nearest first", async () => {
  await tf.setBackend("cpu");
  const w = lleWeights([[0, 0], [1, 0], [-1, 0], [5, 5]], { neighbours: 2 });
  assert.deepEqual(Array.from(w.neighbours[0]).sort(), [1, 2]);
  assert.ok(Math.abs(w.weights[0][0] - 0.5) < 1e-12 && Math.abs(w.weights[0][1] - 0.5) < 1e-12);
  assert.deepEqual(Array.from(w.neighbours[1]), [0, 2]); // distances 1 and 2
  for (const row of w.weights) assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-12);
});

test("lleWeights rebuild points lying in their neighbours' affine span (plane in 3-D) to within O(reg)", () => {
  const rng = createRng(7);
  // A 2-D plane through (1, 2, 3) spanned by u and v in 3-D: every point is in the affine span of any 3 of its neighbours.
  const u = [1, 2, -1], v = [0.5, -1, 2];
  const x = Array.from({ length: 60 }, () => {
    const a = rng.normal(), b = rng.normal();
    return [1 + a * u[0] + b * v[0], 2 + a * u[1] + b * v[1], 3 + a * u[2] + b * v[2]];
  });
  for (const [reg, tol] of [[1e-12, 1e-7], [1e-3, 0.25]] as const) {
    const { neighbours, weights } = lleWeights(x, { neighbours: 6, reg });
    let worst = 0;
    for (let i = 0; i < x.length; i++) {
      assert.ok(Math.abs(weights[i].reduce((p, q) => p + q, 0) - 1) < 1e-9);
      for (let c = 0; c < 3; c++) {
        let rec = 0;
        neighbours[i].forEach((j, t) => (rec += weights[i][t] * x[j][c]));
        worst = Math.max(worst, Math.abs(rec - x[i][c]));
      }
    }
    assert.ok(worst < tol, `reg ${reg}: worst reconstruction error ${worst}`);
    if (reg === 1e-3) assert.ok(worst > 1e-9, "the regulariser really changes the weights");
  }
});

test("lle unrolls a helix in 3-D into a line that keeps the order of the points (Spearman > 0.999)", () => {
  const rng = createRng(8);
  const n = 200;
  const t = Array.from({ length: n }, () => 4 * Math.PI * rng.next());
  const x = t.map((s) => [Math.cos(s), Math.sin(s), 0.3 * s]);
  const { coordinates, eigenvalues } = lle(x, 1, { neighbours: 8 });
  const rho = Math.abs(spearman(coordinates.map((r) => r[0]), t));
  assert.ok(rho > 0.999, `spearman ${rho}`);
  assert.ok(eigenvalues[0] >= -1e-12);
  // Unit variance, zero mean (orthogonal to the constant eigenvector).
  const mean = coordinates.reduce((s, r) => s + r[0], 0) / n;
  const varc = coordinates.reduce((s, r) => s + r[0] * r[0], 0) / n;
  assert.ok(Math.abs(mean) < 1e-4 && Math.abs(varc - 1) < 1e-8, `mean ${mean}, variance ${varc}`);
  // Raw coordinates do not preserve the order (sanity check that the test can fail).
  assert.ok(Math.abs(spearman(x.map((p) => p[0]), t)) < 0.5);
});

test("lle reads tensors without leaking and rejects bad input naming the argument", async () => {
  await tf.setBackend("cpu");
  const pts = tf.tensor2d([[0, 0], [1, 0], [2, 0.1], [3, 0], [4, 0.2]]);
  const before = tf.memory().numTensors;
  const out = lle(pts, 1, { neighbours: 2 });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(out.coordinates.length, 5);
  pts.dispose();
  assert.throws(() => lle([[0], [1], [2]], 1, { neighbours: 3 }), /lle: options.neighbours must be an integer in \[1, 2\], got 3/);
  assert.throws(() => lle([[0], [1], [2]], 3, { neighbours: 1 }), /lle: dim must be an integer in \[1, 2\], got 3/);
  assert.throws(() => lleWeights([[0], [1]], { neighbours: 1, reg: 0 }), /lleWeights: options.reg must be a finite number > 0, got 0/);
  assert.throws(() => lleWeights([[0], [Infinity]]), /lleWeights: x must be finite/);
});
