import { tf } from "../../backend/tf";
import type { StepContext, LossWithMetrics } from "../../training/loop";
/** A self-supervised vision method ready for training.train: `train({ ...method, optimizer, batches, steps })`. */
export interface VisionMethod<B = VisionBatch> {
  /** Method name, e.g. "SimCLR". */
  readonly name: string;
  /** The encoder whose features are evaluated (linear probe, kNN). */
  readonly encoder: tf.LayersModel;
  /** Models and variables the optimizer updates (never an EMA target, queue or bank). */
  readonly trainable: Array<tf.LayersModel | tf.Variable>;
  /** The loss of one batch (inside the optimizer's gradient and tf.tidy), with metrics to log. */
  loss(batch: B, ctx: StepContext): LossWithMetrics;
  /** Non-gradient updates after each step (EMA, queue, memory bank), or undefined. */
  afterStep?(batch: B, ctx: StepContext): void;
  /** Frees everything the method created (not the encoder passed in). */
  dispose(): void;
}
/** A batch: images [B,28,28,1], their indices in the training set [B] (memory banks), labels [B] (SupCon only). */
export interface VisionBatch { images: tf.Tensor4D; indices?: Int32Array; labels?: tf.Tensor1D }
