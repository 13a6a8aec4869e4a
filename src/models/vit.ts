/**
 * A small Vision Transformer, ViT (Dosovitskiy, Beyer, Kolesnikov,
 * Weissenborn, Zhai, Unterthiner, Dehghani, Minderer, Heigold, Gelly,
 * Uszkoreit, Houlsby 2021, "An Image is Worth 16x16 Words: Transformers for
 * Image Recognition at Scale"): cut the image into patches, embed each
 * flattened patch linearly, add a learned position embedding, and run
 * pre-norm transformer blocks (transformer.ts) over the patch tokens.
 *
 * It can encode a SUBSET of each image's patches, chosen by index: the
 * encoder of a masked autoencoder (He et al. 2022, methods/vision/mae.ts)
 * sees only the visible quarter of the patches. Self-attention needs no
 * fixed sequence length and each kept token carries its own position
 * embedding, so the same weights encode any subset, and all patches for
 * probing. No class token: features are the mean of the patch tokens
 * (the MAE paper's global-pooling variant).
 */
import { tf } from "../backend/tf";
import { createRng } from "../data/random";
import { patchify } from "../data/pretext_mae";
import { checkImages } from "../data/pretext_common";
import { checkInteger, checkNonNegativeInteger, checkOptions, checkPositiveInteger, checkRank, describe } from "../validation/arguments";
import { createLinear, Linear } from "./attention";
import { createLayerNorm, createTransformerBlock, LayerNorm, TransformerBlock } from "./transformer";

/** Options of {@link createVit}. */
export interface VitOptions {
  /** `[height, width, channels]` of one image; default `[28, 28, 1]` (an MNIST digit). */
  imageShape?: readonly [number, number, number];
  /** Side of a square patch; must divide height and width; default 7 (16 patches of 49 pixels per digit). */
  patch?: number;
  /** Model width (token size). */
  dim: number;
  /** Attention heads per block; must divide `dim`. */
  heads: number;
  /** Number of transformer blocks. */
  layers: number;
  /** MLP width as a multiple of `dim`; default 4. */
  mlpRatio?: number;
  /** Seed of every weight; default 0. */
  seed?: number;
}

/** A ViT encoder: its weights and the ways it encodes images. */
export interface Vit {
  /** The options with their defaults: `createVit(vit.options)` builds the same untrained model (random-init baseline). */
  readonly options: Readonly<Required<VitOptions>>;
  /** Patches per image, `(height / patch) * (width / patch)`. */
  readonly numPatches: number;
  /** Values per flattened patch, `patch * patch * channels`. */
  readonly patchDim: number;
  /** Model width. */
  readonly dim: number;
  /** Linear patch embedding `[patchDim] -> [dim]`. */
  readonly patchEmbedding: Linear;
  /** Learned position embedding `[numPatches, dim]`, N(0, 0.02^2): row p belongs to patch p (row-major over the grid). */
  readonly positionEmbedding: tf.Variable;
  /** The blocks, in order. */
  readonly blocks: readonly TransformerBlock[];
  /** LN after the last block. */
  readonly finalNorm: LayerNorm;
  /** Every variable, for `training.train({ trainable })`. */
  readonly trainable: tf.Variable[];
  /**
   * The encoded tokens of the patches `keep` of each image (all patches,
   * in order, when `keep` is omitted): the final LN's output. Only the kept
   * patches' pixels enter the computation, so the hidden patches cannot
   * leak into the code.
   * Shapes: `images` `[batch, height, width, channels]`, `keep` `[batch, visible]`
   * int32 patch indices in [0, numPatches) -> `[batch, visible, dim]`
   * (`[batch, numPatches, dim]` without `keep`).
   */
  encodeTokens(images: tf.Tensor4D, keep?: tf.Tensor2D): tf.Tensor3D;
  /**
   * One feature vector per image: the mean of the encoded tokens of all its
   * patches. An arrow function, so `vit.encode` can be handed on as it is to
   * `evaluation.extractFeatures` or `evaluateRepresentation({ encoder })`.
   * Shapes: `[batch, height, width, channels]` -> `[batch, dim]`.
   */
  readonly encode: (images: tf.Tensor) => tf.Tensor2D;
  /** Frees every variable. */
  dispose(): void;
}

/** Checks `keep`: int32 `[batch, visible]` with 1 <= visible <= numPatches and every index in [0, numPatches). */
export function checkPatchIndices(fn: string, arg: string, keep: unknown, batch: number, numPatches: number): asserts keep is tf.Tensor2D {
  checkRank(fn, arg, keep, 2, "int32");
  const [rows, visible] = keep.shape as [number, number];
  if (rows !== batch || visible < 1 || visible > numPatches) {
    throw new Error(`${fn}: ${arg} must be an int32 tensor of shape [${batch}, visible] with 1 <= visible <= ${numPatches}, got ${describe(keep)}`);
  }
  // A small synchronous read: gather would return zeros or garbage for an index out of range on some backends.
  const ids = keep.dataSync();
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] < 0 || ids[i] >= numPatches) {
      throw new Error(`${fn}: ${arg} must hold patch indices in [0, ${numPatches}), got ${ids[i]} at [${Math.floor(i / visible)},${i % visible}]`);
    }
  }
}

/**
 * Row `keep[b, v]` of image b's patches, for every b and v: the patches
 * each image keeps. The same as `tf.gather(patches, keep, 1, 1)`, done as one
 * gather over the flattened `[batch * patches, P]` rows because the wasm
 * backend of tfjs 4.22 reads out of bounds on a gather with `batchDims` 1
 * for more than a few images. Unchecked; `keep` must hold indices in
 * [0, patches).
 *
 * Shapes: `patches` `[batch, patches, P]`, `keep` `[batch, visible]` int32 ->
 * `[batch, visible, P]`.
 *
 * @example
 * const visible = gatherPatches(patchify(digits, 7), keep); // [B, 16, 49], [B, 4] -> [B, 4, 49]
 */
export function gatherPatches(patches: tf.Tensor3D, keep: tf.Tensor2D): tf.Tensor3D {
  const [batch, count, size] = patches.shape;
  const visible = keep.shape[1];
  return tf.tidy(() => {
    const offsets = tf.reshape(tf.range(0, batch * count, count, "int32"), [batch, 1]);
    const rows = tf.reshape(tf.add(keep, offsets), [-1]);
    return tf.reshape(tf.gather(tf.reshape(patches, [batch * count, size]), rows), [batch, visible, size]) as tf.Tensor3D;
  });
}

/**
 * Builds a ViT encoder: linear patch embedding plus learned positions,
 * `layers` pre-norm transformer blocks and a final LN. Weights are drawn in
 * JS from the seed, so one seed gives the same model on every backend, and
 * `createVit(vit.options)` rebuilds the untrained model exactly.
 *
 * Position embeddings start at N(0, 0.02^2) as in ViT and BERT (the MAE
 * paper uses fixed sine-cosine ones; with 16 positions learned ones are
 * cheap and simple).
 *
 * Any `[height, width, channels]` whose sides `patch` divides (an error
 * names the sizes otherwise).
 *
 * Shapes: images `[batch, height, width, channels]` -> patches
 * `[batch, numPatches, patch * patch * channels]` -> tokens
 * `[batch, numPatches, dim]` -> features `[batch, dim]`; with the defaults
 * `[batch, 28, 28, 1]` -> `[batch, 16, 49]` -> `[batch, 16, dim]`.
 *
 * @example
 * const vit = createVit({ dim: 64, heads: 4, layers: 2, seed: 1 });
 * const rgbVit = createVit({ imageShape: [32, 32, 3], patch: 8, dim: 64, heads: 4, layers: 2, seed: 1 }); // 16 patches of 192 values
 * const features = evaluation.extractFeatures(vit.encode, digits); // [n, 64]
 * const visible = vit.encodeTokens(digits, keep);                  // keep [n, 4] -> [n, 4, 64]
 */
export function createVit(options: VitOptions): Vit {
  const fn = "createVit";
  checkOptions(fn, options, "{dim, heads, layers, imageShape?, patch?, mlpRatio?, seed?}");
  const { imageShape = [28, 28, 1] as const, patch = 7, dim, heads, layers, mlpRatio = 4, seed = 0 } = options;
  if (!Array.isArray(imageShape) || imageShape.length !== 3) {
    throw new Error(`${fn}: options.imageShape must be [height, width, channels], got ${describe(imageShape)}`);
  }
  imageShape.forEach((d, i) => checkPositiveInteger(fn, `options.imageShape[${i}]`, d));
  checkPositiveInteger(fn, "options.patch", patch);
  const [height, width, channels] = imageShape;
  if (height % patch !== 0 || width % patch !== 0) {
    throw new Error(`${fn}: options.patch must divide the image height and width, got ${patch} for images of ${height}x${width}`);
  }
  checkPositiveInteger(fn, "options.dim", dim);
  checkPositiveInteger(fn, "options.heads", heads);
  checkNonNegativeInteger(fn, "options.layers", layers);
  checkInteger(fn, "options.seed", seed);
  const numPatches = (height / patch) * (width / patch);
  const patchDim = patch * patch * channels;
  const rng = createRng(seed);
  const patchEmbedding = createLinear({ inputDim: patchDim, outputDim: dim, seed: rng.fork() });
  const positions = Float32Array.from({ length: numPatches * dim }, () => rng.normal() * 0.02);
  const positionEmbedding = tf.tidy(() => tf.variable(tf.tensor2d(positions, [numPatches, dim])));
  // The block checks heads (dividing dim) and mlpRatio with its own messages.
  const blocks = Array.from({ length: layers }, () => createTransformerBlock({ dim, heads, mlpRatio, seed: rng.fork() }));
  const finalNorm = createLayerNorm({ dim });

  const checkInput = (method: string, images: unknown): void => {
    checkImages(method, images);
    const [, h, w, c] = images.shape;
    if (h !== height || w !== width || c !== channels) {
      throw new Error(`${method}: images must be a float32 tensor of shape [batch,${height},${width},${channels}], got ${describe(images)}`);
    }
  };

  /** Unchecked encoder; call inside tidy. */
  const tokensOf = (images: tf.Tensor4D, keep: tf.Tensor2D | undefined): tf.Tensor3D => {
    const patches = patchify(images, patch);
    // Gather the pixels first: the hidden patches never reach a weight.
    const kept = keep === undefined ? patches : gatherPatches(patches, keep);
    const where = keep === undefined ? positionEmbedding : tf.gather(positionEmbedding, keep);
    let x = tf.add(patchEmbedding.apply(kept), where) as tf.Tensor3D;
    for (const block of blocks) x = block.apply(x);
    return finalNorm.apply(x) as tf.Tensor3D;
  };

  return {
    options: Object.freeze({ imageShape: [height, width, channels] as const, patch, dim, heads, layers, mlpRatio, seed }),
    numPatches,
    patchDim,
    dim,
    patchEmbedding,
    positionEmbedding,
    blocks,
    finalNorm,
    trainable: [...patchEmbedding.trainable, positionEmbedding, ...blocks.flatMap((b) => b.trainable), ...finalNorm.trainable],
    encodeTokens(images: tf.Tensor4D, keep?: tf.Tensor2D): tf.Tensor3D {
      const method = "Vit.encodeTokens";
      checkInput(method, images);
      if (keep !== undefined) checkPatchIndices(method, "keep", keep, images.shape[0], numPatches);
      return tf.tidy(() => tokensOf(images, keep));
    },
    encode: (images: tf.Tensor): tf.Tensor2D => {
      checkInput("Vit.encode", images);
      return tf.tidy(() => tf.mean(tokensOf(images as tf.Tensor4D, undefined), 1) as tf.Tensor2D);
    },
    dispose: () => {
      patchEmbedding.dispose();
      blocks.forEach((b) => b.dispose());
      finalNorm.dispose();
      positionEmbedding.dispose();
    },
  };
}
