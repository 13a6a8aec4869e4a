/**
 * Geometric augmentations, per image: horizontal flip and rotation. Rotation
 * is one batched `tf.image.transform` with a `[batch, 8]` matrix per image
 * (`tf.image.rotateWithOffset` takes one angle for the whole batch); on the
 * `cpu` backend, whose batched Transform kernel is wrong in tfjs 4.22, one
 * call per image.
 */
import { tf } from "../backend/tf";
import { createRng } from "../data/random";
import { type Augmentation, checkImages, checkInterval, uniform } from "./augmentation";
import { checkFiniteNumber, checkProbability } from "../validation/arguments";

/** Options of {@link horizontalFlip}. */
export interface HorizontalFlipOptions {
  /** Probability that an image is flipped; default 0.5. */
  p?: number;
}

/**
 * Horizontal flip of each image independently with probability `p` (exact:
 * pixels are moved, not interpolated). Off by default in the MNIST preset:
 * mirrored digits are not digits.
 *
 * Shapes: `[batch, height, width, channels]` -> the same.
 *
 * @example
 * const flipped = horizontalFlip({ p: 0.5 })(x, 7);
 */
export function horizontalFlip(options: HorizontalFlipOptions = {}): Augmentation {
  const fn = "horizontalFlip";
  const p = options.p ?? 0.5;
  checkProbability(fn, "options.p", p);
  return (images, seed) => {
    checkImages(fn, images, seed);
    const batch = images.shape[0];
    const rng = createRng(seed);
    const flip = Float32Array.from({ length: batch }, () => (rng.next() < p ? 1 : 0));
    return tf.tidy(() => {
      const m = tf.tensor4d(flip, [batch, 1, 1, 1]);
      // Sum of two masked terms is exact: one of them is 0 * value = 0.
      return tf.add(tf.mul(images, tf.sub(1, m)), tf.mul(tf.image.flipLeftRight(images), m)) as tf.Tensor4D;
    });
  };
}

/** Options of {@link randomRotation}. */
export interface RandomRotationOptions {
  /** Range of the angle in degrees, drawn uniformly per image; positive turns counterclockwise as displayed. Default `[-15, 15]`. */
  degrees?: readonly [number, number];
  /** Value of pixels rotated in from outside the image; default 0 (MNIST background). */
  fill?: number;
}

/**
 * The `[batch * 8]` projective matrices (`tf.image.transform`'s format,
 * mapping an output pixel to the input point it samples) that rotate each
 * image by its angle about its centre `((width - 1) / 2, (height - 1) / 2)`.
 *
 * Shapes: `angles` `[batch]` in radians -> `[batch * 8]`.
 *
 * @example
 * const m = rotationTransforms(Float32Array.of(0.1, -0.2), 28, 28);
 */
export function rotationTransforms(angles: ArrayLike<number>, height: number, width: number): Float32Array {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const out = new Float32Array(angles.length * 8);
  for (let i = 0; i < angles.length; i++) {
    const c = Math.cos(angles[i]);
    const s = Math.sin(angles[i]);
    // Input point = R(theta) (output - centre) + centre, with y pointing down.
    out.set([c, -s, cx - c * cx + s * cy, s, c, cy - s * cx - c * cy, 0, 0], i * 8);
  }
  return out;
}

/**
 * Rotation of each image by its own angle drawn uniformly from
 * `options.degrees`, bilinear interpolation, corners filled with
 * `options.fill`. For inputs in [0, 1] and fill in [0, 1] the output stays in
 * [0, 1] (a convex combination). `degrees: [0, 0]` is the identity.
 *
 * Shapes: `[batch, height, width, channels]` -> the same.
 *
 * @example
 * const rotated = randomRotation({ degrees: [-15, 15] })(x, 7);
 */
export function randomRotation(options: RandomRotationOptions = {}): Augmentation {
  const fn = "randomRotation";
  const degrees = options.degrees ?? [-15, 15];
  checkInterval(fn, "options.degrees", degrees, -180, 180);
  const fill = options.fill ?? 0;
  checkFiniteNumber(fn, "options.fill", fill);
  return (images, seed) => {
    checkImages(fn, images, seed);
    if (degrees[0] === 0 && degrees[1] === 0) return images.clone();
    const [batch, height, width] = images.shape;
    const rng = createRng(seed);
    const angles = Float64Array.from({ length: batch }, () => (uniform(rng.next, degrees) * Math.PI) / 180);
    const transforms = rotationTransforms(angles, height, width);
    return tf.tidy(() => {
      if (tf.getBackend() !== "cpu") return tf.image.transform(images, tf.tensor2d(transforms, [batch, 8]), "bilinear", "constant", fill);
      // tfjs-backend-cpu 4.22's Transform returns after the first image of a
      // batch (the rest stay at the fill value): one call per image there.
      const rotated = tf.unstack(images).map((image, i) =>
        tf.image.transform(tf.expandDims(image, 0) as tf.Tensor4D, tf.tensor2d(transforms.subarray(i * 8, i * 8 + 8), [1, 8]), "bilinear", "constant", fill),
      );
      return tf.concat(rotated, 0);
    });
  };
}
