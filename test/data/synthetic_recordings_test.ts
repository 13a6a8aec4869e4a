import { test } from "node:test";
import assert from "node:assert/strict";
import { CHORD_QUALITIES, INSTRUMENTS, midiToHz, syntheticRecordings } from "../../src/data/synthetic_recordings";

/** |DFT| of `x` at frequency `hz` (not only at bin centres), float64, Hann-windowed to keep leakage from loud partials local. */
function magnitudeAt(x: Float32Array, hz: number, sampleRate: number): number {
  let re = 0, im = 0;
  const n = x.length;
  for (let t = 0; t < n; t++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * t) / n);
    const angle = (2 * Math.PI * hz * t) / sampleRate;
    re += w * x[t] * Math.cos(angle);
    im -= w * x[t] * Math.sin(angle);
  }
  return Math.hypot(re, im);
}

test("syntheticRecordings: shapes, label ranges, balanced instrument x quality, deterministic under a seed", () => {
  const a = syntheticRecordings({ count: 45, seed: 3, duration: 0.25 });
  assert.equal(a.samples, 2000);
  assert.equal(a.waves.length, 45 * 2000);
  assert.deepEqual(a.instrumentNames, INSTRUMENTS.map((s) => s.name));
  assert.deepEqual(a.qualityNames, ["single note", "major", "minor", "diminished"]);
  const pairs = new Map<string, number>();
  for (let i = 0; i < 45; i++) {
    assert.ok(a.root[i] >= 57 && a.root[i] <= 69);
    assert.equal(a.notes[i].length, CHORD_QUALITIES[a.quality[i]].intervals.length);
    a.notes[i].forEach((hz, j) => {
      const cents = 1200 * Math.log2(hz / midiToHz(a.root[i] + CHORD_QUALITIES[a.quality[i]].intervals[j]));
      assert.ok(Math.abs(cents) <= 15 + 1e-9, `detune ${cents} cents`);
    });
    const key = `${a.instrument[i]},${a.quality[i]}`;
    pairs.set(key, (pairs.get(key) ?? 0) + 1);
  }
  // 45 = 2 full rounds of the 5 x 4 pairs plus 5: every pair 2 or 3 times.
  assert.equal(pairs.size, 20);
  assert.ok([...pairs.values()].every((c) => c === 2 || c === 3), `${[...pairs.values()]}`);
  assert.ok(a.waves.every(Number.isFinite));
  const peak = a.waves.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(peak > 0.2 && peak < 1.2, `peak ${peak}`);
  const b = syntheticRecordings({ count: 45, seed: 3, duration: 0.25 });
  assert.deepEqual(b.waves, a.waves);
  assert.deepEqual([b.instrument, b.quality, b.root], [a.instrument, a.quality, a.root]);
  const c = syntheticRecordings({ count: 45, seed: 4, duration: 0.25 });
  assert.notDeepEqual(c.waves, a.waves);
});

test("syntheticRecordings: the spectrum peaks at the played fundamentals (float64 DFT)", () => {
  const sampleRate = 8000;
  const rec = syntheticRecordings({ count: 20, seed: 11, noise: 0.001, partialJitter: 0 });
  for (let i = 0; i < rec.count; i++) {
    const x = rec.waves.subarray(i * rec.samples, (i + 1) * rec.samples);
    // The spectrum between 150 and 1000 Hz on a 2 Hz grid.
    const grid = Array.from({ length: 426 }, (_, j) => 150 + 2 * j);
    const spectrum = grid.map((hz) => magnitudeAt(x, hz, sampleRate));
    const sorted = [...spectrum].sort((p, q) => p - q);
    const median = sorted[Math.floor(sorted.length / 2)];
    for (const f0 of rec.notes[i]) {
      const atNote = magnitudeAt(x, f0, sampleRate);
      // Every played fundamental stands far above the spectrum's floor ...
      assert.ok(atNote > 20 * median, `recording ${i} (${rec.instrumentNames[rec.instrument[i]]}, ${rec.qualityNames[rec.quality[i]]}): ${f0.toFixed(1)} Hz at ${atNote.toFixed(2)}, median ${median.toFixed(3)}`);
      // ... and is a local maximum: 4 Hz to either side is lower (a 1 s Hann window's main lobe is 2 Hz wide).
      assert.ok(atNote > magnitudeAt(x, f0 - 4, sampleRate) && atNote > magnitudeAt(x, f0 + 4, sampleRate), `recording ${i}: ${f0} Hz is a peak`);
    }
    if (rec.notes[i].length === 1) {
      // A single note: the loudest component below 1 kHz is its fundamental (partial 1 has the largest amplitude).
      const loudest = grid[spectrum.indexOf(Math.max(...spectrum))];
      assert.ok(Math.abs(loudest - rec.notes[i][0]) <= 2, `recording ${i}: loudest ${loudest} Hz, played ${rec.notes[i][0]}`);
    }
  }
});

test("syntheticRecordings rejects bad options", () => {
  const cases: Array<[object, RegExp]> = [
    [{ count: 0, seed: 1 }, /syntheticRecordings: options.count must be a positive integer, got 0/],
    [{ count: 4, seed: 0.5 }, /syntheticRecordings: options.seed must be an integer, got 0.5/],
    [{ count: 4, seed: 1, sampleRate: -8000 }, /syntheticRecordings: options.sampleRate must be a finite number > 0, got -8000/],
    [{ count: 4, seed: 1, duration: 0.001 }, /syntheticRecordings: options.sampleRate \* options.duration must give at least 16 samples, got 8/],
    [{ count: 4, seed: 1, rootRange: [70, 60] }, /syntheticRecordings: options.rootRange must be two integers \[lowest, highest\] with lowest <= highest, got \[70,60\]/],
    [{ count: 4, seed: 1, rootRange: [60, 120] }, /syntheticRecordings: options.rootRange must lie in \[0, 127\] with every chord note below the Nyquist frequency 4000 Hz, got \[60,120\]/],
    [{ count: 4, seed: 1, gainDb: [-6, 3] }, /syntheticRecordings: options.gainDb must be two numbers \[low, high\] with low <= high <= 0, got \[-6,3\]/],
    [{ count: 4, seed: 1, noise: -1 }, /syntheticRecordings: options.noise must be a finite number >= 0, got -1/],
    [{ count: 4, seed: 1, detuneCents: Number.NaN }, /syntheticRecordings: options.detuneCents must be a finite number >= 0, got NaN/],
  ];
  for (const [options, message] of cases) assert.throws(() => syntheticRecordings(options as never), message);
  assert.throws(() => syntheticRecordings(undefined as never), /syntheticRecordings: options must be an object/);
});
