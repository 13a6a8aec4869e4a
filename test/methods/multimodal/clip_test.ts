import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { createRng } from "../../../src/data/random";
import { loadMnist } from "../../../src/data/mnist";
import { CAPTION_TEMPLATES, captionTokenizer, renderCaption, sampleCaptions, TRAIN_TEMPLATES, type DigitDescription } from "../../../src/data/digit_captions";
import { clipBatches, clipLoss, createClip, type ClipBatch } from "../../../src/methods/multimodal/clip";
import { assertSteadyTensors, ctxOf, denseEncoder, onWasm, snapshot, allMoved, trainCounting } from "../vision/helpers";

/** CLIP's loss in float64 from the paper's pseudo-code: normalise, scale, cross-entropy both ways. */
function referenceClipLoss(img: number[][], txt: number[][], scale: number): number {
  const unit = (rows: number[][]) => rows.map((r) => { const n = Math.sqrt(r.reduce((s, v) => s + v * v, 0)); return r.map((v) => v / n); });
  const u = unit(img), v = unit(txt);
  const b = u.length;
  const logits = u.map((ui) => v.map((vj) => scale * ui.reduce((s, x, k) => s + x * vj[k], 0)));
  const ce = (row: number[], target: number) => {
    const max = Math.max(...row);
    return Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0)) + max - row[target];
  };
  let total = 0;
  for (let i = 0; i < b; i++) total += ce(logits[i], i) + ce(logits.map((r) => r[i]), i);
  return total / (2 * b);
}

const randomMatrix = (rng: ReturnType<typeof createRng>, rows: number, cols: number): number[][] =>
  Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.normal()));

test("clipLoss matches a float64 reference on cpu and wasm, and leaves no tensor", async () => {
  const rng = createRng(5);
  const cases = [[1, 3, 2], [4, 8, 1 / 0.07], [16, 5, 100], [9, 32, 1]] as const;
  const inputs = cases.map(([b, d, s]) => ({ a: randomMatrix(rng, b, d), t: randomMatrix(rng, b, d), s }));
  const check = () => {
    for (const { a, t, s } of inputs) {
      const x = tf.tensor2d(a), y = tf.tensor2d(t), scale = tf.scalar(s);
      const before = tf.memory().numTensors;
      const loss = clipLoss(x, y, scale);
      assert.equal(tf.memory().numTensors, before + 1);
      const got = loss.dataSync()[0], want = referenceClipLoss(a, t, s);
      assert.ok(Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)), `${tf.getBackend()} b=${a.length} s=${s}: got ${got}, want ${want}`);
      // A number scale gives the same loss.
      const asNumber = clipLoss(x, y, s);
      assert.ok(Math.abs(asNumber.dataSync()[0] - got) < 1e-6);
      tf.dispose([x, y, scale, loss, asNumber]);
    }
  };
  await tf.setBackend("cpu");
  check();
  await onWasm(check);
});

test("clipLoss is log B when every row is the same, and near 0 for matched orthogonal pairs at scale 100", async () => {
  await tf.setBackend("cpu");
  const same = tf.ones([5, 4]) as tf.Tensor2D;
  const l = clipLoss(same, same, 10);
  assert.ok(Math.abs(l.dataSync()[0] - Math.log(5)) < 1e-5);
  const eye = tf.eye(4) as tf.Tensor2D;
  const m = clipLoss(tf.mul(eye, 3) as tf.Tensor2D, eye, 100);
  // Each row: log(1 + 3 e^-100) ~ 0.
  assert.ok(m.dataSync()[0] < 1e-6);
  tf.dispose([same, l, eye, m]);
});

test("clipLoss gradient w.r.t. both embeddings and the scale matches central finite differences of the float64 reference", async () => {
  const rng = createRng(9);
  const b = 3, d = 4, s = 2.5;
  const a = randomMatrix(rng, b, d), t = randomMatrix(rng, b, d);
  const h = 1e-6;
  const numeric = (which: 0 | 1) => (which === 0 ? a : t).map((row, i) => row.map((_, k) => {
    const shift = (delta: number) => {
      const copy = [a.map((r) => [...r]), t.map((r) => [...r])];
      copy[which][i][k] += delta;
      return referenceClipLoss(copy[0], copy[1], s);
    };
    return (shift(h) - shift(-h)) / (2 * h);
  }));
  const want = [numeric(0), numeric(1)];
  const wantScale = (referenceClipLoss(a, t, s + h) - referenceClipLoss(a, t, s - h)) / (2 * h);
  const check = () => {
    const x = tf.tensor2d(a), y = tf.tensor2d(t), scale = tf.scalar(s);
    const grads = tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => clipLoss(p as tf.Tensor2D, q as tf.Tensor2D, r as tf.Scalar))([x, y, scale]);
    let maxErr = 0, maxRef = 0;
    for (let v = 0; v < 2; v++) {
      const got = grads[v].arraySync() as number[][];
      for (let i = 0; i < b; i++) for (let k = 0; k < d; k++) {
        maxErr = Math.max(maxErr, Math.abs(got[i][k] - want[v][i][k]));
        maxRef = Math.max(maxRef, Math.abs(want[v][i][k]));
      }
    }
    assert.ok(maxRef > 1e-3, "the reference gradient should not vanish");
    assert.ok(maxErr <= 1e-4 * Math.max(1, maxRef), `${tf.getBackend()}: max embedding-gradient error ${maxErr}`);
    const gotScale = grads[2].dataSync()[0];
    assert.ok(Math.abs(gotScale - wantScale) <= 1e-4 * Math.max(1, Math.abs(wantScale)), `${tf.getBackend()}: scale gradient ${gotScale} vs ${wantScale}`);
    tf.dispose([x, y, scale, ...grads]);
  };
  await tf.setBackend("cpu");
  check();
  await onWasm(check);
});

test("clipLoss rejects bad input with named errors", async () => {
  await tf.setBackend("cpu");
  const ok = tf.zeros([4, 3]) as tf.Tensor2D;
  const cases: Array<[() => unknown, RegExp]> = [
    [() => clipLoss(tf.zeros([4]) as never, ok, 1), /clipLoss: imageEmb must be a float32 tensor of shape \[n,d\], got a tensor of shape \[4\]/],
    [() => clipLoss(ok, tf.zeros([5, 3]) as tf.Tensor2D, 1), /clipLoss: textEmb must be a float32 tensor of shape \[4,3\], got a tensor of shape \[5,3\]/],
    [() => clipLoss(ok, tf.zeros([4, 3], "int32") as tf.Tensor2D, 1), /clipLoss: textEmb must be a float32 tensor of shape \[4,3\], got an int32 tensor of shape \[4,3\]/],
    [() => clipLoss(tf.zeros([0, 3]) as tf.Tensor2D, tf.zeros([0, 3]) as tf.Tensor2D, 1), /clipLoss: imageEmb must have at least one row and one column/],
    [() => clipLoss(ok, ok, 0), /clipLoss: logitScale must be a finite number > 0, got 0/],
    [() => clipLoss(ok, ok, tf.scalar(-1)), /clipLoss: logitScale must be a finite number > 0, got -1/],
    [() => clipLoss(ok, ok, tf.ones([1]) as never), /clipLoss: logitScale must be a float32 tensor of rank 0, got a tensor of shape \[1\]/],
  ];
  for (const [fn, message] of cases) assert.throws(fn, message);
  tf.disposeVariables();
});

/** The first `n` training digits with label-only captions, and the tokenizer. */
function tinyPairs(n: number) {
  const { train } = loadMnist({ trainSize: 200, testSize: 10 });
  const set = { ...train, n, images: train.images.slice(0, n * 784), labels: train.labels.slice(0, n) };
  const words: DigitDescription[] = Array.from(set.labels, (digit) => ({ digit, width: "narrow", slant: "upright", thickness: "thin" }));
  return { set, words, tokenizer: captionTokenizer() };
}

test("createClip: the loss is clipLoss of the projected features with the learned scale; metrics in range", async () => {
  await tf.setBackend("cpu");
  const { set, words, tokenizer } = tinyPairs(8);
  const encoder = denseEncoder(16, 1);
  const clip = createClip({ imageEncoder: encoder, imageDim: 16, vocabSize: tokenizer.size, maxLength: tokenizer.maxLength, textDim: 8, textHeads: 2, embedDim: 6, seed: 3 });
  const batch = clipBatches(set, { batchSize: 8, tokenizer, captions: () => words.map((w) => renderCaption(CAPTION_TEMPLATES[3], w)) })(0, createRng(1)).next().value as ClipBatch;
  const before = tf.memory().numTensors;
  const [got, want, metrics] = tf.tidy(() => {
    const out = clip.loss(batch, ctxOf(1)) as { loss: tf.Scalar; metrics: Record<string, tf.Scalar> };
    const img = clip.imageProjection.apply(encoder.apply(batch.images, { training: true }) as tf.Tensor) as tf.Tensor2D;
    const txt = clip.textProjection.apply(clip.textEncoder.pooled(batch.tokens, batch.lengths)) as tf.Tensor2D;
    return [out.loss.dataSync()[0], clipLoss(img, txt, 1 / 0.07).dataSync()[0], Object.fromEntries(Object.entries(out.metrics).map(([k, v]) => [k, v.dataSync()[0]]))];
  });
  assert.equal(tf.memory().numTensors, before);
  assert.ok(Math.abs(got - want) < 1e-5, `${got} vs ${want}`);
  assert.ok(Math.abs(metrics.logitScale - 1 / 0.07) < 1e-3);
  assert.ok(metrics.accuracy >= 0 && metrics.accuracy <= 1);
  // Label-only captions of 8 digits: the duplicates share counts rows whose caption occurs twice or more.
  const counts = new Map<number, number>();
  for (const l of set.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  assert.ok(Math.abs(metrics.duplicates - Array.from(set.labels).filter((l) => counts.get(l)! > 1).length / 8) < 1e-6);
  // Unit-norm embeddings for evaluation, without leaks.
  const u = clip.embedImages(batch.images, 3), v = clip.embedTexts(tokenizer.encode(["a seven", "a one"]));
  assert.deepEqual(u.shape, [8, 6]);
  assert.deepEqual(v.shape, [2, 6]);
  const norms = tf.tidy(() => tf.concat([tf.norm(u, "euclidean", 1), tf.norm(v, "euclidean", 1)]));
  for (const norm of norms.dataSync()) assert.ok(Math.abs(norm - 1) < 1e-5);
  norms.dispose();
  tf.dispose([u, v, batch.images, batch.tokens]);
  assert.equal(tf.memory().numTensors, before - 2);
  clip.dispose();
  encoder.dispose();
});

test("createClip trains through training.train: loss falls below log B, every part moves, no leak, the scale is clipped, dispose keeps the encoder", async () => {
  await tf.setBackend("cpu");
  const { set, words, tokenizer } = tinyPairs(120);
  const encoder = denseEncoder(16, 2);
  const start = tf.memory().numTensors;
  const clip = createClip({ imageEncoder: encoder, imageDim: 16, vocabSize: tokenizer.size, maxLength: tokenizer.maxLength, textDim: 16, embedDim: 8, seed: 4 });
  const e0 = snapshot(encoder);
  const t0 = clip.textEncoder.tokenEmbedding.dataSync().slice();
  const optimizer = tf.train.adam(3e-3);
  const batchSize = 20;
  const { history, counts } = await trainCounting<ClipBatch>({
    ...clip,
    optimizer,
    // Label-only captions ("a seven"): a short run learns them; the attribute templates need hundreds of steps.
    batches: clipBatches(set, { batchSize, tokenizer, captions: (epoch) => sampleCaptions(words, [CAPTION_TEMPLATES[3]], { seed: 1, epoch }) }),
    steps: 60,
    seed: 3,
  });
  assertSteadyTensors(counts, 60);
  const early = history.loss.slice(0, 6).reduce((a, b) => a + b, 0) / 6;
  const late = history.loss.slice(-12).reduce((a, b) => a + b, 0) / 12;
  // The baseline: log B, the loss of embeddings that ignore their input.
  assert.ok(late < Math.log(batchSize) - 0.5, `late loss ${late} vs log B = ${Math.log(batchSize)} (early ${early})`);
  // afterStep clips log s to [0, log 100], the paper's cap.
  tf.tidy(() => clip.logScale.assign(tf.scalar(Math.log(1000))));
  clip.afterStep!(undefined as never, ctxOf(1));
  assert.ok(Math.abs(clip.logitScale() - 100) < 1e-3, `${clip.logitScale()}`);
  tf.tidy(() => clip.logScale.assign(tf.scalar(-2)));
  clip.afterStep!(undefined as never, ctxOf(1));
  assert.equal(clip.logitScale(), 1);
  assert.ok(allMoved(snapshot(encoder), e0), "every encoder weight moves");
  assert.ok(clip.textEncoder.tokenEmbedding.dataSync().some((v, i) => Math.abs(v - t0[i]) > 1e-7), "the text encoder moves");
  optimizer.dispose();
  clip.dispose();
  assert.equal(tf.memory().numTensors, start, "dispose frees what CLIP made");
  assert.ok(!encoder.weights[0].read().isDisposed);
  encoder.dispose();
});

test("createClip is deterministic under a seed, and trains with the clipLoss it is given", async () => {
  await tf.setBackend("cpu");
  const { set, words, tokenizer } = tinyPairs(40);
  const run = async (seed: number, loss?: (a: tf.Tensor2D, b: tf.Tensor2D, s: tf.Scalar) => tf.Scalar) => {
    const encoder = denseEncoder(8, 1);
    const clip = createClip({ imageEncoder: encoder, imageDim: 8, vocabSize: tokenizer.size, maxLength: tokenizer.maxLength, textDim: 8, embedDim: 4, seed, clipLoss: loss });
    const optimizer = tf.train.adam(1e-2);
    const { history } = await trainCounting<ClipBatch>({ ...clip, optimizer, batches: clipBatches(set, { batchSize: 10, tokenizer, captions: (epoch) => sampleCaptions(words, TRAIN_TEMPLATES, { seed: 2, epoch }) }), steps: 5, seed: 7 });
    optimizer.dispose();
    clip.dispose();
    encoder.dispose();
    return history.loss;
  };
  const a = await run(1), b = await run(1), c = await run(2);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const scales: number[] = [];
  const doubled = await run(1, (x, y, s) => { scales.push(s.dataSync()[0]); return tf.mul(clipLoss(x, y, s), 2) as tf.Scalar; });
  assert.ok(Math.abs(doubled[0] - 2 * a[0]) < 1e-5, `${doubled[0]} vs 2 * ${a[0]}`);
  assert.ok(Math.abs(scales[0] - 1 / 0.07) < 1e-3);
});

test("createClip and clipBatches reject bad options and batches", async () => {
  await tf.setBackend("cpu");
  const { set, words, tokenizer } = tinyPairs(10);
  const encoder = denseEncoder(16, 1);
  const base = { imageEncoder: encoder, imageDim: 16, vocabSize: tokenizer.size, maxLength: tokenizer.maxLength };
  const bad: Array<[object, RegExp]> = [
    [{ ...base, imageEncoder: {} }, /createClip: options.imageEncoder must be a tf.LayersModel, got an object/],
    [{ ...base, imageDim: 0 }, /createClip: options.imageDim must be a positive integer, got 0/],
    [{ ...base, initialTemperature: 0.001 }, /createClip: options.initialTemperature must be a number in \[0.01, 1\], got 0.001/],
    [{ ...base, maxLogitScale: 1 }, /createClip: options.maxLogitScale must be a number in \(1, Infinity\), got 1/],
    [{ ...base, textHeads: 3 }, /createTransformer: /],
    [{ ...base, clipLoss: "clip" }, /createClip: options.clipLoss must be a function \(imageEmb, textEmb, logitScale\) => scalar, got "clip"/],
  ];
  for (const [options, message] of bad) assert.throws(() => createClip(options as never), message);
  const clip = createClip({ ...base, textDim: 8, embedDim: 4 });
  const captions = () => words.map((w) => renderCaption(CAPTION_TEMPLATES[0], w));
  const batch = clipBatches(set, { batchSize: 4, tokenizer, captions })(0, createRng(1)).next().value as ClipBatch;
  assert.throws(() => tf.tidy(() => { clip.loss({ ...batch, lengths: new Int32Array(3) }, ctxOf(1)); }), /CLIP.loss: batch.lengths must be an Int32Array of length 4, got an Int32Array of length 3/);
  const wrongDim = createClip({ ...base, imageDim: 12, textDim: 8, embedDim: 4 });
  assert.throws(() => tf.tidy(() => { wrongDim.loss(batch, ctxOf(1)); }), /CLIP.loss: imageEncoder must map \[4,28,28,1\] to \[4,12\], got a tensor of shape \[4,16\]/);
  const perRow = createClip({ ...base, textDim: 8, embedDim: 4, clipLoss: (a) => tf.sum(a, 1) as unknown as tf.Scalar });
  assert.throws(() => tf.tidy(() => { perRow.loss(batch, ctxOf(1)); }), /CLIP.loss: options.clipLoss must return a scalar loss, got shape \[4\]/);
  assert.throws(() => clipBatches(set, { batchSize: 11, tokenizer, captions }), /clipBatches: options.batchSize must be an integer in \[2, 10\] \(set.n\), got 11/);
  assert.throws(() => clipBatches(set, { batchSize: 4, tokenizer, captions: () => ["a one"] })(0, createRng(1)).next(), /clipBatches: options.captions\(0\) must return one caption per image \(10\), got \["a one"\]/);
  tf.dispose([batch.images, batch.tokens]);
  [clip, wrongDim, perRow].forEach((m) => m.dispose());
  encoder.dispose();
});

test("clipBatches: each epoch a seeded order of whole batches, each image with its epoch's caption", async () => {
  await tf.setBackend("cpu");
  const { set, words, tokenizer } = tinyPairs(10);
  const captions = (epoch: number) => sampleCaptions(words, TRAIN_TEMPLATES, { seed: 5, epoch });
  const make = clipBatches(set, { batchSize: 4, tokenizer, captions });
  const epoch = (e: number, seed: number) => [...make(e, createRng(seed))];
  const batches = epoch(1, 3);
  assert.equal(batches.length, 2, "10 pairs in batches of 4: the incomplete third is dropped");
  const order = createRng(3).permutation(10);
  const text = tokenizer.encode(captions(1));
  batches.forEach((b, k) => {
    assert.deepEqual(b.images.shape, [4, 28, 28, 1]);
    assert.deepEqual(b.tokens.shape, [4, tokenizer.maxLength]);
    const ids = b.tokens.dataSync();
    const pixels = b.images.dataSync();
    for (let i = 0; i < 4; i++) {
      const row = order[k * 4 + i];
      assert.deepEqual(Array.from(ids.subarray(i * tokenizer.maxLength, (i + 1) * tokenizer.maxLength)), Array.from(text.tokens.subarray(row * tokenizer.maxLength, (row + 1) * tokenizer.maxLength)));
      assert.equal(b.lengths[i], text.lengths[row]);
      assert.deepEqual(Array.from(pixels.subarray(i * 784, (i + 1) * 784)), Array.from(set.images.subarray(row * 784, (row + 1) * 784)));
    }
  });
  const again = epoch(1, 3);
  assert.deepEqual(again.map((b) => Array.from(b.tokens.dataSync())), batches.map((b) => Array.from(b.tokens.dataSync())));
  tf.dispose([...batches, ...again].flatMap((b) => [b.images, b.tokens]));
});
