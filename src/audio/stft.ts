/**
 * The short-time Fourier transform as two matrix products: cut the signal
 * into overlapping frames, window them, multiply by a cosine and a sine DFT
 * matrix. O(frameLength x bins) per frame instead of an FFT's
 * O(fftLength log fftLength), which is nothing at the frame lengths of this
 * workbook, and it runs on every backend: `tf.signal.stft` (through
 * `tf.spectral.rfft`) does not run on the wasm backend, where the workbook's
 * notebooks run (tfjs 4.22: "Kernel 'Complex' not registered for backend
 * 'wasm'").
 */
import { tf } from "../backend/tf";
import { checkOptions, checkPositiveInteger, checkRank, describe } from "../validation/arguments";

/** Options of {@link stftMagnitude}. */
export interface StftOptions {
  /** Samples per frame (the window length). */
  frameLength: number;
  /** Samples between the starts of consecutive frames. */
  frameStep: number;
  /** DFT size, >= frameLength (the frame is zero-padded); default `frameLength`. */
  fftLength?: number;
  /** Frames per matrix product, to bound memory on long inputs; default 4096. */
  framesPerPass?: number;
}

/**
 * The periodic Hann window `w[n] = 0.5 - 0.5 cos(2 pi n / N)`, n = 0..N-1:
 * what `tf.signal.hannWindow(N)` returns for an even N (for an odd N it
 * returns the symmetric window, dividing by N - 1). Periodic windows with a
 * step of N/2 add up to a constant, so no part of the signal is weighed less.
 *
 * @example
 * hannWindow(4); // Float32Array [0, 0.5, 1, 0.5]
 */
export function hannWindow(length: number): Float32Array {
  checkPositiveInteger("hannWindow", "length", length);
  return Float32Array.from({ length }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / length));
}

/** Throws unless `fftLength` is an even integer >= `frameLength` (the real DFT's bins are 0..fftLength/2). */
function checkFftLength(fn: string, arg: string, fftLength: unknown, frameLength: number): void {
  if (!Number.isInteger(fftLength) || (fftLength as number) < frameLength || (fftLength as number) % 2 !== 0) {
    throw new Error(`${fn}: ${arg} must be an even integer >= frameLength = ${frameLength}, got ${describe(fftLength)}`);
  }
}

/**
 * Number of frames of a signal of `samples` samples: `1 + floor((samples -
 * frameLength) / frameStep)`, every frame whole (no padding at the end, as
 * `tf.signal.frame` with `padEnd = false`).
 *
 * @example
 * frameCount(8000, 256, 128); // 61
 */
export function frameCount(samples: number, frameLength: number, frameStep: number): number {
  const fn = "frameCount";
  checkPositiveInteger(fn, "frameLength", frameLength);
  checkPositiveInteger(fn, "frameStep", frameStep);
  if (!Number.isInteger(samples) || samples < frameLength) throw new Error(`${fn}: samples must be an integer >= frameLength = ${frameLength}, got ${describe(samples)}`);
  return 1 + Math.floor((samples - frameLength) / frameStep);
}

/**
 * The windowed real DFT as two matrices `[frameLength, bins]`, bins =
 * `fftLength / 2 + 1` (0 Hz to the Nyquist frequency):
 * `cos[n, k] = w[n] cos(2 pi k n / fftLength)` and `sin[n, k] = -w[n] sin(...)`,
 * so a frame x `[frameLength]` has spectrum `X[k] = (x cos)[k] + i (x sin)[k]`.
 * The Hann window is folded in. Angles are reduced modulo fftLength in
 * integers before the float64 cosine, so large k n lose no precision.
 *
 * @example
 * const { cos, sin } = dftMatrices(256, 256); // each [256, 129]
 */
export function dftMatrices(frameLength: number, fftLength: number = frameLength): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const fn = "dftMatrices";
  checkPositiveInteger(fn, "frameLength", frameLength);
  checkFftLength(fn, "fftLength", fftLength, frameLength);
  const bins = fftLength / 2 + 1;
  const window = hannWindow(frameLength);
  const cos = new Float32Array(frameLength * bins);
  const sin = new Float32Array(frameLength * bins);
  for (let n = 0; n < frameLength; n++) {
    for (let k = 0; k < bins; k++) {
      const angle = (2 * Math.PI * ((k * n) % fftLength)) / fftLength;
      cos[n * bins + k] = window[n] * Math.cos(angle);
      sin[n * bins + k] = -window[n] * Math.sin(angle);
    }
  }
  return { cos: tf.tensor2d(cos, [frameLength, bins]), sin: tf.tensor2d(sin, [frameLength, bins]) };
}

/**
 * Magnitude of the short-time Fourier transform of each signal, with a
 * periodic Hann window ({@link hannWindow}):
 *
 *   |X_t[k]| = | sum_n w[n] x[t * frameStep + n] exp(-2 pi i k n / fftLength) |,
 *
 * for frames t = 0..frames-1 ({@link frameCount}: whole frames only) and bins
 * k = 0..fftLength/2. Equal to `tf.abs(tf.signal.stft(x, frameLength,
 * frameStep, fftLength))` on the cpu backend for an even frameLength (tested);
 * computed with frames x DFT matrices ({@link dftMatrices}, folded in half
 * when there is no zero padding: {@link dftParts}) because
 * `tf.signal.stft` has no complex kernels on the wasm backend.
 *
 * Shapes: `waves` `[count, samples]` float32 -> `[count, frames, fftLength / 2 + 1]`.
 *
 * @example
 * const mag = stftMagnitude(waves, { frameLength: 256, frameStep: 128 }); // [count, 61, 129] for 8000 samples
 */
export function stftMagnitude(waves: tf.Tensor2D, options: StftOptions): tf.Tensor3D {
  return mapFrames("stftMagnitude", waves, options, () => (re, im) => tf.sqrt(tf.add(tf.square(re), tf.square(im))) as tf.Tensor2D);
}

/**
 * The STFT power spectrum of each signal (`|X_t[k]|^2`, {@link stftMagnitude}
 * squared) times a matrix `bank` `[bins, k]`: `|X|^2 bank`, for a filter bank
 * such as the mel bank. The magnitude's square root and its square again are
 * never computed: the power `re^2 + im^2` goes straight into the product
 * with `bank`.
 *
 * The DFT is folded in half when there is no zero padding ({@link dftParts}).
 *
 * Shapes: `waves` `[count, samples]` float32, `bank` `[fftLength / 2 + 1, k]` -> `[count, frames, k]`.
 *
 * @example
 * const melPower = stftPowerTimes(waves, { frameLength: 256, frameStep: 128 }, melBank); // [count, 61, 32]
 */
export function stftPowerTimes(waves: tf.Tensor2D, options: StftOptions, bank: tf.Tensor2D): tf.Tensor3D {
  return mapFrames("stftPowerTimes", waves, options, ({ bins }) => {
    if (!(bank instanceof tf.Tensor) || bank.rank !== 2 || bank.shape[0] !== bins || bank.dtype !== "float32") {
      throw new Error(`stftPowerTimes: bank must be a float32 tf.Tensor2D [${bins}, k] (fftLength / 2 + 1 rows), got ${describe(bank)}`);
    }
    return (re, im) => tf.matMul(tf.add(tf.square(re), tf.square(im)), bank) as tf.Tensor2D;
  });
}

/**
 * The real and imaginary parts of each frame's windowed DFT, for
 * {@link mapFrames}: which samples of a frame to gather (`offsets`), and
 * `realImag` of the gathered `[frames, offsets[i].length]` tensors ->
 * `[frames, bins]` twice.
 *
 * When `fftLength` is `frameLength` (no zero padding), the DFT is folded in
 * half. The basis is symmetric, cos(2 pi k (N - n) / N) = cos(2 pi k n / N)
 * and sin(...) = -sin(...), and so is the periodic Hann window,
 * w[N - n] = w[n], which is 0 at n = 0; so with u[n] = x[n] + x[N - n] and
 * v[n] = x[n] - x[N - n] for n = 1..N/2,
 *
 *   re_k = sum_n c_n w[n] cos(2 pi k n / N) u[n],  im_k = -sum_n w[n] sin(2 pi k n / N) v[n],
 *
 * with c_n = 1/2 at n = N/2 (where u counts x[N/2] twice) and 1 below it:
 * two products of N/2 rows instead of two of N rows, half the
 * multiply-adds. With zero padding the window is not symmetric about N/2
 * and the whole frame goes through {@link dftMatrices}.
 */
function dftParts(frameLength: number, fftLength: number): {
  offsets: Int32Array[];
  realImag: (framed: tf.Tensor2D[]) => [tf.Tensor2D, tf.Tensor2D];
  dispose: () => void;
} {
  if (fftLength !== frameLength) {
    const { cos, sin } = dftMatrices(frameLength, fftLength);
    return {
      offsets: [Int32Array.from({ length: frameLength }, (_, n) => n)],
      realImag: ([framed]) => [tf.matMul(framed, cos), tf.matMul(framed, sin)],
      dispose: () => tf.dispose([cos, sin]),
    };
  }
  const half = frameLength / 2;
  const { cos, sin } = foldedDftMatrices(frameLength);
  return {
    // x[n] and x[N - n] for n = 1..N/2.
    offsets: [Int32Array.from({ length: half }, (_, i) => i + 1), Int32Array.from({ length: half }, (_, i) => frameLength - i - 1)],
    realImag: ([front, back]) => [tf.matMul(tf.add(front, back), cos), tf.matMul(tf.sub(front, back), sin)],
    dispose: () => tf.dispose([cos, sin]),
  };
}

/**
 * The DFT matrices of {@link dftMatrices} (N = frameLength = fftLength, even)
 * folded onto rows n = 1..N/2 (row n - 1 here), the cosine's row N/2 halved;
 * row 0, where the Hann window is 0, left out. `[N/2, N/2 + 1]` each.
 */
function foldedDftMatrices(frameLength: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const half = frameLength / 2;
  const bins = half + 1;
  const window = hannWindow(frameLength);
  const cos = new Float32Array(half * bins);
  const sin = new Float32Array(half * bins);
  for (let n = 1; n <= half; n++) {
    const weight = n === half ? 0.5 : 1;
    for (let k = 0; k < bins; k++) {
      const angle = (2 * Math.PI * ((k * n) % frameLength)) / frameLength;
      cos[(n - 1) * bins + k] = weight * window[n] * Math.cos(angle);
      sin[(n - 1) * bins + k] = -window[n] * Math.sin(angle);
    }
  }
  return { cos: tf.tensor2d(cos, [half, bins]), sin: tf.tensor2d(sin, [half, bins]) };
}

/**
 * Checks `waves` and `options`, cuts every signal into whole frames, takes
 * each frame's windowed DFT ({@link dftParts}) and returns
 * `finish(re, im)` `[.., width]` per signal as `[count, frames, width]`, in
 * passes of about `framesPerPass` frames. `prepare` runs after the checks,
 * with the checked sizes, and returns `finish`.
 */
function mapFrames(
  fn: string,
  waves: tf.Tensor2D,
  options: StftOptions,
  prepare: (sizes: { frameLength: number; fftLength: number; bins: number }) => (re: tf.Tensor2D, im: tf.Tensor2D) => tf.Tensor2D,
): tf.Tensor3D {
  checkRank(fn, "waves", waves, 2, "float32");
  checkOptions(fn, options, "{frameLength, frameStep, fftLength?, framesPerPass?}");
  const { frameLength, frameStep } = options;
  const fftLength = options.fftLength ?? frameLength;
  const framesPerPass = options.framesPerPass ?? 4096;
  checkPositiveInteger(fn, "options.frameLength", frameLength);
  checkPositiveInteger(fn, "options.frameStep", frameStep);
  checkPositiveInteger(fn, "options.framesPerPass", framesPerPass);
  checkFftLength(fn, "options.fftLength", fftLength, frameLength);
  const [count, samples] = waves.shape;
  if (count < 1) throw new Error(`${fn}: waves must hold at least one signal, got ${describe(waves)}`);
  if (samples < frameLength) {
    throw new Error(`${fn}: waves must have at least options.frameLength = ${frameLength} samples, got ${describe(waves)}`);
  }
  const frames = frameCount(samples, frameLength, frameStep);
  const finish = prepare({ frameLength, fftLength, bins: fftLength / 2 + 1 });
  const { offsets, realImag, dispose } = dftParts(frameLength, fftLength);
  // Sample index of every (frame, offset): gathering it cuts all frames at once.
  const indexTensors = offsets.map((offset) => {
    const index = new Int32Array(frames * offset.length);
    for (let t = 0; t < frames; t++) for (let n = 0; n < offset.length; n++) index[t * offset.length + n] = t * frameStep + offset[n];
    return tf.tensor1d(index, "int32");
  });
  // Whole signals per pass, as many as fit in framesPerPass frames (at least one).
  const signalsPerPass = Math.max(1, Math.floor(framesPerPass / frames));
  const parts: tf.Tensor3D[] = [];
  try {
    for (let start = 0; start < count; start += signalsPerPass) {
      const size = Math.min(signalsPerPass, count - start);
      parts.push(tf.tidy(() => {
        const chunk = count === size ? waves : tf.slice(waves, [start, 0], [size, samples]);
        const framed = indexTensors.map((index) => tf.reshape(tf.gather(chunk, index, 1), [size * frames, index.size / frames]) as tf.Tensor2D);
        return tf.reshape(finish(...realImag(framed)), [size, frames, -1]) as tf.Tensor3D;
      }));
    }
    return parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor3D);
  } finally {
    if (parts.length > 1) tf.dispose(parts);
    dispose();
    tf.dispose(indexTensors);
  }
}
