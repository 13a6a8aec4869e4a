import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels } from "../../../src/backend/kernels";
import { buildCharVocab, charBlocks, encodeChars, splitDocuments } from "../../../src/data/char_tokens";
import { createRng } from "../../../src/data/random";
import { fitCharNgram, ngramBitsPerChar } from "../../../src/evaluation/char_ngram";
import { createCausalLm, evaluateCausalLm, nextTokenNll, sampleCausalLm } from "../../../src/methods/language/causal_lm";
import { createTransformer, type Transformer } from "../../../src/models/transformer";
import { adam } from "../../../src/training/adam";
import { assertSteadyTensors, ctxOf, onWasm, trainCounting } from "../vision/helpers";

// The gradient of the embedding gather on wasm comes from the workbook's kernels.
registerTrainingKernels();

/**
 * A tiny causal transformer whose token embedding is redrawn at N(0, scale^2), so
 * its logits spread over several nats (the default N(0, 0.02^2) gives near-uniform
 * predictions, where any cross-entropy is close to log V).
 */
function tinyModel(vocabSize: number, maxLength: number, seed: number, scale = 1): Transformer {
  const model = createTransformer({ vocabSize, maxLength, dim: 8, heads: 2, layers: 1, mlpRatio: 2, causal: true, seed });
  const rng = createRng(seed + 100);
  tf.tidy(() => model.tokenEmbedding.assign(tf.tensor2d(Float32Array.from({ length: vocabSize * 8 }, () => scale * rng.normal()), [vocabSize, 8])));
  return model;
}

/** `[rows, cols]` int32 ids in [0, vocab) from createRng(seed). */
function randomIds(rows: number, cols: number, vocab: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.int(vocab)));
}

/** Float64 -log softmax(row)[target]. */
function nllRef(row: ArrayLike<number>, target: number): number {
  const top = Math.max(...Array.from(row));
  const lse = top + Math.log(Array.from(row).reduce((s, l) => s + Math.exp(l - top), 0));
  return lse - row[target];
}

/** The logits of `model` for one input row, `[time][vocab]`, as float64 arrays. */
function logitsOf(model: Transformer, input: ArrayLike<number>): number[][] {
  const out = tf.tidy(() => model.apply(tf.tensor2d(Int32Array.from(input), [1, input.length], "int32")).logits);
  const rows = (out.arraySync() as number[][][])[0];
  out.dispose();
  return rows;
}

test("createCausalLm: the loss is the mean next-token cross-entropy of a float64 reference, its gradient matches finite differences", async () => {
  await tf.setBackend("cpu");
  const model = tinyModel(7, 6, 3);
  const lm = createCausalLm({ transformer: model });
  assert.equal(lm.name, "causal LM");
  assert.equal(lm.transformer, model);
  assert.deepEqual(lm.trainable, model.trainable);
  // time = maxLength (6): the longest window a batch may hold, and a shorter one (time 3).
  for (const width of [7, 4]) {
    const windows = randomIds(3, width, 7, width);
    const batch = tf.tensor2d(windows, undefined, "int32");
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => {
      const { loss, metrics } = lm.loss(batch, ctxOf(1)) as { loss: tf.Scalar; metrics: Record<string, tf.Scalar> };
      return [loss.dataSync()[0], metrics.bitsPerChar.dataSync()[0]];
    });
    assert.equal(tf.memory().numTensors, before, "a loss call inside tidy leaves nothing");
    let total = 0;
    windows.forEach((w) => logitsOf(model, w.slice(0, width - 1)).forEach((row, t) => (total += nllRef(row, w[t + 1]))));
    const want = total / (3 * (width - 1));
    assert.ok(want > 0.5 && Math.abs(want - Math.log(7)) > 0.05, `the reference ${want} is not the uniform log 7`);
    assert.ok(Math.abs(out[0] - want) < 1e-5, `loss ${out[0]} vs float64 ${want}`);
    assert.ok(Math.abs(out[1] - want / Math.LN2) < 1e-5, `bitsPerChar ${out[1]} vs ${want / Math.LN2}`);
    batch.dispose();
  }

  // d mean(nll) / d logits against central differences of the float64 reference.
  const rng = createRng(9);
  const [b, t, v] = [2, 3, 5];
  const values = Array.from({ length: b * t * v }, () => 2 * rng.normal());
  const targets = [[0, 4, 2], [3, 3, 1]];
  const refLoss = (x: number[]) => {
    let s = 0;
    for (let i = 0; i < b * t; i++) s += nllRef(x.slice(i * v, (i + 1) * v), targets[Math.floor(i / t)][i % t]);
    return s / (b * t);
  };
  const logits = tf.tensor3d(values, [b, t, v]);
  const targetTensor = tf.tensor2d(targets, undefined, "int32");
  const grad = tf.grad((x: tf.Tensor) => tf.mean(nextTokenNll(x as tf.Tensor3D, targetTensor)))(logits);
  const got = grad.dataSync();
  const h = 1e-5;
  values.forEach((_, i) => {
    const plus = values.slice(), minus = values.slice();
    plus[i] += h;
    minus[i] -= h;
    const numeric = (refLoss(plus) - refLoss(minus)) / (2 * h);
    assert.ok(Math.abs(got[i] - numeric) < 1e-5, `gradient ${i}: ${got[i]} vs ${numeric}`);
  });
  tf.dispose([logits, targetTensor, grad]);
  lm.dispose();
  assert.ok(!model.tokenEmbedding.isDisposed, "a transformer passed in stays the caller's");
  model.dispose();
});

test("a causal LM cannot see the future: changing tokens from m on leaves the loss terms of the targets before m unchanged", async () => {
  await tf.setBackend("cpu");
  const model = tinyModel(9, 8, 4);
  const windows = randomIds(2, 9, 9, 5);
  const terms = (w: number[][]): number[][] => {
    const out = tf.tidy(() => {
      const batch = tf.tensor2d(w, undefined, "int32");
      const { logits } = model.apply(tf.slice(batch, [0, 0], [2, 8]));
      return nextTokenNll(logits, tf.slice(batch, [0, 1], [2, 8]));
    });
    const rows = out.arraySync() as number[][];
    out.dispose();
    return rows;
  };
  const original = terms(windows);
  for (const m of [2, 5, 8]) {
    // Every token at positions m.. replaced by another id.
    const changed = windows.map((w) => w.map((id, i) => (i >= m ? (id + 1 + (i % 3)) % 9 : id)));
    const after = terms(changed);
    for (let r = 0; r < 2; r++) {
      // Term j predicts token j + 1 from tokens 0..j: the terms j + 1 < m read none of the changed tokens.
      for (let j = 0; j < m - 1; j++) assert.ok(Math.abs(after[r][j] - original[r][j]) < 1e-6, `m ${m}: term ${j} moved ${original[r][j]} -> ${after[r][j]}`);
      assert.ok(Math.abs(after[r][m - 1] - original[r][m - 1]) > 1e-4, `m ${m}: term ${m - 1} has a new target`);
      if (m < 8) assert.ok(after[r].slice(m).some((x, k) => Math.abs(x - original[r][m + k]) > 1e-4), `m ${m}: later terms read the changed tokens`);
    }
  }
  const bert = createTransformer({ vocabSize: 9, maxLength: 8, dim: 8, heads: 2, layers: 1, causal: false });
  assert.throws(() => createCausalLm({ transformer: bert }), /createCausalLm: options.transformer must be causal \(createTransformer\(\{ causal: true \}\)\): a bidirectional model sees the tokens it predicts, got causal: false/);
  assert.throws(() => evaluateCausalLm(bert, [Int32Array.from([1, 2])]), /evaluateCausalLm: transformer must be causal/);
  bert.dispose();
  model.dispose();
});

test("evaluateCausalLm: bits per character of every target once, matching a per-target float64 reference, for side-by-side and sliding windows", async () => {
  await tf.setBackend("cpu");
  const context = 6;
  const model = tinyModel(7, context, 6);
  const rng = createRng(8);
  const long = Int32Array.from({ length: 20 }, () => rng.int(7));
  // A one-id document has no target; a two-id document has one.
  const docs = [long, Int32Array.from([3]), Int32Array.from([3, 5])];
  /** -log2 p(doc[i]) read from the last logits of the inputs doc[from, i). */
  const bitsOf = (doc: Int32Array, from: number, i: number) => {
    const rows = logitsOf(model, doc.subarray(from, i));
    return nllRef(rows[rows.length - 1], doc[i]) / Math.LN2;
  };
  // stride = context: targets 1..6 read from 0, 7..12 from 6, 13..18 from 12; the short last
  // window (target 19) reads the 6 ids before it, from 13.
  let sideBySide = bitsOf(docs[2], 0, 1);
  for (let i = 1; i < long.length; i++) sideBySide += bitsOf(long, i === 19 ? 13 : Math.floor((i - 1) / context) * context, i);
  // stride = 1: each target reads the `context` ids before it (fewer at the start).
  let sliding = bitsOf(docs[2], 0, 1);
  for (let i = 1; i < long.length; i++) sliding += bitsOf(long, Math.max(0, i - context), i);
  const count = long.length - 1 + 1;
  const before = tf.memory().numTensors;
  const got = evaluateCausalLm(model, docs, { batchSize: 2 });
  assert.equal(tf.memory().numTensors, before, "no tensor left by a call");
  assert.ok(Math.abs(got - sideBySide / count) < 1e-5, `side by side: ${got} vs float64 ${sideBySide / count}`);
  const slid = evaluateCausalLm(model, docs, { stride: 1, batchSize: 5 });
  assert.ok(Math.abs(slid - sliding / count) < 1e-5, `sliding: ${slid} vs float64 ${sliding / count}`);
  assert.ok(Math.abs(evaluateCausalLm(model, docs, { batchSize: 100 }) - got) < 1e-6, "the batch size changes nothing");
  assert.equal(tf.memory().numTensors, before);

  const bad: Array<[() => unknown, RegExp]> = [
    [() => evaluateCausalLm(model, docs, { stride: 7 }), /evaluateCausalLm: options.stride must be an integer in \[1, 6\], got 7/],
    [() => evaluateCausalLm(model, docs, { batchSize: 0 }), /evaluateCausalLm: options.batchSize must be a positive integer, got 0/],
    [() => evaluateCausalLm(model, [[1, 2]] as never), /evaluateCausalLm: docs\[0\] must be an Int32Array, got \[1,2\]/],
    [() => evaluateCausalLm(model, [Int32Array.from([1, 7])]), /evaluateCausalLm: docs\[0\]\[1\] must be an integer in \[0, 7\), got 7/],
    [() => evaluateCausalLm(model, [Int32Array.from([1])]), /evaluateCausalLm: docs must hold at least one document of 2 or more ids, got 1 documents and no id to score/],
    [() => evaluateCausalLm({} as never, docs), /evaluateCausalLm: transformer must be a Transformer from models.createTransformer, got an object/],
  ];
  for (const [call, message] of bad) assert.throws(call, message);
  model.dispose();
});

/** Documents of sentences drawn from three, joined by ". ": predictable after a sentence's first characters. */
function repetitiveTexts(count: number, seed: number): string[] {
  const sentences = ["the cat sat on the mat", "a dog ran to the log", "my hen can peck a pen"];
  const rng = createRng(seed);
  return Array.from({ length: count }, () => Array.from({ length: 8 }, () => sentences[rng.int(3)]).join(". ") + ".");
}

test("createCausalLm trains through training.train on repetitive text to well below the unigram and bigram bits per character, without tensor growth (wasm)", async () => {
  // On wasm, the notebooks' backend: about 50 ms a step here, against 300 on cpu.
  await onWasm(trainOnRepetitiveText);
});

async function trainOnRepetitiveText(): Promise<void> {
  const texts = repetitiveTexts(30, 1);
  const vocab = buildCharVocab(texts);
  const docs = texts.map((t) => encodeChars(vocab, t, { bos: true }));
  const { train, heldOut } = splitDocuments(docs, { heldOut: 0.2, seed: 2 });
  const unigram = ngramBitsPerChar(fitCharNgram(train, { order: 1, vocabSize: vocab.size }), heldOut);
  const bigram = ngramBitsPerChar(fitCharNgram(train, { order: 2, vocabSize: vocab.size }), heldOut);

  const start = tf.memory().numTensors;
  const context = 16;
  const lm = createCausalLm({ vocabSize: vocab.size, context, dim: 32, heads: 2, layers: 1, mlpRatio: 2, seed: 3 });
  const blocks = charBlocks(train, { length: context, batchSize: 16, seed: 4 });
  const before = evaluateCausalLm(lm.transformer, heldOut);
  const optimizer = adam(1e-2);
  const steps = 150;
  const { history, counts } = await trainCounting({ ...lm, optimizer, batches: blocks.batches, stepsPerEpoch: blocks.batchCount, steps, seed: 5 });
  assertSteadyTensors(counts, steps);
  const after = evaluateCausalLm(lm.transformer, heldOut);
  assert.ok(history.metrics.bitsPerChar.every((b, i) => Math.abs(b - history.loss[i] / Math.LN2) < 1e-5));
  assert.ok(Math.abs(before - Math.log2(vocab.size)) < 0.1, `untrained: ${before} bits, log2 V = ${Math.log2(vocab.size)}`);
  // The floor is about 0.07 bits per character: log2 3 for the choice of each next sentence of about 23 characters.
  assert.ok(after < 0.35 * unigram && after < 0.5 * bigram, `held out: LM ${after}, unigram ${unigram}, bigram ${bigram} bits per character`);
  console.log(`repetitive text: vocab ${vocab.size}, unigram ${unigram.toFixed(3)}, bigram ${bigram.toFixed(3)}, LM ${before.toFixed(3)} -> ${after.toFixed(3)} bits/char`);

  // The greedy continuation of a sentence's start is that sentence.
  const prompt = encodeChars(vocab, "the cat sat on the mat. a dog r");
  const greedy = sampleCausalLm(lm.transformer, prompt, { length: 14, temperature: 0, seed: 1 });
  assert.equal(Array.from(greedy, (id) => vocab.chars[id]).join(""), "an to the log.");

  optimizer.dispose();
  lm.dispose();
  assert.equal(tf.memory().numTensors, start, "dispose frees the transformer the method built");
}

test("sampleCausalLm: repeatable with a seed, greedy at temperature 0 and 1e-6, draws from softmax(logits / temperature), slides past the context", async () => {
  await tf.setBackend("cpu");
  const maxLength = 5;
  // Embeddings at N(0, 0.5^2): the next-id distributions are spread, not nearly one-hot.
  const model = tinyModel(6, maxLength, 11, 0.5);
  const before = tf.memory().numTensors;
  const prompt = [1, 4, 2];
  const a = sampleCausalLm(model, prompt, { length: 12, seed: 3 });
  assert.equal(tf.memory().numTensors, before, "no tensor left by a call");
  assert.ok(a instanceof Int32Array && a.length === 12 && a.every((id) => id >= 0 && id < 6));
  assert.deepEqual(sampleCausalLm(model, prompt, { length: 12, seed: 3 }), a, "same seed, same ids");
  assert.notDeepEqual(sampleCausalLm(model, prompt, { length: 12, seed: 4 }), a, "another seed, other ids");

  // Greedy reference: argmax of the last logits of the last maxLength ids, a prompt longer than the context.
  const long = [0, 1, 2, 3, 4, 5, 0];
  const text = [...long];
  for (let k = 0; k < 9; k++) {
    const rows = logitsOf(model, text.slice(-maxLength));
    const last = rows[rows.length - 1];
    text.push(last.indexOf(Math.max(...last)));
  }
  const greedy = Array.from(sampleCausalLm(model, long, { length: 9, temperature: 0, seed: 1 }));
  assert.deepEqual(greedy, text.slice(long.length));
  assert.deepEqual(Array.from(sampleCausalLm(model, long, { length: 9, temperature: 1e-6, seed: 2 })), greedy);
  assert.ok(new Set(greedy).size > 1 || new Set(Array.from(a)).size > 1, "the model does not collapse onto one id");

  // The first draw over many seeds follows softmax(l / T), l the logits after the prompt.
  const rows = logitsOf(model, prompt);
  const l = rows[rows.length - 1];
  for (const temperature of [1, 0.5]) {
    const w = l.map((x) => Math.exp((x - Math.max(...l)) / temperature));
    const p = w.map((x) => x / w.reduce((s, y) => s + y, 0));
    const counts = new Array(6).fill(0);
    const n = 1200;
    for (let s = 0; s < n; s++) counts[sampleCausalLm(model, prompt, { length: 1, temperature, seed: s })[0]]++;
    // 4 standard errors of a frequency at most sqrt(0.25 / 1200) = 0.0144.
    p.forEach((pi, c) => assert.ok(Math.abs(counts[c] / n - pi) < 0.058, `T ${temperature}: id ${c} drawn ${counts[c] / n}, p ${pi}`));
  }
  assert.equal(tf.memory().numTensors, before);

  const bad: Array<[() => unknown, RegExp]> = [
    [() => sampleCausalLm(model, [], { length: 3, seed: 1 }), /sampleCausalLm: prompt must be a non-empty array of ids \(start from \[vocab.bosId\] for no prompt\), got \[\]/],
    [() => sampleCausalLm(model, [1, 6], { length: 3, seed: 1 }), /sampleCausalLm: prompt\[1\] must be an integer in \[0, 6\), got 6/],
    [() => sampleCausalLm(model, [1], { length: 0, seed: 1 }), /sampleCausalLm: options.length must be a positive integer, got 0/],
    [() => sampleCausalLm(model, [1], { length: 2, temperature: -1, seed: 1 }), /sampleCausalLm: options.temperature must be a finite number >= 0, got -1/],
    [() => sampleCausalLm(model, [1], { length: 2, seed: 0.5 }), /sampleCausalLm: options.seed must be an integer, got 0.5/],
    [() => sampleCausalLm(model, [1], undefined as never), /sampleCausalLm: options must be an object \{length, temperature\?, seed\}, got undefined/],
  ];
  for (const [call, message] of bad) assert.throws(call, message);
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test("createCausalLm rejects bad options and batches; dispose frees only a transformer it built", async () => {
  await tf.setBackend("cpu");
  const start = tf.memory().numTensors;
  const model = tinyModel(7, 4, 1);
  const sized = { vocabSize: 7, context: 4, dim: 8, heads: 2, layers: 1 };
  const bad: Array<[unknown, RegExp]> = [
    [undefined, /createCausalLm: options must be an object \{transformer\} or \{vocabSize, context, dim, heads, layers, mlpRatio\?, seed\?\}, got undefined/],
    [{ transformer: model, dim: 8 }, /createCausalLm: options must hold either transformer or model sizes, not both, got transformer and dim/],
    [{ transformer: { apply: 1 } }, /createCausalLm: options.transformer must be a Transformer from models.createTransformer, got an object/],
    [{ ...sized, context: 0 }, /createCausalLm: options.context must be a positive integer, got 0/],
    [{ ...sized, vocabSize: 2.5 }, /createCausalLm: options.vocabSize must be a positive integer, got 2.5/],
    [{ ...sized, layers: -1 }, /createCausalLm: options.layers must be a non-negative integer, got -1/],
    [{ transformer: model, name: "" }, /createCausalLm: options.name must be a non-empty string, got ""/],
  ];
  for (const [options, message] of bad) assert.throws(() => createCausalLm(options as never), message);
  assert.equal(tf.memory().numTensors, start + model.trainable.length, "a refused call builds nothing");

  const lm = createCausalLm({ transformer: model, name: "GPT" });
  assert.equal(lm.name, "GPT");
  const cases: Array<[tf.Tensor, RegExp]> = [
    [tf.tensor2d([[1, 2, 3, 4, 5, 6]], undefined, "int32"), /CausalLm.loss: batch must be an int32 tensor of shape \[batch,time\+1\] with batch >= 1 and 1 <= time <= 4, got an int32 tensor of shape \[1,6\]/],
    [tf.tensor2d([[1], [2]], undefined, "int32"), /CausalLm.loss: batch must be an int32 tensor of shape \[batch,time\+1\] with batch >= 1 and 1 <= time <= 4, got an int32 tensor of shape \[2,1\]/],
    [tf.tensor2d([[1, 2, 3]]), /CausalLm.loss: batch must be an int32 tensor .* got a float32 tensor of shape \[1,3\]/],
    [tf.tensor1d([1, 2, 3], "int32"), /CausalLm.loss: batch must be an int32 tensor .* got an int32 tensor of shape \[3\]/],
    [tf.tensor2d([[1, 2, 3], [1, 2, 7]], undefined, "int32"), /CausalLm.loss: batch must hold ids in \[0, 7\), got 7 at \[1,2\]/],
    [tf.tensor2d([[1, 7, 3]], undefined, "int32"), /Transformer.apply: tokens must hold ids in \[0, 7\), got 7 at \[0,1\]/],
  ];
  for (const [batch, message] of cases) {
    const live = tf.memory().numTensors;
    assert.throws(() => tf.tidy(() => { lm.loss(batch as tf.Tensor2D, ctxOf(1)); }), message);
    assert.equal(tf.memory().numTensors, live);
    batch.dispose();
  }
  assert.throws(() => tf.tidy(() => nextTokenNll(tf.zeros([2, 3]) as never, tf.zeros([2, 3], "int32") as tf.Tensor2D)), /nextTokenNll: logits must be a float32 tensor of rank 3, got a tensor of shape \[2,3\]/);
  assert.throws(() => tf.tidy(() => nextTokenNll(tf.zeros([2, 3, 4]) as tf.Tensor3D, tf.zeros([2, 4], "int32") as tf.Tensor2D)), /nextTokenNll: targets must be an int32 tensor of shape \[2,3\] like logits' \[batch,time\], got an int32 tensor of shape \[2,4\]/);
  lm.dispose();
  assert.equal(tf.memory().numTensors, start + model.trainable.length, "dispose keeps a transformer passed in");
  model.dispose();

  const own = createCausalLm({ ...sized, seed: 2 });
  assert.ok(own.transformer.causal && own.transformer.maxLength === 4 && own.transformer.vocabSize === 7);
  own.dispose();
  assert.equal(tf.memory().numTensors, start, "dispose frees a transformer the method built");
});

test("createCausalLm trains with the nextTokenNll it is given, and refuses one of the wrong shape", async () => {
  await tf.setBackend("cpu");
  const model = tinyModel(7, 6, 5);
  const seen: number[][] = [];
  const doubled = (logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Tensor2D => {
    seen.push(targets.shape);
    return tf.mul(nextTokenNll(logits, targets), 2) as tf.Tensor2D;
  };
  const batch = tf.tensor2d(randomIds(2, 5, 7, 9), undefined, "int32");
  const reference = createCausalLm({ transformer: model }).loss(batch, ctxOf(1)) as { loss: tf.Tensor; metrics: Record<string, tf.Tensor> };
  const mine = createCausalLm({ transformer: model, nextTokenNll: doubled }).loss(batch, ctxOf(1)) as { loss: tf.Tensor; metrics: Record<string, tf.Tensor> };
  assert.deepEqual(seen, [[2, 4]]);
  assert.ok(Math.abs(mine.loss.dataSync()[0] - 2 * reference.loss.dataSync()[0]) < 1e-5);
  assert.ok(Math.abs(mine.metrics.bitsPerChar.dataSync()[0] - mine.loss.dataSync()[0] / Math.LN2) < 1e-5);
  const perRow = createCausalLm({ transformer: model, nextTokenNll: (logits) => tf.sum(logits, [1, 2]) as unknown as tf.Tensor2D });
  assert.throws(() => tf.tidy(() => { perRow.loss(batch, ctxOf(1)); }), /CausalLm.loss: options.nextTokenNll must return \[2,4\] nats per position, got/);
  assert.throws(() => createCausalLm({ transformer: model, nextTokenNll: 3 as never }), /createCausalLm: options.nextTokenNll must be a function/);
  tf.dispose([batch, reference.loss, mine.loss, ...Object.values(reference.metrics), ...Object.values(mine.metrics)]);
  model.dispose();
});
