/**
 * A researcher's own recordings: WAV files (RIFF, integer PCM or float, as
 * node-wav decodes them) in the ImageFolder layout, into equal-length mono
 * waves `[count, samples]` at one sample rate, the input of the workbook's
 * audio front end (`audio.logMelSpectrogram`) and the shape of
 * `syntheticRecordings`.
 */
import * as fs from "fs";
import * as path from "path";
import * as wav from "node-wav";
import { decodeListing, itemFileName, listFolder, normalizeExtensions, prepareFolders, type SkippedFile } from "./folder_layout";
import { checkOptions, checkPositiveInteger, checkPositiveNumber, describe } from "../../validation/arguments";

/** Options of {@link readWavFolder}. */
export interface ReadWavFolderOptions {
  /** Sample rate in Hz to bring every file to (linear interpolation); default: keep the files' rate, which must then be the same for all. */
  sampleRate?: number;
  /** Length in seconds of every recording: zeros added at the end or the end cut off; default: keep the length, which must then be the same for all. */
  seconds?: number;
  /** File extensions read, case-insensitive; default `[".wav"]`. */
  extensions?: readonly string[];
  /** Read at most this many files per class (the first in sorted order that decode); default all. */
  limitPerClass?: number;
}

/** Recordings read from a folder, laid out as `syntheticRecordings` lays them out. */
export interface WavFolderSet {
  /** `[count * samples]`, recording i at `[i * samples, (i + 1) * samples)`; mono, values in [-1, 1]. */
  readonly waves: Float32Array;
  /** Recordings. */
  readonly count: number;
  /** Samples per recording. */
  readonly samples: number;
  /** Samples per second. */
  readonly sampleRate: number;
  /** `[count]` class ids into `classNames`; all -1 when unlabelled. */
  readonly labels: Int32Array;
  /** Class folder names, sorted; empty when unlabelled. */
  readonly classNames: string[];
  /** `[count]` path of each recording. */
  readonly files: string[];
  /** `[count]` length of each file before padding or trimming, in seconds. */
  readonly durations: Float64Array;
  /** False for a folder without class folders. */
  readonly labelled: boolean;
  /** Files not read: another extension, hidden, or not decodable (with the decoder's message). */
  readonly skipped: SkippedFile[];
}

/** Recordings to write: `syntheticRecordings`' layout, labels optional. */
export interface WavRecordings {
  /** `[count * samples]` values in [-1, 1]. */
  readonly waves: Float32Array;
  readonly count: number;
  readonly samples: number;
  readonly sampleRate: number;
  /** `[count]` class ids, or all -1; default all -1 (files in the root). */
  readonly labels?: ArrayLike<number>;
  /** Folder name of each class id, sorted; default the ids zero-padded. */
  readonly classNames?: readonly string[];
}

interface DecodedWave {
  readonly mono: Float32Array;
  readonly sampleRate: number;
}

/** Decodes a WAV file and averages its channels. */
function decodeWave(file: string): DecodedWave {
  const bytes = fs.readFileSync(file);
  // node-wav reads from byte 0 of the ArrayBuffer it is given, so hand it one of its own.
  const decoded = wav.decode(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  if (decoded === undefined) throw new Error("no data chunk");
  const channels = decoded.channelData;
  if (channels.length === 0 || channels[0].length === 0) throw new Error("no samples");
  const mono = new Float32Array(channels[0].length);
  for (let i = 0; i < mono.length; i++) {
    let sum = 0;
    for (const channel of channels) sum += channel[i];
    mono[i] = sum / channels.length;
  }
  return { mono, sampleRate: decoded.sampleRate };
}

/**
 * A wave brought from rate `from` to rate `to` by linear interpolation:
 * output sample j is the input at time j / to, between its two neighbours
 * (the last input sample held past the end). Length `round(length * to / from)`.
 * No low-pass filter: going down in rate aliases what lies above the new
 * Nyquist frequency.
 *
 * Shapes: `[length]` -> `[round(length * to / from)]`.
 *
 * @example
 * resampleLinear(new Float32Array([0, 1]), 1, 2); // [0, 0.5, 1, 1]
 */
export function resampleLinear(wave: Float32Array, from: number, to: number): Float32Array {
  const fn = "resampleLinear";
  if (!(wave instanceof Float32Array) || wave.length === 0) throw new Error(`${fn}: wave must be a non-empty Float32Array, got ${describe(wave)}`);
  checkPositiveNumber(fn, "from", from);
  checkPositiveNumber(fn, "to", to);
  const out = new Float32Array(Math.max(1, Math.round((wave.length * to) / from)));
  const last = wave.length - 1;
  for (let j = 0; j < out.length; j++) {
    const t = Math.min((j * from) / to, last);
    const i = Math.floor(t);
    const next = Math.min(i + 1, last);
    out[j] = wave[i] + (wave[next] - wave[i]) * (t - i);
  }
  return out;
}

/**
 * Reads WAV files in the ImageFolder layout (`root/<class>/<file>.wav`,
 * label = index of the sorted class folder name; or files directly in
 * `root`, labels -1) into equal-length mono waves. Channels are averaged
 * (an equal mix); integer PCM is scaled into [-1, 1] as node-wav does
 * (negative values by 2^(bits-1), positive by 2^(bits-1) - 1).
 *
 * Files with different sample rates are an error naming two of them unless
 * `sampleRate` is given, when every file is resampled to it
 * ({@link resampleLinear}: linear, no anti-alias filter). Files of
 * different lengths are an error naming two of them unless `seconds` is
 * given, when each is padded with zeros or cut at the end to
 * `round(seconds * sampleRate)` samples.
 *
 * Skipped and listed: other extensions, hidden files, undecodable files
 * (not RIFF/WAVE, compressed formats). Errors: `root` missing; a class
 * folder with no WAV file (named); no WAV file.
 *
 * Shapes: `waves` `[count * samples]` (row-major `[count, samples]`), `labels` `[count]`.
 *
 * @example
 * const birds = readWavFolder("birdsong", { sampleRate: 8000, seconds: 1 });
 * const logMel = audio.logMelSpectrogram(tf.tensor2d(birds.waves, [birds.count, birds.samples]), { sampleRate: 8000, frameLength: 256, frameStep: 128, melBins: 32 });
 */
export function readWavFolder(root: string, options: ReadWavFolderOptions = {}): WavFolderSet {
  const fn = "readWavFolder";
  checkOptions(fn, options, "{sampleRate?, seconds?, extensions?, limitPerClass?}");
  const { sampleRate, seconds, limitPerClass } = options;
  if (sampleRate !== undefined) checkPositiveInteger(fn, "options.sampleRate", sampleRate);
  if (seconds !== undefined) checkPositiveNumber(fn, "options.seconds", seconds);
  if (limitPerClass !== undefined) checkPositiveInteger(fn, "options.limitPerClass", limitPerClass);
  const listing = listFolder(fn, root, normalizeExtensions(fn, options.extensions ?? [".wav"]));
  const { items: decoded, files, labels, skipped } = decodeListing(listing, decodeWave, "not decodable", limitPerClass);
  if (decoded.length === 0) throw new Error(`${fn}: root ${JSON.stringify(root)} holds no decodable WAV file`);
  listing.classNames.forEach((name, c) => {
    if (!labels.includes(c)) throw new Error(`${fn}: class folder ${JSON.stringify(path.join(root, name))} holds no decodable WAV file (see the files it skipped)`);
  });
  if (sampleRate === undefined) {
    const other = decoded.findIndex((d) => d.sampleRate !== decoded[0].sampleRate);
    if (other >= 0) {
      throw new Error(
        `${fn}: files must share one sample rate unless options.sampleRate is given, got ${decoded[0].sampleRate} Hz ` +
          `for ${files[0]} and ${decoded[other].sampleRate} Hz for ${files[other]}`,
      );
    }
  }
  const rate = sampleRate ?? decoded[0].sampleRate;
  const waves = decoded.map((d) => (d.sampleRate === rate ? d.mono : resampleLinear(d.mono, d.sampleRate, rate)));
  if (seconds === undefined) {
    const other = waves.findIndex((w) => w.length !== waves[0].length);
    if (other >= 0) {
      throw new Error(
        `${fn}: files must have one length unless options.seconds is given, got ${waves[0].length} samples ` +
          `for ${files[0]} and ${waves[other].length} for ${files[other]} (at ${rate} Hz)`,
      );
    }
  }
  const samples = seconds === undefined ? waves[0].length : Math.round(seconds * rate);
  if (samples < 1) throw new Error(`${fn}: options.seconds must give at least one sample at ${rate} Hz, got ${seconds}`);
  const out = new Float32Array(waves.length * samples);
  waves.forEach((w, i) => out.set(w.length > samples ? w.subarray(0, samples) : w, i * samples));
  return {
    waves: out,
    count: waves.length,
    samples,
    sampleRate: rate,
    labels: Int32Array.from(labels),
    classNames: listing.classNames.slice(),
    files,
    durations: Float64Array.from(decoded, (d) => d.mono.length / d.sampleRate),
    labelled: listing.labelled,
    skipped,
  };
}

/**
 * Writes recordings as mono 16-bit PCM WAV files in the ImageFolder layout:
 * recording i goes to `root/<classNames[label]>/<i>.wav` (i zero-padded), or
 * to `root/<i>.wav` without labels. Samples are scaled by 32768 (negative)
 * or 32767 (positive) and truncated toward zero by node-wav, so
 * {@link readWavFolder} gives each sample back within 1/32767.
 * A class with no item gets no folder, so reading back then numbers only
 * the classes present.
 *
 * Errors: `root` exists and is not empty; a sample outside [-1, 1] or not
 * finite (named; nothing is clipped); labels mixing -1 and class ids; class
 * names not sorted folder names.
 *
 * Shapes: `recordings.waves` `[count * samples]`.
 *
 * @example
 * writeWavFolder("chords", { ...rec, labels: rec.quality, classNames: rec.qualityNames.map((q, i) => `${i}_${q}`) });
 */
export function writeWavFolder(root: string, recordings: WavRecordings): void {
  const fn = "writeWavFolder";
  checkOptions(fn, recordings, "{waves, count, samples, sampleRate, labels?, classNames?}");
  const { waves, count, samples, sampleRate } = recordings;
  checkPositiveInteger(fn, "recordings.count", count);
  checkPositiveInteger(fn, "recordings.samples", samples);
  checkPositiveInteger(fn, "recordings.sampleRate", sampleRate);
  if (!(waves instanceof Float32Array) || waves.length !== count * samples) {
    throw new Error(`${fn}: recordings.waves must be a Float32Array of length count*samples = ${count * samples}, got ${describe(waves)}`);
  }
  for (let i = 0; i < waves.length; i++) {
    if (!(waves[i] >= -1 && waves[i] <= 1)) {
      throw new Error(`${fn}: recordings.waves must be in [-1, 1], got ${describe(waves[i])} in recording ${Math.floor(i / samples)} at sample ${i % samples}`);
    }
  }
  const labels = recordings.labels ?? new Int32Array(count).fill(-1);
  if (labels.length !== count) throw new Error(`${fn}: recordings.labels must have length ${count}, got ${labels.length}`);
  const dirs = prepareFolders(fn, root, labels, recordings.classNames);
  for (let i = 0; i < count; i++) {
    const encoded = wav.encode([waves.slice(i * samples, (i + 1) * samples)], { sampleRate, bitDepth: 16 });
    fs.writeFileSync(path.join(dirs[i], itemFileName(i, count, ".wav")), encoded);
  }
}
