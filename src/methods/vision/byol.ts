/**
 * BYOL (Grill et al. 2020, "Bootstrap Your Own Latent: A New Approach to
 * Self-Supervised Learning"): an online network predicts the projection of
 * a slowly moving average of itself, the target network.
 */
import { tf } from "../../backend/tf";
import { createEma, type Ema, type EmaRule } from "../../models/ema";
import { mlpHead } from "../../models/encoders";
import type { VisionMethod } from "./method";
import {
  applyChecked,
  checkHidden,
  checkVisionBatch,
  checkVisionMethodOptions,
  type VisionMethodOptions,
  checkProjectorOptions,
} from "./checks";
import { normalizedStd } from "./collapse";
import { negativeCosine } from "./simsiam";

/** Options of {@link createByol}. */
export interface ByolOptions extends VisionMethodOptions {
  /** Hidden sizes of the projector; default `[encoderDim]` (the paper: 4096). */
  hidden?: number[];
  /** Size of the projection; default 64 (the paper: 256). */
  projectionDim?: number;
  /** Hidden sizes of the predictor; default `[encoderDim]` (the paper: 4096). */
  predictorHidden?: number[];
  /**
   * Target momentum tau in target = tau target + (1 - tau) online, or a
   * schedule `step => tau` (the paper's: `1 - (1 - 0.996)(cos(pi k / K) + 1) / 2`).
   * Default 0.99: the paper's 0.996 is for runs of ~10^5 steps; a few hundred
   * MNIST steps need a target that moves faster.
   */
  momentum?: number | ((step: number) => number);
  /** How each target weight follows its online weight; default `models.emaRule` (m * target + (1 - m) * online). */
  emaRule?: EmaRule;
  /** Use the predictor; default true. False is the paper's ablation (Table 5b): it collapses. */
  predictor?: boolean;
  /**
   * Default true. False is the collapse ablation without a target network: the
   * targets are the online projections themselves, with gradient (no EMA is made).
   */
  stopGradient?: boolean;
}

/** The BYOL method, with its target network (absent when `stopGradient` is false). */
export interface Byol extends VisionMethod {
  /** The EMA copies of the encoder and projector: not trainable, moved in `afterStep`. */
  readonly target?: { readonly encoder: tf.LayersModel; readonly projector: tf.LayersModel };
}

/**
 * BYOL: online z = g(f(x)) and prediction p = q(z); target z' = g'(f'(x)) by
 * the EMA copies f', g' (models/ema.ts, updated in `afterStep` after each
 * optimizer step, never by gradient). The symmetrised loss (the paper's
 * L + L~, eq. 2) is written with D(p, z') = -cos(p, z'):
 *
 *   L = D(p1, z2') + D(p2, z1'),   in [-2, 2].
 *
 * The paper writes each term as ||p/|p| - z'/|z'|||^2 = 2 - 2 cos(p, z'):
 * the same minimiser, twice our gradient (Adam's steps are invariant to that
 * factor up to its epsilon). The target runs with batch statistics in its
 * BatchNorm layers, as in the paper's code. Metric `std`: normalised std of
 * the online z1 (see simclr.ts `normalizedStd`).
 *
 * Shapes: `batch.images` `[B, H, W, C]` (B >= 2) -> `[B, encoderDim]` ->
 * `[B, projectionDim]` -> scalar.
 *
 * @example
 * const byol = createByol({ encoder: models.smallCnnEncoder({ seed: 1 }), encoderDim: 128, momentum: 0.99, seed: 1 });
 * await training.train({ ...byol, optimizer: adam(1e-3), batches, steps: 500 }); // afterStep moves the target
 * byol.dispose(); // heads and the target network
 */
export function createByol(options: ByolOptions): Byol {
  const fn = "createByol";
  const { augmentation, seed } = checkVisionMethodOptions(fn, options);
  const { encoder, encoderDim } = options;
  const { hidden, projectionDim } = checkProjectorOptions(fn, options, encoderDim);
  const predictorHidden = options.predictorHidden ?? [encoderDim];
  checkHidden(fn, "options.predictorHidden", predictorHidden);
  const usePredictor = options.predictor ?? true;
  const useTarget = options.stopGradient ?? true;
  for (const [name, v] of [["predictor", usePredictor], ["stopGradient", useTarget]] as const) {
    if (typeof v !== "boolean") throw new Error(`${fn}: options.${name} must be a boolean, got ${v}`);
  }
  const momentum = options.momentum ?? 0.99;
  if (typeof momentum === "number" && !(momentum >= 0 && momentum <= 1)) {
    throw new Error(`${fn}: options.momentum must be a number in [0, 1] or a function of the step, got ${momentum}`);
  }
  if (typeof momentum !== "number" && typeof momentum !== "function") {
    throw new Error(`${fn}: options.momentum must be a number in [0, 1] or a function of the step, got ${typeof momentum}`);
  }
  const projector = mlpHead({ inputDim: encoderDim, hidden, outputDim: projectionDim, batchNorm: true, seed, name: "byol_projector" });
  const predictor = usePredictor
    ? mlpHead({ inputDim: projectionDim, hidden: predictorHidden, outputDim: projectionDim, batchNorm: true, seed: seed + 1, name: "byol_predictor" })
    : undefined;
  const initial = typeof momentum === "number" ? momentum : 0.99;
  let emas: [Ema, Ema] | undefined;
  if (useTarget) {
    const targetEncoder = createEma(encoder, { momentum: initial, name: `${encoder.name}_byol_target`, rule: options.emaRule });
    emas = [targetEncoder, createEma(projector, { momentum: initial, name: "byol_projector_target", rule: options.emaRule })];
  }
  const where = "BYOL.loss";
  const online = (x: tf.Tensor4D) => applyChecked(where, "projector", projector, applyChecked(where, "encoder", encoder, x, encoderDim), projectionDim);
  const target = (x: tf.Tensor4D) =>
    emas ? applyChecked(where, "target projector", emas[1].target, applyChecked(where, "target encoder", emas[0].target, x, encoderDim), projectionDim) : online(x);
  const predict = (z: tf.Tensor2D) => (predictor ? applyChecked(where, "predictor", predictor, z, projectionDim) : z);
  const method: VisionMethod & { target?: { encoder: tf.LayersModel; projector: tf.LayersModel } } = {
    name: "BYOL",
    encoder,
    trainable: predictor ? [encoder, projector, predictor] : [encoder, projector],
    loss(batch, ctx) {
      const images = checkVisionBatch(where, batch);
      const [x1, x2] = augmentation(images, ctx.seed);
      const z1 = online(x1);
      const z2 = online(x2);
      // Without a target network the "targets" are z1, z2 themselves, with gradient.
      const t1 = emas ? target(x1) : z1;
      const t2 = emas ? target(x2) : z2;
      const loss = tf.add(negativeCosine(predict(z1), t2, useTarget), negativeCosine(predict(z2), t1, useTarget)) as tf.Scalar;
      return { loss, metrics: { std: normalizedStd(z1) } };
    },
    dispose() {
      projector.dispose();
      predictor?.dispose();
      emas?.forEach((e) => e.dispose());
    },
  };
  if (emas) {
    const [e, p] = emas;
    method.afterStep = (_batch, ctx) => {
      const m = typeof momentum === "number" ? momentum : momentum(ctx.step);
      e.update(m);
      p.update(m);
    };
    method.target = { encoder: e.target, projector: p.target };
  }
  return method;
}
