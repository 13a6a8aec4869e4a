import { test } from "node:test";
import assert from "node:assert/strict";
import {
  cooccurrenceCosine,
  cooccurrenceCounts,
  cooccurrenceValue,
  encodeSentences,
} from "../../src/data/cooccurrence";
import { buildVocab } from "../../src/data/vocab";
import { createRng } from "../../src/data/random";

test("cooccurrenceCounts: hand-made sentence, harmonic weights, window 2", () => {
  // Sentence ids 1 2 3 1 (vocab size 4). Pairs within 2 words, weight 1/d, both directions:
  // (1,2) d1 -> 1; (1,3) d2 -> 0.5; (2,3) d1 -> 1; (2,1) at positions 1,3: d2 -> 0.5; (3,1) d1 -> 1.
  // So X[1][2] = 1 + 0.5 = 1.5; X[1][3] = 0.5 + 1 = 1.5; X[2][3] = 1; X[1][1] = 0 (distance 3 > window).
  const m = cooccurrenceCounts([Int32Array.from([1, 2, 3, 1])], { vocabSize: 4, window: 2 });
  const dense = (i: number, j: number) => cooccurrenceValue(m, i, j);
  assert.equal(dense(1, 2), 1.5);
  assert.equal(dense(2, 1), 1.5);
  assert.equal(dense(1, 3), 1.5);
  assert.equal(dense(3, 1), 1.5);
  assert.equal(dense(2, 3), 1);
  assert.equal(dense(3, 2), 1);
  assert.equal(dense(1, 1), 0);
  assert.equal(dense(0, 1), 0);
  assert.equal(m.nnz, 6);
  // Window 3 reaches the repeat of word 1 (distance 3): a self pair counted both directions.
  const m3 = cooccurrenceCounts([Int32Array.from([1, 2, 3, 1])], { vocabSize: 4, window: 3 });
  assert.ok(Math.abs(cooccurrenceValue(m3, 1, 1) - 2 / 3) < 1e-12);
  const uniform = cooccurrenceCounts([Int32Array.from([1, 2, 3, 1])], { vocabSize: 4, window: 2, weighting: "uniform" });
  assert.equal(cooccurrenceValue(uniform, 1, 2), 2);
});

test("cooccurrenceCounts: matches a dense float64 loop on random sentences; rows sorted; symmetric", () => {
  const rng = createRng(3);
  const V = 9;
  const corpus = Array.from({ length: 20 }, () => Int32Array.from({ length: 1 + rng.int(12) }, () => rng.int(V)));
  const window = 3;
  const ref = Array.from({ length: V }, () => new Float64Array(V));
  for (const s of corpus) {
    for (let p = 0; p < s.length; p++) {
      for (let q = 0; q < s.length; q++) {
        const d = Math.abs(p - q);
        if (d >= 1 && d <= window) ref[s[p]][s[q]] += 1 / d;
      }
    }
  }
  const m = cooccurrenceCounts(corpus, { vocabSize: V, window });
  let nnz = 0;
  for (let i = 0; i < V; i++) {
    for (let j = 0; j < V; j++) {
      assert.ok(Math.abs(cooccurrenceValue(m, i, j) - ref[i][j]) < 1e-12, `X[${i}][${j}]`);
      if (ref[i][j] > 0) nnz++;
    }
    for (let k = m.rowStart[i] + 1; k < m.rowStart[i + 1]; k++) assert.ok(m.colIndex[k] > m.colIndex[k - 1]);
  }
  assert.equal(m.nnz, nnz);
  // Cosine of count rows vs the dense reference.
  const a = [0, 1, 2, 3, 8];
  const b = [1, 1, 5, 7, 4];
  const cos = cooccurrenceCosine(m, a, b);
  for (let k = 0; k < a.length; k++) {
    const x = ref[a[k]];
    const y = ref[b[k]];
    let dot = 0, nx = 0, ny = 0;
    for (let j = 0; j < V; j++) {
      dot += x[j] * y[j];
      nx += x[j] * x[j];
      ny += y[j] * y[j];
    }
    const expected = nx === 0 || ny === 0 ? 0 : dot / Math.sqrt(nx * ny);
    assert.ok(Math.abs(cos[k] - expected) < 1e-12, `pair ${k}: ${cos[k]} vs ${expected}`);
  }
});

test("encodeSentences: drops unknown words and short sentences", () => {
  const vocab = buildVocab(["a", "a", "b", "b", "c"], { minCount: 2 }); // a=1, b=2, c unknown
  const out = encodeSentences([["a", "c", "b"], ["c", "a"], ["b", "a", "a"]], vocab);
  assert.deepEqual(out.map((s) => Array.from(s)), [[1, 2], [2, 1, 1]]);
  const kept = encodeSentences([["a", "c", "b"]], vocab, { dropUnknown: false });
  assert.deepEqual(Array.from(kept[0]), [1, 0, 2]);
});

test("cooccurrence: bad inputs are rejected naming the argument", () => {
  assert.throws(() => cooccurrenceCounts([Int32Array.from([1, 5])], { vocabSize: 4 }), /cooccurrenceCounts: corpus\[0\]\[1\] must be an id in \[0, 4\), got 5/);
  assert.throws(() => cooccurrenceCounts([[1, 2] as unknown as Int32Array], { vocabSize: 4 }), /cooccurrenceCounts: corpus\[0\] must be an Int32Array/);
  assert.throws(() => cooccurrenceCounts([], { vocabSize: 4, window: 0 }), /options.window must be a positive integer, got 0/);
  assert.throws(() => cooccurrenceCounts([], { vocabSize: 0 }), /options.vocabSize/);
  const m = cooccurrenceCounts([Int32Array.from([1, 2])], { vocabSize: 3 });
  assert.throws(() => cooccurrenceCosine(m, [1, 2], [1]), /cooccurrenceCosine: b must have shape \[2\] like a, got \[1\]/);
  assert.throws(() => cooccurrenceCosine(m, [3], [1]), /cooccurrenceCosine: a\[0\] must be an integer in \[0, 3\), got 3/);
  assert.throws(() => cooccurrenceValue(m, 0, -1), /cooccurrenceValue: j must be/);
  const vocab = buildVocab(["a"]);
  assert.throws(() => encodeSentences([["a"], "a" as unknown as string[]], vocab), /encodeSentences: sentences\[1\] must be an array/);
});
