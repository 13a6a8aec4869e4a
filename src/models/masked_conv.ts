/**
 * PixelCNN: an autoregressive image model built from masked convolutions
 * (van den Oord, Kalchbrenner, Kavukcuoglu 2016, "Pixel Recurrent Neural
 * Networks", Sec. 3.4 and 3.5). It models p(x) = prod_i p(x_i | x_<i) over
 * the pixels in raster order (row by row, left to right). A convolution
 * sees pixels after the one it predicts unless its kernel is masked: mask A
 * (the first layer) zeroes the centre tap, the taps right of it and every
 * row below; mask B (every later layer) keeps the centre, which by then
 * holds only information about earlier pixels. The images here have one
 * channel, so the paper's split of the mask over R, G, B does not arise.
 *
 * The network follows the paper's PixelCNN for binary MNIST: a 7x7 type-A
 * conv, residual blocks of type-B convs with ReLU (one k x k conv per block
 * here, where the paper's block is 1x1, 3x3, 1x1), then two ReLU + 1x1 conv
 * layers down to one Bernoulli (sigmoid) logit per pixel.
 */
import { tf } from "../backend/tf";
import { createRng, Rng } from "../data/random";
import {
  checkInteger,
  checkNonNegativeInteger,
  checkOneOf,
  checkOptions,
  checkPositiveInteger,
  describe,
} from "../validation/arguments";
import { bernoulliNll } from "./made";

/** The two masks of the paper: A excludes the centre pixel, B includes it. */
export type MaskType = "A" | "B";

/** Kernel size of the first, type-A layer (the paper's 7x7). */
const FIRST_KERNEL = 7;

function checkOddKernel(fn: string, arg: string, k: unknown): asserts k is number {
  if (!Number.isInteger(k) || (k as number) < 1 || (k as number) % 2 === 0) {
    throw new Error(`${fn}: ${arg} must be an odd positive integer, got ${describe(k)}`);
  }
}

/**
 * The 0/1 mask of a masked convolution, row-major over the kernel: 1 for
 * every tap in a row above the centre and every tap left of it in the
 * centre row; the centre itself is 1 for type B and 0 for type A; the taps
 * right of the centre and the rows below are 0. Multiplied into a kernel
 * `[k, k, inChannels, outChannels]`, it broadcasts over both channel axes.
 *
 * Shapes: -> `[k * k]` values of the `[k, k, 1, 1]` mask.
 *
 * @example
 * convMask(3, "A"); // 1 1 1 / 1 0 0 / 0 0 0
 * const mask = tf.tensor4d(convMask(5, "B"), [5, 5, 1, 1]);
 */
export function convMask(kernelSize: number, type: MaskType): Float32Array {
  checkOddKernel("convMask", "kernelSize", kernelSize);
  checkOneOf("convMask", "type", type, ["A", "B"]);
  const k = kernelSize;
  const centre = (k - 1) / 2;
  const mask = new Float32Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const before = i < centre || (i === centre && j < centre);
      const isCentre = i === centre && j === centre;
      mask[i * k + j] = before || (isCentre && type === "B") ? 1 : 0;
    }
  }
  return mask;
}

/** Options of {@link createPixelCnn}. */
export interface PixelCnnOptions {
  /** Channels of every hidden layer; default 32. */
  filters?: number;
  /** Residual type-B blocks after the type-A layer; default 4. */
  layers?: number;
  /** Kernel size (odd) of the type-B convs; default 3. */
  kernelSize?: number;
  /** Image shape `[height, width, 1]`; default `[28, 28, 1]` (MNIST). */
  inputShape?: [number, number, number];
  /** Seed of the weights; default 0. */
  seed?: number;
}

/** One convolution: its kernel and bias, and its mask when it is masked. */
export interface PixelCnnConv {
  /** `[k, k, inChannels, outChannels]`; used as `kernel * mask`. */
  readonly kernel: tf.Variable;
  /** `[outChannels]`. */
  readonly bias: tf.Variable;
  /** `[k, k, 1, 1]`, or undefined for the unmasked 1x1 convs of the head. */
  readonly mask: tf.Tensor4D | undefined;
}

/** A PixelCNN for binary single-channel images: its layers and what it computes. */
export interface PixelCnn {
  /** `[height, width, 1]`. */
  readonly inputShape: readonly [number, number, number];
  /**
   * Rows above a pixel that its logit can see: 3 for the 7x7 layer plus
   * (kernelSize - 1) / 2 per block. The receptive field is causal and
   * within these rows; stacked masks leave a blind spot up and to the right
   * (van den Oord et al. 2016, "Conditional Image Generation with PixelCNN
   * Decoders", fixes it with two stacks).
   */
  readonly receptiveRows: number;
  /** The convs in order: the type-A conv, the blocks' type-B convs, the two 1x1 convs. */
  readonly convs: readonly PixelCnnConv[];
  /** Every kernel and bias, for `training.train({ trainable })`. */
  readonly trainable: tf.Variable[];
  /**
   * The logit of p(x_rc = 1 | pixels before (r, c) in raster order).
   * Shapes: `[batch, height, width, 1]` in {0, 1} -> `[batch, height, width, 1]`.
   */
  logits(x: tf.Tensor4D): tf.Tensor4D;
  /**
   * Negative log-likelihood of each image in nats, the Bernoulli
   * cross-entropy summed over its pixels.
   * Shapes: `[batch, height, width, 1]` in {0, 1} -> `[batch]`.
   */
  nll(x: tf.Tensor4D): tf.Tensor1D;
  /**
   * Draws `count` images pixel by pixel in raster order, one pixel per
   * forward pass (height * width passes: 784 for MNIST), from seeded JS
   * uniforms (pixel by pixel, image by image), so one seed gives the same
   * images on one backend. Each pass runs only on the `receptiveRows + 1`
   * rows that the pixel's logit depends on, which gives the same logit as
   * the full image at a fraction of the cost; still, 784 passes of a
   * 32-filter net over 16 images take tens of seconds on wasm.
   * Shapes: -> `[count, height, width, 1]` float32 in {0, 1}.
   */
  sample(count: number, seed: number): tf.Tensor4D;
  /** Frees the variables and masks. */
  dispose(): void;
}

/** A variable holding `t`'s values; `t` is disposed (the variable keeps its own reference). */
function variableFrom(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t);
  t.dispose();
  return v;
}

/**
 * A conv with He-uniform weights over the taps the mask keeps (the fan-in
 * the unit actually has), zero bias.
 */
function makeConv(rng: Rng, k: number, inChannels: number, outChannels: number, mask: tf.Tensor4D | undefined, kept: number): PixelCnnConv {
  const limit = Math.sqrt(6 / (kept * inChannels));
  const w = Float32Array.from({ length: k * k * inChannels * outChannels }, () => (2 * rng.next() - 1) * limit);
  return {
    kernel: variableFrom(tf.tensor4d(w, [k, k, inChannels, outChannels])),
    bias: variableFrom(tf.zeros([outChannels])),
    mask,
  };
}

function applyConv(h: tf.Tensor4D, conv: PixelCnnConv): tf.Tensor4D {
  // The mask multiplies the kernel inside the forward pass, so the masked
  // taps get an exactly zero gradient and stay whatever they were.
  const kernel = conv.mask === undefined ? conv.kernel : tf.mul(conv.kernel, conv.mask);
  return tf.add(tf.conv2d(h, kernel as tf.Tensor4D, 1, "same"), conv.bias);
}

function checkImages(fn: string, x: unknown, height: number, width: number): asserts x is tf.Tensor4D {
  const expectation = `a float32 tensor of shape [n,${height},${width},1]`;
  const fits = x instanceof tf.Tensor && x.rank === 4 && x.shape[1] === height && x.shape[2] === width && x.shape[3] === 1;
  if (!fits) throw new Error(`${fn}: x must be ${expectation}, got ${describe(x)}`);
  if (x.dtype !== "float32") {
    const article = x.dtype === "int32" ? "an" : "a";
    throw new Error(`${fn}: x must be ${expectation}, got ${article} ${x.dtype} tensor of shape [${x.shape.join(",")}]`);
  }
}

/**
 * Builds a PixelCNN for binary images: a 7x7 type-A masked conv to
 * `filters` channels, `layers` residual blocks h <- h + convB(ReLU(h)) with
 * `kernelSize` x `kernelSize` type-B masked convs, then ReLU, 1x1 conv
 * (`filters`), ReLU, 1x1 conv (1): one logit per pixel. All convs use
 * "same" zero padding and stride 1; weights are seeded.
 *
 * Shapes: images `[batch, height, width, 1]` -> logits of the same shape.
 *
 * @example
 * const pixelCnn = createPixelCnn({ filters: 32, layers: 4, kernelSize: 3, seed: 1 });
 * await training.train({ trainable: pixelCnn.trainable, loss: (x) => tf.mean(pixelCnn.nll(x)), ... });
 * const digits = pixelCnn.sample(16, 7); // [16, 28, 28, 1]
 */
export function createPixelCnn(options: PixelCnnOptions = {}): PixelCnn {
  const fn = "createPixelCnn";
  checkOptions(fn, options, "{filters?, layers?, kernelSize?, inputShape?, seed?}");
  const filters = options.filters ?? 32;
  const layers = options.layers ?? 4;
  const kernelSize = options.kernelSize ?? 3;
  const inputShape = options.inputShape ?? [28, 28, 1];
  const seed = options.seed ?? 0;
  checkPositiveInteger(fn, "options.filters", filters);
  checkNonNegativeInteger(fn, "options.layers", layers);
  checkOddKernel(fn, "options.kernelSize", kernelSize);
  checkInteger(fn, "options.seed", seed);
  const sidesOk = (s: readonly unknown[]) => s.length === 3 && s.slice(0, 2).every((v) => Number.isInteger(v) && (v as number) >= 1) && s[2] === 1;
  if (!Array.isArray(inputShape) || !sidesOk(inputShape)) {
    throw new Error(`${fn}: options.inputShape must be [height, width, 1] with positive integer sides, got ${describe(inputShape)}`);
  }
  const [height, width] = inputShape;

  const rng = createRng(seed);
  const maskA = tf.tensor4d(convMask(FIRST_KERNEL, "A"), [FIRST_KERNEL, FIRST_KERNEL, 1, 1]);
  const maskB = tf.tensor4d(convMask(kernelSize, "B"), [kernelSize, kernelSize, 1, 1]);
  const keptA = (FIRST_KERNEL * FIRST_KERNEL - 1) / 2;
  const keptB = (kernelSize * kernelSize + 1) / 2;
  const convs: PixelCnnConv[] = [makeConv(rng, FIRST_KERNEL, 1, filters, maskA, keptA)];
  for (let l = 0; l < layers; l++) convs.push(makeConv(rng, kernelSize, filters, filters, maskB, keptB));
  convs.push(makeConv(rng, 1, filters, filters, undefined, 1), makeConv(rng, 1, filters, 1, undefined, 1));
  const receptiveRows = (FIRST_KERNEL - 1) / 2 + (layers * (kernelSize - 1)) / 2;

  // Any height: sample() runs it on a band of rows.
  const forward = (x: tf.Tensor4D): tf.Tensor4D =>
    tf.tidy(() => {
      let h = applyConv(x, convs[0]);
      for (let l = 1; l <= layers; l++) h = tf.add(h, applyConv(tf.relu(h), convs[l]));
      h = applyConv(tf.relu(h), convs[layers + 1]);
      return applyConv(tf.relu(h), convs[layers + 2]);
    });

  const sample = (count: number, sampleSeed: number): tf.Tensor4D => {
    checkPositiveInteger("PixelCnn.sample", "count", count);
    checkInteger("PixelCnn.sample", "seed", sampleSeed);
    const draw = createRng(sampleSeed);
    const x = new Float32Array(count * height * width);
    for (let r = 0; r < height; r++) {
      // Logits of row r see input rows r - receptiveRows .. r only; the
      // zero padding that replaces the rows outside the band meets taps that
      // are masked or out of reach, so the band gives the full image's logits.
      const top = Math.max(0, r - receptiveRows);
      for (let c = 0; c < width; c++) {
        const rows = r - top + 1;
        const band = new Float32Array(count * rows * width);
        for (let b = 0; b < count; b++) band.set(x.subarray((b * height + top) * width, (b * height + r + 1) * width), b * rows * width);
        const logit = tf.tidy(() => tf.slice(forward(tf.tensor4d(band, [count, rows, width, 1])), [0, rows - 1, c, 0], [count, 1, 1, 1]));
        const values = logit.dataSync();
        logit.dispose();
        for (let b = 0; b < count; b++) {
          const p = 1 / (1 + Math.exp(-values[b]));
          x[(b * height + r) * width + c] = draw.next() < p ? 1 : 0;
        }
      }
    }
    return tf.tensor4d(x, [count, height, width, 1]);
  };

  return {
    inputShape: [height, width, 1],
    receptiveRows,
    convs,
    trainable: convs.flatMap((c) => [c.kernel, c.bias]),
    logits: (x: tf.Tensor4D) => {
      checkImages("PixelCnn.logits", x, height, width);
      return forward(x);
    },
    nll: (x: tf.Tensor4D) => {
      checkImages("PixelCnn.nll", x, height, width);
      return tf.tidy(() => {
        const n = x.shape[0];
        return bernoulliNll(tf.reshape(forward(x), [n, height * width]), tf.reshape(x, [n, height * width]));
      });
    },
    sample,
    dispose: () => tf.dispose([maskA, maskB, ...convs.flatMap((c) => [c.kernel, c.bias])]),
  };
}
