import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { registerTrainingKernels } from "../../src/backend/kernels";
import { smallResNetEncoder, SmallResNetOptions } from "../../src/models/resnet";
import { trainableVariables } from "../../src/models/encoders";
import { createRng } from "../../src/data/random";
import { type Act, add, at, batchNormReference, conv, relu } from "./nhwc_reference";

registerTrainingKernels();

/** BatchNorm with the batch's (biased) statistics, or the given moving ones; returns the batch statistics too. */
function batchNorm(a: Act, p: Float32Array[], eps: number, training: boolean): { out: Act; mean: number[]; variance: number[] } {
  const [gamma, beta, movingMean, movingVar] = p;
  const { y, mean, variance } = batchNormReference(a.v, a.c, gamma, beta, eps, training ? undefined : { mean: movingMean, variance: movingVar });
  return { out: { ...a, v: y }, mean, variance };
}

/** The whole encoder in float64 from its weights, following the documented architecture. */
function referenceForward(model: tf.LayersModel, o: Required<Pick<SmallResNetOptions, "widths" | "blocks" | "stemWidth">>, x: Act, training: boolean) {
  const w = (layer: string) => model.getLayer(`small_resnet_${layer}`).getWeights().map((t) => t.dataSync() as Float32Array);
  const movingMeans = new Map<string, number[]>();
  const bn = (a: Act, layer: string) => {
    const r = batchNorm(a, w(layer), 1e-5, training);
    movingMeans.set(layer, r.mean);
    return r.out;
  };
  let h = relu(bn(conv(x, w("stem_conv")[0], 3, o.stemWidth), "stem_bn"));
  o.widths.forEach((width, s) => {
    for (let b = 0; b < o.blocks[s]; b++) {
      const id = `s${s + 1}b${b + 1}`;
      const stride = b === 0 ? 2 : 1;
      let y = relu(bn(conv(h, w(`${id}_conv1`)[0], 3, width, { stride }), `${id}_bn1`));
      y = bn(conv(y, w(`${id}_conv2`)[0], 3, width), `${id}_bn2`);
      const shortcut = b === 0 ? bn(conv(h, w(`${id}_proj`)[0], 1, width, { stride }), `${id}_proj_bn`) : h;
      h = relu(add(y, shortcut));
    }
  });
  const pooled: number[][] = [];
  for (let n = 0; n < h.n; n++) {
    const row = new Array(h.c).fill(0);
    for (let y = 0; y < h.h; y++) for (let xx = 0; xx < h.w; xx++) for (let c = 0; c < h.c; c++) row[c] += h.v[at(h, n, y, xx, c)] / (h.h * h.w);
    pooled.push(row);
  }
  return { pooled, movingMeans };
}

/** Gives every BatchNorm non-trivial gamma, beta and moving statistics, so a swapped or missing one shows. */
function randomizeBatchNorms(model: tf.LayersModel, seed: number): void {
  const rng = createRng(seed);
  for (const layer of model.layers) {
    if (layer.getClassName() !== "BatchNormalization") continue;
    const values = layer.getWeights().map((t, i) =>
      tf.tensor1d(Array.from({ length: t.size }, () => (i === 3 ? 0.5 + rng.next() : i === 0 ? 0.5 + rng.next() : rng.normal() * 0.3))),
    );
    layer.setWeights(values);
    tf.dispose(values);
  }
}

const TINY = { inputShape: [9, 7, 1] as [number, number, number], stemWidth: 3, widths: [4, 5], blocks: [1, 2], seed: 4 };

test("smallResNetEncoder matches a float64 forward pass in training and inference mode, and moves BN statistics", async () => {
  await tf.setBackend("cpu");
  const model = smallResNetEncoder(TINY);
  randomizeBatchNorms(model, 11);
  const rng = createRng(5);
  const x: Act = { n: 3, h: 9, w: 7, c: 1, v: Float64Array.from({ length: 3 * 9 * 7 }, () => rng.next()) };
  const xt = tf.tensor4d(Float32Array.from(x.v), [3, 9, 7, 1]);
  for (const training of [false, true]) {
    const ref = referenceForward(model, TINY, x, training);
    const movingBefore = model.getLayer("small_resnet_s2b2_bn1").getWeights()[2].dataSync().slice();
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => model.apply(xt, { training }) as tf.Tensor2D);
    assert.equal(tf.memory().numTensors, before + 1, "apply leaves only its output");
    assert.deepEqual(out.shape, [3, 5]);
    const got = out.arraySync();
    out.dispose();
    ref.pooled.forEach((row, n) =>
      row.forEach((v, c) => assert.ok(Math.abs(got[n][c] - v) < 2e-4 * (1 + Math.abs(v)), `training=${training} [${n},${c}]: ${got[n][c]} vs ${v}`)),
    );
    const movingAfter = model.getLayer("small_resnet_s2b2_bn1").getWeights()[2].dataSync();
    if (training) {
      // moving = 0.9 moving + 0.1 batch mean (Keras momentum convention).
      const batchMean = ref.movingMeans.get("s2b2_bn1")!;
      batchMean.forEach((m, c) => assert.ok(Math.abs(movingAfter[c] - (0.9 * movingBefore[c] + 0.1 * m)) < 1e-4, `moving mean ${c}`));
    } else {
      assert.deepEqual(Array.from(movingAfter), Array.from(movingBefore), "inference leaves the statistics alone");
    }
  }
  xt.dispose();
  model.dispose();
});

test("smallResNetEncoder: default shape and size, seeded weights, no leaks", async () => {
  await tf.setBackend("cpu");
  const start = tf.memory().numTensors;
  const a = smallResNetEncoder({ seed: 3 });
  const b = smallResNetEncoder({ seed: 3 });
  const c = smallResNetEncoder({ seed: 4 });
  // Weights counted from the architecture: conv kernels (no bias), 4 vectors per BN.
  const convBn = (k: number, ci: number, co: number) => k * k * ci * co + 4 * co;
  const expected = convBn(3, 1, 16) + convBn(3, 16, 32) + convBn(3, 32, 32) + convBn(1, 16, 32)
    + convBn(3, 32, 64) + convBn(3, 64, 64) + convBn(1, 32, 64)
    + convBn(3, 64, 128) + convBn(3, 128, 128) + convBn(1, 64, 128);
  assert.equal(a.countParams(), expected);
  assert.equal(expected, 303952);
  a.weights.forEach((w, i) => {
    const same = Array.from(w.read().dataSync());
    assert.deepEqual(Array.from(b.weights[i].read().dataSync()), same, `weight ${i} equal for one seed`);
  });
  const kernels = (m: tf.LayersModel) => Array.from(m.weights[0].read().dataSync());
  assert.notDeepEqual(kernels(c), kernels(a));
  const out = tf.tidy(() => a.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor);
  assert.deepEqual(out.shape, [2, 128]);
  out.dispose();
  [a, b, c].forEach((m) => m.dispose());
  assert.equal(tf.memory().numTensors, start, "dispose frees every weight");
});

test("smallResNetEncoder gradients on wasm match the cpu backend, and a default-size step trains on wasm", async () => {
  const gradsOn = async (backend: string) => {
    await tf.setBackend(backend);
    const model = smallResNetEncoder({ ...TINY, inputShape: [12, 12, 1] });
    randomizeBatchNorms(model, 12);
    const vars = trainableVariables(model);
    const x = tf.tensor4d(Float32Array.from({ length: 4 * 144 }, (_, i) => Math.sin(i * 0.37)), [4, 12, 12, 1]);
    const target = tf.tensor2d(Float32Array.from({ length: 20 }, (_, i) => Math.cos(i)), [4, 5]);
    const grads = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(model.apply(x, { training: true }) as tf.Tensor, target))), vars);
      value.dispose();
      return vars.map((v) => Array.from(grads[v.name].dataSync()));
    });
    tf.dispose([x, target]);
    model.dispose();
    return grads;
  };
  const cpu = await gradsOn("cpu");
  const wasm = await gradsOn("wasm");
  assert.equal(wasm.length, cpu.length);
  cpu.forEach((g, i) => {
    const scale = Math.max(...g.map(Math.abs));
    assert.ok(scale > 0, `variable ${i} gets a gradient`);
    g.forEach((v, j) => assert.ok(Math.abs(wasm[i][j] - v) < 1e-3 * scale + 1e-6, `variable ${i}[${j}]: wasm ${wasm[i][j]} vs cpu ${v}`));
  });

  // The default encoder: one SGD step on wasm lowers the loss on the same batch.
  await tf.setBackend("wasm");
  const model = smallResNetEncoder({ seed: 2 });
  const vars = trainableVariables(model);
  const x = tf.randomUniform([16, 28, 28, 1], 0, 1, "float32", 3);
  const loss = () => tf.mean(tf.square(tf.sub(model.apply(x, { training: true }) as tf.Tensor, 1))) as tf.Scalar;
  const optimizer = tf.train.sgd(0.05);
  const before = tf.memory().numTensors;
  const first = tf.tidy(() => optimizer.minimize(loss, true, vars)!.dataSync()[0]);
  const second = tf.tidy(() => loss().dataSync()[0]);
  assert.equal(tf.memory().numTensors, before);
  assert.ok(Number.isFinite(first) && second < first, `loss ${first} -> ${second}`);
  x.dispose();
  optimizer.dispose();
  model.dispose();
  await tf.setBackend("cpu");
});

test("smallResNetEncoder rejects bad options, naming the argument", async () => {
  await tf.setBackend("cpu");
  assert.throws(() => smallResNetEncoder({ widths: [8] }), /smallResNetEncoder: widths must list 2 or 3 stage widths, got \[8\]/);
  assert.throws(() => smallResNetEncoder({ widths: [8, 0] }), /smallResNetEncoder: widths\[1\] must be a positive integer, got 0/);
  assert.throws(() => smallResNetEncoder({ blocks: [1, 1] }), /smallResNetEncoder: blocks must have one entry per stage \(3\), got \[1,1\]/);
  assert.throws(() => smallResNetEncoder({ stemWidth: 2.5 }), /smallResNetEncoder: stemWidth must be a positive integer, got 2.5/);
  assert.throws(() => smallResNetEncoder({ bnMomentum: 1 }), /smallResNetEncoder: bnMomentum must be a number in \[0, 1\), got 1/);
  assert.throws(() => smallResNetEncoder({ seed: 0.5 }), /smallResNetEncoder: seed must be an integer, got 0.5/);
  assert.throws(() => smallResNetEncoder({ inputShape: [28, 28] as unknown as [number, number, number] }), /smallResNetEncoder: inputShape must be \[height, width, channels\], got \[28,28\]/);
});
