import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { train, StepContext } from "../../src/training/loop";
import { ProgressReporter, ProgressState } from "../../src/training/progress";

const DIM = 3;
const BATCH = 4;
const BATCHES_PER_EPOCH = 4;

/** Fixed regression data: 4 batches of 4 rows, y = x . [1, -2, 0.5] + 0.3 + noise. */
function regressionData(): { xs: number[][][]; ys: number[][] } {
  const rng = createRng(11);
  const xs: number[][][] = [];
  const ys: number[][] = [];
  for (let b = 0; b < BATCHES_PER_EPOCH; b++) {
    const xb: number[][] = [];
    const yb: number[] = [];
    for (let i = 0; i < BATCH; i++) {
      const x = [rng.normal(), rng.normal(), rng.normal()];
      xb.push(x);
      yb.push(x[0] - 2 * x[1] + 0.5 * x[2] + 0.3 + 0.1 * rng.normal());
    }
    xs.push(xb);
    ys.push(yb);
  }
  return { xs, ys };
}

interface Batch {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
}

/** A generator that makes each batch's tensors when asked (the loop must dispose them). */
function* batchesOf(data: { xs: number[][][]; ys: number[][] }, order?: number[]): Generator<Batch> {
  for (const b of order ?? data.xs.map((_, i) => i)) {
    yield { x: tf.tensor2d(data.xs[b]), y: tf.tensor2d(data.ys[b], [BATCH, 1]) };
  }
}

function linearModel() {
  const w = tf.variable(tf.zeros([DIM, 1]), true, undefined);
  const b = tf.variable(tf.zeros([1]), true, undefined);
  const loss = ({ x, y }: Batch) => tf.losses.meanSquaredError(y, tf.add(tf.matMul(x, w), b));
  return { w, b, loss };
}

/** A reporter that records every frame. */
function recordingReporter(): ProgressReporter & { frames: ProgressState[]; final?: ProgressState } {
  const r = {
    frames: [] as ProgressState[],
    final: undefined as ProgressState | undefined,
    update(s: ProgressState) {
      r.frames.push(s);
    },
    finish(s: ProgressState) {
      r.final = s;
    },
  };
  return r;
}

test("matches a float64 reference of SGD, step by step", async () => {
  await tf.setBackend("cpu");
  const data = regressionData();
  const { w, b, loss } = linearModel();
  const history = await train({
    trainable: [w, b],
    optimizer: tf.train.sgd(0.05),
    epochs: 3,
    batches: () => batchesOf(data),
    loss,
    progress: false,
  });

  // Reference: plain float64 SGD on mean squared error, same batch order.
  const rw = [0, 0, 0];
  let rb = 0;
  const refLoss: number[] = [];
  for (let epoch = 0; epoch < 3; epoch++) {
    for (let k = 0; k < BATCHES_PER_EPOCH; k++) {
      const gw = [0, 0, 0];
      let gb = 0;
      let l = 0;
      for (let i = 0; i < BATCH; i++) {
        const x = data.xs[k][i];
        const err = x[0] * rw[0] + x[1] * rw[1] + x[2] * rw[2] + rb - data.ys[k][i];
        l += (err * err) / BATCH;
        for (let j = 0; j < DIM; j++) gw[j] += (2 * err * x[j]) / BATCH;
        gb += (2 * err) / BATCH;
      }
      refLoss.push(l);
      for (let j = 0; j < DIM; j++) rw[j] -= 0.05 * gw[j];
      rb -= 0.05 * gb;
    }
  }
  assert.equal(history.steps, 12);
  assert.equal(history.epochs, 3);
  history.loss.forEach((l, i) => assert.ok(Math.abs(l - refLoss[i]) < 1e-5 * Math.max(1, refLoss[i]), `step ${i}: ${l} vs ${refLoss[i]}`));
  const wv = w.dataSync();
  rw.forEach((v, j) => assert.ok(Math.abs(wv[j] - v) < 1e-5, `w[${j}] ${wv[j]} vs ${v}`));
  assert.ok(Math.abs(b.dataSync()[0] - rb) < 1e-5);
  for (let e = 0; e < 3; e++) {
    const mean = refLoss.slice(e * 4, e * 4 + 4).reduce((a, c) => a + c, 0) / 4;
    assert.ok(Math.abs(history.epochLoss[e] - mean) < 1e-5 * Math.max(1, mean));
  }
  assert.equal(history.interrupted, false);
  assert.equal(history.stopReason, "completed");
  tf.dispose([w, b]);
});

test("every step leaves the tensor count unchanged (batches, metrics, afterStep included)", async () => {
  await tf.setBackend("cpu");
  const data = regressionData();
  const { w, b } = linearModel();
  const optimizer = tf.train.adam(0.01);
  const ema = tf.variable(tf.zeros([DIM, 1]), false);
  const before = tf.memory().numTensors;
  const counts: number[] = [];
  const history = await train({
    trainable: [w, b],
    optimizer,
    epochs: 2,
    batches: () => batchesOf(data),
    loss: ({ x, y }: Batch) => {
      const pred = tf.add(tf.matMul(x, w), b);
      return { loss: tf.losses.meanSquaredError(y, pred), metrics: { meanX: tf.mean(x), wNorm: tf.norm(w) } };
    },
    afterStep: () => ema.assign(tf.add(tf.mul(0.9, ema), tf.mul(0.1, w))),
    callbacks: { onStep: () => void counts.push(tf.memory().numTensors) },
    progress: false,
  });
  // Adam makes its two slots per variable on the first step; nothing else may stay.
  assert.equal(counts[0], before + 2 * 2);
  assert.deepEqual(counts, new Array(8).fill(before + 4));
  assert.equal(tf.memory().numTensors, before + 4);
  // Metrics are read per step: the mean of each batch's x, computed here in float64.
  const means = [...data.xs, ...data.xs].map((xb) => xb.flat().reduce((a, c) => a + c, 0) / (BATCH * DIM));
  history.metrics.meanX.forEach((v, i) => assert.ok(Math.abs(v - means[i]) < 1e-6));
  assert.equal(history.metrics.wNorm.length, 8);
  assert.ok(tf.norm(ema).dataSync()[0] > 0, "afterStep ran");
  optimizer.dispose();
  tf.dispose([w, b, ema]);
});

test("the seed fixes each epoch's rng and each step's ctx.seed: same seed, same run", async () => {
  await tf.setBackend("cpu");
  const data = regressionData();
  const run = async (seed: number) => {
    const { w, b } = linearModel();
    const seeds: number[] = [];
    const history = await train({
      trainable: [w, b],
      optimizer: tf.train.adam(0.05),
      epochs: 3,
      seed,
      batches: (_epoch, rng) => batchesOf(data, Array.from(rng.permutation(BATCHES_PER_EPOCH))),
      loss: ({ x, y }: Batch, ctx: StepContext) => {
        seeds.push(ctx.seed);
        const noisy = tf.add(x, tf.randomNormal(x.shape, 0, 0.1, "float32", ctx.seed));
        return tf.losses.meanSquaredError(y, tf.add(tf.matMul(noisy, w), b));
      },
      progress: false,
    });
    const out = { loss: history.loss, w: Array.from(w.dataSync()), seeds };
    tf.dispose([w, b]);
    return out;
  };
  const a = await run(7);
  const again = await run(7);
  const other = await run(8);
  assert.deepEqual(again, a);
  assert.equal(new Set(a.seeds).size, 12, "a different seed every step");
  assert.notDeepEqual(other.w, a.w);
  assert.notDeepEqual(other.seeds, a.seeds);
});

test("steps and epochs: a cap mid-epoch, a cap at an epoch's end, generators of unknown length", async () => {
  await tf.setBackend("cpu");
  const data = regressionData();
  const cases = [
    { opts: { steps: 6 }, steps: 6, epochs: 1, ends: [0] },
    { opts: { steps: 8 }, steps: 8, epochs: 2, ends: [0, 1] },
    { opts: { epochs: 2 }, steps: 8, epochs: 2, ends: [0, 1] },
    { opts: { epochs: 5, steps: 10 }, steps: 10, epochs: 2, ends: [0, 1] },
  ];
  for (const c of cases) {
    const { w, b, loss } = linearModel();
    const ends: number[] = [];
    const reporter = recordingReporter();
    const history = await train({
      trainable: [w, b],
      optimizer: tf.train.sgd(0.01),
      batches: () => batchesOf(data),
      loss,
      callbacks: { onEpochEnd: ({ epoch }) => void ends.push(epoch) },
      progress: reporter,
      ...c.opts,
    });
    const label = JSON.stringify(c.opts);
    assert.equal(history.steps, c.steps, label);
    assert.equal(history.epochs, c.epochs, label);
    assert.equal(history.loss.length, c.steps, label);
    assert.deepEqual(ends, c.ends, label);
    assert.equal(reporter.final?.status, "done", label);
    assert.equal(reporter.final?.step, c.steps, label);
    // Default log rows: every max(1, total/20) steps (here every step), or every 50 when the total is unknown.
    assert.equal(history.log.length, c.opts.steps !== undefined ? c.steps : 0, label);
    tf.dispose([w, b]);
  }
});

test("an array of batches gives the total up front; log rows average their window", async () => {
  await tf.setBackend("cpu");
  const data = regressionData();
  const fixed = Array.from(batchesOf(data));
  const { w, b, loss } = linearModel();
  const reporter = recordingReporter();
  const history = await train({
    trainable: [w, b],
    optimizer: tf.train.sgd(0.01),
    epochs: 2,
    batches: () => fixed,
    disposeBatches: false,
    loss,
    logEvery: 3,
    itemsPerBatch: (batch: Batch) => batch.x.shape[0],
    progress: reporter,
  });
  assert.equal(reporter.frames[0].total, 8);
  assert.equal(reporter.frames[0].rateUnit, "items/s");
  assert.deepEqual(history.log.map((r) => r.step), [3, 6]);
  const mean3 = (i: number) => (history.loss[i] + history.loss[i + 1] + history.loss[i + 2]) / 3;
  assert.ok(Math.abs(history.log[0].loss - mean3(0)) < 1e-12);
  assert.ok(Math.abs(history.log[1].loss - mean3(3)) < 1e-12);
  assert.ok(history.itemsPerSecond !== undefined && Math.abs(history.itemsPerSecond / history.stepsPerSecond - BATCH) < 1e-9);
  assert.ok(fixed.every((bt) => !bt.x.isDisposed), "kept batches are not disposed");
  tf.dispose([w, b]);
  tf.dispose(fixed as unknown as tf.Tensor[]);
});

test("SIGINT stops the run after the current step; the model stays usable", async () => {
  await tf.setBackend("cpu");
  const data = regressionData();
  const { w, b, loss } = linearModel();
  const tslabLike = () => {}; // the kernel's own listener, present in a notebook
  process.on("SIGINT", tslabLike);
  try {
    const reporter = recordingReporter();
    const history = await train({
      trainable: [w, b],
      optimizer: tf.train.sgd(0.01),
      epochs: 100,
      batches: () => batchesOf(data),
      loss,
      callbacks: { onStep: ({ step }) => void (step === 3 && process.emit("SIGINT", "SIGINT")) },
      progress: reporter,
    });
    assert.equal(history.steps, 3);
    assert.equal(history.interrupted, true);
    assert.equal(history.stopReason, "interrupt");
    assert.equal(reporter.final?.status, "interrupted");
    assert.equal(reporter.final?.step, 3);
    assert.equal(process.listenerCount("SIGINT"), 1, "the loop's listener is gone");

    // A real signal, delivered by the event loop between steps.
    const real = await train({
      trainable: [w, b],
      optimizer: tf.train.sgd(0.01),
      epochs: 100,
      batches: () => batchesOf(data),
      loss,
      callbacks: { onStep: ({ step }) => void (step === 5 && process.kill(process.pid, "SIGINT")) },
      progress: false,
    });
    assert.equal(real.stopReason, "interrupt");
    assert.ok(real.steps >= 5 && real.steps <= 6, `stopped at ${real.steps}`);
    const prediction = tf.tidy(() => tf.matMul(tf.ones([1, DIM]), w).dataSync()[0]);
    assert.ok(Number.isFinite(prediction));
  } finally {
    process.removeListener("SIGINT", tslabLike);
  }
  tf.dispose([w, b]);
});

test("onStep's stop() and an AbortSignal end the run", async () => {
  await tf.setBackend("cpu");
  const data = regressionData();
  const { w, b, loss } = linearModel();
  const stopped = await train({
    trainable: [w, b],
    optimizer: tf.train.sgd(0.01),
    epochs: 10,
    batches: () => batchesOf(data),
    loss,
    callbacks: { onStep: ({ step, stop }) => void (step === 5 && stop()) },
    progress: false,
  });
  assert.deepEqual([stopped.steps, stopped.stopReason, stopped.interrupted], [5, "callback", false]);
  const controller = new AbortController();
  const aborted = await train({
    trainable: [w, b],
    optimizer: tf.train.sgd(0.01),
    epochs: 10,
    batches: () => batchesOf(data),
    loss,
    signal: controller.signal,
    callbacks: { onStep: ({ step }) => void (step === 2 && controller.abort()) },
    progress: false,
  });
  assert.deepEqual([aborted.steps, aborted.stopReason, aborted.interrupted], [2, "signal", true]);
  tf.dispose([w, b]);
});

test("bad losses and options fail with messages that say what was expected", async () => {
  await tf.setBackend("cpu");
  const data = regressionData();
  const { w, b } = linearModel();
  const base = { trainable: [w, b], optimizer: tf.train.sgd(0.01), batches: () => batchesOf(data), progress: false as const };
  const before = tf.memory().numTensors;
  await assert.rejects(
    train({ ...base, loss: ({ x }: Batch) => tf.sum(tf.matMul(x, w), 1) }),
    /train: loss must return a scalar tf.Tensor \(shape \[\]\) or \{ loss, metrics \}, got shape \[4\]/,
  );
  await assert.rejects(
    train({ ...base, loss: ({ x }: Batch) => tf.matMul(x, tf.ones([4, 1])) as tf.Tensor }),
    /Error in matMul/,
  );
  const wBefore = Array.from(w.dataSync());
  await assert.rejects(
    train({ ...base, steps: 3, loss: ({ x }: Batch) => tf.div(tf.sum(tf.matMul(x, w)), tf.sub(tf.sum(w), tf.sum(w))) }),
    /train: loss must be finite, got NaN at step 0 \(epoch 0\); the update was skipped/,
  );
  assert.deepEqual(Array.from(w.dataSync()), wBefore, "a NaN loss leaves the weights as they were");
  assert.equal(tf.memory().numTensors, before, "failed steps leak nothing");
  const fixed = Array.from(batchesOf(data));
  await train({ ...base, steps: 1, batches: () => fixed, loss: ({ x }: Batch) => tf.sum(tf.matMul(x, w)) });
  assert.ok(fixed.every((bt) => bt.x.isDisposed), "an array's unused batches are disposed on an early stop");
  assert.equal(tf.memory().numTensors, before);
  const loss = () => tf.sum(w);
  await assert.rejects(train({ ...base, loss, steps: 0 }), /train: steps must be a positive integer, got 0/);
  await assert.rejects(train({ ...base, loss, seed: 1.5 }), /train: seed must be an integer, got 1.5/);
  await assert.rejects(train({ ...base, loss, trainable: [] }), /train: trainable must be a non-empty array/);
  await assert.rejects(
    train({ ...base, loss, batches: () => 5 as unknown as Batch[] }),
    /train: batches\(epoch\) must return an Iterable or AsyncIterable, got number/,
  );
  tf.dispose([w, b]);
});

test("async generators work as batches", async () => {
  await tf.setBackend("cpu");
  const data = regressionData();
  const { w, b, loss } = linearModel();
  async function* slow(): AsyncGenerator<Batch> {
    for (const batch of batchesOf(data)) {
      await new Promise((r) => setTimeout(r, 1));
      yield batch;
    }
  }
  const optimizer = tf.train.sgd(0.01); // holds its learning rate as a tensor
  const before = tf.memory().numTensors;
  const history = await train({ trainable: [w, b], optimizer, epochs: 2, batches: slow, loss, progress: false });
  assert.equal(history.steps, 8);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([w, b]);
});
