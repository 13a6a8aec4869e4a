import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import { buildCharVocab, charBlocks, encodeChars } from "../../../src/data/char_tokens";
import { bertMask } from "../../../src/data/pretext_bert";
import { createRng } from "../../../src/data/random";
import { createTransformer, type Transformer } from "../../../src/models/transformer";
import {
  createMaskedLm,
  maskedAccuracyOf,
  maskedCrossEntropy,
  maskedLmBatches,
  maskedTokenAccuracy,
  mostFrequentToken,
  pooledEmbeddings,
  unigramMaskedAccuracy,
  type MaskedLmBatch,
} from "../../../src/methods/language/masked_lm";
import type { LossWithMetrics } from "../../../src/training/types";
import { assertSteadyTensors, ctxOf, onWasm, trainCounting } from "../vision/helpers";

// The embedding gather's gradient needs UnsortedSegmentSum, which wasm lacks without the workbook's kernels.
registerTrainingKernels();

type Cube = number[][][];

/** Float64 masked cross-entropy: sum_bt w (logsumexp z_bt - z_bt[y]) / max(1, sum w). */
function referenceMaskedCe(logits: Cube, targets: number[][], weights: number[][]): number {
  let total = 0;
  let count = 0;
  logits.forEach((row, b) =>
    row.forEach((z, t) => {
      const m = Math.max(...z);
      const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
      total += weights[b][t] * (lse - z[targets[b][t]]);
      count += weights[b][t];
    }),
  );
  return total / Math.max(1, count);
}

function randomCube(rng: ReturnType<typeof createRng>, b: number, t: number, v: number): Cube {
  return Array.from({ length: b }, () => Array.from({ length: t }, () => Array.from({ length: v }, () => 2 * rng.normal())));
}

const TARGETS = [[1, 4, 0], [2, 2, 3]];
const WEIGHTS = [[1, 0, 1], [0, 1, 0]];

test("maskedCrossEntropy equals a float64 reference and only the weighted positions count", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(3);
  const z = randomCube(rng, 2, 3, 5);
  const before = tf.memory().numTensors;
  const [targets, weights, logits] = [tf.tensor2d(TARGETS, undefined, "int32"), tf.tensor2d(WEIGHTS), tf.tensor3d(z)];
  const loss = maskedCrossEntropy(logits, targets, weights);
  const want = referenceMaskedCe(z, TARGETS, WEIGHTS);
  assert.ok(Math.abs(loss.dataSync()[0] - want) < 1e-5, `${loss.dataSync()[0]} vs ${want}`);
  // Changing the logits and targets of unweighted positions leaves the loss as it is.
  const changed = z.map((row, b) => row.map((v, t) => (WEIGHTS[b][t] === 0 ? v.map(() => 10 * rng.normal()) : v)));
  const otherTargets = TARGETS.map((row, b) => row.map((y, t) => (WEIGHTS[b][t] === 0 ? (y + 1) % 5 : y)));
  const same = tf.tidy(() => maskedCrossEntropy(tf.tensor3d(changed), tf.tensor2d(otherTargets, undefined, "int32"), weights));
  assert.ok(Math.abs(same.dataSync()[0] - loss.dataSync()[0]) < 1e-5);
  // All-zero weights give 0, not NaN.
  const none = tf.tidy(() => maskedCrossEntropy(tf.tensor3d(z), targets, tf.zeros([2, 3]) as tf.Tensor2D));
  assert.equal(none.dataSync()[0], 0);
  // The accuracy counts arg-max hits at weighted positions only.
  const accuracy = tf.tidy(() => maskedAccuracyOf(tf.tensor3d(z), targets, weights));
  let hits = 0;
  z.forEach((row, b) => row.forEach((v, t) => { if (WEIGHTS[b][t] && v.indexOf(Math.max(...v)) === TARGETS[b][t]) hits++; }));
  assert.ok(Math.abs(accuracy.dataSync()[0] - hits / 3) < 1e-6);
  tf.dispose([loss, same, none, accuracy, targets, weights, logits]);
  assert.equal(tf.memory().numTensors, before);
});

test("maskedCrossEntropy gradient matches finite differences of the float64 reference, zero at unweighted positions", async () => {
  const rng = createRng(5);
  const z = randomCube(rng, 2, 3, 5);
  const h = 1e-6;
  const numeric = z.map((row, b) => row.map((v, t) => v.map((_, k) => {
    const plus = z.map((r) => r.map((x) => [...x]));
    const minus = z.map((r) => r.map((x) => [...x]));
    plus[b][t][k] += h;
    minus[b][t][k] -= h;
    return (referenceMaskedCe(plus, TARGETS, WEIGHTS) - referenceMaskedCe(minus, TARGETS, WEIGHTS)) / (2 * h);
  })));
  const check = (): void => {
    const before = tf.memory().numTensors;
    const [targets, weights, logits] = [tf.tensor2d(TARGETS, undefined, "int32"), tf.tensor2d(WEIGHTS), tf.tensor3d(z)];
    const grad = tf.grad((x: tf.Tensor) => maskedCrossEntropy(x as tf.Tensor3D, targets, weights))(logits);
    const got = grad.arraySync() as Cube;
    let maxErr = 0;
    got.forEach((row, b) => row.forEach((v, t) => v.forEach((g, k) => {
      maxErr = Math.max(maxErr, Math.abs(g - numeric[b][t][k]));
      if (WEIGHTS[b][t] === 0) assert.ok(g === 0, `gradient at unweighted [${b},${t},${k}]: ${g}`);
    })));
    assert.ok(maxErr < 1e-4, `${tf.getBackend()}: max gradient error ${maxErr}`);
    tf.dispose([targets, weights, logits, grad]);
    assert.equal(tf.memory().numTensors, before);
  };
  await tf.setBackend("cpu");
  check();
  await onWasm(check);
});

test("maskedCrossEntropy and maskedAccuracyOf reject bad shapes and dtypes", async () => {
  await tf.setBackend("cpu");
  const logits = tf.zeros([2, 3, 5]) as tf.Tensor3D;
  const targets = tf.zeros([2, 3], "int32") as tf.Tensor2D;
  const weights = tf.ones([2, 3]) as tf.Tensor2D;
  const flat = tf.zeros([2, 3]) as unknown as tf.Tensor3D;
  assert.throws(() => maskedCrossEntropy(flat, targets, weights), /maskedCrossEntropy: logits must be a float32 tensor of shape \[batch,time,vocab\], got .*\[2,3\]/);
  assert.throws(() => maskedCrossEntropy(logits, weights, weights), /maskedCrossEntropy: targets must be an int32 tensor of shape \[2,3\]/);
  assert.throws(() => maskedCrossEntropy(logits, targets, tf.ones([3, 2]) as tf.Tensor2D), /maskedCrossEntropy: weights must be a float32 tensor of shape \[2,3\], got .*\[3,2\]/);
  assert.throws(() => maskedAccuracyOf(logits, tf.zeros([2, 4], "int32") as tf.Tensor2D, weights), /maskedAccuracyOf: targets must be/);
  tf.dispose([logits, targets, weights, flat]);
});

/** A tiny bidirectional transformer over `vocabSize` ids. */
const tinyBert = (vocabSize: number, maxLength: number, seed: number, layers = 1): Transformer =>
  createTransformer({ vocabSize, maxLength, dim: 16, heads: 2, layers, causal: false, seed });

test("createMaskedLm: the loss is maskedCrossEntropy on bertMask(tokens, ctx.seed), repeatable, with maskedAccuracy", async () => {
  await tf.setBackend("cpu");
  const bert = tinyBert(10, 8, 1);
  const method = createMaskedLm({ transformer: bert, maskToken: 2, special: [0, 3] });
  assert.deepEqual(method.masking, { maskToken: 2, rate: 0.15, special: [0, 3] });
  assert.equal(method.trainable, bert.trainable);
  const rng = createRng(4);
  const tokens = tf.tensor2d(Int32Array.from({ length: 4 * 8 }, () => 4 + rng.int(6)), [4, 8], "int32");
  const before = tf.memory().numTensors;
  const [loss, accuracy, want, wantAccuracy, again] = tf.tidy(() => {
    const out = method.loss({ tokens }, ctxOf(9)) as LossWithMetrics;
    const { inputs, targets, weights } = bertMask(tokens, { maskToken: 2, vocabSize: 10, special: [0, 3], seed: ctxOf(9).seed });
    const { logits } = bert.apply(inputs);
    const repeat = method.loss({ tokens }, ctxOf(9)) as LossWithMetrics;
    return [out.loss, out.metrics!.maskedAccuracy, maskedCrossEntropy(logits, targets, weights), maskedAccuracyOf(logits, targets, weights), repeat.loss];
  });
  assert.ok(Math.abs(loss.dataSync()[0] - Math.log(10)) < 0.5, `an untrained model starts near log(vocab): ${loss.dataSync()[0]}`);
  assert.equal(loss.dataSync()[0], want.dataSync()[0]);
  assert.equal(loss.dataSync()[0], again.dataSync()[0]);
  assert.equal(accuracy.dataSync()[0], wantAccuracy.dataSync()[0]);
  const other = tf.tidy(() => (method.loss({ tokens }, ctxOf(10)) as { loss: tf.Tensor }).loss);
  assert.notEqual(other.dataSync()[0], loss.dataSync()[0], "another step seed draws another mask");
  tf.dispose([loss, accuracy, want, wantAccuracy, again, other]);
  assert.equal(tf.memory().numTensors, before);
  method.dispose();
  assert.ok(!bert.tokenEmbedding.isDisposed, "a passed-in transformer stays the caller's");
  tokens.dispose();
  bert.dispose();
});

test("the masked LM is bidirectional: a token after a masked position changes its prediction", async () => {
  await tf.setBackend("cpu");
  const bert = tinyBert(10, 6, 2);
  const before = tf.memory().numTensors;
  const [changed, leftUnchanged] = tf.tidy(() => {
    const a = bert.apply(tf.tensor2d([[4, 2, 5, 6, 7, 8]], undefined, "int32")).logits;
    const b = bert.apply(tf.tensor2d([[4, 2, 5, 6, 9, 8]], undefined, "int32")).logits; // position 4 changed
    const at1 = (l: tf.Tensor3D): tf.Tensor => tf.slice(l, [0, 1, 0], [1, 1, 10]);
    return [tf.max(tf.abs(tf.sub(at1(a), at1(b)))), tf.max(tf.abs(tf.sub(a, b)))];
  });
  assert.ok(changed.dataSync()[0] > 1e-4, `the masked position 1 sees position 4: ${changed.dataSync()[0]}`);
  tf.dispose([changed, leftUnchanged]);
  // A causal transformer is refused: it could not see the right context.
  const gpt = createTransformer({ vocabSize: 10, maxLength: 6, dim: 16, heads: 2, layers: 1, causal: true, seed: 2 });
  assert.throws(() => createMaskedLm({ transformer: gpt, maskToken: 2 }), /createMaskedLm: options.transformer must be bidirectional \(causal: false\)/);
  gpt.dispose();
  assert.equal(tf.memory().numTensors, before);
  bert.dispose();
});

/** Documents of random words from a tiny lexicon, space-separated: letters are predictable from their neighbours. */
function wordDocs(count: number, words: number, seed: number): string[] {
  const lexicon = ["cat", "dog", "bird", "fish", "mole"];
  const rng = createRng(seed);
  return Array.from({ length: count }, () => Array.from({ length: words }, () => lexicon[rng.int(lexicon.length)]).join(" "));
}

test("a short training run beats the unigram baseline on held-out rows, with no tensor leak per step", async () => {
  // On wasm, the notebooks' backend (and about 4x faster than cpu here).
  await onWasm(trainTinyCorpus);
});

async function trainTinyCorpus(): Promise<void> {
  const texts = wordDocs(6, 60, 1);
  const heldOutTexts = wordDocs(2, 60, 2);
  const vocab = buildCharVocab(texts);
  const trainDocs = texts.map((t) => encodeChars(vocab, t));
  const heldOut = heldOutTexts.flatMap((t) => {
    const ids = encodeChars(vocab, t);
    return Array.from({ length: Math.floor(ids.length / 16) }, (_, i) => ids.slice(i * 16, (i + 1) * 16));
  });
  const start = tf.memory().numTensors;
  const method = createMaskedLm({
    transformer: { vocabSize: vocab.size, maxLength: 16, dim: 32, heads: 2, layers: 1, seed: 3 },
    maskToken: vocab.maskId,
    special: [vocab.padId, vocab.bosId],
    rate: 0.3, // twice BERT's rate: more targets per step for a short run
  });
  const evalOptions = { maskToken: vocab.maskId, special: [vocab.padId, vocab.bosId], seed: 11, rate: 0.3 };
  const initial = maskedTokenAccuracy(method.transformer, heldOut, evalOptions);
  const space = mostFrequentToken(trainDocs);
  assert.equal(vocab.chars[space], " ");
  const unigram = unigramMaskedAccuracy(heldOut, space, vocab.size, evalOptions);
  assert.equal(unigram.masked, initial.masked, "the baseline is scored on the same positions");
  const blocks = charBlocks(trainDocs, { length: 15, batchSize: 16, seed: 1 }); // rows of 16 ids
  const optimizer = tf.train.adam(5e-3);
  const steps = 150;
  const { history, counts } = await trainCounting<MaskedLmBatch>({ ...method, optimizer, batches: maskedLmBatches(blocks), steps, seed: 2 });
  assertSteadyTensors(counts, steps);
  const after = maskedTokenAccuracy(method.transformer, heldOut, evalOptions);
  const early = history.loss.slice(0, 10).reduce((a, b) => a + b) / 10;
  const late = history.loss.slice(-10).reduce((a, b) => a + b) / 10;
  assert.ok(late < 0.5 * early, `training loss ${early} -> ${late}`);
  assert.ok(history.metrics.maskedAccuracy.every((a) => a >= 0 && a <= 1));
  assert.ok(after.accuracy > unigram.accuracy + 0.25, `masked accuracy ${initial.accuracy} -> ${after.accuracy}, unigram ${unigram.accuracy}`);
  assert.ok(after.loss < initial.loss);
  console.log(`tiny corpus: masked accuracy ${initial.accuracy.toFixed(3)} -> ${after.accuracy.toFixed(3)} (unigram ${unigram.accuracy.toFixed(3)}), loss ${early.toFixed(3)} -> ${late.toFixed(3)}`);
  optimizer.dispose();
  method.dispose();
  assert.equal(tf.memory().numTensors, start, "dispose frees the transformer the method built");
}

test("maskedTokenAccuracy scores one fixed mask whatever the batch size, and matches a direct count", async () => {
  await tf.setBackend("cpu");
  const bert = tinyBert(9, 8, 4);
  const rng = createRng(8);
  const rows = Array.from({ length: 7 }, () => Int32Array.from({ length: 8 }, () => 3 + rng.int(6)));
  const options = { maskToken: 2, seed: 5, special: [0] };
  const before = tf.memory().numTensors;
  const a = maskedTokenAccuracy(bert, rows, { ...options, batchSize: 3 });
  const b = maskedTokenAccuracy(bert, rows, { ...options, batchSize: 64 });
  assert.equal(tf.memory().numTensors, before, "no tensor left behind");
  assert.ok(Math.abs(a.accuracy - b.accuracy) < 1e-6 && Math.abs(a.loss - b.loss) < 1e-5 && a.masked === b.masked);
  const [loss, accuracy] = tf.tidy(() => {
    const { inputs, targets, weights } = bertMask(rows, { ...options, vocabSize: 9 });
    const { logits } = bert.apply(inputs);
    return [maskedCrossEntropy(logits, targets, weights), maskedAccuracyOf(logits, targets, weights)];
  });
  assert.ok(Math.abs(a.loss - loss.dataSync()[0]) < 1e-5);
  assert.ok(Math.abs(a.accuracy - accuracy.dataSync()[0]) < 1e-6);
  assert.equal(a.masked, 7 * 1, "round(0.15 * 8) = 1 position per row");
  // The unigram baseline, counted by hand on the same mask.
  const masked = bertMask(rows, { ...options, vocabSize: 9 });
  const w = masked.weights.dataSync();
  const y = masked.targets.dataSync();
  let hits = 0;
  w.forEach((v, i) => { if (v === 1 && y[i] === 4) hits++; });
  assert.equal(unigramMaskedAccuracy(rows, 4, 9, options).accuracy, hits / 7);
  tf.dispose([loss, accuracy, masked.inputs, masked.targets, masked.weights]);
  assert.equal(mostFrequentToken([Int32Array.of(5, 6, 6, 3), Int32Array.of(5, 3, 3)], { exclude: [3] }), 5, "ties go to the smaller id");
  assert.throws(() => maskedTokenAccuracy(bert, [Int32Array.of(3, 2, 4)], options), /bertMask: tokens\[0\]\[1\] must not be options.maskToken/);
  assert.throws(() => maskedTokenAccuracy(bert, [], options), /maskedTokenAccuracy: blocks must be a non-empty array of Int32Arrays/);
  assert.throws(() => maskedTokenAccuracy(bert, rows, { ...options, batchSize: 0 }), /maskedTokenAccuracy: options.batchSize must be a positive integer/);
  assert.throws(() => unigramMaskedAccuracy(rows, 9, 9, options), /unigramMaskedAccuracy: token must be an integer in \[0, 9\)/);
  assert.throws(() => mostFrequentToken([Int32Array.of(3)], { exclude: [3] }), /mostFrequentToken: docs must hold at least one id outside options.exclude/);
  bert.dispose();
});

test("pooledEmbeddings: the mean hidden state per row in batches, padding left out", async () => {
  await tf.setBackend("cpu");
  const bert = tinyBert(9, 6, 6, 2);
  const rows = [Int32Array.of(4, 5, 6, 7, 8, 4), Int32Array.of(5, 5, 6, 0, 0, 0), Int32Array.of(8, 7, 6, 5, 4, 3)];
  const before = tf.memory().numTensors;
  const full = pooledEmbeddings(bert, rows, { batchSize: 2 });
  const padded = pooledEmbeddings(bert, rows, { padId: 0 });
  const [want, wantPadded] = tf.tidy(() => {
    const ids = tf.tensor2d(rows.map((r) => Array.from(r)), undefined, "int32");
    return [bert.pooled(ids), bert.pooled(ids, [6, 3, 6])];
  });
  assert.deepEqual(full.shape, [3, 16]);
  const maxDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
  assert.ok(maxDiff(full, want) < 1e-5);
  assert.ok(maxDiff(padded, wantPadded) < 1e-5);
  assert.ok(maxDiff(full, padded) > 1e-3, "padding changes the padded row");
  // Row 1 alone, cut at its padding, pools to the same vector.
  const alone = pooledEmbeddings(bert, [rows[1].slice(0, 3)]);
  const row1 = tf.slice(padded, [1, 0], [1, 16]);
  assert.ok(maxDiff(alone, row1) < 1e-4);
  row1.dispose();
  tf.dispose([full, padded, want, wantPadded, alone]);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => pooledEmbeddings(bert, [Int32Array.of(4, 5), Int32Array.of(4)]), /pooledEmbeddings: blocks\[1\] must be a non-empty Int32Array of length 2 like blocks\[0\]/);
  assert.throws(() => pooledEmbeddings(bert, [Int32Array.of(0, 5)], { padId: 0 }), /pooledEmbeddings: every row must start with a real token/);
  assert.throws(() => pooledEmbeddings({} as Transformer, rows), /pooledEmbeddings: transformer must be a Transformer/);
  bert.dispose();
});

test("createMaskedLm rejects bad options and batches without leaking", async () => {
  await tf.setBackend("cpu");
  const before = tf.memory().numTensors;
  const model = { vocabSize: 10, maxLength: 8, dim: 16, heads: 2, layers: 1 };
  const bad: Array<[object, RegExp]> = [
    [{ transformer: model }, /createMaskedLm: options.maskToken must be an integer in \[0, 10\), got undefined/],
    [{ transformer: model, maskToken: 10 }, /createMaskedLm: options.maskToken must be an integer in \[0, 10\), got 10/],
    [{ transformer: model, maskToken: 2, rate: 1.5 }, /createMaskedLm: options.rate must be/],
    [{ transformer: model, maskToken: 2, special: [11] }, /createMaskedLm: options.special\[0\] must be an integer in \[0, 10\)/],
    [{ transformer: { ...model, causal: true }, maskToken: 2 }, /createMaskedLm: options.transformer must not set causal/],
    [{ transformer: 3, maskToken: 2 }, /createMaskedLm: options.transformer must be a Transformer or its options/],
    [{ transformer: model, maskToken: 2, temperature: 1 }, /createMaskedLm: options must hold only transformer, maskToken, rate, special, name, got temperature/],
  ];
  for (const [options, message] of bad) assert.throws(() => createMaskedLm(options as never), message);
  assert.equal(tf.memory().numTensors, before, "a rejected option builds no variables");
  const method = createMaskedLm({ transformer: model, maskToken: 2 });
  const long = tf.zeros([2, 9], "int32") as tf.Tensor2D;
  const floats = tf.zeros([2, 4]) as tf.Tensor2D;
  assert.throws(() => tf.tidy(() => method.loss({ tokens: long }, ctxOf(1)) as never), /MaskedLm.loss: batch.tokens must have at most maxLength = 8 columns/);
  assert.throws(() => tf.tidy(() => method.loss({ tokens: floats }, ctxOf(1)) as never), /MaskedLm.loss: batch.tokens must be an int32 tensor/);
  assert.throws(() => maskedLmBatches({} as never), /maskedLmBatches: blocks must be CharBlocks/);
  tf.dispose([long, floats]);
  method.dispose();
  assert.equal(tf.memory().numTensors, before);
});
