import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { buildVocab } from "../../src/data/vocab";
import { createRng, type Rng } from "../../src/data/random";
import { weat, weatEffectSize, weatPermutationTest, wordCoverage, type WordIndex } from "../../src/evaluation/weat";

/** A vocabulary over `words` (id = position + 1; 0 is unknown) and a table with `rows[w]` at w's id. */
function table(rows: Record<string, number[]>): { vocab: WordIndex; vectors: tf.Tensor2D; words: string[] } {
  const words = Object.keys(rows);
  const ids = new Map(words.map((w, i) => [w, i + 1]));
  const dim = rows[words[0]].length;
  const vectors = tf.tensor2d([new Array(dim).fill(0), ...words.map((w) => rows[w])]);
  return { vocab: { has: (w) => ids.has(w), index: (w) => ids.get(w) ?? 0 }, vectors, words };
}

const gaussian = (rng: Rng, dim: number, scale = 1) => Array.from({ length: dim }, () => scale * rng.normal());
const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** Float64 WEAT straight from the definitions, on float32-rounded vectors. */
function referenceWeat(rows: Record<string, number[]>, x: string[], y: string[], a: string[], b: string[]) {
  const v = (w: string) => rows[w].map(Math.fround);
  const cos = (p: number[], q: number[]) => {
    let d = 0, np = 0, nq = 0;
    for (let i = 0; i < p.length; i++) { d += p[i] * q[i]; np += p[i] * p[i]; nq += q[i] * q[i]; }
    return d / Math.sqrt(np * nq);
  };
  const mean = (u: number[]) => u.reduce((s, t) => s + t, 0) / u.length;
  const s = (w: string) => mean(a.map((t) => cos(v(w), v(t)))) - mean(b.map((t) => cos(v(w), v(t))));
  const sx = x.map(s), sy = y.map(s);
  const all = [...sx, ...sy];
  const m = mean(all);
  const sd = Math.sqrt(all.reduce((acc, t) => acc + (t - m) ** 2, 0) / (all.length - 1));
  return { sx, sy, statistic: sx.reduce((p, t) => p + t, 0) - sy.reduce((p, t) => p + t, 0), effectSize: (mean(sx) - mean(sy)) / sd };
}

/** Brute force over all 2^n subsets of size |sx|: share whose sum reaches sum(sx). */
function brutePValue(sx: number[], sy: number[]): number {
  const all = [...sx, ...sy];
  const observed = sx.reduce((s, t) => s + t, 0);
  let hits = 0, count = 0;
  for (let mask = 0; mask < 1 << all.length; mask++) {
    let bits = 0, s = 0;
    for (let i = 0; i < all.length; i++) if (mask & (1 << i)) { bits++; s += all[i]; }
    if (bits !== sx.length) continue;
    count++;
    if (s >= observed - 1e-12) hits++;
  }
  return hits / count;
}

/** Seeded vectors where X sits near A and Y near B by `strength` (0: no association). */
function planted(seed: number, strength: number, n = 8, dim = 16) {
  const rng = createRng(seed);
  const poleA = gaussian(rng, dim), poleB = gaussian(rng, dim);
  const rows: Record<string, number[]> = {};
  const near = (pole: number[], k: number) => gaussian(rng, dim).map((t, i) => t + k * pole[i]);
  for (const w of names("a", n)) rows[w] = near(poleA, 1);
  for (const w of names("b", n)) rows[w] = near(poleB, 1);
  for (const w of names("x", n)) rows[w] = near(poleA, strength);
  for (const w of names("y", n)) rows[w] = near(poleB, strength);
  return { rows, lists: { x: names("x", n), y: names("y", n), a: names("a", n), b: names("b", n) } };
}

test("weat on hand-made 2-d vectors: s, statistic, effect size and p by hand", async () => {
  await tf.setBackend("cpu");
  // s(x1) = 1 - 0, s(x2) = 1/sqrt2 - 1/sqrt2 = 0, s(y1) = 0 - 1, s(y2) = -1/sqrt2 - 1/sqrt2 = -sqrt2.
  const { vocab, vectors } = table({ x1: [1, 0], x2: [1, 1], y1: [0, 1], y2: [-1, 1], a1: [1, 0], a2: [2, 0], b1: [0, 1], b2: [0, 3] });
  const before = tf.memory().numTensors;
  const r = weat(vectors, vocab, { x: ["x1", "x2"], y: ["y1", "y2"], a: ["a1", "a2"], b: ["b1", "b2"] });
  assert.equal(tf.memory().numTensors, before);
  const close = (got: number, want: number, what: string) => assert.ok(Math.abs(got - want) < 1e-6, `${what}: ${got} vs ${want}`);
  [1, 0].forEach((v, i) => close(r.associations.x[i], v, `s(x${i + 1})`));
  [-1, -Math.SQRT2].forEach((v, i) => close(r.associations.y[i], v, `s(y${i + 1})`));
  close(r.statistic, 2 + Math.SQRT2, "statistic");
  // Values 1, 0, -1, -sqrt2: sum of squares about the mean = 4 - 4 (sqrt2/4)^2 = 3.5.
  close(r.effectSize, (1 + Math.SQRT2 / 2) / Math.sqrt(3.5 / 3), "effect size (sample std)");
  close(weatEffectSize(r.associations.x, r.associations.y, "population"), (1 + Math.SQRT2 / 2) / Math.sqrt(3.5 / 4), "effect size (population std)");
  // Of the C(4, 2) = 6 partitions only the observed one has a part sum >= 1.
  assert.equal(r.method, "exact");
  assert.equal(r.permutations, 6);
  close(r.pValue, 1 / 6, "p");
  assert.deepEqual(r.droppedForBalance, []);
  vectors.dispose();
});

test("weat matches a float64 reference on random vectors; no tensor leak", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(3);
  const rows: Record<string, number[]> = {};
  const lists = { x: names("x", 5), y: names("y", 5), a: names("a", 4), b: names("b", 3) };
  for (const w of [...lists.x, ...lists.y, ...lists.a, ...lists.b]) rows[w] = gaussian(rng, 6);
  const { vocab, vectors } = table(rows);
  const before = tf.memory().numTensors;
  const r = weat(vectors, vocab, lists);
  assert.equal(tf.memory().numTensors, before);
  const ref = referenceWeat(rows, lists.x, lists.y, lists.a, lists.b);
  ref.sx.forEach((v, i) => assert.ok(Math.abs(r.associations.x[i] - v) < 1e-9));
  ref.sy.forEach((v, i) => assert.ok(Math.abs(r.associations.y[i] - v) < 1e-9));
  assert.ok(Math.abs(r.statistic - ref.statistic) < 1e-9);
  assert.ok(Math.abs(r.effectSize - ref.effectSize) < 1e-9);
  assert.ok(Math.abs(r.pValue - brutePValue(ref.sx, ref.sy)) < 1e-12);
  vectors.dispose();
});

test("exact permutation p equals brute force, also for unequal sizes; Monte Carlo approximates it under a seed", () => {
  const rng = createRng(9);
  for (const [nx, ny] of [[5, 5], [3, 6], [4, 4], [2, 1]]) {
    for (let trial = 0; trial < 5; trial++) {
      const sx = Array.from({ length: nx }, () => rng.normal() + 0.5 * trial);
      const sy = Array.from({ length: ny }, () => rng.normal());
      const exact = weatPermutationTest(sx, sy);
      assert.equal(exact.method, "exact");
      assert.ok(Math.abs(exact.pValue - brutePValue(sx, sy)) < 1e-12, `${nx}+${ny} trial ${trial}`);
    }
  }
  // Ties: every partition reaches the observed sum, p = 1.
  assert.equal(weatPermutationTest([1, 1], [1, 1]).pValue, 1);
  const sx = [0.3, 0.1, 0.25, -0.05, 0.2, 0.12], sy = [0.05, -0.1, 0.15, 0, -0.2, 0.1];
  const exact = weatPermutationTest(sx, sy).pValue;
  const mc = weatPermutationTest(sx, sy, { maxExactPartitions: 1, permutations: 20000, seed: 4 });
  assert.equal(mc.method, "monte-carlo");
  assert.equal(mc.permutations, 20000);
  assert.ok(Math.abs(mc.pValue - exact) < 0.01, `${mc.pValue} vs ${exact}`);
  assert.equal(weatPermutationTest(sx, sy, { maxExactPartitions: 1, permutations: 500, seed: 4 }).pValue, weatPermutationTest(sx, sy, { maxExactPartitions: 1, permutations: 500, seed: 4 }).pValue);
  // Monte Carlo never returns 0: (1 + hits) / (1 + permutations); the exact answer here is 1 / C(6, 3) = 1 / 20.
  assert.equal(weatPermutationTest([10, 11, 12], [0, 1, 2]).pValue, 1 / 20);
  const rare = weatPermutationTest([10, 11, 12], [0, 1, 2], { maxExactPartitions: 1, permutations: 99 }).pValue;
  assert.ok(rare >= 1 / 100 && rare < 0.2, `p ${rare}`);
  assert.throws(() => weatPermutationTest([1], [NaN]), /weatPermutationTest: sy\[0\] must be a finite number, got NaN/);
  assert.throws(() => weatPermutationTest([1], [2]), /weatPermutationTest: sx and sy must hold at least 3 values together, got 1 and 1/);
  assert.throws(() => weatPermutationTest([1, 2], [3], { permutations: 0 }), /weatPermutationTest: options.permutations must be a positive integer, got 0/);
});

test("a planted association gives a large effect and a small p; random vectors give spread-out p-values", async () => {
  await tf.setBackend("cpu");
  const strong = planted(1, 1);
  const t = table(strong.rows);
  const r = weat(t.vectors, t.vocab, strong.lists);
  assert.equal(r.method, "exact"); // C(16, 8) = 12870 partitions
  assert.equal(r.permutations, 12870);
  assert.ok(r.effectSize > 1.5, `effect size ${r.effectSize}`);
  assert.ok(r.pValue < 0.01, `p ${r.pValue}`);
  // The same lists swapped: the association reverses.
  const swapped = weat(t.vectors, t.vocab, { ...strong.lists, a: strong.lists.b, b: strong.lists.a });
  assert.ok(Math.abs(swapped.effectSize + r.effectSize) < 1e-9);
  assert.ok(swapped.pValue > 0.99);
  t.vectors.dispose();
  const pValues: number[] = [];
  for (let seed = 0; seed < 20; seed++) {
    const nullCase = planted(100 + seed, 0);
    const n = table(nullCase.rows);
    pValues.push(weat(n.vectors, n.vocab, nullCase.lists).pValue);
    n.vectors.dispose();
  }
  const small = pValues.filter((p) => p < 0.05).length;
  const mean = pValues.reduce((s, p) => s + p, 0) / pValues.length;
  assert.ok(small <= 5, `${small} of 20 null p-values below 0.05: ${pValues.map((p) => p.toFixed(3))}`);
  assert.ok(mean > 0.25 && mean < 0.75, `mean null p ${mean}`);
});

test("coverage is reported; too few words, unequal sizes and bad input throw with the reason", async () => {
  await tf.setBackend("cpu");
  const vocab = buildVocab(["rose", "rose", "tulip", "ant", "bee", "wasp", "love", "peace", "war", "death"]);
  const cov = wordCoverage(vocab, ["rose", "zinnia", "tulip"]);
  assert.deepEqual(cov.covered, ["rose", "tulip"]);
  assert.deepEqual(cov.missing, ["zinnia"]);
  assert.deepEqual(Array.from(cov.ids), [vocab.index("rose"), vocab.index("tulip")]);
  assert.throws(() => wordCoverage(vocab, ["rose", "rose"]), /wordCoverage: words must not repeat a word, got "rose" twice/);
  const vectors = tf.tensor2d(Array.from({ length: vocab.size * 3 }, (_, i) => Math.sin(i + 1)), [vocab.size, 3]);
  const lists = { x: ["rose", "tulip", "zinnia"], y: ["ant", "bee", "wasp", "gnat"], a: ["love", "peace", "joy"], b: ["war", "death"] };
  const before = tf.memory().numTensors;
  const r = weat(vectors, vocab, lists, { seed: 5 });
  assert.deepEqual(r.coverage.x.missing, ["zinnia"]);
  assert.deepEqual(r.coverage.y.missing, ["gnat"]);
  assert.deepEqual(r.coverage.a.missing, ["joy"]);
  assert.deepEqual(r.coverage.b.missing, []);
  // Y has 3 covered words, X 2: one of Y is dropped (seeded) and reported.
  assert.deepEqual(r.x, ["rose", "tulip"]);
  assert.equal(r.y.length, 2);
  assert.equal(r.droppedForBalance.length, 1);
  assert.deepEqual([...r.y, ...r.droppedForBalance].sort(), ["ant", "bee", "wasp"]);
  assert.deepEqual(weat(vectors, vocab, lists, { seed: 5 }).y, r.y);
  assert.equal(tf.memory().numTensors, before);
  // "keep": every covered word stays; the test permutes parts of sizes 2 and 3 (C(5, 2) = 10 partitions).
  const kept = weat(vectors, vocab, lists, { unequalTargets: "keep" });
  assert.deepEqual(kept.y, ["ant", "bee", "wasp"]);
  assert.deepEqual(kept.droppedForBalance, []);
  assert.equal(kept.permutations, 10);
  assert.equal(kept.pValue, weatPermutationTest(kept.associations.x, kept.associations.y).pValue);
  assert.throws(
    () => weat(vectors, vocab, lists, { unequalTargets: "error" }),
    /weat: lists.x and lists.y must have as many words in the vocabulary \(the test permutes equal-size partitions\), got 2 and 3/,
  );
  assert.throws(
    () => weat(vectors, vocab, { ...lists, b: ["war", "famine"] }),
    /weat: lists.b must have at least 2 words in the vocabulary, got 1 \(war; missing: famine\)/,
  );
  assert.throws(() => weat(vectors, vocab, { ...lists, x: ["rose", "ant"] }), /weat: lists.x and lists.y must not share a word \(a word cannot be on both sides\), got ant in both/);
  assert.throws(() => weat(vectors, vocab, { ...lists, x: ["rose", "rose"] }), /weat: lists.x must not repeat a word, got "rose" twice/);
  assert.throws(() => weat(tf.zeros([4]) as unknown as tf.Tensor2D, vocab, lists), /weat: vectors must be a tensor of shape \[n,d\], got a tensor of shape \[4\]/);
  assert.throws(() => weat(vectors, {} as WordIndex, lists), /weat: vocab must be a vocabulary with has\(word\) and index\(word\)/);
  assert.throws(() => weat(vectors.slice([0, 0], [3, 3]), vocab, lists), /weat: vocab.index\("\w+"\) must be a row of vectors in \[0, 3\), got \d+/);
  assert.throws(() => weat(vectors, vocab, lists, { unequalTargets: "drop" as "error" }), /weat: options.unequalTargets must be one of "subsample", "keep", "error", got "drop"/);
  assert.throws(() => weatEffectSize([1], [2], "sample"), /weatEffectSize: sx and sy must hold at least 3 values together/);
  vectors.dispose();
});
