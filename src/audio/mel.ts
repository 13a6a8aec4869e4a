/**
 * The mel scale and a triangular mel filter bank, as in HTK (Young et al.,
 * "The HTK Book") and `tf.signal.linearToMelWeightMatrix`: mel(f) =
 * 2595 log10(1 + f / 700), triangles of height 1 (not the Slaney / librosa
 * variant, which is linear below 1 kHz and scales each triangle to unit area).
 */
import { tf } from "../backend/tf";
import { checkNonNegativeNumber, checkOptions, checkPositiveInteger, checkPositiveNumber } from "../validation/arguments";

/**
 * Hertz to mel on the HTK scale: `2595 log10(1 + hz / 700)`. Roughly linear
 * below 1 kHz and logarithmic above, as pitch is heard.
 *
 * @example
 * hzToMel(1000); // 999.99 (the scale is built so that 1 kHz is about 1000 mel)
 */
export function hzToMel(hz: number): number {
  checkNonNegativeNumber("hzToMel", "hz", hz);
  return 2595 * Math.log10(1 + hz / 700);
}

/**
 * Mel to hertz, the inverse of {@link hzToMel}: `700 (10^(mel / 2595) - 1)`.
 *
 * @example
 * melToHz(hzToMel(440)); // 440
 */
export function melToHz(mel: number): number {
  checkNonNegativeNumber("melToHz", "mel", mel);
  return 700 * (10 ** (mel / 2595) - 1);
}

/** Options of {@link melFilterBank}. */
export interface MelFilterBankOptions {
  /** Sampling rate of the signal in Hz. */
  sampleRate: number;
  /** DFT size of the spectrogram; its bins are k * sampleRate / fftLength for k = 0..fftLength/2. */
  fftLength: number;
  /** Number of triangular filters. */
  melBins: number;
  /** Lowest edge in Hz; default 0. */
  fMin?: number;
  /** Highest edge in Hz, at most sampleRate / 2; default sampleRate / 2. */
  fMax?: number;
}

/**
 * The weights of a triangular mel filter bank as a float64 table, row k
 * (DFT bin at f_k = k sampleRate / fftLength), column m (filter): the
 * melBins + 2 edges are equally spaced in mel from mel(fMin) to mel(fMax),
 * filter m rises linearly *in mel* from edge m to 1 at edge m + 1 and falls
 * to 0 at edge m + 2. Between the first and the last centre, adjacent
 * triangles add up to exactly 1. A filter narrower than the bin spacing
 * may catch no bin at all: choose melBins and fftLength so it does not.
 *
 * Shapes: returns `[fftLength / 2 + 1][melBins]`.
 *
 * @example
 * const w = melFilterBankWeights({ sampleRate: 8000, fftLength: 256, melBins: 32 }); // 129 rows of 32
 */
export function melFilterBankWeights(options: MelFilterBankOptions): number[][] {
  const fn = "melFilterBank";
  checkOptions(fn, options, "{sampleRate, fftLength, melBins, fMin?, fMax?}");
  const { sampleRate, fftLength, melBins } = options;
  checkPositiveNumber(fn, "options.sampleRate", sampleRate);
  checkPositiveInteger(fn, "options.fftLength", fftLength);
  if (fftLength % 2 !== 0) throw new Error(`${fn}: options.fftLength must be even, got ${fftLength}`);
  checkPositiveInteger(fn, "options.melBins", melBins);
  const fMin = options.fMin ?? 0;
  const fMax = options.fMax ?? sampleRate / 2;
  checkNonNegativeNumber(fn, "options.fMin", fMin);
  checkPositiveNumber(fn, "options.fMax", fMax);
  if (fMax > sampleRate / 2) throw new Error(`${fn}: options.fMax must be at most sampleRate / 2 = ${sampleRate / 2}, got ${fMax}`);
  if (fMin >= fMax) throw new Error(`${fn}: options.fMin must be below options.fMax = ${fMax}, got ${fMin}`);
  const lowMel = hzToMel(fMin);
  const highMel = hzToMel(fMax);
  const edges = Array.from({ length: melBins + 2 }, (_, i) => lowMel + ((highMel - lowMel) * i) / (melBins + 1));
  const bins = fftLength / 2 + 1;
  return Array.from({ length: bins }, (_, k) => {
    const mel = hzToMel((k * sampleRate) / fftLength);
    return Array.from({ length: melBins }, (_, m) => {
      const [lower, centre, upper] = [edges[m], edges[m + 1], edges[m + 2]];
      return Math.max(0, Math.min((mel - lower) / (centre - lower), (upper - mel) / (upper - centre)));
    });
  });
}

/**
 * {@link melFilterBankWeights} as a float32 matrix: a magnitude spectrogram
 * `[..., bins]` times it is a mel spectrogram `[..., melBins]`. HTK mel
 * scale, triangles of height 1.
 *
 * Shapes: returns `[fftLength / 2 + 1, melBins]`.
 *
 * @example
 * const bank = melFilterBank({ sampleRate: 8000, fftLength: 256, melBins: 32, fMin: 60, fMax: 4000 }); // [129, 32]
 */
export function melFilterBank(options: MelFilterBankOptions): tf.Tensor2D {
  return tf.tensor2d(melFilterBankWeights(options));
}
