import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createEma, emaRule } from "../../src/models/ema";
import { smallResNetEncoder } from "../../src/models/resnet";
import { mlpHead, trainableVariables } from "../../src/models/encoders";
import { train } from "../../src/training/loop";

// Layer by layer: a frozen model lists `weights` in another order (trainable ones first).
const weightsOf = (m: tf.LayersModel) => m.layers.flatMap((l) => l.weights);
const values = (m: tf.LayersModel) => weightsOf(m).map((w) => Float64Array.from(w.read().dataSync()));
const TINY = { inputShape: [8, 8, 1] as [number, number, number], stemWidth: 2, widths: [3, 4], seed: 1 };

test("createEma copies the online weights into a non-trainable model of the same architecture", async () => {
  await tf.setBackend("cpu");
  const online = smallResNetEncoder(TINY);
  const before = tf.memory().numTensors;
  const ema = createEma(online, { momentum: 0.9 });
  assert.equal(tf.memory().numTensors, before + online.weights.length, "only the target's variables are new");
  assert.equal(ema.target.name, "small_resnet_ema");
  assert.equal(ema.target.trainableWeights.length, 0);
  assert.ok(ema.target.weights.every((w) => !(w.read() as tf.Variable).trainable), "the target's tf.Variables are not trainable");
  assert.deepEqual(trainableVariables(ema.target), []);
  assert.deepEqual(values(ema.target), values(online));
  const x = tf.randomUniform([2, 8, 8, 1], 0, 1, "float32", 2);
  const [a, b] = tf.tidy(() => [online.predict(x) as tf.Tensor, ema.target.predict(x) as tf.Tensor]);
  assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
  tf.dispose([x, a, b]);
  ema.dispose();
  ema.dispose();
  assert.equal(tf.memory().numTensors, before, "dispose frees the target, twice is a no-op");
  assert.equal(online.weights.length > 0 && !online.weights[0].read().isDisposed, true, "the online model is left alone");
  online.dispose();
});

test("Ema.update matches target = m target + (1 - m) online in float64, for every weight incl. BN moving statistics", async () => {
  await tf.setBackend("cpu");
  const online = smallResNetEncoder(TINY);
  const ema = createEma(online, { momentum: 0.75 });
  // Move the online weights away from the target: new kernels and BN statistics.
  online.weights.forEach((w, i) => {
    const next = tf.randomNormal(w.shape as number[], 0.5, 1, "float32", 100 + i);
    w.write(next);
    next.dispose();
  });
  const movingIndex = weightsOf(online).findIndex((w) => w.name.includes("moving_mean"));
  assert.ok(movingIndex >= 0 && !weightsOf(online)[movingIndex].trainable);
  for (const m of [undefined, 0.3]) {
    const t0 = values(ema.target);
    const o = values(online);
    const before = tf.memory().numTensors;
    ema.update(m);
    assert.equal(tf.memory().numTensors, before);
    const mom = m ?? 0.75;
    values(ema.target).forEach((got, i) =>
      got.forEach((g, j) => {
        const want = mom * t0[i][j] + (1 - mom) * o[i][j];
        assert.ok(Math.abs(g - want) < 1e-6 * (1 + Math.abs(want)), `weight ${i} (${weightsOf(ema.target)[i].name})[${j}]: ${g} vs ${want}`);
      }),
    );
    assert.notDeepEqual(values(ema.target)[movingIndex], t0[movingIndex], "moving statistics are averaged too");
  }
  const same = values(ema.target);
  ema.update(1);
  assert.deepEqual(values(ema.target), same, "momentum 1 keeps the target");
  ema.update(0);
  assert.deepEqual(values(ema.target), values(online), "momentum 0 copies the online model");
  ema.dispose();
  online.dispose();
});

test("a training step never touches the target: not via train's var list, nor via minimize without one", async () => {
  await tf.setBackend("cpu");
  const online = mlpHead({ inputDim: 4, hidden: [6], outputDim: 3, batchNorm: true, seed: 2 });
  const ema = createEma(online, { momentum: 0.5 });
  const x = tf.randomNormal([8, 4], 0, 1, "float32", 3);
  // A BYOL-like loss: the online output regresses the target's.
  const loss = () => tf.mean(tf.square(tf.sub(online.apply(x, { training: true }) as tf.Tensor, ema.target.apply(x) as tf.Tensor))) as tf.Scalar;
  const target0 = values(ema.target);
  const online0 = values(online);
  const nudge = tf.tidy(() => tf.add(online.weights[0].read(), 0.3));
  online.weights[0].write(nudge);
  nudge.dispose();
  await train({
    loss,
    optimizer: tf.train.sgd(0.5),
    trainable: [online, ema.target],
    batches: () => [0, 1],
    epochs: 1,
    progress: false,
  });
  assert.deepEqual(values(ema.target), target0, "train left the target as it was");
  assert.notDeepEqual(values(online)[2], online0[2], "train updated the online model");
  const sgd = tf.train.sgd(0.5);
  tf.tidy(() => { sgd.minimize(loss); });
  assert.deepEqual(values(ema.target), target0, "minimize over all trainable variables left the target as it was");
  sgd.dispose();
  x.dispose();
  ema.dispose();
  online.dispose();
});

test("createEma and Ema.update reject bad input, naming the argument", async () => {
  await tf.setBackend("cpu");
  const online = mlpHead({ inputDim: 2, outputDim: 2 });
  assert.throws(() => createEma(online, { momentum: 1.5 }), /createEma: momentum must be a number in \[0, 1\], got 1.5/);
  assert.throws(() => createEma({} as tf.LayersModel, { momentum: 0.9 }), /createEma: online must be a tf.LayersModel/);
  assert.throws(() => createEma(online, undefined as unknown as { momentum: number }), /createEma: options must be an object \{momentum\}, got undefined/);
  const ema = createEma(online, { momentum: 0.9 });
  assert.throws(() => ema.update(-0.1), /Ema.update: momentum must be a number in \[0, 1\], got -0.1/);
  ema.dispose();
  assert.throws(() => ema.update(), /Ema.update: the Ema was disposed/);
  online.dispose();
});

test("emaRule is m * target + (1 - m) * online in float64, and a custom rule replaces it in every update", async () => {
  await tf.setBackend("cpu");
  const got = tf.tidy(() => Array.from(emaRule(tf.tensor([1, 1, -2]), tf.tensor([0, 2, 4]), 0.9).dataSync()));
  [0.9, 1.1, -1.4].forEach((want, i) => assert.ok(Math.abs(got[i] - want) < 1e-6, `${got[i]} vs ${want}`));
  const online = mlpHead({ inputDim: 3, hidden: [4], outputDim: 2, seed: 1 });
  const before = tf.memory().numTensors;
  const calls: number[] = [];
  // A rule that jumps halfway whatever the momentum, and records the momentum it was given.
  const halfway = (t: tf.Tensor, o: tf.Tensor, m: number) => { calls.push(m); return tf.div(tf.add(t, o), 2); };
  const ema = createEma(online, { momentum: 0.99, rule: halfway });
  const nudge = tf.tidy(() => tf.add(online.weights[0].read(), 1));
  online.weights[0].write(nudge);
  nudge.dispose();
  const target0 = values(ema.target);
  ema.update();
  const expected = target0.map((t, i) => t.map((v, j) => (v + values(online)[i][j]) / 2));
  values(ema.target).forEach((t, i) => t.forEach((v, j) => assert.ok(Math.abs(v - expected[i][j]) < 1e-6)));
  assert.ok(calls.length === online.weights.length && calls.every((m) => m === 0.99), `rule called with ${calls}`);
  ema.update(1);
  assert.equal(calls.length, 2 * online.weights.length, "a custom rule runs at m = 1 too");
  assert.equal(tf.memory().numTensors, before + online.weights.length, "only the target's weights were added");
  const wrong = createEma(online, { momentum: 0.9, rule: (t) => tf.reshape(t, [-1]) });
  assert.throws(() => wrong.update(), /Ema.update: options.rule must return a tensor of the weight's shape \[3,4\] for '.*', got shape \[12\]/);
  assert.throws(() => createEma(online, { momentum: 0.9, rule: 3 as unknown as typeof emaRule }), /createEma: options.rule must be a function \(target, online, momentum\) => tensor, got number/);
  wrong.dispose();
  ema.dispose();
  online.dispose();
});

