import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { createRbm, Rbm, reconstructionError } from "../../src/models/rbm";
import { contrastiveDivergenceLoss, createContrastiveDivergence } from "../../src/methods/contrastive_divergence";
import { train, type StepContext } from "../../src/training/loop";

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

interface Params {
  w: number[][];
  b: number[];
  c: number[];
}

function setParams(rbm: Rbm, p: Params): void {
  rbm.weights.assign(tf.tensor2d(p.w));
  rbm.visibleBias.assign(tf.tensor1d(p.b));
  rbm.hiddenBias.assign(tf.tensor1d(p.c));
}

function hiddenProbs64(p: Params, v: number[]): number[] {
  return p.c.map((cj, j) => sigmoid(cj + v.reduce((s, vi, i) => s + vi * p.w[i][j], 0)));
}

function visibleProbs64(p: Params, h: number[]): number[] {
  return p.b.map((bi, i) => sigmoid(bi + h.reduce((s, hj, j) => s + hj * p.w[i][j], 0)));
}

function randomBinary(rows: number, d: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: d }, () => (rng.next() < 0.5 ? 1 : 0)));
}

const P3x2: Params = {
  w: [
    [0.5, -1.0],
    [1.5, 0.25],
    [-0.75, 2.0],
  ],
  b: [0.1, -0.2, 0.3],
  c: [-0.4, 0.2],
};

test("CD-1 gradient of the surrogate equals minus the hand-computed CD-1 update on a 3x2 RBM", async () => {
  await tf.setBackend("cpu");
  const rbm = createRbm({ visibleUnits: 3, hiddenUnits: 2, seed: 0 });
  setParams(rbm, P3x2);
  const data = [
    [1, 0, 1],
    [0, 1, 1],
    [1, 1, 0],
    [0, 0, 1],
  ];
  const seed = 11;
  // The draws, fixed: Rbm.gibbsStep documents its uniforms as these two calls.
  const uH = tf.randomUniform([4, 2], 0, 1, "float32", seed).arraySync() as number[][];
  const uV = tf.randomUniform([4, 3], 0, 1, "float32", seed + 1).arraySync() as number[][];
  const dW = [[0, 0], [0, 0], [0, 0]];
  const db = [0, 0, 0];
  const dc = [0, 0];
  let changed = 0;
  for (let n = 0; n < 4; n++) {
    const v0 = data[n];
    const ph0 = hiddenProbs64(P3x2, v0);
    const h0 = ph0.map((p, j) => (uH[n][j] < p ? 1 : 0));
    const pv1 = visibleProbs64(P3x2, h0);
    const v1 = pv1.map((p, i) => (uV[n][i] < p ? 1 : 0));
    const ph1 = hiddenProbs64(P3x2, v1);
    if (v1.some((x, i) => x !== v0[i])) changed++;
    for (let i = 0; i < 3; i++) {
      db[i] += (v0[i] - v1[i]) / 4;
      for (let j = 0; j < 2; j++) dW[i][j] += (v0[i] * ph0[j] - v1[i] * ph1[j]) / 4;
    }
    for (let j = 0; j < 2; j++) dc[j] += (ph0[j] - ph1[j]) / 4;
  }
  assert.ok(changed >= 2, "the fixed draws must move the chain for the test to mean anything");
  const v = tf.tensor2d(data);
  const { grads, value } = tf.variableGrads(() => contrastiveDivergenceLoss(rbm, v, { k: 1, seed }), rbm.trainable);
  const gW = grads[rbm.weights.name].arraySync() as number[][];
  const gb = grads[rbm.visibleBias.name].arraySync() as number[];
  const gc = grads[rbm.hiddenBias.name].arraySync() as number[];
  for (let i = 0; i < 3; i++) {
    assert.ok(Math.abs(gb[i] + db[i]) < 1e-6, `db[${i}]: ${-gb[i]} vs ${db[i]}`);
    for (let j = 0; j < 2; j++) assert.ok(Math.abs(gW[i][j] + dW[i][j]) < 1e-5, `dW[${i}][${j}]: ${-gW[i][j]} vs ${dW[i][j]}`);
  }
  for (let j = 0; j < 2; j++) assert.ok(Math.abs(gc[j] + dc[j]) < 1e-5, `dc[${j}]: ${-gc[j]} vs ${dc[j]}`);
  tf.dispose([v, value, ...Object.values(grads)]);
  rbm.dispose();
});

test("the CD-k surrogate's gradient matches finite differences at fixed draws (k = 3)", async () => {
  await tf.setBackend("cpu");
  const rbm = createRbm({ visibleUnits: 5, hiddenUnits: 3, seed: 4, initStd: 0.7 });
  const v = tf.tensor2d(randomBinary(8, 5, 6));
  const seed = 5;
  const loss = () => contrastiveDivergenceLoss(rbm, v, { k: 3, seed });
  const { grads, value } = tf.variableGrads(loss, rbm.trainable);
  const eps = 1e-2;
  for (const variable of rbm.trainable) {
    const base = variable.dataSync().slice();
    const g = grads[variable.name].dataSync();
    for (let e = 0; e < base.length; e++) {
      const at = (delta: number) => {
        const moved = base.slice();
        moved[e] += delta;
        variable.assign(tf.tensor(moved, variable.shape));
        const l = tf.tidy(loss);
        const x = l.dataSync()[0];
        l.dispose();
        return x;
      };
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      variable.assign(tf.tensor(base, variable.shape));
      assert.ok(Math.abs(fd - g[e]) < 2e-3, `${variable.name}[${e}]: autodiff ${g[e]} vs finite difference ${fd}`);
    }
  }
  tf.dispose([v, value, ...Object.values(grads)]);
  rbm.dispose();
});

test("CD-1 through training.train learns two patterns: reconstruction error falls, no tensors leak", async () => {
  await tf.setBackend("cpu");
  const patterns = [
    [1, 1, 1, 0, 0, 0, 1, 0],
    [0, 0, 0, 1, 1, 1, 0, 1],
  ];
  const rows = Array.from({ length: 32 }, (_, n) => patterns[n % 2]);
  const x = tf.tensor2d(rows);
  const rbm = createRbm({ visibleUnits: 8, hiddenUnits: 4, seed: 2, initStd: 0.1 });
  const errorNow = () => tf.tidy(() => reconstructionError(rbm, x).mean()).dataSync()[0];
  const start = errorNow();
  const before = tf.memory().numTensors;
  const optimizer = tf.train.sgd(0.5);
  await train({
    loss: (v: tf.Tensor2D, ctx) => contrastiveDivergenceLoss(rbm, v, { k: 1, seed: ctx.seed }),
    optimizer,
    trainable: rbm.trainable,
    batches: () => [x.clone() as tf.Tensor2D], // the loop disposes each batch after its step
    steps: 200,
    seed: 1,
    progress: false,
  });
  optimizer.dispose(); // its learning-rate scalar is the only tensor a run may add
  assert.equal(tf.memory().numTensors, before);
  const end = errorNow();
  assert.ok(start > 0.2 && end < 0.05, `reconstruction error ${start} -> ${end}`);
  x.dispose();
  rbm.dispose();
});

test("bad input is rejected, naming the function and the argument", async () => {
  await tf.setBackend("cpu");
  const rbm = createRbm({ visibleUnits: 3, hiddenUnits: 2 });
  const wrong = tf.zeros([2, 4]) as tf.Tensor2D;
  const ok = tf.zeros([2, 3]) as tf.Tensor2D;
  assert.throws(() => contrastiveDivergenceLoss(rbm, wrong, { seed: 1 }), /contrastiveDivergenceLoss: v must be a float32 tensor of shape \[n,3\], got a tensor of shape \[2,4\]/);
  assert.throws(() => contrastiveDivergenceLoss(rbm, ok, { k: 0, seed: 1 }), /contrastiveDivergenceLoss: k must be a positive integer, got 0/);
  assert.throws(() => contrastiveDivergenceLoss(rbm, ok, { seed: 0.5 }), /contrastiveDivergenceLoss: seed must be an integer, got 0.5/);
  tf.dispose([wrong, ok]);
  rbm.dispose();
});

test("createContrastiveDivergence: its loss is contrastiveDivergenceLoss with the step's seed; trains through training.train; dispose keeps the RBM", async () => {
  await tf.setBackend("cpu");
  const patterns = [
    [1, 1, 1, 0, 0, 0, 1, 0],
    [0, 0, 0, 1, 1, 1, 0, 1],
  ];
  const x = tf.tensor2d(Array.from({ length: 32 }, (_, n) => patterns[n % 2]));
  const rbm = createRbm({ visibleUnits: 8, hiddenUnits: 4, seed: 2, initStd: 0.1 });
  const cd = createContrastiveDivergence({ rbm, k: 3 });
  assert.equal(cd.name, "CD-3");
  assert.equal(cd.rbm, rbm);
  assert.deepEqual(cd.trainable, rbm.trainable);
  const ctx: StepContext = { step: 0, epoch: 0, stepInEpoch: 0, seed: 77, rng: createRng(77) };
  const [got, want] = tf.tidy(() => [cd.loss(x, ctx) as tf.Tensor, contrastiveDivergenceLoss(rbm, x, { k: 3, seed: 77 })]);
  assert.equal(got.dataSync()[0], want.dataSync()[0]);
  tf.dispose([got, want]);

  const errorNow = () => { const e = tf.tidy(() => reconstructionError(rbm, x).mean()); const v = e.dataSync()[0]; e.dispose(); return v; };
  const start = errorNow();
  const before = tf.memory().numTensors;
  const optimizer = tf.train.sgd(0.5);
  await train({ ...cd, optimizer, batches: () => [x.clone() as tf.Tensor2D], steps: 150, seed: 1, progress: false });
  optimizer.dispose();
  assert.equal(tf.memory().numTensors, before);
  const end = errorNow();
  assert.ok(end < start / 2, `reconstruction error ${start} -> ${end}`);
  cd.dispose();
  assert.equal(tf.memory().numTensors, before, "the RBM was passed in: dispose frees nothing");
  assert.ok(!rbm.weights.isDisposed);
  assert.throws(() => createContrastiveDivergence({ rbm, k: 0 }), /createContrastiveDivergence: options.k must be a positive integer, got 0/);
  assert.throws(() => createContrastiveDivergence({ rbm: undefined as unknown as Rbm }), /createContrastiveDivergence: options.rbm must be an RBM from models.createRbm, got undefined/);
  x.dispose();
  rbm.dispose();
});
