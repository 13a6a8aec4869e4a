import { test } from "node:test";
import assert from "node:assert/strict";
import { brownTokens, loadBrown } from "../../src/data/brown";
import { createRng } from "../../src/data/random";
import { buildVocab } from "../../src/data/vocab";

/** Reference: kept words by a plain count and sort, written independently of buildVocab. */
function reference(tokens: string[], minCount: number, maxSize = Infinity): { words: string[]; counts: number[] } {
  const counts: Record<string, number> = Object.create(null);
  for (const t of tokens) counts[t] = (counts[t] ?? 0) + 1;
  const words = Object.keys(counts).filter((w) => counts[w] >= minCount);
  words.sort((a, b) => {
    if (counts[a] !== counts[b]) return counts[b] - counts[a];
    return a < b ? -1 : 1;
  });
  const kept = words.slice(0, maxSize - 1);
  const keptTotal = kept.reduce((s, w) => s + counts[w], 0);
  return { words: ["<unk>", ...kept], counts: [tokens.length - keptTotal, ...kept.map((w) => counts[w])] };
}

const TOKENS = "b a c a b a d e e e e f".split(" ");

test("ids follow decreasing count, ties in code-unit order, after <unk>", () => {
  const v = buildVocab(TOKENS);
  assert.deepEqual(v.words, ["<unk>", "e", "a", "b", "c", "d", "f"]);
  assert.deepEqual(v.counts, [0, 4, 3, 2, 1, 1, 1]);
  assert.equal(v.size, 7);
  assert.equal(v.unkId, 0);
  assert.equal(v.tokenCount, 12);
  // Upper case sorts before lower case (code units), whatever the locale.
  assert.deepEqual(buildVocab(["b", "B", "a"]).words, ["<unk>", "B", "a", "b"]);
});

test("minCount and maxSize leave words out and count them as <unk>", () => {
  const v = buildVocab(TOKENS, { minCount: 2 });
  assert.deepEqual(v.words, ["<unk>", "e", "a", "b"]);
  assert.deepEqual(v.counts, [3, 4, 3, 2]);
  const w = buildVocab(TOKENS, { maxSize: 3 });
  assert.deepEqual(w.words, ["<unk>", "e", "a"]);
  assert.deepEqual(w.counts, [5, 4, 3]);
  assert.equal(w.counts.reduce((a, b) => a + b, 0), TOKENS.length);
});

test("encode maps unknown words to <unk>, keeping length; decode inverts known ids", () => {
  const v = buildVocab(TOKENS, { minCount: 2 });
  const ids = v.encode(["e", "zzz", "a", "f"]);
  assert.ok(ids instanceof Int32Array);
  assert.deepEqual(Array.from(ids), [1, 0, 2, 0]);
  assert.deepEqual(v.decode(ids), ["e", "<unk>", "a", "<unk>"]);
  assert.equal(v.index("b"), 3);
  assert.equal(v.index("f"), v.unkId);
  assert.equal(v.has("f"), false);
  assert.equal(v.has("<unk>"), false);
  // encode takes any iterable.
  assert.deepEqual(Array.from(v.encode(new Set(["a", "e"]))), [2, 1]);
  assert.throws(() => v.decode([4]), /Vocab.decode: ids\[0\] must be an integer in \[0, 4\), got 4/);
});

test("the vocabulary does not depend on token order", () => {
  const shuffled = createRng(1).shuffle(TOKENS.slice());
  assert.deepEqual(buildVocab(shuffled).words, buildVocab(TOKENS).words);
});

test("on the Brown corpus it matches an independent count and sort", () => {
  const tokens = brownTokens(loadBrown({ genres: ["news", "reviews"] }), { lowercase: true });
  const cases: [number, number | undefined][] = [
    [5, undefined],
    [1, 1000],
  ];
  for (const [minCount, maxSize] of cases) {
    const v = buildVocab(tokens, { minCount, maxSize });
    const ref = reference(tokens, minCount, maxSize);
    assert.deepEqual(v.words, ref.words);
    assert.deepEqual(v.counts, ref.counts);
    const ids = v.encode(tokens);
    assert.equal(ids.length, tokens.length);
    let unk = 0;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] === 0) unk++;
      else assert.equal(v.words[ids[i]], tokens[i]);
    }
    assert.equal(unk, v.counts[0]);
  }
  assert.equal(buildVocab(tokens).words[1], "the");
});

test("bad options and a clashing <unk> token throw", () => {
  assert.throws(() => buildVocab(TOKENS, { minCount: 0 }), /buildVocab: minCount must be a positive integer, got 0/);
  assert.throws(() => buildVocab(TOKENS, { maxSize: 2.5 }), /buildVocab: maxSize must be a positive integer.*got 2.5/);
  assert.throws(() => buildVocab(["a", "<unk>"]), /buildVocab: the unknown-word token "<unk>" occurs 1 times/);
  assert.deepEqual(buildVocab(["a", "<unk>"], { unkToken: "<oov>" }).words, ["<oov>", "<unk>", "a"]);
  assert.throws(() => buildVocab([1 as unknown as string]), /buildVocab: tokens must be strings, got number at position 0/);
});
