/**
 * The batches every vision method of this folder trains on.
 */
import { batches, gatherImages, gatherLabels } from "../../data/batches";
import type { ImageSet } from "../../data/mnist";
import type { Rng } from "../../data/random";
import type { VisionBatch } from "./method";
import { checkPositiveInteger } from "./checks";

/** Options of {@link visionBatches}. */
export interface VisionBatchesOptions {
  /** Images per batch (the last, smaller batch of an epoch is dropped: contrastive losses compare a batch's images). */
  batchSize: number;
  /** Also gather the labels (SupCon); default false, so a self-supervised method never sees them. */
  labels?: boolean;
}

/**
 * A `batches(epoch, rng)` function for `training.train`: each epoch visits
 * the images of `set` once in a shuffled order (`data.batches`, seeded by
 * the rng the loop passes, so a run's seed fixes every epoch's order) and
 * yields `{images, indices}` (plus `labels` on request). `indices` are rows
 * of `set`, distinct within a batch: what memory banks (InstDisc) and
 * pseudo-labels (DeepCluster) look up.
 *
 * Shapes: `images` `[batchSize, ...set.shape]` (`[batchSize, 28, 28, 1]` for MNIST), `indices` `[batchSize]`, `labels` `[batchSize]` int32.
 *
 * @example
 * const simclr = methods.createSimclr({ encoder, encoderDim: 128 });
 * await training.train({ ...simclr, optimizer: training.adam(1e-3), batches: methods.visionBatches(mnist.train, { batchSize: 256 }), steps: 60 });
 */
export function visionBatches(set: ImageSet, options: VisionBatchesOptions): (epoch: number, rng: Rng) => Generator<VisionBatch> {
  const fn = "visionBatches";
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object {batchSize, labels?}, got ${options}`);
  const { batchSize } = options;
  checkPositiveInteger(fn, "options.batchSize", batchSize);
  if (batchSize > set.n) throw new Error(`${fn}: options.batchSize must be at most the ${set.n} images of the set, got ${batchSize}`);
  const withLabels = options.labels ?? false;
  if (typeof withLabels !== "boolean") throw new Error(`${fn}: options.labels must be a boolean, got ${withLabels}`);
  return function* (epoch, rng) {
    const seed = rng.int(0x7fffffff);
    for (const indices of batches(set.n, batchSize, { seed, epoch, dropLast: true })) {
      const batch: VisionBatch = { images: gatherImages(set, indices), indices };
      if (withLabels) batch.labels = gatherLabels(set, indices);
      yield batch;
    }
  };
}
