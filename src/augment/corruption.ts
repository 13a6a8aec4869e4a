/**
 * Input corruptions for denoising autoencoders (Vincent, Larochelle, Bengio &
 * Manzagol 2008, "Extracting and composing robust features with denoising
 * autoencoders", Sec. 2.3 and 4): batched, seeded tensor ops. A corruption is
 * a value: make one with {@link maskingNoise}, {@link gaussianNoise} or
 * {@link saltAndPepperNoise} and hand it to the trainer, which calls
 * `apply(x, seed)` with the step's seed. Strength 0 is the identity, so the
 * plain autoencoder is the same code with `maskingNoise(0)`.
 */
import { tf } from "../backend/tf";
import { checkInteger, checkNonNegativeNumber, checkNumberInRange, checkTensor } from "../validation/arguments";

/** A seeded corruption of a batch. */
export interface Corruption {
  /** What it is, for labels and tables, e.g. `"masking 0.25"`. */
  readonly name: string;
  /** Its strength: the fraction of entries for masking and salt-and-pepper, the std for Gaussian noise. */
  readonly strength: number;
  /**
   * The corrupted batch; the same seed gives the same corruption.
   * Shapes: any float32 tensor -> the same shape.
   */
  apply<T extends tf.Tensor>(x: T, seed: number): T;
}

function checkArgs(fn: string, x: tf.Tensor, seed: number): void {
  checkTensor(fn, "x", x, "float32");
  checkInteger(fn, "seed", seed);
}

/**
 * Masking noise: each entry independently set to 0 with probability
 * `fraction` (the paper's "destroyed" inputs), kept otherwise. No rescaling,
 * unlike dropout: the decoder must fill the holes, not undo a scale.
 *
 * Shapes: any -> the same.
 *
 * @example
 * const noisy = maskingNoise(0.25).apply(x, 7);
 */
export function maskingNoise(fraction: number): Corruption {
  const fn = "maskingNoise";
  checkNumberInRange(fn, "fraction", fraction, 0, 1, { maxExclusive: true });
  return {
    name: `masking ${fraction}`,
    strength: fraction,
    apply<T extends tf.Tensor>(x: T, seed: number): T {
      checkArgs(`${fn}.apply`, x, seed);
      if (fraction === 0) return x.clone();
      return tf.tidy(() => {
        const keep = tf.step(tf.sub(tf.randomUniform(x.shape, 0, 1, "float32", seed), fraction));
        return tf.mul(x, keep) as T;
      });
    },
  };
}

/**
 * Additive isotropic Gaussian noise x + N(0, std^2) per entry. Values are not
 * clipped to [0, 1]: clipping would change the noise's distribution.
 *
 * Shapes: any -> the same.
 *
 * @example
 * const noisy = gaussianNoise(0.3).apply(x, 7);
 */
export function gaussianNoise(std: number): Corruption {
  const fn = "gaussianNoise";
  checkNonNegativeNumber(fn, "std", std);
  return {
    name: `Gaussian ${std}`,
    strength: std,
    apply<T extends tf.Tensor>(x: T, seed: number): T {
      checkArgs(`${fn}.apply`, x, seed);
      if (std === 0) return x.clone();
      return tf.tidy(() => tf.add(x, tf.randomNormal(x.shape, 0, std, "float32", seed)) as T);
    },
  };
}

/**
 * Salt-and-pepper noise: each entry with probability `fraction` replaced by
 * `low` or `high` (each with probability 1/2), kept otherwise.
 *
 * Shapes: any -> the same.
 *
 * @example
 * const noisy = saltAndPepperNoise(0.2).apply(x, 7);
 */
export function saltAndPepperNoise(fraction: number, low = 0, high = 1): Corruption {
  const fn = "saltAndPepperNoise";
  checkNumberInRange(fn, "fraction", fraction, 0, 1, { maxExclusive: true });
  if (!Number.isFinite(low) || !Number.isFinite(high)) throw new Error(`${fn}: low and high must be finite, got ${low}, ${high}`);
  return {
    name: `salt-and-pepper ${fraction}`,
    strength: fraction,
    apply<T extends tf.Tensor>(x: T, seed: number): T {
      checkArgs(`${fn}.apply`, x, seed);
      if (fraction === 0) return x.clone();
      return tf.tidy(() => {
        const u = tf.randomUniform(x.shape, 0, 1, "float32", seed);
        // u < fraction / 2: pepper (low); fraction / 2 <= u < fraction: salt (high); else keep.
        const pepper = tf.step(tf.sub(fraction / 2, u));
        const salt = tf.sub(tf.step(tf.sub(fraction, u)), pepper);
        const keep = tf.sub(1, tf.add(pepper, salt));
        return tf.addN([tf.mul(x, keep), tf.mul(pepper, low), tf.mul(salt, high)]) as T;
      });
    },
  };
}
