import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { train } from "../../src/training/loop";
import {
  cbowBatches,
  cbowLoss,
  createCbow,
  createSkipGram,
  createWord2Vec,
  noiseDistribution,
  noiseTable,
  skipGramBatches,
  skipGramLoss,
  skipGramPairs,
  subsampleCorpus,
  subsampleKeepProbabilities,
  type Word2VecMethod,
  type Word2VecModel,
} from "../../src/methods/word2vec";

const logSig = (x: number) => -Math.log1p(Math.exp(-x));
const dotRows = (a: number[][], i: number, b: number[][], j: number) => a[i].reduce((s, v, d) => s + v * b[j][d], 0);

/** float64 skip-gram loss: mean over rows of -log s(u.v_t0) - sum_k log s(-u.v_tk). */
function sgnsRef(input: number[][], output: number[][], centers: number[], targets: number[][]): number {
  let total = 0;
  centers.forEach((c, r) => {
    targets[r].forEach((t, k) => {
      const s = dotRows(input, c, output, t);
      total -= logSig(k === 0 ? s : -s);
    });
  });
  return total / centers.length;
}

/** float64 CBOW loss: h = mean of masked context input rows. */
function cbowRef(input: number[][], output: number[][], contexts: number[][], mask: number[][], targets: number[][]): number {
  let total = 0;
  const dim = input[0].length;
  contexts.forEach((ctx, r) => {
    const h = new Array<number>(dim).fill(0);
    let n = 0;
    ctx.forEach((w, j) => {
      if (mask[r][j] === 0) return;
      n++;
      for (let d = 0; d < dim; d++) h[d] += input[w][d];
    });
    for (let d = 0; d < dim; d++) h[d] /= Math.max(n, 1);
    targets[r].forEach((t, k) => {
      const s = h.reduce((acc, v, d) => acc + v * output[t][d], 0);
      total -= logSig(k === 0 ? s : -s);
    });
  });
  return total / contexts.length;
}

/** Compares tf gradients of `lossOf(input, output)` with central differences of the float64 reference. */
function checkGradients(
  lossOf: (m: { input: tf.Variable; output: tf.Variable }) => tf.Scalar,
  ref: (input: number[][], output: number[][]) => number,
  input0: number[][],
  output0: number[][],
) {
  const input = tf.tidy(() => tf.variable(tf.tensor2d(input0)));
  const output = tf.tidy(() => tf.variable(tf.tensor2d(output0)));
  const { value, grads } = tf.variableGrads(() => lossOf({ input, output }), [input, output]);
  const gIn = grads[input.name].arraySync() as number[][];
  const gOut = grads[output.name].arraySync() as number[][];
  assert.ok(Math.abs(value.dataSync()[0] - ref(input0, output0)) < 1e-5, "loss value");
  const h = 1e-5;
  for (const [table, g, which] of [[input0, gIn, "input"], [output0, gOut, "output"]] as const) {
    for (let i = 0; i < table.length; i++) {
      for (let d = 0; d < table[0].length; d++) {
        const plus = table.map((r) => r.slice());
        const minus = table.map((r) => r.slice());
        plus[i][d] += h;
        minus[i][d] -= h;
        const fd = which === "input" ? (ref(plus, output0) - ref(minus, output0)) / (2 * h) : (ref(input0, plus) - ref(input0, minus)) / (2 * h);
        assert.ok(Math.abs(fd - g[i][d]) < 2e-4, `${which}[${i}][${d}]: tf ${g[i][d]} vs finite difference ${fd}`);
      }
    }
  }
  tf.dispose([value, input, output, ...Object.values(grads)]);
}

const randomTable = (rows: number, dim: number, seed: number) => {
  const rng = createRng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: dim }, () => rng.normal() * 0.7));
};

test("skipGramLoss: value vs float64 loop, gradients vs finite differences, no leaks", async () => {
  await tf.setBackend("cpu");
  const V = 6, dim = 3;
  const input0 = randomTable(V, dim, 1);
  const output0 = randomTable(V, dim, 2);
  const centers = [0, 3, 3, 5];
  const targets = [[1, 2, 4], [0, 0, 5], [2, 3, 1], [4, 1, 1]]; // repeats: gradient rows accumulate
  const before = tf.memory().numTensors;
  const batch = { centers: tf.tensor1d(centers, "int32"), targets: tf.tensor2d(targets, undefined, "int32") };
  checkGradients((m) => skipGramLoss(m, batch), (i, o) => sgnsRef(i, o, centers, targets), input0, output0);
  tf.dispose([batch.centers, batch.targets]);
  assert.equal(tf.memory().numTensors, before);
});

test("cbowLoss: value vs float64 loop (masked mean of contexts), gradients vs finite differences", async () => {
  await tf.setBackend("cpu");
  const V = 7, dim = 3;
  const input0 = randomTable(V, dim, 3);
  const output0 = randomTable(V, dim, 4);
  const contexts = [[1, 2, 3, 0], [4, 4, 0, 0], [6, 5, 2, 1], [0, 0, 0, 0]];
  const mask = [[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]];
  const targets = [[0, 5, 6], [3, 1, 1], [2, 6, 0], [1, 2, 3]];
  const before = tf.memory().numTensors;
  const batch = { contexts: tf.tensor2d(contexts, undefined, "int32"), mask: tf.tensor2d(mask), targets: tf.tensor2d(targets, undefined, "int32") };
  checkGradients((m) => cbowLoss(m, batch), (i, o) => cbowRef(i, o, contexts, mask, targets), input0, output0);
  tf.dispose([batch.contexts, batch.mask, batch.targets]);
  assert.equal(tf.memory().numTensors, before);
});

test("noiseTable: slot frequencies follow count^0.75; excluded ids never appear", () => {
  const counts = [500, 1000, 10, 0, 3000, 1];
  const p = noiseDistribution(counts, { exclude: [0] });
  const z = [1000, 10, 0, 3000, 1].reduce((s, c) => s + Math.pow(c, 0.75), 0);
  assert.equal(p[0], 0);
  assert.ok(Math.abs(p[4] - Math.pow(3000, 0.75) / z) < 1e-12);
  const size = 200000;
  const table = noiseTable(counts, { exclude: [0], size });
  const hist = new Array<number>(counts.length).fill(0);
  for (const w of table) hist[w]++;
  for (let w = 0; w < counts.length; w++) assert.ok(Math.abs(hist[w] / size - p[w]) <= 1 / size + 1e-12, `id ${w}: ${hist[w] / size} vs ${p[w]}`);
  assert.equal(hist[0], 0);
  assert.equal(hist[3], 0);
  // power 1 = the unigram distribution.
  const uni = noiseDistribution([1, 3]);
  assert.deepEqual(Array.from(noiseDistribution([1, 3], { power: 1 })), [0.25, 0.75]);
  assert.ok(uni[1] < 0.75 && uni[1] > 0.5);
});

test("subsampleKeepProbabilities: both formulas by hand; subsampleCorpus keeps at that rate", () => {
  // total 10000 (id 0 excluded); t = 1e-3. f(1) = 0.5: paper sqrt(0.002) = 0.04472..; C adds 0.002.
  const counts = [777, 5000, 4990, 10];
  const paper = subsampleKeepProbabilities(counts, { threshold: 1e-3, exclude: [0] });
  const c = subsampleKeepProbabilities(counts, { threshold: 1e-3, exclude: [0], variant: "word2vec-c" });
  assert.ok(Math.abs(paper[1] - Math.sqrt(0.002)) < 1e-12);
  assert.ok(Math.abs(c[1] - (Math.sqrt(0.002) + 0.002)) < 1e-12);
  assert.ok(Math.abs(paper[2] - Math.sqrt(1e-3 / 0.499)) < 1e-12);
  assert.equal(paper[3], 1); // f = 1e-3 = t: sqrt(1) = 1
  assert.equal(c[3], 1); // min(1, 2)
  const sentence = new Int32Array(20000).fill(1);
  const kept = subsampleCorpus([sentence], paper, createRng(0))[0];
  const rate = kept.length / sentence.length;
  // Binomial sd = sqrt(p(1-p)/n) = 0.00146; allow 4 sd.
  assert.ok(Math.abs(rate - paper[1]) < 0.006, `kept ${rate} vs ${paper[1]}`);
  assert.throws(() => subsampleKeepProbabilities(counts, { threshold: 0 }), /subsampleKeepProbabilities: options.threshold must be in \(0, 1\), got 0/);
  assert.throws(() => subsampleKeepProbabilities([1, -2]), /subsampleKeepProbabilities: counts\[1\] must be a finite count >= 0, got -2/);
});

test("skipGramPairs: dynamic window gives each distance d with probability (W - d + 1) / W", () => {
  const W = 4;
  const n = 4000;
  const positions = Int32Array.from({ length: n }, (_, i) => i);
  // Ids are positions here, so |center - context| is the distance.
  const { centers, contexts } = skipGramPairs([positions], { window: W, rng: createRng(5) });
  const hist = new Array<number>(W + 2).fill(0);
  for (let k = 0; k < centers.length; k++) hist[Math.abs(centers[k] - contexts[k])]++;
  assert.equal(hist[0], 0);
  assert.equal(hist[W + 1], 0);
  const interior = 2 * (n - 2 * W); // both directions, centers away from the ends
  for (let d = 1; d <= W; d++) {
    const expected = ((W - d + 1) / W) * interior;
    assert.ok(Math.abs(hist[d] - expected) < 0.05 * interior, `distance ${d}: ${hist[d]} vs ${expected}`);
  }
});

test("skipGramBatches / cbowBatches: shapes, seeded, targets are real context words, no leaks", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(9);
  const V = 30;
  const corpus = Array.from({ length: 40 }, () => Int32Array.from({ length: 3 + rng.int(8) }, () => 1 + rng.int(V - 1)));
  const counts = new Array<number>(V).fill(0);
  for (const s of corpus) for (const w of s) counts[w]++;
  const near = new Set<string>();
  for (const s of corpus) for (let p = 0; p < s.length; p++) for (let q = Math.max(0, p - 2); q <= Math.min(s.length - 1, p + 2); q++) if (q !== p) near.add(`${s[p]} ${s[q]}`);
  const before = tf.memory().numTensors;
  const make = skipGramBatches(corpus, { counts, batchSize: 16, window: 2, negatives: 3, subsample: 0 });
  const first = [...make(0, createRng(1))];
  const again = [...make(0, createRng(1))];
  let pairs = 0;
  first.forEach((b, i) => {
    assert.equal(b.targets.shape[1], 4);
    assert.equal(b.centers.shape[0], b.targets.shape[0]);
    assert.ok(b.centers.shape[0] <= 16);
    const c = b.centers.arraySync();
    const t = b.targets.arraySync();
    c.forEach((w, r) => {
      assert.ok(near.has(`${w} ${t[r][0]}`));
      for (let k = 1; k < 4; k++) assert.ok(t[r][k] >= 1 && t[r][k] < V, "negatives never <unk>");
    });
    assert.deepEqual(t, again[i].targets.arraySync());
    pairs += c.length;
  });
  assert.ok(pairs > 0);
  tf.dispose(first.flatMap((b) => [b.centers, b.targets]));
  tf.dispose(again.flatMap((b) => [b.centers, b.targets]));
  const cb = [...cbowBatches(corpus, { counts, batchSize: 32, window: 2, negatives: 2, subsample: 0 })(0, createRng(2))];
  let positions = 0;
  for (const b of cb) {
    assert.deepEqual(b.contexts.shape.slice(1), [4]);
    const ctx = b.contexts.arraySync();
    const mask = b.mask.arraySync();
    const t = b.targets.arraySync();
    ctx.forEach((row, r) => {
      const used = row.filter((_, j) => mask[r][j] === 1);
      assert.ok(used.length >= 1);
      for (const w of used) assert.ok(near.has(`${t[r][0]} ${w}`));
    });
    positions += ctx.length;
  }
  assert.equal(positions, corpus.reduce((s, x) => s + x.length, 0));
  tf.dispose(cb.flatMap((b) => [b.contexts, b.mask, b.targets]));
  assert.equal(tf.memory().numTensors, before);
});

test("word2vec: bad inputs are rejected naming the argument", async () => {
  await tf.setBackend("cpu");
  assert.throws(() => createWord2Vec({ vocabSize: 0, dim: 4 }), /createWord2Vec: options.vocabSize must be a positive integer, got 0/);
  const m = createWord2Vec({ vocabSize: 5, dim: 2 });
  const centers = tf.tensor1d([1, 2], "int32");
  const targets = tf.tensor2d([[1, 2, 3]], undefined, "int32");
  assert.throws(() => skipGramLoss(m, { centers, targets }), /skipGramLoss: batch.targets must have shape \[2, 1 \+ K\]/);
  const fl = tf.tensor1d([1, 2]);
  const t2 = tf.tensor2d([[1, 2], [3, 4]], undefined, "int32");
  assert.throws(() => skipGramLoss(m, { centers: fl as tf.Tensor1D, targets: t2 }), /skipGramLoss: batch\.centers must be an int32 tensor, got a float32 tensor of shape \[2\]/);
  assert.throws(
    () => cbowLoss(m, { contexts: t2, mask: tf.ones([2, 3]) as tf.Tensor2D, targets: t2 }),
    /cbowLoss: batch.mask must have shape \[2,2\] like batch.contexts, got \[2,3\]/,
  );
  assert.throws(() => skipGramBatches([Int32Array.from([1, 9])], { counts: [1, 1, 1], batchSize: 4 }), /skipGramBatches: corpus\[0\]\[1\] must be an id in \[0, 3\), got 9/);
  assert.throws(() => cbowBatches([], { counts: [1, 1], batchSize: 0 }), /cbowBatches: options.batchSize must be a positive integer, got 0/);
  assert.throws(() => noiseDistribution([5, 0], { exclude: [0] }), /noiseDistribution: counts must have a positive entry/);
  tf.dispose([centers, targets, fl, t2]);
  m.dispose();
});

/** Checks one word2vec method against its lower-level loss, then trains it and disposes it. */
async function checkWord2VecMethod<B extends object>(
  name: string,
  create: (o: { vocabSize: number; dim: number; seed: number }) => Word2VecMethod<B>,
  lossOf: (m: Word2VecModel, b: B) => tf.Scalar,
  batches: (epoch: number, rng: ReturnType<typeof createRng>) => Generator<B>,
): Promise<void> {
  const before = tf.memory().numTensors;
  const method = create({ vocabSize: 9, dim: 6, seed: 3 });
  const reference = createWord2Vec({ vocabSize: 9, dim: 6, seed: 3 });
  assert.equal(method.name, name);
  assert.deepEqual(Array.from(method.input.dataSync()), Array.from(reference.input.dataSync()));
  assert.deepEqual(method.trainable, [method.input, method.output]);
  const batch = batches(0, createRng(1)).next().value as B;
  const ctx = { step: 0, epoch: 0, stepInEpoch: 0, seed: 0, rng: createRng(0) };
  const [got, want] = tf.tidy(() => [method.loss(batch, ctx) as tf.Tensor, lossOf(reference, batch)]);
  assert.equal(got.dataSync()[0], want.dataSync()[0]);
  // Output vectors start at zero: every score is 0, the loss (1 + K) log 2.
  assert.ok(Math.abs(got.dataSync()[0] - 4 * Math.log(2)) < 1e-5);
  assert.equal(method.itemsPerBatch!(batch), 64);
  tf.dispose([got, want, ...(Object.values(batch) as tf.Tensor[])]);
  reference.dispose();
  const optimizer = tf.train.adam(0.05);
  const history = await train({ ...method, optimizer, batches, steps: 40, seed: 2, progress: false });
  optimizer.dispose();
  const first = history.loss[0], last = history.loss[history.loss.length - 1];
  assert.ok(last < first - 0.5, `${name}: loss ${first} -> ${last}`);
  method.dispose();
  assert.equal(tf.memory().numTensors, before, `${name}: dispose frees both tables`);
}

test("createSkipGram and createCbow: the tables of createWord2Vec, the loss of skipGramLoss / cbowLoss; they train through training.train and dispose frees the tables", async () => {
  await tf.setBackend("cpu");
  // Two "topics" whose words only meet each other: a corpus with something to learn.
  const rng = createRng(8);
  const corpus = Array.from({ length: 40 }, (_, s) =>
    Int32Array.from({ length: 8 }, () => (s % 2 === 0 ? 1 + rng.int(4) : 5 + rng.int(4))),
  );
  const counts = new Array<number>(9).fill(0);
  corpus.forEach((sentence) => sentence.forEach((w) => counts[w]++));
  const options = { counts, batchSize: 64, window: 2, negatives: 3, subsample: 0 };
  await checkWord2VecMethod("skip-gram", createSkipGram, skipGramLoss, skipGramBatches(corpus, options));
  await checkWord2VecMethod("CBOW", createCbow, cbowLoss, cbowBatches(corpus, options));
  assert.throws(() => createSkipGram({ vocabSize: 5, dim: 0 }), /createSkipGram: options.dim must be a positive integer, got 0/);
  assert.throws(() => createCbow({ vocabSize: 5, dim: 2, seed: 0.5 }), /createCbow: options.seed must be an integer, got 0.5/);
});
