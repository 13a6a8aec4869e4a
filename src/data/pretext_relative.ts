/**
 * The relative-position pretext task: given the centre patch of a 3x3 grid
 * and one of its eight neighbours, say which neighbour it is. Solving it needs
 * the parts of an object and how they sit together.
 *
 * Doersch, Gupta, Efros (2015), "Unsupervised Visual Representation Learning
 * by Context Prediction", ICCV. As in the paper, the patches are separated by
 * a gap and each is moved by a random jitter, so the network cannot match
 * continuing lines or textures across the patch borders (the trivial
 * solutions the paper warns about). Their colour tricks (dropping colour
 * channels against chromatic aberration) do not apply to grey digits.
 */
import { tf } from "../backend/tf";
import { createRng } from "./random";
import { checkImages, cropPatches } from "./pretext_common";
import { checkInteger, checkNonNegativeInteger, checkOptions, checkPositiveInteger } from "../validation/arguments";

/** Options of {@link relativePositionBatch}. */
export interface RelativePositionOptions {
  /** Side of a square patch in pixels; default 6. */
  patch?: number;
  /** Pixels between neighbouring cells of the grid; default 3. */
  gap?: number;
  /** Largest shift of a patch from its cell, in pixels, along each axis; default 1. */
  jitter?: number;
}

/** What {@link relativePositionBatch} returns. */
export interface RelativePositionBatch {
  /** `[batch, patch, patch, channels]` float32: the centre patch of each image. */
  center: tf.Tensor4D;
  /** `[batch, patch, patch, channels]` float32: the chosen neighbour patch of the same image. */
  neighbour: tf.Tensor4D;
  /** `[batch]` int32 in 0..7: where the neighbour is, see {@link RELATIVE_POSITIONS}. */
  labels: tf.Tensor1D;
  /** `[batch * 2]`: row and column of the top-left pixel of each centre patch in its image. */
  centerOrigins: Int32Array;
  /** `[batch * 2]`: row and column of the top-left pixel of each neighbour patch in its image. */
  neighbourOrigins: Int32Array;
}

/**
 * The eight labels as `[row, column]` steps from the centre cell, in reading
 * order: 0 top-left, 1 top, 2 top-right, 3 left, 4 right, 5 bottom-left,
 * 6 bottom, 7 bottom-right.
 */
export const RELATIVE_POSITIONS: readonly (readonly [number, number])[] = Object.freeze(
  [[-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 1], [1, -1], [1, 0], [1, 1]].map(([r, c]) => Object.freeze([r, c] as const)),
);

/**
 * One relative-position example per image: the centre patch and one of its
 * eight neighbours (uniform over the eight), each jittered independently.
 *
 * The grid: 3 cells of `patch` pixels separated by `gap` pixels along each
 * axis, `3 * patch + 2 * gap` pixels in all, centred in the image (offset
 * `floor((height - span) / 2)`). A patch starts at its cell's corner plus a
 * shift drawn uniformly from `-jitter..jitter` along each axis, so the image
 * needs `3 * patch + 2 * gap + 2 * jitter` pixels each way.
 *
 * Defaults for 28x28 digits: `patch` 6, `gap` 3, `jitter` 1. The gap is half
 * a patch, the paper's ratio (96-pixel patches, 48-pixel gaps); the grid
 * spans 24 pixels, rows and columns 2..25, about the 20x20 box MNIST centres
 * its digits in; with the jitter the patches stay in pixels 1..26 and two
 * neighbours are always at least `gap - 2 * jitter` = 1 pixel apart, so they
 * never touch.
 *
 * Shapes: `images` `[batch, height, width, channels]` float32 ->
 * `center`, `neighbour` `[batch, patch, patch, channels]`, `labels` `[batch]` int32.
 *
 * @example
 * const { center, neighbour, labels } = relativePositionBatch(digits, {}, 3);
 * const z = tf.concat([encoder.apply(center), encoder.apply(neighbour)], 1); // then an 8-way classifier
 */
export function relativePositionBatch(images: tf.Tensor4D, options: RelativePositionOptions, seed: number): RelativePositionBatch {
  const fn = "relativePositionBatch";
  checkImages(fn, images);
  checkOptions(fn, options, "{patch?, gap?, jitter?}");
  const { patch = 6, gap = 3, jitter = 1 } = options;
  checkPositiveInteger(fn, "options.patch", patch);
  checkNonNegativeInteger(fn, "options.gap", gap);
  checkNonNegativeInteger(fn, "options.jitter", jitter);
  checkInteger(fn, "seed", seed);
  const [batch, height, width] = images.shape;
  const span = 3 * patch + 2 * gap;
  if (span + 2 * jitter > Math.min(height, width)) {
    throw new Error(
      `${fn}: the grid needs 3 * patch + 2 * gap + 2 * jitter = ${span + 2 * jitter} pixels each way, ` +
        `got images of ${height}x${width} (patch ${patch}, gap ${gap}, jitter ${jitter})`,
    );
  }
  const top = Math.floor((height - span) / 2);
  const left = Math.floor((width - span) / 2);
  const rng = createRng(seed);
  const shift = (): number => rng.int(2 * jitter + 1) - jitter;
  const labels = new Int32Array(batch);
  const centerOrigins = new Int32Array(2 * batch);
  const neighbourOrigins = new Int32Array(2 * batch);
  for (let b = 0; b < batch; b++) {
    const label = rng.int(8);
    const [dr, dc] = RELATIVE_POSITIONS[label];
    labels[b] = label;
    centerOrigins[2 * b] = top + (patch + gap) + shift();
    centerOrigins[2 * b + 1] = left + (patch + gap) + shift();
    neighbourOrigins[2 * b] = top + (1 + dr) * (patch + gap) + shift();
    neighbourOrigins[2 * b + 1] = left + (1 + dc) * (patch + gap) + shift();
  }
  const sources = Int32Array.from({ length: batch }, (_, b) => b);
  return {
    center: cropPatches(images, sources, centerOrigins, patch),
    neighbour: cropPatches(images, sources, neighbourOrigins, patch),
    labels: tf.tensor1d(labels, "int32"),
    centerOrigins,
    neighbourOrigins,
  };
}
