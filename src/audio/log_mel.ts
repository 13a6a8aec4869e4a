/**
 * The front end of every audio model in the workbook: log-mel spectrograms,
 * and the per-bin statistics that are the baseline an audio encoder must beat.
 */
import { tf } from "../backend/tf";
import { melFilterBank } from "./mel";
import { stftPowerTimes } from "./stft";
import { checkOptions, checkPositiveNumber, checkRank, describe } from "../validation/arguments";

/** Options of {@link logMelSpectrogram}. */
export interface LogMelOptions {
  /** Sampling rate of the waves in Hz. */
  sampleRate: number;
  /** Samples per STFT frame. */
  frameLength: number;
  /** Samples between frame starts. */
  frameStep: number;
  /** DFT size, >= frameLength; default frameLength. */
  fftLength?: number;
  /** Mel filters. */
  melBins: number;
  /** Lowest filter edge in Hz; default 0. */
  fMin?: number;
  /** Highest filter edge in Hz; default sampleRate / 2. */
  fMax?: number;
  /** Added to the mel energies before the log, so silence stays finite; default 1e-6. */
  epsilon?: number;
}

/**
 * Log-mel spectrogram: `log(|STFT|^2 M + epsilon)`, the power spectrum
 * ({@link stftPowerTimes}: periodic Hann window, whole frames) through the
 * HTK mel filter bank M ({@link melFilterBank}), in natural-log units of power.
 * The input of COLA (Saeed et al. 2021) and of most audio encoders.
 *
 * Shapes: `waves` `[count, samples]` float32 -> `[count, frames, melBins]`,
 * frames = `1 + floor((samples - frameLength) / frameStep)`.
 *
 * @example
 * const logMel = audio.logMelSpectrogram(waves, { sampleRate: 8000, frameLength: 256, frameStep: 128, melBins: 32, fMin: 60, fMax: 4000 });
 */
export function logMelSpectrogram(waves: tf.Tensor2D, options: LogMelOptions): tf.Tensor3D {
  const fn = "logMelSpectrogram";
  checkRank(fn, "waves", waves, 2, "float32");
  checkOptions(fn, options, "{sampleRate, frameLength, frameStep, fftLength?, melBins, fMin?, fMax?, epsilon?}");
  const epsilon = options.epsilon ?? 1e-6;
  checkPositiveNumber(fn, "options.epsilon", epsilon);
  const fftLength = options.fftLength ?? options.frameLength;
  const bank = melFilterBank({ sampleRate: options.sampleRate, fftLength, melBins: options.melBins, fMin: options.fMin, fMax: options.fMax });
  try {
    const melPower = stftPowerTimes(waves, { frameLength: options.frameLength, frameStep: options.frameStep, fftLength }, bank);
    return tf.tidy(() => {
      const logMel = tf.log(tf.add(melPower, epsilon)) as tf.Tensor3D;
      melPower.dispose();
      return logMel;
    });
  } finally {
    bank.dispose();
  }
}

/**
 * Per-recording summary of a log-mel spectrogram: the mean and the standard
 * deviation (population) of every mel bin over time, concatenated. A
 * bag-of-frames baseline: it keeps the average spectrum (timbre, pitch
 * region) and how much each band moves, and drops the order of frames.
 *
 * Shapes: `logMel` `[count, frames, melBins]` -> `[count, 2 * melBins]`
 * (means first).
 *
 * @example
 * const stats = audio.logMelStatistics(logMel); // [count, 64] for 32 mel bins
 */
export function logMelStatistics(logMel: tf.Tensor3D): tf.Tensor2D {
  const fn = "logMelStatistics";
  checkRank(fn, "logMel", logMel, 3, "float32");
  if (logMel.shape[1] < 1) throw new Error(`${fn}: logMel must have at least one frame, got ${describe(logMel)}`);
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(logMel, 1);
    return tf.concat([mean, tf.sqrt(variance)], 1) as tf.Tensor2D;
  });
}
