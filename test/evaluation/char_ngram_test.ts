import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng } from "../../src/data/random";
import { fitCharNgram, ngramBitsPerChar, ngramDistribution } from "../../src/evaluation/char_ngram";

const ids = (...xs: number[]) => Int32Array.from(xs);
const close = (a: number, b: number, what: string, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

// Two training documents over 6 ids, each starting with id 3 (a <bos>). Targets: 4 5 4 | 5 5.
const train = [ids(3, 4, 5, 4), ids(3, 5, 5)];
// Targets 5|3, 4|5, 0|4 and 5|2 (2 was never a previous id); the one-id document has nothing to score.
const heldOut = [ids(3, 5, 4, 0), ids(2, 5), ids(3)];

test("fitCharNgram with add-one: unigram and bigram match the hand count, and so do the held-out bits", () => {
  const unigram = fitCharNgram(train, { order: 1, vocabSize: 6, addK: 1 });
  assert.equal(unigram.count, 5);
  assert.equal(unigram.bigram, undefined);
  // (n(c) + 1) / (5 + 6): ids 0..3 unseen as targets, 4 twice, 5 three times.
  const u = [1 / 11, 1 / 11, 1 / 11, 1 / 11, 3 / 11, 4 / 11];
  u.forEach((p, c) => close(unigram.unigram[c], p, `p(${c})`));

  const bigram = fitCharNgram(train, { order: 2, vocabSize: 6, addK: 1 });
  // Row 3: (3,4) and (3,5) once each of 2; row 4: (4,5) once; row 5: (5,4) and (5,5) once each; rows 0-2 back off to the unigram.
  const rows: Record<number, number[]> = {
    3: [1 / 8, 1 / 8, 1 / 8, 1 / 8, 2 / 8, 2 / 8],
    4: [1 / 7, 1 / 7, 1 / 7, 1 / 7, 1 / 7, 2 / 7],
    5: [1 / 8, 1 / 8, 1 / 8, 1 / 8, 2 / 8, 2 / 8],
    0: u,
    2: u,
  };
  for (const [a, row] of Object.entries(rows)) row.forEach((p, c) => close(ngramDistribution(bigram, Number(a))[c], p, `p(${c} | ${a})`));
  assert.deepEqual(Array.from(ngramDistribution(unigram, 5)), Array.from(unigram.unigram), "order 1 ignores the previous id");

  close(ngramBitsPerChar(unigram, heldOut), -(Math.log2(4 / 11) + Math.log2(3 / 11) + Math.log2(1 / 11) + Math.log2(4 / 11)) / 4, "unigram bits");
  close(ngramBitsPerChar(bigram, heldOut), -(Math.log2(2 / 8) + Math.log2(2 / 8) + Math.log2(1 / 7) + Math.log2(4 / 11)) / 4, "bigram bits");
  // Pairs never cross documents: joining the two training documents would add the pair (4, 3).
  assert.notEqual(ngramDistribution(fitCharNgram([ids(3, 4, 5, 4, 3, 5, 5)], { order: 2, vocabSize: 6, addK: 1 }), 4)[3], rows[4][3]);
});

test("fitCharNgram: every distribution sums to 1 and the default add-k is 0.5; the bigram beats the unigram on Markov text", () => {
  // A first-order Markov chain over 60 ids: each id is mostly followed by one of two others.
  const rng = createRng(3);
  const vocabSize = 60;
  const makeDoc = (n: number) => {
    const doc = new Int32Array(n);
    doc[0] = 3;
    for (let i = 1; i < n; i++) doc[i] = rng.next() < 0.8 ? (doc[i - 1] * 7 + (rng.next() < 0.5 ? 1 : 2)) % vocabSize : rng.int(vocabSize);
    return doc;
  };
  const train = Array.from({ length: 20 }, () => makeDoc(200));
  const held = Array.from({ length: 5 }, () => makeDoc(200));
  const unigram = fitCharNgram(train, { order: 1, vocabSize });
  const bigram = fitCharNgram(train, { order: 2, vocabSize });
  assert.equal(bigram.addK, 0.5);
  assert.equal(bigram.count, 20 * 199);
  for (let a = 0; a < vocabSize; a++) {
    close(ngramDistribution(bigram, a).reduce((s, p) => s + p, 0), 1, `sum of p(. | ${a})`, 1e-12);
    assert.ok(ngramDistribution(bigram, a).every((p) => p > 0));
  }
  close(unigram.unigram.reduce((s, p) => s + p, 0), 1, "sum of the unigram", 1e-12);
  const [u, b] = [ngramBitsPerChar(unigram, held), ngramBitsPerChar(bigram, held)];
  // Uniform is log2 60 = 5.9 bits; the chain's entropy rate is about 0.2 * 5.9 + 0.8 * 1 + 0.72 (which branch) = 2.7.
  assert.ok(u > 5.5 && u < Math.log2(60) + 0.1, `unigram ${u} bits`);
  assert.ok(b < 3.5, `bigram ${b} bits, unigram ${u}`);
});

test("fitCharNgram and ngramBitsPerChar reject bad input with the function, argument and value", () => {
  const bad: Array<[() => unknown, RegExp]> = [
    [() => fitCharNgram(train, undefined as never), /fitCharNgram: options must be an object \{order, vocabSize, addK\?\}, got undefined/],
    [() => fitCharNgram(train, { order: 3 as never, vocabSize: 6 }), /fitCharNgram: options.order must be one of 1, 2, got 3/],
    [() => fitCharNgram(train, { order: 1, vocabSize: 0 }), /fitCharNgram: options.vocabSize must be a positive integer, got 0/],
    [() => fitCharNgram(train, { order: 1, vocabSize: 6, addK: 0 }), /fitCharNgram: options.addK must be a finite number > 0, got 0/],
    [() => fitCharNgram("abc" as never, { order: 1, vocabSize: 6 }), /fitCharNgram: trainDocs must be an array of Int32Arrays, got "abc"/],
    [() => fitCharNgram([[1, 2]] as never, { order: 1, vocabSize: 6 }), /fitCharNgram: trainDocs\[0\] must be an Int32Array, got \[1,2\]/],
    [() => fitCharNgram([ids(3, 6)], { order: 2, vocabSize: 6 }), /fitCharNgram: trainDocs\[0\]\[1\] must be an integer in \[0, 6\), got 6/],
    [() => fitCharNgram([ids(3)], { order: 1, vocabSize: 6 }), /fitCharNgram: trainDocs must hold at least one document of 2 or more ids, got 1 documents and no id to count/],
    [() => ngramBitsPerChar({} as never, heldOut), /ngramBitsPerChar: model must be a CharNgram from fitCharNgram, got an object/],
    [() => ngramBitsPerChar(fitCharNgram(train, { order: 1, vocabSize: 6 }), [ids(-1, 2)]), /ngramBitsPerChar: heldOutDocs\[0\]\[0\] must be an integer in \[0, 6\), got -1/],
    [() => ngramBitsPerChar(fitCharNgram(train, { order: 1, vocabSize: 6 }), [ids(3)]), /ngramBitsPerChar: heldOutDocs must hold at least one document of 2 or more ids, got 1 documents and no id to score/],
    [() => ngramDistribution(fitCharNgram(train, { order: 2, vocabSize: 6 }), 6), /ngramDistribution: previous must be an integer in \[0, 6\), got 6/],
  ];
  for (const [call, message] of bad) assert.throws(call, message);
});
