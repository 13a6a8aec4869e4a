import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { createInfoMinData, factorInformation, infoMinBatches, infoMinPath, sharedFactorInformation } from "../../src/data/info_min";

/** Plug-in mutual information (nats) of paired integer values in [0, k). */
function empiricalInformation(a: Int32Array, b: Int32Array, k: number): number {
  const joint = new Float64Array(k * k);
  const pa = new Float64Array(k);
  const pb = new Float64Array(k);
  const n = a.length;
  for (let i = 0; i < n; i++) { joint[a[i] * k + b[i]] += 1 / n; pa[a[i]] += 1 / n; pb[b[i]] += 1 / n; }
  let mi = 0;
  for (let x = 0; x < k; x++) for (let y = 0; y < k; y++) { const p = joint[x * k + y]; if (p > 0) mi += p * Math.log(p / (pa[x] * pb[y])); }
  return mi;
}

test("createInfoMinData: each view keeps its sample's class and style at the stated shares", async () => {
  await tf.setBackend("cpu");
  const data = createInfoMinData({ n: 4000, classes: 4, styles: 8, seed: 1 });
  const all = Int32Array.from({ length: data.n }, (_, i) => i);
  for (const shares of [{ taskShare: 0, nuisanceShare: 1 }, { taskShare: 0.3, nuisanceShare: 0.8 }, { taskShare: 1, nuisanceShare: 0 }]) {
    const { view1, view2, classShown, styleShown } = data.views(all, shares, createRng(5));
    for (let v = 0; v < 2; v++) {
      // A view shows its own value when it keeps it, or by chance (1/K) when it redraws.
      const ownClass = classShown[v].filter((c, i) => c === data.labels[i]).length / data.n;
      const ownStyle = styleShown[v].filter((s, i) => s === data.styleIds[i]).length / data.n;
      const wantClass = shares.taskShare + (1 - shares.taskShare) / 4;
      const wantStyle = shares.nuisanceShare + (1 - shares.nuisanceShare) / 8;
      // Four binomial standard errors at n = 4000 are at most 0.032.
      assert.ok(Math.abs(ownClass - wantClass) < 0.032, `shares ${JSON.stringify(shares)} view ${v}: own class ${ownClass} vs ${wantClass}`);
      assert.ok(Math.abs(ownStyle - wantStyle) < 0.032, `own style ${ownStyle} vs ${wantStyle}`);
    }
    // The information the two views' factors share: plug-in estimate vs the closed form.
    const classInfo = empiricalInformation(classShown[0], classShown[1], 4);
    const styleInfo = empiricalInformation(styleShown[0], styleShown[1], 8);
    assert.ok(Math.abs(classInfo - factorInformation(shares.taskShare, 4)) < 0.03, `class information ${classInfo} vs ${factorInformation(shares.taskShare, 4)}`);
    assert.ok(Math.abs(styleInfo - factorInformation(shares.nuisanceShare, 8)) < 0.05, `style information ${styleInfo} vs ${factorInformation(shares.nuisanceShare, 8)}`);
    assert.deepEqual(view1.shape, [data.n, 16]);
    tf.dispose([view1, view2]);
  }
});

test("createInfoMinData: a view is the rotated prototypes of the factors it shows plus noise of the stated size", async () => {
  await tf.setBackend("cpu");
  const noiseless = createInfoMinData({ n: 50, classes: 3, styles: 5, taskDim: 2, nuisanceDim: 3, seed: 4, noise: 0 });
  const noisy = createInfoMinData({ n: 50, classes: 3, styles: 5, taskDim: 2, nuisanceDim: 3, seed: 4, noise: 0.5 });
  assert.deepEqual(noisy.labels, noiseless.labels, "the noise does not change the factors");
  const idx = Int32Array.from({ length: 50 }, (_, i) => i);
  const a = noiseless.views(idx, { taskShare: 1, nuisanceShare: 1 }, createRng(1));
  const clean = noiseless.clean();
  assert.deepEqual(Array.from(a.view1.dataSync()), Array.from(clean.dataSync()), "noise 0, shares 1: a view is the clean vector");
  // Vectors showing one class and one style coincide whatever the sample: the prototypes' rotation.
  const rows = clean.arraySync() as number[][];
  const first = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const key = `${noiseless.labels[i]},${noiseless.styleIds[i]}`;
    const seen = first.get(key);
    if (seen) r.forEach((v, k) => assert.ok(Math.abs(v - seen[k]) < 1e-6));
    else first.set(key, r);
  });
  // With noise, the residual from the noiseless vector of the same shown factors has the stated std.
  const b = noisy.views(idx, { taskShare: 1, nuisanceShare: 1 }, createRng(1));
  const residual = tf.sub(b.view1, clean);
  const std = Math.sqrt(tf.mean(tf.square(residual)).dataSync()[0]);
  assert.ok(Math.abs(std - 0.5) < 0.06, `noise std ${std}`);
  tf.dispose([a.view1, a.view2, b.view1, b.view2, clean, residual]);
});

test("createInfoMinData is fixed by its seed, views by their rng", async () => {
  await tf.setBackend("cpu");
  const one = createInfoMinData({ n: 30, seed: 9 });
  const two = createInfoMinData({ n: 30, seed: 9 });
  const other = createInfoMinData({ n: 30, seed: 10 });
  assert.deepEqual(one.labels, two.labels);
  assert.notDeepEqual(one.labels, other.labels);
  const idx = [0, 5, 7];
  const shares = { taskShare: 0.5, nuisanceShare: 0.5 };
  const a = one.views(idx, shares, createRng(3));
  const b = two.views(idx, shares, createRng(3));
  const c = one.views(idx, shares, createRng(4));
  assert.deepEqual(Array.from(a.view2.dataSync()), Array.from(b.view2.dataSync()));
  assert.notDeepEqual(Array.from(a.view2.dataSync()), Array.from(c.view2.dataSync()));
  tf.dispose([a.view1, a.view2, b.view1, b.view2, c.view1, c.view2]);
});

test("factorInformation: 0 at share 0, log K at share 1, increasing between; sharedFactorInformation adds the factors", () => {
  assert.equal(factorInformation(0, 10), 0);
  assert.ok(Math.abs(factorInformation(1, 10) - Math.log(10)) < 1e-12);
  assert.ok(Math.abs(factorInformation(0.5, 10) - 0.1888) < 1e-3);
  let previous = 0;
  for (let p = 0.1; p <= 1.0001; p += 0.1) {
    const v = factorInformation(Math.min(p, 1), 7);
    assert.ok(v > previous);
    previous = v;
  }
  const data = { classes: 10, styles: 256 };
  assert.ok(Math.abs(sharedFactorInformation(data, { taskShare: 1, nuisanceShare: 1 }) - Math.log(2560)) < 1e-9);
  assert.throws(() => factorInformation(1.5, 10), /factorInformation: share must be a probability in \[0, 1\], got 1\.5/);
  assert.throws(() => sharedFactorInformation(data, { taskShare: 0.5 } as never), /sharedFactorInformation: shares\.nuisanceShare must be a probability in \[0, 1\], got undefined/);
});

test("infoMinPath walks from no sharing through the sweet spot to full sharing, with rising information", () => {
  assert.deepEqual([0, 0.25, 0.5, 0.75, 1].map(infoMinPath), [
    { taskShare: 0, nuisanceShare: 0 }, { taskShare: 0.5, nuisanceShare: 0 }, { taskShare: 1, nuisanceShare: 0 },
    { taskShare: 1, nuisanceShare: 0.5 }, { taskShare: 1, nuisanceShare: 1 },
  ]);
  const info = [0, 0.2, 0.4, 0.6, 0.8, 1].map((p) => sharedFactorInformation({ classes: 10, styles: 256 }, infoMinPath(p)));
  info.slice(1).forEach((v, i) => assert.ok(v > info[i]));
  assert.throws(() => infoMinPath(-0.1), /infoMinPath: position must be a probability in \[0, 1\], got -0\.1/);
});

test("infoMinBatches: full batches of two views per epoch, each sample once, fixed by the rng; no tensor leak once disposed", async () => {
  await tf.setBackend("cpu");
  const data = createInfoMinData({ n: 50, seed: 2 });
  const before = tf.memory().numTensors;
  const make = infoMinBatches(data, { shares: { taskShare: 1, nuisanceShare: 0 }, batchSize: 16 });
  const epoch = [...make(0, createRng(1))];
  assert.equal(epoch.length, 3, "50 samples in batches of 16: the last 2 are dropped");
  epoch.forEach((b) => { assert.deepEqual(b.view1.shape, [16, 16]); assert.deepEqual(b.view2.shape, [16, 16]); });
  const again = [...make(0, createRng(1))];
  assert.deepEqual(Array.from(again[2].view1.dataSync()), Array.from(epoch[2].view1.dataSync()));
  epoch.concat(again).forEach((b) => tf.dispose([b.view1, b.view2]));
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => infoMinBatches(data, { shares: { taskShare: 1, nuisanceShare: 0 }, batchSize: 51 }), /infoMinBatches: options\.batchSize must be at most the 50 samples, got 51/);
  assert.throws(() => infoMinBatches({} as never, { shares: { taskShare: 1, nuisanceShare: 0 }, batchSize: 5 }), /infoMinBatches: data must be an InfoMinData/);
});

test("createInfoMinData and views reject bad input by name", () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [() => createInfoMinData(undefined as never), /createInfoMinData: options must be an object/],
    [() => createInfoMinData({ n: 0, seed: 1 }), /createInfoMinData: options\.n must be a positive integer, got 0/],
    [() => createInfoMinData({ n: 5, seed: 1.5 }), /createInfoMinData: options\.seed must be an integer, got 1\.5/],
    [() => createInfoMinData({ n: 5, seed: 1, classes: 1 }), /createInfoMinData: options\.classes must be at least 2, got 1/],
    [() => createInfoMinData({ n: 5, seed: 1, nuisanceScale: 0 }), /createInfoMinData: options\.nuisanceScale must be a finite number > 0, got 0/],
    [() => createInfoMinData({ n: 5, seed: 1, noise: -1 }), /createInfoMinData: options\.noise must be a finite number >= 0, got -1/],
  ];
  for (const [fn, message] of cases) assert.throws(fn, message);
  const data = createInfoMinData({ n: 5, seed: 1 });
  assert.throws(() => data.views([0, 5], { taskShare: 1, nuisanceShare: 0 }, createRng(1)), /InfoMinData\.views: indices\[1\] must be an integer in \[0, 5\), got 5/);
  assert.throws(() => data.views([0], { taskShare: 2, nuisanceShare: 0 }, createRng(1)), /InfoMinData\.views: shares\.taskShare must be a probability in \[0, 1\], got 2/);
  assert.throws(() => data.views([], { taskShare: 1, nuisanceShare: 0 }, createRng(1)), /InfoMinData\.views: indices must hold at least one index, got 0/);
  assert.throws(() => data.views([0], { taskShare: 1, nuisanceShare: 0 }, 3 as never), /InfoMinData\.views: rng must be an Rng/);
});
