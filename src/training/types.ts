/**
 * The types of the training loop's public API: what `train` (loop.ts) takes
 * (options, callbacks, checkpointing), what it hands the loss and the
 * callbacks, and what it returns.
 */
import { tf } from "../backend/tf";
import type { Rng } from "../data/random";
import type { ProgressReporter } from "./progress";

/** What the loop tells the loss about the step it is computing. */
export interface StepContext {
  /** 0-based index of this step over the whole run (resumes included). */
  readonly step: number;
  /** 0-based epoch. */
  readonly epoch: number;
  /** 0-based index of this step within its epoch. */
  readonly stepInEpoch: number;
  /**
   * A seed for this step's TensorFlow.js random ops, a hash of the run's
   * seed and `step`: pass it as the `seed` argument of `tf.randomNormal`,
   * `tf.randomUniform`, `tf.dropout`, `tf.multinomial`. Ops given the same
   * seed draw the same numbers, so give each further op of a step its own
   * seed from `rng.fork()`.
   */
  readonly seed: number;
  /** A JS generator seeded with `seed`, for augmentations and sampling done in JS. */
  readonly rng: Rng;
}

/** A loss with extra scalars to record, e.g. the positive-pair accuracy or the embedding std. */
export interface LossWithMetrics {
  /** The scalar (shape `[]`) the optimizer minimises. */
  loss: tf.Tensor;
  /** Scalars (shape `[]`) recorded per step in `History.metrics`; no gradient flows through them. */
  metrics?: Record<string, tf.Tensor>;
}

/** What `onStep` receives after each step. */
export interface StepInfo {
  /** Steps done, including this one (and those before a resume). */
  step: number;
  /** 0-based epoch of this step. */
  epoch: number;
  /** The step's loss. */
  loss: number;
  /** The step's metrics. */
  metrics: Record<string, number>;
  /** Seconds since this call of `train` started. */
  elapsedSeconds: number;
  /** Ends the run after this step (`History.stopReason` = "callback"). */
  stop(): void;
}

/** What `onEpochEnd` receives after each completed epoch. */
export interface EpochInfo {
  /** 0-based index of the epoch that ended. */
  epoch: number;
  /** Its mean loss. */
  loss: number;
  /** Steps done so far. */
  step: number;
  /** Seconds since this call of `train` started. */
  elapsedSeconds: number;
  /** Ends the run here (`History.stopReason` = "callback"). */
  stop(): void;
}

/** One row of the training log, written every `logEvery` steps. */
export interface StepLog {
  /** Steps done. */
  step: number;
  /** 0-based epoch of the last step. */
  epoch: number;
  /** Mean loss over the steps since the previous row. */
  loss: number;
  /** Mean of each metric over the same steps. */
  metrics: Record<string, number>;
  /** Steps per second over the same steps (step time only). */
  stepsPerSecond: number;
  /** Items per second over the same steps, when items are counted. */
  itemsPerSecond?: number;
  /** Seconds since this call of `train` started. */
  elapsedSeconds: number;
}

/** Callbacks; each may be async, and the loop waits for it. */
export interface TrainCallbacks {
  /** After every step, outside `tf.tidy`. */
  onStep?(info: StepInfo): void | Promise<void>;
  /** After every completed epoch. */
  onEpochEnd?(info: EpochInfo): void | Promise<void>;
  /** Every `logEvery` steps. */
  onLog?(log: StepLog): void | Promise<void>;
}

/** Checkpointing of a run. */
export interface TrainCheckpointOptions {
  /** Folder of the checkpoint; see checkpoint.ts for its layout. */
  dir: string;
  /** Also save every `every` steps; by default the loop saves only when the run ends or is interrupted. */
  every?: number;
  /**
   * Models to save, keyed by a file-safe name. Default: the models in
   * `trainable`, keyed by `model.name`. Pass them explicitly when two have the
   * same name or when a model has no gradient but changes (an EMA target).
   */
  models?: Record<string, tf.LayersModel>;
  /**
   * Variables to save, keyed by name. Default: the bare variables in
   * `trainable`, keyed `variable_0`, `variable_1`, ... in order. Add memory
   * banks and queues here.
   */
  variables?: Record<string, tf.Variable>;
  /** Continue from the checkpoint in `dir` if there is one; default true. */
  resume?: boolean;
}

/** Options of `train` (loop.ts). `B` is the type of one batch. */
export interface TrainOptions<B> {
  /**
   * Builds the loss of one batch: the only code a method writes. It runs
   * inside the optimizer's gradient computation inside `tf.tidy`, so it creates tensors
   * freely and never disposes them. Return a scalar (shape `[]`; typed
   * `tf.Tensor` because `tf.losses.*` are), or `{ loss, metrics }`.
   */
  loss(batch: B, ctx: StepContext): tf.Tensor | LossWithMetrics;
  /** Any `tf.Optimizer`, e.g. `tf.train.adam(1e-3)`. */
  optimizer: tf.Optimizer;
  /** What the optimizer updates: models (their trainable weights) and bare variables. */
  trainable: Array<tf.LayersModel | tf.Variable>;
  /**
   * The batches of one epoch. Called once per epoch with a generator seeded
   * from the run's seed and the epoch, for shuffling. Arrays, generators and
   * async generators all work.
   */
  batches(epoch: number, rng: Rng): Iterable<B> | AsyncIterable<B>;
  /** Epochs to run; default 1, or unlimited when `steps` is given. */
  epochs?: number;
  /** Stop after this many steps in total (resumed steps included). */
  steps?: number;
  /** Steps per epoch, for the progress bar's total when `batches` is a generator. */
  stepsPerEpoch?: number;
  /** Seed of the run: of every step's `ctx.seed` and every epoch's `rng`; default 0. */
  seed?: number;
  /**
   * Examples per batch, for items/s: a number, or a function of the batch.
   * Default: `batch.shape[0]` when a batch is a tensor; otherwise only
   * steps/s is reported.
   */
  itemsPerBatch?: number | ((batch: B) => number);
  /**
   * Runs after each optimizer step, in the step's `tf.tidy`: updates that
   * are not gradient steps, such as an EMA target network (BYOL, MoCo).
   */
  afterStep?(batch: B, ctx: StepContext): void;
  /** Callbacks after steps, epochs and log rows. */
  callbacks?: TrainCallbacks;
  /** Rows of `History.log` (and lines in logs) every this many steps; default total/20, or 50. */
  logEvery?: number;
  /**
   * `"auto"` (default): an HTML bar in the tslab kernel, a `\r` bar on a
   * terminal, a line every `logEvery` steps in other output, nothing under
   * `node --test`. `true`: the same, also under `node --test`. `false`: none.
   * Or any {@link ProgressReporter}.
   */
  progress?: boolean | "auto" | ProgressReporter;
  /** Name shown on the progress bar; default "train". */
  label?: string;
  /** Save (and resume from) a checkpoint folder. */
  checkpoint?: TrainCheckpointOptions;
  /** Stops the run after the current step when aborted, like an interrupt. */
  signal?: AbortSignal;
  /**
   * Dispose every tensor in each batch after its step (and, when a run
   * stops early, the unused batches of an array); default true, so batches
   * made on the fly never leak. Set false when `batches` yields tensors you
   * keep (e.g. one fixed batch).
   */
  disposeBatches?: boolean;
}

/** Why a run ended. */
export type StopReason = "completed" | "interrupt" | "signal" | "callback";

/** What `train` (loop.ts) returns. Losses of steps done before a resume are included. */
export interface History {
  /** Loss of every step, in order. */
  loss: number[];
  /** Every metric of every step. */
  metrics: Record<string, number[]>;
  /** Mean loss of every completed epoch. */
  epochLoss: number[];
  /** A row every `logEvery` steps. */
  log: StepLog[];
  /** Steps done in total. */
  steps: number;
  /** Epochs completed. */
  epochs: number;
  /** Steps per second of this call, over the time spent in steps (batch, loss, update). */
  stepsPerSecond: number;
  /** Items per second over the same time, when items are counted. */
  itemsPerSecond?: number;
  /** Wall time of this call, seconds. */
  elapsedSeconds: number;
  /** True when SIGINT (the notebook's interrupt, Ctrl-C) or `signal` ended the run early. */
  interrupted: boolean;
  /** Why the run ended. */
  stopReason: StopReason;
  /** The step the run resumed from, when it resumed from a checkpoint. */
  resumedFrom?: number;
}
