/**
 * Checks the options of `train` before anything runs, and resolves their
 * defaults, so a mistake fails at the call with a message naming the
 * option rather than steps later inside TensorFlow.js.
 */
import { tf } from "../backend/tf";
import { trainableVariables } from "../models/encoders";
import type { TrainOptions } from "./types";

/** The options `train` works from once they are checked and defaulted. */
export interface ResolvedTrainOptions {
  /** Seed of the run; default 0. */
  seed: number;
  /** Step count at which the run stops; Infinity when `steps` is not given. */
  stepsCap: number;
  /** Epochs to run; 1 by default, Infinity when only `steps` bounds the run. */
  epochs: number;
  /** Whether the loop disposes the batches; default true. */
  disposeBatches: boolean;
  /** The variables the optimizer updates, each once, in the order of `trainable`. */
  varList: tf.Variable[];
}

function positiveInteger(name: string, v: number | undefined, allowInfinity = false): void {
  if (v === undefined) return;
  if (allowInfinity && v === Infinity) return;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`train: ${name} must be a positive integer, got ${v}`);
}

/**
 * The trainable variables of models and bare variables, without repeats
 * (two heads may share a layer; a variable may also sit in a model).
 *
 * @example
 * collectVariables([encoder, head, temperature]); // encoder's, head's, then temperature
 */
export function collectVariables(trainable: Array<tf.LayersModel | tf.Variable>): tf.Variable[] {
  const seen = new Set<string>();
  const out: tf.Variable[] = [];
  for (const t of trainable) {
    const vars = t instanceof tf.Variable ? [t] : trainableVariables(t);
    for (const v of vars) {
      if (!seen.has(v.name)) {
        seen.add(v.name);
        out.push(v);
      }
    }
  }
  return out;
}

/**
 * Checks `train`'s options and fills in their defaults. Throws an Error
 * naming `train` and the option for a non-integer seed; `steps`, `epochs`
 * (Infinity allowed), `stepsPerEpoch`, `logEvery` or `checkpoint.every`
 * not a positive integer; `loss` or `batches` not a function; `trainable`
 * empty or without trainable variables.
 *
 * @example
 * resolveTrainOptions({ loss, optimizer, trainable: [encoder], batches, steps: 100 });
 * // { seed: 0, stepsCap: 100, epochs: Infinity, disposeBatches: true, varList: [...] }
 */
export function resolveTrainOptions<B>(options: TrainOptions<B>): ResolvedTrainOptions {
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`train: seed must be an integer, got ${seed}`);
  positiveInteger("steps", options.steps);
  positiveInteger("epochs", options.epochs, true);
  positiveInteger("stepsPerEpoch", options.stepsPerEpoch);
  positiveInteger("logEvery", options.logEvery);
  positiveInteger("checkpoint.every", options.checkpoint?.every);
  if (typeof options.loss !== "function") throw new Error(`train: loss must be a function, got ${typeof options.loss}`);
  if (typeof options.batches !== "function") throw new Error(`train: batches must be a function, got ${typeof options.batches}`);
  if (!Array.isArray(options.trainable) || options.trainable.length === 0) {
    throw new Error(`train: trainable must be a non-empty array of models or variables, got ${String(options.trainable)}`);
  }
  const varList = collectVariables(options.trainable);
  if (varList.length === 0) throw new Error(`train: trainable must hold at least one trainable variable, got none`);
  return {
    seed,
    stepsCap: options.steps ?? Infinity,
    epochs: options.epochs ?? (options.steps === undefined ? 1 : Infinity),
    disposeBatches: options.disposeBatches ?? true,
    varList,
  };
}
