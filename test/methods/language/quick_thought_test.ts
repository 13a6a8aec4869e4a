import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import type { BrownDocument } from "../../../src/data/brown";
import { brownSentenceSplit, neighbourBatches, padSentences, sentenceVocab, type SentenceSet, type SentenceVocab } from "../../../src/data/brown_sentences";
import { createRng } from "../../../src/data/random";
import { recallAtK } from "../../../src/evaluation/retrieval";
import { createQuickThought, quickThoughtEmbeddings, quickThoughtLoss } from "../../../src/methods/language/quick_thought";
import { createTransformer } from "../../../src/models/transformer";
import { adam } from "../../../src/training/adam";
import { assertSteadyTensors, ctxOf, trainCounting } from "../vision/helpers";

// The embedding gather's gradient needs UnsortedSegmentSum, which wasm lacks without the workbook's kernels.
registerTrainingKernels();

/** float64 quick-thought loss: mean over ordered neighbour pairs (i, j) of logsumexp_{k != i} u_i.v_k - u_i.v_j. */
function referenceQuickThought(u: number[][], v: number[][], previous: number[]): number {
  const pairs: Array<[number, number]> = [];
  previous.forEach((p, i) => { if (p >= 0) pairs.push([i, p], [p, i]); });
  const dot = (a: number[], b: number[]) => a.reduce((s, x, k) => s + x * b[k], 0);
  return pairs.reduce((total, [i, j]) => {
    const logits = v.map((vk, k) => (k === i ? -Infinity : dot(u[i], vk)));
    const top = Math.max(...logits);
    return total + top + Math.log(logits.reduce((s, l) => s + Math.exp(l - top), 0)) - dot(u[i], v[j]);
  }, 0) / pairs.length;
}

const randomRows = (rng: ReturnType<typeof createRng>, n: number, d: number) => Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));

test("quickThoughtLoss equals a float64 reference over both directions of each neighbour pair; gradients match finite differences", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(5);
  const [u, v] = [randomRows(rng, 6, 3), randomRows(rng, 6, 3)];
  const previous = [-1, 0, 1, -1, 3, -1]; // runs 0-1-2 and 3-4, and 5 alone
  const prev = Int32Array.from(previous);
  const before = tf.memory().numTensors;
  const [ut, vt] = [tf.tensor2d(u), tf.tensor2d(v)];
  const loss = quickThoughtLoss(ut, vt, prev);
  assert.ok(Math.abs(loss.dataSync()[0] - referenceQuickThought(u, v, previous)) < 1e-5);
  const [gu, gv] = tf.grads((a: tf.Tensor, b: tf.Tensor) => quickThoughtLoss(a as tf.Tensor2D, b as tf.Tensor2D, prev))([ut, vt]);
  const h = 1e-6;
  [[u, gu], [v, gv]].forEach(([rows, grad], which) => {
    const got = (grad as tf.Tensor).arraySync() as number[][];
    (rows as number[][]).forEach((row, i) => row.forEach((_, k) => {
      const keep = row[k];
      row[k] = keep + h;
      const plus = referenceQuickThought(u, v, previous);
      row[k] = keep - h;
      const minus = referenceQuickThought(u, v, previous);
      row[k] = keep;
      const numeric = (plus - minus) / (2 * h);
      assert.ok(Math.abs(numeric - got[i][k]) < 1e-4, `${which ? "v" : "u"}[${i},${k}]: ${got[i][k]} vs ${numeric}`);
    }));
  });
  // Row 5 has no neighbour: as a sentence it adds nothing, so its u-gradient is exactly 0.
  assert.deepEqual((gu.arraySync() as number[][])[5], [0, 0, 0]);
  tf.dispose([loss, gu, gv]);
  assert.equal(tf.memory().numTensors, before + 2);
  for (const [call, message] of [
    [() => quickThoughtLoss(ut, vt, new Int32Array(6).fill(-1)), /quickThoughtLoss: previous must mark at least one neighbour \(an entry other than -1\), got none/],
    [() => quickThoughtLoss(ut, vt, Int32Array.from([-1, 1, 0, 0, 0, 0])), /quickThoughtLoss: previous\[1\] must be -1 or another row's index in \[0, 6\), got 1/],
    [() => quickThoughtLoss(ut, vt, new Int32Array(5)), /quickThoughtLoss: previous must be an Int32Array of 6 indices \(-1 for none\), got an Int32Array of length 5/],
  ] as const) assert.throws(call, message);
  tf.dispose([ut, vt]);
});

/**
 * Documents that walk through 12 topics in order, 4 sentences a topic: a
 * sentence draws 2 of its 6 words from its topic's 4 words and the rest
 * from 30 shared words, so its neighbours mostly share its topic, and
 * nothing but the order of the text says which words go together.
 */
function walkingDocuments(seed: number): BrownDocument[] {
  const rng = createRng(seed);
  return Array.from({ length: 8 }, (_, d) => {
    const sentences = Array.from({ length: 48 }, (_, s) => {
      const topic = (Math.floor(s / 4) + 3 * d) % 12;
      const words = Array.from({ length: 6 }, (_, k) => (k < 2 ? `t${topic}_${rng.int(4)}` : `c${rng.int(30)}`));
      rng.shuffle(words);
      return { words, tags: words.map(() => "NN") };
    });
    const code = d % 2 === 0 ? "A" : "K";
    return { id: `c${code.toLowerCase()}${String(d).padStart(2, "0")}`, genre: code === "A" ? "news" : "fiction", genreCode: code, sentences };
  });
}

/** Same-topic Recall@1 of [f, g] embeddings of every sentence of `set`. */
function topicRecall(method: { f: ReturnType<typeof createTransformer>; g: ReturnType<typeof createTransformer> }, set: SentenceSet, vocab: SentenceVocab): number {
  const padded = padSentences(set.sentences, vocab, 6);
  const x = quickThoughtEmbeddings(method, padded.rows, { padId: vocab.padId });
  const topics = Int32Array.from(set.sentences, (s) => Number(/t(\d+)_/.exec(s.words.find((w) => w.startsWith("t"))!)![1]));
  const r = recallAtK(x, topics, { ks: [1] }).recall[0];
  x.dispose();
  return r;
}

test("quick-thought trains through training.train: same-topic retrieval beats the random init, no tensor growth per step", async () => {
  await tf.setBackend("cpu");
  const split = brownSentenceSplit(walkingDocuments(1), { seed: 1, heldOut: 0.25 });
  const vocab = sentenceVocab(split.train.sentences, { maxWords: 100 });
  const spec = { vocabSize: vocab.size, maxLength: 6, dim: 16, heads: 2, layers: 1, mlpRatio: 2, causal: false };
  const f = createTransformer({ ...spec, seed: 1 });
  const g = createTransformer({ ...spec, seed: 2 });
  const method = createQuickThought({ f, g });
  const embeddings = quickThoughtEmbeddings(method, padSentences(split.test.sentences.slice(0, 3), vocab, 6).rows, { padId: vocab.padId });
  assert.deepEqual(embeddings.shape, [3, 32]);
  embeddings.dispose();
  const baseline = topicRecall(method, split.test, vocab);
  const batches = neighbourBatches(split.train, vocab, { runs: 4, runLength: 8, maxLength: 6 });
  const steps = 80;
  const { history, counts } = await trainCounting({ ...method, optimizer: adam(3e-3), steps, seed: 1, batches });
  assertSteadyTensors(counts, steps);
  const trained = topicRecall(method, split.test, vocab);
  assert.ok(trained > baseline + 0.1, `same-topic Recall@1: trained ${trained} vs random init ${baseline}`);
  assert.ok(history.loss[steps - 1] < history.loss[0], `loss ${history.loss[0]} -> ${history.loss[steps - 1]}`);
  // The loss of a step is a function of the batch; the accuracy metric is in [0, 1].
  const batch = [...batches(0, createRng(9))][0];
  const out = tf.tidy(() => { const r = method.loss(batch, ctxOf(1)); return [r.loss.dataSync()[0], r.metrics!.accuracy.dataSync()[0]]; });
  assert.ok(out[1] >= 0 && out[1] <= 1 && Number.isFinite(out[0]));
  batch.tokens.dispose();
  assert.throws(() => createQuickThought({ f, g: f }), /createQuickThought: options.g must be a second transformer, not options.f itself/);
  const narrow = createTransformer({ ...spec, dim: 8, seed: 3 });
  assert.throws(() => createQuickThought({ f, g: narrow }), /createQuickThought: options.g must have the width of options.f \(16\) for the inner product, got 8/);
  [f, g, narrow].forEach((m) => m.dispose());
});
