/**
 * Colour distortion for RGB images, the augmentation SimCLR pairs with
 * random cropping (Chen et al. 2020, "A Simple Framework for Contrastive
 * Learning of Visual Representations", Sec. 3 and Appendix A): colour jitter
 * of strength s (brightness, contrast and saturation 0.8 s, hue 0.2 s, the
 * whole jitter applied with probability 0.8) and random grayscale
 * (probability 0.2). The formulas and the random order of the four jitter
 * ops are torchvision's `ColorJitter`, as the paper's PyTorch pseudo-code
 * uses; grey is ITU-R 601 luma `0.299 R + 0.587 G + 0.114 B`.
 */
import { tf } from "../backend/tf";
import { BT601_WEIGHTS } from "../data/colored_digits";
import { createRng } from "../data/random";
import { type Augmentation, checkImages } from "./augmentation";
import { checkInteger, checkNonNegativeInteger, checkNumberInRange, checkProbability, describe } from "../validation/arguments";


/** The four jitter ops, in the index order {@link ColorJitterParameters.order} uses. */
export const COLOR_JITTER_OPS = ["brightness", "contrast", "saturation", "hue"] as const;

/** Options of {@link colorJitter}. */
export interface ColorJitterOptions {
  /** Brightness factor drawn from `[1 - brightness, 1 + brightness]`, in [0, 1]; default 0.8 (SimCLR, s = 1). */
  brightness?: number;
  /** Contrast factor drawn from `[1 - contrast, 1 + contrast]`, in [0, 1]; default 0.8. */
  contrast?: number;
  /** Saturation factor drawn from `[1 - saturation, 1 + saturation]`, in [0, 1]; default 0.8. */
  saturation?: number;
  /** Hue shift drawn from `[-hue, hue]` in turns of the colour wheel, in [0, 0.5]; default 0.2. */
  hue?: number;
  /** Probability that an image is jittered at all; default 0.8 (SimCLR). */
  probability?: number;
}

/** What {@link colorJitterParameters} draws for a batch, one entry per image. */
export interface ColorJitterParameters {
  /** 1 where the image is jittered, 0 where it is left as it is. */
  applied: Uint8Array;
  /** Brightness factors. */
  brightness: Float64Array;
  /** Contrast factors. */
  contrast: Float64Array;
  /** Saturation factors. */
  saturation: Float64Array;
  /** Hue shifts in turns. */
  hue: Float64Array;
  /** Row-major `[batch, 4]`: the ops of image i are `order[4 i]`, ..., `order[4 i + 3]`, indices into {@link COLOR_JITTER_OPS}. */
  order: Uint8Array;
}

/** Rejects anything but a float32 `[batch, height, width, 3]` tensor and an integer seed. */
function checkRgb(fn: string, images: tf.Tensor, seed: number): void {
  checkImages(fn, images, seed);
  if (images.shape[3] !== 3) {
    throw new Error(`${fn}: images must be RGB, a float32 tensor of shape [batch,height,width,3], got ${describe(images)}`);
  }
}

function resolveJitter(fn: string, options: ColorJitterOptions): Required<ColorJitterOptions> {
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object {brightness?, contrast?, saturation?, hue?, probability?}, got ${describe(options)}`);
  const resolved = {
    brightness: options.brightness ?? 0.8,
    contrast: options.contrast ?? 0.8,
    saturation: options.saturation ?? 0.8,
    hue: options.hue ?? 0.2,
    probability: options.probability ?? 0.8,
  };
  checkNumberInRange(fn, "options.brightness", resolved.brightness, 0, 1);
  checkNumberInRange(fn, "options.contrast", resolved.contrast, 0, 1);
  checkNumberInRange(fn, "options.saturation", resolved.saturation, 0, 1);
  checkNumberInRange(fn, "options.hue", resolved.hue, 0, 0.5);
  checkProbability(fn, "options.probability", resolved.probability);
  return resolved;
}

/**
 * The per-image draws of {@link colorJitter} for a seed: whether the image is
 * jittered (probability `options.probability`), the four factors (uniform in
 * their ranges) and a uniformly random order of the four ops. Everything is
 * drawn for every image, so the draws of image i do not depend on whether
 * earlier images were jittered.
 *
 * Shapes: returns arrays of `[batch]` (`order`: `[batch * 4]`).
 *
 * @example
 * const { applied, hue, order } = colorJitterParameters(8, { hue: 0.1 }, 7);
 */
export function colorJitterParameters(batch: number, options: ColorJitterOptions, seed: number): ColorJitterParameters {
  const fn = "colorJitterParameters";
  checkNonNegativeInteger(fn, "batch", batch);
  checkInteger(fn, "seed", seed);
  const o = resolveJitter(fn, options);
  const rng = createRng(seed);
  const out: ColorJitterParameters = {
    applied: new Uint8Array(batch),
    brightness: new Float64Array(batch),
    contrast: new Float64Array(batch),
    saturation: new Float64Array(batch),
    hue: new Float64Array(batch),
    order: new Uint8Array(batch * 4),
  };
  const factor = (strength: number): number => 1 - strength + 2 * strength * rng.next();
  for (let i = 0; i < batch; i++) {
    out.applied[i] = rng.next() < o.probability ? 1 : 0;
    out.brightness[i] = factor(o.brightness);
    out.contrast[i] = factor(o.contrast);
    out.saturation[i] = factor(o.saturation);
    out.hue[i] = o.hue * (2 * rng.next() - 1);
    out.order.set(rng.shuffle([0, 1, 2, 3]), i * 4);
  }
  return out;
}

/**
 * `[m, h, w, 3] -> [m, h, w, 1]` luma, or `[m, h, w, 3]` with the luma in
 * every channel. As 1x1 convolutions: on wasm much faster than slicing or
 * concatenating along the channel axis, and the copy to three channels is a
 * single product by 1, so the channels are bit-identical. Call inside tidy.
 */
function luma(images: tf.Tensor4D, replicate = false): tf.Tensor4D {
  const y = tf.conv2d(images, tf.tensor4d([...BT601_WEIGHTS], [1, 1, 3, 1]), 1, "valid");
  return replicate ? tf.conv2d(y, tf.ones([1, 1, 1, 3]) as tf.Tensor4D, 1, "valid") : y;
}

/** `clip(f x + (1 - f) other, 0, 1)` with one factor per image: torchvision's `_blend`. Call inside tidy. */
function blend(images: tf.Tensor4D, other: tf.Tensor, factors: Float32Array): tf.Tensor4D {
  const f = tf.tensor4d(factors, [factors.length, 1, 1, 1]);
  return tf.clipByValue(tf.add(tf.mul(images, f), tf.mul(other, tf.sub(1, f))), 0, 1) as tf.Tensor4D;
}

/**
 * Rotates the hue of each RGB image by its own shift (in turns of the colour
 * wheel), keeping saturation and value: RGB -> HSV, `h <- (h + shift) mod 1`,
 * HSV -> RGB, as torchvision's `adjust_hue`. HSV -> RGB uses the closed form
 * `f(n) = V - (V - min) clip(min(k, 4 - k), 0, 1)`, `k = (n + 6 h) mod 6`,
 * n = 5, 3, 1 for R, G, B, so the op is a handful of elementwise tensor ops.
 * Output clipped to [0, 1] (only float rounding can leave it). A shift of 0
 * or 1 returns the image up to float32 rounding.
 *
 * Shapes: `images` `[batch, height, width, 3]`, `shifts` `[batch]` -> `[batch, height, width, 3]`.
 *
 * @example
 * const shifted = shiftHue(rgb, [0.25, -0.1]); // two images, a quarter turn and -0.1 turn
 */
export function shiftHue(images: tf.Tensor4D, shifts: ArrayLike<number>): tf.Tensor4D {
  const fn = "shiftHue";
  checkRgb(fn, images, 0);
  const batch = images.shape[0];
  if (shifts === null || typeof shifts !== "object" || shifts.length !== batch) {
    throw new Error(`${fn}: shifts must hold one number per image (${batch}), got ${describe(shifts)}`);
  }
  for (let i = 0; i < batch; i++) {
    if (!Number.isFinite(shifts[i])) throw new Error(`${fn}: shifts[${i}] must be a finite number, got ${describe(shifts[i])}`);
  }
  return tf.tidy(() => {
    const [r, g, b] = tf.split(images, 3, 3);
    const max = tf.maximum(tf.maximum(r, g), b);
    const min = tf.minimum(tf.minimum(r, g), b);
    const delta = tf.sub(max, min);
    const grey = tf.equal(delta, 0);
    const safe = tf.where(grey, tf.onesLike(delta), delta);
    // Hue in sixths of a turn, in [0, 6): which channel is the max picks the sector.
    const fromR = tf.div(tf.sub(g, b), safe);
    const fromG = tf.add(tf.div(tf.sub(b, r), safe), 2);
    const fromB = tf.add(tf.div(tf.sub(r, g), safe), 4);
    const sixths = tf.where(tf.equal(max, r), fromR, tf.where(tf.equal(max, g), fromG, fromB));
    const shifted = tf.add(sixths, tf.tensor4d(Float32Array.from(shifts, (s) => 6 * s), [batch, 1, 1, 1]));
    const channel = (n: number): tf.Tensor => {
      const unwrapped = tf.add(shifted, n);
      const k = tf.sub(unwrapped, tf.mul(tf.floor(tf.div(unwrapped, 6)), 6));
      const ramp = tf.clipByValue(tf.minimum(k, tf.sub(4, k)), 0, 1);
      // A grey pixel has no hue: every channel stays at its value.
      return tf.where(grey, max, tf.sub(max, tf.mul(delta, ramp)));
    };
    return tf.clipByValue(tf.concat([channel(5), channel(3), channel(1)], 3), 0, 1) as tf.Tensor4D;
  });
}

/** Applies op `op` of {@link COLOR_JITTER_OPS} to `images` with per-image `factors`. Call inside tidy. */
function applyOp(op: number, images: tf.Tensor4D, factors: Float32Array): tf.Tensor4D {
  switch (op) {
    case 0:
      return tf.clipByValue(tf.mul(images, tf.tensor4d(factors, [factors.length, 1, 1, 1])), 0, 1) as tf.Tensor4D;
    case 1:
      return blend(images, tf.mean(luma(images), [1, 2, 3], true), factors);
    case 2:
      return blend(images, luma(images, true), factors);
    default:
      return shiftHue(images, factors);
  }
}

/**
 * Colour jitter, per image, torchvision's `ColorJitter` in a random order
 * per image (SimCLR's recipe), the whole jitter applied with probability
 * `options.probability`:
 * - brightness b: `x <- clip(b x, 0, 1)`;
 * - contrast c: `x <- clip(c x + (1 - c) m, 0, 1)`, m the image's mean luma;
 * - saturation s: `x <- clip(s x + (1 - s) y, 0, 1)`, y the pixel's luma;
 * - hue h: {@link shiftHue} by h turns.
 * The draws are {@link colorJitterParameters}'s. Each op runs once per image
 * on the images that have it in that position (gathered, so no image pays
 * for ops it does not get); an image not jittered is returned bit for bit.
 * An op of strength 0 is left out. Output in [0, 1]. All four strengths 0
 * is the identity.
 *
 * Shapes: `[batch, height, width, 3]` -> the same. Other channel counts are
 * rejected: colour needs three channels.
 *
 * @example
 * const s = 1;
 * const jitter = colorJitter({ brightness: 0.8 * s, contrast: 0.8 * s, saturation: 0.8 * s, hue: 0.2 * s, probability: 0.8 });
 * const views = jitter(rgb, 7);
 */
export function colorJitter(options: ColorJitterOptions = {}): Augmentation {
  const fn = "colorJitter";
  const resolved = resolveJitter(fn, options);
  const identity = resolved.brightness === 0 && resolved.contrast === 0 && resolved.saturation === 0 && resolved.hue === 0;
  return (images, seed) => {
    checkRgb(fn, images, seed);
    if (identity || resolved.probability === 0) return images.clone();
    const batch = images.shape[0];
    const params = colorJitterParameters(batch, resolved, seed);
    const factorsOf = [params.brightness, params.contrast, params.saturation, params.hue];
    // An op of strength 0 is left out, not run at its identity factor (hue's round trip through HSV is not bit-exact).
    const active = [resolved.brightness, resolved.contrast, resolved.saturation, resolved.hue].map((v) => v > 0);
    return tf.tidy(() => {
      let current: tf.Tensor4D = images;
      for (let slot = 0; slot < 4; slot++) {
        // Group 4 holds the images left as they are.
        const groups: number[][] = [[], [], [], [], []];
        for (let i = 0; i < batch; i++) groups[params.applied[i] ? params.order[i * 4 + slot] : 4].push(i);
        const parts: tf.Tensor4D[] = [];
        const rows: number[] = [];
        groups.forEach((members, op) => {
          if (members.length === 0) return;
          const picked = tf.gather(current, tf.tensor1d(members, "int32")) as tf.Tensor4D;
          parts.push(op === 4 || !active[op] ? picked : applyOp(op, picked, Float32Array.from(members, (i) => factorsOf[op][i])));
          rows.push(...members);
        });
        // Row j of the concatenation is image rows[j]: invert to put images back in place.
        const inverse = new Int32Array(batch);
        rows.forEach((image, j) => (inverse[image] = j));
        current = tf.gather(tf.concat(parts, 0), tf.tensor1d(inverse, "int32")) as tf.Tensor4D;
      }
      return current;
    });
  };
}

/** Options of {@link randomGrayscale}. */
export interface RandomGrayscaleOptions {
  /** Probability that an image is turned grey; default 0.2 (SimCLR). */
  probability?: number;
}

/**
 * Random grayscale: each RGB image, with probability `options.probability`,
 * becomes its luma `0.299 R + 0.587 G + 0.114 B` copied to all three
 * channels (torchvision's `RandomGrayscale`), so it stays `[.., 3]` and a
 * grey view can be compared with a coloured one. Other images are returned
 * bit for bit. Output in [0, 1] for input in [0, 1] (the weights sum to 1).
 * `probability: 0` is the identity.
 *
 * Shapes: `[batch, height, width, 3]` -> the same. Other channel counts are
 * rejected.
 *
 * @example
 * const grey = randomGrayscale({ probability: 0.2 })(rgb, 7);
 */
export function randomGrayscale(options: RandomGrayscaleOptions = {}): Augmentation {
  const fn = "randomGrayscale";
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object {probability?}, got ${describe(options)}`);
  const probability = options.probability ?? 0.2;
  checkProbability(fn, "options.probability", probability);
  return (images, seed) => {
    checkRgb(fn, images, seed);
    if (probability === 0) return images.clone();
    const batch = images.shape[0];
    const rng = createRng(seed);
    const grey = Uint8Array.from({ length: batch }, () => (rng.next() < probability ? 1 : 0));
    return tf.tidy(() => {
      const m = tf.tensor4d(grey, [batch, 1, 1, 1], "float32");
      // x (1 - m) + y m is exact for m in {0, 1}: one of the terms is 0.
      return tf.add(tf.mul(images, tf.sub(1, m)), tf.mul(luma(images, true), m)) as tf.Tensor4D;
    });
  };
}
