import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { registerTrainingKernels } from "../../src/backend/kernels";
import { createRng } from "../../src/data/random";
import { convMask, createPixelCnn, PixelCnn } from "../../src/models/masked_conv";
import { assertSteadyTensors, onWasm, trainCounting } from "../methods/vision/helpers";
import { type Act, conv, relu } from "./nhwc_reference";

// The workbook's Conv2DBackpropFilter (wasm has none; cpu's is a naive loop).
registerTrainingKernels();

const SIDE = 8;
const small = (seed: number, layers = 2): PixelCnn =>
  createPixelCnn({ filters: 4, layers, kernelSize: 3, inputShape: [SIDE, SIDE, 1], seed });

function randomBinary(count: number, seed: number, side = SIDE): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: count * side * side }, () => (rng.next() < 0.5 ? 1 : 0));
}

/** A PixelCNN layer in float64: its kernel and bias, taps outside `keep` skipped. */
function maskedConv(a: Act, layer: { kernel: tf.Variable; bias: tf.Variable }, keep?: (dy: number, dx: number) => boolean): Act {
  const [k, , , co] = layer.kernel.shape;
  return conv(a, layer.kernel.dataSync(), k, co, { bias: layer.bias.dataSync(), keep });
}

/** The PixelCNN forward pass in float64 with masks written from the paper's rule, not from convMask. */
function referenceLogits(model: PixelCnn, images: Float32Array, n: number): Float64Array {
  const causal = (k: number, centre: boolean) => (dy: number, dx: number) => {
    const c = (k - 1) / 2;
    return dy < c || (dy === c && (dx < c || (centre && dx === c)));
  };
  const [h0, w0] = model.inputShape;
  const x: Act = { n, h: h0, w: w0, c: 1, v: Float64Array.from(images) };
  const layers = model.convs.length - 3;
  const [first, ...rest] = model.convs;
  let h = maskedConv(x, first, causal(7, false));
  for (const block of rest.slice(0, layers)) {
    const d = maskedConv(relu(h), block, causal(block.kernel.shape[0], true));
    h = { ...h, v: h.v.map((v, i) => v + d.v[i]) };
  }
  const all = () => true;
  h = maskedConv(relu(h), rest[layers], all);
  return maskedConv(relu(h), rest[layers + 1], all).v;
}

const grid = (rows: string[]): number[] => rows.join("").split("").map(Number);

test("convMask: the exact patterns of masks A and B for k = 3, 5, 7", () => {
  assert.deepEqual(Array.from(convMask(3, "A")), grid(["111", "100", "000"]));
  assert.deepEqual(Array.from(convMask(3, "B")), grid(["111", "110", "000"]));
  assert.deepEqual(Array.from(convMask(5, "A")), grid(["11111", "11111", "11000", "00000", "00000"]));
  assert.deepEqual(Array.from(convMask(5, "B")), grid(["11111", "11111", "11100", "00000", "00000"]));
  const a7 = ["1111111", "1111111", "1111111", "1110000", "0000000", "0000000", "0000000"];
  assert.deepEqual(Array.from(convMask(7, "A")), grid(a7));
  assert.deepEqual(Array.from(convMask(7, "B")), grid([...a7.slice(0, 3), "1111000", ...a7.slice(4)]));
  assert.deepEqual(Array.from(convMask(1, "B")), [1]);
  assert.deepEqual(Array.from(convMask(1, "A")), [0]);
  assert.throws(() => convMask(4, "A"), /convMask: kernelSize must be an odd positive integer, got 4/);
  assert.throws(() => convMask(3, "C" as "A"), /convMask: type must be one of "A", "B", got "C"/);
});

test("the receptive field is causal: zero gradient at and after (r, c), earlier logits unchanged by later pixels", async () => {
  await tf.setBackend("cpu");
  const model = small(3);
  const n = 3;
  const d = SIDE * SIDE;
  const values = randomBinary(n, 4);
  const x = tf.tensor4d(values, [n, SIDE, SIDE, 1]);
  let liveLinks = 0;
  for (let p = 0; p < d; p++) {
    const g = tf.tidy(() => {
      const selected = tf.oneHot(tf.tensor1d([p], "int32"), d).reshape([1, SIDE, SIDE, 1]);
      const dx = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(model.logits(xi as tf.Tensor4D), selected)))(x);
      return tf.sum(tf.abs(dx), 0);
    });
    const dependsOn = g.dataSync();
    g.dispose();
    for (let q = p; q < d; q++) assert.equal(dependsOn[q], 0, `logit ${p} depends on pixel ${q}`);
    for (let q = 0; q < p; q++) if (dependsOn[q] > 0) liveLinks++;
    // The left neighbour and the pixel above are always seen.
    if (p % SIDE > 0) assert.ok(dependsOn[p - 1] > 0, `logit ${p} does not see pixel ${p - 1}`);
    if (p >= SIDE) assert.ok(dependsOn[p - SIDE] > 0, `logit ${p} does not see the pixel above`);
  }
  // Not causal by being disconnected: most earlier pixels in reach are live.
  assert.ok(liveLinks > 1200, `only ${liveLinks} live links of ${(d * (d - 1)) / 2}`);

  const base = model.logits(x);
  const baseValues = base.dataSync();
  for (const p of [0, 9, 27, 36, 62]) {
    const flipped = values.slice();
    for (let b = 0; b < n; b++) flipped[b * d + p] = 1 - flipped[b * d + p];
    const xf = tf.tensor4d(flipped, [n, SIDE, SIDE, 1]);
    const lf = model.logits(xf);
    const got = lf.dataSync();
    for (let b = 0; b < n; b++) {
      for (let q = 0; q <= p; q++) assert.equal(got[b * d + q], baseValues[b * d + q], `flipping pixel ${p} changed logit ${q}`);
    }
    assert.ok(got.some((v, i) => v !== baseValues[i]), `flipping pixel ${p} changed nothing`);
    tf.dispose([xf, lf]);
  }
  tf.dispose([x, base]);
  model.dispose();
});

test("logits match a float64 forward pass; nll matches a float64 Bernoulli reference from the logits", async () => {
  await tf.setBackend("cpu");
  const model = small(5);
  const n = 2;
  const values = randomBinary(n, 6);
  const x = tf.tensor4d(values, [n, SIDE, SIDE, 1]);
  const before = tf.memory().numTensors;
  const logits = model.logits(x);
  const nll = model.nll(x);
  assert.equal(tf.memory().numTensors, before + 2);
  assert.deepEqual(logits.shape, [n, SIDE, SIDE, 1]);
  assert.deepEqual(nll.shape, [n]);
  const ref = referenceLogits(model, values, n);
  const got = logits.dataSync();
  let maxErr = 0;
  for (let i = 0; i < ref.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - ref[i]));
  assert.ok(maxErr < 1e-5, `logits off by ${maxErr}`);
  const d = SIDE * SIDE;
  for (let b = 0; b < n; b++) {
    let want = 0;
    for (let i = b * d; i < (b + 1) * d; i++) {
      const p = 1 / (1 + Math.exp(-got[i]));
      want -= values[i] === 1 ? Math.log(p) : Math.log(1 - p);
    }
    const have = nll.dataSync()[b];
    assert.ok(Math.abs(have - want) < 1e-5 * want, `image ${b}: ${have} vs ${want}`);
  }
  tf.dispose([x, logits, nll]);
  model.dispose();
});

/** Mean NLL of the images in float64, through {@link referenceLogits}. */
function referenceMeanNll(model: PixelCnn, images: Float32Array, n: number): number {
  const logits = referenceLogits(model, images, n);
  let total = 0;
  logits.forEach((l, i) => (total += Math.log1p(Math.exp(-Math.abs(l))) + Math.max(l, 0) - images[i] * l));
  return total / n;
}

test("masked taps get exactly zero gradient; the gradient matches finite differences of a float64 forward pass", async () => {
  await tf.setBackend("cpu");
  const model = small(7, 1);
  const values = randomBinary(2, 8);
  const x = tf.tensor4d(values, [2, SIDE, SIDE, 1]);
  const { value, grads } = tf.variableGrads(() => tf.mean(model.nll(x)) as tf.Scalar, model.trainable);
  // Small: ReLU kinks lie within 1e-3 of some weights. The float64 forward pass makes it safe.
  const eps = 1e-5;
  for (const conv of model.convs.slice(0, 2)) {
    const g = grads[conv.kernel.name].dataSync();
    const mask = conv.mask!.dataSync();
    const [k, , ci, co] = conv.kernel.shape;
    const w = conv.kernel.dataSync().slice();
    let checked = 0;
    for (let i = 0; i < g.length; i++) {
      const tap = Math.floor(i / (ci * co));
      if (mask[tap] === 0) {
        assert.ok(g[i] === 0, `masked tap ${tap} of a ${k}x${k} kernel has gradient ${g[i]}`);
        continue;
      }
      if (i % 7 !== 0) continue;
      // The float32 weights actually set, so the step is exact.
      const bumped = (delta: number): [number, number] => {
        const v = w.slice();
        v[i] += delta;
        conv.kernel.assign(tf.tensor(v, conv.kernel.shape));
        return [v[i], referenceMeanNll(model, values, 2)];
      };
      const [wPlus, lPlus] = bumped(eps);
      const [wMinus, lMinus] = bumped(-eps);
      const numeric = (lPlus - lMinus) / (wPlus - wMinus);
      conv.kernel.assign(tf.tensor(w, conv.kernel.shape));
      assert.ok(Math.abs(numeric - g[i]) < 1e-4 + 1e-4 * Math.abs(numeric), `kernel[${i}]: ${g[i]} vs ${numeric}`);
      checked++;
    }
    assert.ok(checked >= 5, `only ${checked} entries checked`);
  }
  tf.dispose([value, x, ...Object.values(grads)]);
  model.dispose();
});

/** 16 images of vertical stripes: row 0 is random, every row below copies it. */
function stripes(seed: number): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(16 * SIDE * SIDE);
  for (let i = 0; i < 16; i++) {
    const row = Array.from({ length: SIDE }, () => (rng.next() < 0.5 ? 1 : 0));
    for (let r = 0; r < SIDE; r++) out.set(row, (i * SIDE + r) * SIDE);
  }
  return out;
}

test("training through training.train lowers the NLL far below independent pixels, with no tensor growth", async () => {
  await tf.setBackend("cpu");
  const values = stripes(11);
  const d = SIDE * SIDE;
  // The best independent-pixel model of these images: each pixel at its own frequency.
  let baseline = 0;
  for (let j = 0; j < d; j++) {
    let ones = 0;
    for (let i = 0; i < 16; i++) ones += values[i * d + j];
    const p = ones / 16;
    if (p > 0 && p < 1) baseline -= 16 * (p * Math.log(p) + (1 - p) * Math.log(1 - p));
  }
  baseline /= 16;
  const model = createPixelCnn({ filters: 8, layers: 1, kernelSize: 3, inputShape: [SIDE, SIDE, 1], seed: 2 });
  const x = tf.tensor4d(values, [16, SIDE, SIDE, 1]);
  const optimizer = tf.train.adam(2e-2);
  const steps = 120;
  const { history, counts } = await trainCounting({
    loss: (batch: tf.Tensor4D) => tf.mean(model.nll(batch)),
    optimizer,
    trainable: model.trainable,
    batches: () => Array.from({ length: steps }, () => x),
    disposeBatches: false,
    steps,
  });
  assertSteadyTensors(counts, steps);
  optimizer.dispose();
  const nll = model.nll(x);
  const final = tf.mean(nll).dataSync()[0];
  // Row 0 carries 8 random bits (at most 8 ln 2 = 5.5 nats); every row below is predictable from the one above.
  assert.ok(baseline > 30, `baseline ${baseline}`);
  assert.ok(final < baseline / 3, `PixelCNN ${final} nats vs independent pixels ${baseline} (start ${history.loss[0]})`);
  tf.dispose([x, nll]);
  model.dispose();
});

test("sample() is binary, seeded, leak-free, and equals pixel-by-pixel sampling from full-image logits", async () => {
  await tf.setBackend("cpu");
  // One block: a pixel sees 4 rows up, so rows 5..7 are sampled from a band that starts below row 0.
  const model = small(9, 1);
  assert.equal(model.receptiveRows, 4);
  const count = 3;
  const before = tf.memory().numTensors;
  const s = model.sample(count, 21);
  assert.equal(tf.memory().numTensors, before + 1);
  assert.deepEqual(s.shape, [count, SIDE, SIDE, 1]);
  const got = s.dataSync();
  assert.ok(got.every((v) => v === 0 || v === 1));
  assert.ok(got.some((v) => v === 1) && got.some((v) => v === 0));
  // The naive sampler: the full image's logits at every pixel, the same uniforms in the same order.
  const rng = createRng(21);
  const d = SIDE * SIDE;
  const want = new Float32Array(count * d);
  for (let p = 0; p < d; p++) {
    const l = tf.tidy(() => model.logits(tf.tensor4d(want, [count, SIDE, SIDE, 1])).dataSync());
    for (let b = 0; b < count; b++) want[b * d + p] = rng.next() < 1 / (1 + Math.exp(-l[b * d + p])) ? 1 : 0;
  }
  assert.deepEqual(Array.from(got), Array.from(want));
  const again = model.sample(count, 21);
  const other = model.sample(count, 22);
  assert.deepEqual(again.dataSync(), got);
  assert.notDeepEqual(other.dataSync(), got);
  tf.dispose([s, again, other]);
  model.dispose();
});

test("bad input is rejected naming the argument; create and dispose leave no tensors", async () => {
  await tf.setBackend("cpu");
  const start = tf.memory().numTensors;
  small(1).dispose();
  assert.equal(tf.memory().numTensors, start);
  const cases: Array<[() => unknown, RegExp]> = [
    [() => createPixelCnn({ filters: 0 }), /createPixelCnn: options\.filters must be a positive integer, got 0/],
    [() => createPixelCnn({ layers: -1 }), /createPixelCnn: options\.layers must be a non-negative integer, got -1/],
    [() => createPixelCnn({ kernelSize: 4 }), /createPixelCnn: options\.kernelSize must be an odd positive integer, got 4/],
    [() => createPixelCnn({ seed: 0.5 }), /createPixelCnn: options\.seed must be an integer, got 0.5/],
    [() => createPixelCnn({ inputShape: [28, 28, 3] }), /createPixelCnn: options\.inputShape must be \[height, width, 1\] with positive integer sides, got \[28,28,3\]/],
    [() => createPixelCnn({ inputShape: 28 as never }), /createPixelCnn: options\.inputShape must be \[height, width, 1\] with positive integer sides, got 28/],
    [() => createPixelCnn(null as never), /createPixelCnn: options must be an object/],
  ];
  for (const [fn, message] of cases) assert.throws(fn, message);
  assert.equal(tf.memory().numTensors, start);
  const model = small(1);
  const wrong = tf.zeros([2, SIDE, SIDE + 1, 1]) as tf.Tensor4D;
  const ints = tf.zeros([2, SIDE, SIDE, 1], "int32") as tf.Tensor4D;
  assert.throws(() => model.logits(wrong), /PixelCnn\.logits: x must be a float32 tensor of shape \[n,8,8,1\], got a tensor of shape \[2,8,9,1\]/);
  assert.throws(() => model.nll(ints), /PixelCnn\.nll: x must be a float32 tensor of shape \[n,8,8,1\], got an int32 tensor of shape \[2,8,8,1\]/);
  assert.throws(() => model.sample(0, 1), /PixelCnn\.sample: count must be a positive integer, got 0/);
  assert.throws(() => model.sample(1, 1.5), /PixelCnn\.sample: seed must be an integer, got 1.5/);
  tf.dispose([wrong, ints]);
  model.dispose();
  assert.equal(tf.memory().numTensors, start);
});

test("on wasm: the cpu logits and gradients (masked taps zero), and a training step", async () => {
  await tf.setBackend("cpu");
  const model = small(13);
  const values = randomBinary(2, 14);
  const run = () => {
    const x = tf.tensor4d(values, [2, SIDE, SIDE, 1]);
    const logits = model.logits(x);
    const { value, grads } = tf.variableGrads(() => tf.mean(model.nll(x)) as tf.Scalar, model.trainable);
    const out = { logits: logits.dataSync(), grads: model.trainable.map((v) => grads[v.name].dataSync()) };
    tf.dispose([x, logits, value, ...Object.values(grads)]);
    return out;
  };
  const cpu = run();
  try {
    await onWasm(async () => {
      const wasm = run();
      cpu.logits.forEach((v, i) => assert.ok(Math.abs(wasm.logits[i] - v) < 1e-4, `logit ${i}: wasm ${wasm.logits[i]} vs cpu ${v}`));
      cpu.grads.forEach((g, j) => {
        const scale = Math.max(...Array.from(g, Math.abs));
        g.forEach((v, i) => assert.ok(Math.abs(wasm.grads[j][i] - v) < 1e-3 * scale + 1e-6, `variable ${j}[${i}]: wasm ${wasm.grads[j][i]} vs cpu ${v}`));
      });
      const [kernelA] = model.trainable;
      const mask = model.convs[0].mask!.dataSync();
      wasm.grads[0].forEach((v, i) => mask[Math.floor(i / kernelA.shape[3]!)] === 0 && assert.ok(v === 0, `masked tap gradient ${v}`));
      const x = tf.tensor4d(values, [2, SIDE, SIDE, 1]);
      const optimizer = tf.train.adam(1e-2);
      const h = await trainCounting({ loss: (b: tf.Tensor4D) => tf.mean(model.nll(b)), optimizer, trainable: model.trainable, batches: () => [x, x], disposeBatches: false, steps: 2 });
      assert.ok(h.history.loss[1] < h.history.loss[0], `wasm losses ${h.history.loss}`);
      optimizer.dispose();
      x.dispose();
    });
  } finally {
    model.dispose();
  }
});
