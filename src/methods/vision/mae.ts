/**
 * The masked autoencoder, MAE (He, Chen, Xie, Li, Dollar, Girshick 2022,
 * "Masked Autoencoders Are Scalable Vision Learners", CVPR): the tutorial's
 * "masked generation" for images. Cut each image into patches, hide most of
 * them (75%), encode ONLY the visible ones with a ViT (models/vit.ts), and
 * let a light decoder paint the hidden ones back from the encoded visible
 * tokens plus a learned mask token at every hidden position. The loss is
 * the squared error on the hidden patches only. After training the decoder
 * is dropped and the encoder's features are probed.
 */
import { tf } from "../../backend/tf";
import { createRng } from "../../data/random";
import { maePatchMask, patchify, unpatchify } from "../../data/pretext_mae";
import { createLinear, Linear } from "../../models/attention";
import { createLayerNorm, createTransformerBlock, LayerNorm, TransformerBlock } from "../../models/transformer";
import { checkPatchIndices, Vit } from "../../models/vit";
import type { LossWithMetrics, StepContext } from "../../training/loop";
import {
  checkInteger,
  checkNumberInRange,
  checkOptions,
  checkPositiveInteger,
  checkRank,
  describe,
} from "../../validation/arguments";
import type { Method } from "../method";
import type { VisionBatch } from "./method";

/** Added to a patch's variance before the square root when targets are normalised (the MAE code's 1e-6). */
export const NORMALIZE_EPSILON = 1e-6;

/** Options of {@link maskedPatchLoss}. */
export interface MaskedPatchLossOptions {
  /**
   * Compare with each target patch normalised to mean 0 and variance 1 over
   * its own pixels (the MAE paper's "normalized pixels" target); default false.
   */
  normalizeTargets?: boolean;
}

/**
 * The MAE loss: the mean squared error per pixel between predicted and true
 * patches, averaged over the HIDDEN patches only (He et al. 2022, section 3,
 * "Reconstruction target"):
 *
 *   L = sum_{b,n} m[b,n] * (1/P) sum_p (pred[b,n,p] - t[b,n,p])^2 / sum_{b,n} m[b,n],
 *
 * with m[b,n] = 1 for a hidden patch and 0 for a visible one, and t the true
 * patch or, with `normalizeTargets`, the true patch minus its mean divided by
 * sqrt(its variance + 1e-6). Visible patches count for nothing: predicting
 * what the encoder saw would be copying. Predictions of visible patches get
 * exactly zero gradient.
 *
 * Shapes: `predictions` `[batch, patches, P]`, `patches` `[batch, patches, P]`
 * float32, `mask` `[batch, patches]` float32 of 0s and 1s with at least one 1
 * -> scalar `[]`.
 *
 * @example
 * const loss = maskedPatchLoss(predictions, patchify(images, 7), mask); // [B,16,49], [B,16,49], [B,16]
 */
export function maskedPatchLoss(
  predictions: tf.Tensor3D,
  patches: tf.Tensor3D,
  mask: tf.Tensor2D,
  options: MaskedPatchLossOptions = {},
): tf.Scalar {
  const fn = "maskedPatchLoss";
  checkRank(fn, "predictions", predictions, 3, "float32");
  checkRank(fn, "patches", patches, 3, "float32");
  if (patches.shape.some((d, i) => d !== predictions.shape[i])) {
    throw new Error(`${fn}: patches must be a float32 tensor of shape [${predictions.shape}] like predictions, got ${describe(patches)}`);
  }
  checkRank(fn, "mask", mask, 2, "float32");
  const [batch, count] = predictions.shape;
  if (mask.shape[0] !== batch || mask.shape[1] !== count) {
    throw new Error(`${fn}: mask must be a float32 tensor of shape [${batch},${count}], got ${describe(mask)}`);
  }
  const flags = mask.dataSync();
  if (!flags.every((v) => v === 0 || v === 1) || !flags.includes(1)) {
    throw new Error(`${fn}: mask must hold only 0 (visible) and 1 (hidden) with at least one 1, got ${describe(Array.from(flags))}`);
  }
  checkOptions(fn, options, "{normalizeTargets?}");
  const normalize = options.normalizeTargets ?? false;
  if (typeof normalize !== "boolean") throw new Error(`${fn}: options.normalizeTargets must be true or false, got ${describe(normalize)}`);
  return tf.tidy(() => {
    const targets = normalize ? normalizePatches(patches) : patches;
    const perPatch = tf.mean(tf.squaredDifference(predictions, targets), 2);
    return tf.div(tf.sum(tf.mul(perPatch, mask)), tf.sum(mask)) as tf.Scalar;
  });
}

/** Each patch minus its mean, over sqrt(its variance + epsilon); unchecked. */
function normalizePatches(patches: tf.Tensor3D): tf.Tensor3D {
  const { mean, variance } = tf.moments(patches, 2, true);
  return tf.div(tf.sub(patches, mean), tf.sqrt(tf.add(variance, NORMALIZE_EPSILON))) as tf.Tensor3D;
}

/** Predictions in normalised units mapped to pixels with the true patches' own mean and spread; unchecked. */
function denormalizePatches(predictions: tf.Tensor3D, patches: tf.Tensor3D): tf.Tensor3D {
  const { mean, variance } = tf.moments(patches, 2, true);
  return tf.add(tf.mul(predictions, tf.sqrt(tf.add(variance, NORMALIZE_EPSILON))), mean) as tf.Tensor3D;
}

/** `[batch, k]` int32 patch indices to `[batch, patches]` float32 flags: 1 at the listed patches, 0 elsewhere. */
function flagsOf(indices: tf.Tensor2D, count: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.sum(tf.oneHot(indices, count), 1), "float32") as tf.Tensor2D);
}

/** Checks `images`: float32 `[batch, h, w, c]` with batch >= 1 and `[h, w, c]` = `shape`. */
function checkImagesShaped(fn: string, arg: string, images: unknown, shape: readonly [number, number, number]): asserts images is tf.Tensor4D {
  checkRank(fn, arg, images, 4, "float32");
  const [h, w, c] = shape;
  if (images.shape[0] < 1 || images.shape[1] !== h || images.shape[2] !== w || images.shape[3] !== c) {
    throw new Error(`${fn}: ${arg} must be a float32 tensor of shape [batch,${h},${w},${c}] with batch >= 1, got ${describe(images)}`);
  }
}

/** Checks a mask ratio: in (0, 1), hiding at least one and keeping at least one of `count` patches. */
function checkMaskRatio(fn: string, arg: string, ratio: unknown, count: number): asserts ratio is number {
  checkNumberInRange(fn, arg, ratio, 0, 1, { minExclusive: true, maxExclusive: true });
  const hidden = Math.round(ratio * count);
  if (hidden < 1 || hidden > count - 1) {
    throw new Error(`${fn}: ${arg} must hide at least one and keep at least one of the ${count} patches, got ${ratio} (round(${ratio} * ${count}) = ${hidden} hidden)`);
  }
}

/** Options of {@link createMae}. */
export interface MaeOptions {
  /** The ViT encoder to train (models.createVit); the method never disposes it. */
  encoder: Vit;
  /** Share of each image's patches hidden from the encoder; default 0.75 (the paper's). */
  maskRatio?: number;
  /** Width of the decoder; default the encoder's width. */
  decoderDim?: number;
  /** Decoder blocks; default 1 (the paper: a decoder under 10% of the encoder's compute works). */
  decoderLayers?: number;
  /** Attention heads of the decoder; must divide `decoderDim`; default the encoder's heads. */
  decoderHeads?: number;
  /**
   * Targets normalised per patch (mean 0, variance 1 over its pixels), the
   * paper's better variant on ImageNet; default false. On MNIST most patches
   * are flat background, whose normalised target is 0 whatever their
   * brightness, and raw pixels keep the loss, `maskedMse` and the mean-patch
   * baseline in one unit (pixel intensity squared), so the default is raw pixels.
   */
  normalizeTargets?: boolean;
  /**
   * The loss of raw-pixel targets, `predictions` and `patches` `[batch,
   * patches, P]`, `mask` `[batch, patches]` (1 = hidden) -> scalar; default
   * {@link maskedPatchLoss}. A course exercise passes the student's own. Not
   * with `normalizeTargets`.
   */
  maskedPatchLoss?: (predictions: tf.Tensor3D, patches: tf.Tensor3D, mask: tf.Tensor2D) => tf.Scalar;
  /** Seed of the decoder's weights; default 0. The masks come from each step's `ctx.seed`. */
  seed?: number;
}

/** The MAE decoder, owned by the method. */
export interface MaeDecoder {
  /** Encoder width to decoder width, applied to the encoded visible tokens. */
  readonly embed: Linear;
  /** The learned token put at every hidden position `[decoderDim]`, N(0, 0.02^2). */
  readonly maskToken: tf.Variable;
  /** Decoder position embedding `[patches, decoderDim]`, N(0, 0.02^2): the mask tokens learn WHERE they are from it. */
  readonly positionEmbedding: tf.Variable;
  /** The blocks. */
  readonly blocks: readonly TransformerBlock[];
  /** LN after the blocks. */
  readonly norm: LayerNorm;
  /** Decoder width to pixels of a patch (linear, as in the paper), weights starting at 0. */
  readonly head: Linear;
  /** Every variable. */
  readonly trainable: tf.Variable[];
}

/** What {@link MaeMethod.reconstruct} returns, for an image grid. */
export interface MaeReconstruction {
  /** The input with hidden patches grey (0.5): what the encoder saw. `[batch, height, width, channels]`. */
  masked: tf.Tensor4D;
  /** The visible patches as they were and the hidden ones predicted, clipped to [0, 1]. `[batch, height, width, channels]`. */
  reconstruction: tf.Tensor4D;
}

/**
 * MAE as a {@link Method} on vision batches. Not a `VisionMethod`: its
 * encoder is a ViT over plain variables, not a `tf.LayersModel` (tfjs-layers
 * has no attention layer), so instead of `encoder.apply` it offers `encode`,
 * a function `[batch, height, width, channels] -> [batch, dim]` that `extractFeatures` and
 * `evaluateRepresentation` take as they take a model.
 */
export interface MaeMethod extends Method<VisionBatch> {
  /** "MAE". */
  readonly name: string;
  /** The ViT being trained; passed in, so `dispose()` keeps it. */
  readonly encoder: Vit;
  /** `encoder.encode`: mean-pooled features over all patches, `[batch, h, w, c]` -> `[batch, dim]`. */
  readonly encode: (images: tf.Tensor) => tf.Tensor2D;
  /** Share of patches hidden. */
  readonly maskRatio: number;
  /** Whether targets are normalised per patch. */
  readonly normalizeTargets: boolean;
  /** The decoder the method owns. */
  readonly decoder: MaeDecoder;
  /** The loss of one batch (masks from `ctx.seed`), with metric `maskedMse` (see {@link createMae}). */
  loss(batch: VisionBatch, ctx: StepContext): LossWithMetrics;
  /**
   * The decoder's predictions of every patch given only the patches `keep`
   * (in the target's units: pixels, or normalised pixels). Shapes: `images`
   * `[batch, h, w, c]`, `keep` `[batch, visible]` int32 -> `[batch, patches, patchDim]`.
   */
  predict(images: tf.Tensor4D, keep: tf.Tensor2D): tf.Tensor3D;
  /**
   * Hides patches with `maePatchMask(batch, patches, { ratio: maskRatio, seed })`
   * and returns the masked input and the reconstruction, for a grid.
   * Shapes: `[batch, h, w, c]` -> two `[batch, h, w, c]`.
   */
  reconstruct(images: tf.Tensor4D, seed: number): MaeReconstruction;
  /**
   * Mean squared error per pixel of the hidden patches, in pixels, over
   * `images` with the masks of `maePatchMask(n, patches, { ratio: maskRatio, seed })`
   * (the protocol of {@link meanPatchBaselineMse}), `batchSize` images per pass
   * (default 512). Shapes: `[n, h, w, c]` -> a number.
   */
  maskedMse(images: tf.Tensor4D, seed: number, batchSize?: number): number;
}

/**
 * MAE (He et al. 2022) for `training.train`: per step, a seeded random mask
 * per image (`maePatchMask` with `ctx.seed`) keeps `1 - maskRatio` of the
 * patches; the ViT encodes only those; the decoder maps the encoded tokens to
 * its width, puts them back at their positions with the learned mask token at
 * every hidden one, adds its own position embedding, runs its blocks and
 * predicts every patch's pixels; {@link maskedPatchLoss} scores the hidden
 * patches only.
 *
 * The decoder places the visible tokens by multiplying with their one-hot
 * position matrix (exact: one 1 per row) rather than by a gather, so its
 * gradient is a plain matMul on every backend.
 *
 * Metric `maskedMse`: the mean squared error per pixel of the hidden patches
 * in pixel units. Without `normalizeTargets` it equals the loss; with it,
 * predictions are mapped back to pixels with each hidden patch's own mean and
 * spread (as the paper's figures do), which hands the model those two numbers.
 *
 * Shapes: `batch.images` `[B, 28, 28, 1]` -> patches `[B, 16, 49]` ->
 * visible tokens `[B, 4, dim]` -> predictions `[B, 16, 49]` -> scalar (defaults).
 *
 * @example
 * const vit = models.createVit({ dim: 64, heads: 4, layers: 2, seed: 1 });
 * const mae = methods.createMae({ encoder: vit, maskRatio: 0.75, seed: 1 });
 * await training.train({ ...mae, optimizer: training.adam(1e-3), batches: methods.visionBatches(train, { batchSize: 128 }), steps: 300 });
 * const { masked, reconstruction } = mae.reconstruct(testImages, 7);
 * mae.dispose(); // the decoder; `vit` is kept for probing: extractFeatures(vit.encode, x)
 */
export function createMae(options: MaeOptions): MaeMethod {
  const fn = "createMae";
  checkOptions(fn, options, "{encoder, maskRatio?, decoderDim?, decoderLayers?, decoderHeads?, normalizeTargets?, maskedPatchLoss?, seed?}");
  const encoder = options.encoder;
  if (encoder === null || typeof encoder !== "object" || typeof encoder.encodeTokens !== "function" || !Array.isArray(encoder.trainable)) {
    throw new Error(`${fn}: options.encoder must be a ViT from models.createVit, got ${describe(encoder)}`);
  }
  const { numPatches, patchDim } = encoder;
  const { patch, imageShape } = encoder.options;
  const {
    maskRatio = 0.75,
    decoderDim = encoder.dim,
    decoderLayers = 1,
    decoderHeads = encoder.options.heads,
    normalizeTargets = false,
    seed = 0,
  } = options;
  checkMaskRatio(fn, "options.maskRatio", maskRatio, numPatches);
  checkPositiveInteger(fn, "options.decoderDim", decoderDim);
  checkPositiveInteger(fn, "options.decoderLayers", decoderLayers);
  checkPositiveInteger(fn, "options.decoderHeads", decoderHeads);
  if (decoderDim % decoderHeads !== 0) throw new Error(`${fn}: options.decoderHeads must divide options.decoderDim = ${decoderDim}, got ${decoderHeads}`);
  if (typeof normalizeTargets !== "boolean") throw new Error(`${fn}: options.normalizeTargets must be true or false, got ${describe(normalizeTargets)}`);
  checkInteger(fn, "options.seed", seed);
  const customLoss = options.maskedPatchLoss;
  if (customLoss !== undefined && typeof customLoss !== "function") {
    throw new Error(`${fn}: options.maskedPatchLoss must be a function (predictions, patches, mask) => scalar, got ${describe(customLoss)}`);
  }
  if (customLoss !== undefined && normalizeTargets) {
    throw new Error(`${fn}: options.maskedPatchLoss takes raw-pixel targets, so options.normalizeTargets must be false, got true`);
  }

  const rng = createRng(seed);
  const normal = (length: number, shape: number[]) =>
    tf.tidy(() => tf.variable(tf.tensor(Float32Array.from({ length }, () => rng.normal() * 0.02), shape)));
  const embed = createLinear({ inputDim: encoder.dim, outputDim: decoderDim, seed: rng.fork() });
  const maskToken = normal(decoderDim, [decoderDim]);
  const positionEmbedding = normal(numPatches * decoderDim, [numPatches, decoderDim]);
  const blocks = Array.from({ length: decoderLayers }, () => createTransformerBlock({ dim: decoderDim, heads: decoderHeads, seed: rng.fork() }));
  const norm = createLayerNorm({ dim: decoderDim });
  const head = createLinear({ inputDim: decoderDim, outputDim: patchDim, seed: rng.fork() });
  // Zero weights: predictions start at 0, the loss at the mean squared pixel (0.11 on MNIST) instead of
  // near 1 from Glorot outputs of unit scale; measured, the model then beats the mean-patch baseline
  // within 150 steps on 512 digits (ratio 0.5) instead of sitting above it while the head shrinks.
  tf.tidy(() => head.weight.assign(tf.zerosLike(head.weight)));
  const decoder: MaeDecoder = {
    embed,
    maskToken,
    positionEmbedding,
    blocks,
    norm,
    head,
    trainable: [...embed.trainable, maskToken, positionEmbedding, ...blocks.flatMap((b) => b.trainable), ...norm.trainable, ...head.trainable],
  };

  /** Full-grid predictions from the visible patches `keep`; unchecked, call inside tidy. */
  const predictionsOf = (images: tf.Tensor4D, keep: tf.Tensor2D): tf.Tensor3D => {
    const visible = embed.apply(encoder.encodeTokens(images, keep)) as tf.Tensor3D; // [B, V, decoderDim]
    const placement = tf.oneHot(keep, numPatches).toFloat() as tf.Tensor3D; // [B, V, N]
    const hidden = tf.sub(1, tf.sum(placement, 1)).expandDims(2); // [B, N, 1]: 1 where no visible token lands
    const tokens = tf.add(tf.matMul(placement, visible, true, false), tf.mul(hidden, maskToken));
    let x = tf.add(tokens, positionEmbedding) as tf.Tensor3D;
    for (const block of blocks) x = block.apply(x);
    return head.apply(norm.apply(x)) as tf.Tensor3D;
  };
  /** Predictions in pixels: as they are, or denormalised with the true patches' statistics. */
  const inPixels = (predictions: tf.Tensor3D, patches: tf.Tensor3D): tf.Tensor3D =>
    normalizeTargets ? denormalizePatches(predictions, patches) : predictions;

  const checkInput: (method: string, arg: string, images: unknown) => asserts images is tf.Tensor4D = (method, arg, images) =>
    checkImagesShaped(method, arg, images, imageShape);
  const maskOf = (batch: number, maskSeed: number) => maePatchMask(batch, numPatches, { ratio: maskRatio, seed: maskSeed });

  return {
    name: "MAE",
    encoder,
    encode: encoder.encode,
    maskRatio,
    normalizeTargets,
    decoder,
    trainable: [...encoder.trainable, ...decoder.trainable],
    loss(batch, ctx) {
      const images = batch?.images as unknown;
      checkInput("MAE.loss", "batch.images", images);
      const { keep, masked } = maskOf(images.shape[0], ctx.seed);
      const predictions = predictionsOf(images, keep);
      const patches = patchify(images, patch);
      const mask = flagsOf(masked, numPatches);
      const loss = customLoss === undefined ? maskedPatchLoss(predictions, patches, mask, { normalizeTargets }) : customLoss(predictions, patches, mask);
      if (!(loss instanceof tf.Tensor) || loss.rank !== 0) {
        throw new Error(`MAE.loss: options.maskedPatchLoss must return a scalar loss, got ${describe(loss)}`);
      }
      const maskedMse = normalizeTargets ? maskedPatchLoss(inPixels(predictions, patches), patches, mask) : loss;
      return { loss, metrics: { maskedMse } };
    },
    itemsPerBatch: (batch) => batch.images.shape[0],
    predict(images, keep) {
      checkInput("MAE.predict", "images", images);
      checkPatchIndices("MAE.predict", "keep", keep, images.shape[0], numPatches);
      return tf.tidy(() => predictionsOf(images, keep));
    },
    reconstruct(images, maskSeed) {
      checkInput("MAE.reconstruct", "images", images);
      checkInteger("MAE.reconstruct", "seed", maskSeed);
      return tf.tidy(() => {
        const { keep, masked } = maskOf(images.shape[0], maskSeed);
        const patches = patchify(images, patch);
        const hidden = flagsOf(masked, numPatches).expandDims(2); // [B, N, 1]
        const shown = tf.sub(1, hidden);
        const predicted = tf.clipByValue(inPixels(predictionsOf(images, keep), patches), 0, 1);
        const grey = tf.add(tf.mul(patches, shown), tf.mul(hidden, 0.5)) as tf.Tensor3D;
        const pasted = tf.add(tf.mul(patches, shown), tf.mul(predicted, hidden)) as tf.Tensor3D;
        const result: MaeReconstruction = { masked: unpatchify(grey, patch, imageShape), reconstruction: unpatchify(pasted, patch, imageShape) };
        return result as unknown as tf.TensorContainer;
      }) as unknown as MaeReconstruction;
    },
    maskedMse(images, maskSeed, batchSize = 512) {
      const method = "MAE.maskedMse";
      checkInput(method, "images", images);
      checkInteger(method, "seed", maskSeed);
      checkPositiveInteger(method, "batchSize", batchSize);
      const { keep, masked } = maskOf(images.shape[0], maskSeed);
      try {
        let total = 0;
        const n = images.shape[0];
        for (let start = 0; start < n; start += batchSize) {
          const size = Math.min(batchSize, n - start);
          const sum = tf.tidy(() => {
            const x = tf.slice(images, [start, 0, 0, 0], [size, -1, -1, -1]);
            const patches = patchify(x, patch);
            const predictions = inPixels(predictionsOf(x, tf.slice(keep, [start, 0], [size, -1])), patches);
            const mask = flagsOf(tf.slice(masked, [start, 0], [size, -1]), numPatches);
            return tf.sum(tf.mul(tf.mean(tf.squaredDifference(predictions, patches), 2), mask));
          });
          total += sum.dataSync()[0];
          sum.dispose();
        }
        return total / (n * masked.shape[1]);
      } finally {
        tf.dispose([keep, masked]);
      }
    },
    dispose() {
      embed.dispose();
      blocks.forEach((b) => b.dispose());
      norm.dispose();
      head.dispose();
      tf.dispose([maskToken, positionEmbedding]);
    },
  };
}

/** Options of {@link meanPatchBaselineMse}. */
export interface MeanPatchBaselineOptions {
  /** Share of patches hidden; default 0.75. Use the MAE's `maskRatio`. */
  maskRatio?: number;
  /** Seed of the masks: the seed given to `MaeMethod.maskedMse` for the same masks. */
  seed: number;
}

/**
 * The baseline an MAE must beat: predict every hidden patch of a test image
 * by the mean training patch at that grid position (for MNIST, a blurred
 * average digit stroke), with the hidden patches drawn exactly as
 * `MaeMethod.maskedMse` draws them (`maePatchMask(n, patches, { ratio, seed })`).
 * It returns the mean squared error per pixel of the hidden patches. A model
 * at this level has learned only where ink usually is, nothing about the
 * image in front of it.
 *
 * Shapes: `trainImages` `[n, h, w, c]`, `testImages` `[m, h, w, c]` -> a number.
 *
 * @example
 * const baseline = meanPatchBaselineMse(trainX, testX, 7, { maskRatio: 0.75, seed: 3 });
 * const mse = mae.maskedMse(testX, 3); // must be below baseline
 */
export function meanPatchBaselineMse(trainImages: tf.Tensor4D, testImages: tf.Tensor4D, patch: number, options: MeanPatchBaselineOptions): number {
  const fn = "meanPatchBaselineMse";
  for (const [arg, images] of [["trainImages", trainImages], ["testImages", testImages]] as const) {
    checkRank(fn, arg, images, 4, "float32");
    if (images.shape.some((d) => d < 1)) throw new Error(`${fn}: ${arg} must hold at least one image, row, column and channel, got ${describe(images)}`);
  }
  if (trainImages.shape.slice(1).some((d, i) => d !== testImages.shape[i + 1])) {
    throw new Error(`${fn}: testImages must be images of shape [${trainImages.shape.slice(1)}] like trainImages, got ${describe(testImages)}`);
  }
  checkPositiveInteger(fn, "patch", patch);
  const [, height, width] = trainImages.shape;
  if (height % patch !== 0 || width % patch !== 0) {
    throw new Error(`${fn}: patch must divide the image height and width, got ${patch} for images of ${height}x${width}`);
  }
  checkOptions(fn, options, "{seed, maskRatio?}");
  const { maskRatio = 0.75, seed } = options;
  const count = (height / patch) * (width / patch);
  checkMaskRatio(fn, "options.maskRatio", maskRatio, count);
  checkInteger(fn, "options.seed", seed);
  const m = testImages.shape[0];
  const { keep, masked } = maePatchMask(m, count, { ratio: maskRatio, seed });
  const value = tf.tidy(() => {
    const meanPatch = tf.mean(patchify(trainImages, patch), 0); // [patches, P]
    const perPatch = tf.mean(tf.squaredDifference(patchify(testImages, patch), meanPatch), 2); // [m, patches]
    return tf.div(tf.sum(tf.mul(perPatch, flagsOf(masked, count))), m * masked.shape[1]);
  });
  const result = value.dataSync()[0];
  tf.dispose([value, keep, masked]);
  return result;
}
