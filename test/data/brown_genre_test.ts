import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { BROWN_GENRES, loadBrown } from "../../src/data/brown";
import { bagOfCharacters, bagOfWords, BROWN_COARSE_GROUPS, brownGenrePassages, wordVocabulary } from "../../src/data/brown_genre";
import { brownCharTexts, buildCharVocab, decodeChars, encodeChars } from "../../src/data/char_tokens";
import { linearProbe } from "../../src/evaluation/linear_probe";

const docs = loadBrown();
const vocab = buildCharVocab(brownCharTexts(docs));

test("the coarse groups cover the 15 genres once each", () => {
  const codes = BROWN_COARSE_GROUPS.flatMap((g) => g.codes).sort();
  assert.deepEqual(codes, BROWN_GENRES.map((g) => g.code).sort());
  const counts = BROWN_COARSE_GROUPS.map((g) => docs.filter((d) => g.codes.includes(d.genreCode)).length);
  assert.deepEqual(counts, [88, 176, 110, 126]);
});

test("brownGenrePassages: split by document, correct labels, balanced, seeded", () => {
  const set = brownGenrePassages(docs, { vocab, length: 64, seed: 1 });
  assert.deepEqual(set.classNames, ["press", "nonfiction", "learned", "fiction"]);
  const byId = new Map(docs.map((d) => [d.id, d]));
  for (const split of [set.train, set.test]) {
    const n = split.labels.length;
    assert.ok(n > 0);
    assert.equal(split.tokens.length, n);
    split.tokens.forEach((t, i) => {
      assert.equal(t.length, 64);
      assert.deepEqual(t, encodeChars(vocab, split.texts[i]));
      const doc = byId.get(split.documentIds[i])!;
      assert.equal(split.genres[i], doc.genre);
      assert.ok(BROWN_COARSE_GROUPS[split.labels[i]].codes.includes(doc.genreCode), `${doc.id} is labelled ${set.classNames[split.labels[i]]}`);
      // The passage is a piece of its own document's text.
      assert.ok(brownCharTexts([doc])[0].includes(split.texts[i]));
    });
    const perClass = [0, 1, 2, 3].map((c) => split.labels.filter((y) => y === c).length);
    assert.ok(perClass.every((k) => k === perClass[0] && k > 0), `balanced: ${perClass}`);
  }
  const trainDocs = new Set(set.train.documentIds);
  assert.ok(set.test.documentIds.every((id) => !trainDocs.has(id)), "no document in both splits");
  // About a fifth of each group's documents are held out: press has 88, 18 of them held out, 4 passages each.
  assert.equal(set.test.labels.length, 4 * 18 * 4);
  assert.equal(set.train.labels.length, 4 * 70 * 4);
  const again = brownGenrePassages(docs, { vocab, length: 64, seed: 1 });
  assert.deepEqual(again.train.texts, set.train.texts);
  assert.deepEqual(again.test.documentIds, set.test.documentIds);
  const other = brownGenrePassages(docs, { vocab, length: 64, seed: 2 });
  assert.notDeepEqual(other.test.documentIds, set.test.documentIds);
});

test("brownGenrePassages with the 15 genres and without balancing keeps every passage", () => {
  const set = brownGenrePassages(docs, { vocab, length: 128, seed: 3, grouping: "genre", balance: false, passagesPerDocument: 2 });
  assert.equal(set.classNames.length, 15);
  assert.equal(set.train.labels.length + set.test.labels.length, 2 * 500);
  const trainDocs = new Set(set.train.documentIds);
  assert.ok(set.test.documentIds.every((id) => !trainDocs.has(id)));
  for (const split of [set.train, set.test]) {
    split.labels.forEach((y, i) => assert.equal(set.classNames[y], split.genres[i]));
    // Every genre, science fiction's 6 documents included, is in both splits.
    assert.equal(new Set(split.labels).size, 15);
  }
  const lower = brownGenrePassages(loadBrown({ genres: ["news", "fiction"] }), { vocab, length: 32, seed: 3, lowercase: true });
  assert.ok(lower.train.texts.every((t) => t === t.toLowerCase()));
  assert.deepEqual(new Set(lower.train.labels), new Set([0, 3]), "only the groups present");
});

test("bag-of-characters and bag-of-words features: relative frequencies, and a probe learns genre from them", async () => {
  await tf.setBackend("cpu");
  const before = tf.memory().numTensors;
  const rows = [encodeChars(vocab, "aab"), encodeChars(vocab, "b")];
  const chars = bagOfCharacters(rows, vocab.size);
  const a = vocab.ids.get("a")!;
  const b = vocab.ids.get("b")!;
  const got = chars.arraySync() as number[][];
  assert.ok(Math.abs(got[0][a] - 2 / 3) < 1e-6 && Math.abs(got[0][b] - 1 / 3) < 1e-6 && got[1][b] === 1);
  assert.ok(got.every((r) => Math.abs(r.reduce((s, v) => s + v, 0) - 1) < 1e-5));
  const words = wordVocabulary(["the cat the dog", "a cat"], { minCount: 2 });
  assert.deepEqual(words, ["cat", "the"]);
  const bow = bagOfWords(["the cat the dog", "a cat", ""], words);
  assert.deepEqual((bow.arraySync() as number[][]).map((r) => r.map((v) => Math.round(v * 100) / 100)), [[0.25, 0.5], [0.5, 0], [0, 0]]);
  tf.dispose([chars, bow]);
  assert.equal(tf.memory().numTensors, before);

  // Both baselines are well above chance (25%) and below perfect on held-out documents.
  const set = brownGenrePassages(docs, { vocab, length: 256, seed: 1, passagesPerDocument: 2 });
  const probe = (train: tf.Tensor2D, test: tf.Tensor2D): number => {
    const r = linearProbe(train, set.train.labels, test, set.test.labels, { minSteps: 200, epochs: 20 });
    tf.dispose([train, test]);
    return r.accuracy;
  };
  const charAccuracy = probe(bagOfCharacters(set.train.tokens, vocab.size), bagOfCharacters(set.test.tokens, vocab.size));
  const vocabulary = wordVocabulary(set.train.texts, { maxWords: 1000 });
  const wordAccuracy = probe(bagOfWords(set.train.texts, vocabulary), bagOfWords(set.test.texts, vocabulary));
  console.log(`genre probe, 4 groups, 256-character passages: bag-of-characters ${charAccuracy.toFixed(3)}, bag-of-words ${wordAccuracy.toFixed(3)}`);
  assert.ok(charAccuracy > 0.35 && charAccuracy < 0.95, `bag-of-characters ${charAccuracy}`);
  assert.ok(wordAccuracy > 0.35 && wordAccuracy < 0.95, `bag-of-words ${wordAccuracy}`);
  assert.equal(tf.memory().numTensors, before);
});

test("brownGenrePassages and the features reject bad input", () => {
  assert.throws(() => brownGenrePassages([], { vocab, length: 64, seed: 1 }), /brownGenrePassages: docs must be a non-empty array of BrownDocuments/);
  assert.throws(() => brownGenrePassages(docs, { vocab, length: 0, seed: 1 }), /brownGenrePassages: options.length must be a positive integer, got 0/);
  assert.throws(() => brownGenrePassages(docs, { vocab, length: 8, seed: 1, grouping: "fine" as never }), /brownGenrePassages: options.grouping must be one of "coarse", "genre", got "fine"/);
  assert.throws(() => brownGenrePassages(docs, { vocab, length: 8, seed: 1, heldOut: 1 }), /brownGenrePassages: options.heldOut must be a number in \(0, 1\), got 1/);
  assert.throws(() => brownGenrePassages(loadBrown({ genres: ["news"] }), { vocab, length: 8, seed: 1 }), /brownGenrePassages: docs must cover at least two classes/);
  assert.throws(() => brownGenrePassages(docs, { vocab, length: 10 ** 6, seed: 1 }), /brownGenrePassages: options.length must leave at least one passage per split/);
  assert.throws(() => bagOfCharacters([Int32Array.of(1, 200)], vocab.size), new RegExp(`bagOfCharacters: passages\\[0\\]\\[1\\] must be an id in \\[0, ${vocab.size}\\), got 200`));
  assert.throws(() => bagOfWords(["a b"], ["a", "a"]), /bagOfWords: vocabulary\[1\] must not repeat an earlier word/);
  assert.throws(() => wordVocabulary(["a b"], { minCount: 2 }), /wordVocabulary: texts must hold a word seen at least options.minCount = 2 times/);
  assert.equal(decodeChars(vocab, encodeChars(vocab, "ok")), "ok");
});
