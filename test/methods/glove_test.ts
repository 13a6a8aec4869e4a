import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { cooccurrenceCounts, cooccurrenceValue } from "../../src/data/cooccurrence";
import { createRng } from "../../src/data/random";
import { train, type StepContext } from "../../src/training/loop";
import { createGlove, gloveBatches, gloveLoss, gloveVectors, gloveWeight } from "../../src/methods/glove";

test("gloveWeight: hand values", () => {
  assert.equal(gloveWeight(100), 1);
  assert.equal(gloveWeight(250), 1);
  assert.ok(Math.abs(gloveWeight(25) - Math.pow(0.25, 0.75)) < 1e-15);
  assert.ok(Math.abs(gloveWeight(1, 10, 1) - 0.1) < 1e-15);
  assert.throws(() => gloveWeight(-1), /gloveWeight: x must be >= 0/);
});

test("gloveLoss over one epoch of batches equals a float64 loop over the co-occurrence matrix; gradients vs finite differences", async () => {
  await tf.setBackend("cpu");
  const V = 5, dim = 3;
  const corpus = [Int32Array.from([1, 2, 3, 1, 4]), Int32Array.from([2, 2, 4, 0])];
  const matrix = cooccurrenceCounts(corpus, { vocabSize: V, window: 2 });
  const xMax = 2; // small so some entries are capped and some weighted
  const model = createGlove({ vocabSize: V, dim, seed: 4 });
  const W = model.words.arraySync() as number[][];
  const C = model.contexts.arraySync() as number[][];
  const b = Array.from(model.wordBias.dataSync());
  const bc = Array.from(model.contextBias.dataSync());
  const ref = (w: number[][], c: number[][], bw: number[], bcc: number[]) => {
    let sum = 0;
    let n = 0;
    for (let i = 0; i < V; i++) {
      for (let j = 0; j < V; j++) {
        const x = cooccurrenceValue(matrix, i, j);
        if (x === 0) continue;
        const f = Math.min(1, Math.pow(x / xMax, 0.75));
        const d = w[i].reduce((s, v, k) => s + v * c[j][k], 0) + bw[i] + bcc[j] - Math.log(x);
        sum += f * d * d;
        n++;
      }
    }
    return sum / n;
  };
  const before = tf.memory().numTensors;
  // One batch holding every entry: its mean is the matrix mean.
  const [batch] = [...gloveBatches(matrix, { batchSize: matrix.nnz, xMax })(0, createRng(0))];
  const { value, grads } = tf.variableGrads(() => gloveLoss(model, batch), model.variables);
  assert.ok(Math.abs(value.dataSync()[0] - ref(W, C, b, bc)) < 1e-5);
  const h = 1e-5;
  const gW = grads[model.words.name].arraySync() as number[][];
  const gB = Array.from(grads[model.contextBias.name].dataSync());
  for (let i = 0; i < V; i++) {
    for (let k = 0; k < dim; k++) {
      const p = W.map((r) => r.slice());
      const m = W.map((r) => r.slice());
      p[i][k] += h;
      m[i][k] -= h;
      const fd = (ref(p, C, b, bc) - ref(m, C, b, bc)) / (2 * h);
      assert.ok(Math.abs(fd - gW[i][k]) < 1e-4, `words[${i}][${k}]: ${gW[i][k]} vs ${fd}`);
    }
    const p = bc.slice();
    const m = bc.slice();
    p[i] += h;
    m[i] -= h;
    const fd = (ref(W, C, b, p) - ref(W, C, b, m)) / (2 * h);
    assert.ok(Math.abs(fd - gB[i]) < 1e-4, `contextBias[${i}]`);
  }
  // Several batches cover each entry exactly once.
  const parts = [...gloveBatches(matrix, { batchSize: 3, xMax })(0, createRng(1))];
  const seen = parts.flatMap((p) => {
    const r = p.rows.arraySync();
    const c = p.cols.arraySync();
    const l = p.logCounts.arraySync();
    return r.map((x, k) => {
      assert.ok(Math.abs(Math.exp(l[k]) - cooccurrenceValue(matrix, x, c[k])) < 1e-5);
      return `${x} ${c[k]}`;
    });
  });
  assert.equal(new Set(seen).size, matrix.nnz);
  assert.equal(seen.length, matrix.nnz);
  tf.dispose([value, ...Object.values(grads), batch.rows, batch.cols, batch.logCounts, batch.weights]);
  tf.dispose(parts.flatMap((p) => [p.rows, p.cols, p.logCounts, p.weights]));
  const v = gloveVectors(model);
  const expected = W.map((r, i) => r.map((x, k) => x + C[i][k]));
  (v.arraySync() as number[][]).forEach((r, i) => r.forEach((x, k) => assert.ok(Math.abs(x - expected[i][k]) < 1e-6)));
  v.dispose();
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test("glove: bad inputs are rejected naming the argument", async () => {
  await tf.setBackend("cpu");
  assert.throws(() => createGlove({ vocabSize: 3, dim: 1.5 }), /createGlove: options.dim must be a positive integer, got 1.5/);
  const matrix = cooccurrenceCounts([Int32Array.from([1, 2])], { vocabSize: 3 });
  assert.throws(() => gloveBatches(matrix, { batchSize: 0 }), /gloveBatches: options.batchSize must be a positive integer, got 0/);
  assert.throws(() => gloveBatches(cooccurrenceCounts([], { vocabSize: 3 }), { batchSize: 2 }), /gloveBatches: matrix has no non-zero entries/);
  const model = createGlove({ vocabSize: 3, dim: 2 });
  const rows = tf.tensor1d([1, 2], "int32");
  const short = tf.tensor1d([1]);
  assert.throws(() => gloveLoss(model, { rows, cols: rows, logCounts: short, weights: short }), /gloveLoss: batch.logCounts must have shape \[2\], got \[1\]/);
  tf.dispose([rows, short]);
  model.dispose();
});

test("createGlove is a Method: its loss is gloveLoss, it trains through training.train, dispose frees its four variables", async () => {
  await tf.setBackend("cpu");
  const corpus = [Int32Array.from([1, 2, 3, 1, 4, 2, 2, 3]), Int32Array.from([2, 2, 4, 0, 1, 3])];
  const matrix = cooccurrenceCounts(corpus, { vocabSize: 5, window: 2 });
  const before = tf.memory().numTensors;
  const glove = createGlove({ vocabSize: 5, dim: 3, seed: 1 });
  assert.equal(glove.name, "GloVe");
  assert.deepEqual(glove.trainable, glove.variables);
  const batches = gloveBatches(matrix, { batchSize: 8, xMax: 2 });
  const batch = batches(0, createRng(3)).next().value!;
  const ctx: StepContext = { step: 0, epoch: 0, stepInEpoch: 0, seed: 0, rng: createRng(0) };
  const [got, want] = tf.tidy(() => [glove.loss(batch, ctx) as tf.Tensor, gloveLoss(glove, batch)]);
  assert.equal(got.dataSync()[0], want.dataSync()[0]);
  assert.equal(glove.itemsPerBatch!(batch), batch.rows.shape[0]);
  tf.dispose([got, want, ...(Object.values(batch) as tf.Tensor[])]);
  const optimizer = tf.train.adam(0.1);
  const history = await train({ ...glove, optimizer, batches, steps: 60, seed: 1, progress: false });
  optimizer.dispose();
  const first = history.loss[0], last = history.loss[history.loss.length - 1];
  assert.ok(last < first / 4, `loss ${first} -> ${last}`);
  glove.dispose();
  assert.equal(tf.memory().numTensors, before);
});
