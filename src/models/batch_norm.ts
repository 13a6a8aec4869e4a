/**
 * Batch normalization (Ioffe & Szegedy 2015, "Batch Normalization:
 * Accelerating Deep Network Training by Reducing Internal Covariate Shift",
 * Algorithm 1 and its backward pass, Sec. 3) with its training-mode gradient
 * in closed form.
 *
 * tf.layers.batchNormalization computes the batch moments with tf.moments and
 * then calls tf.batchNorm, so the tape differentiates through both: about
 * thirty elementwise ops and reductions over the whole activation per layer,
 * a third of a small ResNet's step on wasm. The closed form needs two
 * reductions and four elementwise ops; where the backend has the workbook's
 * BatchNorm kernels (wasm and cpu, backend/kernels/batch_norm.ts), two
 * passes over the activation each way. The layer here is that layer with
 * only its training-mode `call` replaced: same weights, same config, same
 * class name in saved files (a saved model loads as a stock BatchNormalization
 * anywhere), same moving-average update.
 */
import { tf } from "../backend/tf";
import { checkNumberInRange, checkRank, describe } from "../validation/arguments";
import { BATCH_NORM, BATCH_NORM_GRAD } from "../backend/kernels/batch_norm";

/** What {@link batchNormTraining} returns; the caller disposes all three. */
export interface BatchNormTrainingResult {
  /** The normalized, scaled and shifted input, shape of `x`. */
  y: tf.Tensor;
  /** `[C]` the batch mean of each channel (no gradient). */
  mean: tf.Tensor1D;
  /** `[C]` the biased batch variance of each channel, as tf.moments (no gradient). */
  variance: tf.Tensor1D;
}

/**
 * Training-mode batch normalization over every axis but the last:
 *
 *   mu = mean(x), var = mean((x - mu)^2), y = gamma (x - mu) / sqrt(var + eps) + beta,
 *
 * per channel, with the gradient of Ioffe & Szegedy's Sec. 3 written in
 * closed form (m elements per channel, xc = x - mu, s = 1/sqrt(var + eps)):
 *
 *   dbeta = sum(dy),  dgamma = s sum(dy xc),
 *   dx = gamma s (dy - dbeta / m - xc s^2 sum(dy xc) / m).
 *
 * The mean and variance come back as constants for the moving averages.
 *
 * Shapes: `x` `[..., C]` float32 (at least rank 2, at least one element per
 * channel), `gamma` and `beta` `[C]` float32 -> `y` like `x`, `mean` and
 * `variance` `[C]`.
 *
 * @example
 * const { y, mean, variance } = batchNormTraining(x, gamma, beta, 1e-5); // x [64, 14, 14, 32]
 */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): BatchNormTrainingResult {
  const fn = "batchNormTraining";
  if (!(x instanceof tf.Tensor) || x.rank < 2 || x.dtype !== "float32") {
    throw new Error(`${fn}: x must be a float32 tensor [..., C] of rank at least 2, got ${describe(x)}`);
  }
  const c = x.shape[x.rank - 1];
  if (x.size === 0) throw new Error(`${fn}: x must hold at least one element per channel, got shape [${x.shape}]`);
  checkRank(fn, "gamma", gamma, 1, "float32");
  checkRank(fn, "beta", beta, 1, "float32");
  if (gamma.shape[0] !== c) throw new Error(`${fn}: gamma must have shape [${c}] (x's channels), got [${gamma.shape}]`);
  if (beta.shape[0] !== c) throw new Error(`${fn}: beta must have shape [${c}] (x's channels), got [${beta.shape}]`);
  checkNumberInRange(fn, "epsilon", epsilon, 0, Infinity, { minExclusive: true });
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const m = x.size / c;
  const moments: tf.Tensor1D[] = [];
  const backend = tf.getBackend();
  const fused = tf.getKernel(BATCH_NORM, backend) != null && tf.getKernel(BATCH_NORM_GRAD, backend) != null;
  const op = fused ? tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    // The same function in two kernels of two passes each (backend/kernels/batch_norm.ts).
    const [input, g, b, save] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM, { x: input, gamma: g, beta: b }, { epsilon }) as tf.Tensor[];
    moments.push(tf.keep(mean as tf.Tensor1D), tf.keep(variance as tf.Tensor1D));
    save([input, mean, variance, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, mu, v, gam] = saved;
        return tf.engine().runKernel(BATCH_NORM_GRAD, { dy, x: xs, mean: mu, variance: v, gamma: gam }, { epsilon }) as tf.Tensor[];
      },
    };
  }) : tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, g, b, save] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const mean = tf.mean(input, axes) as tf.Tensor1D;
    const centred = tf.sub(input, mean);
    const variance = tf.mean(tf.square(centred), axes) as tf.Tensor1D;
    const invStd = tf.rsqrt(tf.add(variance, epsilon)) as tf.Tensor1D;
    const y = tf.add(tf.mul(centred, tf.mul(g, invStd)), b);
    // The forward runs inside a tidy of the engine's: keep the moments for the caller.
    moments.push(tf.keep(mean), tf.keep(variance));
    save([centred, invStd, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xc, s, gam] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D];
        const dBeta = tf.sum(dy, axes) as tf.Tensor1D;
        const dyXc = tf.sum(tf.mul(dy, xc), axes) as tf.Tensor1D;
        const scale = tf.mul(gam, s) as tf.Tensor1D; // gamma s
        // dx = dy * (gamma s) + xc * (-gamma s^3 sum(dy xc) / m) + (-gamma s sum(dy) / m)
        const xcCoefficient = tf.mul(scale, tf.mul(tf.square(s), tf.div(dyXc, -m)));
        const offset = tf.mul(scale, tf.div(dBeta, -m));
        const dx = tf.add(tf.add(tf.mul(dy, scale), tf.mul(xc, xcCoefficient)), offset);
        return [dx, tf.mul(dyXc, s) as tf.Tensor1D, dBeta];
      },
    };
  });
  const y = op(x, gamma, beta);
  // Kept tensors escape every tidy: hand the caller ordinary ones.
  const [mean, variance] = moments.map((t) => {
    const copy = tf.clone(t);
    t.dispose();
    return copy;
  });
  return { y, mean, variance };
}

/** The stock layer's fields the training path reads (TypeScript declares them private). */
interface BatchNormalizationFields {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

type LayerArgs = Parameters<typeof tf.layers.batchNormalization>[0];
type LayerConstructor = new (args?: LayerArgs) => tf.layers.Layer;

/** tfjs-layers registers its BatchNormalization class under its name; the layers API exports only the factory. */
const StockBatchNormalization = tf.serialization.SerializationMap.getMap().classNameMap.BatchNormalization?.[0] as unknown as LayerConstructor | undefined;
if (StockBatchNormalization === undefined) throw new Error("batch_norm: tfjs-layers has no registered BatchNormalization class");

/**
 * The stock class with {@link batchNormTraining} in its training-mode call.
 * It is deliberately not registered for serialization: it keeps the stock
 * class name, so saved files load as the stock layer, which computes the
 * same function.
 */
class ClosedFormBatchNormalization extends StockBatchNormalization {
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const self = this as unknown as BatchNormalizationFields;
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    const channelsLast = self.axis === -1 || self.axis === input.rank - 1;
    if (kwargs.training !== true || !channelsLast || !self.center || !self.scale || (Array.isArray(inputs) && inputs.length !== 1)) {
      return super.call(inputs, kwargs);
    }
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTraining(input, self.gamma.read() as tf.Tensor1D, self.beta.read() as tf.Tensor1D, self.epsilon);
      // The stock update: moving <- moving - (moving - batch) (1 - momentum).
      for (const [variable, batch] of [[self.movingMean, mean], [self.movingVariance, variance]] as const) {
        const old = variable.read();
        variable.write(tf.sub(old, tf.mul(tf.sub(old, batch), 1 - self.momentum)));
      }
      return y;
    });
  }
}

/**
 * `tf.layers.batchNormalization(args)` whose training-mode gradient is the
 * closed form of {@link batchNormTraining} (channels-last, with scale and
 * centre, as every BatchNorm of this library); any other case, and
 * inference, runs the stock code. Weights, config and saved files are the
 * stock layer's.
 *
 * Shapes: `[..., C]` -> the same.
 *
 * @example
 * const bn = batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: "stem_bn" });
 * const h = bn.apply(conv.apply(input)) as tf.SymbolicTensor;
 */
export function batchNormalization(args: LayerArgs = {}): tf.layers.Layer {
  return new ClosedFormBatchNormalization(args);
}
