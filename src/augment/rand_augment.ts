/**
 * RandAugment (Cubuk, Zoph, Shlens & Le 2019, "RandAugment: Practical
 * automated data augmentation with a reduced search space", Sec. 3 and
 * Fig. 2): N ops drawn uniformly at random (with replacement) from a list,
 * each applied at one shared magnitude M. Two numbers replace AutoAugment's
 * learned policy (Cubuk et al. 2018, a reinforcement-learning search over
 * op, probability and magnitude per sub-policy) and PBA's (Ho et al. 2019,
 * population-based training of a magnitude schedule): both searches cost
 * thousands of training runs, far beyond a notebook; RandAugment's N and M
 * are a small grid.
 *
 * Magnitude scale: M in [0, 30], as torchvision's 31 bins and the paper's
 * reported settings (M up to 28); the op's parameter is proportional to M
 * and reaches the op's maximum at M = 30. (The paper's code divides by 10,
 * so its M > 10 extrapolate past AutoAugment's ranges; here every M stays
 * in range.) M = 0 is the identity for every op.
 *
 * Ops per image, as the paper: each image draws its own N ops (and, for ops
 * with a direction, its own sign), so one batch sees many distortions.
 * Images drawing the same op and sign are transformed together (one batched
 * call per group), then put back in order.
 */
import { tf } from "../backend/tf";
import { createRng } from "../data/random";
import { type Augmentation, checkImages } from "./augmentation";
import { cutout } from "./cutout";
import { randomRotation } from "./geometric";
import { gaussianBlur, gaussianPixelNoise } from "./photometric";
import { checkNonNegativeInteger, checkInteger, checkNumberInRange, describe } from "../validation/arguments";

/** The largest magnitude: ops reach their maximum strength at M = 30. */
export const RAND_AUGMENT_MAX_MAGNITUDE = 30;

/** One op of a RandAugment list. */
export interface RandAugmentOp {
  /** Name for labels and tables, e.g. "rotate". */
  readonly name: string;
  /** Whether the op has a direction (rotate left or right): each image then draws a sign. */
  readonly signed: boolean;
  /** The op's parameter at magnitude M in [0, 30] (degrees, a fraction of the side, a factor offset, ...): 0 at M = 0, growing with M. */
  strength(magnitude: number): number;
  /** The augmentation applying the op with parameter `value` (negative: the other direction); `at(0)` is the identity. */
  at(value: number): Augmentation;
}

const identityAugmentation: Augmentation = (images) => images.clone();

function unsignedOp(name: string, perMagnitude: number, at: (value: number) => Augmentation): RandAugmentOp {
  return { name, signed: false, strength: (m) => m * perMagnitude, at: (v) => (v === 0 ? identityAugmentation : at(v)) };
}

function signedOp(name: string, perMagnitude: number, at: (value: number) => Augmentation): RandAugmentOp {
  return { ...unsignedOp(name, perMagnitude, at), signed: true };
}

/** Shift by `pixels` along `axis` (1: down, 2: right; negative: up, left), zeros coming in: exact, by pad and slice. */
function translate(axis: 1 | 2, fraction: number): Augmentation {
  return (images, seed) => {
    checkImages("randAugment translate", images, seed);
    const side = images.shape[axis];
    const pixels = Math.max(-side, Math.min(side, Math.round(fraction * side)));
    if (pixels === 0) return images.clone();
    return tf.tidy(() => {
      const padding: Array<[number, number]> = [[0, 0], [0, 0], [0, 0], [0, 0]];
      padding[axis] = pixels > 0 ? [pixels, 0] : [0, -pixels];
      const begin = [0, 0, 0, 0];
      begin[axis] = pixels > 0 ? 0 : -pixels;
      return tf.slice(tf.pad(images, padding), begin, images.shape) as tf.Tensor4D;
    });
  };
}

/** Shear about the image centre by `factor` (input x = x + factor (y - cy) for "x"), bilinear, zeros coming in. */
function shear(direction: "x" | "y", factor: number): Augmentation {
  return (images, seed) => {
    checkImages("randAugment shear", images, seed);
    const [batch, height, width] = images.shape;
    const [cx, cy] = [(width - 1) / 2, (height - 1) / 2];
    const matrix = direction === "x" ? [1, factor, -factor * cy, 0, 1, 0, 0, 0] : [1, 0, 0, factor, 1, -factor * cx, 0, 0];
    return tf.tidy(() => {
      const one = tf.tensor2d(matrix, [1, 8]);
      if (tf.getBackend() !== "cpu") return tf.image.transform(images, tf.tile(one, [batch, 1]), "bilinear", "constant", 0);
      // tfjs-backend-cpu 4.22's Transform stops after the first image of a batch (see geometric.ts): one call per image.
      return tf.concat(tf.unstack(images).map((image) => tf.image.transform(tf.expandDims(image, 0) as tf.Tensor4D, one, "bilinear", "constant", 0)), 0);
    });
  };
}

/** `clip(x (1 + value))`: brightness for grey digits (multiplicative, so the black background stays black). */
function brightness(value: number): Augmentation {
  return (images, seed) => {
    checkImages("randAugment brightness", images, seed);
    return tf.tidy(() => tf.clipByValue(tf.mul(images, 1 + value), 0, 1) as tf.Tensor4D);
  };
}

/** `clip((x - mean) (1 + value) + mean)` with each image's mean. */
function contrast(value: number): Augmentation {
  return (images, seed) => {
    checkImages("randAugment contrast", images, seed);
    return tf.tidy(() => {
      const mean = tf.mean(images, [1, 2, 3], true);
      return tf.clipByValue(tf.add(tf.mul(tf.sub(images, mean), 1 + value), mean), 0, 1) as tf.Tensor4D;
    });
  };
}

/** Pixels above `1 - value` inverted to `1 - x` (images in [0, 1]). */
function solarize(value: number): Augmentation {
  return (images, seed) => {
    checkImages("randAugment solarize", images, seed);
    return tf.tidy(() => tf.where(tf.greater(images, 1 - value), tf.sub(1, images), images) as tf.Tensor4D);
  };
}

/** Cutout with a square of side `fraction` of the shorter side. */
function cutoutFraction(fraction: number): Augmentation {
  return (images, seed) => {
    checkImages("randAugment cutout", images, seed);
    return cutout({ size: Math.round(fraction * Math.min(images.shape[1], images.shape[2])) })(images, seed);
  };
}

/**
 * The default op list, for grey digits in [0, 1] (MNIST-sized maxima at
 * M = 30 in brackets). The paper's geometric and intensity ops: identity,
 * rotate (30 degrees), shear x / y (0.3), translate x / y (0.3 of the side,
 * whole pixels), brightness and contrast (factor 1 +- 0.9, the paper's
 * [0.1, 1.9]), solarize (pixels above 1 - M/30 inverted: every
 * non-zero pixel at M = 30). Its colour
 * ops (color, posterize on 8-bit channels, equalize, autoContrast,
 * sharpness) are left out: a grey digit has no colour, and MNIST already
 * spans the full range. In their place the SimCLR ops this workbook already
 * has: Gaussian blur (sigma 1.5 pixels), pixel noise (std 0.3), cutout (half
 * the side). Rotate, shear, translate, brightness and contrast are signed.
 * Filter it by name to build a smaller list.
 *
 * @example
 * const geometric = randAugmentOps.filter((op) => ["rotate", "shearX", "translateX"].includes(op.name));
 */
export const randAugmentOps: readonly RandAugmentOp[] = Object.freeze([
  unsignedOp("identity", 0, () => identityAugmentation),
  signedOp("rotate", 1, (v) => randomRotation({ degrees: [v, v] })),
  signedOp("shearX", 0.01, (v) => shear("x", v)),
  signedOp("shearY", 0.01, (v) => shear("y", v)),
  signedOp("translateX", 0.01, (v) => translate(2, v)),
  signedOp("translateY", 0.01, (v) => translate(1, v)),
  signedOp("brightness", 0.03, brightness),
  signedOp("contrast", 0.03, contrast),
  unsignedOp("solarize", 1 / 30, solarize),
  unsignedOp("blur", 0.05, (v) => gaussianBlur({ sigma: [v, v], p: 1 })),
  unsignedOp("noise", 0.01, (v) => gaussianPixelNoise({ std: v })),
  unsignedOp("cutout", 1 / 60, cutoutFraction),
]);

/** Options of {@link randAugment}. */
export interface RandAugmentOptions {
  /** N, ops applied to each image in turn; default 2 (the paper's ImageNet setting). 0 is the identity. */
  n?: number;
  /** M in [0, 30], shared by every op; default 9 (the paper's ResNet-50). 0 is the identity. */
  magnitude?: number;
  /** The ops to draw from; default {@link randAugmentOps}. */
  ops?: readonly RandAugmentOp[];
}

/** Which op each image draws in each of its N slots. */
export interface RandAugmentPlan {
  /** `[batch * n]` (row-major `[batch, n]`): indices into the op list. */
  readonly ops: Int32Array;
  /** `[batch * n]`: +1 or -1, the direction of a signed op; +1 for unsigned ones. */
  readonly signs: Int8Array;
}

/** A RandAugment augmentation, with the plan it follows for a seed and its op list. */
export interface RandAugmentation extends Augmentation {
  /** The op list. */
  readonly ops: readonly RandAugmentOp[];
  /** The ops and signs a call with this batch size and seed applies (for labels under sample images). */
  plan(batch: number, seed: number): RandAugmentPlan;
}

function checkOps(fn: string, ops: readonly RandAugmentOp[]): void {
  if (!Array.isArray(ops) || ops.length === 0) throw new Error(`${fn}: options.ops must be a non-empty array of ops, got ${describe(ops)}`);
  ops.forEach((op, i) => {
    const ok = op !== null && typeof op === "object" && typeof op.name === "string" && typeof op.signed === "boolean" && typeof op.strength === "function" && typeof op.at === "function";
    if (!ok) throw new Error(`${fn}: options.ops[${i}] must be an op {name, signed, strength, at}, got ${describe(op)}`);
  });
}

/**
 * RandAugment: every image gets `n` ops, each drawn uniformly (with
 * replacement) from `ops`, applied in turn at magnitude `magnitude` (the
 * op's `strength(M)`, negated for images that drew sign -1 of a signed op).
 * Each op's randomness (noise, the cutout square) is seeded from `seed`.
 * Usable wherever an {@link Augmentation} is: `twoViews(randAugment())` for
 * a contrastive method, the strong view of UDA. `n: 0` or `magnitude: 0` is
 * the identity.
 *
 * Shapes: `[batch, height, width, channels]` -> the same.
 *
 * @example
 * const strong = randAugment({ n: 2, magnitude: 9 });
 * const views = twoViews(strong)(x, step);
 * strong.plan(4, step); // which ops each of 4 images got
 */
export function randAugment(options: RandAugmentOptions = {}): RandAugmentation {
  const fn = "randAugment";
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object {n?, magnitude?, ops?}, got ${describe(options)}`);
  const n = options.n ?? 2;
  checkNonNegativeInteger(fn, "options.n", n);
  const magnitude = options.magnitude ?? 9;
  checkNumberInRange(fn, "options.magnitude", magnitude, 0, RAND_AUGMENT_MAX_MAGNITUDE);
  const ops = options.ops ?? randAugmentOps;
  checkOps(fn, ops);
  const list = [...ops];

  const plan = (batch: number, seed: number): RandAugmentPlan => {
    checkNonNegativeInteger(`${fn}.plan`, "batch", batch);
    checkInteger(`${fn}.plan`, "seed", seed);
    const rng = createRng(seed);
    const chosen = new Int32Array(batch * n);
    const signs = new Int8Array(batch * n);
    for (let k = 0; k < batch * n; k++) {
      chosen[k] = rng.int(list.length);
      const sign = rng.next() < 0.5 ? -1 : 1;
      signs[k] = list[chosen[k]].signed ? sign : 1;
    }
    return { ops: chosen, signs };
  };

  const augment = (images: tf.Tensor4D, seed: number): tf.Tensor4D => {
    checkImages(fn, images, seed);
    if (n === 0 || magnitude === 0) return images.clone();
    const batch = images.shape[0];
    const { ops: chosen, signs } = plan(batch, seed);
    // Seeds of the ops' own randomness: a stream apart from the plan's.
    const rng = createRng(createRng(seed).fork());
    return tf.tidy(() => {
      let current: tf.Tensor4D = images;
      for (let slot = 0; slot < n; slot++) {
        // Group the images by (op, sign), in a fixed order, so each group is one batched call.
        const groups = new Map<number, number[]>();
        for (let i = 0; i < batch; i++) {
          const key = chosen[i * n + slot] * 2 + (signs[i * n + slot] > 0 ? 1 : 0);
          const members = groups.get(key) ?? [];
          members.push(i);
          groups.set(key, members);
        }
        const pieces: tf.Tensor4D[] = [];
        const order: number[] = [];
        for (const key of [...groups.keys()].sort((a, b) => a - b)) {
          const members = groups.get(key)!;
          const op = list[key >> 1];
          const value = (key & 1 ? 1 : -1) * op.strength(magnitude);
          const subset = members.length === batch ? current : (tf.gather(current, tf.tensor1d(members, "int32")) as tf.Tensor4D);
          pieces.push(op.at(value)(subset, rng.fork()));
          order.push(...members);
        }
        if (pieces.length === 1) {
          current = pieces[0];
          continue;
        }
        const inverse = new Int32Array(batch);
        order.forEach((image, position) => (inverse[image] = position));
        current = tf.gather(tf.concat(pieces, 0), tf.tensor1d(inverse, "int32")) as tf.Tensor4D;
      }
      return current;
    });
  };
  return Object.assign(augment, { ops: list, plan });
}
