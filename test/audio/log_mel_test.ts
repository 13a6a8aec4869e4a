import { test } from "node:test";
import assert from "node:assert/strict";
import "@tensorflow/tfjs-backend-wasm";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { logMelSpectrogram, logMelStatistics } from "../../src/audio/log_mel";
import { melFilterBankWeights } from "../../src/audio/mel";

/** Float64 STFT magnitude from the definition (periodic Hann window, whole frames); stft_test.ts checks the library against the same formula. */
function referenceStft(signal: number[], frameLength: number, frameStep: number, fftLength: number): number[][] {
  const frames = 1 + Math.floor((signal.length - frameLength) / frameStep);
  const w = Array.from({ length: frameLength }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / frameLength));
  return Array.from({ length: frames }, (_, t) => Array.from({ length: fftLength / 2 + 1 }, (_, k) => {
    let re = 0, im = 0;
    for (let n = 0; n < frameLength; n++) {
      re += w[n] * signal[t * frameStep + n] * Math.cos((2 * Math.PI * k * n) / fftLength);
      im -= w[n] * signal[t * frameStep + n] * Math.sin((2 * Math.PI * k * n) / fftLength);
    }
    return Math.hypot(re, im);
  }));
}

test("logMelSpectrogram matches log(|STFT|^2 M + eps) in float64 on cpu and wasm", async () => {
  const rng = createRng(5);
  const x = Array.from({ length: 2 }, () => Array.from({ length: 300 }, () => rng.normal()));
  const options = { sampleRate: 1000, frameLength: 40, frameStep: 20, fftLength: 64, melBins: 8, fMin: 20, fMax: 480, epsilon: 1e-3 };
  const bank = melFilterBankWeights({ sampleRate: 1000, fftLength: 64, melBins: 8, fMin: 20, fMax: 480 });
  const want = x.map((s) => referenceStft(s, 40, 20, 64).map((frame) =>
    bank[0].map((_, m) => Math.log(frame.reduce((acc, mag, k) => acc + mag * mag * bank[k][m], 0) + 1e-3))));
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    const waves = tf.tensor2d(x);
    const before = tf.memory().numTensors;
    const got = logMelSpectrogram(waves, options);
    assert.equal(tf.memory().numTensors, before + 1);
    assert.deepEqual(got.shape, [2, 14, 8]);
    const values = got.arraySync();
    want.forEach((r, i) => r.forEach((row, t) => row.forEach((v, m) => assert.ok(Math.abs(values[i][t][m] - v) < 1e-4 * Math.max(1, Math.abs(v)), `${backend} [${i},${t},${m}] ${values[i][t][m]} vs ${v}`))));
    tf.dispose([waves, got]);
  }
  await tf.setBackend("cpu");
});

test("logMelSpectrogram: a pure tone is loudest in the filter whose centre is nearest", async () => {
  await tf.setBackend("cpu");
  const sampleRate = 8000;
  const options = { sampleRate, frameLength: 256, frameStep: 128, melBins: 24, fMin: 60, fMax: 4000 };
  const bank = melFilterBankWeights({ sampleRate, fftLength: 256, melBins: 24, fMin: 60, fMax: 4000 });
  for (const hz of [250, 1000, 2500]) {
    const waves = tf.tensor2d([Array.from({ length: 2048 }, (_, n) => Math.sin((2 * Math.PI * hz * n) / sampleRate))]);
    const lm = logMelSpectrogram(waves, options);
    const frame = (lm.arraySync() as number[][][])[0][5];
    const loudest = frame.indexOf(Math.max(...frame));
    // The filter with the largest weight at the tone's DFT bin.
    const row = bank[Math.round((hz * 256) / sampleRate)];
    assert.equal(loudest, row.indexOf(Math.max(...row)), `${hz} Hz`);
    tf.dispose([waves, lm]);
  }
});

test("logMelStatistics: per-bin mean and population std over time, in float64", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(2);
  const x = Array.from({ length: 3 }, () => Array.from({ length: 7 }, () => Array.from({ length: 4 }, () => rng.normal())));
  const lm = tf.tensor3d(x);
  const before = tf.memory().numTensors;
  const stats = logMelStatistics(lm);
  assert.equal(tf.memory().numTensors, before + 1);
  assert.deepEqual(stats.shape, [3, 8]);
  const got = stats.arraySync();
  x.forEach((frames, i) => {
    for (let m = 0; m < 4; m++) {
      const mean = frames.reduce((a, f) => a + f[m], 0) / 7;
      const std = Math.sqrt(frames.reduce((a, f) => a + (f[m] - mean) ** 2, 0) / 7);
      assert.ok(Math.abs(got[i][m] - mean) < 1e-5 && Math.abs(got[i][4 + m] - std) < 1e-5, `[${i},${m}]`);
    }
  });
  tf.dispose([lm, stats]);
});

test("logMelSpectrogram and logMelStatistics reject bad input", async () => {
  await tf.setBackend("cpu");
  const waves = tf.zeros([1, 512]) as tf.Tensor2D;
  const ints = tf.zeros([1, 512], "int32") as tf.Tensor2D;
  const ok = { sampleRate: 8000, frameLength: 256, frameStep: 128, melBins: 16 };
  const before = tf.memory().numTensors;
  assert.throws(() => logMelSpectrogram(waves, { ...ok, epsilon: 0 }), /logMelSpectrogram: options.epsilon must be a finite number > 0, got 0/);
  assert.throws(() => logMelSpectrogram(waves, { ...ok, melBins: -1 }), /melFilterBank: options.melBins must be a positive integer, got -1/);
  assert.throws(() => logMelSpectrogram(ints, ok), /logMelSpectrogram: waves must be a float32 tensor of rank 2, got an int32 tensor of shape \[1,512\]/);
  assert.throws(() => logMelStatistics(waves as unknown as tf.Tensor3D), /logMelStatistics: logMel must be a float32 tensor of rank 3, got a tensor of shape \[1,512\]/);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([waves, ints]);
});
