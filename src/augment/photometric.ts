/**
 * Photometric augmentations for grey digits, per image: intensity jitter
 * (SimCLR's colour distortion reduced to the one channel MNIST has), Gaussian
 * blur and additive Gaussian pixel noise (Chen et al. 2020, SimCLR, Appendix A).
 * Each keeps values in [0, 1] by clipping where the op can leave that range.
 */
import { tf } from "../backend/tf";
import { createRng } from "../data/random";
import { type Augmentation, checkImages, checkInterval, uniform } from "./augmentation";
import { checkNonNegativeNumber, checkNumberInRange, checkProbability } from "../validation/arguments";

/** Options of {@link intensityJitter}. */
export interface IntensityJitterOptions {
  /** Brightness factor drawn from `[1 - brightness, 1 + brightness]`, in [0, 1]; default 0.4. */
  brightness?: number;
  /** Contrast factor drawn from `[1 - contrast, 1 + contrast]`, in [0, 1]; default 0.4. */
  contrast?: number;
}

/**
 * Brightness then contrast jitter, one factor pair per image, as torchvision's
 * `ColorJitter` does for a grey image: `x <- clip(b x)`, then
 * `x <- clip(c (x - mean) + mean)` with the image's mean over all pixels.
 * Multiplicative brightness keeps MNIST's black background black. Output in
 * [0, 1] (clipped after each step). `brightness: 0, contrast: 0` is the identity.
 *
 * Shapes: `[batch, height, width, channels]` -> the same.
 *
 * @example
 * const jittered = intensityJitter({ brightness: 0.4, contrast: 0.4 })(x, 7);
 */
export function intensityJitter(options: IntensityJitterOptions = {}): Augmentation {
  const fn = "intensityJitter";
  const brightness = options.brightness ?? 0.4;
  const contrast = options.contrast ?? 0.4;
  checkNumberInRange(fn, "options.brightness", brightness, 0, 1);
  checkNumberInRange(fn, "options.contrast", contrast, 0, 1);
  return (images, seed) => {
    checkImages(fn, images, seed);
    if (brightness === 0 && contrast === 0) return images.clone();
    const batch = images.shape[0];
    const rng = createRng(seed);
    const b = new Float32Array(batch);
    const c = new Float32Array(batch);
    for (let i = 0; i < batch; i++) {
      b[i] = uniform(rng.next, [1 - brightness, 1 + brightness]);
      c[i] = uniform(rng.next, [1 - contrast, 1 + contrast]);
    }
    return tf.tidy(() => {
      const bright = tf.clipByValue(tf.mul(images, tf.tensor4d(b, [batch, 1, 1, 1])), 0, 1);
      const mean = tf.mean(bright, [1, 2, 3], true);
      const out = tf.add(tf.mul(tf.sub(bright, mean), tf.tensor4d(c, [batch, 1, 1, 1])), mean);
      return tf.clipByValue(out, 0, 1) as tf.Tensor4D;
    });
  };
}

/** Options of {@link gaussianBlur}. */
export interface GaussianBlurOptions {
  /** Range of the blur's standard deviation in pixels, drawn uniformly per image; default `[0.1, 1]`. */
  sigma?: readonly [number, number];
  /** Probability that an image is blurred; default 0.5 (SimCLR). */
  p?: number;
  /** Odd kernel width; default `2 ceil(3 sigma_max) + 1` (at least 1). */
  kernelSize?: number;
}

/**
 * The normalised 1-D Gaussian kernels {@link gaussianBlur} applies, one row
 * per sigma (sigma 0: the identity kernel `[..., 0, 1, 0, ...]`).
 *
 * Shapes: `sigmas` `[batch]` -> `[batch * kernelSize]` (row-major `[batch, kernelSize]`).
 *
 * @example
 * const k = gaussianKernels([0.5, 1], 7);
 */
export function gaussianKernels(sigmas: ArrayLike<number>, kernelSize: number): Float32Array {
  const radius = (kernelSize - 1) / 2;
  const out = new Float32Array(sigmas.length * kernelSize);
  for (let i = 0; i < sigmas.length; i++) {
    const row = new Float64Array(kernelSize);
    if (sigmas[i] === 0) {
      row[radius] = 1;
    } else {
      for (let k = 0; k < kernelSize; k++) row[k] = Math.exp(-((k - radius) ** 2) / (2 * sigmas[i] ** 2));
    }
    const sum = row.reduce((a, v) => a + v, 0);
    for (let k = 0; k < kernelSize; k++) out[i * kernelSize + k] = row[k] / sum;
  }
  return out;
}

/**
 * Gaussian blur with a sigma per image (applied with probability `p`), as two
 * separable depthwise convolutions over the batch moved into the channel axis
 * (one conv call for all images, each with its own kernel). Zero padding at
 * the border: the MNIST background. Weights are non-negative and sum to 1, so
 * values stay in the input's range. `p: 0` or `sigma: [0, 0]` is the identity.
 *
 * Shapes: `[batch, height, width, channels]` -> the same.
 *
 * @example
 * const blurred = gaussianBlur({ sigma: [0.1, 1], p: 0.5 })(x, 7);
 */
export function gaussianBlur(options: GaussianBlurOptions = {}): Augmentation {
  const fn = "gaussianBlur";
  const sigma = options.sigma ?? [0.1, 1];
  checkInterval(fn, "options.sigma", sigma, 0, Infinity);
  const p = options.p ?? 0.5;
  checkProbability(fn, "options.p", p);
  const kernelSize = options.kernelSize ?? Math.max(1, 2 * Math.ceil(3 * sigma[1]) + 1);
  if (!Number.isInteger(kernelSize) || kernelSize < 1 || kernelSize % 2 !== 1) {
    throw new Error(`${fn}: options.kernelSize must be an odd positive integer, got ${kernelSize}`);
  }
  return (images, seed) => {
    checkImages(fn, images, seed);
    if (p === 0 || sigma[1] === 0) return images.clone();
    const [batch, height, width, channels] = images.shape;
    const rng = createRng(seed);
    const sigmas = new Float64Array(batch);
    for (let i = 0; i < batch; i++) {
      const s = uniform(rng.next, sigma);
      sigmas[i] = rng.next() < p ? s : 0;
    }
    const kernels = gaussianKernels(sigmas, kernelSize);
    // Filter for channel (image i, channel j) of the [1, H, W, batch * channels] stack.
    const perChannel = new Float32Array(kernelSize * batch * channels);
    for (let k = 0; k < kernelSize; k++) {
      for (let i = 0; i < batch; i++) {
        for (let j = 0; j < channels; j++) perChannel[(k * batch + i) * channels + j] = kernels[i * kernelSize + k];
      }
    }
    const n = batch * channels;
    return tf.tidy(() => {
      const stacked = tf.reshape(tf.transpose(images, [1, 2, 0, 3]), [1, height, width, n]) as tf.Tensor4D;
      const rows = tf.depthwiseConv2d(stacked, tf.tensor4d(perChannel, [1, kernelSize, n, 1]), 1, "same");
      const cols = tf.depthwiseConv2d(rows, tf.tensor4d(perChannel, [kernelSize, 1, n, 1]), 1, "same");
      return tf.transpose(tf.reshape(cols, [height, width, batch, channels]), [2, 0, 1, 3]) as tf.Tensor4D;
    });
  };
}

/** Options of {@link gaussianPixelNoise}. */
export interface GaussianPixelNoiseOptions {
  /** Standard deviation of the noise; default 0.05. */
  std?: number;
}

/**
 * Additive Gaussian pixel noise `clip(x + N(0, std^2), 0, 1)`: unlike the
 * denoising corruption `gaussianNoise`, the result is clipped to [0, 1] so it
 * is still an image. `std: 0` is the identity.
 *
 * Shapes: `[batch, height, width, channels]` -> the same.
 *
 * @example
 * const noisy = gaussianPixelNoise({ std: 0.05 })(x, 7);
 */
export function gaussianPixelNoise(options: GaussianPixelNoiseOptions = {}): Augmentation {
  const fn = "gaussianPixelNoise";
  const std = options.std ?? 0.05;
  checkNonNegativeNumber(fn, "options.std", std);
  return (images, seed) => {
    checkImages(fn, images, seed);
    if (std === 0) return images.clone();
    return tf.tidy(() => tf.clipByValue(tf.add(images, tf.randomNormal(images.shape, 0, std, "float32", seed)), 0, 1) as tf.Tensor4D);
  };
}
