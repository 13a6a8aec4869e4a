import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { brownSentences, loadBrown, type BrownDocument } from "../../src/data/brown";
import { BROWN_COARSE_GROUPS } from "../../src/data/brown_genre";
import {
  averagedWordVectors,
  brownSentenceSplit,
  neighbourBatches,
  padSentences,
  ppmiWordVectors,
  sampleSentences,
  sentenceBatches,
  sentenceVocab,
  type BrownSentence,
} from "../../src/data/brown_sentences";
import { createRng } from "../../src/data/random";

/**
 * Documents whose every word names its place, `d<doc>s<sentence>w<word>`,
 * plus a shared word `the`, so a batch row decodes back to the sentence it is.
 * Genre codes cycle through A (press) and K (fiction).
 */
function placeDocuments(docs: number, sentencesPer: number): BrownDocument[] {
  return Array.from({ length: docs }, (_, d) => {
    const code = d % 2 === 0 ? "A" : "K";
    const sentences = Array.from({ length: sentencesPer }, (_, s) => {
      const words = ["the", ...Array.from({ length: 1 + ((d + s) % 4) }, (_, w) => `d${d}s${s}w${w}`)];
      return { words, tags: words.map(() => "NN") };
    });
    return { id: `c${code.toLowerCase()}${String(d).padStart(2, "0")}`, genre: code === "A" ? "news" : "fiction", genreCode: code, sentences };
  });
}

test("brownSentenceSplit: by document and group, seeded, every sentence with its document, position and genre", () => {
  const docs = loadBrown();
  const split = brownSentenceSplit(docs, { seed: 3 });
  const again = brownSentenceSplit(docs, { seed: 3 });
  const other = brownSentenceSplit(docs, { seed: 4 });
  assert.deepEqual(split.test.documents.map((d) => d.id), again.test.documents.map((d) => d.id));
  assert.notDeepEqual(split.test.documents.map((d) => d.id), other.test.documents.map((d) => d.id));
  assert.deepEqual(split.classNames, ["press", "nonfiction", "learned", "fiction"]);
  // 20% of each group's documents (88, 176, 110, 126) held out, and no document on both sides.
  const heldPerGroup = [0, 1, 2, 3].map((g) => split.test.documents.filter((d) => d.group === g).length);
  assert.deepEqual(heldPerGroup, [18, 35, 22, 25]);
  const trainIds = new Set(split.train.documents.map((d) => d.id));
  assert.ok(split.test.documents.every((d) => !trainIds.has(d.id)));
  assert.equal(split.train.documents.length + split.test.documents.length, 500);
  // With punctuation kept no sentence is empty: all 57,340 are there, lower-cased, in order.
  assert.equal(split.train.sentences.length + split.test.sentences.length, 57340);
  const byId = new Map(docs.map((d) => [d.id, d]));
  for (const set of [split.train, split.test]) {
    set.documents.forEach((doc, index) => {
      const source = byId.get(doc.id)!;
      assert.equal(doc.count, source.sentences.length);
      assert.equal(doc.genre, source.genre);
      assert.ok(BROWN_COARSE_GROUPS[doc.group].codes.includes(source.genreCode));
      for (let k = 0; k < doc.count; k++) {
        const s = set.sentences[doc.start + k];
        assert.equal(s.document, index);
        assert.equal(s.documentId, doc.id);
        assert.equal(s.position, k);
        assert.equal(s.genre, source.genre);
        assert.equal(s.group, doc.group);
        assert.deepEqual(s.words, source.sentences[k].words.map((w) => w.toLowerCase()));
      }
    });
  }
  const noPunctuation = brownSentenceSplit(docs, { seed: 3, dropPunctuation: true, lowercase: false });
  // The same words as brownSentences gives without punctuation, empty sentences left out.
  const first = noPunctuation.train.documents[0];
  assert.deepEqual(
    noPunctuation.train.sentences.slice(first.start, first.start + first.count).map((s) => s.words),
    brownSentences([byId.get(first.id)!], { dropPunctuation: true }).filter((w) => w.length > 0),
  );
  assert.ok(noPunctuation.train.sentences.some((s) => s.words.some((w) => /[A-Z]/.test(w))));
  for (const [call, message] of [
    [() => brownSentenceSplit([], { seed: 1 }), /brownSentenceSplit: docs must be a non-empty array of BrownDocuments/],
    [() => brownSentenceSplit(docs, { seed: 1, heldOut: 1 }), /brownSentenceSplit: options.heldOut must be a number in \(0, 1\), got 1/],
    [() => brownSentenceSplit(docs.slice(0, 1), { seed: 1 }), /brownSentenceSplit: docs must hold at least 2 documents of each group present \(one per side\), got 1 of press/],
    [() => brownSentenceSplit(docs, { seed: 1.5 }), /brownSentenceSplit: options.seed must be an integer, got 1.5/],
  ] as const) assert.throws(call, message);
});

test("sampleSentences, sentenceVocab and padSentences: per-document draws, <unk> 0 and <pad> last, padded rows and cut sentences", () => {
  const split = brownSentenceSplit(placeDocuments(6, 7), { seed: 1, heldOut: 0.4 });
  const sample = sampleSentences(split.train, { perDocument: 3, minWords: 3, seed: 2 });
  assert.deepEqual(sample, sampleSentences(split.train, { perDocument: 3, minWords: 3, seed: 2 }));
  assert.notDeepEqual(sample, sampleSentences(split.train, { perDocument: 3, minWords: 3, seed: 5 }));
  for (const doc of split.train.documents) {
    const mine = sample.filter((s) => s.documentId === doc.id);
    assert.equal(mine.length, Math.min(3, split.train.sentences.slice(doc.start, doc.start + doc.count).filter((s) => s.words.length >= 3).length));
    assert.ok(mine.every((s, i) => s.words.length >= 3 && (i === 0 || s.position > mine[i - 1].position)));
  }
  const vocab = sentenceVocab(split.train.sentences, { maxWords: 10 });
  assert.equal(vocab.words.size, 11);
  assert.equal(vocab.padId, 11);
  assert.equal(vocab.size, 12);
  assert.equal(vocab.words.index("the"), 1, "the most frequent word gets id 1");
  assert.equal(vocab.words.unkId, 0);
  const sentences = split.train.sentences.slice(0, 4);
  const padded = padSentences(sentences, vocab, 3);
  assert.equal(padded.rows.length, 4);
  sentences.forEach((s, i) => {
    assert.equal(padded.lengths[i], Math.min(3, s.words.length));
    assert.deepEqual(Array.from(padded.rows[i]), [...vocab.words.encode(s.words.slice(0, 3)), ...Array(3 - padded.lengths[i]).fill(vocab.padId)]);
  });
  assert.equal(padded.truncated, sentences.filter((s) => s.words.length > 3).length);
  assert.throws(() => padSentences(sentences, vocab, 0), /padSentences: maxLength must be a positive integer, got 0/);
  assert.throws(() => sampleSentences(split.train, { perDocument: 1, minWords: 99, seed: 1 }), /sampleSentences: options.minWords must leave some sentence, got 99/);
  assert.throws(() => sentenceVocab([], { maxWords: 5 }), /sentenceVocab: sentences must be a non-empty array of BrownSentences, got \[\]/);
});

/** The sentence a batch row holds, read back from its unique place words. */
function decodeRow(ids: number[], words: readonly string[]): string {
  return ids.filter((id) => words[id] !== undefined && words[id] !== "the").map((id) => words[id]).join(" ");
}

test("sentenceBatches: every sentence once per epoch, seeded by the epoch's rng, as wide as the longest sentence, no leak", () => {
  const split = brownSentenceSplit(placeDocuments(4, 10), { seed: 1, heldOut: 0.5 });
  const vocab = sentenceVocab(split.train.sentences, { maxWords: 1000 });
  const batches = sentenceBatches(split.train, vocab, { batchSize: 4, maxLength: 4 });
  const before = tf.memory().numTensors;
  const read = (seed: number): string[][] => [...batches(0, createRng(seed))].map((b) => {
    const time = b.tokens.shape[1];
    assert.equal(b.tokens.shape[0], 4);
    assert.equal(b.tokens.dtype, "int32");
    assert.equal(time, Math.max(...b.lengths));
    const ids = b.tokens.arraySync() as number[][];
    b.tokens.dispose();
    return ids.map((row, r) => {
      assert.ok(row.slice(b.lengths[r]).every((id) => id === vocab.padId), "padding after the words");
      return decodeRow(row.slice(0, b.lengths[r]), [...vocab.words.words]);
    });
  });
  const epoch = read(7);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(epoch.length, Math.floor(split.train.sentences.length / 4));
  const seen = epoch.flat();
  assert.equal(new Set(seen).size, seen.length, "no sentence twice in an epoch");
  const all = split.train.sentences.map((s) => s.words.filter((w) => w !== "the").slice(0, 3).join(" "));
  assert.ok(seen.every((s) => all.includes(s)));
  assert.deepEqual(read(7), epoch);
  assert.notDeepEqual(read(8), epoch);
  assert.throws(() => sentenceBatches(split.train, vocab, { batchSize: 1, maxLength: 4 }), /sentenceBatches: options.batchSize must be an integer in \[2, 20\], got 1/);
});

test("neighbourBatches: runs of consecutive sentences of one document, previous marks each run's order", () => {
  const split = brownSentenceSplit(placeDocuments(4, 9), { seed: 1, heldOut: 0.5 });
  const vocab = sentenceVocab(split.train.sentences, { maxWords: 1000 });
  const batches = neighbourBatches(split.train, vocab, { runs: 2, runLength: 3, maxLength: 8 });
  const list = [...batches(0, createRng(3))];
  assert.equal(list.length, Math.floor(split.train.sentences.length / 6));
  const firstIds = list.map((b) => b.tokens.arraySync());
  for (const b of list) {
    assert.deepEqual(Array.from(b.previous), [-1, 0, 1, -1, 3, 4]);
    const ids = b.tokens.arraySync() as number[][];
    const places = ids.map((row, r) => decodeRow(row.slice(0, b.lengths[r]), [...vocab.words.words]).split(" ")[0]);
    for (let r = 0; r < 2; r++) {
      const [d0, s0] = places[3 * r].match(/d(\d+)s(\d+)/)!.slice(1).map(Number);
      for (let k = 1; k < 3; k++) assert.equal(places[3 * r + k], `d${d0}s${s0 + k}w0`, "the next sentence of the same document");
    }
    b.tokens.dispose();
  }
  const again = [...batches(0, createRng(3))].map((b) => { const v = b.tokens.arraySync(); b.tokens.dispose(); return v; });
  assert.deepEqual(again, firstIds, "the same rng draws the same runs");
  assert.throws(() => neighbourBatches(split.train, vocab, { runs: 2, runLength: 10, maxLength: 8 }), /neighbourBatches: options.runLength must fit in some document, got 10/);
});

/** PPMI word vectors in float64, straight from the definition, rows L2-normalised. */
function referencePpmi(corpus: number[][], vocabSize: number, contexts: number, window: number): number[][] {
  const counts = Array.from({ length: vocabSize }, () => new Float64Array(vocabSize));
  for (const s of corpus) {
    for (let p = 0; p < s.length; p++) {
      for (let q = p + 1; q <= Math.min(s.length - 1, p + window); q++) {
        counts[s[p]][s[q]] += 1 / (q - p);
        counts[s[q]][s[p]] += 1 / (q - p);
      }
    }
  }
  const rowSum = counts.map((r) => r.reduce((a, v) => a + v, 0));
  const total = rowSum.reduce((a, v) => a + v, 0);
  return counts.map((r, i) => {
    const v = Array.from({ length: contexts }, (_, c) => (r[c + 1] > 0 ? Math.max(0, Math.log((r[c + 1] * total) / (rowSum[i] * rowSum[c + 1]))) : 0));
    const norm = Math.hypot(...v);
    return norm > 0 ? v.map((x) => x / norm) : v;
  });
}

test("ppmiWordVectors match a float64 reference; averagedWordVectors is the mean over each sentence's words", () => {
  const rng = createRng(4);
  const words = ["a", "b", "c", "d", "e", "f"];
  const sentences: BrownSentence[] = Array.from({ length: 30 }, (_, i) => ({
    words: Array.from({ length: 2 + rng.int(5) }, () => words[Math.min(rng.int(6), rng.int(6))]),
    documentId: "ca01", document: 0, position: i, genre: "news", group: 0,
  }));
  const vocab = sentenceVocab(sentences, { maxWords: 5 }); // one of the six words becomes <unk>
  const before = tf.memory().numTensors;
  const vectors = ppmiWordVectors(sentences, vocab, { contexts: 4, window: 2 });
  assert.deepEqual(vectors.shape, [vocab.size, 4]);
  const want = referencePpmi(sentences.map((s) => Array.from(vocab.words.encode(s.words))), vocab.size, 4, 2);
  const got = vectors.arraySync() as number[][];
  got.forEach((row, i) => row.forEach((v, c) => assert.ok(Math.abs(v - want[i][c]) < 1e-6, `[${i},${c}] ${v} vs ${want[i][c]}`)));
  assert.ok(got[vocab.padId].every((v) => v === 0), "<pad> never occurs");
  const padded = padSentences(sentences.slice(0, 5), vocab, 4);
  const mean = averagedWordVectors(vectors, padded);
  assert.deepEqual(mean.shape, [5, 4]);
  (mean.arraySync() as number[][]).forEach((row, i) => {
    const ids = Array.from(padded.rows[i].slice(0, padded.lengths[i]));
    row.forEach((v, c) => assert.ok(Math.abs(v - ids.reduce((a, id) => a + want[id][c], 0) / ids.length) < 1e-6));
  });
  tf.dispose([vectors, mean]);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => ppmiWordVectors(sentences, vocab, { contexts: 9 }), /ppmiWordVectors: options.contexts must be an integer in \[1, 5\], got 9/);
  const ints = tf.zeros([2, 2], "int32") as tf.Tensor2D;
  assert.throws(() => averagedWordVectors(ints, padded), /averagedWordVectors: wordVectors must be a float32 tensor of shape \[vocabSize,d\]/);
  ints.dispose();
  assert.equal(tf.memory().numTensors, before);
});
