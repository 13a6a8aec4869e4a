import { test } from "node:test";
import assert from "node:assert/strict";
import "@tensorflow/tfjs-backend-wasm";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { dftMatrices, frameCount, hannWindow, stftMagnitude, stftPowerTimes } from "../../src/audio/stft";

/** Float64 STFT magnitude straight from the definition, periodic Hann window, whole frames. */
function referenceStft(signal: number[], frameLength: number, frameStep: number, fftLength: number): number[][] {
  const frames = 1 + Math.floor((signal.length - frameLength) / frameStep);
  const w = Array.from({ length: frameLength }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / frameLength));
  return Array.from({ length: frames }, (_, t) =>
    Array.from({ length: fftLength / 2 + 1 }, (_, k) => {
      let re = 0, im = 0;
      for (let n = 0; n < frameLength; n++) {
        const x = w[n] * signal[t * frameStep + n];
        re += x * Math.cos((2 * Math.PI * k * n) / fftLength);
        im -= x * Math.sin((2 * Math.PI * k * n) / fftLength);
      }
      return Math.hypot(re, im);
    }));
}

const signals = (count: number, samples: number, seed: number): number[][] => {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => Array.from({ length: samples }, () => rng.normal()));
};

test("stftMagnitude matches a float64 DFT on cpu and wasm, with and without zero padding", async () => {
  // samples, frameLength, frameStep, fftLength: frames folded in half (6) and in quarters (4, 16, 20), and zero-padded (32 in 64).
  const cases: Array<[number, number, number, number]> = [[64, 16, 8, 16], [100, 32, 10, 64], [90, 20, 7, 20], [101, 6, 7, 6], [40, 4, 3, 4]];
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    for (const [samples, frameLength, frameStep, fftLength] of cases) {
      const x = signals(3, samples, samples);
      const waves = tf.tensor2d(x);
      const before = tf.memory().numTensors;
      const got = stftMagnitude(waves, { frameLength, frameStep, fftLength, framesPerPass: 5 }); // several passes
      assert.equal(tf.memory().numTensors, before + 1, "only the result is left");
      const frames = frameCount(samples, frameLength, frameStep);
      assert.deepEqual(got.shape, [3, frames, fftLength / 2 + 1]);
      const values = got.arraySync();
      x.forEach((signal, i) => {
        const want = referenceStft(signal, frameLength, frameStep, fftLength);
        want.forEach((row, t) => row.forEach((v, k) => assert.ok(Math.abs(values[i][t][k] - v) < 1e-4 * Math.max(1, v), `${backend} [${i},${t},${k}]: ${values[i][t][k]} vs ${v}`)));
      });
      tf.dispose([waves, got]);
    }
  }
  await tf.setBackend("cpu");
});

test("stftMagnitude equals |tf.signal.stft| on the cpu backend", async () => {
  await tf.setBackend("cpu");
  const x = signals(2, 200, 3);
  const waves = tf.tensor2d(x);
  const got = stftMagnitude(waves, { frameLength: 32, frameStep: 12, fftLength: 64 }).arraySync();
  x.forEach((signal, i) => {
    const want = tf.tidy(() => tf.abs(tf.signal.stft(tf.tensor1d(signal), 32, 12, 64)).arraySync() as number[][]);
    assert.equal(got[i].length, want.length);
    want.forEach((row, t) => row.forEach((v, k) => assert.ok(Math.abs(got[i][t][k] - v) < 1e-4 * Math.max(1, v), `[${i},${t},${k}] ${got[i][t][k]} vs ${v}`)));
  });
  waves.dispose();
});

test("hannWindow, frameCount and dftMatrices: values from their definitions", async () => {
  await tf.setBackend("cpu");
  assert.deepEqual(Array.from(hannWindow(4)), [0, 0.5, 1, 0.5]);
  const tfWindow = tf.signal.hannWindow(16);
  assert.ok(Array.from(tfWindow.dataSync()).every((v, i) => Math.abs(v - hannWindow(16)[i]) < 1e-6), "tf.signal.hannWindow for an even length");
  tfWindow.dispose();
  assert.equal(frameCount(8000, 256, 128), 61);
  assert.equal(frameCount(10, 10, 3), 1);
  assert.throws(() => frameCount(9, 10, 3), /frameCount: samples must be an integer >= frameLength = 10, got 9/);
  assert.throws(() => dftMatrices(8, 9), /dftMatrices: fftLength must be an even integer >= frameLength = 8, got 9/);
  const { cos, sin } = dftMatrices(8, 12);
  assert.deepEqual(cos.shape, [8, 7]);
  const c = cos.arraySync(), s = sin.arraySync();
  const w = hannWindow(8);
  assert.ok(Math.abs(c[3][2] - w[3] * Math.cos((2 * Math.PI * 6) / 12)) < 1e-6);
  assert.ok(Math.abs(s[5][4] + w[5] * Math.sin((2 * Math.PI * 20) / 12)) < 1e-6);
  tf.dispose([cos, sin]);
});

test("stftMagnitude rejects bad input with named errors", async () => {
  await tf.setBackend("cpu");
  const waves = tf.zeros([2, 64]) as tf.Tensor2D;
  const flat = tf.zeros([64]) as unknown as tf.Tensor2D;
  const cases: Array<[() => unknown, RegExp]> = [
    [() => stftMagnitude(flat, { frameLength: 16, frameStep: 8 }), /stftMagnitude: waves must be a float32 tensor of rank 2, got a tensor of shape \[64\]/],
    [() => stftMagnitude(waves, { frameLength: 0, frameStep: 8 }), /stftMagnitude: options.frameLength must be a positive integer, got 0/],
    [() => stftMagnitude(waves, { frameLength: 16, frameStep: 1.5 }), /stftMagnitude: options.frameStep must be a positive integer, got 1.5/],
    [() => stftMagnitude(waves, { frameLength: 16, frameStep: 8, fftLength: 8 }), /stftMagnitude: options.fftLength must be an even integer >= frameLength = 16, got 8/],
    [() => stftMagnitude(waves, { frameLength: 15, frameStep: 8, fftLength: 15 }), /stftMagnitude: options.fftLength must be an even integer >= frameLength = 15, got 15/],
    [() => stftMagnitude(waves, { frameLength: 128, frameStep: 8 }), /stftMagnitude: waves must have at least options.frameLength = 128 samples, got a tensor of shape \[2,64\]/],
    [() => stftMagnitude(waves, undefined as never), /stftMagnitude: options must be an object/],
  ];
  const before = tf.memory().numTensors;
  for (const [fn, message] of cases) assert.throws(fn, message);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([waves, flat]);
});

test("tf.signal.stft still has no complex kernel on wasm: the reason stftMagnitude multiplies by DFT matrices", async () => {
  await tf.setBackend("wasm");
  const x = tf.zeros([64]) as tf.Tensor1D;
  try {
    // When this stops throwing, compare it with stftMagnitude and consider using it.
    assert.throws(() => tf.tidy(() => tf.signal.stft(x, 16, 8)), /Kernel 'Complex' not registered for backend 'wasm'/);
  } finally {
    x.dispose();
    await tf.setBackend("cpu");
  }
});

test("stftPowerTimes matches |STFT|^2 times the bank in float64 on cpu and wasm, in several passes", async () => {
  // samples, frameLength, frameStep, fftLength: without zero padding the DFT is folded, in quarters when the frame
  // length is a multiple of 4 (16, 8, 4), else in half (6); with zero padding it is not.
  const cases: Array<[number, number, number, number]> = [[64, 16, 8, 16], [101, 6, 7, 6], [100, 32, 10, 64], [40, 8, 5, 8], [30, 4, 2, 4]];
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    for (const [samples, frameLength, frameStep, fftLength] of cases) {
      const bins = fftLength / 2 + 1;
      const rng = createRng(fftLength);
      const bankValues = Array.from({ length: bins }, () => Array.from({ length: 5 }, () => rng.next()));
      const x = signals(3, samples, samples + 1);
      const waves = tf.tensor2d(x);
      const bank = tf.tensor2d(bankValues);
      const before = tf.memory().numTensors;
      const got = stftPowerTimes(waves, { frameLength, frameStep, fftLength, framesPerPass: 5 }, bank);
      assert.equal(tf.memory().numTensors, before + 1, "only the result is left");
      assert.deepEqual(got.shape, [3, frameCount(samples, frameLength, frameStep), 5]);
      const values = got.arraySync();
      x.forEach((signal, i) => {
        referenceStft(signal, frameLength, frameStep, fftLength).forEach((row, t) => {
          for (let j = 0; j < 5; j++) {
            const want = row.reduce((a, m, k) => a + m * m * bankValues[k][j], 0);
            assert.ok(Math.abs(values[i][t][j] - want) < 1e-4 * Math.max(1, want), `${backend} [${i},${t},${j}]: ${values[i][t][j]} vs ${want}`);
          }
        });
      });
      tf.dispose([waves, bank, got]);
    }
  }
  await tf.setBackend("cpu");
});

test("stftPowerTimes rejects a bank of the wrong shape, after the options", async () => {
  await tf.setBackend("cpu");
  const waves = tf.zeros([2, 64]) as tf.Tensor2D;
  const bank = tf.zeros([9, 4]) as tf.Tensor2D; // 16-point DFT: 9 bins
  const cases: Array<[() => unknown, RegExp]> = [
    [() => stftPowerTimes(waves, { frameLength: 32, frameStep: 8 }, bank), /stftPowerTimes: bank must be a float32 tf.Tensor2D \[17, k\] \(fftLength \/ 2 \+ 1 rows\), got a tensor of shape \[9,4\]/],
    [() => stftPowerTimes(waves, { frameLength: 16, frameStep: 8 }, [[1]] as never), /stftPowerTimes: bank must be a float32 tf.Tensor2D \[9, k\]/],
    [() => stftPowerTimes(waves, { frameLength: 0, frameStep: 8 }, bank), /stftPowerTimes: options.frameLength must be a positive integer, got 0/],
  ];
  const before = tf.memory().numTensors;
  for (const [fn, message] of cases) assert.throws(fn, message);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([waves, bank]);
});
