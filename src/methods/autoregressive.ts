/**
 * Autoregressive density estimation trained by maximum likelihood: NADE
 * (Larochelle & Murray 2011) and its masked network form MADE (Germain,
 * Gregor, Murray & Larochelle 2015, models/made.ts). The chain rule
 * p(x) = prod_d p(x_d | x_<d) gives the exact likelihood, so the loss is the
 * exact negative log-likelihood of the batch: each pixel predicted from the
 * ones before it, no labels.
 */
import { tf } from "../backend/tf";
import type { Made } from "../models/made";
import type { Method } from "./method";

/** Options of {@link createAutoregressive}. */
export interface AutoregressiveOptions {
  /** The model to train (from `models.createMade`), or any model with `nll` and `trainable`; it stays the caller's. */
  model: Pick<Made, "nll" | "trainable">;
  /** Name for labels; default "MADE". */
  name?: string;
}

/** Maximum likelihood of an autoregressive model as a {@link Method}: batches are binary images `[batch, D]`. */
export interface AutoregressiveMethod extends Method<tf.Tensor2D> {
  /** The model being trained. */
  readonly model: Pick<Made, "nll" | "trainable">;
}

/**
 * MADE (or any model with `nll`) for `training.train`: the loss of a batch is
 * the mean negative log-likelihood `mean_n -log p(x_n)` in nats per image.
 * `dispose()` frees nothing: the model was passed in and is kept for sampling.
 *
 * Shapes: batches `[batch, D]` in {0, 1} -> scalar loss `[]` (nats per image).
 *
 * @example
 * const made = models.createMade({ inputDim: 784, hiddenUnits: [500], seed: 1 });
 * const method = methods.createAutoregressive({ model: made });
 * await training.train({ ...method, optimizer: training.adam(2e-3), batches: data.flatImageBatches(train, { batchSize: 100 }), epochs: 20 });
 */
export function createAutoregressive(options: AutoregressiveOptions): AutoregressiveMethod {
  const fn = "createAutoregressive";
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object {model, name?}, got ${options}`);
  const { model } = options;
  if (model == null || typeof model.nll !== "function" || !Array.isArray(model.trainable)) {
    throw new Error(`${fn}: options.model must have nll(x) and trainable (models.createMade), got ${model === null ? "null" : typeof model}`);
  }
  const name = options.name ?? "MADE";
  if (typeof name !== "string" || name.length === 0) throw new Error(`${fn}: options.name must be a non-empty string, got ${JSON.stringify(name)}`);
  return {
    name,
    model,
    trainable: model.trainable,
    loss: (x) => tf.mean(model.nll(x)),
    dispose() {
      // The model is the caller's; the method creates nothing of its own.
    },
  };
}
