import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng, type Rng } from "../../src/data/random";
import { biasDirection, biasProjections, equalize, neutralize, pairCoverage } from "../../src/evaluation/debias";
import { weat, type WordIndex } from "../../src/evaluation/weat";
import { onWasm } from "../methods/vision/helpers";

const DIM = 12;
const gaussian = (rng: Rng, dim: number, scale = 1) => Array.from({ length: dim }, () => scale * rng.normal());
const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((t) => t / n);
};
const dot = (u: ArrayLike<number>, v: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < u.length; i++) s += u[i] * v[i];
  return s;
};

/**
 * A seeded world with a planted gender direction g: definitional pairs
 * base +- 0.8 g, "career" words on the male side (-0.6 g), "family" words on
 * the female side (+0.6 g), male and female attribute terms at -+0.8 g.
 */
function world(seed: number) {
  const rng = createRng(seed);
  const g = unit(gaussian(rng, DIM));
  const rows: Record<string, number[]> = {};
  const put = (w: string, along: number, noise = 1) => (rows[w] = gaussian(rng, DIM, noise).map((t, i) => t + along * g[i]));
  const pairs: [string, string][] = [];
  for (let p = 0; p < 6; p++) {
    const base = gaussian(rng, DIM);
    const jitter = () => gaussian(rng, DIM, 0.05);
    const f = jitter(), m = jitter();
    rows[`f${p}`] = base.map((t, i) => t + 0.8 * g[i] + f[i]);
    rows[`m${p}`] = base.map((t, i) => t - 0.8 * g[i] + m[i]);
    pairs.push([`f${p}`, `m${p}`]);
  }
  const lists = { x: [] as string[], y: [] as string[], a: [] as string[], b: [] as string[] };
  for (let i = 0; i < 8; i++) {
    lists.x.push(put(`career${i}`, -1.2, 0.6) && `career${i}`);
    lists.y.push(put(`family${i}`, 1.2, 0.6) && `family${i}`);
    lists.a.push(put(`he${i}`, -1.5, 0.6) && `he${i}`);
    lists.b.push(put(`she${i}`, 1.5, 0.6) && `she${i}`);
  }
  const words = Object.keys(rows);
  const ids = new Map(words.map((w, i) => [w, i + 1]));
  const vocab: WordIndex = { has: (w) => ids.has(w), index: (w) => ids.get(w) ?? 0 };
  const vectors = tf.tensor2d([gaussian(rng, DIM), ...words.map((w) => rows[w])]);
  return { g, rows, pairs, lists, vocab, vectors, ids: (ws: string[]) => Int32Array.from(ws, (w) => ids.get(w) as number) };
}

/** Float64 reference: top eigenvector of sum_p d_p d_p^T, d_p = (unit(a) - unit(b)) / 2, by power iteration. */
function referenceDirection(rows: Record<string, number[]>, pairs: [string, string][]): number[] {
  const d = pairs.map(([a, b]) => {
    const ua = unit(rows[a].map(Math.fround)), ub = unit(rows[b].map(Math.fround));
    return ua.map((t, i) => (t - ub[i]) / 2);
  });
  let v = new Array(DIM).fill(1);
  for (let it = 0; it < 2000; it++) {
    const next = new Array(DIM).fill(0);
    for (const row of d) {
      const c = dot(row, v);
      row.forEach((t, i) => (next[i] += c * t));
    }
    v = unit(next);
  }
  return v;
}

test("biasDirection recovers a planted direction and matches a float64 PCA; coverage of pairs", async () => {
  await tf.setBackend("cpu");
  const w = world(1);
  const before = tf.memory().numTensors;
  const r = biasDirection(w.vectors, w.vocab, [...w.pairs, ["f0", "nowhere"]]);
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(r.coverage.missing, [["f0", "nowhere"]]);
  assert.equal(r.coverage.covered.length, 6);
  assert.equal(r.direction.length, DIM);
  assert.ok(Math.abs(dot(r.direction, r.direction) - 1) < 1e-6);
  assert.ok(dot(r.direction, w.g) > 0.95, `cos with planted ${dot(r.direction, w.g)}`); // signed toward the first words (f)
  const ref = referenceDirection(w.rows, w.pairs);
  assert.ok(Math.abs(Math.abs(dot(r.direction, ref)) - 1) < 1e-6, `cos with reference ${dot(r.direction, ref)}`);
  assert.equal(r.explainedVarianceRatio.length, 6);
  assert.ok(Math.abs(r.explainedVarianceRatio.reduce((s, v) => s + v, 0) - 1) < 1e-9);
  assert.ok(r.explainedVarianceRatio[0] > 0.8, `first component ${r.explainedVarianceRatio[0]}`);
  for (let i = 1; i < 6; i++) assert.ok(r.explainedVarianceRatio[i] <= r.explainedVarianceRatio[i - 1] + 1e-12);
  // Reversed pairs flip the sign, not the axis.
  const flipped = biasDirection(w.vectors, w.vocab, w.pairs.map(([a, b]) => [b, a] as [string, string]));
  assert.ok(dot(flipped.direction, r.direction) < -0.999999);
  assert.throws(
    () => biasDirection(w.vectors, w.vocab, [["f0", "m0"], ["f1", "x"]]),
    /biasDirection: pairs must have at least 2 pairs with both words in the vocabulary, got 1 \(missing: f1\/x\)/,
  );
  assert.throws(() => pairCoverage(w.vocab, [["f0"] as unknown as [string, string]]), /pairCoverage: pairs\[0\] must be a pair of words \[string, string\], got \["f0"\]/);
  w.vectors.dispose();
});

test("neutralize zeroes the projections of its words, keeps the others' directions and shrinks WEAT's planted effect", async () => {
  await tf.setBackend("cpu");
  const w = world(2);
  const g = biasDirection(w.vectors, w.vocab, w.pairs).direction;
  const targets = w.ids([...w.lists.x, ...w.lists.y]);
  const beforeProj = biasProjections(w.vectors, g, targets);
  assert.ok(beforeProj.every((p) => Math.abs(p) > 0.05), "targets lean to a side before");
  const beforeWeat = weat(w.vectors, w.vocab, w.lists);
  const count = tf.memory().numTensors;
  const debiased = neutralize(w.vectors, g, targets);
  assert.equal(tf.memory().numTensors, count + 1); // only the returned table
  const afterProj = biasProjections(debiased, g, targets);
  afterProj.forEach((p) => assert.ok(Math.abs(p) < 1e-6, `projection ${p}`));
  // Every row is unit length; untouched rows keep their direction.
  const table = debiased.arraySync();
  const original = w.vectors.arraySync();
  table.forEach((row, i) => assert.ok(Math.abs(Math.hypot(...row) - 1) < 1e-5, `row ${i}`));
  for (const id of w.ids(w.lists.a)) assert.ok(dot(table[id], unit(original[id])) > 1 - 1e-6);
  const afterWeat = weat(debiased, w.vocab, w.lists);
  assert.ok(beforeWeat.effectSize > 1.5, `before ${beforeWeat.effectSize}`);
  assert.ok(beforeWeat.pValue < 0.01, `before p ${beforeWeat.pValue}`);
  assert.ok(Math.abs(afterWeat.effectSize) < beforeWeat.effectSize / 2, `after ${afterWeat.effectSize} vs ${beforeWeat.effectSize}`);
  assert.throws(() => neutralize(w.vectors, [1, 2], targets), /neutralize: direction must be 12 numbers \(one per vector dimension\), got \[1,2\]/);
  assert.throws(() => neutralize(w.vectors, new Array(DIM).fill(0), targets), /neutralize: direction must be a finite non-zero vector/);
  assert.throws(() => neutralize(w.vectors, g, [1, 9999]), /neutralize: ids\[1\] must be an integer in \[0, \d+\), got 9999/);
  assert.throws(() => biasProjections(w.vectors, g, [0.5]), /biasProjections: ids\[0\] must be an integer in \[0, \d+\), got 0.5/);
  debiased.dispose();
  w.vectors.dispose();
});

test("equalize makes each pair symmetric about the direction and equidistant from neutral words", async () => {
  await tf.setBackend("cpu");
  const w = world(3);
  const g = biasDirection(w.vectors, w.vocab, w.pairs).direction;
  const neutral = w.ids(w.lists.x);
  const neutralised = neutralize(w.vectors, g, neutral);
  // Pairs with unequal gender components, none of them neutralised: (she0, he1) and (family0, he2).
  const pairs = pairCoverage(w.vocab, [["she0", "he1"], ["family0", "he2"], ["she0", "gone"]]);
  assert.deepEqual(pairs.missing, [["she0", "gone"]]);
  const count = tf.memory().numTensors;
  const equalized = equalize(neutralised, g, pairs.ids);
  assert.equal(tf.memory().numTensors, count + 1);
  const table = equalized.arraySync();
  for (const [a, b] of pairs.ids) {
    const [pa, pb] = biasProjections(equalized, g, [a, b]);
    assert.ok(pa > 0 && Math.abs(pa + pb) < 1e-6, `projections ${pa}, ${pb}`); // the female word stays on the + side
    assert.ok(Math.abs(Math.hypot(...table[a]) - 1) < 1e-5 && Math.abs(Math.hypot(...table[b]) - 1) < 1e-5);
    // Equal parts orthogonal to g: the mirror images of each other.
    const offA = table[a].map((t, i) => t - pa * g[i]), offB = table[b].map((t, i) => t - pb * g[i]);
    offA.forEach((t, i) => assert.ok(Math.abs(t - offB[i]) < 1e-5));
    for (const n of neutral) assert.ok(Math.abs(dot(table[n], table[a]) - dot(table[n], table[b])) < 1e-5);
  }
  assert.throws(() => equalize(neutralised, g, [[1, 2], [2, 3]]), /equalize: pairs must not share a word \(the result would depend on their order\), got id 2 twice \(pairs\[1\]\)/);
  assert.throws(() => equalize(neutralised, g, [[1, 1]]), /equalize: pairs must not share a word/);
  assert.throws(() => equalize(neutralised, g, [[1, 99999]]), /equalize: pairs\[0\]\[1\] must be an integer in \[0, \d+\), got 99999/);
  // Two words with the same projection give no side to keep.
  const twins = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  assert.throws(() => equalize(twins, [1, 0, 0], [[1, 2]]), /equalize: pairs\[0\] must project differently on direction, got ids 1 and 2 with equal projections/);
  twins.dispose();
  equalized.dispose();
  neutralised.dispose();
  w.vectors.dispose();
});

test("on wasm: direction, neutralize, equalize and WEAT give the cpu's numbers; no leaks", async () => {
  await tf.setBackend("cpu");
  const run = () => {
    const w = world(4);
    const count = tf.memory().numTensors;
    const g = biasDirection(w.vectors, w.vocab, w.pairs);
    const neutral = neutralize(w.vectors, g.direction, w.ids([...w.lists.x, ...w.lists.y]));
    const equal = equalize(neutral, g.direction, pairCoverage(w.vocab, [["she0", "he0"]]).ids);
    const r = weat(equal, w.vocab, w.lists);
    const out = { direction: Array.from(g.direction), table: Array.from(equal.dataSync()), effectSize: r.effectSize, pValue: r.pValue };
    neutral.dispose();
    equal.dispose();
    assert.equal(tf.memory().numTensors, count);
    w.vectors.dispose();
    return out;
  };
  const cpu = run();
  const wasm = await onWasm(run);
  cpu.direction.forEach((v, i) => assert.ok(Math.abs(v - wasm.direction[i]) < 1e-6));
  cpu.table.forEach((v, i) => assert.ok(Math.abs(v - wasm.table[i]) < 1e-6));
  assert.ok(Math.abs(cpu.effectSize - wasm.effectSize) < 1e-6);
  assert.equal(cpu.pValue, wasm.pValue);
});
