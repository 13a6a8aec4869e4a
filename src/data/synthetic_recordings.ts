/**
 * Synthetic "recordings" for the audio pretext tasks: notes and chords
 * played by a few synthetic instruments, generated from a seed (no audio
 * data set installs offline). The data card is data/synthetic-recordings.md.
 *
 * Each instrument is a harmonic spectrum (the amplitude of each partial),
 * an ADSR envelope (attack, decay, sustain level, release) or a plucked
 * exponential decay, and some breath noise. What varies per recording, so
 * that no label can be read off one fixed template: the root note, the
 * loudness, a small detune of every note, the onset and the end of the note,
 * the phases and a random jitter of every partial's amplitude, and the
 * background noise.
 */
import { createRng, type Rng } from "./random";
import { checkInteger, checkNonNegativeNumber, checkOptions, checkPositiveInteger, checkPositiveNumber, describe } from "../validation/arguments";

/** One synthetic instrument. */
export interface InstrumentSpec {
  /** Name, e.g. "flute". */
  name: string;
  /** Amplitude of partial k (frequency k * f0), k = 1, 2, ...; the timbre. */
  partials: readonly number[];
  /** Seconds from silence to full level. */
  attack: number;
  /** Seconds from full level down to the sustain level. */
  decay: number;
  /** Level held after the decay, in (0, 1]; ignored when `pluckDecay` is set. */
  sustain: number;
  /** Seconds from the note's end to silence. */
  release: number;
  /** Plucked: after the attack the level falls as exp(-t / pluckDecay) (seconds), faster for higher partials. */
  pluckDecay?: number;
  /** Standard deviation of the white breath noise under the envelope, relative to the note's peak. */
  breath: number;
}

/** The instruments, in label order. */
export const INSTRUMENTS: readonly InstrumentSpec[] = [
  { name: "flute", partials: [1, 0.4, 0.15, 0.08, 0.04], attack: 0.08, decay: 0.1, sustain: 0.8, release: 0.1, breath: 0.05 },
  // Odd harmonics strong, even ones nearly absent: the closed-pipe clarinet.
  { name: "clarinet", partials: [1, 0.03, 0.6, 0.03, 0.4, 0.03, 0.25, 0.03, 0.12], attack: 0.04, decay: 0.05, sustain: 0.9, release: 0.08, breath: 0.01 },
  // Sawtooth-like 1/k spectrum, slow bow attack.
  { name: "bowed string", partials: [1, 0.5, 0.33, 0.25, 0.2, 0.17, 0.14, 0.12, 0.11, 0.1], attack: 0.15, decay: 0.1, sustain: 0.85, release: 0.15, breath: 0.02 },
  { name: "plucked string", partials: [1, 0.6, 0.45, 0.3, 0.2, 0.12, 0.08, 0.05], attack: 0.003, decay: 0, sustain: 1, release: 0.05, pluckDecay: 0.35, breath: 0 },
  // Drawbar organ: octave and twelfth-related partials, switched on and off.
  { name: "organ", partials: [1, 0.8, 0, 0.6, 0, 0, 0, 0.4], attack: 0.01, decay: 0, sustain: 1, release: 0.02, breath: 0 },
];

/** Chord qualities, in label order: semitones above the root. */
export const CHORD_QUALITIES: readonly { name: string; intervals: readonly number[] }[] = [
  { name: "single note", intervals: [0] },
  { name: "major", intervals: [0, 4, 7] },
  { name: "minor", intervals: [0, 3, 7] },
  { name: "diminished", intervals: [0, 3, 6] },
];

/** Options of {@link syntheticRecordings}. */
export interface SyntheticRecordingsOptions {
  /** Recordings to generate. */
  count: number;
  /** Seed: the same seed and options give the same recordings, bit for bit. */
  seed: number;
  /** Samples per second; default 8000. */
  sampleRate?: number;
  /** Seconds per recording; default 1. */
  duration?: number;
  /** Lowest and highest root as MIDI note numbers (69 = A4 = 440 Hz), inclusive; default [57, 69] (A3 to A4). */
  rootRange?: readonly [number, number];
  /** Largest detune of a note, in cents (1/100 semitone), drawn uniformly in [-detuneCents, detuneCents]; default 15. */
  detuneCents?: number;
  /** Range of the loudness in dB below full scale, drawn uniformly; default [-12, 0]. */
  gainDb?: readonly [number, number];
  /** Standard deviation of the white background noise (full scale is 1); default 0.01. */
  noise?: number;
  /** Log-normal jitter of each partial's amplitude (std of the log); default 0.2. */
  partialJitter?: number;
}

/** What {@link syntheticRecordings} returns. */
export interface SyntheticRecordings {
  /** `[count * samples]`, recording i at `[i * samples, (i + 1) * samples)`; values in about [-1, 1]. */
  waves: Float32Array;
  /** Recordings. */
  count: number;
  /** Samples per recording. */
  samples: number;
  /** Samples per second. */
  sampleRate: number;
  /** `[count]` index into `instrumentNames`. */
  instrument: Int32Array;
  /** `[count]` index into `qualityNames`. */
  quality: Int32Array;
  /** `[count]` MIDI number of the root. */
  root: Int32Array;
  /** `[count][notes]` the played fundamentals in Hz, detune included (root first). */
  notes: number[][];
  /** `[instruments]` names, e.g. "flute". */
  instrumentNames: string[];
  /** `[qualities]` names, e.g. "major". */
  qualityNames: string[];
}

/** Frequency in Hz of MIDI note `midi` (69 = A4 = 440 Hz, 12 per octave). */
export function midiToHz(midi: number): number {
  return 440 * 2 ** ((midi - 69) / 12);
}

/**
 * Generates `count` seeded recordings of notes and chords. Recording i gets
 * instrument `i mod instruments` and chord quality `floor(i / instruments)
 * mod qualities` before the order is shuffled, so every instrument-quality
 * pair is equally common (up to the remainder). Then, per recording: a
 * uniform root in `rootRange`; each note of the chord detuned by up to
 * `detuneCents`; onset in the first 10% and note end between 75% and 90% of
 * the recording; partial amplitudes jittered log-normally and with random
 * phases; partials at or above the Nyquist frequency left out (they would
 * alias); the sum scaled to peak 1 and then to a random gain; breath noise
 * under the envelope and white background noise added.
 *
 * Labels: `instrument`, `quality` (chord quality), `root`. Everything
 * else is nuisance.
 *
 * Shapes: `waves` `[count * samples]` (row-major `[count, samples]`), labels `[count]`.
 *
 * @example
 * const rec = data.syntheticRecordings({ count: 512, seed: 1 });
 * const waves = tf.tensor2d(rec.waves, [rec.count, rec.samples]); // [512, 8000]
 */
export function syntheticRecordings(options: SyntheticRecordingsOptions): SyntheticRecordings {
  const fn = "syntheticRecordings";
  checkOptions(fn, options, "{count, seed, sampleRate?, duration?, rootRange?, detuneCents?, gainDb?, noise?, partialJitter?}");
  const { count, seed } = options;
  checkPositiveInteger(fn, "options.count", count);
  checkInteger(fn, "options.seed", seed);
  const sampleRate = options.sampleRate ?? 8000;
  const duration = options.duration ?? 1;
  checkPositiveNumber(fn, "options.sampleRate", sampleRate);
  checkPositiveNumber(fn, "options.duration", duration);
  const samples = Math.round(sampleRate * duration);
  if (samples < 16) throw new Error(`${fn}: options.sampleRate * options.duration must give at least 16 samples, got ${samples}`);
  const rootRange = options.rootRange ?? [57, 69];
  if (!Array.isArray(rootRange) || rootRange.length !== 2 || !rootRange.every(Number.isInteger) || rootRange[0] > rootRange[1]) {
    throw new Error(`${fn}: options.rootRange must be two integers [lowest, highest] with lowest <= highest, got ${describe(rootRange)}`);
  }
  if (rootRange[0] < 0 || midiToHz(rootRange[1] + 7) >= sampleRate / 2) {
    throw new Error(`${fn}: options.rootRange must lie in [0, 127] with every chord note below the Nyquist frequency ${sampleRate / 2} Hz, got ${describe(rootRange)}`);
  }
  const detuneCents = options.detuneCents ?? 15;
  checkNonNegativeNumber(fn, "options.detuneCents", detuneCents);
  const gainDb = options.gainDb ?? [-12, 0];
  if (!Array.isArray(gainDb) || gainDb.length !== 2 || !gainDb.every(Number.isFinite) || gainDb[0] > gainDb[1] || gainDb[1] > 0) {
    throw new Error(`${fn}: options.gainDb must be two numbers [low, high] with low <= high <= 0, got ${describe(gainDb)}`);
  }
  const noise = options.noise ?? 0.01;
  checkNonNegativeNumber(fn, "options.noise", noise);
  const partialJitter = options.partialJitter ?? 0.2;
  checkNonNegativeNumber(fn, "options.partialJitter", partialJitter);

  const rng = createRng(seed);
  const nI = INSTRUMENTS.length;
  const nQ = CHORD_QUALITIES.length;
  const order = rng.permutation(count);
  const instrument = new Int32Array(count);
  const quality = new Int32Array(count);
  order.forEach((slot, i) => {
    instrument[slot] = i % nI;
    quality[slot] = Math.floor(i / nI) % nQ;
  });
  const root = new Int32Array(count);
  const notes: number[][] = [];
  const waves = new Float32Array(count * samples);
  const buffer = new Float64Array(samples);
  for (let r = 0; r < count; r++) {
    root[r] = rootRange[0] + rng.int(rootRange[1] - rootRange[0] + 1);
    const freqs = CHORD_QUALITIES[quality[r]].intervals.map((semi) => midiToHz(root[r] + semi) * 2 ** (((2 * rng.next() - 1) * detuneCents) / 1200));
    notes.push(freqs);
    renderRecording(buffer, INSTRUMENTS[instrument[r]], freqs, sampleRate, rng, partialJitter);
    const gain = 10 ** ((gainDb[0] + rng.next() * (gainDb[1] - gainDb[0])) / 20);
    const offset = r * samples;
    for (let t = 0; t < samples; t++) waves[offset + t] = buffer[t] * gain + noise * rng.normal();
  }
  return {
    waves, count, samples, sampleRate, instrument, quality, root, notes,
    instrumentNames: INSTRUMENTS.map((s) => s.name),
    qualityNames: CHORD_QUALITIES.map((q) => q.name),
  };
}

/** The envelope of `spec` at time `t` for a note from `onset` to `end` (seconds), before the per-partial pluck damping. */
function envelope(spec: InstrumentSpec, t: number, onset: number, end: number): number {
  if (t < onset) return 0;
  const since = t - onset;
  const held = (s: number): number => {
    if (s < spec.attack) return s / spec.attack;
    if (spec.pluckDecay !== undefined) return 1;
    if (s < spec.attack + spec.decay) return 1 - ((1 - spec.sustain) * (s - spec.attack)) / spec.decay;
    return spec.sustain;
  };
  if (t < end) return held(since);
  const released = (t - end) / spec.release;
  return released >= 1 ? 0 : held(end - onset) * (1 - released);
}

/** Writes one recording, peak-normalised to 1, into `out` (float64 `[samples]`). */
function renderRecording(out: Float64Array, spec: InstrumentSpec, freqs: number[], sampleRate: number, rng: Rng, partialJitter: number): void {
  const samples = out.length;
  const duration = samples / sampleRate;
  const onset = rng.next() * 0.1 * duration;
  const end = (0.75 + rng.next() * 0.15) * duration;
  out.fill(0);
  const env = Float64Array.from({ length: samples }, (_, t) => envelope(spec, t / sampleRate, onset, end));
  for (const f0 of freqs) {
    spec.partials.forEach((amplitude, i) => {
      const k = i + 1;
      const frequency = k * f0;
      if (amplitude === 0 || frequency >= sampleRate / 2) return;
      const a = amplitude * Math.exp(partialJitter * rng.normal());
      // Plucked strings lose their high partials first.
      const damping = spec.pluckDecay === undefined ? 0 : (1 + 0.5 * (k - 1)) / spec.pluckDecay;
      // A rotating phasor (c, s): one complex multiplication per sample instead of a sine.
      const step = (2 * Math.PI * frequency) / sampleRate;
      const cr = Math.cos(step), sr = Math.sin(step);
      const phase = 2 * Math.PI * rng.next();
      let c = Math.cos(phase), s = Math.sin(phase);
      const startSample = Math.floor(onset * sampleRate);
      for (let t = 0; t < samples; t++) {
        if (t >= startSample && env[t] > 0) {
          const decay = damping === 0 ? 1 : Math.exp(-damping * (t / sampleRate - onset));
          out[t] += a * env[t] * decay * s;
        }
        const nc = c * cr - s * sr;
        s = s * cr + c * sr;
        c = nc;
      }
    });
  }
  let peak = 0;
  for (let t = 0; t < samples; t++) peak = Math.max(peak, Math.abs(out[t]));
  if (spec.breath > 0) for (let t = 0; t < samples; t++) out[t] += (spec.breath * peak * env[t]) * rng.normal();
  peak = 0;
  for (let t = 0; t < samples; t++) peak = Math.max(peak, Math.abs(out[t]));
  if (peak > 0) for (let t = 0; t < samples; t++) out[t] /= peak;
}
