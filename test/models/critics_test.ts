import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { concatCritic, separableCritic } from "../../src/models/critics";
import { createRng } from "../../src/data/random";
import { onWasm } from "../methods/vision/helpers";

const input = (k: number, d: number, seed: number): tf.Tensor2D => {
  const rng = createRng(seed);
  return tf.tensor2d(Float32Array.from({ length: k * d }, () => rng.normal()), [k, d]);
};

test("separableCritic scores are g(x_i) . h(y_j) on every pair", async () => {
  await tf.setBackend("cpu");
  const critic = separableCritic({ dim: 3, hidden: [8], embeddingDim: 4, seed: 1 });
  const x = input(5, 3, 1);
  const y = input(5, 3, 2);
  const s = critic.scores(x, y).arraySync();
  const [g, h] = critic.trainable;
  const gx = (g.predict(x) as tf.Tensor).arraySync() as number[][];
  const hy = (h.predict(y) as tf.Tensor).arraySync() as number[][];
  for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) {
    const want = gx[i].reduce((t, v, k) => t + v * hy[j][k], 0);
    assert.ok(Math.abs(s[i][j] - want) < 1e-5 * Math.max(1, Math.abs(want)), `[${i}][${j}]`);
  }
  assert.equal(critic.name, "separable");
  assert.equal(critic.trainable.flatMap((m) => m.trainableWeights).length, 8);
  tf.dispose([x, y]);
  critic.dispose();
  tf.disposeVariables();
});

test("concatCritic scores are MLP([x_i, y_j]) on every pair", async () => {
  await tf.setBackend("cpu");
  const critic = concatCritic({ dim: 2, hidden: [6, 5], seed: 3 });
  const x = input(4, 2, 3);
  const y = input(4, 2, 4);
  const s = critic.scores(x, y).arraySync();
  const xs = x.arraySync();
  const ys = y.arraySync();
  const [mlp] = critic.trainable;
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
    const pair = tf.tensor2d([[...xs[i], ...ys[j]]]);
    const want = (mlp.predict(pair) as tf.Tensor).dataSync()[0];
    assert.ok(Math.abs(s[i][j] - want) < 1e-5 * Math.max(1, Math.abs(want)), `[${i}][${j}]: ${s[i][j]} vs ${want}`);
  }
  assert.equal(critic.name, "concat");
  assert.equal(critic.trainable[0].trainableWeights.length, 6);
  critic.dispose();
  tf.disposeVariables();
});

test("critics are seeded: one seed, one set of scores, on cpu and wasm; another seed differs", async () => {
  await tf.setBackend("cpu");
  for (const make of [separableCritic, concatCritic]) {
    const scoresOf = (seed: number): number[] => {
      const critic = make({ dim: 3, hidden: [8], seed });
      const x = input(4, 3, 5);
      const y = input(4, 3, 6);
      const s = critic.scores(x, y);
      const out = Array.from(s.dataSync());
      tf.dispose([x, y, s]);
      critic.dispose();
      return out;
    };
    const a = scoresOf(1);
    assert.deepEqual(scoresOf(1), a);
    assert.notDeepEqual(scoresOf(2), a);
    const onWasmScores = await onWasm(() => scoresOf(1));
    onWasmScores.forEach((v, i) => assert.ok(Math.abs(v - a[i]) < 1e-4, `wasm ${v} vs cpu ${a[i]}`));
  }
});

test("critic scores leave one tensor, dispose frees the weights, and gradients reach every variable", async () => {
  await tf.setBackend("cpu");
  for (const make of [separableCritic, concatCritic]) {
    const start = tf.memory().numTensors;
    const critic = make({ dim: 2, hidden: [4], seed: 1 });
    const x = input(3, 2, 1);
    const y = input(3, 2, 2);
    const before = tf.memory().numTensors;
    const s = critic.scores(x, y);
    assert.deepEqual(s.shape, [3, 3]);
    assert.equal(tf.memory().numTensors, before + 1);
    s.dispose();
    const vars = critic.trainable.flatMap((m) => m.trainableWeights.map((w) => (w as unknown as { read(): tf.Variable }).read()));
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(critic.scores(x, y))) as tf.Scalar, vars);
    assert.equal(Object.keys(grads).length, vars.length);
    assert.ok(Object.values(grads).every((g) => tf.tidy(() => g.abs().sum().dataSync()[0]) > 0));
    tf.dispose([value, ...Object.values(grads)]);
    tf.dispose([x, y]);
    critic.dispose();
    assert.equal(tf.memory().numTensors, start);
  }
});

test("critics reject bad options and inputs with named errors", async () => {
  await tf.setBackend("cpu");
  const critic = separableCritic({ dim: 2 });
  const ok = tf.zeros([3, 2]) as tf.Tensor2D;
  const cases: Array<[() => unknown, RegExp]> = [
    [() => separableCritic({ dim: 0 }), /separableCritic: options\.dim must be a positive integer, got 0/],
    [() => separableCritic({ dim: 2, hidden: [4, 0] }), /separableCritic: options\.hidden\[1\] must be a positive integer, got 0/],
    [() => separableCritic({ dim: 2, embeddingDim: 1.5 }), /separableCritic: options\.embeddingDim must be a positive integer, got 1\.5/],
    [() => concatCritic({ dim: 2, embeddingDim: 4 }), /concatCritic: options\.embeddingDim must be undefined/],
    [() => concatCritic(undefined as never), /concatCritic: options must be an object/],
    [() => critic.scores(ok, tf.zeros([4, 2]) as tf.Tensor2D), /separableCritic\.scores: y must be a float32 tensor of shape \[3,2\], got a tensor of shape \[4,2\]/],
    [() => critic.scores(tf.zeros([3, 5]) as tf.Tensor2D, ok), /separableCritic\.scores: x must be a float32 tensor of shape \[n,2\], got a tensor of shape \[3,5\]/],
  ];
  for (const [call, message] of cases) assert.throws(call, message);
  critic.dispose();
  tf.disposeVariables();
});
