import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { representationDiagnostics } from "../../src/evaluation/diagnostics";
import { labelEfficiency } from "../../src/evaluation/label_efficiency";
import { linearProbe } from "../../src/evaluation/linear_probe";

function blobs(n: number, seed: number): { x: number[][]; y: number[] } {
  const rng = createRng(seed);
  const x: number[][] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    x.push([0, 1, 2, 3].map((k) => (k === c ? 3 : 0) + 1 + 0.3 * rng.normal()));
    y.push(c);
  }
  return { x, y };
}

test("representationDiagnostics: probe as linearProbe, alignment and uniformity against float64, rank of a 3-D cloud, no leak", async () => {
  await tf.setBackend("cpu");
  const tr = blobs(60, 1), te = blobs(30, 2);
  const train = { x: tf.tensor4d(tr.x.flat(), [60, 2, 2, 1]), y: tr.y };
  const test_ = { x: tf.tensor4d(te.x.flat(), [30, 2, 2, 1]), y: te.y };
  const flatten = (x: tf.Tensor) => tf.reshape(x, [x.shape[0], 4]);
  const shift = 0.5;
  const views = (x: tf.Tensor4D) => [x.clone(), tf.add(x, shift)] as [tf.Tensor4D, tf.Tensor4D];
  const before = tf.memory().numTensors;
  const d = representationDiagnostics({ encoder: flatten, train, test: test_, views });
  assert.equal(tf.memory().numTensors, before);

  const f = (t: tf.Tensor) => tf.reshape(t, [t.shape[0], 4]) as tf.Tensor2D;
  const trF = f(train.x), teF = f(test_.x);
  assert.equal(d.linearProbe, linearProbe(trF, tr.y, teF, te.y).accuracy);
  assert.ok(d.linearProbe > 0.9);
  tf.dispose([trF, teF]);

  const unit = (v: number[]) => { const n = Math.hypot(...v); return v.map((a) => a / n); };
  const a = te.x.map(unit), b = te.x.map((v) => unit(v.map((u) => u + shift)));
  const sq = (p: number[], q: number[]) => p.reduce((s, _, k) => s + (p[k] - q[k]) ** 2, 0);
  const alignment = a.reduce((s, _, i) => s + sq(a[i], b[i]), 0) / a.length;
  const unif = (z: number[][]) => {
    let t = 0;
    for (let i = 0; i < z.length; i++) for (let j = 0; j < z.length; j++) if (i !== j) t += Math.exp(-2 * sq(z[i], z[j]));
    return Math.log(t / (z.length * (z.length - 1)));
  };
  assert.ok(Math.abs(d.alignment - alignment) < 1e-5, `${d.alignment} vs ${alignment}`);
  assert.ok(Math.abs(d.uniformity - (unif(a) + unif(b)) / 2) < 1e-4);
  // Three blobs in 4-D: the centred cloud spans about 2 dimensions plus noise.
  assert.equal(d.dim, 4);
  assert.equal(d.singularValues.length, 4);
  assert.ok(d.effectiveRank > 1.5 && d.effectiveRank < 4, `${d.effectiveRank}`);
  tf.dispose([train.x, test_.x]);
});

test("representationDiagnostics: rejects missing splits and views", async () => {
  await tf.setBackend("cpu");
  const x = tf.zeros([4, 2, 2, 1]);
  const enc = (t: tf.Tensor) => tf.reshape(t, [t.shape[0], 4]);
  assert.throws(() => representationDiagnostics({ encoder: enc, train: { x: undefined as unknown as tf.Tensor, y: [0] }, test: { x, y: [0, 1, 0, 1] }, views: (v) => [v, v] }), /representationDiagnostics: options.train.x must be a tf.Tensor/);
  assert.throws(() => representationDiagnostics({ encoder: enc, train: { x, y: [0, 1, 0, 1] }, test: { x, y: [0, 1, 0, 1] }, views: undefined as never }), /options.views must be a function/);
  x.dispose();
});

test("representationDiagnostics: labelsPerClass adds fewLabels, labelEfficiency on the same features", async () => {
  await tf.setBackend("cpu");
  const tr = blobs(60, 3), te = blobs(30, 4);
  const train = { x: tf.tensor4d(tr.x.flat(), [60, 2, 2, 1]), y: tr.y };
  const test_ = { x: tf.tensor4d(te.x.flat(), [30, 2, 2, 1]), y: te.y };
  const flatten = (x: tf.Tensor) => tf.reshape(x, [x.shape[0], 4]);
  const views = (x: tf.Tensor4D) => [x.clone(), x.clone()] as [tf.Tensor4D, tf.Tensor4D];
  const probe = { minSteps: 50, epochs: 5 };
  const before = tf.memory().numTensors;
  const d = representationDiagnostics({ encoder: flatten, train, test: test_, views, probe, labelsPerClass: [1, 5], labelDraws: 2, seed: 3 });
  assert.equal(tf.memory().numTensors, before);
  const trF = flatten(train.x) as tf.Tensor2D, teF = flatten(test_.x) as tf.Tensor2D;
  // Default labelSeed 0, whatever the views' seed.
  assert.deepEqual(d.fewLabels, labelEfficiency({ train: { x: trF, y: tr.y }, test: { x: teF, y: te.y }, labelsPerClass: [1, 5], draws: 2, seed: 0, probe }));
  tf.dispose([trF, teF]);
  assert.equal(representationDiagnostics({ encoder: flatten, train, test: test_, views, probe }).fewLabels, undefined);
  assert.throws(() => representationDiagnostics({ encoder: flatten, train, test: test_, views, labelSeed: 1 }), /representationDiagnostics: options.labelSeed needs options.labelsPerClass, got labelSeed 1 without it/);
  assert.throws(() => representationDiagnostics({ encoder: flatten, train, test: test_, views, labelsPerClass: [1], labelSeed: 0.5 }), /representationDiagnostics: options.labelSeed must be an integer, got 0.5/);
  tf.dispose([train.x, test_.x]);
});
