/**
 * PixelCNN trained by maximum likelihood (van den Oord, Kalchbrenner,
 * Kavukcuoglu 2016, "Pixel Recurrent Neural Networks", Sec. 3.5; the network
 * is `models/masked_conv.ts`). The chain rule over pixels in raster order,
 *
 *   -log p(x) = - sum_i log p(x_i | x_<i),
 *
 * gives the exact negative log-likelihood of a binary image, in nats per
 * image: the number notebook 02 puts beside MADE's (notebook 01) and the
 * independent-pixel baseline below. No labels are used.
 */
import { tf } from "../../backend/tf";
import { gatherImages } from "../../data/batches";
import { checkImageSet, type ImageSet } from "../../data/mnist";
import { bernoulliFrequencies, bernoulliMeanNll } from "../../models/made";
import type { PixelCnn } from "../../models/masked_conv";
import { checkOptions, checkPositiveInteger, checkRank, describe } from "../../validation/arguments";
import type { Method } from "../method";
import type { VisionBatch } from "./method";

/** Options of {@link createPixelCnnMethod}. */
export interface PixelCnnMethodOptions {
  /** The network (from `models.createPixelCnn`); it stays the caller's, for sampling and evaluation. */
  model: PixelCnn;
  /** Name for labels; default "PixelCNN". */
  name?: string;
}

/** Maximum likelihood of a PixelCNN as a {@link Method} over batches of binary images. */
export interface PixelCnnMethod extends Method<VisionBatch> {
  /** The network being trained. */
  readonly model: PixelCnn;
}

/** `batch.images`, checked against the model's image shape. */
function checkBinaryBatch(fn: string, batch: VisionBatch, model: PixelCnn): tf.Tensor4D {
  const images = batch?.images as unknown;
  const [h, w] = model.inputShape;
  checkRank(fn, "batch.images", images, 4, "float32");
  const shape = (images as tf.Tensor).shape;
  if (shape[1] !== h || shape[2] !== w || shape[3] !== 1 || shape[0] < 1) {
    throw new Error(`${fn}: batch.images must be a float32 tensor of shape [B,${h},${w},1], got ${describe(images)}`);
  }
  return images as tf.Tensor4D;
}

/**
 * A PixelCNN for `training.train`: the loss of a batch is its mean negative
 * log-likelihood, `mean_n -log p(x_n)` in nats per image (the Bernoulli
 * cross-entropy of every pixel given the pixels before it, summed over the
 * image). The metric `bitsPerPixel` is the same number / (H W ln 2), the
 * unit of the PixelRNN paper's tables. Pixels must be 0 or 1 (`data.binarize`):
 * soft pixels give a cross-entropy, not a likelihood. `dispose()` frees
 * nothing: the model was passed in. Sample with `model.sample(count, seed)`.
 *
 * Shapes: `batch.images` `[batch, height, width, 1]` in {0, 1} -> scalar loss (nats per image).
 *
 * @example
 * const pixelCnn = models.createPixelCnn({ filters: 32, layers: 4, seed: 1 });
 * const method = methods.createPixelCnnMethod({ model: pixelCnn });
 * await training.train({ ...method, optimizer: training.adam(1e-3), batches: methods.visionBatches(binaryTrain, { batchSize: 64 }), steps: 500 });
 * const nats = methods.pixelCnnNll(pixelCnn, binaryTest); // nats per image
 * const digits = pixelCnn.sample(16, 7); // [16, 28, 28, 1]
 */
export function createPixelCnnMethod(options: PixelCnnMethodOptions): PixelCnnMethod {
  const fn = "createPixelCnnMethod";
  checkOptions(fn, options, "{model, name?}");
  const { model } = options;
  if (model == null || typeof model.nll !== "function" || !Array.isArray(model.trainable) || !Array.isArray(model.inputShape)) {
    throw new Error(`${fn}: options.model must be a PixelCNN (models.createPixelCnn), got ${describe(model)}`);
  }
  const name = options.name ?? "PixelCNN";
  if (typeof name !== "string" || name.length === 0) throw new Error(`${fn}: options.name must be a non-empty string, got ${describe(name)}`);
  const [h, w] = model.inputShape;
  const natsToBitsPerPixel = 1 / (h * w * Math.LN2);
  return {
    name,
    model,
    trainable: model.trainable,
    loss: (batch) => {
      const images = checkBinaryBatch(`${name}.loss`, batch, model);
      const loss = tf.mean(model.nll(images));
      return { loss, metrics: { bitsPerPixel: tf.mul(loss, natsToBitsPerPixel) } };
    },
    itemsPerBatch: (batch) => batch.images.shape[0],
    dispose() {
      // The model is the caller's; the method creates nothing of its own.
    },
  };
}

/** Fails unless every pixel is 0 or 1. */
function checkBinary(fn: string, arg: string, images: Float32Array): void {
  const at = images.findIndex((v) => v !== 0 && v !== 1);
  if (at >= 0) throw new Error(`${fn}: ${arg} must hold only 0 or 1 (data.binarize), got ${images[at]} at ${at}`);
}

/** Options of {@link pixelCnnNll}. */
export interface PixelCnnNllOptions {
  /** Images per forward pass; default 256. */
  batchSize?: number;
}

/**
 * The mean negative log-likelihood of `set`'s images under a PixelCNN, in
 * nats per image, summed in float64 over batches of `batchSize` forward
 * passes (no gradient, nothing left allocated). Pixels must be 0 or 1.
 *
 * Shapes: `set` of n images `[height, width, 1]` matching the model -> number.
 *
 * @example
 * const binaryTest = data.binarize(loadMnist().test);
 * methods.pixelCnnNll(pixelCnn, binaryTest); // e.g. ~90 nats after a few epochs; independent pixels ~206
 */
export function pixelCnnNll(model: PixelCnn, set: ImageSet, options: PixelCnnNllOptions = {}): number {
  const fn = "pixelCnnNll";
  if (model == null || typeof model.nll !== "function" || !Array.isArray(model.inputShape)) {
    throw new Error(`${fn}: model must be a PixelCNN (models.createPixelCnn), got ${describe(model)}`);
  }
  checkImageSet(fn, set);
  const [h, w] = model.inputShape;
  if (set.shape[0] !== h || set.shape[1] !== w || set.shape[2] !== 1) {
    throw new Error(`${fn}: set.shape must be [${h},${w},1] like the model, got ${describe(set.shape)}`);
  }
  checkOptions(fn, options, "{batchSize?}");
  const batchSize = options.batchSize ?? 256;
  checkPositiveInteger(fn, "options.batchSize", batchSize);
  checkBinary(fn, "set.images", set.images);
  let total = 0;
  for (let start = 0; start < set.n; start += batchSize) {
    const indices = Int32Array.from({ length: Math.min(batchSize, set.n - start) }, (_, i) => start + i);
    const nll = tf.tidy(() => model.nll(gatherImages(set, indices)));
    for (const v of nll.dataSync()) total += v;
    nll.dispose();
  }
  return total / set.n;
}

/**
 * The baseline every autoregressive model must beat: independent Bernoulli
 * pixels, p_d = (ones at pixel d in `train` + 1) / (n_train + 2) (add-one
 * smoothing, so an unseen pixel value costs a finite amount), and the mean
 * NLL of `test` under them in nats per image, all in float64:
 * -(1/n) sum_i sum_d [x_id log p_d + (1 - x_id) log(1 - p_d)].
 *
 * Shapes: `train`, `test` image sets of one image shape, pixels in {0, 1} -> number.
 *
 * @example
 * const nats = methods.independentPixelNll(data.binarize(mnist.train), data.binarize(mnist.test)); // ~206 on MNIST
 */
export function independentPixelNll(train: ImageSet, test: ImageSet): number {
  const fn = "independentPixelNll";
  checkImageSet(fn, train);
  checkImageSet(fn, test);
  if (train.shape.some((s, i) => s !== test.shape[i])) {
    throw new Error(`${fn}: test.shape must equal train.shape ${describe(train.shape)}, got ${describe(test.shape)}`);
  }
  checkBinary(fn, "train.images", train.images);
  checkBinary(fn, "test.images", test.images);
  const dim = train.shape[0] * train.shape[1] * train.shape[2];
  return bernoulliMeanNll(test.images, bernoulliFrequencies(train.images, dim));
}
