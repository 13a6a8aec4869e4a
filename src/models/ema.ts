/**
 * Exponential moving average (momentum) copies of a model: MoCo's key
 * encoder (He, Fan, Wu, Xie & Girshick 2020, "Momentum Contrast for
 * Unsupervised Visual Representation Learning", Sec. 3.2, eq. 2) and BYOL's
 * target network (Grill et al. 2020, "Bootstrap Your Own Latent", Sec. 3.1).
 */
import { tf } from "../backend/tf";
import { checkNumberInRange } from "../validation/arguments";

/** Options of {@link createEma}. */
export interface EmaOptions {
  /** m in target = m * target + (1 - m) * online, in [0, 1]; e.g. 0.99 (MoCo: 0.999, BYOL: 0.996). */
  momentum: number;
  /** Name of the target model; default `<online name>_ema`. */
  name?: string;
  /**
   * How one target weight moves towards its online weight; default
   * {@link emaRule}. A course exercise passes the student's own rule here.
   */
  rule?: EmaRule;
}

/**
 * One weight's moving-average update: the new target value from the target
 * `[...shape]`, the online weight `[...shape]` and the momentum m. Must
 * return a new tensor of the same shape (the caller disposes its inputs'
 * intermediates with `tf.tidy`).
 */
export type EmaRule = (target: tf.Tensor, online: tf.Tensor, momentum: number) => tf.Tensor;

/**
 * The exponential moving average of MoCo's eq. 2 and BYOL's target update:
 * `m * target + (1 - m) * online`.
 *
 * Shapes: `target`, `online` `[...shape]` -> `[...shape]`.
 *
 * @example
 * emaRule(tf.tensor([1, 1]), tf.tensor([0, 2]), 0.9); // [0.9, 1.1]
 */
export function emaRule(target: tf.Tensor, online: tf.Tensor, momentum: number): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(target, momentum), tf.mul(online, 1 - momentum)));
}

/** An online model and its moving-average target. */
export interface Ema {
  /** The model being trained. */
  readonly online: tf.LayersModel;
  /**
   * The average: same architecture, never trainable (its `trainableWeights`
   * is empty and its variables are created non-trainable, so neither
   * `trainableVariables` nor an optimizer without a var list sees them).
   * `target.layers[i].weights` pairs with `online.layers[i].weights`;
   * `target.weights` lists them in another order (trainable ones come
   * first in a model's `weights`, and the target has none).
   */
  readonly target: tf.LayersModel;
  /** The default momentum of {@link Ema.update}. */
  readonly momentum: number;
  /**
   * target = m * target + (1 - m) * online for every weight, trainable or
   * not, with m = `momentum` (default: the one given at creation; pass one
   * for a schedule such as BYOL's cosine increase to 1). Call it after the
   * optimizer's update (`train({ afterStep })`).
   */
  update(momentum?: number): void;
  /** Frees the target's variables (the online model is the caller's). */
  dispose(): void;
}

/**
 * Makes the moving-average target of `online`: a new model of the same
 * architecture (rebuilt from `online.getConfig()`), its weights copied from
 * `online` at creation.
 *
 * Every weight is averaged, BatchNorm moving means and variances included:
 * they are the statistics the target's inference mode uses, and averaging
 * them keeps them matched to the averaged kernels. (MoCo's PyTorch code
 * averages parameters only and lets the key encoder's buffers follow its own
 * batches.) Note that tfjs's BatchNorm also moves its moving statistics
 * during every `apply(x, { training: true })`, target included; `update`
 * then averages those values with the online ones.
 *
 * Shapes: the target maps what `online` maps, e.g. `[batch, 28, 28, 1]` -> `[batch, 128]`.
 *
 * @example
 * const ema = createEma(encoder, { momentum: 0.99 });
 * // in the loss: const k = ema.target.apply(x2, { training: true }) as tf.Tensor2D;
 * // after each optimizer step: ema.update();
 */
export function createEma(online: tf.LayersModel, options: EmaOptions): Ema {
  const fn = "createEma";
  if (!(online instanceof tf.LayersModel)) throw new Error(`${fn}: online must be a tf.LayersModel, got ${online}`);
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object {momentum}, got ${options}`);
  checkNumberInRange(fn, "momentum", options.momentum, 0, 1);
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[online.getClassName()];
  if (entry === undefined) throw new Error(`${fn}: online must be a registered model class, got ${online.getClassName()}`);
  const [cls, fromConfig] = entry;
  const config = { ...online.getConfig(), name: options.name ?? `${online.name}_ema` };
  const target = fromConfig(cls, config) as tf.LayersModel;
  // Pair the weights before freezing: freezing reorders `target.weights`
  // (trainable ones first, then the rest).
  const targetWeights = target.weights;
  const pairs = online.weights.map((w, i) => {
    const t = targetWeights[i];
    if (t === undefined || t.shape.join() !== w.shape.join()) {
      throw new Error(`${fn}: the rebuilt target must match online weight ${i} ('${w.name}') of shape [${w.shape}], got ${t === undefined ? "none" : `[${t.shape}]`}`);
    }
    return [t, w] as const;
  });
  if (targetWeights.length !== online.weights.length) {
    throw new Error(`${fn}: the rebuilt target must have ${online.weights.length} weights, got ${targetWeights.length}`);
  }
  const rule = options.rule ?? emaRule;
  if (typeof rule !== "function") throw new Error(`${fn}: options.rule must be a function (target, online, momentum) => tensor, got ${typeof rule}`);
  target.trainable = false;
  const copy = () => tf.tidy(() => pairs.forEach(([t, o]) => t.write(o.read().clone())));
  const mix = (m: number) => {
    // The default rule at m = 1 leaves every weight as it is: skip the work.
    if (m === 1 && rule === emaRule) return;
    tf.tidy(() => {
      for (const [t, o] of pairs) {
        const next = rule(t.read(), o.read(), m);
        if (!(next instanceof tf.Tensor) || next.shape.join() !== t.shape.join()) {
          const got = next instanceof tf.Tensor ? `shape [${next.shape}]` : String(next);
          throw new Error(`Ema.update: options.rule must return a tensor of the weight's shape [${t.shape}] for '${t.name}', got ${got}`);
        }
        t.write(next);
      }
    });
  };
  copy();
  let disposed = false;
  return {
    online,
    target,
    momentum: options.momentum,
    update(momentum = options.momentum) {
      if (disposed) throw new Error("Ema.update: the Ema was disposed");
      checkNumberInRange("Ema.update", "momentum", momentum, 0, 1);
      mix(momentum);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      target.dispose();
    },
  };
}
