import { test } from "node:test";
import assert from "node:assert/strict";
import {
  EDA_STOP_WORDS,
  eda,
  edaChangeCount,
  edaRows,
  randomDeletion,
  randomInsertion,
  randomSwap,
  rowsToTensor,
  synonymReplacement,
  synonymTable,
  vocabSynonyms,
} from "../../src/augment/text";
import { tf } from "../../src/backend/tf";
import { sentenceVocab, type BrownSentence } from "../../src/data/brown_sentences";
import { createRng } from "../../src/data/random";
import { loadWordNetSynsets } from "../../src/data/wordnet";

/**
 * Ids 0..9 with id 9 the pad: 1-2-3 are synonyms, 4-5 are, 6, 7, 8 have
 * none (stand-ins for stop words and <unk>).
 */
const table = synonymTable([[], [2, 3], [3], [], [5], [], [], [], [], []], 9);
const sorted = (a: ArrayLike<number>) => Array.from(a).sort((x, y) => x - y);
const words = (...ids: number[]) => Int32Array.from(ids);

test("synonymTable and vocabSynonyms: symmetric synonyms inside the vocabulary, none for stop words, <unk> or <pad>", () => {
  assert.deepEqual(Array.from(table.of(3)), [1, 2]);
  assert.deepEqual(Array.from(table.of(5)), [4]);
  assert.equal(table.of(6).length, 0);
  assert.equal(table.withSynonyms, 5);
  const sentence = (text: string): BrownSentence => ({ words: text.split(" "), documentId: "ca01", document: 0, position: 0, genre: "news", group: 0 });
  const vocab = sentenceVocab(
    ["the big dog ran fast", "a large dog can run quickly", "the tin can was big", "he will walk home", "large big huge"].map(sentence),
    { maxWords: 100 },
  );
  const synonyms = vocabSynonyms(vocab, loadWordNetSynsets({ pos: ["noun", "adj", "verb"] }));
  const id = (w: string) => vocab.words.index(w);
  const named = (w: string) => vocab.words.decode(synonyms.of(id(w)));
  assert.equal(synonyms.size, vocab.size);
  assert.equal(synonyms.padId, vocab.padId);
  assert.ok(named("big").includes("large") && named("large").includes("big"), `big: ${named("big")}`);
  // "can" (a tin can) and "will" are WordNet nouns and verbs but stop words: left alone, and never a synonym.
  for (const stop of ["the", "can", "will", "a", "he"]) {
    assert.ok(EDA_STOP_WORDS.includes(stop));
    assert.equal(synonyms.of(id(stop)).length, 0, stop);
  }
  for (let i = 0; i < vocab.size; i++) {
    for (const s of synonyms.of(i)) {
      assert.ok(!EDA_STOP_WORDS.includes(vocab.words.words[s] ?? ""), `${vocab.words.words[i]} -> ${vocab.words.words[s]}`);
      assert.ok(s !== vocab.padId && s !== vocab.words.unkId);
    }
  }
  assert.equal(synonyms.of(vocab.words.unkId).length, 0);
  assert.equal(synonyms.of(vocab.padId).length, 0);
  assert.throws(() => vocabSynonyms({} as never, []), /vocabSynonyms: vocab must be a SentenceVocab from data.sentenceVocab, got an object/);
  assert.throws(() => synonymTable([[1], [9]], 1), /synonymTable: synonyms\[0\] must hold ids in \[0, 2\) other than 0 and the pad id 1, got 1/);
});

test("synonym replacement changes exactly n words when n have synonyms, each to one of its synonyms; all of them when fewer", () => {
  const rng = createRng(1);
  const sentence = words(1, 6, 4, 7, 2, 8, 5, 3); // 5 positions with synonyms
  for (let trial = 0; trial < 50; trial++) {
    for (const n of [1, 2, 5, 7]) {
      const out = synonymReplacement(sentence, n, table, rng);
      assert.equal(out.length, sentence.length);
      const changed = Array.from(out).filter((w, i) => w !== sentence[i]);
      assert.equal(changed.length, Math.min(n, 5), `n = ${n}`);
      out.forEach((w, i) => {
        if (w !== sentence[i]) assert.ok(table.of(sentence[i]).includes(w), `${sentence[i]} -> ${w}`);
        if (table.of(sentence[i]).length === 0) assert.equal(w, sentence[i], "words without synonyms are left alone");
      });
    }
  }
  assert.deepEqual(Array.from(synonymReplacement(words(6, 7), 3, table, rng)), [6, 7], "nothing to replace");
});

test("random insertion adds n synonyms of the sentence's words, keeping the original as a subsequence", () => {
  const rng = createRng(2);
  const sentence = words(6, 1, 7, 4);
  for (let trial = 0; trial < 50; trial++) {
    const n = 1 + (trial % 3);
    const out = randomInsertion(sentence, n, table, rng);
    assert.equal(out.length, sentence.length + n);
    // Greedy subsequence match: the rest are the inserted words.
    const inserted: number[] = [];
    let k = 0;
    for (const w of out) {
      if (k < sentence.length && w === sentence[k]) k++;
      else inserted.push(w);
    }
    assert.equal(k, sentence.length, `original kept in order in ${Array.from(out)}`);
    const reachable = new Set([1, 2, 3, 4, 5]); // synonyms of 1 and 4, and of those inserted
    assert.ok(inserted.every((w) => reachable.has(w)), `inserted ${inserted}`);
  }
  assert.deepEqual(Array.from(randomInsertion(words(6, 7, 8), 2, table, rng)), [6, 7, 8], "no word with a synonym: nothing inserted");
});

test("random swap keeps the multiset and moves at most 2n positions; random deletion deletes at rate p, keeps order, never empties", () => {
  const rng = createRng(3);
  const sentence = words(1, 2, 3, 4, 5, 6, 7, 8);
  let moved = 0;
  for (let trial = 0; trial < 100; trial++) {
    const n = 1 + (trial % 3);
    const out = randomSwap(sentence, n, rng);
    assert.deepEqual(sorted(out), sorted(sentence));
    const changed = Array.from(out).filter((w, i) => w !== sentence[i]).length;
    assert.ok(changed <= 2 * n);
    moved += changed;
  }
  assert.ok(moved > 0);
  assert.deepEqual(Array.from(randomSwap(words(4), 3, rng)), [4]);
  // Deletion: 400 sentences of 20 distinct words at p = 0.3: the rate within 4 binomial standard deviations (0.01 each).
  const long = Int32Array.from({ length: 20 }, (_, i) => i);
  let deleted = 0;
  for (let trial = 0; trial < 400; trial++) {
    const out = randomDeletion(long, 0.3, rng);
    assert.ok(out.length >= 1);
    for (let i = 1; i < out.length; i++) assert.ok(out[i] > out[i - 1], "order kept");
    deleted += long.length - out.length;
  }
  const rate = deleted / (400 * 20);
  assert.ok(Math.abs(rate - 0.3) < 0.04, `deletion rate ${rate}`);
  for (let trial = 0; trial < 20; trial++) assert.equal(randomDeletion(words(1, 2), 0.999, rng).length, 1, "all deleted: one word stays");
  assert.deepEqual(Array.from(randomDeletion(words(3), 0.9, rng)), [3]);
});

test("eda: n = max(1, floor(alpha len)); identity at alpha 0; copies share the operations; the same seed gives the same copies", () => {
  assert.equal(edaChangeCount(0, 10), 0);
  assert.equal(edaChangeCount(0.1, 5), 1);
  assert.equal(edaChangeCount(0.1, 25), 2);
  assert.equal(edaChangeCount(0.5, 9), 4);
  const sentence = words(1, 6, 4, 7, 2, 8, 5, 3, 6, 7);
  const identity = eda(sentence, { synonyms: table, alpha: 0, copies: 8 }, createRng(4));
  assert.equal(identity.length, 8);
  identity.forEach((copy) => assert.deepEqual(Array.from(copy), Array.from(sentence)));
  const options = { synonyms: table, alpha: 0.2, copies: 8 };
  const a = eda(sentence, options, createRng(5)).map((c) => Array.from(c));
  const b = eda(sentence, options, createRng(5)).map((c) => Array.from(c));
  const c = eda(sentence, options, createRng(6)).map((x) => Array.from(x));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // 8 copies over 4 operations: 2 insertions (length 12), 2 deletions (length <= 10, usually less); SR and RS keep 10.
  assert.equal(a.filter((x) => x.length === 12).length, 2);
  // Only swaps: every copy a permutation with exactly floor(0.2 * 10) = 2 swaps' worth of change at most.
  for (const copy of eda(sentence, { synonyms: table, alpha: 0.2, copies: 5, operations: ["swap"] }, createRng(7))) assert.deepEqual(sorted(copy), sorted(sentence));
  for (const copy of eda(sentence, { synonyms: table, alpha: 0.2, copies: 5, operations: ["synonym"] }, createRng(8))) {
    assert.equal(Array.from(copy).filter((w, i) => w !== sentence[i]).length, 2, "exactly n = 2 replacements");
  }
  assert.throws(() => eda(words(1, 9), options, createRng(1)), /eda: words must hold ids in \[0, 10\) other than the pad id 9, got 9 at 1/);
  assert.throws(() => eda(sentence, { synonyms: table, alpha: 2 }, createRng(1)), /eda: options.alpha must be a probability in \[0, 1\], got 2/);
  assert.throws(() => eda(sentence, { synonyms: table, alpha: 0.1, operations: ["crop" as never] }, createRng(1)), /eda: options.operations must be a non-empty array of distinct "synonym", "insertion", "swap", "deletion", got/);
  assert.throws(() => eda(Array.from(sentence) as never, options, createRng(1)), /eda: words must be an Int32Array of token ids, got/);
});

test("edaRows: one seeded copy per padded row, never <pad> inside a sentence, padded after, cut at maxLength and counted, no tensors", () => {
  const pad = 9;
  const rows = { ids: Int32Array.from([1, 4, 6, 2, 7, 5, 3, pad, 6, 7, pad, pad]), lengths: Int32Array.from([4, 3, 2]), time: 4 };
  const before = tf.memory().numTensors;
  const same = edaRows(rows, { synonyms: table, alpha: 0 }, { maxLength: 8, seed: 1 });
  assert.deepEqual(Array.from(same.ids), Array.from(rows.ids));
  assert.deepEqual(Array.from(same.lengths), [4, 3, 2]);
  const options = { synonyms: table, alpha: 0.5, operations: ["insertion", "synonym", "deletion", "swap"] as const };
  for (let seed = 0; seed < 30; seed++) {
    const out = edaRows(rows, { ...options, operations: [...options.operations] }, { maxLength: 5, seed });
    assert.ok(out.time <= 5);
    out.lengths.forEach((n, b) => {
      for (let t = 0; t < out.time; t++) assert.equal(out.ids[b * out.time + t] === pad, t >= n, `row ${b} position ${t} of ${Array.from(out.ids)}`);
    });
    const again = edaRows(rows, { ...options, operations: [...options.operations] }, { maxLength: 5, seed });
    assert.deepEqual(again, out);
  }
  // Insertions only at alpha 1: n = len words inserted per row.
  const grown = edaRows(rows, { synonyms: table, alpha: 1, operations: ["insertion"] }, { maxLength: 5, seed: 2 });
  // Rows 0 and 1 (4 and 3 words with synonyms) grow to 8 and 6 words and are cut; row 2 has no synonyms and stays.
  assert.equal(grown.truncated, 2);
  assert.deepEqual(Array.from(grown.lengths), [5, 5, 2]);
  assert.equal(tf.memory().numTensors, before);
  const t = rowsToTensor(grown);
  assert.deepEqual(t.shape, [3, grown.time]);
  assert.equal(t.dtype, "int32");
  t.dispose();
  assert.throws(() => edaRows({ ...rows, lengths: Int32Array.from([4, 4, 2]) }, { synonyms: table, alpha: 0.1 }, { maxLength: 8, seed: 1 }), /edaRows: rows must have no pad id 9 inside a sentence, got one at \[1,3\]/);
  assert.throws(() => edaRows({ ...rows, time: 3 }, { synonyms: table, alpha: 0.1 }, { maxLength: 8, seed: 1 }), /edaRows: rows.ids must hold lengths.length \* time = 9 ids, got 12/);
});
