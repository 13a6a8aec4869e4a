/**
 * The context encoder (Pathak, Krähenbühl, Donahue, Darrell & Efros 2016,
 * "Context Encoders: Feature Learning by Inpainting"): hide a square region
 * of each image, encode what is left into one vector, decode the whole
 * image from it, and score the decoder only on the hidden region. Filling a
 * hole in a digit needs to know which digit it is and how it is written, so
 * the encoder has to capture that from the context.
 *
 * The paper's loss is L2 on the region plus an adversarial term (a
 * discriminator judging the filled-in region) that sharpens the fill; only
 * the L2 term is trained here: on 28x28 digits it gives plausible fills, and
 * the encoder's features, not sharp pictures, are what the workbook judges.
 */
import { tf } from "../../backend/tf";
import { createRng } from "../../data/random";
import { checkImages } from "../../data/pretext_common";
import type { StepContext } from "../../training/loop";
import type { VisionBatch, VisionMethod } from "./method";
import { applyChecked, checkVisionBatch } from "./checks";
import {
  checkFiniteNumber,
  checkInteger,
  checkOneOf,
  checkOptions,
  checkPositiveInteger,
  checkRank,
  describe,
} from "../../validation/arguments";

/** Options of {@link spatialDecoder}. */
export interface SpatialDecoderOptions {
  /** Size of the code it decodes, D. */
  codeDim: number;
  /** `[height, width, channels]` of the output; height and width divisible by 4. */
  outputShape: [number, number, number];
  /** Channels of the 7x7 (height/4) map and the two upsampling layers; default `[32, 32, 16]`. */
  channels?: [number, number, number];
  /** Seed of the weight initialisers; default 0. */
  seed?: number;
  /** Model name; default "spatial_decoder". */
  name?: string;
}

/**
 * A decoder from one code vector to an image: dense to a (height/4) x
 * (width/4) map, two stride-2 transposed 3x3 convolutions (ReLU) back to full
 * size, and a linear 3x3 convolution to the output channels (the context
 * encoder's up-convolutional decoder, at MNIST size).
 *
 * Shapes: `[batch, codeDim]` -> `[batch, height, width, channels]`.
 *
 * @example
 * const decoder = spatialDecoder({ codeDim: 128, outputShape: [28, 28, 1], seed: 1 });
 * const image = decoder.apply(code) as tf.Tensor4D; // [B, 28, 28, 1]
 */
export function spatialDecoder(options: SpatialDecoderOptions): tf.LayersModel {
  const fn = "spatialDecoder";
  checkOptions(fn, options, "{codeDim, outputShape, channels?, seed?, name?}");
  const { codeDim, outputShape, channels = [32, 32, 16], seed = 0 } = options;
  checkPositiveInteger(fn, "options.codeDim", codeDim);
  if (!Array.isArray(outputShape) || outputShape.length !== 3 || !outputShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`${fn}: options.outputShape must be [height, width, channels] of positive integers, got ${describe(outputShape)}`);
  }
  const [height, width, outChannels] = outputShape;
  if (height % 4 !== 0 || width % 4 !== 0) {
    throw new Error(`${fn}: options.outputShape must have height and width divisible by 4 (two stride-2 upsamplings), got [${outputShape}]`);
  }
  if (!Array.isArray(channels) || channels.length !== 3 || !channels.every((c) => Number.isInteger(c) && c > 0)) {
    throw new Error(`${fn}: options.channels must be three positive integers, got ${describe(channels)}`);
  }
  checkInteger(fn, "options.seed", seed);
  const init = (k: number) => tf.initializers.heUniform({ seed: seed * 101 + k });
  const [c0, c1, c2] = channels;
  const code = tf.input({ shape: [codeDim] });
  let x = tf.layers.dense({ units: (height / 4) * (width / 4) * c0, activation: "relu", kernelInitializer: init(1) }).apply(code) as tf.SymbolicTensor;
  x = tf.layers.reshape({ targetShape: [height / 4, width / 4, c0] }).apply(x) as tf.SymbolicTensor;
  const up = (filters: number, k: number) =>
    tf.layers.conv2dTranspose({ filters, kernelSize: 3, strides: 2, padding: "same", activation: "relu", kernelInitializer: init(k) });
  x = up(c1, 2).apply(x) as tf.SymbolicTensor;
  x = up(c2, 3).apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .conv2d({ filters: outChannels, kernelSize: 3, padding: "same", kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 101 + 4 }) })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ name: options.name ?? "spatial_decoder", inputs: code, outputs: out });
}

/** Where the hidden region is: the centre of every image, or a random place per image. */
export type RegionPlacement = "center" | "random";

/** Options of {@link regionMask}. */
export interface RegionMaskOptions {
  /** Side of the square region in pixels; default 14 (a quarter of a 28x28 digit, as the paper's 64x64 of 128x128). */
  size?: number;
  /** "center" (the paper's central region) or "random" (one square anywhere inside the image, per image); default "center". */
  placement?: RegionPlacement;
  /** Seed of the random placements; ignored for "center"; default 0. */
  seed?: number;
}

function resolveRegion(fn: string, options: RegionMaskOptions, height: number, width: number, prefix = "options"): Required<RegionMaskOptions> {
  if (options === null || typeof options !== "object") throw new Error(`${fn}: ${prefix} must be an object {size?, placement?, seed?}, got ${describe(options)}`);
  const { size = 14, placement = "center", seed = 0 } = options;
  checkPositiveInteger(fn, `${prefix}.size`, size);
  if (size > Math.min(height, width)) throw new Error(`${fn}: ${prefix}.size must fit the ${height}x${width} image, got ${size}`);
  checkOneOf(fn, `${prefix}.placement`, placement, ["center", "random"] as const);
  checkInteger(fn, `${prefix}.seed`, seed);
  return { size, placement, seed };
}

/**
 * The hidden region of each image as a 0/1 mask: a `size` x `size` square,
 * at the centre (top-left `floor((height - size) / 2)`, the same for
 * columns) or, for "random", with its top-left drawn uniformly per image
 * from `createRng(seed)` (rows first, then columns) so that it lies inside the image.
 *
 * Shapes: -> `[batch, height, width, 1]` float32, 1 inside the region.
 *
 * @example
 * const mask = regionMask(64, 28, 28, { size: 14 }); // rows and columns 7..20 of each image
 */
export function regionMask(batch: number, height: number, width: number, options: RegionMaskOptions = {}): tf.Tensor4D {
  const fn = "regionMask";
  checkPositiveInteger(fn, "batch", batch);
  checkPositiveInteger(fn, "height", height);
  checkPositiveInteger(fn, "width", width);
  const { size, placement, seed } = resolveRegion(fn, options, height, width);
  const rng = createRng(seed);
  const mask = new Float32Array(batch * height * width);
  for (let b = 0; b < batch; b++) {
    const top = placement === "center" ? Math.floor((height - size) / 2) : rng.int(height - size + 1);
    const left = placement === "center" ? Math.floor((width - size) / 2) : rng.int(width - size + 1);
    for (let i = top; i < top + size; i++) mask.fill(1, (b * height + i) * width + left, (b * height + i) * width + left + size);
  }
  return tf.tensor4d(mask, [batch, height, width, 1]);
}

/**
 * The context encoder's reconstruction loss: the mean squared error over the
 * hidden region only, sum(mask * (prediction - target)^2) / (sum(mask) * channels).
 * Pixels outside the region do not count at all (the paper's L2 term with
 * its mask; it also weighs a 7-pixel overlap band, left out here).
 *
 * Shapes: `prediction`, `target` `[batch, height, width, channels]`, `mask`
 * `[batch, height, width, 1]` with 0/1 entries -> scalar.
 *
 * @example
 * const loss = maskedRegionMse(decoded, images, regionMask(64, 28, 28)); // scalar
 */
export function maskedRegionMse(prediction: tf.Tensor4D, target: tf.Tensor4D, mask: tf.Tensor4D): tf.Scalar {
  const fn = "maskedRegionMse";
  checkImages(fn, prediction);
  const [b, h, w, c] = prediction.shape;
  checkRank(fn, "target", target, 4, "float32");
  if (target.shape.some((d, i) => d !== prediction.shape[i])) throw new Error(`${fn}: target must be [${b},${h},${w},${c}] like prediction, got ${describe(target)}`);
  checkRank(fn, "mask", mask, 4, "float32");
  if (mask.shape[0] !== b || mask.shape[1] !== h || mask.shape[2] !== w || mask.shape[3] !== 1) {
    throw new Error(`${fn}: mask must be [${b},${h},${w},1], got ${describe(mask)}`);
  }
  return tf.tidy(() => {
    const squared = tf.sum(tf.mul(tf.squaredDifference(prediction, target), mask));
    // At least one pixel, so an empty mask gives 0 rather than NaN.
    return tf.div(squared, tf.maximum(tf.mul(tf.sum(mask), c), 1)) as tf.Scalar;
  });
}

/** Options of {@link createContextEncoder}. */
export interface ContextEncoderOptions {
  /** The encoder to train, `[B, height, width, channels]` -> `[B, encoderDim]` (e.g. `models.smallCnnEncoder`); the method never disposes it. */
  encoder: tf.LayersModel;
  /** Size of the encoder's output. */
  encoderDim: number;
  /** `[height, width, channels]` of the images; default `[28, 28, 1]`. */
  imageShape?: [number, number, number];
  /** The hidden region: `size` (default 14) and `placement` (default "center"); random placements are drawn from each step's seed. */
  region?: Omit<RegionMaskOptions, "seed">;
  /** Value written into the hidden region of the input; default 0.5 (grey: neither ink nor background, so the hole is visible to the encoder, as the paper's mean-colour fill). */
  fill?: number;
  /** Decoder channels, see {@link spatialDecoder}; default `[32, 32, 16]`. */
  decoderChannels?: [number, number, number];
  /** Seed of the decoder's initialisers; default 0. */
  seed?: number;
}

/** What {@link ContextEncoderMethod.inpaint} returns, for a grid of reconstructions. */
export interface Inpainting {
  /** `[B, height, width, channels]`: the encoder's input, the region filled with `fill`. */
  masked: tf.Tensor4D;
  /** `[B, height, width, channels]`: the context kept, the region replaced by the decoder's prediction, clipped to [0, 1]. */
  filled: tf.Tensor4D;
  /** `[B, height, width, 1]`: the region mask. */
  mask: tf.Tensor4D;
}

/** The context encoder as a {@link VisionMethod}: batches `{ images }` of `[B, height, width, channels]`. */
export interface ContextEncoderMethod extends VisionMethod {
  /** The decoder it created (`[B, encoderDim]` -> `[B, height, width, channels]`); freed by `dispose()`. */
  readonly decoder: tf.LayersModel;
  /** Side of the hidden square. */
  readonly regionSize: number;
  /** Where the hidden square goes. */
  readonly placement: RegionPlacement;
  /**
   * Hides the region of `images` (placed from `seed` when random), encodes
   * and decodes (inference mode), and pastes the prediction into the hole.
   * The caller disposes the three tensors.
   */
  inpaint(images: tf.Tensor4D, seed?: number): Inpainting;
}

/**
 * The context encoder (Pathak et al. 2016) for `training.train`: each step
 * hides a square region of every image (filled with `fill`), encodes the
 * rest with the encoder, decodes a whole image with a {@link spatialDecoder},
 * and the loss is {@link maskedRegionMse} between the decoded image and the
 * original on the region. Metric `regionMse`: the same mean squared error
 * per hidden pixel, to compare with {@link meanRegionBaselineMse}.
 *
 * Shapes: `batch.images` `[B, height, width, channels]` (B >= 2) -> encoder
 * `[B, encoderDim]` -> decoder `[B, height, width, channels]` -> scalar loss.
 *
 * @example
 * const encoder = models.smallCnnEncoder({ seed: 1 });
 * const ce = createContextEncoder({ encoder, encoderDim: 128, region: { size: 14, placement: "random" }, seed: 1 });
 * await training.train({ ...ce, optimizer: training.adam(1e-3), batches: methods.visionBatches(train, { batchSize: 64 }), steps: 500 });
 * const { masked, filled, mask } = ce.inpaint(testImages); // a grid of fills
 * ce.dispose(); // the decoder; `encoder` is kept for the linear probe
 */
export function createContextEncoder(options: ContextEncoderOptions): ContextEncoderMethod {
  const fn = "createContextEncoder";
  checkOptions(fn, options, "{encoder, encoderDim, imageShape?, region?, fill?, decoderChannels?, seed?}");
  const { encoder, encoderDim, imageShape = [28, 28, 1], region = {}, fill = 0.5, seed = 0 } = options;
  if (!(encoder instanceof tf.LayersModel)) throw new Error(`${fn}: options.encoder must be a tf.LayersModel, got ${describe(encoder)}`);
  checkPositiveInteger(fn, "options.encoderDim", encoderDim);
  checkFiniteNumber(fn, "options.fill", fill);
  checkInteger(fn, "options.seed", seed);
  if (!Array.isArray(imageShape) || imageShape.length !== 3) throw new Error(`${fn}: options.imageShape must be [height, width, channels], got ${describe(imageShape)}`);
  const [height, width, channels] = imageShape;
  const { size, placement } = resolveRegion(fn, region, height, width, "options.region");
  const decoder = spatialDecoder({ codeDim: encoderDim, outputShape: imageShape, channels: options.decoderChannels, seed, name: "context_decoder" });
  const where = "ContextEncoder.loss";
  const checkShape = (name: string, images: tf.Tensor4D) => {
    if (images.shape[1] !== height || images.shape[2] !== width || images.shape[3] !== channels) {
      throw new Error(`${name}: images must be [B, ${height}, ${width}, ${channels}] (options.imageShape), got ${describe(images)}`);
    }
  };
  // Hide the region, encode, decode: the mask, the masked input and the decoded image.
  const run = (images: tf.Tensor4D, maskSeed: number, training: boolean) => {
    const mask = regionMask(images.shape[0], height, width, { size, placement, seed: maskSeed });
    const masked = tf.add(tf.mul(images, tf.sub(1, mask)), tf.mul(mask, fill)) as tf.Tensor4D;
    const code = applyChecked(where, "encoder", encoder, masked, encoderDim, training);
    const decoded = decoder.apply(code, { training }) as tf.Tensor4D;
    return { mask, masked, decoded };
  };
  return {
    name: "context encoder",
    encoder,
    decoder,
    regionSize: size,
    placement,
    trainable: [encoder, decoder],
    loss(batch: VisionBatch, ctx: StepContext) {
      const images = checkVisionBatch(where, batch);
      checkShape(where, images);
      const { mask, decoded } = run(images, ctx.seed, true);
      const loss = maskedRegionMse(decoded, images, mask);
      return { loss, metrics: { regionMse: loss } };
    },
    inpaint(images: tf.Tensor4D, maskSeed = 0): Inpainting {
      const name = "ContextEncoder.inpaint";
      checkImages(name, images);
      checkShape(name, images);
      checkInteger(name, "seed", maskSeed);
      return tf.tidy(() => {
        const { mask, masked, decoded } = run(images, maskSeed, false);
        const filled = tf.add(tf.mul(images, tf.sub(1, mask)), tf.mul(tf.clipByValue(decoded, 0, 1), mask)) as tf.Tensor4D;
        return { masked, filled, mask };
      });
    },
    dispose() {
      decoder.dispose();
    },
  };
}

/**
 * The baseline a context encoder has to beat: fill every hole with the
 * mean image of `train` (per pixel and channel), and score it like the
 * method, the mean squared error per hidden pixel of `test`. Regions are
 * placed by {@link regionMask} with `region` (random ones from `region.seed`).
 *
 * Shapes: `train` `[n, height, width, channels]`, `test` `[m, height, width, channels]` -> a number.
 *
 * @example
 * const baseline = meanRegionBaselineMse(trainX, testX, { size: 14 }); // to compare with regionMse
 */
export function meanRegionBaselineMse(train: tf.Tensor4D, test: tf.Tensor4D, region: RegionMaskOptions = {}): number {
  const fn = "meanRegionBaselineMse";
  checkImages(fn, train);
  checkImages(fn, test);
  const [, height, width, channels] = train.shape;
  if (test.shape[1] !== height || test.shape[2] !== width || test.shape[3] !== channels) {
    throw new Error(`${fn}: test must be [m, ${height}, ${width}, ${channels}] like train, got ${describe(test)}`);
  }
  resolveRegion(fn, region, height, width, "region");
  const mse = tf.tidy(() => {
    const mask = regionMask(test.shape[0], height, width, region);
    const meanImage = tf.broadcastTo(tf.mean(train, 0, true), test.shape) as tf.Tensor4D;
    return maskedRegionMse(meanImage, test, mask);
  });
  const value = mse.dataSync()[0];
  mse.dispose();
  return value;
}
