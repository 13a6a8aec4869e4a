import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { parseWordNetData } from "../../src/data/wordnet";
import { nearestNeighbours, pairCosines, rocAuc, synonymAuc, synonymBenchmark } from "../../src/evaluation/word_similarity";

/** Brute force: count every (positive, negative) pair, ties half. */
function bruteAuc(pos: number[], neg: number[]): number {
  let s = 0;
  for (const p of pos) for (const n of neg) s += p > n ? 1 : p === n ? 0.5 : 0;
  return s / (pos.length * neg.length);
}

test("rocAuc equals the brute-force pair count, with many ties", () => {
  assert.equal(rocAuc([0.9, 0.5], [0.5, 0.1]), 0.875);
  assert.equal(rocAuc([1, 1], [1]), 0.5);
  const rng = createRng(11);
  for (let trial = 0; trial < 20; trial++) {
    const pos = Array.from({ length: 1 + rng.int(40) }, () => rng.int(6));
    const neg = Array.from({ length: 1 + rng.int(40) }, () => rng.int(6) - 1);
    assert.ok(Math.abs(rocAuc(pos, neg) - bruteAuc(pos, neg)) < 1e-12, `trial ${trial}`);
  }
  assert.throws(() => rocAuc([], [1]), /rocAuc: positive and negative must be non-empty, got \[0\] and \[1\]/);
  assert.throws(() => rocAuc([1], [NaN]), /rocAuc: negative\[0\] must be a number, got NaN/);
});

test("pairCosines and nearestNeighbours vs float64 loops; no leaks", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(2);
  const rows = Array.from({ length: 12 }, () => Array.from({ length: 4 }, () => rng.normal()));
  rows[5] = [0, 0, 0, 0];
  const cos = (x: number[], y: number[]) => {
    const d = x.reduce((s, v, i) => s + v * y[i], 0);
    const n = Math.hypot(...x) * Math.hypot(...y);
    return n === 0 ? 0 : d / n;
  };
  const vectors = tf.tensor2d(rows);
  const before = tf.memory().numTensors;
  const a = Int32Array.from([0, 1, 5, 7]);
  const b = Int32Array.from([3, 1, 2, 11]);
  const got = pairCosines(vectors, { a, b });
  a.forEach((x, k) => assert.ok(Math.abs(got[k] - cos(rows[x], rows[b[k]])) < 1e-5));
  const nn = nearestNeighbours(vectors, [0, 4], { k: 3, exclude: [2] });
  [0, 4].forEach((q, r) => {
    const ranked = rows
      .map((row, j) => [j, cos(rows[q], row)] as [number, number])
      .filter(([j]) => j !== q && j !== 2)
      .sort((x, y) => y[1] - x[1]);
    assert.deepEqual(nn.ids[r], ranked.slice(0, 3).map(([j]) => j));
    nn.similarities[r].forEach((s, k) => assert.ok(Math.abs(s - ranked[k][1]) < 1e-5));
  });
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => nearestNeighbours(vectors, [12]), /nearestNeighbours: queries\[0\] must be an id in \[0, 12\), got 12/);
  assert.throws(() => pairCosines(vectors, { a, b: b.slice(1) }), /pairCosines: pairs\.b must have 4 entries like pairs\.a, got an Int32Array of length 3/);
  vectors.dispose();
});

test("synonymBenchmark and synonymAuc: in-vocabulary synonyms, random non-synonym negatives", async () => {
  await tf.setBackend("cpu");
  const synsets = parseWordNetData(
    [
      "00000001 00 n 03 car 0 automobile 0 motor_car 0 000 | x",
      "00000002 00 a 02 big 0 large 0 000 | x",
      "00000003 00 a 02 small 0 little 0 000 | x",
      "00000004 00 a 02 small 0 tiny 0 000 | x",
      "00000005 00 a 02 huge 0 enormous 0 000 | x",
    ].join("\n"),
    "noun",
  );
  const words = ["<unk>", "car", "automobile", "big", "large", "small", "little", "tiny", "dog"];
  const bench = synonymBenchmark(words, synsets, { seed: 1, negativesPerPositive: 3 });
  const pos = Array.from(bench.positives.a, (x, k) => [words[x], words[bench.positives.b[k]]].join(" "));
  assert.deepEqual(pos, ["automobile car", "big large", "little small", "small tiny"]);
  assert.equal(bench.negatives.a.length, 12);
  const synonymSet = new Set(pos);
  bench.negatives.a.forEach((x, k) => {
    const y = bench.negatives.b[k];
    assert.notEqual(x, y);
    const key = [words[x], words[y]].sort().join(" ");
    assert.ok(!synonymSet.has(key), `negative ${key} is a synonym pair`);
    assert.ok(words[x] !== "dog" && words[y] !== "dog", "negatives come from words in synonym pairs");
  });
  // Vectors that put each synonym pair on the same direction and others apart: AUC 1.
  const dirs: Record<string, number[]> = { car: [1, 0, 0, 0], automobile: [1, 0, 0, 0], big: [0, 1, 0, 0], large: [0, 1, 0, 0], small: [0, 0, 1, 0], little: [0, 0, 1, 0.1], tiny: [0, 0, 1, -0.1] };
  const vectors = tf.tensor2d(words.map((w) => dirs[w] ?? [0, 0, 0, 1]));
  const result = synonymAuc(vectors, bench);
  assert.equal(result.auc, rocAuc(pairCosines(vectors, bench.positives), pairCosines(vectors, bench.negatives)));
  assert.ok(result.auc > 0.95);
  assert.ok(result.positiveMean > result.negativeMean);
  const constant = synonymAuc(() => new Float64Array(bench.positives.a.length), { positives: bench.positives, negatives: bench.positives });
  assert.equal(constant.auc, 0.5);
  assert.throws(() => synonymAuc(() => [1], bench), /synonymAuc: score must return one value per pair/);
  assert.throws(() => synonymBenchmark(["<unk>", "dog"], synsets), /synonymBenchmark: no synonym pair has both words in words/);
  vectors.dispose();
});
