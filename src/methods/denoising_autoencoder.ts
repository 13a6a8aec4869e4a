/**
 * The denoising autoencoder (Vincent, Larochelle, Bengio & Manzagol 2008):
 * corrupt the input x to x~ with a known noise q(x~ | x), encode x~, and train
 * the decoder to give back the CLEAN x. An identity map no longer solves the
 * task, so the code has to capture the dependencies between pixels that let
 * the holes be filled in.
 *
 * The loss is the binary cross-entropy summed over pixels,
 *   L(x, z) = -sum_i [x_i log z_i + (1 - x_i) log(1 - z_i)],  z = sigmoid(logits(x~)),
 * the paper's reconstruction cross-entropy for inputs in [0, 1]: it is the
 * negative log-likelihood of x under independent Bernoulli means z, its
 * gradient in the logits is simply z - x (no vanishing gradient of a
 * saturated sigmoid as with the squared error), and it is computed from the
 * logits (softplus form) so it stays finite when z reaches 0 or 1.
 */
import { tf } from "../backend/tf";
import { bernoulliNll } from "../models/made";
import { checkInteger, checkMatrix, checkOptions } from "../validation/arguments";
import { Corruption, maskingNoise } from "../augment/corruption";
import { Autoencoder } from "../models/autoencoder";
import type { Method } from "./method";

/**
 * Binary cross-entropy of targets `x` in [0, 1] under the sigmoid of
 * `logits`, summed over pixels: softplus(l) - x * l per pixel.
 *
 * Shapes: `x` `[batch, D]`, `logits` `[batch, D]` -> `[batch]` (nats).
 *
 * @example
 * const nll = bernoulliCrossEntropy(clean, ae.decodeLogits(ae.encode(noisy)));
 */
export function bernoulliCrossEntropy(x: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor1D {
  const fn = "bernoulliCrossEntropy";
  checkMatrix(fn, "x", x);
  checkMatrix(fn, "logits", logits, x.shape[0], x.shape[1], "float32");
  // The same sum as MADE's likelihood, with targets in [0, 1] instead of {0, 1}.
  return bernoulliNll(logits, x);
}

/**
 * The denoising loss of one batch: mean over the batch of the cross-entropy
 * between the clean `x` and the reconstruction of `corruption.apply(x, seed)`.
 * With a zero-strength corruption this is the plain autoencoder's loss.
 *
 * Shapes: `x` `[batch, D]` in [0, 1] -> scalar `[]` (nats per image).
 *
 * @example
 * training.train({
 *   trainable: ae.trainable, optimizer: training.adam(1e-3),
 *   loss: (x, ctx) => denoisingLoss(ae, x, augment.maskingNoise(0.25), ctx.seed), ...
 * });
 */
export function denoisingLoss(ae: Autoencoder, x: tf.Tensor2D, corruption: Corruption, seed: number): tf.Scalar {
  checkMatrix("denoisingLoss", "x", x, undefined, ae.inputDim, "float32");
  checkInteger("denoisingLoss", "seed", seed);
  return tf.tidy(() => {
    const noisy = corruption.apply(x, seed);
    return tf.mean(bernoulliCrossEntropy(x, ae.decodeLogits(ae.encode(noisy)))) as tf.Scalar;
  });
}

/** What {@link denoisingErrors} measures, each a mean squared error per pixel against the clean input. */
export interface DenoisingErrors {
  /** Of the corrupted input itself. */
  noisy: number;
  /** Of the autoencoder's reconstruction of the corrupted input. */
  denoised: number;
}

/**
 * How far the corrupted input and its reconstruction are from the clean `x`:
 * the mean squared error per pixel of each (the same corruption draw for both).
 *
 * Shapes: `x` `[batch, D]` -> two numbers.
 *
 * @example
 * const { noisy, denoised } = denoisingErrors(ae, testX, augment.gaussianNoise(0.5), 3);
 */
export function denoisingErrors(ae: Autoencoder, x: tf.Tensor2D, corruption: Corruption, seed: number): DenoisingErrors {
  checkMatrix("denoisingErrors", "x", x, undefined, ae.inputDim, "float32");
  checkInteger("denoisingErrors", "seed", seed);
  const both = tf.tidy(() => {
    const noisy = corruption.apply(x, seed);
    return tf.stack([tf.mean(tf.squaredDifference(noisy, x)), tf.mean(tf.squaredDifference(ae.reconstruct(noisy), x))]);
  });
  const [noisy, denoised] = Array.from(both.dataSync());
  both.dispose();
  return { noisy, denoised };
}

/** Options of {@link createDenoisingAutoencoder}. */
export interface DenoisingAutoencoderOptions {
  /** The autoencoder to train (from `models.createAutoencoder`); it stays the caller's. */
  autoencoder: Autoencoder;
  /** The corruption q(x~ | x), e.g. `augment.maskingNoise(0.5)`; default none (the plain autoencoder). */
  corruption?: Corruption;
}

/** The (denoising) autoencoder as a {@link Method}: batches are images `[batch, D]` in [0, 1]. */
export interface DenoisingAutoencoderMethod extends Method<tf.Tensor2D> {
  /** The autoencoder being trained. */
  readonly autoencoder: Autoencoder;
  /** The corruption applied to each batch (strength 0 for the plain autoencoder). */
  readonly corruption: Corruption;
}

/**
 * The denoising autoencoder (Vincent et al. 2008) for `training.train`: the
 * loss of a batch is {@link denoisingLoss} with the step's seed. Without a
 * corruption (or with one of strength 0) it is the plain autoencoder.
 * `dispose()` frees nothing: the autoencoder was passed in and is kept for
 * its codes and reconstructions.
 *
 * Shapes: batches `[batch, D]` -> scalar loss `[]` (nats per image).
 *
 * @example
 * const ae = models.createAutoencoder({ inputDim: 784, seed: 1 });
 * const dae = methods.createDenoisingAutoencoder({ autoencoder: ae, corruption: augment.maskingNoise(0.5) });
 * await training.train({ ...dae, optimizer: training.adam(2e-3), batches: data.flatImageBatches(train, { batchSize: 100 }), epochs: 5 });
 */
export function createDenoisingAutoencoder(options: DenoisingAutoencoderOptions): DenoisingAutoencoderMethod {
  const fn = "createDenoisingAutoencoder";
  checkOptions(fn, options, "{autoencoder, corruption?}");
  const ae = options.autoencoder;
  if (ae == null || typeof ae.encode !== "function" || typeof ae.decodeLogits !== "function" || !Array.isArray(ae.trainable)) {
    throw new Error(`${fn}: options.autoencoder must be an autoencoder from models.createAutoencoder, got ${ae === null ? "null" : typeof ae}`);
  }
  const corruption = options.corruption ?? maskingNoise(0);
  if (typeof corruption.apply !== "function" || !(corruption.strength >= 0)) {
    throw new Error(`${fn}: options.corruption must be a Corruption (augment.maskingNoise, gaussianNoise, ...), got ${typeof corruption}`);
  }
  return {
    name: corruption.strength === 0 ? "autoencoder" : `DAE, ${corruption.name}`,
    autoencoder: ae,
    corruption,
    trainable: ae.trainable,
    loss: (x, ctx) => denoisingLoss(ae, x, corruption, ctx.seed),
    dispose() {
      // The autoencoder is the caller's; the method creates nothing of its own.
    },
  };
}
