/**
 * Colorization as a pretext task (Zhang, Isola & Efros 2016, "Colorful
 * Image Colorization"): give the network the grey image and have it predict
 * the colour. Zhang et al. predict the CIE Lab ab channels from L as a
 * classification over 313 quantised ab bins, rebalanced towards rare
 * colours, because an L2 regression of ab averages the colours an object
 * could have and gives washed-out, greyish pictures.
 *
 * What this module does: the same, at digit scale. The chroma (Cb, Cr of
 * BT.601, the analogue of ab) given the luminance Y (the analogue of L) is
 * quantised on a square grid ({@link chromaBins}, 10 x 10 bins of 0.05 by
 * default), each pixel is classified into its bin by a softmax, the
 * cross-entropy of each pixel is weighted by the rarity of its true bin
 * ({@link colorRebalanceWeights}, the paper's eq. 3-4), and colours are read
 * back as the annealed mean of the bins (temperature 0.38, the paper's).
 * Why the paper's classification rather than an L2 regression of the
 * chroma (both were tried here): a regression learns first to predict the
 * mean, grey, and its gradient is mostly the noise of colours no grey image
 * can tell (the background tints); the rebalanced classification puts the
 * weight on the rare saturated stroke colours, which only recognising the
 * digit predicts, and it is what the tutorial's slide describes ("predict
 * the binned colour space"). Measured on 512 coloured digits, batch 32,
 * neither was more than 5% below the mean-colour baseline on held-out
 * digits after 120 steps: colorization needs longer runs than the other
 * pretext tasks here.
 *
 * Colour teaches semantics only where it carries them: here the data set's
 * rule ties hue to the digit and keeps every stroke at one luminance, so the
 * only way to colour a stroke right is to recognise the digit.
 */
import { tf } from "../../backend/tf";
import { conv2d } from "../../models/conv2d";
import { chroma, luminance, rgbFromLuminanceChroma } from "../../data/colored_digits";
import { checkImages } from "../../data/pretext_common";
import type { StepContext } from "../../training/loop";
import type { VisionBatch, VisionMethod } from "./method";
import { applyChecked, checkVisionBatch } from "./checks";
import { nextTokenNll } from "../language/causal_lm";
import {
  checkInteger,
  checkNumberInRange,
  checkOptions,
  checkPositiveInteger,
  checkPositiveNumber,
  describe,
} from "../../validation/arguments";

/** The chroma grid: square bins of side `binSize` covering [-range, range]^2 in (Cb, Cr). */
export interface ChromaGrid {
  /** Side of a bin; default 0.05. */
  binSize?: number;
  /** Half-width of the grid; default 0.25 (the coloured digits' chroma stays within ±0.225). */
  range?: number;
}

function resolveGrid(fn: string, grid: ChromaGrid, prefix: string): { binSize: number; range: number; perAxis: number } {
  if (grid === null || typeof grid !== "object") throw new Error(`${fn}: ${prefix} must be an object {binSize?, range?}, got ${describe(grid)}`);
  const { binSize = 0.05, range = 0.25 } = grid;
  checkPositiveNumber(fn, `${prefix}.binSize`, binSize);
  checkNumberInRange(fn, `${prefix}.range`, range, 0, 0.5, { minExclusive: true });
  const perAxis = Math.round((2 * range) / binSize);
  if (perAxis < 2 || Math.abs(perAxis * binSize - 2 * range) > 1e-9) {
    throw new Error(`${fn}: ${prefix}.binSize must divide 2 * range into at least 2 bins, got binSize ${binSize} for range ${range}`);
  }
  return { binSize, range, perAxis };
}

/** Number of bins Q of a chroma grid (`perAxis^2`). */
export function chromaBinCount(grid: ChromaGrid = {}): number {
  return resolveGrid("chromaBinCount", grid, "grid").perAxis ** 2;
}

/**
 * The centre (Cb, Cr) of every bin of the grid; bin `i * perAxis + j` is
 * row i of Cb and column j of Cr.
 *
 * Shapes: -> `[Q, 2]`.
 *
 * @example
 * chromaBinCentres(); // [100, 2]: (-0.225, -0.225), (-0.225, -0.175), ...
 */
export function chromaBinCentres(grid: ChromaGrid = {}): tf.Tensor2D {
  const { binSize, range, perAxis } = resolveGrid("chromaBinCentres", grid, "grid");
  const centres = new Float32Array(perAxis * perAxis * 2);
  for (let i = 0; i < perAxis; i++) {
    for (let j = 0; j < perAxis; j++) {
      centres[2 * (i * perAxis + j)] = -range + (i + 0.5) * binSize;
      centres[2 * (i * perAxis + j) + 1] = -range + (j + 0.5) * binSize;
    }
  }
  return tf.tensor2d(centres, [perAxis * perAxis, 2]);
}

/**
 * The bin of every pixel's chroma (the paper's quantised ab): per axis
 * `floor((c + range) / binSize)`, clipped to the grid, combined as
 * `iCb * perAxis + iCr`.
 *
 * Shapes: `cbcr` `[batch, height, width, 2]` -> `[batch, height, width]` int32.
 *
 * @example
 * const bins = chromaBins(chroma(colored)); // [64, 28, 28], values in 0..99
 */
export function chromaBins(cbcr: tf.Tensor4D, grid: ChromaGrid = {}): tf.Tensor3D {
  const fn = "chromaBins";
  checkImages(fn, cbcr);
  if (cbcr.shape[3] !== 2) throw new Error(`${fn}: cbcr must be [batch, height, width, 2], got ${describe(cbcr)}`);
  const { binSize, range, perAxis } = resolveGrid(fn, grid, "grid");
  return tf.tidy(() => {
    const index = tf.clipByValue(tf.floor(tf.div(tf.add(cbcr, range), binSize)), 0, perAxis - 1);
    const [cb, cr] = tf.split(index, 2, 3);
    return tf.cast(tf.squeeze(tf.add(tf.mul(cb, perAxis), cr), [3]), "int32") as tf.Tensor3D;
  });
}

/** Options of {@link colorRebalanceWeights}. */
export interface RebalanceOptions extends ChromaGrid {
  /** Mix of the empirical bin distribution with the uniform one, lambda; default 0.5 (the paper's). */
  lambda?: number;
}

/**
 * Class rebalancing (Zhang et al. 2016, eq. 4): the weight of bin q is
 * w_q ∝ 1 / ((1 - lambda) p_q + lambda / Q), with p the share of the
 * pixels of `images` in each bin, scaled so that sum_q p_q w_q = 1 (an
 * average pixel keeps weight 1). Rare, saturated colours weigh more than the
 * common near-grey ones. The paper also smooths p with a Gaussian; on a
 * 10 x 10 grid it is left out.
 *
 * Shapes: `images` RGB `[n, height, width, 3]` -> `[Q]` weights.
 *
 * @example
 * const weights = colorRebalanceWeights(trainX); // Float32Array(100)
 */
export function colorRebalanceWeights(images: tf.Tensor4D, options: RebalanceOptions = {}): Float32Array {
  const fn = "colorRebalanceWeights";
  checkImages(fn, images);
  if (images.shape[3] !== 3) throw new Error(`${fn}: images must be RGB [n, height, width, 3], got ${describe(images)}`);
  const { lambda = 0.5, ...grid } = options;
  checkNumberInRange(fn, "options.lambda", lambda, 0, 1, { minExclusive: true });
  const q = resolveGrid(fn, grid, "options").perAxis ** 2;
  const bins = tf.tidy(() => chromaBins(chroma(images), grid));
  const values = bins.dataSync();
  bins.dispose();
  const share = new Float64Array(q);
  for (const b of values) share[b] += 1 / values.length;
  const raw = Array.from(share, (p) => 1 / ((1 - lambda) * p + lambda / q));
  const norm = raw.reduce((sum, w, k) => sum + share[k] * w, 0);
  return Float32Array.from(raw, (w) => w / norm);
}

/** Options of {@link colorDecoder}. */
export interface ColorDecoderOptions {
  /** Size of the code, D. */
  codeDim: number;
  /** `[height, width]` of the images. */
  imageSize: [number, number];
  /** Outputs per pixel (the Q bins' logits). */
  outputChannels: number;
  /** Hidden channels; default 32. */
  channels?: number;
  /** Seed of the weight initialisers; default 0. */
  seed?: number;
}

/**
 * The colorization decoder, a spatial-broadcast decoder (Watters, Matthey,
 * Burgess & Lerchner 2019): the code goes through a dense ReLU layer and is
 * copied to every pixel, concatenated with the grey image, and a 3x3 ReLU
 * convolution and two 1x1 convolutions (ReLU, then linear) give each
 * pixel's outputs. The code says what colour (here: which digit), the grey
 * image says where the strokes are, and the ReLU layers after they meet
 * form their product.
 *
 * Shapes: `[batch, codeDim]` and grey `[batch, height, width, 1]` -> `[batch, height, width, outputChannels]`.
 *
 * @example
 * const decoder = colorDecoder({ codeDim: 128, imageSize: [28, 28], outputChannels: 100, seed: 1 });
 * const logits = decoder.apply([code, grey]) as tf.Tensor4D; // [B, 28, 28, 100]
 */
export function colorDecoder(options: ColorDecoderOptions): tf.LayersModel {
  const fn = "colorDecoder";
  checkOptions(fn, options, "{codeDim, imageSize, outputChannels, channels?, seed?}");
  const { codeDim, imageSize, outputChannels, channels = 32, seed = 0 } = options;
  checkPositiveInteger(fn, "options.codeDim", codeDim);
  if (!Array.isArray(imageSize) || imageSize.length !== 2) throw new Error(`${fn}: options.imageSize must be [height, width], got ${describe(imageSize)}`);
  const [height, width] = imageSize;
  checkPositiveInteger(fn, "options.imageSize[0]", height);
  checkPositiveInteger(fn, "options.imageSize[1]", width);
  checkPositiveInteger(fn, "options.outputChannels", outputChannels);
  checkPositiveInteger(fn, "options.channels", channels);
  checkInteger(fn, "options.seed", seed);
  const init = (k: number) => tf.initializers.heUniform({ seed: seed * 101 + k });
  const code = tf.input({ shape: [codeDim] });
  const grey = tf.input({ shape: [height, width, 1] });
  let x = tf.layers.dense({ units: channels, activation: "relu", kernelInitializer: init(1) }).apply(code) as tf.SymbolicTensor;
  x = tf.layers.reshape({ targetShape: [1, 1, channels] }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.upSampling2d({ size: [height, width] }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.concatenate({ axis: 3 }).apply([x, grey]) as tf.SymbolicTensor;
  x = conv2d({ filters: channels, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: init(2) }).apply(x) as tf.SymbolicTensor;
  x = conv2d({ filters: channels, kernelSize: 1, activation: "relu", kernelInitializer: init(3) }).apply(x) as tf.SymbolicTensor;
  const out = conv2d({ filters: outputChannels, kernelSize: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 101 + 4 }) })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ name: "colorization_decoder", inputs: [code, grey], outputs: out });
}

/**
 * The annealed mean of the paper (eq. 5): the bins' distribution sharpened
 * by temperature T, softmax(logits / T), and the mean of the bin centres
 * under it. T = 1 is the mean (washed out), T -> 0 the mode (patchy); the
 * paper uses 0.38.
 *
 * Shapes: `logits` `[batch, height, width, Q]`, `centres` `[Q, 2]` -> `[batch, height, width, 2]`.
 *
 * @example
 * const cbcr = annealedMean(logits, chromaBinCentres(), 0.38);
 */
export function annealedMean(logits: tf.Tensor4D, centres: tf.Tensor2D, temperature: number): tf.Tensor4D {
  const fn = "annealedMean";
  checkImages(fn, logits);
  checkPositiveNumber(fn, "temperature", temperature);
  const [b, h, w, q] = logits.shape;
  if (!(centres instanceof tf.Tensor) || centres.rank !== 2 || centres.shape[0] !== q || centres.shape[1] !== 2) {
    throw new Error(`${fn}: centres must be [${q}, 2] (one per bin of logits), got ${describe(centres)}`);
  }
  return tf.tidy(() => {
    const probs = tf.softmax(tf.reshape(tf.div(logits, temperature), [b * h * w, q]));
    return tf.reshape(tf.matMul(probs, centres), [b, h, w, 2]) as tf.Tensor4D;
  });
}

/**
 * The rebalanced classification loss of the paper (eq. 2): the mean over
 * pixels of w[bin] * (-log softmax(logits)[bin]), with `bin` each pixel's
 * true bin and `weights` from {@link colorRebalanceWeights}.
 *
 * Shapes: `logits` `[batch, height, width, Q]`, `bins` `[batch, height, width]` int32, `weights` `[Q]` -> scalar.
 *
 * @example
 * const loss = rebalancedColorLoss(logits, chromaBins(chroma(x)), tf.tensor1d(weights));
 */
export function rebalancedColorLoss(logits: tf.Tensor4D, bins: tf.Tensor3D, weights: tf.Tensor1D): tf.Scalar {
  const fn = "rebalancedColorLoss";
  checkImages(fn, logits);
  const [b, h, w, q] = logits.shape;
  if (!(bins instanceof tf.Tensor) || bins.dtype !== "int32" || bins.rank !== 3 || bins.shape[0] !== b || bins.shape[1] !== h || bins.shape[2] !== w) {
    throw new Error(`${fn}: bins must be an int32 tensor of shape [${b},${h},${w}], got ${describe(bins)}`);
  }
  if (!(weights instanceof tf.Tensor) || weights.rank !== 1 || weights.shape[0] !== q) {
    throw new Error(`${fn}: weights must be [${q}] (one per bin of logits), got ${describe(weights)}`);
  }
  return tf.tidy(() => {
    // Each pixel's cross-entropy over the bins (one row of b images, h * w pixels), weighted by its bin's rarity.
    const nll = nextTokenNll(tf.reshape(logits, [b, h * w, q]) as tf.Tensor3D, tf.reshape(bins, [b, h * w]) as tf.Tensor2D);
    return tf.mean(tf.mul(tf.gather(weights, tf.reshape(bins, [-1])), tf.reshape(nll, [-1]))) as tf.Scalar;
  });
}

/** Options of {@link createColorization}. */
export interface ColorizationOptions {
  /** The encoder to train, grey `[B, height, width, 1]` -> `[B, encoderDim]` (e.g. `models.smallCnnEncoder`); the method never disposes it. */
  encoder: tf.LayersModel;
  /** Size of the encoder's output. */
  encoderDim: number;
  /** `[height, width]` of the images; default `[28, 28]`. */
  imageSize?: [number, number];
  /** The chroma grid; default 10 x 10 bins of 0.05 over [-0.25, 0.25]^2. */
  grid?: ChromaGrid;
  /** `[Q]` weights of the bins from {@link colorRebalanceWeights} on training images; default all 1 (no rebalancing). */
  binWeights?: Float32Array;
  /** Temperature of the annealed mean that reads colours back; default 0.38 (the paper's). */
  temperature?: number;
  /** Hidden channels of the decoder, see {@link colorDecoder}; default 32. */
  decoderChannels?: number;
  /** Seed of the decoder's initialisers; default 0. */
  seed?: number;
}

/** Colorization as a {@link VisionMethod}: batches `{ images }` of RGB `[B, height, width, 3]`; the encoder reads their luminance. */
export interface ColorizationMethod extends VisionMethod {
  /** The decoder it created ({@link colorDecoder}): code `[B, encoderDim]` and grey `[B, height, width, 1]` -> bin logits `[B, height, width, Q]`; freed by `dispose()`. */
  readonly decoder: tf.LayersModel;
  /** Number of chroma bins Q. */
  readonly binCount: number;
  /**
   * The predicted chroma of grey images (annealed mean, inference mode).
   * Shapes: `[B, height, width, 1]` -> `[B, height, width, 2]` (Cb, Cr).
   */
  predictChroma(grey: tf.Tensor4D): tf.Tensor4D;
  /**
   * Colours grey images: their luminance with the predicted chroma, as RGB
   * clipped to [0, 1], for a grid next to the originals.
   * Shapes: `[B, height, width, 1]` -> `[B, height, width, 3]`.
   */
  colorize(grey: tf.Tensor4D): tf.Tensor4D;
}

/**
 * Colorization (Zhang et al. 2016) for `training.train`: the encoder reads
 * the luminance Y of each RGB image, a {@link colorDecoder} given the code
 * and Y gives every pixel logits over the chroma bins, and the loss is
 * {@link rebalancedColorLoss} against each pixel's true bin. Metrics, from
 * the annealed-mean colours: `chromaMse` (of Cb, Cr) and `colorMse` (of the
 * recoloured RGB image against the original), the numbers to compare with
 * {@link meanColorBaselineMse}.
 *
 * Shapes: `batch.images` RGB `[B, height, width, 3]` (B >= 2) -> grey
 * `[B, height, width, 1]` -> encoder `[B, encoderDim]` -> logits
 * `[B, height, width, Q]` -> scalar loss.
 *
 * @example
 * const colored = data.coloredDigits(train, { seed: 1 });
 * const { x } = data.toTensors(colored);
 * const encoder = models.smallCnnEncoder({ seed: 1 });
 * const col = createColorization({ encoder, encoderDim: 128, binWeights: colorRebalanceWeights(x), seed: 1 });
 * await training.train({ ...col, optimizer: training.adam(1e-3), batches: methods.visionBatches(colored, { batchSize: 64 }), steps: 500 });
 * const rgb = col.colorize(data.luminance(testX)); // [B, 28, 28, 3]
 * col.dispose(); // the decoder; `encoder` is kept for the linear probe
 */
export function createColorization(options: ColorizationOptions): ColorizationMethod {
  const fn = "createColorization";
  checkOptions(fn, options, "{encoder, encoderDim, imageSize?, grid?, binWeights?, temperature?, decoderChannels?, seed?}");
  const { encoder, encoderDim, imageSize = [28, 28], grid = {}, temperature = 0.38, seed = 0 } = options;
  if (!(encoder instanceof tf.LayersModel)) throw new Error(`${fn}: options.encoder must be a tf.LayersModel, got ${describe(encoder)}`);
  checkPositiveInteger(fn, "options.encoderDim", encoderDim);
  if (!Array.isArray(imageSize) || imageSize.length !== 2) throw new Error(`${fn}: options.imageSize must be [height, width], got ${describe(imageSize)}`);
  const [height, width] = imageSize;
  checkPositiveInteger(fn, "options.imageSize[0]", height);
  checkPositiveInteger(fn, "options.imageSize[1]", width);
  const q = resolveGrid(fn, grid, "options.grid").perAxis ** 2;
  const binWeights = options.binWeights ?? new Float32Array(q).fill(1);
  if (!(binWeights instanceof Float32Array) || binWeights.length !== q || !binWeights.every((v) => Number.isFinite(v) && v >= 0)) {
    throw new Error(`${fn}: options.binWeights must be a Float32Array of ${q} finite weights >= 0 (one per bin), got ${describe(binWeights)}`);
  }
  checkPositiveNumber(fn, "options.temperature", temperature);
  checkInteger(fn, "options.seed", seed);
  const decoder = colorDecoder({ codeDim: encoderDim, imageSize: [height, width], outputChannels: q, channels: options.decoderChannels, seed });
  const weights = tf.tensor1d(binWeights);
  const centres = chromaBinCentres(grid);
  const checkSize = (name: string, images: tf.Tensor4D, channels: number) => {
    if (images.shape[1] !== height || images.shape[2] !== width || images.shape[3] !== channels) {
      throw new Error(`${name}: images must be [B, ${height}, ${width}, ${channels}], got ${describe(images)}`);
    }
  };
  const where = "Colorization.loss";
  const logitsOf = (name: string, grey: tf.Tensor4D, training: boolean): tf.Tensor4D => {
    const code = applyChecked(name, "encoder", encoder, grey, encoderDim, training);
    return decoder.apply([code, grey], { training }) as tf.Tensor4D;
  };
  const checkedGrey = (name: string, grey: tf.Tensor4D) => {
    checkImages(name, grey);
    checkSize(name, grey, 1);
  };
  return {
    name: "colorization",
    encoder,
    decoder,
    binCount: q,
    trainable: [encoder, decoder],
    loss(batch: VisionBatch, _ctx: StepContext) {
      const images = checkVisionBatch(where, batch);
      checkSize(where, images, 3);
      const grey = luminance(images);
      const target = chroma(images);
      const logits = logitsOf(where, grey, true);
      const loss = rebalancedColorLoss(logits, chromaBins(target, grid), weights);
      const predicted = annealedMean(logits, centres, temperature);
      const chromaMse = tf.mean(tf.squaredDifference(predicted, target)) as tf.Scalar;
      const colorMse = tf.mean(tf.squaredDifference(rgbFromLuminanceChroma(grey, predicted), images)) as tf.Scalar;
      return { loss, metrics: { chromaMse, colorMse } };
    },
    predictChroma(grey: tf.Tensor4D): tf.Tensor4D {
      const name = "Colorization.predictChroma";
      checkedGrey(name, grey);
      return tf.tidy(() => annealedMean(logitsOf(name, grey, false), centres, temperature));
    },
    colorize(grey: tf.Tensor4D): tf.Tensor4D {
      const name = "Colorization.colorize";
      checkedGrey(name, grey);
      return tf.tidy(() => tf.clipByValue(rgbFromLuminanceChroma(grey, annealedMean(logitsOf(name, grey, false), centres, temperature)), 0, 1) as tf.Tensor4D);
    },
    dispose() {
      decoder.dispose();
      tf.dispose([weights, centres]);
    },
  };
}

/** What {@link meanColorBaselineMse} returns. */
export interface ColorBaseline {
  /** Mean squared error of the chroma (the method's loss). */
  chromaMse: number;
  /** Mean squared error of the recoloured RGB image (the method's `colorMse`). */
  colorMse: number;
}

/**
 * The baseline a colorization has to beat: colour every pixel of `test`
 * with the mean chroma of `train` (one Cb, Cr for all pixels: the best
 * constant colour under L2), keeping each pixel's own luminance.
 *
 * Shapes: `train` `[n, height, width, 3]`, `test` `[m, height, width, 3]` -> two numbers.
 *
 * @example
 * const { chromaMse, colorMse } = meanColorBaselineMse(trainX, testX);
 */
export function meanColorBaselineMse(train: tf.Tensor4D, test: tf.Tensor4D): ColorBaseline {
  const fn = "meanColorBaselineMse";
  checkImages(fn, train);
  checkImages(fn, test);
  if (train.shape[3] !== 3) throw new Error(`${fn}: train must be RGB [n, height, width, 3], got ${describe(train)}`);
  if (test.shape[3] !== 3) throw new Error(`${fn}: test must be RGB [m, height, width, 3], got ${describe(test)}`);
  const both = tf.tidy(() => {
    const meanChroma = tf.mean(chroma(train), [0, 1, 2], true);
    const target = chroma(test);
    const predicted = tf.broadcastTo(meanChroma, target.shape) as tf.Tensor4D;
    const recoloured = rgbFromLuminanceChroma(luminance(test), predicted);
    return tf.stack([tf.mean(tf.squaredDifference(predicted, target)), tf.mean(tf.squaredDifference(recoloured, test))]);
  });
  const [chromaMse, colorMse] = Array.from(both.dataSync());
  both.dispose();
  return { chromaMse, colorMse };
}
