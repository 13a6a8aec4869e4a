/**
 * Mutual-information estimation as a method: a critic trained to maximise
 * a variational lower bound on I(X; Y) over batches of correlated
 * Gaussians whose true MI is known (Poole, Ozair, van den Oord, Alemi,
 * Tucker 2019, "On Variational Bounds of Mutual Information", Fig. 2).
 *
 * The batch of a step is a number: the true MI of that step, in nats. The
 * method draws K pairs with that MI from the step's seed, so the true MI can
 * change from step to step (Poole et al.'s staircase) while the critic and
 * the optimizer carry on:
 *
 * ```ts
 * const critic = models.separableCritic({ dim: 20, seed: 1 });
 * const method = methods.createMiEstimation({ critic, bound: "infonce", batchSize: 128 });
 * const staircase = data.miStaircase({ levels: [2, 4, 6, 8, 10], stepsPerLevel: 200 });
 * const history = await training.train({ ...method, optimizer: tf.train.adam(2e-3), batches: () => staircase, steps: staircase.length });
 * history.metrics.estimate; // the bound per step, beside history.metrics.trueMi
 * ```
 */
import { tf } from "../backend/tf";
import type { Critic } from "../models/critics";
import { correlatedGaussians, rhoForMutualInformation } from "../data/correlated_gaussians";
import { infoNceBound } from "../losses/mi_info_nce_bound";
import { nwjBound } from "../losses/mi_nwj";
import { donskerVaradhanBound } from "../losses/mi_donsker_varadhan";
import { checkNonNegativeNumber, checkOneOf, checkOptions, checkPositiveInteger } from "../validation/arguments";
import type { Method } from "./method";

/** The bounds a critic can be trained with. */
export type MiBoundName = "infonce" | "nwj" | "dv";

/** Each bound's function, `scores [K, K]` -> scalar nats. */
export const MI_BOUNDS: Readonly<Record<MiBoundName, (scores: tf.Tensor2D) => tf.Scalar>> = {
  infonce: infoNceBound,
  nwj: nwjBound,
  dv: donskerVaradhanBound,
};

/** Options of {@link createMiEstimation}. */
export interface MiEstimationOptions {
  /** The critic to train (models.separableCritic or concatCritic); it stays the caller's. */
  critic: Critic;
  /** Which lower bound to maximise. */
  bound: MiBoundName;
  /** Pairs per batch, K >= 2 (InfoNCE's cap is log K). */
  batchSize: number;
}

/** MI estimation as a {@link Method}: the batch is the step's true MI in nats. */
export interface MiEstimationMethod extends Method<number> {
  /** The critic being trained. */
  readonly critic: Critic;
  /** The bound maximised. */
  readonly bound: MiBoundName;
  /** Pairs per batch K. */
  readonly batchSize: number;
}

/**
 * A critic trained by maximising a MI lower bound, for `training.train`.
 * Each step draws `batchSize` correlated-Gaussian pairs (data/
 * correlated_gaussians.ts, seeded by the step's `ctx.seed`) whose true MI
 * is the batch, scores all pairs with the critic and returns
 * `loss = -bound`, with the metrics `estimate` (the bound, nats) and
 * `trueMi` (the batch) recorded per step in `History.metrics`.
 * `dispose()` frees nothing: the critic was passed in.
 *
 * Shapes: batch: a number >= 0 (nats) -> scalar loss `[]`; internally
 * `x`, `y` `[batchSize, critic.dim]` and scores `[batchSize, batchSize]`.
 *
 * @example
 * const critic = models.separableCritic({ dim: 20, seed: 1 });
 * const nwj = methods.createMiEstimation({ critic, bound: "nwj", batchSize: 128 });
 * await training.train({ ...nwj, optimizer: tf.train.adam(2e-3), batches: () => data.miStaircase({ levels: [2, 4], stepsPerLevel: 500 }), steps: 1000 });
 * critic.dispose();
 */
export function createMiEstimation(options: MiEstimationOptions): MiEstimationMethod {
  const fn = "createMiEstimation";
  checkOptions(fn, options, "{critic, bound, batchSize}");
  const { critic, bound, batchSize } = options;
  if (critic == null || typeof critic.scores !== "function" || !Array.isArray(critic.trainable)) {
    throw new Error(`${fn}: options.critic must be a critic from models.separableCritic or models.concatCritic, got ${critic === null ? "null" : typeof critic}`);
  }
  checkOneOf(fn, "options.bound", bound, Object.keys(MI_BOUNDS) as MiBoundName[]);
  checkPositiveInteger(fn, "options.batchSize", batchSize);
  if (batchSize < 2) throw new Error(`${fn}: options.batchSize must be an integer >= 2, got ${batchSize}`);
  const boundOf = MI_BOUNDS[bound];
  return {
    name: `${bound} (${critic.name} critic, K=${batchSize})`,
    critic,
    bound,
    batchSize,
    trainable: critic.trainable,
    loss(trueMi, ctx) {
      checkNonNegativeNumber(`${fn}.loss`, "batch (the true MI in nats)", trueMi);
      const rho = rhoForMutualInformation(trueMi, critic.dim);
      const { x, y } = correlatedGaussians({ n: batchSize, dim: critic.dim, rho, seed: ctx.seed });
      const estimate = boundOf(critic.scores(x, y));
      return { loss: tf.neg(estimate), metrics: { estimate, trueMi: tf.scalar(trueMi) } };
    },
    itemsPerBatch: () => batchSize,
    dispose() {
      // The critic is the caller's; the method creates nothing of its own.
    },
  };
}
