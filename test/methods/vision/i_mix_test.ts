import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { cutMix, mixup, type BatchMix, type MixedBatch } from "../../../src/augment/mix";
import { infoNCE } from "../../../src/losses/info_nce";
import { l2NormalizeRows } from "../../../src/losses/ops/similarity";
import { createIMix } from "../../../src/methods/vision/i_mix";
import type { VisionBatch } from "../../../src/methods/vision/method";
import { allMoved, assertSteadyTensors, ctxOf, denseEncoder, noiseViews as noise, onWasm, rngImages, snapshot, trainCounting, unitRows } from "./helpers";

/** A mix that records what it drew, so a test can redo the step by hand. */
function recording(mix: BatchMix): { mix: BatchMix; seeds: number[]; draws: MixedBatch[] } {
  const seeds: number[] = [];
  const draws: MixedBatch[] = [];
  return {
    seeds,
    draws,
    mix: (images, seed) => {
      seeds.push(seed);
      const out = mix(images, seed);
      draws.push(out);
      return out;
    },
  };
}

/** Float64 i-Mix of one direction from unit anchors and positives: the paper's cross-entropy against mixed virtual labels. */
function iMixRef(a: number[][], k: number[][], partners: ArrayLike<number>, lambdas: ArrayLike<number>, t: number): number {
  let total = 0;
  a.forEach((ai, i) => {
    const logits = k.map((kj) => kj.reduce((s, v, d) => s + v * ai[d], 0) / t);
    const m = Math.max(...logits);
    const lse = m + Math.log(logits.reduce((s, v) => s + Math.exp(v - m), 0));
    total += lse - lambdas[i] * logits[i] - (1 - lambdas[i]) * logits[partners[i]];
  });
  return total / a.length;
}

test("createIMix: the loss is the symmetric i-Mix of the projections, redone in float64 from the same mixes", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(16, 1);
  const rec = recording(mixup({ alpha: 1, per: "example" }));
  const imix = createIMix({ encoder, encoderDim: 16, projectionDim: 8, augmentation: noise, mix: rec.mix, temperature: 0.3, seed: 2 });
  const projector = imix.trainable[1] as tf.LayersModel;
  const x = rngImages(6, 3);
  const before = tf.memory().numTensors;
  let got = NaN;
  let metrics: Record<string, number> = {};
  let z: number[][][] = [];
  let m1!: MixedBatch, m2!: MixedBatch;
  tf.tidy(() => {
    const out = imix.loss({ images: x }, ctxOf(11));
    got = out.loss.dataSync()[0];
    metrics = Object.fromEntries(Object.entries(out.metrics!).map(([k, v]) => [k, v.dataSync()[0]]));
    const project = (v: tf.Tensor) => projector.apply(encoder.apply(v, { training: true }), { training: true }) as tf.Tensor2D;
    const [v1, v2] = noise(x, 11);
    // The two mixes, redrawn from the seeds the method used.
    m1 = mixup({ alpha: 1, per: "example" })(v1, rec.seeds[0]);
    m2 = mixup({ alpha: 1, per: "example" })(v2, rec.seeds[1]);
    z = [project(v1), project(v2), project(m1.images), project(m2.images)].map((p) => unitRows(p.arraySync() as number[][]));
  });
  assert.equal(tf.memory().numTensors, before, "the loss and its reference leave nothing behind once tidied");
  assert.equal(rec.seeds.length, 2);
  assert.notEqual(rec.seeds[0], rec.seeds[1], "each direction mixes with its own seed");
  const [z1, z2, a1, a2] = z;
  assert.deepEqual(Array.from(m1.lambdas), Array.from(rec.draws[0].lambdas));
  assert.deepEqual(Array.from(m2.partners), Array.from(rec.draws[1].partners));
  const want = (iMixRef(a1, z2, m1.partners, m1.lambdas, 0.3) + iMixRef(a2, z1, m2.partners, m2.lambdas, 0.3)) / 2;
  assert.ok(Math.abs(got - want) < 1e-5, `${got} vs ${want}`);
  // Metrics against float64: mean lambda, and the share of anchors nearest to their dominant source.
  const lambdas = [...m1.lambdas, ...m2.lambdas];
  assert.ok(Math.abs(metrics.lambda - lambdas.reduce((s, l) => s + l, 0) / 12) < 1e-6);
  let hits = 0;
  for (const [a, k, m] of [[a1, z2, m1], [a2, z1, m2]] as Array<[number[][], number[][], MixedBatch]>) {
    a.forEach((ai, i) => {
      const sims = k.map((kj) => kj.reduce((s, v, d) => s + v * ai[d], 0));
      const nearest = sims.indexOf(Math.max(...sims));
      if (nearest === (m.lambdas[i] >= 0.5 ? i : m.partners[i])) hits++;
    });
  }
  assert.ok(Math.abs(metrics.accuracy - hits / 12) < 1e-6, `accuracy ${metrics.accuracy} vs ${hits / 12}`);
  assert.ok(metrics.std > 0);
  x.dispose();
  imix.dispose();
  encoder.dispose();
});

test("createIMix without mixing (alpha 0) is the symmetric InfoNCE of the normalised projections; symmetric: false is one direction", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(16, 1);
  const x = rngImages(6, 4);
  const common = { encoder, encoderDim: 16, projectionDim: 8, augmentation: noise, temperature: 0.3, seed: 2 };
  const unmixed = createIMix({ ...common, mix: mixup({ alpha: 0 }) });
  const oneWay = createIMix({ ...common, mix: mixup({ alpha: 0 }), symmetric: false });
  const projector = unmixed.trainable[1] as tf.LayersModel;
  const [got, gotOneWay, want, wantOneWay, lambda] = tf.tidy(() => {
    const project = (v: tf.Tensor) => l2NormalizeRows(projector.apply(encoder.apply(v, { training: true }), { training: true }) as tf.Tensor2D);
    const [v1, v2] = noise(x, 11);
    const [z1, z2] = [project(v1), project(v2)];
    const forward = infoNCE(z1, z2, { temperature: 0.3 });
    const out = unmixed.loss({ images: x }, ctxOf(11));
    return [out.loss, oneWay.loss({ images: x }, ctxOf(11)).loss, tf.mul(tf.add(forward, infoNCE(z2, z1, { temperature: 0.3 })), 0.5), forward, out.metrics!.lambda].map((t) => t.dataSync()[0]);
  });
  assert.ok(Math.abs(got - want) < 1e-5, `${got} vs ${want}`);
  assert.ok(Math.abs(gotOneWay - wantOneWay) < 1e-5, `${gotOneWay} vs ${wantOneWay}`);
  assert.equal(lambda, 1);
  [unmixed, oneWay].forEach((m) => m.dispose());
  x.dispose();
  encoder.dispose();
});

test("createIMix trains through training.train: the loss on a fixed step falls below its start, weights move, no tensor leak", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(16, 4);
  const start = tf.memory().numTensors;
  const imix = createIMix({ encoder, encoderDim: 16, projectionDim: 8, augmentation: noise, temperature: 0.2, seed: 5 });
  const projector = imix.trainable[1] as tf.LayersModel;
  const [e0, p0] = [snapshot(encoder), snapshot(projector)];
  const x = rngImages(16, 6);
  // Baseline: the loss of the untrained networks on one fixed step (views and mixes of seed 99).
  const fixedLoss = () => tf.tidy(() => imix.loss({ images: x }, ctxOf(99)).loss.dataSync()[0]);
  const initial = fixedLoss();
  const optimizer = tf.train.adam(1e-2);
  const steps = 30;
  const { history, counts } = await trainCounting<VisionBatch>({
    ...imix,
    optimizer,
    batches: () => Array.from({ length: steps }, () => ({ images: x })),
    disposeBatches: false,
    steps,
    seed: 7,
  });
  assert.equal(history.loss.length, steps);
  assert.ok(history.loss.every(Number.isFinite));
  assert.ok(history.metrics.lambda.every((l) => l >= 0.5 && l <= 1), "the default mix keeps the larger share of each image");
  assert.ok(history.metrics.accuracy.every((a) => a >= 0 && a <= 1));
  assertSteadyTensors(counts, steps);
  const final = fixedLoss();
  assert.ok(final < initial - 0.5, `fixed-step loss ${initial} -> ${final}`);
  const accuracy = history.metrics.accuracy;
  assert.ok(accuracy.slice(-5).reduce((s, a) => s + a, 0) / 5 > accuracy[0], `accuracy ${accuracy[0]} -> ${accuracy.slice(-5)}`);
  assert.ok(allMoved(snapshot(encoder), e0), "every encoder weight moves");
  assert.ok(allMoved(snapshot(projector), p0), "every projector weight moves");
  optimizer.dispose();
  x.dispose();
  imix.dispose();
  assert.equal(tf.memory().numTensors, start, "dispose frees the projector, not the encoder");
  assert.ok(!encoder.weights[0].read().isDisposed);
  encoder.dispose();
});

test("createIMix is deterministic under a seed (default augmentation, CutMix), and the step seed changes the mix", async () => {
  await tf.setBackend("cpu");
  const run = async (seed: number) => {
    const encoder = denseEncoder(16, 3);
    const imix = createIMix({ encoder, encoderDim: 16, projectionDim: 8, mix: cutMix({ alpha: 1, per: "example" }), name: "i-Mix (CutMix)", seed: 1 });
    const x = rngImages(8, 2);
    const optimizer = tf.train.adam(1e-2);
    const { history } = await trainCounting<VisionBatch>({ ...imix, optimizer, batches: () => [{ images: x }, { images: x }, { images: x }], disposeBatches: false, steps: 3, seed });
    const weights = snapshot(encoder);
    optimizer.dispose();
    x.dispose();
    imix.dispose();
    encoder.dispose();
    return { history, weights, name: imix.name };
  };
  const [a, b, c] = [await run(3), await run(3), await run(4)];
  assert.equal(a.name, "i-Mix (CutMix)");
  assert.deepEqual(a.history.loss, b.history.loss);
  assert.deepEqual(a.history.metrics.lambda, b.history.metrics.lambda);
  assert.deepEqual(a.weights, b.weights);
  assert.notDeepEqual(a.history.metrics.lambda, c.history.metrics.lambda, "another run seed draws other mixes");
});

test("createIMix on wasm gives the cpu loss", async () => {
  await tf.setBackend("cpu");
  const lossOn = () => {
    const encoder = denseEncoder(16, 1);
    const imix = createIMix({ encoder, encoderDim: 16, projectionDim: 8, augmentation: noise, mix: cutMix({ alpha: 1, per: "example" }), seed: 2 });
    const x = rngImages(6, 3);
    const value = tf.tidy(() => imix.loss({ images: x }, ctxOf(11)).loss.dataSync()[0]);
    x.dispose();
    imix.dispose();
    encoder.dispose();
    return value;
  };
  const cpu = lossOn();
  const wasm = await onWasm(lossOn);
  assert.ok(Math.abs(cpu - wasm) < 1e-4, `cpu ${cpu} vs wasm ${wasm}`);
});

test("createIMix: names, and bad options and batches throw naming the option", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(16, 1);
  const named = [createIMix({ encoder, encoderDim: 16 }), createIMix({ encoder, encoderDim: 16, mix: cutMix() }), createIMix({ encoder, encoderDim: 16, mix: cutMix(), name: "i-Mix (CutMix)" })];
  assert.deepEqual(named.map((m) => m.name), ["i-Mix (mixup)", "i-Mix", "i-Mix (CutMix)"]);
  named.forEach((m) => m.dispose());
  const bad: Array<[object, RegExp]> = [
    [{ encoder: {}, encoderDim: 16 }, /createIMix: options.encoder must be a tf.LayersModel/],
    [{ encoder, encoderDim: 0 }, /createIMix: options.encoderDim must be a positive integer, got 0/],
    [{ encoder, encoderDim: 16, temperature: -1 }, /createIMix: options.temperature must be a finite number > 0, got -1/],
    [{ encoder, encoderDim: 16, projectionDim: 2.5 }, /createIMix: options.projectionDim must be a positive integer, got 2.5/],
    [{ encoder, encoderDim: 16, hidden: [0] }, /createIMix: options.hidden must be an array of positive integers/],
    [{ encoder, encoderDim: 16, seed: 0.5 }, /createIMix: options.seed must be an integer, got 0.5/],
    [{ encoder, encoderDim: 16, mix: "mixup" }, /createIMix: options.mix must be a function \(images, seed\) => MixedBatch, e.g. mixup\(\{ alpha: 1 \}\), got/],
    [{ encoder, encoderDim: 16, name: "" }, /createIMix: options.name must be a non-empty string, got/],
    [{ encoder, encoderDim: 16, symmetric: "yes" }, /createIMix: options.symmetric must be a boolean, got/],
    [{ encoder, encoderDim: 16, batchNorm: 1 }, /createIMix: options.batchNorm must be a boolean, got 1/],
  ];
  for (const [options, message] of bad) assert.throws(() => createIMix(options as never), message);
  const x = rngImages(4, 1);
  const wrongDim = createIMix({ encoder, encoderDim: 12, augmentation: noise });
  assert.throws(() => tf.tidy(() => wrongDim.loss({ images: x }, ctxOf(1)).loss), /i-Mix\.loss: encoder must map \[4,28,28,1\] to \[4,12\], got a tensor of shape \[4,16\]/);
  const one = rngImages(1, 1);
  assert.throws(() => wrongDim.loss({ images: one }, ctxOf(1)), /i-Mix\.loss: batch\.images must be a batch \[B, height, width, channels\] with B >= 2, got a tensor of shape \[1,28,28,1\]/);
  const shrinking = createIMix({ encoder, encoderDim: 16, augmentation: noise, mix: (images) => ({ images: tf.slice(images, [0, 0, 0, 0], [2, 28, 28, 1]) as tf.Tensor4D, partners: Int32Array.of(0, 1), lambdas: Float32Array.of(1, 1) }) });
  assert.throws(() => tf.tidy(() => shrinking.loss({ images: x }, ctxOf(1)).loss), /i-Mix\.loss: options.mix must return \{ images \} of shape \[4,28,28,1\] float32, got a tensor of shape \[2,28,28,1\]/);
  const badLambda = createIMix({ encoder, encoderDim: 16, augmentation: noise, mix: (images) => ({ images: images.clone(), partners: Int32Array.of(0, 1, 2, 3), lambdas: Float32Array.of(1, 1, 2, 1) }) });
  assert.throws(() => tf.tidy(() => badLambda.loss({ images: x }, ctxOf(1)).loss), /iMixLoss: mix\.lambdas\[2\] must be a number in \[0, 1\], got 2/);
  tf.dispose([x, one]);
  [wrongDim, shrinking, badLambda].forEach((m) => m.dispose());
  encoder.dispose();
});
