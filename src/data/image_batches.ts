/**
 * Batches of flattened images for the models that read a digit as one row of
 * pixels (RBM, autoencoder, MADE, an MLP encoder), in the form
 * `training.train` takes: a function `(epoch, rng)` returning the epoch's
 * batches, drawn only from the `rng` the loop passes, so a run's seed fixes them.
 * Pairs and triplets are for siamese networks (Bromley et al. 1994) trained
 * with the contrastive loss (Chopra, Hadsell & LeCun 2005) or the triplet
 * loss (Schroff, Kalenichenko & Philbin 2015).
 */
import { tf } from "../backend/tf";
import { batches, gatherImages } from "./batches";
import { checkImageSet, ImageSet } from "./mnist";
import { samplePairs, sampleTriplets } from "./pairs";
import type { Rng } from "./random";

/** A batch of pairs, both sides in one tensor so a shared encoder sees them in one pass. */
export interface PairBatch {
  /** `[2 * B, D]`: rows `0..B-1` are the first images of the pairs, rows `B..2B-1` the second. */
  x: tf.Tensor2D;
  /** `[B]` float32: 1 where the two images of a pair have the same label, else 0. */
  same: tf.Tensor1D;
}

/** A batch of triplets in one tensor. */
export interface TripletBatch {
  /** `[3 * B, D]`: B anchors, then their B positives (same label), then B negatives (another label). */
  x: tf.Tensor2D;
}

/** Options of {@link flatImageBatches}. */
export interface FlatImageBatchesOptions {
  /** Images per batch. */
  batchSize: number;
  /** Drop the last, smaller batch of an epoch; default true. */
  dropLast?: boolean;
}

/** Options of {@link pairBatches}. */
export interface PairBatchesOptions {
  /** Pairs per batch, B. */
  batchSize: number;
  /** Fraction of same-label pairs in a batch; default 0.5. */
  sameFraction?: number;
}

function checkBatchSize(fn: string, batchSize: number, n: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`${fn}: options.batchSize must be a positive integer, got ${batchSize}`);
  }
  if (batchSize > n) throw new Error(`${fn}: options.batchSize must be at most the ${n} images of the set, got ${batchSize}`);
}

function checkOptions(fn: string, options: unknown, fields: string): void {
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object {${fields}}, got ${options}`);
}

/**
 * The images of `set` at `indices`, each flattened to one row.
 *
 * Shapes: -> `[indices.length, height * width * channels]` float32.
 *
 * @example
 * const x = data.gatherFlatImages(mnist.test, [0, 1, 2]); // [3, 784]
 */
export function gatherFlatImages(set: ImageSet, indices: ArrayLike<number>): tf.Tensor2D {
  checkImageSet("gatherFlatImages", set);
  const [h, w, c] = set.shape;
  return tf.tidy(() => tf.reshape(gatherImages(set, indices), [indices.length, h * w * c]) as tf.Tensor2D);
}

/**
 * A `batches(epoch, rng)` function for `training.train`: each epoch visits the
 * images of `set` once, in an order shuffled by `data.batches` with the seed
 * `rng.fork()`, and yields them flattened.
 *
 * Shapes: yields `[batchSize, height * width * channels]` float32.
 *
 * @example
 * await training.train({ ...method, optimizer, epochs: 5,
 *   batches: data.flatImageBatches(mnist.train, { batchSize: 100 }), stepsPerEpoch: data.batchCount(mnist.train.n, 100, true) });
 */
export function flatImageBatches(set: ImageSet, options: FlatImageBatchesOptions): (epoch: number, rng: Rng) => Generator<tf.Tensor2D> {
  const fn = "flatImageBatches";
  checkOptions(fn, options, "batchSize, dropLast?");
  checkImageSet(fn, set);
  const { batchSize } = options;
  checkBatchSize(fn, batchSize, set.n);
  const dropLast = options.dropLast ?? true;
  if (typeof dropLast !== "boolean") throw new Error(`${fn}: options.dropLast must be a boolean, got ${dropLast}`);
  return function* (_epoch, rng) {
    for (const idx of batches(set.n, batchSize, { seed: rng.fork(), dropLast })) yield gatherFlatImages(set, idx);
  };
}

/**
 * A `batches(epoch, rng)` function for `training.train` that never ends (give
 * the run `steps`): each batch is `batchSize` fresh pairs of `set` from
 * `data.samplePairs` on the loop's `rng`, flattened.
 *
 * Shapes: yields {@link PairBatch}: `x` `[2 * batchSize, height * width * channels]`, `same` `[batchSize]`.
 *
 * @example
 * const siamese = methods.createSiameseContrastive({ encoder, margin: 1 });
 * await training.train({ ...siamese, optimizer, steps: 600, batches: data.pairBatches(mnist.train, { batchSize: 128 }) });
 */
export function pairBatches(set: ImageSet, options: PairBatchesOptions): (epoch: number, rng: Rng) => Generator<PairBatch> {
  const fn = "pairBatches";
  checkOptions(fn, options, "batchSize, sameFraction?");
  checkImageSet(fn, set);
  const { batchSize } = options;
  checkBatchSize(fn, batchSize, set.n);
  const sameFraction = options.sameFraction ?? 0.5;
  if (!(sameFraction >= 0 && sameFraction <= 1)) throw new Error(`${fn}: options.sameFraction must be in [0, 1], got ${sameFraction}`);
  return function* (_epoch, rng) {
    for (;;) {
      const p = samplePairs(set.labels, { count: batchSize, sameFraction }, rng);
      const x = tf.tidy(() => tf.concat([gatherFlatImages(set, p.first), gatherFlatImages(set, p.second)]) as tf.Tensor2D);
      yield { x, same: tf.tensor1d(p.same) };
    }
  };
}

/**
 * A `batches(epoch, rng)` function for `training.train` that never ends (give
 * the run `steps`): each batch is `batchSize` fresh triplets of `set` from
 * `data.sampleTriplets` on the loop's `rng`, flattened.
 *
 * Shapes: yields {@link TripletBatch}: `x` `[3 * batchSize, height * width * channels]`.
 *
 * @example
 * const siamese = methods.createSiameseTriplet({ encoder, margin: 1 });
 * await training.train({ ...siamese, optimizer, steps: 600, batches: data.tripletBatches(mnist.train, { batchSize: 128 }) });
 */
export function tripletBatches(set: ImageSet, options: { batchSize: number }): (epoch: number, rng: Rng) => Generator<TripletBatch> {
  const fn = "tripletBatches";
  checkOptions(fn, options, "batchSize");
  checkImageSet(fn, set);
  const { batchSize } = options;
  checkBatchSize(fn, batchSize, set.n);
  return function* (_epoch, rng) {
    for (;;) {
      const t = sampleTriplets(set.labels, batchSize, rng);
      const x = tf.tidy(
        () => tf.concat([gatherFlatImages(set, t.anchor), gatherFlatImages(set, t.positive), gatherFlatImages(set, t.negative)]) as tf.Tensor2D,
      );
      yield { x };
    }
  };
}
