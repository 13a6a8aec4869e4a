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
 * computed with frames x DFT matrices ({@link dftMatrices}, folded when there
 * is no zero padding: {@link powerParts}) because `tf.signal.stft` has no
 * complex kernels on the wasm backend.
 *
 * Shapes: `waves` `[count, samples]` float32 -> `[count, frames, fftLength / 2 + 1]`.
 *
 * @example
 * const mag = stftMagnitude(waves, { frameLength: 256, frameStep: 128 }); // [count, 61, 129] for 8000 samples
 */
export function stftMagnitude(waves: tf.Tensor2D, options: StftOptions): tf.Tensor3D {
  return mapFrames("stftMagnitude", waves, options, ({ bins, partBins }) => {
    // Column of the concatenated parts that holds each bin, when the parts are not bins 0..bins-1 in order.
    const columns = partBins.flatMap((part) => Array.from(part));
    const inOrder = columns.length === bins && columns.every((bin, j) => bin === j);
    const order = Int32Array.from({ length: bins }, (_, bin) => columns.indexOf(bin));
    return (powers) => {
      const power = powers.length === 1 ? powers[0] : tf.concat(powers, 1);
      return tf.sqrt(inOrder ? power : tf.gather(power, order, 1)) as tf.Tensor2D;
    };
  });
}

/**
 * The STFT power spectrum of each signal (`|X_t[k]|^2`, {@link stftMagnitude}
 * squared) times a matrix `bank` `[bins, k]`: `|X|^2 bank`, for a filter bank
 * such as the mel bank. The magnitude's square root and its square again are
 * never computed: the power goes straight into the product with `bank`, one
 * product per part of the spectrum ({@link powerParts}) with that part's rows
 * of `bank`.
 *
 * Shapes: `waves` `[count, samples]` float32, `bank` `[fftLength / 2 + 1, k]` -> `[count, frames, k]`.
 *
 * @example
 * const melPower = stftPowerTimes(waves, { frameLength: 256, frameStep: 128 }, melBank); // [count, 61, 32]
 */
export function stftPowerTimes(waves: tf.Tensor2D, options: StftOptions, bank: tf.Tensor2D): tf.Tensor3D {
  let bankParts: tf.Tensor2D[] = [];
  try {
    return mapFrames("stftPowerTimes", waves, options, ({ bins, partBins }) => {
      if (!(bank instanceof tf.Tensor) || bank.rank !== 2 || bank.shape[0] !== bins || bank.dtype !== "float32") {
        throw new Error(`stftPowerTimes: bank must be a float32 tf.Tensor2D [${bins}, k] (fftLength / 2 + 1 rows), got ${describe(bank)}`);
      }
      // Each part's rows of the bank; a column that repeats a bin (-1) gets a row of zeros.
      bankParts = partBins.map((part) => tf.tidy(() => {
        const rows = tf.gather(bank, Int32Array.from(part, (bin) => Math.max(bin, 0)));
        return tf.mul(rows, tf.tensor2d(Float32Array.from(part, (bin) => (bin < 0 ? 0 : 1)), [part.length, 1])) as tf.Tensor2D;
      }));
      return (powers) => powers.map((power, i) => tf.matMul(power, bankParts[i])).reduce((sum, term) => tf.add(sum, term)) as tf.Tensor2D;
    });
  } finally {
    tf.dispose(bankParts);
  }
}

/** Which samples of each frame to gather, and how they become power spectra: see {@link powerParts}. */
interface PowerParts {
  /** Offsets within a frame, one list per gathered tensor `[frames, offsets[i].length]`. */
  offsets: Int32Array[];
  /** Per part, the DFT bin of each column of its power; -1 where the column repeats a bin of an earlier part. */
  partBins: Int32Array[];
  /** The gathered tensors -> each part's power `|X[k]|^2` `[frames, partBins[i].length]`. */
  power: (framed: tf.Tensor2D[]) => tf.Tensor2D[];
  dispose: () => void;
}

/**
 * Each frame's windowed power spectrum `|X[k]|^2`, k = 0..fftLength/2, for
 * {@link mapFrames}, in parts that together hold every bin once.
 *
 * With zero padding (`fftLength > frameLength`) one part: the whole frame
 * times {@link dftMatrices}. Without it the DFT is folded. The basis is
 * symmetric, cos(2 pi k (N - n) / N) = cos(2 pi k n / N) and
 * sin(...) = -sin(...), and so is the periodic Hann window, w[N - n] = w[n],
 * which is 0 at n = 0; so with u[n] = x[n] + x[N - n] and
 * v[n] = x[n] - x[N - n] for n = 1..N/2 (N = frameLength),
 *
 *   re_k = sum_n c_n w[n] cos(2 pi k n / N) u[n],  im_k = -sum_n w[n] sin(2 pi k n / N) v[n],
 *
 * with c_n = 1/2 at n = N/2 (where u counts x[N/2] twice) and 1 below it:
 * rows n = 1..N/2 instead of 0..N-1, half the multiply-adds.
 *
 * When N is a multiple of 4 the bins fold too: cos(2 pi (N/2 - k) n / N) =
 * (-1)^n cos(2 pi k n / N) and sin(2 pi (N/2 - k) n / N) = -(-1)^n sin(...).
 * Splitting each sum into even n (E) and odd n (O), for k = 0..N/4,
 *
 *   re_k = E_k + O_k,  re_{N/2-k} = E_k - O_k,  im_k = Es_k + Os_k,  im_{N/2-k} = Os_k - Es_k,
 *
 * four products of N/4 rows by N/4 + 1 columns, half the multiply-adds
 * again: one part for bins 0..N/4, one for bins N/2 down to N/4 (repeated,
 * so marked -1).
 */
function powerParts(frameLength: number, fftLength: number): PowerParts {
  const powerOf = (re: tf.Tensor2D, im: tf.Tensor2D): tf.Tensor2D => tf.add(tf.square(re), tf.square(im));
  if (fftLength !== frameLength) {
    const { cos, sin } = dftMatrices(frameLength, fftLength);
    return {
      offsets: [Int32Array.from({ length: frameLength }, (_, n) => n)],
      partBins: [Int32Array.from({ length: fftLength / 2 + 1 }, (_, k) => k)],
      power: ([framed]) => [powerOf(tf.matMul(framed, cos), tf.matMul(framed, sin))],
      dispose: () => tf.dispose([cos, sin]),
    };
  }
  const half = frameLength / 2;
  // x[n] and x[N - n] for the given rows n.
  const frontBack = (rows: number[]): Int32Array[] => [Int32Array.from(rows), Int32Array.from(rows, (n) => frameLength - n)];
  if (frameLength % 4 !== 0) {
    const rows = Array.from({ length: half }, (_, i) => i + 1);
    const { cos, sin } = foldedDftMatrices(frameLength, rows, half + 1);
    return {
      offsets: frontBack(rows),
      partBins: [Int32Array.from({ length: half + 1 }, (_, k) => k)],
      power: ([front, back]) => [powerOf(tf.matMul(tf.add(front, back), cos), tf.matMul(tf.sub(front, back), sin))],
      dispose: () => tf.dispose([cos, sin]),
    };
  }
  const quarter = frameLength / 4;
  const evenRows = Array.from({ length: quarter }, (_, i) => 2 * i + 2);
  const oddRows = Array.from({ length: quarter }, (_, i) => 2 * i + 1);
  const even = foldedDftMatrices(frameLength, evenRows, quarter + 1);
  const odd = foldedDftMatrices(frameLength, oddRows, quarter + 1);
  return {
    offsets: [...frontBack(evenRows), ...frontBack(oddRows)],
    partBins: [
      Int32Array.from({ length: quarter + 1 }, (_, k) => k),
      Int32Array.from({ length: quarter + 1 }, (_, k) => (k === quarter ? -1 : half - k)),
    ],
    power: ([evenFront, evenBack, oddFront, oddBack]) => {
      const e = tf.matMul(tf.add(evenFront, evenBack), even.cos);
      const o = tf.matMul(tf.add(oddFront, oddBack), odd.cos);
      const es = tf.matMul(tf.sub(evenFront, evenBack), even.sin);
      const os = tf.matMul(tf.sub(oddFront, oddBack), odd.sin);
      return [powerOf(tf.add(e, o), tf.add(es, os)), powerOf(tf.sub(e, o), tf.sub(es, os))];
    },
    dispose: () => tf.dispose([even.cos, even.sin, odd.cos, odd.sin]),
  };
}

/**
 * The rows n of the windowed DFT matrices of {@link dftMatrices} (N =
 * frameLength = fftLength, even) that a folded DFT multiplies by `x[n] +-
 * x[N - n]` ({@link powerParts}), columns k = 0..columns-1; the cosine's row
 * N/2 halved. `[rows.length, columns]` each.
 */
function foldedDftMatrices(frameLength: number, rows: number[], columns: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const window = hannWindow(frameLength);
  const cos = new Float32Array(rows.length * columns);
  const sin = new Float32Array(rows.length * columns);
  rows.forEach((n, i) => {
    const weight = n === frameLength / 2 ? 0.5 : 1;
    for (let k = 0; k < columns; k++) {
      const angle = (2 * Math.PI * ((k * n) % frameLength)) / frameLength;
      cos[i * columns + k] = weight * window[n] * Math.cos(angle);
      sin[i * columns + k] = -window[n] * Math.sin(angle);
    }
  });
  return { cos: tf.tensor2d(cos, [rows.length, columns]), sin: tf.tensor2d(sin, [rows.length, columns]) };
}

/**
 * Checks `waves` and `options`, cuts every signal into whole frames, takes
 * each frame's power spectrum in parts ({@link powerParts}) and returns
 * `finish(powers)` `[.., width]` per signal as `[count, frames, width]`, in
 * passes of about `framesPerPass` frames. `prepare` runs after the checks,
 * with the checked sizes and the bins of each part, and returns `finish`.
 */
function mapFrames(
  fn: string,
  waves: tf.Tensor2D,
  options: StftOptions,
  prepare: (sizes: { frameLength: number; fftLength: number; bins: number; partBins: Int32Array[] }) => (powers: tf.Tensor2D[]) => tf.Tensor2D,
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
  const { offsets, partBins, power, dispose } = powerParts(frameLength, fftLength);
  const indexTensors: tf.Tensor1D[] = [];
  const parts: tf.Tensor3D[] = [];
  try {
    const finish = prepare({ frameLength, fftLength, bins: fftLength / 2 + 1, partBins });
    // Sample index of every (frame, offset): gathering it cuts all frames at once.
    for (const offset of offsets) {
      const index = new Int32Array(frames * offset.length);
      for (let t = 0; t < frames; t++) for (let n = 0; n < offset.length; n++) index[t * offset.length + n] = t * frameStep + offset[n];
      indexTensors.push(tf.tensor1d(index, "int32"));
    }
    // Whole signals per pass, as many as fit in framesPerPass frames (at least one).
    const signalsPerPass = Math.max(1, Math.floor(framesPerPass / frames));
    for (let start = 0; start < count; start += signalsPerPass) {
      const size = Math.min(signalsPerPass, count - start);
      parts.push(tf.tidy(() => {
        const chunk = count === size ? waves : tf.slice(waves, [start, 0], [size, samples]);
        const framed = indexTensors.map((index) => tf.reshape(tf.gather(chunk, index, 1), [size * frames, index.size / frames]) as tf.Tensor2D);
        return tf.reshape(finish(power(framed)), [size, frames, -1]) as tf.Tensor3D;
      }));
    }
    return parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor3D);
  } finally {
    if (parts.length > 1) tf.dispose(parts);
    dispose();
    tf.dispose(indexTensors);
  }
}
