/**
 * SimSiam (Chen & He 2021, "Exploring Simple Siamese Representation
 * Learning"): a shared encoder and projector, a predictor, and a
 * stop-gradient instead of negatives or a momentum encoder.
 */
import { tf } from "../../backend/tf";
import * as losses from "../../losses";
import { mlpHead } from "../../models/encoders";
import { stopGradient } from "../../losses/ops/stop_gradient";
import type { VisionMethod } from "./method";
import {
  applyChecked,
  checkHidden,
  embedTwoViews,
  checkVisionMethodOptions,
  type VisionMethodOptions,
  checkProjectorOptions,
} from "./checks";
import { normalizedStd } from "./collapse";

/**
 * D(p, z) = -mean_i cos(p_i, z_i). With `stopGradient` true this is
 * `losses.negativeCosineSimilarity` (no gradient through z). With false the
 * gradient also flows through z: `negativeCosineSimilarity(p, z)` passes
 * gradient to p only and `negativeCosineSimilarity(z, p)` to z only, so their
 * sum has the full gradient of -cos(p, z); subtracting a stopped copy of one
 * term keeps the value -cos(p, z).
 *
 * Shapes: `p`, `z` `[B, D]` -> scalar in [-1, 1].
 */
export function negativeCosine(p: tf.Tensor2D, z: tf.Tensor2D, stopGradientOnZ: boolean): tf.Scalar {
  if (stopGradientOnZ) return losses.negativeCosineSimilarity(p, z);
  return tf.tidy(() => {
    const towardP = losses.negativeCosineSimilarity(p, z);
    return tf.sub(tf.add(towardP, losses.negativeCosineSimilarity(z, p)), stopGradient(towardP)) as tf.Scalar;
  });
}

/** Options of {@link createSimsiam}. */
export interface SimsiamOptions extends VisionMethodOptions {
  /** Hidden sizes of the projector; default `[encoderDim]` (the paper: 3 layers of 2048). */
  hidden?: number[];
  /** Size of the projection z; default 64 (the paper: 2048). */
  projectionDim?: number;
  /** Hidden sizes of the predictor h, a bottleneck; default `[projectionDim / 4]` rounded up (the paper: 512 for 2048). */
  predictorHidden?: number[];
  /** Use the predictor; default true. False is the paper's ablation (Table 1): it collapses. */
  predictor?: boolean;
  /** Stop the gradient through the target branch z; default true. False is the paper's ablation (Fig. 2): it collapses. */
  stopGradient?: boolean;
}

/**
 * SimSiam: z = g(f(x)) by the shared encoder f and projector g (BatchNorm in
 * its hidden layers), p = h(z) by the predictor, and the symmetrised loss of
 * the paper's eq. 3,
 *
 *   L = D(p1, stopgrad(z2)) / 2 + D(p2, stopgrad(z1)) / 2,   D(p, z) = -cos(p, z),
 *
 * in [-1, 1]. Metric `std`: {@link normalizedStd} of z1, which falls to 0
 * when the outputs collapse (the paper's Fig. 2).
 *
 * Shapes: `batch.images` `[B, H, W, C]` (B >= 2) -> `[B, encoderDim]` ->
 * z, p `[B, projectionDim]` -> scalar.
 *
 * @example
 * const simsiam = createSimsiam({ encoder: models.smallCnnEncoder({ seed: 1 }), encoderDim: 128, seed: 1 });
 * await training.train({ ...simsiam, optimizer: adam(1e-3), batches, steps: 500 });
 * const collapsed = createSimsiam({ encoder: other, encoderDim: 128, stopGradient: false }); // the ablation
 */
export function createSimsiam(options: SimsiamOptions): VisionMethod {
  const fn = "createSimsiam";
  const { augmentation, seed } = checkVisionMethodOptions(fn, options);
  const { encoder, encoderDim } = options;
  const { hidden, projectionDim } = checkProjectorOptions(fn, options, encoderDim);
  const predictorHidden = options.predictorHidden ?? [Math.ceil(projectionDim / 4)];
  checkHidden(fn, "options.predictorHidden", predictorHidden);
  const usePredictor = options.predictor ?? true;
  const stopGradientOnZ = options.stopGradient ?? true;
  for (const [name, v] of [["predictor", usePredictor], ["stopGradient", stopGradientOnZ]] as const) {
    if (typeof v !== "boolean") throw new Error(`${fn}: options.${name} must be a boolean, got ${v}`);
  }
  const projector = mlpHead({ inputDim: encoderDim, hidden, outputDim: projectionDim, batchNorm: true, seed, name: "simsiam_projector" });
  const predictor = usePredictor
    ? mlpHead({ inputDim: projectionDim, hidden: predictorHidden, outputDim: projectionDim, batchNorm: true, seed: seed + 1, name: "simsiam_predictor" })
    : undefined;
  const where = "SimSiam.loss";
  const project = (x: tf.Tensor4D) => applyChecked(where, "projector", projector, applyChecked(where, "encoder", encoder, x, encoderDim), projectionDim);
  const predict = (z: tf.Tensor2D) => (predictor ? applyChecked(where, "predictor", predictor, z, projectionDim) : z);
  return {
    name: "SimSiam",
    encoder,
    trainable: predictor ? [encoder, projector, predictor] : [encoder, projector],
    loss(batch, ctx) {
      const [z1, z2] = embedTwoViews(where, batch, ctx, augmentation, project);
      const loss = tf.mul(tf.add(negativeCosine(predict(z1), z2, stopGradientOnZ), negativeCosine(predict(z2), z1, stopGradientOnZ)), 0.5) as tf.Scalar;
      return { loss, metrics: { std: normalizedStd(z1) } };
    },
    dispose() {
      projector.dispose();
      predictor?.dispose();
    },
  };
}
