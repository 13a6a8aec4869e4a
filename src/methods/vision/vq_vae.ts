/**
 * VQ-VAE (van den Oord, Vinyals, Kavukcuoglu 2017, "Neural Discrete
 * Representation Learning") and the autoregressive prior over its codes.
 *
 * Stage 1, {@link createVqVae}: a conv encoder maps a digit to a grid of
 * D-vectors z_e(x) (7x7 for 28x28), each replaced by its nearest codebook
 * vector (`models/vector_quantizer.ts`: straight-through gradient, codebook
 * and commitment terms), and a transposed-conv decoder reconstructs the
 * image from the quantized grid. The loss is eq. 3 of the paper:
 *
 *   L = ||x - D(z_q(x))||^2 + ||sg(z_e(x)) - e||^2 + beta ||z_e(x) - sg(e)||^2
 *
 * with means in place of sums. The image is now a 7x7 grid of integers in [0, K).
 *
 * Stage 2, {@link createCodePrior}: a PixelCNN (van den Oord et al. 2016,
 * masked convolutions type A then B) over the code grid with a softmax over
 * the K codes at each position, fitted by maximum likelihood to the codes of
 * the training images. Sampling codes from it in raster order and decoding
 * them gives new digits (the paper's Sec. 4.1, with a PixelCNN prior).
 */
import { tf } from "../../backend/tf";
import { conv2d } from "../../models/conv2d";
import { batches as shuffledBatches } from "../../data/batches";
import { createRng, type Rng } from "../../data/random";
import { convMask } from "../../models/masked_conv";
import { createVectorQuantizer, type VectorQuantizer } from "../../models/vector_quantizer";
import {
  checkInteger,
  checkNonNegativeInteger,
  checkNonNegativeNumber,
  checkOptions,
  checkPositiveInteger,
  checkRank,
  describe,
} from "../../validation/arguments";
import type { Method } from "../method";
import type { VisionBatch } from "./method";
import { nextTokenNll } from "../language/causal_lm";

/** Images per forward pass of the batched, no-gradient helpers. */
const EVAL_BATCH = 256;

// ---------------------------------------------------------------- VQ-VAE

/** Options of {@link createVqVae}. */
export interface VqVaeOptions {
  /** K, the number of codes; default 64. */
  codebookSize?: number;
  /** D, the length of a code vector (the encoder's output channels); default 16. */
  codeDim?: number;
  /** Channels of the hidden conv layers; default 32. */
  filters?: number;
  /** Weight of the commitment term; default 0.25 (the paper's). */
  beta?: number;
  /** Image shape `[height, width, 1]`, sides divisible by 4; default `[28, 28, 1]`. The code grid is `[height / 4, width / 4]`. */
  inputShape?: [number, number, number];
  /** Seed of the weights, the codebook and the choice of initial vectors; default 0. */
  seed?: number;
  /**
   * Images `[n, height, width, 1]` whose encoder outputs (at initialisation)
   * become the initial codebook: K of their n * gridH * gridW vectors, drawn
   * without replacement. Every code then starts on a real encoder output,
   * so none is dead at the start; as the encoder moves during training some
   * codes can still fall out of use (check `codeUsage`). Default: the
   * quantizer's small uniform codebook. Not disposed.
   */
  initialCodebookImages?: tf.Tensor4D;
}

/** Code usage over a set of code grids. */
export interface CodeUsage {
  /** `[K]` how many grid cells took each code. */
  counts: Int32Array;
  /** exp(entropy) of the code histogram, float64: 1 when one code takes all, K for uniform use. */
  perplexity: number;
  /** Codes used at least once. */
  usedCodes: number;
  /** Codes never used (K - usedCodes): "dead" codes. */
  deadCodes: number;
}

/** A VQ-VAE as a {@link Method} over image batches, with its networks and the code-level helpers. */
export interface VqVae extends Method<VisionBatch> {
  /** `[height, width, 1]`. */
  readonly inputShape: readonly [number, number, number];
  /** `[height / 4, width / 4]`, the shape of a code grid. */
  readonly gridShape: readonly [number, number];
  /** `[B, height, width, 1]` -> `[B, gridH, gridW, D]` (z_e). */
  readonly encoder: tf.LayersModel;
  /** `[B, gridH, gridW, D]` -> `[B, height, width, 1]` in (0, 1) (sigmoid output). */
  readonly decoder: tf.LayersModel;
  /** The codebook `[K, D]` and its loss terms. */
  readonly quantizer: VectorQuantizer;
  /**
   * The code of every grid cell (nearest codebook vector), in batches, no gradient.
   * Shapes: `[n, height, width, 1]` float32 -> int32 `[n, gridH, gridW]`.
   */
  encodeCodes(images: tf.Tensor4D): tf.Tensor3D;
  /**
   * Images decoded from code grids, in batches, no gradient.
   * Shapes: int32 `[n, gridH, gridW]` in [0, K) -> `[n, height, width, 1]` in (0, 1).
   */
  decodeCodes(codes: tf.Tensor3D): tf.Tensor4D;
  /**
   * decode(quantize(encode(x))), in batches, no gradient.
   * Shapes: `[n, height, width, 1]` -> `[n, height, width, 1]`.
   */
  reconstruct(images: tf.Tensor4D): tf.Tensor4D;
  /**
   * How often each code is used in `codes`, perplexity and dead codes.
   * Shapes: int32 `[...]` in [0, K) -> {@link CodeUsage}.
   */
  codeUsage(codes: tf.Tensor): CodeUsage;
}

function checkImageTensor(fn: string, arg: string, x: unknown, shape: readonly number[]): asserts x is tf.Tensor4D {
  checkRank(fn, arg, x, 4, "float32");
  const t = x as tf.Tensor;
  if (t.shape[0] < 1 || t.shape[1] !== shape[0] || t.shape[2] !== shape[1] || t.shape[3] !== shape[2]) {
    throw new Error(`${fn}: ${arg} must be a float32 tensor of shape [n,${shape.join(",")}] with n >= 1, got ${describe(x)}`);
  }
}

function checkCodeGrids(fn: string, arg: string, codes: unknown, grid: readonly [number, number], k: number): asserts codes is tf.Tensor3D {
  checkRank(fn, arg, codes, 3, "int32");
  const t = codes as tf.Tensor;
  if (t.shape[0] < 1 || t.shape[1] !== grid[0] || t.shape[2] !== grid[1]) {
    throw new Error(`${fn}: ${arg} must be an int32 tensor of shape [n,${grid[0]},${grid[1]}] with n >= 1, got ${describe(codes)}`);
  }
  const values = t.dataSync();
  const bad = values.findIndex((c) => c < 0 || c >= k);
  if (bad >= 0) throw new Error(`${fn}: ${arg} must hold codes in [0, ${k}), got ${values[bad]} at flat index ${bad}`);
}

/** `f` applied to slices of EVAL_BATCH rows of `x` (each inside tidy), concatenated along the first axis. */
function inBatches<T extends tf.Tensor>(x: tf.Tensor, f: (slice: tf.Tensor) => T): T {
  const n = x.shape[0];
  const parts: T[] = [];
  for (let start = 0; start < n; start += EVAL_BATCH) {
    const size = Math.min(EVAL_BATCH, n - start);
    parts.push(tf.tidy(() => f(tf.slice(x, start, size))));
  }
  if (parts.length === 1) return parts[0];
  const joined = tf.concat(parts) as T;
  tf.dispose(parts);
  return joined;
}

/** Usage, perplexity (float64) and dead codes from the per-code counts `[K]`. */
function usageOf(counts: Int32Array): CodeUsage {
  const total = counts.reduce((s, c) => s + c, 0);
  let entropy = 0;
  for (const c of counts) if (c > 0) entropy -= (c / total) * Math.log(c / total);
  const usedCodes = counts.filter((c) => c > 0).length;
  return { counts, perplexity: Math.exp(entropy), usedCodes, deadCodes: counts.length - usedCodes };
}

/**
 * Builds a VQ-VAE and its training method. Encoder: conv 4x4 stride 2
 * (`filters`, ReLU), conv 4x4 stride 2 (`filters`, ReLU), conv 3x3
 * (`filters`, ReLU), conv 1x1 to D (linear): 28x28 -> 7x7xD. Quantizer: K
 * codes of length D. Decoder: conv 3x3 (`filters`, ReLU), transposed conv
 * 4x4 stride 2 (`filters`, ReLU), transposed conv 4x4 stride 2 (1, sigmoid):
 * 7x7xD -> 28x28x1. All "same" padding, seeded initialisers.
 *
 * The loss of a batch is mean (x - x_hat)^2 over pixels plus the
 * quantizer's codebook + beta * commitment terms; metrics per step:
 * `reconstruction` (the MSE), `perplexity` and `usedCodes` of the batch's codes.
 * The method owns its networks and codebook: `dispose()` frees them.
 *
 * Shapes: `batch.images` `[batch, height, width, 1]` in [0, 1] -> scalar loss.
 *
 * @example
 * const warmup = data.gatherImages(mnist.train, Int32Array.from({ length: 64 }, (_, i) => i));
 * const vqvae = methods.createVqVae({ codebookSize: 128, codeDim: 16, seed: 1, initialCodebookImages: warmup });
 * warmup.dispose();
 * await training.train({ ...vqvae, optimizer: training.adam(2e-3), batches: methods.visionBatches(mnist.train, { batchSize: 128 }), steps: 500 });
 * const codes = vqvae.encodeCodes(testImages);  // int32 [n, 7, 7]
 * vqvae.codeUsage(codes);                       // { perplexity, usedCodes, deadCodes, counts }
 * const again = vqvae.decodeCodes(codes);       // [n, 28, 28, 1]
 */
export function createVqVae(options: VqVaeOptions = {}): VqVae {
  const fn = "createVqVae";
  checkOptions(fn, options, "{codebookSize?, codeDim?, filters?, beta?, inputShape?, seed?, initialCodebookImages?}");
  const k = options.codebookSize ?? 64;
  const dim = options.codeDim ?? 16;
  const filters = options.filters ?? 32;
  const beta = options.beta ?? 0.25;
  const inputShape = options.inputShape ?? [28, 28, 1];
  const seed = options.seed ?? 0;
  checkPositiveInteger(fn, "options.codebookSize", k);
  checkPositiveInteger(fn, "options.codeDim", dim);
  checkPositiveInteger(fn, "options.filters", filters);
  checkNonNegativeNumber(fn, "options.beta", beta);
  checkInteger(fn, "options.seed", seed);
  const shapeOk = Array.isArray(inputShape) && inputShape.length === 3 && inputShape[2] === 1 &&
    inputShape.slice(0, 2).every((s) => Number.isInteger(s) && s >= 4 && s % 4 === 0);
  if (!shapeOk) throw new Error(`${fn}: options.inputShape must be [height, width, 1] with sides divisible by 4, got ${describe(inputShape)}`);
  const [height, width] = inputShape;
  const gridShape: [number, number] = [height / 4, width / 4];
  if (options.initialCodebookImages !== undefined) {
    checkImageTensor(fn, "options.initialCodebookImages", options.initialCodebookImages, inputShape);
    const vectors = options.initialCodebookImages.shape[0] * gridShape[0] * gridShape[1];
    if (vectors < k) {
      throw new Error(`${fn}: options.initialCodebookImages must give at least ${k} encoder vectors (n * ${gridShape[0]} * ${gridShape[1]}), got ${describe(options.initialCodebookImages)}`);
    }
  }

  let initCount = 0;
  const init = () => tf.initializers.heUniform({ seed: seed * 1009 + ++initCount });
  const conv = (f: number, kernelSize: number, strides: number, activation: "relu" | "linear" | "sigmoid", transpose = false, extra: object = {}) =>
    (transpose ? tf.layers.conv2dTranspose : conv2d)({ filters: f, kernelSize, strides, padding: "same", activation, kernelInitializer: init(), ...extra });
  const encoder = tf.sequential({
    name: "vqvae_encoder",
    layers: [
      conv(filters, 4, 2, "relu", false, { inputShape }),
      conv(filters, 4, 2, "relu"),
      conv(filters, 3, 1, "relu"),
      conv(dim, 1, 1, "linear"),
    ],
  });
  const decoder = tf.sequential({
    name: "vqvae_decoder",
    layers: [
      conv(filters, 3, 1, "relu", false, { inputShape: [...gridShape, dim] }),
      conv(filters, 4, 2, "relu", true),
      conv(1, 4, 2, "sigmoid", true),
    ],
  });

  let initialCodebook: Float32Array | undefined;
  if (options.initialCodebookImages !== undefined) {
    const z = tf.tidy(() => encoder.predict(options.initialCodebookImages!) as tf.Tensor);
    const flat = z.dataSync();
    z.dispose();
    const picked = createRng(seed).permutation(flat.length / dim).subarray(0, k);
    initialCodebook = new Float32Array(k * dim);
    picked.forEach((row, i) => initialCodebook!.set(flat.subarray(row * dim, (row + 1) * dim), i * dim));
  }
  const quantizer = createVectorQuantizer({ codebookSize: k, dim, beta, seed, initialCodebook });

  const encodeCodes = (images: tf.Tensor4D): tf.Tensor3D => {
    checkImageTensor("VqVae.encodeCodes", "images", images, inputShape);
    return inBatches(images, (x) => {
      const q = quantizer.quantize(encoder.predict(x) as tf.Tensor);
      return q.codes as tf.Tensor3D;
    });
  };
  const decodeCodes = (codes: tf.Tensor3D): tf.Tensor4D => {
    checkCodeGrids("VqVae.decodeCodes", "codes", codes, gridShape, k);
    return inBatches(codes, (c) => decoder.predict(quantizer.lookup(c)) as tf.Tensor4D);
  };

  return {
    name: "VQ-VAE",
    inputShape: [height, width, 1],
    gridShape,
    encoder,
    decoder,
    quantizer,
    trainable: [encoder, decoder, ...quantizer.trainable],
    loss: (batch) => {
      const images = batch?.images as unknown;
      checkImageTensor("VqVae.loss", "batch.images", images, inputShape);
      const z = encoder.apply(images, { training: true }) as tf.Tensor;
      const q = quantizer.quantize(z);
      const recon = decoder.apply(q.quantized, { training: true }) as tf.Tensor;
      const reconstruction = tf.mean(tf.square(tf.sub(images, recon)));
      const used = tf.sum(tf.cast(tf.greater(tf.sum(tf.oneHot(tf.reshape(q.codes, [-1]), k), 0), 0), "float32"));
      return {
        loss: tf.add(reconstruction, q.loss),
        metrics: { reconstruction, perplexity: q.perplexity, usedCodes: used },
      };
    },
    itemsPerBatch: (batch) => batch.images.shape[0],
    encodeCodes,
    decodeCodes,
    reconstruct: (images) => {
      checkImageTensor("VqVae.reconstruct", "images", images, inputShape);
      return inBatches(images, (x) => decoder.predict(quantizer.quantize(encoder.predict(x) as tf.Tensor).quantized) as tf.Tensor4D);
    },
    codeUsage: (codes) => usageOf(quantizer.usage(codes)),
    dispose: () => {
      encoder.dispose();
      decoder.dispose();
      quantizer.dispose();
    },
  };
}

// ---------------------------------------------------------------- the prior

/** Options of {@link createCodePrior}. */
export interface CodePriorOptions {
  /** K, the number of codes (the VQ-VAE's codebook size). */
  codebookSize: number;
  /** `[gridH, gridW]`; default `[7, 7]`. */
  gridShape?: [number, number];
  /** Length of the learned vector each code is looked up as, the first conv's input channels; default 32. */
  embeddingDim?: number;
  /** Channels of the hidden layers; default 64. */
  filters?: number;
  /** Residual type-B blocks; default 4. */
  layers?: number;
  /** Odd kernel size of the first, type-A conv; default 7 (the PixelCNN paper's). */
  firstKernelSize?: number;
  /** Odd kernel size of the type-B convs; default 3. */
  kernelSize?: number;
  /** Seed of the weights; default 0. */
  seed?: number;
}

/** One conv of the prior: kernel `[k, k, in, out]`, bias `[out]`, mask `[k, k, 1, 1]` or none (1x1). */
interface PriorConv {
  kernel: tf.Variable;
  bias: tf.Variable;
  mask: tf.Tensor4D | undefined;
}

/** An autoregressive model of code grids, trained as a {@link Method} over int32 batches `[batch, gridH, gridW]`. */
export interface CodePrior extends Method<tf.Tensor3D> {
  /** K. */
  readonly codebookSize: number;
  /** `[gridH, gridW]`. */
  readonly gridShape: readonly [number, number];
  /**
   * The logits of p(c_rc = j | codes before (r, c) in raster order), j < K.
   * Shapes: int32 `[batch, gridH, gridW]` -> `[batch, gridH, gridW, K]`.
   */
  logits(codes: tf.Tensor3D): tf.Tensor4D;
  /**
   * Mean negative log-likelihood in nats per code over all grids, in
   * batches, summed in float64; below log K the prior beats uniform codes.
   * Shapes: int32 `[n, gridH, gridW]` -> number.
   */
  nllPerCode(codes: tf.Tensor3D): number;
  /**
   * Draws `count` code grids cell by cell in raster order (gridH * gridW
   * forward passes) from seeded JS uniforms: one seed, same grids on one backend.
   * Shapes: -> int32 `[count, gridH, gridW]`.
   */
  sample(count: number, seed: number): tf.Tensor3D;
}

/**
 * float32 one-hot rows of int32 `codes`, `[codes.size, k]`. Made as int32 and
 * cast: the wasm backend's oneHot with dtype "float32" writes the integer
 * bit pattern 1 (1.4e-45) instead of 1.0 (tfjs-backend-wasm 4.22).
 */
function floatOneHot(codes: tf.Tensor, k: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.reshape(codes, [-1]), k), "float32") as tf.Tensor2D);
}

function checkOddKernel(fn: string, arg: string, k: unknown): asserts k is number {
  if (!Number.isInteger(k) || (k as number) < 1 || (k as number) % 2 === 0) {
    throw new Error(`${fn}: ${arg} must be an odd positive integer, got ${describe(k)}`);
  }
}

/** He-uniform weights over the taps the mask keeps (the unit's real fan-in), zero bias. */
function priorConv(rng: Rng, k: number, inChannels: number, outChannels: number, mask: tf.Tensor4D | undefined, kept: number): PriorConv {
  const limit = Math.sqrt(6 / (kept * inChannels));
  const w = tf.tensor4d(Float32Array.from({ length: k * k * inChannels * outChannels }, () => (2 * rng.next() - 1) * limit), [k, k, inChannels, outChannels]);
  const b = tf.zeros([outChannels]);
  const layer = { kernel: tf.variable(w), bias: tf.variable(b), mask };
  tf.dispose([w, b]);
  return layer;
}

function applyPriorConv(h: tf.Tensor4D, c: PriorConv): tf.Tensor4D {
  // Masking inside the forward pass gives the masked taps a zero gradient.
  const kernel = c.mask === undefined ? c.kernel : tf.mul(c.kernel, c.mask);
  return tf.add(tf.conv2d(h, kernel as tf.Tensor4D, 1, "same"), c.bias);
}

/**
 * Builds the PixelCNN prior over VQ-VAE code grids: each code is looked up
 * in a learned table `[K, embeddingDim]` (a one-hot input times a matrix,
 * which costs a K-channel first conv K / embeddingDim times less; 4x for K =
 * 128), the grid `[B, gridH, gridW, embeddingDim]` goes through a
 * `firstKernelSize` type-A masked conv to `filters` channels, `layers` residual blocks h <- h + convB(ReLU(h)),
 * then ReLU, 1x1 conv (`filters`), ReLU, 1x1 conv (K): a softmax over the K
 * codes at each cell, seeing only the cells before it in raster order. One
 * cell holds one categorical variable, so the masks act on positions only
 * (`models.convMask`) and cover all input channels alike.
 *
 * The loss of a batch is the mean cross-entropy per code, -mean log p(c_rc | c_<rc),
 * in nats; metric `perplexity` = exp(loss), to compare with K.
 * `dispose()` frees the prior's variables and masks.
 *
 * Shapes: batches int32 `[batch, gridH, gridW]` in [0, K) -> scalar loss (nats per code).
 *
 * @example
 * const codes = vqvae.encodeCodes(trainImages);        // int32 [n, 7, 7]
 * const prior = methods.createCodePrior({ codebookSize: vqvae.quantizer.codebookSize, seed: 1 });
 * await training.train({ ...prior, optimizer: training.adam(1e-3), batches: methods.codeGridBatches(codes, { batchSize: 128 }), steps: 1000 });
 * prior.nllPerCode(testCodes);                         // < Math.log(K)
 * const digits = vqvae.decodeCodes(prior.sample(16, 7)); // [16, 28, 28, 1]
 */
export function createCodePrior(options: CodePriorOptions): CodePrior {
  const fn = "createCodePrior";
  checkOptions(fn, options, "{codebookSize, gridShape?, embeddingDim?, filters?, layers?, firstKernelSize?, kernelSize?, seed?}");
  const k = options.codebookSize;
  const gridShape = options.gridShape ?? [7, 7];
  const embeddingDim = options.embeddingDim ?? 32;
  const filters = options.filters ?? 64;
  const layers = options.layers ?? 4;
  const firstKernelSize = options.firstKernelSize ?? 7;
  const kernelSize = options.kernelSize ?? 3;
  const seed = options.seed ?? 0;
  checkPositiveInteger(fn, "options.codebookSize", k);
  if (k < 2) throw new Error(`${fn}: options.codebookSize must be at least 2, got ${k}`);
  if (!Array.isArray(gridShape) || gridShape.length !== 2 || !gridShape.every((s) => Number.isInteger(s) && s >= 1)) {
    throw new Error(`${fn}: options.gridShape must be [gridH, gridW] with positive integer sides, got ${describe(gridShape)}`);
  }
  checkPositiveInteger(fn, "options.embeddingDim", embeddingDim);
  checkPositiveInteger(fn, "options.filters", filters);
  checkNonNegativeInteger(fn, "options.layers", layers);
  checkOddKernel(fn, "options.firstKernelSize", firstKernelSize);
  // A 1x1 type-A mask keeps no tap: every cell would be predicted from nothing.
  if (firstKernelSize < 3) throw new Error(`${fn}: options.firstKernelSize must be at least 3, got ${firstKernelSize}`);
  checkOddKernel(fn, "options.kernelSize", kernelSize);
  checkInteger(fn, "options.seed", seed);
  const [gh, gw] = gridShape;
  const grid: [number, number] = [gh, gw];

  const rng = createRng(seed);
  const maskA = tf.tensor4d(convMask(firstKernelSize, "A"), [firstKernelSize, firstKernelSize, 1, 1]);
  const maskB = tf.tensor4d(convMask(kernelSize, "B"), [kernelSize, kernelSize, 1, 1]);
  const tableValues = tf.tensor2d(Float32Array.from({ length: k * embeddingDim }, () => 2 * rng.next() - 1), [k, embeddingDim]);
  const embedding = tf.variable(tableValues);
  tableValues.dispose();
  const convs: PriorConv[] = [priorConv(rng, firstKernelSize, embeddingDim, filters, maskA, (firstKernelSize ** 2 - 1) / 2)];
  for (let l = 0; l < layers; l++) convs.push(priorConv(rng, kernelSize, filters, filters, maskB, (kernelSize ** 2 + 1) / 2));
  convs.push(priorConv(rng, 1, filters, filters, undefined, 1), priorConv(rng, 1, filters, k, undefined, 1));
  const variables = [embedding, ...convs.flatMap((c) => [c.kernel, c.bias])];

  const forward = (codes: tf.Tensor3D): tf.Tensor4D =>
    tf.tidy(() => {
      // The lookup as a product with one-hot rows: its gradient needs no scatter kernel.
      const x = tf.reshape(tf.matMul(floatOneHot(codes, k), embedding), [codes.shape[0], gh, gw, embeddingDim]) as tf.Tensor4D;
      let h = applyPriorConv(x, convs[0]);
      for (let l = 1; l <= layers; l++) h = tf.add(h, applyPriorConv(tf.relu(h), convs[l]));
      h = applyPriorConv(tf.relu(h), convs[layers + 1]);
      return applyPriorConv(tf.relu(h), convs[layers + 2]);
    });
  /** Cross-entropy of every cell, `[B, gh, gw]`. */
  const cellNll = (codes: tf.Tensor3D): tf.Tensor3D =>
    tf.tidy(() => {
      // The grid read in raster order is a sequence of next-code predictions.
      const [b] = codes.shape;
      const logits = tf.reshape(forward(codes), [b, gh * gw, k]) as tf.Tensor3D;
      return tf.reshape(nextTokenNll(logits, tf.reshape(codes, [b, gh * gw]) as tf.Tensor2D), [b, gh, gw]) as tf.Tensor3D;
    });

  const nllPerCode = (codes: tf.Tensor3D): number => {
    checkCodeGrids("CodePrior.nllPerCode", "codes", codes, grid, k);
    let total = 0;
    for (let start = 0; start < codes.shape[0]; start += EVAL_BATCH) {
      const sums = tf.tidy(() => tf.sum(cellNll(tf.slice(codes, start, Math.min(EVAL_BATCH, codes.shape[0] - start))), [1, 2]));
      for (const v of sums.dataSync()) total += v;
      sums.dispose();
    }
    return total / codes.size;
  };

  const sample = (count: number, sampleSeed: number): tf.Tensor3D => {
    checkPositiveInteger("CodePrior.sample", "count", count);
    checkInteger("CodePrior.sample", "seed", sampleSeed);
    const draw = createRng(sampleSeed);
    const codes = new Int32Array(count * gh * gw);
    const probs = new Float64Array(k);
    for (let cell = 0; cell < gh * gw; cell++) {
      // Cells from `cell` on are still 0 here; the masks keep them out of this cell's logits.
      const logits = tf.tidy(() => {
        const all = forward(tf.tensor3d(codes, [count, gh, gw], "int32"));
        return tf.reshape(all, [count, gh * gw, k]).slice([0, cell, 0], [count, 1, k]);
      });
      const values = logits.dataSync();
      logits.dispose();
      for (let b = 0; b < count; b++) {
        let max = -Infinity;
        for (let j = 0; j < k; j++) max = Math.max(max, values[b * k + j]);
        let total = 0;
        for (let j = 0; j < k; j++) total += probs[j] = Math.exp(values[b * k + j] - max);
        // Inverse CDF: the first code whose cumulative probability passes u.
        let u = draw.next() * total;
        let j = 0;
        while (j < k - 1 && (u -= probs[j]) >= 0) j++;
        codes[b * gh * gw + cell] = j;
      }
    }
    return tf.tensor3d(codes, [count, gh, gw], "int32");
  };

  return {
    name: "PixelCNN prior",
    codebookSize: k,
    gridShape: grid,
    trainable: variables,
    loss: (codes) => {
      checkCodeGrids("CodePrior.loss", "codes", codes, grid, k);
      const loss = tf.mean(cellNll(codes));
      return { loss, metrics: { perplexity: tf.exp(loss) } };
    },
    itemsPerBatch: (codes) => codes.shape[0],
    logits: (codes) => {
      checkCodeGrids("CodePrior.logits", "codes", codes, grid, k);
      return forward(codes);
    },
    nllPerCode,
    sample,
    dispose: () => tf.dispose([maskA, maskB, ...variables]),
  };
}

/** Options of {@link codeGridBatches}. */
export interface CodeGridBatchesOptions {
  /** Grids per batch (the last, smaller batch of an epoch is dropped). */
  batchSize: number;
}

/**
 * A `batches(epoch, rng)` function for training a {@link CodePrior}: each
 * epoch visits the grids of `codes` once in an order shuffled from the
 * loop's rng, as int32 batches gathered from `codes` (which stays the caller's).
 *
 * Shapes: `codes` int32 `[n, gridH, gridW]` -> batches int32 `[batchSize, gridH, gridW]`.
 *
 * @example
 * const codes = vqvae.encodeCodes(trainImages); // int32 [n, 7, 7]
 * await training.train({ ...prior, optimizer: training.adam(1e-3), batches: methods.codeGridBatches(codes, { batchSize: 128 }), steps: 1000 });
 */
export function codeGridBatches(codes: tf.Tensor3D, options: CodeGridBatchesOptions): (epoch: number, rng: Rng) => Generator<tf.Tensor3D> {
  const fn = "codeGridBatches";
  checkRank(fn, "codes", codes, 3, "int32");
  checkOptions(fn, options, "{batchSize}");
  const { batchSize } = options;
  checkPositiveInteger(fn, "options.batchSize", batchSize);
  const n = codes.shape[0];
  if (batchSize > n) throw new Error(`${fn}: options.batchSize must be at most the ${n} grids of codes, got ${batchSize}`);
  return function* (epoch, rng) {
    const seed = rng.int(0x7fffffff);
    for (const indices of shuffledBatches(n, batchSize, { seed, epoch, dropLast: true })) {
      yield tf.tidy(() => tf.gather(codes, tf.tensor1d(indices, "int32"))) as tf.Tensor3D;
    }
  };
}
