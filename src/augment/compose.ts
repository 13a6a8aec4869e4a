/**
 * Composing augmentations, drawing two views, and the SimCLR-style preset
 * for MNIST digits and small RGB images.
 */
import type { tf } from "../backend/tf";
import { createRng } from "../data/random";
import { type Augmentation, type TwoViewAugment, checkImages } from "./augmentation";
import { randomResizedCrop } from "./crop";
import { randomRotation } from "./geometric";
import { gaussianBlur, gaussianPixelNoise, intensityJitter } from "./photometric";
import { colorJitter, randomGrayscale } from "./color";
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
 * SimCLR's augmentation pipeline (Chen et al. 2020, Appendix A), sized for
 * small images and taking its colour ops from the batch's channels. At
 * `strength` s:
 * - random resized crop, area `[1 - 0.6 s, 1]` (0.4 at s = 1, not SimCLR's
 *   0.08: a tenth of a 28 x 28 digit is often no digit), ratio `[(3/4)^s, (4/3)^s]`;
 * - rotation in `[-15 s, 15 s]` degrees (no flip: mirrored digits are not digits);
 * - colour, by channel count:
 *   - 3 channels (RGB): {@link colorJitter} with SimCLR's strengths,
 *     brightness, contrast and saturation `0.8 s`, hue `0.2 s` (random order
 *     per image, applied with probability 0.8), then {@link randomGrayscale}
 *     with probability `0.2 min(1, s)`;
 *   - any other count (1 for MNIST): intensity jitter, brightness and
 *     contrast `0.4 s` on all channels together (colour jitter without the
 *     colour); this pipeline is the one the MNIST notebooks were run with;
 * - Gaussian blur with probability 0.5, sigma `[0.1 s, s]` pixels;
 * - Gaussian pixel noise, std `0.05 s`.
 * Output in [0, 1]. Strength 0 is the identity (up to float rounding of the
 * crop and rotation). At s > 1 the crop area floor is capped at 0.08, the
 * intensity jitter and the RGB brightness, contrast and saturation at 1 and
 * the hue at 0.5.
 *
 * Shapes: `[batch, height, width, channels]` -> the same.
 *
 * @example
 * const views = twoViews(simclrAugment({ strength: 1 }));
 * const [v1, v2] = views(x, step); // x [B, 28, 28, 1] digits or [B, 32, 32, 3] photos
 */
export function simclrAugment(options: SimclrAugmentOptions = {}): Augmentation {
  const s = options.strength ?? 1;
  checkNonNegativeNumber("simclrAugment", "options.strength", s);
  const crop = randomResizedCrop({ scale: [Math.max(0.08, 1 - 0.6 * s), 1], ratio: [(3 / 4) ** s, (4 / 3) ** s] });
  const rotation = randomRotation({ degrees: [-Math.min(180, 15 * s), Math.min(180, 15 * s)] });
  const blur = gaussianBlur({ sigma: [0.1 * s, s], p: 0.5 });
  const noise = gaussianPixelNoise({ std: 0.05 * s });
  const intensity = compose([crop, rotation, intensityJitter({ brightness: Math.min(1, 0.4 * s), contrast: Math.min(1, 0.4 * s) }), blur, noise]);
  const colour = compose([
    crop,
    rotation,
    colorJitter({
      brightness: Math.min(1, 0.8 * s),
      contrast: Math.min(1, 0.8 * s),
      saturation: Math.min(1, 0.8 * s),
      hue: Math.min(0.5, 0.2 * s),
      probability: 0.8,
    }),
    randomGrayscale({ probability: 0.2 * Math.min(1, s) }),
    blur,
    noise,
  ]);
  return (images, seed) => {
    checkImages("simclrAugment", images, seed);
    return images.shape[3] === 3 ? colour(images, seed) : intensity(images, seed);
  };
}
