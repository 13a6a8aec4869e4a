/**
 * The masking side of a masked autoencoder, MAE: cut images into patches,
 * hide most of them, and have the model paint the hidden ones back.
 *
 * He, Chen, Xie, Li, Dollar, Girshick (2022), "Masked Autoencoders Are
 * Scalable Vision Learners", CVPR. Images carry far more redundancy than
 * text, so MAE hides 75% of the patches (BERT hides 15% of the words): with
 * less hidden, a patch can be filled in from its neighbours without
 * understanding the image. Each image gets its own random mask.
 */
import { tf } from "../backend/tf";
import { createRng } from "./random";
import { checkImages } from "./pretext_common";
import { checkInteger, checkNumberInRange, checkOptions, checkPositiveInteger, checkRank, describe } from "../validation/arguments";

/** Options of {@link maePatchMask}. */
export interface MaePatchMaskOptions {
  /** Fraction of the patches of each image to hide; default 0.75. */
  ratio?: number;
  /** Seed of the masks. */
  seed: number;
}

/** What {@link maePatchMask} returns: the patch indices of every image, split in two. */
export interface MaePatchMask {
  /** `[batch, visible]` int32: the indices of the patches the encoder sees, ascending in each row. */
  keep: tf.Tensor2D;
  /** `[batch, numMasked]` int32: the indices of the hidden patches, ascending in each row. */
  masked: tf.Tensor2D;
}

/**
 * A random patch mask per image: a seeded shuffle of `0..patchesPerImage-1`
 * per image (MAE's per-sample noise argsort), whose first
 * `visible = patchesPerImage - numMasked` entries are kept and the rest
 * hidden, `numMasked = round(ratio * patchesPerImage)`. Each row is sorted,
 * since a set needs no order and the positions travel with the patches
 * (gather them with `models.gatherPatches(patches, keep)`: on the wasm backend
 * `tf.gather(patches, keep, 1, 1)` reads out of bounds for more than a few images).
 *
 * Shapes: -> `keep` `[batch, visible]`, `masked` `[batch, numMasked]`, int32.
 *
 * @example
 * const { keep, masked } = maePatchMask(64, 16, { seed: step }); // [64, 4], [64, 12]
 * const visible = gatherPatches(patchify(digits, 7), keep);        // [64, 4, 49]
 */
export function maePatchMask(batch: number, patchesPerImage: number, options: MaePatchMaskOptions): MaePatchMask {
  const fn = "maePatchMask";
  checkPositiveInteger(fn, "batch", batch);
  checkPositiveInteger(fn, "patchesPerImage", patchesPerImage);
  checkOptions(fn, options, "{seed, ratio?}");
  const { ratio = 0.75, seed } = options;
  checkNumberInRange(fn, "options.ratio", ratio, 0, 1, { minExclusive: true, maxExclusive: true });
  checkInteger(fn, "options.seed", seed);
  const numMasked = Math.round(ratio * patchesPerImage);
  const visible = patchesPerImage - numMasked;
  if (numMasked < 1 || visible < 1) {
    throw new Error(
      `${fn}: options.ratio must hide at least one and keep at least one of the ${patchesPerImage} patches, ` +
        `got ${ratio} (round(${ratio} * ${patchesPerImage}) = ${numMasked} hidden)`,
    );
  }
  const rng = createRng(seed);
  const keep = new Int32Array(batch * visible);
  const masked = new Int32Array(batch * numMasked);
  for (let b = 0; b < batch; b++) {
    const order = rng.permutation(patchesPerImage);
    keep.set(order.subarray(0, visible).sort(), b * visible);
    masked.set(order.subarray(visible).sort(), b * numMasked);
  }
  return { keep: tf.tensor2d(keep, [batch, visible], "int32"), masked: tf.tensor2d(masked, [batch, numMasked], "int32") };
}

/**
 * Cuts images into non-overlapping `patch x patch` squares, one row per
 * patch: patches in row-major order over the grid, and inside a patch the
 * pixels row by row, channels last (MAE's `patchify`). An exact reordering of
 * the pixels, undone by {@link unpatchify}.
 *
 * Shapes: `[batch, height, width, channels]` float32 ->
 * `[batch, (height / patch) * (width / patch), patch * patch * channels]`.
 *
 * @example
 * patchify(digits, 7); // [B, 28, 28, 1] -> [B, 16, 49]
 */
export function patchify(images: tf.Tensor4D, patch: number): tf.Tensor3D {
  const fn = "patchify";
  checkImages(fn, images);
  checkPositiveInteger(fn, "patch", patch);
  const [batch, height, width, channels] = images.shape;
  if (height % patch !== 0 || width % patch !== 0) {
    throw new Error(`${fn}: patch must divide the image height and width, got ${patch} for images of ${height}x${width}`);
  }
  const rows = height / patch;
  const cols = width / patch;
  // Rank-4 transposes only, which every backend supports: [b * rows, patch, cols, patch * channels]
  // -> [b * rows, cols, patch, patch * channels] puts each patch's pixels together.
  return tf.tidy(() => {
    const grouped = tf.reshape(images, [batch * rows, patch, cols, patch * channels]);
    return tf.reshape(tf.transpose(grouped, [0, 2, 1, 3]), [batch, rows * cols, patch * patch * channels]) as tf.Tensor3D;
  });
}

/**
 * The inverse of {@link patchify}: puts the patches back into images.
 * `shape` is `[height, width, channels]` of one image; by default the grid is
 * square and the channels follow from the row length (`[28, 28, 1]` for
 * `[B, 16, 49]` with patch 7).
 *
 * Shapes: `[batch, patches, patch * patch * channels]` -> `[batch, height, width, channels]`.
 *
 * @example
 * const images = unpatchify(reconstructed, 7); // [B, 16, 49] -> [B, 28, 28, 1]
 */
export function unpatchify(patches: tf.Tensor3D, patch: number, shape?: readonly [number, number, number]): tf.Tensor4D {
  const fn = "unpatchify";
  checkRank(fn, "patches", patches, 3, "float32");
  checkPositiveInteger(fn, "patch", patch);
  const [batch, count, size] = patches.shape;
  let height: number, width: number, channels: number;
  if (shape === undefined) {
    const side = Math.round(Math.sqrt(count));
    channels = size / (patch * patch);
    if (side * side !== count || !Number.isInteger(channels) || channels < 1) {
      throw new Error(
        `${fn}: patches must be a square grid of rows of patch * patch * channels values, got ${describe(patches)} with patch ${patch}; pass shape for other grids`,
      );
    }
    [height, width] = [side * patch, side * patch];
  } else {
    if (!Array.isArray(shape) || shape.length !== 3) throw new Error(`${fn}: shape must be [height, width, channels], got ${describe(shape)}`);
    shape.forEach((d, i) => checkPositiveInteger(fn, `shape[${i}]`, d));
    [height, width, channels] = shape;
    if (height % patch !== 0 || width % patch !== 0) {
      throw new Error(`${fn}: patch must divide the height and width of shape, got ${patch} for shape [${shape}]`);
    }
    const fits = count === (height / patch) * (width / patch) && size === patch * patch * channels;
    if (!fits) {
      throw new Error(`${fn}: patches must have shape [batch, ${(height / patch) * (width / patch)}, ${patch * patch * channels}] for images [${shape}] and patch ${patch}, got ${describe(patches)}`);
    }
  }
  const rows = height / patch;
  const cols = width / patch;
  return tf.tidy(() => {
    const grouped = tf.reshape(patches, [batch * rows, cols, patch, patch * channels]);
    return tf.reshape(tf.transpose(grouped, [0, 2, 1, 3]), [batch, height, width, channels]) as tf.Tensor4D;
  });
}
