import { tf } from "../../backend/tf";
import type { StepContext, LossWithMetrics } from "../../training/loop";
import type { Method } from "../method";
/** A self-supervised vision method: a {@link Method} with the encoder it trains, ready for `train({ ...method, optimizer, batches, steps })`. */
export interface VisionMethod<B = VisionBatch> extends Method<B> {
  /** Method name, e.g. "SimCLR". */
  readonly name: string;
  /** The encoder whose features are evaluated (linear probe, kNN); passed in, so `dispose()` keeps it. */
  readonly encoder: tf.LayersModel;
  /** The loss of one batch (inside the optimizer's gradient and tf.tidy), with metrics to log. */
  loss(batch: B, ctx: StepContext): LossWithMetrics;
}
/** A batch: images [B, H, W, C] (the data's shape; [B, 28, 28, 1] for MNIST), their indices in the training set [B] (memory banks), labels [B] (SupCon only). */
export interface VisionBatch { images: tf.Tensor4D; indices?: Int32Array; labels?: tf.Tensor1D }
