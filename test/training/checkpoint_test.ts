import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { tf } from "../../src/backend/tf";
import { createRng, Rng } from "../../src/data/random";
import { mlpHead } from "../../src/models/encoders";
import {
  hasCheckpoint,
  loadCheckpoint,
  loadCheckpointModel,
  readCheckpointState,
  saveCheckpoint,
} from "../../src/training/checkpoint";
import { History, StepContext, train } from "../../src/training/loop";
import { adam } from "../../src/training/adam";
import "../../src/backend/select"; // registers the wasm backend

const N = 32;
const DIM = 4;
const CLASSES = 3;
const BATCH = 8;

function dataset() {
  const rng = createRng(5);
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < N; i++) {
    const c = i % CLASSES;
    x.push(Array.from({ length: DIM }, (_, j) => (j === c ? 2 : 0) + rng.normal()));
    y.push(c);
  }
  return { x, y };
}

interface Batch {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
}

/** Shuffled minibatches made on the fly from the epoch's rng. */
function* minibatches(data: ReturnType<typeof dataset>, rng: Rng): Generator<Batch> {
  const order = rng.permutation(N);
  for (let s = 0; s < N; s += BATCH) {
    const rows = Array.from(order.subarray(s, s + BATCH));
    yield tf.tidy(() => ({
      x: tf.tensor2d(rows.map((r) => data.x[r])),
      y: tf.oneHot(tf.tensor1d(rows.map((r) => data.y[r]), "int32"), CLASSES).toFloat() as tf.Tensor2D,
    }));
  }
}

/**
 * A model with BatchNorm statistics, a bare variable, Adam, and noise from
 * ctx.seed. The first dense bias feeds BatchNorm, so its gradient is ~0 and
 * Adam turns last-bit differences in its state into visible ones: a resume
 * must restore the optimizer exactly (stopping at step 5 failed when only
 * `getWeights()` was restored).
 */
function setup(initSeed: number, makeOptimizer: () => tf.Optimizer = () => tf.train.adam(0.02)) {
  const head = mlpHead({ inputDim: DIM, hidden: [8], outputDim: CLASSES, batchNorm: true, seed: initSeed });
  const logScale = tf.tidy(() => tf.variable(tf.scalar(0.1 * initSeed)));
  const optimizer = makeOptimizer();
  const loss = ({ x, y }: Batch, ctx: StepContext) => {
    const noisy = tf.add(x, tf.randomNormal(x.shape, 0, 0.3, "float32", ctx.seed));
    const logits = tf.mul(head.apply(noisy, { training: true }) as tf.Tensor, tf.exp(logScale));
    return tf.losses.softmaxCrossEntropy(y, logits);
  };
  const weights = () => [...head.getWeights().map((w) => Array.from(w.dataSync())), Array.from(logScale.dataSync())];
  const dispose = () => {
    head.dispose();
    logScale.dispose();
    optimizer.dispose();
  };
  return { head, logScale, optimizer, loss, weights, dispose };
}

function assertClose(a: number[][], b: number[][], tol: number, what: string) {
  assert.equal(a.length, b.length);
  a.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - b[i][j]) <= tol, `${what}[${i}][${j}]: ${v} vs ${b[i][j]}`)));
}

async function runTrain(s: ReturnType<typeof setup>, steps: number, dir?: string, extra: Partial<Parameters<typeof train<Batch>>[0]> = {}): Promise<History> {
  const data = dataset();
  return train<Batch>({
    trainable: [s.head, s.logScale],
    optimizer: s.optimizer,
    steps,
    seed: 3,
    batches: (_epoch, rng) => minibatches(data, rng),
    loss: s.loss,
    progress: false,
    ...(dir ? { checkpoint: { dir } } : {}),
    ...extra,
  });
}

test("k steps, save, load into fresh objects, N-k steps equals N steps (Adam, cpu)", async () => {
  await tf.setBackend("cpu");
  const root = mkdtempSync(path.join(tmpdir(), "ckpt-"));
  try {
    const straight = setup(1);
    const full = await runTrain(straight, 10);
    const expected = straight.weights();
    straight.dispose();

    const first = setup(1);
    const part = await runTrain(first, 6, path.join(root, "run"));
    assert.equal(part.steps, 6);
    first.dispose();
    assert.ok(hasCheckpoint(path.join(root, "run")));

    // Fresh objects with other initial weights: everything must come from the checkpoint.
    const fresh = setup(2);
    const before = tf.memory().numTensors;
    const resumed = await runTrain(fresh, 10, path.join(root, "run"));
    assert.equal(resumed.resumedFrom, 6);
    assert.equal(resumed.steps, 10);
    assert.equal(resumed.epochs, 2);
    assertClose(fresh.weights(), expected, 1e-6, "weights");
    assertClose([resumed.loss], [full.loss], 1e-6, "loss");
    assertClose([resumed.epochLoss], [full.epochLoss], 1e-6, "epochLoss");
    // The resumed run adds only Adam's slots (2 per trainable variable).
    assert.equal(tf.memory().numTensors, before + 2 * (fresh.head.trainableWeights.length + 1));
    fresh.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("k steps, save, load into fresh objects, N-k steps equals N steps (fused adam, wasm)", async () => {
  await tf.setBackend("wasm");
  const root = mkdtempSync(path.join(tmpdir(), "ckpt-"));
  try {
    const fused = () => adam(0.02);
    const straight = setup(1, fused);
    const full = await runTrain(straight, 10);
    const expected = straight.weights();
    straight.dispose();

    const first = setup(1, fused);
    // Stopping at 5 fails when beta1^t and beta2^t are recomputed instead of restored.
    await runTrain(first, 5, path.join(root, "run"));
    first.dispose();

    const fresh = setup(2, fused);
    const resumed = await runTrain(fresh, 10, path.join(root, "run"));
    assert.equal(resumed.resumedFrom, 5);
    assertClose(fresh.weights(), expected, 1e-6, "weights");
    assertClose([resumed.loss], [full.loss], 1e-6, "loss");
    fresh.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
    await tf.setBackend("cpu");
  }
});

test("an interrupted run saves where it stopped and resumes to the same weights", async () => {
  await tf.setBackend("cpu");
  const root = mkdtempSync(path.join(tmpdir(), "ckpt-"));
  const tslabLike = () => {};
  process.on("SIGINT", tslabLike);
  try {
    const straight = setup(1);
    await runTrain(straight, 10);
    const expected = straight.weights();
    straight.dispose();

    const dir = path.join(root, "run");
    const first = setup(1);
    const saves: number[] = [];
    const stopped = await runTrain(first, 10, undefined, {
      checkpoint: { dir, every: 3 },
      callbacks: {
        onStep: async ({ step }) => {
          if (hasCheckpoint(dir)) saves.push(((await readCheckpointState(dir)) as { step: number }).step);
          if (step === 5) process.emit("SIGINT", "SIGINT");
        },
      },
    });
    first.dispose();
    assert.equal(stopped.stopReason, "interrupt");
    assert.equal(stopped.steps, 5);
    assert.deepEqual([...new Set(saves)], [3], "saved every 3 steps");
    assert.equal(((await readCheckpointState(dir)) as { step: number }).step, 5, "saved on interrupt");

    const fresh = setup(3);
    const resumed = await runTrain(fresh, 10, dir);
    assert.equal(resumed.resumedFrom, 5);
    assertClose(fresh.weights(), expected, 1e-6, "weights");
    fresh.dispose();
    assert.deepEqual(readdirSync(root), ["run"], "no partial folders left");
  } finally {
    process.removeListener("SIGINT", tslabLike);
    rmSync(root, { recursive: true, force: true });
  }
});

test("saveCheckpoint / loadCheckpoint round-trip models, variables, optimizer and state without leaks", async () => {
  await tf.setBackend("cpu");
  const root = mkdtempSync(path.join(tmpdir(), "ckpt-"));
  try {
    const a = setup(1);
    await runTrain(a, 3);
    const bank = tf.tidy(() => tf.variable(tf.tensor2d([[1, 2], [3, 4]])));
    const before = tf.memory().numTensors;
    const dir = path.join(root, "c");
    await saveCheckpoint(dir, { models: { head: a.head }, variables: { bank }, optimizer: a.optimizer, state: { note: "x", n: [1, 2] } });
    assert.equal(tf.memory().numTensors, before, "save leaves the count unchanged");

    const b = setup(2);
    const bank2 = tf.tidy(() => tf.variable(tf.zeros([2, 2])));
    const freshWeights = await b.optimizer.getWeights();
    assert.equal(freshWeights.length, 1, "a fresh Adam has only its iteration count");
    tf.dispose(freshWeights[0].tensor);
    const mid = tf.memory().numTensors;
    const state = await loadCheckpoint(dir, { models: { head: b.head }, variables: { bank: bank2 }, optimizer: b.optimizer });
    assert.deepEqual(state, { note: "x", n: [1, 2] });
    assertClose(b.weights().slice(0, -1), a.weights().slice(0, -1), 0, "model weights");
    assert.deepEqual(bank2.arraySync(), [[1, 2], [3, 4]]);
    const [wa, wb] = [await a.optimizer.getWeights(), await b.optimizer.getWeights()];
    assert.equal(b.optimizer.iterations, 3);
    assert.deepEqual(wb.map((w) => w.name), wa.map((w) => w.name));
    wa.forEach((w, i) => assert.deepEqual(Array.from(wb[i].tensor.dataSync()), Array.from(w.tensor.dataSync())));
    tf.dispose([wa[0].tensor, wb[0].tensor]); // the iteration scalars getWeights made
    // Loading added exactly Adam's slots (2 per trained variable: the head's and logScale).
    const slots = 2 * (b.head.trainableWeights.length + 1);
    assert.equal(wb.length, 1 + slots);
    assert.equal(tf.memory().numTensors, mid + slots);

    // Loading again replaces the slots instead of piling them up.
    await loadCheckpoint(dir, { optimizer: b.optimizer });
    assert.equal(tf.memory().numTensors, mid + slots);

    const loaded = await loadCheckpointModel(dir, "head");
    const x = tf.tensor2d([[0.5, -1, 2, 0]]);
    const [pa, pl] = [a.head.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    assert.deepEqual(Array.from(pl.dataSync()), Array.from(pa.dataSync()));
    tf.dispose([x, pa, pl, bank, bank2]);
    loaded.dispose();
    a.dispose();
    b.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("mismatches fail with messages that name the part, expected and actual", async () => {
  await tf.setBackend("cpu");
  const root = mkdtempSync(path.join(tmpdir(), "ckpt-"));
  try {
    const a = setup(1);
    const dir = path.join(root, "c");
    await runTrain(a, 2, dir);
    const wider = mlpHead({ inputDim: DIM, hidden: [16], outputDim: CLASSES, batchNorm: true });
    const before = tf.memory().numTensors;
    const modelName = a.head.name;
    await assert.rejects(
      loadCheckpoint(dir, { models: { [modelName]: wider } }),
      /loadCheckpoint: models\.mlp_head weight 0 \(.*\) must have shape \[4,8\] as saved, got \[4,16\]/,
    );
    assert.equal(tf.memory().numTensors, before);
    await assert.rejects(
      loadCheckpoint(dir, { models: { other: wider } }),
      new RegExp(`loadCheckpoint: models.other must be saved in '.*', got only \\[${modelName}\\]`),
    );
    await assert.rejects(loadCheckpoint(dir, { optimizer: tf.train.sgd(0.1) }), /loadCheckpoint: optimizer must be a Adam as saved, got SGD/);
    await assert.rejects(loadCheckpoint(path.join(root, "missing")), /loadCheckpoint: dir must hold a checkpoint \(checkpoint.json\), got none/);
    await assert.rejects(saveCheckpoint(path.join(root, "d"), { models: { "../evil": wider } }), /saveCheckpoint: names must match/);
    const b = setup(1);
    await assert.rejects(
      runTrain(b, 4, undefined, { seed: 4, checkpoint: { dir } }),
      /train: seed must match the checkpoint's to resume, got 4 \(checkpoint in .* has 3\)/,
    );
    const fresh = await runTrain(b, 2, undefined, { checkpoint: { dir, resume: false } });
    assert.equal(fresh.resumedFrom, undefined);
    wider.dispose();
    a.dispose();
    b.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
