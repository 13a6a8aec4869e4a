import { test } from "node:test";
import assert from "node:assert/strict";
import "@tensorflow/tfjs-backend-wasm";
import { tf } from "../../../src/backend/tf";
import { createRng } from "../../../src/data/random";
import { syntheticRecordings } from "../../../src/data/synthetic_recordings";
import { logMelSpectrogram } from "../../../src/audio/log_mel";
import { linearProbe } from "../../../src/evaluation/linear_probe";
import { bilinearContrastiveLoss, colaBatches, createCola, embedRecordings, type ColaBatch } from "../../../src/methods/audio/cola";
import { allMoved, assertSteadyTensors, ctxOf, denseEncoder, snapshot, trainCounting } from "../vision/helpers";

/** Float64 COLA loss from the paper's equations: s_ij = a_i^T W p_j, mean over i of log sum_j exp(s_ij) - s_ii. */
function referenceLoss(a: number[][], p: number[][], w: number[][]): number {
  const s = a.map((ai) => p.map((pj) => ai.reduce((acc, x, k) => acc + x * w[k].reduce((t, wkl, l) => t + wkl * pj[l], 0), 0)));
  return s.reduce((total, row, i) => {
    const max = Math.max(...row);
    return total + max + Math.log(row.reduce((acc, v) => acc + Math.exp(v - max), 0)) - row[i];
  }, 0) / a.length;
}

const randomMatrix = (rng: ReturnType<typeof createRng>, rows: number, cols: number, scale = 1): number[][] =>
  Array.from({ length: rows }, () => Array.from({ length: cols }, () => scale * rng.normal()));

test("bilinearContrastiveLoss matches a float64 reference on cpu and wasm; log B at zero similarity", async () => {
  const rng = createRng(4);
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    for (const [b, d, scale] of [[1, 3, 1], [5, 4, 1], [8, 6, 3]] as const) {
      const [a, p, w] = [randomMatrix(rng, b, d), randomMatrix(rng, b, d), randomMatrix(rng, d, d, scale)];
      const tensors = [tf.tensor2d(a), tf.tensor2d(p), tf.tensor2d(w)] as const;
      const before = tf.memory().numTensors;
      const loss = bilinearContrastiveLoss(...tensors);
      assert.equal(tf.memory().numTensors, before + 1);
      const want = referenceLoss(a, p, w);
      assert.ok(Math.abs(loss.dataSync()[0] - want) < 1e-4 * Math.max(1, Math.abs(want)), `${backend} b=${b}: ${loss.dataSync()[0]} vs ${want}`);
      tf.dispose([loss, ...tensors]);
    }
    const zeros = tf.zeros([6, 3]) as tf.Tensor2D, eye = tf.eye(3) as tf.Tensor2D;
    const chance = bilinearContrastiveLoss(zeros, zeros, eye);
    assert.ok(Math.abs(chance.dataSync()[0] - Math.log(6)) < 1e-5);
    tf.dispose([zeros, eye, chance]);
  }
  await tf.setBackend("cpu");
});

test("bilinearContrastiveLoss gradients match central finite differences of the float64 reference", async () => {
  const rng = createRng(9);
  const [b, d] = [4, 3];
  const inputs = [randomMatrix(rng, b, d), randomMatrix(rng, b, d), randomMatrix(rng, d, d)];
  const h = 1e-6;
  const numeric = inputs.map((m, which) => m.map((row, i) => row.map((_, k) => {
    const plus = inputs.map((x) => x.map((r) => [...r]));
    const minus = inputs.map((x) => x.map((r) => [...r]));
    plus[which][i][k] += h;
    minus[which][i][k] -= h;
    return (referenceLoss(plus[0], plus[1], plus[2]) - referenceLoss(minus[0], minus[1], minus[2])) / (2 * h);
  })));
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    const tensors = inputs.map((m) => tf.tensor2d(m));
    const grads = tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => bilinearContrastiveLoss(x as tf.Tensor2D, y as tf.Tensor2D, z as tf.Tensor2D))(tensors);
    let maxErr = 0, maxRef = 0;
    grads.forEach((g, which) => (g.arraySync() as number[][]).forEach((row, i) => row.forEach((v, k) => {
      maxErr = Math.max(maxErr, Math.abs(v - numeric[which][i][k]));
      maxRef = Math.max(maxRef, Math.abs(numeric[which][i][k]));
    })));
    assert.ok(maxRef > 1e-3, "the reference gradient should not vanish");
    assert.ok(maxErr < 1e-4 * Math.max(1, maxRef), `${backend}: max gradient error ${maxErr}`);
    tf.dispose([...tensors, ...grads]);
  }
  await tf.setBackend("cpu");
});

test("bilinearContrastiveLoss rejects bad input with named errors", async () => {
  await tf.setBackend("cpu");
  const a = tf.zeros([4, 3]) as tf.Tensor2D, w = tf.eye(3) as tf.Tensor2D, short = tf.zeros([3, 3]) as tf.Tensor2D, wide = tf.eye(4) as tf.Tensor2D, flat = tf.zeros([4]) as unknown as tf.Tensor2D;
  assert.throws(() => bilinearContrastiveLoss(flat, a, w), /bilinearContrastiveLoss: anchors must be a float32 tensor of shape \[n,d\], got a tensor of shape \[4\]/);
  assert.throws(() => bilinearContrastiveLoss(a, short, w), /bilinearContrastiveLoss: positives must be a float32 tensor of shape \[4,3\], got a tensor of shape \[3,3\]/);
  assert.throws(() => bilinearContrastiveLoss(a, a, wide), /bilinearContrastiveLoss: W must be a float32 tensor of shape \[3,3\], got a tensor of shape \[4,4\]/);
  tf.dispose([a, w, short, wide, flat]);
});

const SEGMENT = 8, MEL = 16;
const segments = (b: number, seed: number): tf.Tensor4D => tf.randomNormal([b, SEGMENT, MEL, 1], 0, 1, "float32", seed) as tf.Tensor4D;
const encoderOf = (seed: number) => denseEncoder(24, seed, { inputShape: [SEGMENT, MEL, 1] });

test("createCola: the loss is the bilinear loss of g(f(anchors)), g(f(positives)) and W; accuracy matches a float64 count; the loss hook is used", async () => {
  await tf.setBackend("cpu");
  const encoder = encoderOf(1);
  const seen: number[] = [];
  const doubled = (a: tf.Tensor2D, p: tf.Tensor2D, w: tf.Tensor2D) => { seen.push(a.shape[0]); return tf.mul(bilinearContrastiveLoss(a, p, w), 2) as tf.Scalar; };
  const cola = createCola({ encoder, encoderDim: 24, projectionDim: 8, seed: 2 });
  const mine = createCola({ encoder, encoderDim: 24, projectionDim: 8, seed: 2, bilinearLoss: doubled });
  assert.deepEqual(cola.bilinear.arraySync(), (tf.tidy(() => tf.eye(8).arraySync())), "W starts at the identity");
  const batch = { anchors: segments(6, 1), positives: segments(6, 2) };
  const before = tf.memory().numTensors;
  const [got, accuracy, twice, want, logits] = tf.tidy(() => {
    const out = cola.loss(batch, ctxOf(1));
    const ga = cola.projector.apply(encoder.apply(batch.anchors, { training: true }), { training: true }) as tf.Tensor2D;
    const gp = cola.projector.apply(encoder.apply(batch.positives, { training: true }), { training: true }) as tf.Tensor2D;
    return [out.loss, out.metrics!.accuracy, mine.loss(batch, ctxOf(1)).loss, bilinearContrastiveLoss(ga, gp, cola.bilinear as tf.Tensor2D), tf.matMul(ga, tf.transpose(gp))];
  });
  assert.ok(Math.abs(got.dataSync()[0] - want.dataSync()[0]) < 1e-6);
  assert.ok(Math.abs(twice.dataSync()[0] - 2 * want.dataSync()[0]) < 1e-5);
  assert.deepEqual(seen, [6]);
  const hits = (logits.arraySync() as number[][]).filter((row, i) => row.indexOf(Math.max(...row)) === i).length;
  assert.ok(Math.abs(accuracy.dataSync()[0] - hits / 6) < 1e-6);
  tf.dispose([got, accuracy, twice, want, logits]);
  assert.equal(tf.memory().numTensors, before);
  const perRow = createCola({ encoder, encoderDim: 24, seed: 2, bilinearLoss: (a) => tf.sum(a, 1) as unknown as tf.Scalar });
  assert.throws(() => tf.tidy(() => { perRow.loss(batch, ctxOf(1)); }), /COLA.loss: options.bilinearLoss must return a scalar loss, got shape \[6\]/);
  const one = { anchors: segments(1, 3), positives: segments(1, 4) };
  assert.throws(() => cola.loss(one, ctxOf(1)), /COLA.loss: batch.anchors must be a batch \[B, frames, melBins, 1\] with B >= 2, got a tensor of shape \[1,8,16,1\]/);
  const mismatched = { anchors: batch.anchors, positives: one.positives };
  assert.throws(() => cola.loss(mismatched, ctxOf(1)), /COLA.loss: batch.positives must have the shape of batch.anchors \[6,8,16,1\], got a tensor of shape \[1,8,16,1\]/);
  tf.dispose([batch.anchors, batch.positives, one.anchors, one.positives]);
  [cola, mine, perRow].forEach((m) => m.dispose());
  encoder.dispose();
});

test("createCola rejects bad options", async () => {
  await tf.setBackend("cpu");
  const encoder = encoderOf(1);
  const cases: Array<[object, RegExp]> = [
    [{ encoder: {}, encoderDim: 24 }, /createCola: options.encoder must be a tf.LayersModel, got an object/],
    [{ encoder, encoderDim: 0 }, /createCola: options.encoderDim must be a positive integer, got 0/],
    [{ encoder, encoderDim: 24, projectionDim: 2.5 }, /createCola: options.projectionDim must be a positive integer, got 2.5/],
    [{ encoder, encoderDim: 24, seed: 0.5 }, /createCola: options.seed must be an integer, got 0.5/],
    [{ encoder, encoderDim: 24, bilinearLoss: "cola" }, /createCola: options.bilinearLoss must be a function \(anchors, positives, W\) => scalar, got "cola"/],
  ];
  for (const [options, message] of cases) assert.throws(() => createCola(options as never), message);
  const wrongDim = createCola({ encoder, encoderDim: 12 });
  const x = segments(4, 1);
  assert.throws(() => tf.tidy(() => wrongDim.loss({ anchors: x, positives: x }, ctxOf(1)).loss), /COLA\.loss: encoder must map \[4,8,16,1\] to \[4,12\], got a tensor of shape \[4,24\]/);
  x.dispose();
  wrongDim.dispose();
  encoder.dispose();
});

test("colaBatches: two segments of the same recording per row, every recording once per epoch, deterministic under the rng", async () => {
  await tf.setBackend("cpu");
  // Recording r holds the value r everywhere (plus its frame index / 1000), so a segment tells where it came from.
  const [count, frames] = [10, 12];
  const values = Float32Array.from({ length: count * frames * MEL }, (_, i) => Math.floor(i / (frames * MEL)) + (Math.floor(i / MEL) % frames) / 1000);
  const logMel = tf.tensor3d(values, [count, frames, MEL]);
  const make = colaBatches(logMel, { batchSize: 4, segmentFrames: SEGMENT });
  const read = (seed: number) => [...make(0, createRng(seed))].map((b) => { const out = [b.anchors.arraySync(), b.positives.arraySync()] as number[][][][][]; tf.dispose([b.anchors, b.positives]); return out; });
  const epoch = read(3);
  assert.equal(epoch.length, 2, "10 recordings in batches of 4: the last 2 are dropped");
  const seen = new Set<number>();
  for (const [anchors, positives] of epoch) {
    anchors.forEach((segment, i) => {
      const recording = Math.floor(segment[0][0][0]);
      seen.add(recording);
      assert.equal(Math.floor(positives[i][0][0][0]), recording, "the positive comes from the anchor's recording");
      const start = Math.round((segment[0][0][0] - recording) * 1000);
      assert.ok(start >= 0 && start <= frames - SEGMENT);
      segment.forEach((frame, t) => assert.ok(Math.abs(frame[3][0] - (recording + (start + t) / 1000)) < 1e-5, "consecutive frames"));
    });
  }
  assert.equal(seen.size, 8);
  assert.deepEqual(read(3), epoch);
  assert.notDeepEqual(read(4), epoch);
  // A gain jitter shifts a whole segment by one constant within +-12 dB (in natural-log power units).
  const jittered = [...colaBatches(logMel, { batchSize: 4, segmentFrames: SEGMENT, gainJitterDb: 12 })(0, createRng(3))];
  const shifts = jittered.flatMap((b) => { const a = b.anchors.arraySync() as number[][][][]; tf.dispose([b.anchors, b.positives]); return a.map((s) => s[1][5][0] - s[0][5][0]); });
  assert.ok(shifts.every((d) => Math.abs(d - 0.001) < 1e-4), "one shift per segment keeps the frame-to-frame differences");
  assert.throws(() => colaBatches(logMel, { batchSize: 11, segmentFrames: 4 }), /colaBatches: options.batchSize must be in \[2, 10\] \(the recordings\), got 11/);
  assert.throws(() => colaBatches(logMel, { batchSize: 4, segmentFrames: 13 }), /colaBatches: options.segmentFrames must be at most the 12 frames of logMel, got 13/);
  assert.throws(() => colaBatches(logMel, { batchSize: 4, segmentFrames: 4, gainJitterDb: -1 }), /colaBatches: options.gainJitterDb must be a finite number >= 0, got -1/);
  logMel.dispose();
});

test("embedRecordings averages the encoder over whole segments; no tensor left behind", async () => {
  await tf.setBackend("cpu");
  const encoder = encoderOf(3);
  const logMel = tf.randomNormal([5, 20, MEL], 0, 1, "float32", 7) as tf.Tensor3D;
  const before = tf.memory().numTensors;
  const features = embedRecordings(encoder, logMel, { segmentFrames: SEGMENT, hop: 5 });
  assert.equal(tf.memory().numTensors, before + 1);
  assert.deepEqual(features.shape, [5, 24]);
  // Segments at frames 0, 5 and 10 (15 would run past frame 20).
  const want = tf.tidy(() => tf.div(tf.addN([0, 5, 10].map((s) => encoder.predict(tf.expandDims(tf.slice(logMel, [0, s, 0], [5, SEGMENT, MEL]), 3)) as tf.Tensor)), 3));
  assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(features, want))).dataSync()[0]) < 1e-5);
  assert.throws(() => embedRecordings(encoder, logMel, { segmentFrames: 21 }), /embedRecordings: options.segmentFrames must be at most the 20 frames of logMel, got 21/);
  tf.dispose([features, want, logMel]);
  encoder.dispose();
});

test("COLA trains through training.train without leaking, and its embedding beats the same encoder at random init on an instrument probe", async () => {
  await tf.setBackend("cpu");
  const front = { sampleRate: 8000, frameLength: 256, frameStep: 128, melBins: MEL, fMin: 60, fMax: 4000 };
  const split = (count: number, seed: number) => {
    const rec = syntheticRecordings({ count, seed, duration: 0.5 });
    const waves = tf.tensor2d(rec.waves, [rec.count, rec.samples]);
    const logMel = logMelSpectrogram(waves, front); // [count, 30, 16]
    waves.dispose();
    return { logMel, labels: rec.instrument };
  };
  const train = split(160, 1), heldOut = split(96, 2);
  const encoder = encoderOf(5), untrained = encoderOf(5);
  const start = tf.memory().numTensors;
  const cola = createCola({ encoder, encoderDim: 24, projectionDim: 16, seed: 5 });
  const e0 = snapshot(encoder);
  const optimizer = tf.train.adam(3e-3);
  const steps = 100;
  const { history, counts } = await trainCounting<ColaBatch>({ ...cola, optimizer, batches: colaBatches(train.logMel, { batchSize: 32, segmentFrames: SEGMENT }), steps, seed: 7 });
  assertSteadyTensors(counts, steps);
  assert.ok(allMoved(snapshot(encoder), e0), "every encoder weight moves");
  const early = history.loss.slice(0, 5).reduce((a, b) => a + b) / 5, late = history.loss.slice(-5).reduce((a, b) => a + b) / 5;
  assert.ok(late < early - 0.5, `loss ${early} -> ${late}`);
  optimizer.dispose();
  cola.dispose();
  assert.equal(tf.memory().numTensors, start, "dispose frees g and W, not the encoder");
  const probe = (model: tf.LayersModel) => {
    const [a, b] = [train, heldOut].map((s) => embedRecordings(model, s.logMel, { segmentFrames: SEGMENT, hop: 4 }));
    const accuracy = linearProbe(a, train.labels, b, heldOut.labels, { numClasses: 5 }).accuracy;
    tf.dispose([a, b]);
    return accuracy;
  };
  const [trained, random] = [probe(encoder), probe(untrained)];
  // Measured with encoder seeds 5 and 6 after 60 and 120 steps: 0.90-0.94 against 0.84-0.86.
  assert.ok(trained > random + 0.03, `instrument probe: COLA ${trained} vs random init ${random}`);
  tf.dispose([train.logMel, heldOut.logMel]);
  encoder.dispose();
  untrained.dispose();
});
