/**
 * Coloured digits: MNIST has no colour, so colorization (Zhang, Isola &
 * Efros 2016, "Colorful Image Colorization") gets a seeded data set whose
 * colour is tied to the digit by a stated rule, and the colour space to
 * learn it in: luminance Y (the grey input) and chroma Cb, Cr (what is
 * predicted), ITU-R BT.601.
 *
 * The rule makes colour carry semantics on purpose: a network can only
 * colour a stroke right if it recognises the digit. On natural images colour
 * carries semantics only where the world ties them (sky, grass, skin); on
 * these digits it carries exactly the label, and nothing else but noise.
 */
import { tf } from "../backend/tf";
import { checkImageSet, type ImageSet } from "./mnist";
import { createRng } from "./random";
import { checkImages } from "./pretext_common";
import { checkInteger, checkNonNegativeNumber, checkNumberInRange, checkOptions, describe } from "../validation/arguments";

/** ITU-R BT.601 luma weights of R, G, B: Y = 0.299 R + 0.587 G + 0.114 B. */
export const BT601_WEIGHTS: readonly [number, number, number] = Object.freeze([0.299, 0.587, 0.114] as const);

/**
 * The hue of each digit class, in turns (0 = red, 1/3 = green, 2/3 = blue):
 * class c has hue c / 10, so neighbouring classes are 36 degrees apart.
 */
export const DIGIT_HUES: readonly number[] = Object.freeze(Array.from({ length: 10 }, (_, c) => c / 10));

/** Options of {@link coloredDigits}. */
export interface ColoredDigitsOptions {
  /** Seed of the hue noise and the background tints. */
  seed: number;
  /** Hue of each class in turns, one per label; default {@link DIGIT_HUES}. */
  hues?: readonly number[];
  /** Standard deviation of the Gaussian noise added to an image's hue, in turns; default 0.03 (about 11 degrees). */
  hueJitter?: number;
  /** Luminance Y of every stroke colour; default 0.6. */
  strokeLuminance?: number;
  /** Chroma scale k of the stroke colours (see the rule); default 0.45. */
  chroma?: number;
  /**
   * Each background channel is uniform in [0, backgroundMax]; default 0.1:
   * a tint faint enough that the stroke's colour, not the unpredictable
   * background, dominates what a colorizer is scored on.
   */
  backgroundMax?: number;
}

/** A coloured digit set: an RGB {@link ImageSet} and the factors that made each image. */
export interface ColoredDigitSet extends ImageSet {
  /** Shape of one image, `[height, width, 3]`. */
  readonly shape: readonly [number, number, 3];
  /** `[n]` the hue of each image's stroke, in turns in [0, 1). */
  readonly strokeHues: Float32Array;
  /** `[n, 3]` flattened: the RGB background tint of each image. */
  readonly backgrounds: Float32Array;
}

/**
 * The stroke colour of a hue: the fully saturated colour of that hue, moved
 * to luminance `strokeLuminance` without changing its direction in colour:
 *
 *   fg = strokeLuminance * (1, 1, 1) + chroma * (rgb(hue) - Y(rgb(hue)) * (1, 1, 1)),
 *
 * where rgb(hue) is the HSV colour (hue, saturation 1, value 1). The second
 * term has luminance 0, so every stroke colour has luminance exactly
 * `strokeLuminance`: all hues look the same in grey.
 *
 * Shapes: -> `[3]` RGB in float64.
 *
 * @example
 * isoluminantColor(0, 0.6, 0.45); // a red of luminance 0.6: [0.915, 0.465, 0.465]
 */
export function isoluminantColor(hue: number, strokeLuminance: number, chroma: number): [number, number, number] {
  const [r, g, b] = hueToRgb(hue);
  const y = BT601_WEIGHTS[0] * r + BT601_WEIGHTS[1] * g + BT601_WEIGHTS[2] * b;
  return [strokeLuminance + chroma * (r - y), strokeLuminance + chroma * (g - y), strokeLuminance + chroma * (b - y)];
}

/** The HSV colour (hue in turns, saturation 1, value 1) as RGB in [0, 1]. */
function hueToRgb(hue: number): [number, number, number] {
  const h = (((hue % 1) + 1) % 1) * 6;
  const channel = (n: number) => {
    const k = (n + h) % 6;
    return 1 - Math.max(0, Math.min(k, 4 - k, 1));
  };
  return [channel(5), channel(3), channel(1)];
}

/**
 * Colours a grey digit set by a stated rule (a seeded data set for
 * colorization).
 *
 * Data card.
 * - What is generated: one RGB image per input digit, same size, same label,
 *   same order. The digit's intensity m in [0, 1] (the MNIST pixel) alpha-blends
 *   a stroke colour over a background tint: pixel = m * fg + (1 - m) * bg.
 * - Rule (the label factor): the stroke colour fg = {@link isoluminantColor}(h)
 *   of hue h = hues[label] + hueJitter * N(0, 1) (mod 1), per image.
 *   Every stroke colour has luminance `strokeLuminance`, so the grey image
 *   says nothing of the hue: to colour a digit, a model has to recognise it.
 * - Nuisance factors (independent of the label): the hue noise above, and
 *   the background tint bg, each RGB channel uniform in [0, backgroundMax]
 *   per image.
 * - Labels: the input set's digit labels, copied. `strokeHues` and
 *   `backgrounds` record the drawn factors of each image.
 * - Randomness: one stream from `seed`, per image in order: a normal (hue
 *   noise), then three uniforms (background); same seed, same set.
 * The defaults (luminance 0.6, chroma 0.45) keep every colour inside
 * [0, 1] (|rgb - Y| <= 0.886 for any hue); options that would leave it throw.
 *
 * Shapes: `set` `[n, height, width, 1]` with values in [0, 1] ->
 * images `[n, height, width, 3]`, labels `[n]`.
 *
 * @example
 * const { train } = loadMnist({ trainSize: 2000 });
 * const colored = coloredDigits(train, { seed: 1 }); // shape [28, 28, 3]
 * const grey = luminance(toTensors(colored).x);     // [2000, 28, 28, 1]
 */
export function coloredDigits(set: ImageSet, options: ColoredDigitsOptions): ColoredDigitSet {
  const fn = "coloredDigits";
  checkImageSet(fn, set);
  if (set.shape[2] !== 1) throw new Error(`${fn}: set must hold grey images [n, height, width, 1], got shape [${set.shape}]`);
  checkOptions(fn, options, "{seed, hues?, hueJitter?, strokeLuminance?, chroma?, backgroundMax?}");
  const { seed, hues = DIGIT_HUES, hueJitter = 0.03, strokeLuminance = 0.6, chroma = 0.45, backgroundMax = 0.1 } = options;
  checkInteger(fn, "options.seed", seed);
  if (!Array.isArray(hues) || !hues.every((h) => typeof h === "number" && Number.isFinite(h))) {
    throw new Error(`${fn}: options.hues must be an array of finite numbers (one hue per class, in turns), got ${describe(hues)}`);
  }
  checkNonNegativeNumber(fn, "options.hueJitter", hueJitter);
  checkNumberInRange(fn, "options.strokeLuminance", strokeLuminance, 0, 1);
  checkNonNegativeNumber(fn, "options.chroma", chroma);
  checkNumberInRange(fn, "options.backgroundMax", backgroundMax, 0, 1);
  // The largest |rgb - Y| over hues is 0.886 (blue above, yellow below).
  const reach = 0.886 * chroma;
  if (strokeLuminance - reach < 0 || strokeLuminance + reach > 1) {
    throw new Error(
      `${fn}: options.chroma must keep every stroke colour in [0, 1] (strokeLuminance ± 0.886 * chroma), ` +
        `got chroma ${chroma} with strokeLuminance ${strokeLuminance}`,
    );
  }
  const [h, w] = set.shape;
  const pixels = h * w;
  const images = new Float32Array(set.n * pixels * 3);
  const strokeHues = new Float32Array(set.n);
  const backgrounds = new Float32Array(set.n * 3);
  const rng = createRng(seed);
  for (let i = 0; i < set.n; i++) {
    const label = set.labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= hues.length) {
      throw new Error(`${fn}: set.labels[${i}] must be a class in [0, ${hues.length}) (one hue per class), got ${label}`);
    }
    const hue = ((((hues[label] + hueJitter * rng.normal()) % 1) + 1) % 1);
    const fg = isoluminantColor(hue, strokeLuminance, chroma);
    const bg = [rng.next() * backgroundMax, rng.next() * backgroundMax, rng.next() * backgroundMax];
    strokeHues[i] = hue;
    backgrounds.set(bg, i * 3);
    const src = i * pixels;
    for (let p = 0; p < pixels; p++) {
      const m = set.images[src + p];
      const out = (src + p) * 3;
      for (let c = 0; c < 3; c++) images[out + c] = m * fg[c] + (1 - m) * bg[c];
    }
  }
  return { images, labels: set.labels.slice(), n: set.n, shape: [h, w, 3], strokeHues, backgrounds };
}

/** Checks that `images` is float32 `[batch, height, width, 3]`. */
function checkRgb(fn: string, images: unknown): asserts images is tf.Tensor4D {
  checkImages(fn, images);
  if (images.shape[3] !== 3) throw new Error(`${fn}: images must be RGB [batch, height, width, 3], got ${describe(images)}`);
}

/**
 * The grey (luma) image of RGB images, ITU-R BT.601:
 * Y = 0.299 R + 0.587 G + 0.114 B.
 *
 * Shapes: `[batch, height, width, 3]` -> `[batch, height, width, 1]`.
 *
 * @example
 * const grey = luminance(colored); // [64, 28, 28, 3] -> [64, 28, 28, 1]
 */
export function luminance(images: tf.Tensor4D): tf.Tensor4D {
  checkRgb("luminance", images);
  return tf.tidy(() => tf.sum(tf.mul(images, tf.tensor1d([...BT601_WEIGHTS])), 3, true) as tf.Tensor4D);
}

/**
 * The chroma of RGB images, BT.601's colour-difference signals (analogue
 * form, centred at 0): Cb = (B - Y) / 1.772, Cr = (R - Y) / 1.402, each in
 * [-0.5, 0.5]. Together with Y ({@link luminance}) they are an invertible
 * linear transform of RGB ({@link rgbFromLuminanceChroma}).
 *
 * Shapes: `[batch, height, width, 3]` -> `[batch, height, width, 2]` (Cb, Cr).
 *
 * @example
 * const cbcr = chroma(colored); // [64, 28, 28, 2]
 */
export function chroma(images: tf.Tensor4D): tf.Tensor4D {
  checkRgb("chroma", images);
  return tf.tidy(() => {
    const y = luminance(images);
    const [r, , b] = tf.split(images, 3, 3);
    return tf.concat([tf.div(tf.sub(b, y), 1.772), tf.div(tf.sub(r, y), 1.402)], 3) as tf.Tensor4D;
  });
}

/**
 * RGB from luminance and chroma, the inverse of ({@link luminance},
 * {@link chroma}): R = Y + 1.402 Cr, B = Y + 1.772 Cb,
 * G = (Y - 0.299 R - 0.114 B) / 0.587. Not clipped: chroma predicted by a
 * model may give values outside [0, 1].
 *
 * Shapes: `y` `[batch, height, width, 1]`, `cbcr` `[batch, height, width, 2]` -> `[batch, height, width, 3]`.
 *
 * @example
 * const rgb = rgbFromLuminanceChroma(luminance(x), chroma(x)); // x again
 */
export function rgbFromLuminanceChroma(y: tf.Tensor4D, cbcr: tf.Tensor4D): tf.Tensor4D {
  const fn = "rgbFromLuminanceChroma";
  checkImages(fn, y);
  if (y.shape[3] !== 1) throw new Error(`${fn}: y must be [batch, height, width, 1], got ${describe(y)}`);
  checkImages(fn, cbcr);
  const [b, h, w] = y.shape;
  if (cbcr.shape[0] !== b || cbcr.shape[1] !== h || cbcr.shape[2] !== w || cbcr.shape[3] !== 2) {
    throw new Error(`${fn}: cbcr must be [${b}, ${h}, ${w}, 2] like y, got ${describe(cbcr)}`);
  }
  return tf.tidy(() => {
    const [cb, cr] = tf.split(cbcr, 2, 3);
    const red = tf.add(y, tf.mul(cr, 1.402));
    const blue = tf.add(y, tf.mul(cb, 1.772));
    const green = tf.div(tf.sub(tf.sub(y, tf.mul(red, BT601_WEIGHTS[0])), tf.mul(blue, BT601_WEIGHTS[2])), BT601_WEIGHTS[1]);
    return tf.concat([red, green, blue], 3) as tf.Tensor4D;
  });
}

/**
 * The grey version of an RGB set, for probing an encoder that reads grey
 * images (the colorization encoder): each pixel's BT.601 luminance, labels copied.
 *
 * Shapes: `[n, height, width, 3]` -> `[n, height, width, 1]`.
 *
 * @example
 * const greyTest = luminanceSet(coloredDigits(test, { seed: 2 }));
 */
export function luminanceSet(set: ImageSet): ImageSet {
  const fn = "luminanceSet";
  checkImageSet(fn, set);
  if (set.shape[2] !== 3) throw new Error(`${fn}: set must hold RGB images [n, height, width, 3], got shape [${set.shape}]`);
  const [h, w] = set.shape;
  const images = new Float32Array(set.n * h * w);
  const [wr, wg, wb] = BT601_WEIGHTS;
  for (let p = 0; p < images.length; p++) {
    images[p] = wr * set.images[3 * p] + wg * set.images[3 * p + 1] + wb * set.images[3 * p + 2];
  }
  return { images, labels: set.labels.slice(), n: set.n, shape: [h, w, 1] };
}
