import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { hzToMel, melFilterBank, melFilterBankWeights, melToHz } from "../../src/audio/mel";

test("hzToMel and melToHz: the HTK scale, inverse of each other", () => {
  assert.ok(Math.abs(hzToMel(1000) - 1000) < 0.1, `${hzToMel(1000)}`);
  assert.equal(hzToMel(0), 0);
  assert.ok(Math.abs(hzToMel(700) - 2595 * Math.log10(2)) < 1e-9);
  for (const f of [0, 55, 440, 3999.5]) assert.ok(Math.abs(melToHz(hzToMel(f)) - f) < 1e-9);
  assert.throws(() => hzToMel(-1), /hzToMel: hz must be a finite number >= 0, got -1/);
  assert.throws(() => melToHz(Number.NaN), /melToHz: mel must be a finite number >= 0, got NaN/);
});

test("melFilterBank: triangles peak at their mel centres, add up to 1 between the first and last centre, zero outside [fMin, fMax]", () => {
  const sampleRate = 8000, fftLength = 512, melBins = 20, fMin = 60, fMax = 3800;
  const bank = melFilterBank({ sampleRate, fftLength, melBins, fMin, fMax });
  assert.deepEqual(bank.shape, [257, 20]);
  const w = bank.arraySync();
  bank.dispose();
  // Float64 reference of the edges, independent of the implementation.
  const lo = 2595 * Math.log10(1 + fMin / 700), hi = 2595 * Math.log10(1 + fMax / 700);
  const centreHz = Array.from({ length: melBins }, (_, m) => 700 * (10 ** ((lo + ((hi - lo) * (m + 1)) / (melBins + 1)) / 2595) - 1));
  const binHz = (k: number) => (k * sampleRate) / fftLength;
  for (let m = 0; m < melBins; m++) {
    let best = 0;
    for (let k = 1; k < w.length; k++) if (w[k][m] > w[best][m]) best = k;
    assert.ok(Math.abs(binHz(best) - centreHz[m]) <= sampleRate / fftLength, `filter ${m} peaks at ${binHz(best)} Hz, centre ${centreHz[m]}`);
    assert.ok(w[best][m] <= 1 + 1e-6 && w[best][m] > 0.5, `filter ${m} peak ${w[best][m]}`);
  }
  w.forEach((row, k) => {
    const f = binHz(k);
    const total = row.reduce((a, b) => a + b, 0);
    if (f >= centreHz[0] && f <= centreHz[melBins - 1]) assert.ok(Math.abs(total - 1) < 1e-5, `coverage at ${f} Hz: ${total}`);
    if (f <= fMin || f >= fMax) assert.equal(total, 0, `nothing outside [fMin, fMax] at ${f} Hz`);
    assert.ok(row.every((v) => v >= 0));
  });
});

test("melFilterBankWeights rejects bad options", () => {
  const ok = { sampleRate: 8000, fftLength: 256, melBins: 16 };
  const cases: Array<[object, RegExp]> = [
    [{ ...ok, sampleRate: 0 }, /melFilterBank: options.sampleRate must be a finite number > 0, got 0/],
    [{ ...ok, fftLength: 255 }, /melFilterBank: options.fftLength must be even, got 255/],
    [{ ...ok, melBins: 0 }, /melFilterBank: options.melBins must be a positive integer, got 0/],
    [{ ...ok, fMax: 5000 }, /melFilterBank: options.fMax must be at most sampleRate \/ 2 = 4000, got 5000/],
    [{ ...ok, fMin: 3000, fMax: 2000 }, /melFilterBank: options.fMin must be below options.fMax = 2000, got 3000/],
    [{ ...ok, fMin: -5 }, /melFilterBank: options.fMin must be a finite number >= 0, got -5/],
  ];
  for (const [options, message] of cases) assert.throws(() => melFilterBankWeights(options as never), message);
  assert.throws(() => melFilterBank(null as never), /melFilterBank: options must be an object/);
});
