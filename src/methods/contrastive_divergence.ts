/**
 * Contrastive divergence (Hinton 2002, "Training products of experts by
 * minimizing contrastive divergence") for the binary RBM of models/rbm.ts,
 * written as a loss for the shared training loop.
 *
 * The log-likelihood gradient of an RBM is a difference of two expectations,
 *   d log p(v) / dW = <v p(h|v)>_data - <v h>_model,
 * and the model term needs samples from the RBM itself. CD-k replaces them by
 * v_k, the end of a k-step Gibbs chain started at the data. The CD-k update is
 *   dW = mean_data[v p(h|v)] - mean_chain[v_k p(h|v_k)],  db = mean(v) - mean(v_k),
 *   dc = mean(p(h|v)) - mean(p(h|v_k)).
 * Since dF(v)/dW_ij = -v_i p(h_j = 1 | v), dF/db = -v and dF/dc = -p(h|v), the
 * surrogate  L = mean F(v_data) - mean F(stopGradient(v_k))  has gradient
 * exactly -(CD-k update): one step of gradient descent on L is one CD-k step.
 * The stop-gradient is what makes this true: v_k depends on the weights
 * through the chain, but CD ignores that dependence (it is the part of the
 * true CD objective's gradient Hinton drops as small). L is not a likelihood
 * and need not fall during training; monitor reconstruction error or the
 * pseudo-likelihood instead.
 */
import { tf } from "../backend/tf";
import { gibbsChain, Rbm } from "../models/rbm";
import { stopGradient } from "../losses/ops/stop_gradient";
import { checkInteger, checkMatrix, checkOptions, checkPositiveInteger } from "../validation/arguments";
import type { Method } from "./method";

/** Options of {@link contrastiveDivergenceLoss}. */
export interface ContrastiveDivergenceOptions {
  /** Gibbs steps k; default 1 (CD-1). */
  k?: number;
  /** Seed of the chain's draws: step t uses seeds `seed + 2t` and `seed + 2t + 1`. Pass the loop's `ctx.seed`. */
  seed: number;
}


/**
 * The CD-k surrogate mean F(v_data) - mean F(stopGradient(v_k)), where v_k is
 * the sampled visible state after k Gibbs steps from `v` (see the module
 * comment for why its gradient is exactly the CD-k update). Runs inside the
 * training loop's gradient computation; outside it, wrap it in `tf.tidy`.
 *
 * Shapes: `v` `[batch, V]` in {0, 1} -> scalar `[]`.
 *
 * @example
 * training.train({
 *   trainable: rbm.trainable, optimizer: tf.train.sgd(0.05),
 *   loss: (v, ctx) => contrastiveDivergenceLoss(rbm, v, { k: 1, seed: ctx.seed }), ...
 * });
 */
export function contrastiveDivergenceLoss(rbm: Rbm, v: tf.Tensor2D, options: ContrastiveDivergenceOptions): tf.Scalar {
  const fn = "contrastiveDivergenceLoss";
  checkMatrix(fn, "v", v, undefined, rbm.visibleUnits, "float32");
  const k = options.k ?? 1;
  checkPositiveInteger(fn, "k", k);
  checkInteger(fn, "seed", options.seed);
  return tf.tidy(() => {
    const chain = gibbsChain(rbm, v, k, options.seed);
    const negative = stopGradient(chain.visible);
    return tf.sub(tf.mean(rbm.freeEnergy(v)), tf.mean(rbm.freeEnergy(negative))) as tf.Scalar;
  });
}

/** Options of {@link createContrastiveDivergence}. */
export interface ContrastiveDivergenceMethodOptions {
  /** The RBM to train (from `models.createRbm`); it stays the caller's. */
  rbm: Rbm;
  /** Gibbs steps k; default 1 (CD-1). */
  k?: number;
}

/** CD-k as a {@link Method}: batches are binary images `[batch, V]`. */
export interface ContrastiveDivergenceMethod extends Method<tf.Tensor2D> {
  /** The RBM being trained. */
  readonly rbm: Rbm;
  /** Gibbs steps per update. */
  readonly k: number;
}

/**
 * Contrastive divergence CD-k (Hinton 2002) for `training.train`: the loss of
 * a batch is {@link contrastiveDivergenceLoss} with the step's seed, the
 * trainable variables are the RBM's. `dispose()` frees nothing: the RBM was
 * passed in and is kept for sampling and probing.
 *
 * Shapes: batches `[batch, V]` in {0, 1} -> scalar loss `[]`.
 *
 * @example
 * const rbm = models.createRbm({ visibleUnits: 784, hiddenUnits: 128, seed: 1 });
 * const cd = methods.createContrastiveDivergence({ rbm, k: 1 });
 * await training.train({ ...cd, optimizer: tf.train.momentum(0.1, 0.5), batches: data.flatImageBatches(train, { batchSize: 100 }), epochs: 6 });
 */
export function createContrastiveDivergence(options: ContrastiveDivergenceMethodOptions): ContrastiveDivergenceMethod {
  const fn = "createContrastiveDivergence";
  checkOptions(fn, options, "{rbm, k?}");
  const { rbm } = options;
  if (rbm == null || typeof rbm.freeEnergy !== "function" || !Array.isArray(rbm.trainable)) {
    throw new Error(`${fn}: options.rbm must be an RBM from models.createRbm, got ${rbm === null ? "null" : typeof rbm}`);
  }
  const k = options.k ?? 1;
  checkPositiveInteger(fn, "options.k", k);
  return {
    name: `CD-${k}`,
    rbm,
    k,
    trainable: rbm.trainable,
    loss: (v, ctx) => contrastiveDivergenceLoss(rbm, v, { k, seed: ctx.seed }),
    dispose() {
      // The RBM is the caller's; CD-k creates nothing of its own.
    },
  };
}
