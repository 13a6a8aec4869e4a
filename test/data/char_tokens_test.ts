import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { brownSentences, loadBrown } from "../../src/data/brown";
import { batches } from "../../src/data/batches";
import { brownCharTexts, buildCharVocab, CHAR_SPECIALS, charBlocks, decodeChars, encodeChars, splitDocuments } from "../../src/data/char_tokens";
import { train } from "../../src/training/loop";

test("buildCharVocab: specials at 0..3, then characters by count, ties in code-unit order; rare ones counted as <unk>", () => {
  const vocab = buildCharVocab(["abba c", "😀a"], { minCount: 2 });
  assert.deepEqual(CHAR_SPECIALS, ["<pad>", "<unk>", "<mask>", "<bos>"]);
  assert.deepEqual([vocab.padId, vocab.unkId, vocab.maskId, vocab.bosId], [0, 1, 2, 3]);
  // a: 3, b: 2; " ", "c" and the emoji (one code point) once each.
  assert.deepEqual(vocab.chars, ["<pad>", "<unk>", "<mask>", "<bos>", "a", "b"]);
  assert.deepEqual(vocab.counts, [0, 3, 0, 0, 3, 2]);
  assert.equal(vocab.charCount, 8);
  assert.equal(vocab.size, 6);
  const all = buildCharVocab(["ba", "ab"]);
  assert.deepEqual(all.chars.slice(4), ["a", "b"], "a tie goes to the smaller code unit");
  assert.throws(() => buildCharVocab(["a", 3 as never]), /buildCharVocab: texts\[1\] must be a string, got 3/);
  assert.throws(() => buildCharVocab(["a"], { minCount: 0 }), /buildCharVocab: options.minCount must be a positive integer, got 0/);
});

test("encodeChars and decodeChars: code points, <unk> for unknown ones, <bos> on request, specials shown or skipped", () => {
  const vocab = buildCharVocab(["hello world"]);
  const ids = encodeChars(vocab, "hello", { bos: true });
  assert.ok(ids instanceof Int32Array);
  assert.deepEqual(Array.from(ids), [3, ...[..."hello"].map((ch) => vocab.chars.indexOf(ch))]);
  assert.equal(decodeChars(vocab, ids), "<bos>hello");
  assert.equal(decodeChars(vocab, ids, { skipSpecial: true }), "hello");
  assert.deepEqual(Array.from(encodeChars(vocab, "h😀z")), [vocab.chars.indexOf("h"), 1, 1]);
  assert.equal(decodeChars(vocab, encodeChars(vocab, "hold the world")), "hold <unk>he world");
  assert.throws(() => decodeChars(vocab, [0, vocab.size]), new RegExp(`decodeChars: ids\\[1\\] must be an integer in \\[0, ${vocab.size}\\), got ${vocab.size}`));
  assert.throws(() => encodeChars(vocab, 5 as never), /encodeChars: text must be a string, got 5/);
  assert.throws(() => encodeChars({} as never, "a"), /encodeChars: vocab must be a CharVocab from buildCharVocab, got an object/);
});

test("brownCharTexts: one text per document, words joined by spaces, sentences by newlines; it encodes and decodes back exactly", () => {
  const docs = loadBrown({ genres: ["humor"] });
  const texts = brownCharTexts(docs, { lowercase: true });
  assert.equal(texts.length, 9);
  const first = brownSentences([docs[0]], { lowercase: true });
  assert.equal(texts[0], first.map((s) => s.join(" ")).join("\n"));
  assert.equal(texts[0].split("\n").length, first.length);
  const vocab = buildCharVocab(texts);
  assert.ok(vocab.size < 100, `a small alphabet: ${vocab.size}`);
  assert.equal(vocab.chars[4], " ", "the space is the most frequent character");
  assert.equal(vocab.counts[vocab.unkId], 0);
  for (const text of texts) assert.equal(decodeChars(vocab, encodeChars(vocab, text)), text);
});

test("splitDocuments: round(heldOut * n) documents held out, disjoint, order kept, seeded", () => {
  const docs = Array.from({ length: 500 }, (_, i) => `doc${i}`);
  const a = splitDocuments(docs, { heldOut: 0.1, seed: 1 });
  assert.deepEqual([a.train.length, a.heldOut.length], [450, 50]);
  assert.deepEqual([...a.train, ...a.heldOut].sort(), [...docs].sort());
  assert.deepEqual(Array.from(a.heldOutIndices), [...a.heldOutIndices].sort((x, y) => x - y));
  assert.deepEqual(a.heldOut, Array.from(a.heldOutIndices, (i) => docs[i]));
  assert.deepEqual(a.train, Array.from(a.trainIndices, (i) => docs[i]));
  assert.deepEqual(splitDocuments(docs, { heldOut: 0.1, seed: 1 }), a);
  assert.notDeepEqual(splitDocuments(docs, { heldOut: 0.1, seed: 2 }).heldOut, a.heldOut);
  assert.throws(() => splitDocuments(docs, { heldOut: 1, seed: 1 }), /splitDocuments: options.heldOut must be a number in \(0, 1\), got 1/);
  assert.throws(() => splitDocuments(["a", "b"], { heldOut: 0.1, seed: 1 }), /splitDocuments: options.heldOut must leave at least one document on each side of the 2, got 0.1 \(0 held out\)/);
  assert.throws(() => splitDocuments("ab" as never, { heldOut: 0.5, seed: 1 }), /splitDocuments: docs must be an array, got "ab"/);
  assert.throws(() => splitDocuments(docs, { heldOut: 0.5, seed: 1.5 }), /splitDocuments: options.seed must be an integer, got 1.5/);
});

/** Documents whose id at position t of document d is 100 * d + t, so every window tells where it came from. */
const numberedDocs = (lengths: number[]) => lengths.map((n, d) => Int32Array.from({ length: n }, (_, t) => 100 * d + t));

test("charBlocks: windows of length + 1 at 0, length, 2 * length of each document; an epoch visits each once in data.batches order; seeded", async () => {
  await tf.setBackend("cpu");
  const docs = numberedDocs([13, 4, 9]);
  const blocks = charBlocks(docs, { length: 4, batchSize: 2, seed: 5, dropLast: false });
  // Document 0 (13 ids): starts 0, 4, 8 (8 + 5 = 13 fits); document 1 (4 ids): none; document 2 (9 ids): 0, 4.
  assert.deepEqual(Array.from(blocks.windows), [0, 0, 0, 4, 0, 8, 2, 0, 2, 4]);
  assert.deepEqual([blocks.windowCount, blocks.batchCount, blocks.length, blocks.batchSize], [5, 3, 4, 2]);
  const windowRow = (w: number) => Array.from({ length: 5 }, (_, t) => 100 * blocks.windows[2 * w] + blocks.windows[2 * w + 1] + t);
  const before = tf.memory().numTensors;
  for (const epoch of [0, 1]) {
    const got = [...blocks.batches(epoch)];
    const order = batches(5, 2, { seed: 5, epoch });
    assert.deepEqual(got.map((t) => t.arraySync()), order.map((idx) => Array.from(idx, windowRow)));
    assert.ok(got.every((t) => t.dtype === "int32"));
    tf.dispose(got);
  }
  assert.equal(tf.memory().numTensors, before);
  const first = [...blocks.batches(0)];
  const second = [...blocks.batches(1)];
  assert.notDeepEqual(first.map((t) => t.arraySync()), second.map((t) => t.arraySync()));
  const inOrder = charBlocks(docs, { length: 4, batchSize: 2, seed: 5, shuffle: false });
  const ordered = [...inOrder.batches()];
  assert.equal(inOrder.batchCount, 2, "the last, smaller batch is dropped by default");
  assert.deepEqual(ordered.map((t) => t.arraySync()), [[windowRow(0), windowRow(1)], [windowRow(2), windowRow(3)]]);
  // The generator is lazy: reading one batch makes one tensor.
  const lazy = blocks.batches(0);
  const one = lazy.next().value as tf.Tensor2D;
  assert.equal(tf.memory().numTensors, before + first.length + second.length + ordered.length + 1);
  tf.dispose([...first, ...second, ...ordered, one]);
  assert.equal(tf.memory().numTensors, before);
});

test("charBlocks rejects bad input by name", () => {
  const docs = numberedDocs([10]);
  const cases: Array<[() => unknown, RegExp]> = [
    [() => charBlocks(docs, { length: 4, batchSize: 3, seed: 1 }), /charBlocks: docs must hold at least options.batchSize = 3 windows of length \+ 1 = 5 ids, got 2/],
    [() => charBlocks(docs, { length: 0, batchSize: 1, seed: 1 }), /charBlocks: options.length must be a positive integer, got 0/],
    [() => charBlocks([Int32Array.from([1, -2, 3])], { length: 1, batchSize: 1, seed: 1 }), /charBlocks: docs\[0\]\[1\] must be a non-negative id, got -2/],
    [() => charBlocks([[1, 2, 3] as never], { length: 1, batchSize: 1, seed: 1 }), /charBlocks: docs\[0\] must be an Int32Array, got \[1,2,3\]/],
    [() => charBlocks(docs, { length: 4, batchSize: 1, seed: "a" as never }), /charBlocks: options.seed must be an integer, got "a"/],
    [() => charBlocks(docs, { length: 4, batchSize: 1, seed: 1 }).batches(-1), /CharBlocks.batches: epoch must be a non-negative integer, got -1/],
  ];
  for (const [fn, message] of cases) assert.throws(fn, message);
});

test("charBlocks feeds training.train: a bigram table learns to predict the next character, with no tensor growth per step", async () => {
  await tf.setBackend("cpu");
  const vocab = buildCharVocab(["abcabcabc"]);
  const docs = [encodeChars(vocab, "abc".repeat(40))];
  const blocks = charBlocks(docs, { length: 8, batchSize: 4, seed: 1 });
  const table = tf.variable(tf.zeros([vocab.size, vocab.size]));
  const counts: number[] = [];
  const history = await train({
    loss: (rows: tf.Tensor2D) => {
      const inputs = tf.slice(rows, [0, 0], [-1, 8]);
      const targets = tf.slice(rows, [0, 1], [-1, 8]);
      const logits = tf.gather(table, tf.reshape(inputs, [-1]));
      return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.reshape(targets, [-1]), vocab.size), logits);
    },
    trainable: [table],
    optimizer: tf.train.sgd(1),
    batches: blocks.batches,
    stepsPerEpoch: blocks.batchCount,
    epochs: 8,
    progress: false,
    callbacks: { onStep: () => void counts.push(tf.memory().numTensors) },
  });
  assert.equal(history.steps, 8 * blocks.batchCount);
  assert.ok(Math.abs(history.loss[0] - Math.log(vocab.size)) < 1e-5, `a zero table starts at log V: ${history.loss[0]}`);
  assert.ok(history.loss[history.loss.length - 1] < 0.3, `loss ${history.loss[0]} -> ${history.loss[history.loss.length - 1]}`);
  assert.deepEqual(counts.slice(1), Array(counts.length - 1).fill(counts[1]), `tensor counts ${counts}`);
  table.dispose();
});
