/**
 * Order verification: Misra, Zitnick & Hebert (2016), "Shuffle and Learn:
 * Unsupervised Learning using Temporal Order Verification", ECCV.
 */
import type { FrameSequenceClassifier, FrameSequenceClassifierOptions } from "./sequence_classifier";
import { createFrameSequenceClassifier } from "./sequence_classifier";

/**
 * Shuffle and Learn: three frames of a clip go through one encoder, their
 * features are concatenated in the order shown, and a head says whether the
 * middle frame lies between the other two in time (label 1) or was taken
 * from outside them (label 0). Batches come from `data.orderVerificationBatch`.
 * To answer, the encoder must tell where the digit is in each frame: the
 * paper found the features track human pose; here they should track position.
 *
 * Shapes: `batch.frames` `[B, 3, h, w, 1]`, `batch.labels` `[B]` int32 -> scalar loss.
 *
 * @example
 * const order = createOrderVerification({ encoder: createFrameEncoder({ seed: 1 }), encoderDim: 32, seed: 1 });
 * await training.train({ ...order, optimizer: training.adam(1e-3), steps: 200,
 *   batches: data.videoTaskBatches(mnist.train, { clips: { frames: 8 }, clipsPerBatch: 32, task: (c, seed) => data.orderVerificationBatch(c, { seed }) }) });
 * order.dispose(); // the head; order.encoder is kept
 */
export function createOrderVerification(options: FrameSequenceClassifierOptions): FrameSequenceClassifier {
  return createFrameSequenceClassifier("createOrderVerification", "order verification", 3, options);
}
