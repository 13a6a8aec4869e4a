/**
 * The contract every method of this folder follows, so that every notebook
 * trains the same way:
 *
 * ```ts
 * const method = methods.createSimclr({ encoder, encoderDim: 128 });  // or createSkipGram, createContrastiveDivergence, ...
 * const history = await training.train({ ...method, optimizer: training.adam(1e-3), batches, steps: 500 });
 * method.dispose();
 * ```
 *
 * The spread hands `training.train` the method's `trainable`, `loss`,
 * `afterStep` and `itemsPerBatch`; its `name` is for labels and tables.
 * A method owns what it creates (projection heads, EMA targets, queues, a
 * word2vec's embedding tables) and `dispose()` frees exactly that. A model
 * passed in (an encoder, an RBM, an autoencoder, a MADE) stays the caller's:
 * it outlives the method, for probing, sampling and plots.
 */
import type { tf } from "../backend/tf";
import type { LossWithMetrics, StepContext } from "../training/loop";

/** A self-supervised method ready for `training.train({ ...method, optimizer, batches, steps })`; `B` is its batch. */
export interface Method<B> {
  /** Method name for labels and tables, e.g. "skip-gram" or "CD-1". */
  readonly name: string;
  /** Models and variables the optimizer updates (never an EMA target, queue or bank). */
  readonly trainable: Array<tf.LayersModel | tf.Variable>;
  /**
   * The loss of one batch: a scalar, or `{ loss, metrics }`. It runs inside
   * the optimizer's gradient and `tf.tidy`, so it never disposes what it makes.
   */
  loss(batch: B, ctx: StepContext): tf.Tensor | LossWithMetrics;
  /** Non-gradient updates after each step (EMA, queue, memory bank), or undefined. */
  afterStep?(batch: B, ctx: StepContext): void;
  /** Examples in a batch, for the progress bar's items/s when a batch is not one tensor; or undefined. */
  itemsPerBatch?(batch: B): number;
  /** Frees everything the method created, never a model passed in. */
  dispose(): void;
}
