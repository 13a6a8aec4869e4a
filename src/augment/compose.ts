/**
 * Composing augmentations, drawing two views, and the SimCLR-style preset
 * for MNIST digits.
 */
import type { tf } from "../backend/tf";
import { createRng } from "../data/random";
import { type Augmentation, type TwoViewAugment, checkImages } from "./augmentation";
import { randomResizedCrop } from "./crop";
import { randomRotation } from "./geometric";
import { gaussianBlur, gaussianPixelNoise, intensityJitter } from "./photometric";
import { checkNonNegativeNumber } from "../validation/arguments";

/**
 * One augmentation applying `augmentations` in order, each with its own seed
 * drawn from `createRng(seed)`. Intermediate results are disposed; the input
 * is not. An empty list is the identity (a copy).
 *
 * Shapes: `[batch, height, width, channels]` -> the same.
 *
 * @example
 * const aug = compose([randomResizedCrop({ scale: [0.4, 1] }), gaussianPixelNoise({ std: 0.05 })]);
 * const view = aug(x, 7);
 */
export function compose(augmentations: readonly Augmentation[]): Augmentation {
  const fn = "compose";
  if (!Array.isArray(augmentations)) throw new Error(`compose: augmentations must be an array of functions, got ${typeof augmentations}`);
  augmentations.forEach((a, i) => {
    if (typeof a !== "function") throw new Error(`${fn}: augmentations[${i}] must be a function (images, seed) => images, got ${typeof a}`);
  });
  const steps = [...augmentations];
  return (images, seed) => {
    checkImages(fn, images, seed);
    const rng = createRng(seed);
    let current: tf.Tensor4D = images;
    for (const step of steps) {
      const next = step(current, rng.fork());
      if (current !== images) current.dispose();
      current = next;
    }
    return current === images ? images.clone() : current;
  };
}

/**
 * Two independent draws of `augmentation` of the same batch (seeds forked
 * from `seed`): the positive pairs of SimCLR, BYOL, SimSiam, Barlow Twins.
 *
 * Shapes: `[batch, height, width, channels]` -> `[view1, view2]`, each the same shape.
 *
 * @example
 * const [v1, v2] = twoViews(simclrAugment())(x, step);
 */
export function twoViews(augmentation: Augmentation): TwoViewAugment {
  if (typeof augmentation !== "function") throw new Error(`twoViews: augmentation must be a function (images, seed) => images, got ${typeof augmentation}`);
  return (images, seed) => {
    checkImages("twoViews", images, seed);
    const rng = createRng(seed);
    const first = augmentation(images, rng.fork());
    return [first, augmentation(images, rng.fork())];
  };
}

/** Options of {@link simclrAugment}. */
export interface SimclrAugmentOptions {
  /** Scales every augmentation from 0 (the identity) to 1 (the preset) and beyond; default 1. */
  strength?: number;
}

/**
 * SimCLR's augmentation pipeline (Chen et al. 2020, Appendix A) adapted to
 * 28 x 28 grey digits. At `strength` s:
 * - random resized crop, area `[1 - 0.6 s, 1]` (0.4 at s = 1, not SimCLR's
 *   0.08: a tenth of a digit is often no digit), ratio `[(3/4)^s, (4/3)^s]`;
 * - rotation in `[-15 s, 15 s]` degrees (no flip: mirrored digits are not digits);
 * - intensity jitter, brightness and contrast `0.4 s` (colour jitter without
 *   the colour: MNIST has one channel);
 * - Gaussian blur with probability 0.5, sigma `[0.1 s, s]` pixels;
 * - Gaussian pixel noise, std `0.05 s`.
 * Output in [0, 1]. Strength 0 is the identity. At s > 1 the crop area floor
 * is capped at 0.08 and the jitter at 1.
 *
 * Shapes: `[batch, height, width, channels]` -> the same.
 *
 * @example
 * const views = twoViews(simclrAugment({ strength: 1 }));
 * const [v1, v2] = views(x, step);
 */
export function simclrAugment(options: SimclrAugmentOptions = {}): Augmentation {
  const s = options.strength ?? 1;
  checkNonNegativeNumber("simclrAugment", "options.strength", s);
  return compose([
    randomResizedCrop({ scale: [Math.max(0.08, 1 - 0.6 * s), 1], ratio: [(3 / 4) ** s, (4 / 3) ** s] }),
    randomRotation({ degrees: [-Math.min(180, 15 * s), Math.min(180, 15 * s)] }),
    intensityJitter({ brightness: Math.min(1, 0.4 * s), contrast: Math.min(1, 0.4 * s) }),
    gaussianBlur({ sigma: [0.1 * s, s], p: 0.5 }),
    gaussianPixelNoise({ std: 0.05 * s }),
  ]);
}
