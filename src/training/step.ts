/**
 * One optimizer step of the training loop, inside `tf.tidy`, and the
 * cleanup tfjs needs when the loss throws halfway through a gradient.
 */
import { tf } from "../backend/tf";
import type { StepContext, TrainOptions } from "./types";

/**
 * After an error inside `tf.variableGrads`, tfjs-core 4.22 leaves the
 * abandoned tape (and the tensors its nodes saved for the backward pass)
 * in the engine; the next gradient call would start a new tape but those
 * tensors would leak. Release them, as the engine does after a successful
 * backward pass.
 */
function releaseAbandonedTape(): void {
  const state = tf.engine().state as unknown as {
    gradientDepth: number;
    activeTape: Array<{ saved?: tf.Tensor[] }> | null;
  };
  if (state.gradientDepth !== 0 || state.activeTape == null) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
  state.activeTape = null;
}

/** The loss and metrics of one step, read back as numbers. */
export interface StepResult {
  loss: number;
  metrics: Record<string, number>;
}

/**
 * One step inside tf.tidy: gradients of `options.loss(batch, ctx)` with
 * respect to `varList`, then the update and `options.afterStep`, applied
 * only when the loss is finite (so a NaN leaves the model as it was; the
 * caller decides what to do about it). Leaves no tensor behind. Throws
 * when the loss is not a scalar (shape `[]`) or a metric is not one.
 *
 * @example
 * const { loss, metrics } = runStep(options, collectVariables(options.trainable), batch, ctx);
 */
export function runStep<B>(
  options: TrainOptions<B>,
  varList: tf.Variable[],
  batch: B,
  ctx: StepContext,
): StepResult {
  let kept: Record<string, tf.Scalar> = {};
  try {
    return tf.tidy(() => {
      let gradients: ReturnType<tf.Optimizer["computeGradients"]>;
      try {
        gradients = options.optimizer.computeGradients(() => {
          const out = options.loss(batch, ctx);
          const lossTensor = out instanceof tf.Tensor ? out : out?.loss;
          if (!(lossTensor instanceof tf.Tensor) || lossTensor.rank !== 0) {
            const got = lossTensor instanceof tf.Tensor ? `shape [${lossTensor.shape}]` : typeof out;
            throw new Error(`train: loss must return a scalar tf.Tensor (shape []) or { loss, metrics }, got ${got}`);
          }
          if (!(out instanceof tf.Tensor) && out.metrics) {
            for (const [k, m] of Object.entries(out.metrics)) {
              if (!(m instanceof tf.Tensor) || m.rank !== 0) {
                const got = m instanceof tf.Tensor ? `shape [${m.shape}]` : typeof m;
                throw new Error(`train: metrics.${k} must be a scalar tf.Tensor (shape []), got ${got}`);
              }
              // The gradient tape disposes what the loss made; keep metrics to read them.
              kept[k] = tf.keep(m.clone()) as tf.Scalar;
            }
          }
          return lossTensor as tf.Scalar;
        }, varList);
      } catch (error) {
        releaseAbandonedTape();
        throw error;
      }
      const lossValue = gradients.value.dataSync()[0];
      const metricValues: Record<string, number> = {};
      for (const [k, m] of Object.entries(kept)) metricValues[k] = m.dataSync()[0];
      if (Number.isFinite(lossValue)) {
        options.optimizer.applyGradients(gradients.grads);
        options.afterStep?.(batch, ctx);
      }
      return { loss: lossValue, metrics: metricValues } as unknown as tf.TensorContainer;
    }) as unknown as StepResult;
  } finally {
    tf.dispose(Object.values(kept));
    kept = {};
  }
}
