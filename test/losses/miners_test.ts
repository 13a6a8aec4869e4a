import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { mineTriplets, minePairs } from "../../src/losses/miners";
import { tripletLoss } from "../../src/losses/triplet";
import { createRng } from "../../src/data/random";

type Rng = ReturnType<typeof createRng>;

// Float64 squared distances between the float32 values the miner sees.
function sqDist(x: Float32Array, d: number, i: number, j: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += (x[i * d + k] - x[j * d + k]) ** 2;
  return s;
}
function randomBatch(rng: Rng, b: number, d: number, classes: number, balanced = false) {
  const values = Array.from({ length: b * d }, () => rng.normal());
  const labels = Array.from({ length: b }, (_, i) => (balanced ? i % classes : rng.int(classes)));
  const emb = tf.tensor2d(values, [b, d]);
  const lab = tf.tensor1d(labels, "int32");
  return { emb, lab, x: emb.dataSync() as Float32Array, labels };
}
const arr = (a: ArrayLike<number>) => Array.from(a);

// Points on a line: 0, 1, 2.5, 5 with labels 0, 0, 1, 1.
// Squared distances: d01=1, d02=6.25, d03=25, d12=2.25, d13=16, d23=6.25.
const line = () => ({ emb: tf.tensor2d([[0], [1], [2.5], [5]]), lab: tf.tensor1d([0, 0, 1, 1], "int32") });

test("mineTriplets on hand-worked points on a line", async () => {
  await tf.setBackend("cpu");
  const { emb, lab } = line();
  const all = mineTriplets(emb, lab, { strategy: "all" });
  // Each of the 4 anchors has 1 positive and 2 negatives.
  assert.equal(all.anchor.length, 8);
  const hard = mineTriplets(emb, lab, { strategy: "hardest" });
  assert.deepEqual([arr(hard.anchor), arr(hard.positive), arr(hard.negative)], [[0, 1, 2, 3], [1, 0, 3, 2], [2, 2, 1, 1]]);
  // Squared window, margin 2: only (1,0): d=1, negative 2 at 2.25 in (1, 3).
  const semi2 = mineTriplets(emb, lab, { strategy: "semi-hard", margin: 2 });
  assert.deepEqual([arr(semi2.anchor), arr(semi2.positive), arr(semi2.negative)], [[1], [0], [2]]);
  // Margin 20: (0,1)->2 at 6.25 in (1,21); (1,0)->2; (2,3): negatives 6.25 (not >) and 2.25: skipped;
  // (3,2): 16 and 25 in (6.25, 26.25), nearest is 1.
  const semi20 = mineTriplets(emb, lab, { strategy: "semi-hard", margin: 20 });
  assert.deepEqual([arr(semi20.anchor), arr(semi20.positive), arr(semi20.negative)], [[0, 1, 3], [1, 0, 2], [2, 2, 1]]);
  // Euclidean, margin 2: (0,1): 2.5 in (1,3); (1,0): 1.5 in (1,3); (2,3): 2.5 not > 2.5; (3,2): 4 in (2.5,4.5).
  const semiE = mineTriplets(emb, lab, { strategy: "semi-hard", margin: 2, distance: "euclidean" });
  assert.deepEqual([arr(semiE.anchor), arr(semiE.positive), arr(semiE.negative)], [[0, 1, 3], [1, 0, 2], [2, 2, 1]]);
  tf.dispose([emb, lab]);
});

test("minePairs on hand-worked points on a line", async () => {
  await tf.setBackend("cpu");
  const { emb, lab } = line();
  const all = minePairs(emb, lab, { strategy: "all" });
  assert.deepEqual(arr(all.first), [0, 0, 0, 1, 1, 2]);
  assert.deepEqual(arr(all.second), [1, 2, 3, 2, 3, 3]);
  assert.deepEqual(arr(all.same), [1, 0, 0, 0, 0, 1]);
  // Euclidean: 0: pos 1, neg 2 (2.5); 1: pos 0, neg 2 (1.5); 2: pos 3, neg 1 (1.5); 3: pos 2, neg 1 (4).
  const hard = minePairs(emb, lab, { strategy: "hardest" });
  assert.deepEqual(arr(hard.first), [0, 0, 1, 1, 2, 2, 3, 3]);
  assert.deepEqual(arr(hard.second), [1, 2, 0, 2, 3, 1, 2, 1]);
  assert.deepEqual(arr(hard.same), [1, 0, 1, 0, 1, 0, 1, 0]);
  // margin 2 drops the mined negatives at 2.5 (0->2) and 4 (3->1), keeps the two at 1.5.
  const m = minePairs(emb, lab, { strategy: "hardest", margin: 2 });
  assert.deepEqual(arr(m.first), [0, 1, 1, 2, 2, 3]);
  assert.deepEqual(arr(m.second), [1, 0, 2, 3, 1, 2]);
  assert.deepEqual(arr(m.same), [1, 1, 0, 1, 0, 1]);
  tf.dispose([emb, lab]);
});

test("'all' counts match the combinatorial formulas on random labels", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(11);
  for (const [b, classes] of [[2, 2], [7, 3], [16, 4], [12, 1]]) {
    const { emb, lab, labels } = randomBatch(rng, b, 3, classes);
    const counts = new Map<number, number>();
    for (const y of labels) counts.set(y, (counts.get(y) ?? 0) + 1);
    let triplets = 0, samePairs = 0;
    for (const n of counts.values()) { triplets += n * (n - 1) * (b - n); samePairs += (n * (n - 1)) / 2; }
    const t = mineTriplets(emb, lab, { strategy: "all" });
    assert.equal(t.anchor.length, triplets);
    assert.equal(t.positive.length, triplets);
    assert.equal(t.negative.length, triplets);
    const p = minePairs(emb, lab, { strategy: "all" });
    assert.equal(p.first.length, (b * (b - 1)) / 2);
    assert.equal(arr(p.same).reduce((s, v) => s + v, 0), samePairs);
    for (let i = 0; i < t.anchor.length; i++) {
      const [a, q, n] = [t.anchor[i], t.positive[i], t.negative[i]];
      assert.ok(a !== q && labels[a] === labels[q] && labels[n] !== labels[a]);
    }
    tf.dispose([emb, lab]);
  }
});

test("mined triplets satisfy their strategy against brute-force float64 distances", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(5);
  for (const [b, d, classes, margin] of [[10, 2, 3, 0.5], [24, 4, 4, 2], [16, 3, 2, 1]]) {
    const { emb, lab, x, labels } = randomBatch(rng, b, d, classes);
    const dist = (i: number, j: number) => sqDist(x, d, i, j);
    const hard = mineTriplets(emb, lab, { strategy: "hardest" });
    let anchorsWithBoth = 0;
    for (let a = 0; a < b; a++) {
      const pos = labels.map((_, j) => j).filter((j) => j !== a && labels[j] === labels[a]);
      const neg = labels.map((_, j) => j).filter((j) => labels[j] !== labels[a]);
      if (pos.length === 0 || neg.length === 0) continue;
      const k = anchorsWithBoth++;
      assert.equal(hard.anchor[k], a);
      assert.equal(dist(a, hard.positive[k]), Math.max(...pos.map((j) => dist(a, j))));
      assert.equal(dist(a, hard.negative[k]), Math.min(...neg.map((j) => dist(a, j))));
    }
    assert.equal(hard.anchor.length, anchorsWithBoth);

    for (const distance of ["squared", "euclidean"] as const) {
      const f = distance === "squared" ? dist : (i: number, j: number) => Math.sqrt(dist(i, j));
      const semi = mineTriplets(emb, lab, { strategy: "semi-hard", margin, distance });
      let k = 0;
      for (let a = 0; a < b; a++) for (let p = 0; p < b; p++) {
        if (p === a || labels[p] !== labels[a]) continue;
        const dap = f(a, p);
        const ok = labels.map((_, j) => j).filter((n) => labels[n] !== labels[a] && f(a, n) > dap && f(a, n) < dap + margin);
        if (ok.length === 0) continue; // documented: pairs without a semi-hard negative are skipped
        assert.deepEqual([semi.anchor[k], semi.positive[k]], [a, p]);
        assert.ok(ok.includes(semi.negative[k]));
        assert.equal(f(a, semi.negative[k]), Math.min(...ok.map((n) => f(a, n))));
        k++;
      }
      assert.equal(semi.anchor.length, k);
      assert.ok(k > 0, "semi-hard mined nothing: the check above would be vacuous");
    }
    tf.dispose([emb, lab]);
  }
});

test("minePairs 'hardest' picks farthest positive and nearest negative (Euclidean)", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(8);
  const b = 12, d = 3, margin = 1.5;
  const { emb, lab, x, labels } = randomBatch(rng, b, d, 3);
  const dist = (i: number, j: number) => Math.sqrt(sqDist(x, d, i, j));
  const expected: [number, number, number][] = [];
  for (let i = 0; i < b; i++) {
    const others = labels.map((_, j) => j).filter((j) => j !== i);
    const pos = others.filter((j) => labels[j] === labels[i]);
    const neg = others.filter((j) => labels[j] !== labels[i]);
    if (pos.length) expected.push([i, pos.reduce((u, v) => (dist(i, v) > dist(i, u) ? v : u)), 1]);
    const n = neg.length ? neg.reduce((u, v) => (dist(i, v) < dist(i, u) ? v : u)) : -1;
    if (n >= 0 && dist(i, n) < margin) expected.push([i, n, 0]);
  }
  const p = minePairs(emb, lab, { strategy: "hardest", margin });
  assert.deepEqual(arr(p.first).map((f, k) => [f, p.second[k], p.same[k]]), expected);
  tf.dispose([emb, lab]);
});

test("batch-hard triplet loss >= mean loss over all triplets (balanced classes)", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(21);
  // With equal class sizes every anchor has the same number of triplets, so the mean over
  // all triplets is the mean over anchors of per-anchor means, each <= that anchor's hardest.
  for (const [b, d, classes, margin] of [[8, 2, 2, 0.2], [12, 3, 3, 1], [16, 4, 4, 0.5]]) {
    const { emb, lab } = randomBatch(rng, b, d, classes, true);
    const loss = (strategy: "all" | "hardest") => {
      const t = mineTriplets(emb, lab, { strategy });
      return tf.tidy(() =>
        tripletLoss(tf.gather(emb, t.anchor), tf.gather(emb, t.positive), tf.gather(emb, t.negative), { margin }).dataSync()[0],
      );
    };
    const hard = loss("hardest"), all = loss("all");
    assert.ok(hard >= all - 1e-6, `hardest ${hard} < all ${all}`);
    assert.ok(hard > 0);
    tf.dispose([emb, lab]);
  }
});

test("nothing minable gives empty arrays; miners leak no tensors", async () => {
  await tf.setBackend("cpu");
  const emb = tf.tensor2d([[0, 1], [2, 3], [4, 5]]);
  const one = tf.tensor1d([7, 7, 7], "int32");
  const singletons = tf.tensor1d([0, 1, 2], "int32");
  const before = tf.memory().numTensors;
  for (const strategy of ["all", "hardest", "semi-hard"] as const) {
    for (const labels of [one, singletons]) {
      const t = mineTriplets(emb, labels, { strategy });
      assert.deepEqual([t.anchor.length, t.positive.length, t.negative.length], [0, 0, 0]);
    }
  }
  // One label: hardest pairs are only positives; singletons: only negatives.
  assert.deepEqual(arr(minePairs(emb, one, { strategy: "hardest" }).same), [1, 1, 1]);
  assert.deepEqual(arr(minePairs(emb, singletons, { strategy: "hardest" }).same), [0, 0, 0]);
  assert.equal(minePairs(emb, singletons, { strategy: "hardest", margin: 1 }).first.length, 0);
  const single = tf.tensor2d([[1, 2]]);
  const singleLabel = tf.tensor1d([0], "int32");
  assert.equal(minePairs(single, singleLabel, { strategy: "all" }).first.length, 0);
  tf.dispose([single, singleLabel]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([emb, one, singletons]);
});

test("bad inputs are rejected naming the argument", async () => {
  await tf.setBackend("cpu");
  const emb = tf.tensor2d([[0, 1], [2, 3], [4, 5]]);
  const lab = tf.tensor1d([0, 0, 1], "int32");
  const vec = tf.tensor1d([1, 2, 3]);
  const short = tf.tensor1d([0, 1], "int32");
  const floatLab = tf.tensor1d([0, 0, 1]);
  const intEmb = tf.tensor2d([[0, 1], [2, 3], [4, 5]], [3, 2], "int32");
  const bad = (f: () => unknown, re: RegExp) => assert.throws(f, re);
  bad(() => mineTriplets(vec as unknown as tf.Tensor2D, lab, { strategy: "all" }), /mineTriplets: embeddings must be a float32 tensor of shape \[n,d\], got a tensor of shape \[3\]/);
  bad(() => mineTriplets(intEmb, lab, { strategy: "all" }), /mineTriplets: embeddings must be a float32 tensor of shape \[n,d\], got an int32 tensor of shape \[3,2\]/);
  bad(() => mineTriplets(emb, short, { strategy: "all" }), /mineTriplets: labels must be an int32 tensor of shape \[3\], got a tensor of shape \[2\]/);
  bad(() => mineTriplets(emb, floatLab, { strategy: "all" }), /mineTriplets: labels must be an int32 tensor of shape \[3\], got a float32 tensor of shape \[3\]/);
  bad(() => mineTriplets(emb, lab, { strategy: "hard" as "all" }), /mineTriplets: options.strategy must be one of "all", "hardest", "semi-hard", got "hard"/);
  bad(() => mineTriplets(emb, lab, { strategy: "semi-hard", distance: "cosine" as "squared" }), /mineTriplets: options.distance must be one of/);
  bad(() => mineTriplets(emb, lab, { strategy: "semi-hard", margin: -1 }), /mineTriplets: options.margin must be a finite number >= 0, got -1/);
  bad(() => mineTriplets(emb, lab, undefined as unknown as { strategy: "all" }), /mineTriplets: options must be an object/);
  bad(() => minePairs(emb, lab, { strategy: "semi-hard" as "all" }), /minePairs: options.strategy must be one of "all", "hardest", got "semi-hard"/);
  bad(() => minePairs(emb, short, { strategy: "all" }), /minePairs: labels must be an int32 tensor of shape \[3\], got a tensor of shape \[2\]/);
  bad(() => minePairs(emb, lab, { strategy: "hardest", margin: NaN }), /minePairs: options.margin must be a finite number/);
  tf.dispose([emb, lab, vec, short, floatLab, intEmb]);
});

test("training 2-D points with tripletLoss on semi-hard triplets lowers the violated fraction", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(3);
  const b = 12, margin = 0.5;
  const labels = Array.from({ length: b }, (_, i) => i % 3);
  const lab = tf.tensor1d(labels, "int32");
  const points = tf.variable(tf.tensor2d(Array.from({ length: b * 2 }, () => rng.normal()), [b, 2]));
  const violated = () => {
    const x = points.dataSync() as Float32Array;
    let bad = 0, total = 0;
    for (let a = 0; a < b; a++) for (let p = 0; p < b; p++) for (let n = 0; n < b; n++) {
      if (a === p || labels[p] !== labels[a] || labels[n] === labels[a]) continue;
      total++;
      if (sqDist(x, 2, a, p) + margin > sqDist(x, 2, a, n)) bad++;
    }
    return bad / total;
  };
  const start = violated();
  const opt = tf.train.sgd(0.05);
  let trainedSteps = 0;
  for (let step = 0; step < 40; step++) {
    const t = mineTriplets(points, lab, { strategy: "semi-hard", margin });
    if (t.anchor.length === 0) continue;
    trainedSteps++;
    const cost = opt.minimize(
      () => tripletLoss(tf.gather(points, t.anchor), tf.gather(points, t.positive), tf.gather(points, t.negative), { margin }),
      true,
      [points],
    );
    cost?.dispose();
  }
  const end = violated();
  assert.ok(trainedSteps > 0);
  assert.ok(end < start, `violated fraction ${start} -> ${end}`);
  opt.dispose();
  tf.dispose([points, lab]);
});
