/**
 * The loop's side of a checkpoint: which models and variables `train`
 * saves, and the loop state it keeps in the checkpoint's JSON `state`
 * (counters, seed, history) so that a later call continues the run.
 */
import { tf } from "../backend/tf";
import { hasCheckpoint, JsonValue, loadCheckpoint, readCheckpointState, saveCheckpoint } from "./checkpoint";
import type { StepLog, TrainCheckpointOptions } from "./types";

// Tells a loop checkpoint from one a notebook wrote with saveCheckpoint itself.
const KIND = "ssl-workbook/train";

/** Where a run stands: what a resume restores. */
export interface LoopProgress {
  /** Steps done. */
  step: number;
  /** 0-based epoch in progress. */
  epoch: number;
  /** Batches of `epoch` already used. */
  stepInEpoch: number;
  /** Loss of every step so far. */
  loss: number[];
  /** Every metric of every step so far. */
  metrics: Record<string, number[]>;
  /** Mean loss of every completed epoch. */
  epochLoss: number[];
  /** The log rows so far. */
  log: StepLog[];
}

/** The JSON `state` of a checkpoint written by `train`. */
interface SavedLoopState extends LoopProgress {
  kind: typeof KIND;
  seed: number;
}

/** A run's checkpoint with its defaults resolved: what is saved, and where. */
export interface LoopCheckpoint {
  /** Folder of the checkpoint. */
  dir: string;
  /** Save every this many steps too, when given. */
  every?: number;
  /** Continue from the checkpoint in `dir` if there is one. */
  resume: boolean;
  models: Record<string, tf.LayersModel>;
  variables: Record<string, tf.Variable>;
  optimizer: tf.Optimizer;
}

function defaultCheckpointModels(trainable: Array<tf.LayersModel | tf.Variable>): Record<string, tf.LayersModel> {
  const models: Record<string, tf.LayersModel> = {};
  for (const t of trainable) {
    if (t instanceof tf.Variable) continue;
    if (models[t.name] !== undefined && models[t.name] !== t) {
      throw new Error(`train: checkpoint.models must be given when two trainable models share a name, got two named '${t.name}'`);
    }
    models[t.name] = t;
  }
  return models;
}

function defaultCheckpointVariables(trainable: Array<tf.LayersModel | tf.Variable>): Record<string, tf.Variable> {
  const vars: Record<string, tf.Variable> = {};
  trainable.filter((t): t is tf.Variable => t instanceof tf.Variable).forEach((v, i) => (vars[`variable_${i}`] = v));
  return vars;
}

/**
 * Resolves `train`'s `checkpoint` option: by default the models of
 * `trainable` keyed by `model.name`, and its bare variables keyed
 * `variable_0`, `variable_1`, ... Throws when two models share a name and
 * `checkpoint.models` is not given.
 *
 * @example
 * loopCheckpoint({ dir: "ckpt/simclr" }, [encoder, projector], optimizer);
 * // { dir, resume: true, models: { encoder, projector }, variables: {}, optimizer }
 */
export function loopCheckpoint(
  options: TrainCheckpointOptions,
  trainable: Array<tf.LayersModel | tf.Variable>,
  optimizer: tf.Optimizer,
): LoopCheckpoint {
  return {
    dir: options.dir,
    every: options.every,
    resume: options.resume ?? true,
    models: options.models ?? defaultCheckpointModels(trainable),
    variables: options.variables ?? defaultCheckpointVariables(trainable),
    optimizer,
  };
}

/**
 * Loads the checkpoint in `ckpt.dir` into its models, variables and
 * optimizer and returns the saved loop progress; `undefined` when there is
 * no checkpoint or `ckpt.resume` is false. Throws when the folder holds a
 * checkpoint not written by `train`, or one of another seed (it would not
 * continue the same run).
 *
 * @example
 * const saved = await resumeLoop(ckpt, seed);
 * let step = saved?.step ?? 0;
 */
export async function resumeLoop(ckpt: LoopCheckpoint, seed: number): Promise<LoopProgress | undefined> {
  if (!ckpt.resume || !hasCheckpoint(ckpt.dir)) return undefined;
  const saved = (await readCheckpointState(ckpt.dir)) as unknown as SavedLoopState | null;
  if (saved === null || saved.kind !== KIND) {
    throw new Error(`train: checkpoint.dir must hold a checkpoint written by train, got another kind in '${ckpt.dir}'`);
  }
  if (saved.seed !== seed) {
    throw new Error(
      `train: seed must match the checkpoint's to resume, got ${seed} (checkpoint in '${ckpt.dir}' has ${saved.seed}); ` +
        `delete the folder or pass checkpoint.resume: false to start over`,
    );
  }
  await loadCheckpoint(ckpt.dir, { models: ckpt.models, variables: ckpt.variables, optimizer: ckpt.optimizer });
  return {
    step: saved.step,
    epoch: saved.epoch,
    stepInEpoch: saved.stepInEpoch,
    loss: saved.loss,
    metrics: saved.metrics,
    epochLoss: saved.epochLoss,
    log: saved.log,
  };
}

/**
 * Saves the models, variables and optimizer slots of `ckpt` with the loop
 * progress and seed as the checkpoint's state, replacing the previous one.
 *
 * @example
 * await saveLoop(ckpt, seed, { step, epoch, stepInEpoch, loss, metrics, epochLoss, log });
 */
export async function saveLoop(ckpt: LoopCheckpoint, seed: number, progress: LoopProgress): Promise<void> {
  const state: SavedLoopState = {
    kind: KIND,
    step: progress.step,
    epoch: progress.epoch,
    stepInEpoch: progress.stepInEpoch,
    seed,
    loss: progress.loss,
    metrics: progress.metrics,
    epochLoss: progress.epochLoss,
    log: progress.log,
  };
  await saveCheckpoint(ckpt.dir, {
    models: ckpt.models,
    variables: ckpt.variables,
    optimizer: ckpt.optimizer,
    state: state as unknown as JsonValue,
  });
}
