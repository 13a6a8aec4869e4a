/**
 * The one training loop of the workbook. A method supplies only its loss;
 * the loop owns everything around it: batches, epochs, the optimizer step,
 * tensor cleanup, seeds, progress, interrupts and checkpoints.
 */
import { tf } from "../backend/tf";
import { createRng, Rng } from "../data/random";
import { trainableVariables } from "../models/encoders";
import { hasCheckpoint, JsonValue, loadCheckpoint, readCheckpointState, saveCheckpoint } from "./checkpoint";
import { watchInterrupt } from "./interrupt";
import { createProgress, ProgressReporter, ProgressState, ProgressStatus } from "./progress";

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

/** Options of {@link train}. `B` is the type of one batch. */
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

/** What {@link train} returns. Losses of steps done before a resume are included. */
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

interface SavedLoopState {
  kind: "ssl-workbook/train";
  step: number;
  epoch: number;
  stepInEpoch: number;
  seed: number;
  loss: number[];
  metrics: Record<string, number[]>;
  epochLoss: number[];
  log: StepLog[];
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A seed in [0, 2^31) hashed from integers (murmur3's finaliser), so that
 * step k's seed depends only on the run's seed and k: a resumed run draws
 * what an uninterrupted one would.
 *
 * @example
 * // Seeds for a notebook's own streams, independent of each other:
 * const dataSeed = deriveSeed(runSeed, 0);
 * const initSeed = deriveSeed(runSeed, 1);
 */
export function deriveSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    if (!Number.isInteger(p)) throw new Error(`deriveSeed: parts must be integers, got ${p}`);
    h = fmix32((h ^ fmix32(p >>> 0)) + Math.floor(p / 4294967296));
  }
  return h & 0x7fffffff;
}

const STEP_STREAM = 1;
const EPOCH_STREAM = 2;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function positiveInteger(name: string, v: number | undefined, allowInfinity = false): void {
  if (v === undefined) return;
  if (allowInfinity && v === Infinity) return;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`train: ${name} must be a positive integer, got ${v}`);
}

function collectVariables(trainable: Array<tf.LayersModel | tf.Variable>): tf.Variable[] {
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

function openIterator<B>(source: Iterable<B> | AsyncIterable<B>): Iterator<B> | AsyncIterator<B> {
  const asyncIt = (source as AsyncIterable<B>)[Symbol.asyncIterator];
  if (typeof asyncIt === "function") return asyncIt.call(source);
  const it = (source as Iterable<B>)[Symbol.iterator];
  if (typeof it === "function") return it.call(source);
  throw new Error(`train: batches(epoch) must return an Iterable or AsyncIterable, got ${typeof source}`);
}

function mean(xs: number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/**
 * Trains: for each epoch, for each batch, one optimizer step on
 * `loss(batch, ctx)` over the `trainable` variables, inside `tf.tidy`, so a
 * step leaves `tf.memory().numTensors` as it found it (the optimizer's slots,
 * made on its first step, aside).
 *
 * Seeds: epoch e's `rng` (for shuffling) and step k's `ctx.seed` are hashes
 * of `(seed, e)` and `(seed, k)`; nothing depends on the order in which
 * other random numbers were drawn, so two runs with one seed match on one
 * backend, and so does a run resumed from a checkpoint.
 *
 * Interrupts, as measured with tslab 1.0.22 and a real Jupyter kernel:
 * - Jupyter's interrupt sends SIGINT to the kernel process (tslab's kernel
 *   spec keeps the default `interrupt_mode` "signal"). tslab's
 *   `process.on("SIGINT")` handler calls `executor.interrupt()`, which
 *   rejects a promise the running cell is raced against
 *   (`Promise.race([cell, interruptPromise])`): the cell ends at once with
 *   "Error: Interrupted asynchronously" and the kernel takes the next cell.
 *   Nothing cancels the cell's own promise: a plain async loop keeps running
 *   in the background, beside later cells. (`vm`'s breakOnSigint only covers
 *   the synchronous start of a cell.)
 * - So this loop listens to SIGINT itself. It finishes the step in
 *   progress, saves the checkpoint if one is configured, marks the progress
 *   bar "interrupted at step k" and returns the history with
 *   `interrupted: true`. The model is consistent (a step is never cut in
 *   half) and usable in the next cell.
 * - Code after `await train(...)` in the same cell still runs, after the
 *   cell was reported interrupted: keep a training call alone in its cell.
 * - tslab drops the declarations of a cell that failed or was interrupted:
 *   after an interrupted `const h = await train(...)` a later cell cannot
 *   name `h` (the type checker rejects it, though the value exists).
 *   Declare what later cells need in an earlier cell (`let h: History;`)
 *   and assign it in the training cell (`h = await train(...)`).
 * - Adding a SIGINT listener during the synchronous part of a cell (which
 *   runs under breakOnSigint) made the next interrupt kill the kernel, so
 *   the listener is added in a microtask (see interrupt.ts).
 * - In a terminal, the first Ctrl-C stops the run the same way; a second
 *   one ends the process.
 * - The loop yields to the event loop (`await new Promise(setImmediate)`)
 *   after every step; without that the signal, and the kernel's display
 *   updates, would wait for the run to end.
 *
 * Checkpoints: with `checkpoint: { dir }` the run saves models, optimizer
 * slots, counters, seed and history when it ends or is interrupted (and
 * every `every` steps), and a later call with fresh objects built the same
 * way continues from there: from the saved step, skipping the batches of the
 * current epoch already used. It refuses a checkpoint of another seed.
 *
 * @example
 * const { train: digits } = loadMnist();
 * const encoder = smallCnnEncoder({ seed: 1 });
 * const head = mlpHead({ inputDim: 128, hidden: [], outputDim: 10, seed: 1 });
 * const history = await train({
 *   trainable: [encoder, head],
 *   optimizer: tf.train.adam(1e-3),
 *   epochs: 3,
 *   seed: 1,
 *   batches: (epoch) => batches(digits.n, 64, { seed: 1, epoch }), // index arrays
 *   loss: (idx) => {
 *     const { x, y } = gatherBatch(digits, idx); // made inside the step, so tidied
 *     const logits = head.apply(encoder.apply(x, { training: true })) as tf.Tensor;
 *     return tf.losses.softmaxCrossEntropy(tf.oneHot(y, 10), logits);
 *   },
 *   itemsPerBatch: (idx) => idx.length,
 *   label: "supervised",
 * });
 * history.epochLoss; // one mean loss per epoch
 */
export async function train<B>(options: TrainOptions<B>): Promise<History> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
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

  const stepsCap = options.steps ?? Infinity;
  const epochs = options.epochs ?? (options.steps === undefined ? 1 : Infinity);
  const disposeBatches = options.disposeBatches ?? true;

  // Run state; a resume overwrites it.
  let step = 0;
  let epoch = 0;
  let resumeSkip = 0; // batches of the current epoch already used before the resume
  const loss: number[] = [];
  const metrics: Record<string, number[]> = {};
  const epochLoss: number[] = [];
  const log: StepLog[] = [];
  let resumedFrom: number | undefined;

  const ckpt = options.checkpoint;
  const ckptModels = ckpt ? ckpt.models ?? defaultCheckpointModels(options.trainable) : {};
  const ckptVariables = ckpt ? ckpt.variables ?? defaultCheckpointVariables(options.trainable) : {};
  if (ckpt && (ckpt.resume ?? true) && hasCheckpoint(ckpt.dir)) {
    const saved = (await readCheckpointState(ckpt.dir)) as unknown as SavedLoopState | null;
    if (saved === null || saved.kind !== "ssl-workbook/train") {
      throw new Error(`train: checkpoint.dir must hold a checkpoint written by train, got another kind in '${ckpt.dir}'`);
    }
    if (saved.seed !== seed) {
      throw new Error(
        `train: seed must match the checkpoint's to resume, got ${seed} (checkpoint in '${ckpt.dir}' has ${saved.seed}); ` +
          `delete the folder or pass checkpoint.resume: false to start over`,
      );
    }
    await loadCheckpoint(ckpt.dir, { models: ckptModels, variables: ckptVariables, optimizer: options.optimizer });
    step = saved.step;
    epoch = saved.epoch;
    resumeSkip = saved.stepInEpoch;
    loss.push(...saved.loss);
    for (const [k, v] of Object.entries(saved.metrics)) metrics[k] = [...v];
    epochLoss.push(...saved.epochLoss);
    log.push(...saved.log);
    resumedFrom = step;
  }

  let stepsPerEpoch = options.stepsPerEpoch;
  const totalSteps = (): number | undefined => {
    const byEpochs = stepsPerEpoch !== undefined && Number.isFinite(epochs) ? epochs * stepsPerEpoch : undefined;
    if (byEpochs === undefined) return Number.isFinite(stepsCap) ? stepsCap : undefined;
    return Math.min(byEpochs, stepsCap);
  };

  let logEvery = options.logEvery;
  let progress: ProgressReporter | undefined;
  const makeProgress = (): ProgressReporter => {
    const total = totalSteps();
    logEvery ??= total !== undefined ? Math.max(1, Math.floor(total / 20)) : 50;
    const p = options.progress ?? "auto";
    if (typeof p === "object") return p;
    if (p === false || (p === "auto" && process.env.NODE_TEST_CONTEXT !== undefined)) return createProgress({ mode: "none" });
    return createProgress({ mode: "auto", lineEvery: logEvery });
  };

  const label = options.label ?? "train";
  let smoothLoss = 0;
  let smoothWeight = 0;
  let smoothStepSeconds = 0;
  let smoothItems = 0;
  let smoothRateWeight = 0;
  let itemsCounted = true;
  let runItems = 0;
  let runStepSeconds = 0;
  let runSteps = 0;
  let windowStart = loss.length;
  let windowSeconds = 0;
  let windowItems = 0;
  // 1-based epoch of the latest step: after an epoch ends `epoch` already points past it.
  let shownEpoch = epoch + 1;
  let note: string | undefined = resumedFrom !== undefined ? `resumed from step ${resumedFrom}` : undefined;

  const frame = (status: ProgressStatus): ProgressState => {
    const total = totalSteps();
    const stepSeconds = smoothRateWeight > 0 ? smoothStepSeconds / smoothRateWeight : undefined;
    const rate = stepSeconds === undefined
      ? undefined
      : itemsCounted ? smoothItems / smoothRateWeight / stepSeconds : 1 / stepSeconds;
    return {
      label,
      step,
      total,
      epoch: shownEpoch,
      epochs: Number.isFinite(epochs) ? epochs : undefined,
      loss: smoothWeight > 0 ? smoothLoss / smoothWeight : undefined,
      rate,
      rateUnit: itemsCounted ? "items/s" : "steps/s",
      elapsedSeconds: seconds(),
      etaSeconds: total !== undefined && stepSeconds !== undefined ? Math.max(0, total - step) * stepSeconds : undefined,
      status,
      note,
    };
  };

  const saveState = async (stepInEpoch: number): Promise<void> => {
    if (!ckpt) return;
    const state: SavedLoopState = {
      kind: "ssl-workbook/train",
      step,
      epoch,
      stepInEpoch,
      seed,
      loss,
      metrics,
      epochLoss,
      log,
    };
    await saveCheckpoint(ckpt.dir, {
      models: ckptModels,
      variables: ckptVariables,
      optimizer: options.optimizer,
      state: state as unknown as JsonValue,
    });
  };

  let stopReason = "completed" as StopReason;
  let stopRequested = false;
  const requestStop = () => {
    stopRequested = true;
  };
  const interrupt = watchInterrupt();
  const shouldStop = (): boolean => {
    if (interrupt.requested) stopReason = "interrupt";
    else if (options.signal?.aborted) stopReason = "signal";
    else if (stopRequested) stopReason = "callback";
    else return false;
    return true;
  };

  let stepInEpoch = 0;
  try {
    // Let a pending interrupt or display message through before the first
    // step, and leave the synchronous part of a tslab cell (see above).
    await yieldToEventLoop();

    epochs: while (epoch < epochs && step < stepsCap && !shouldStop()) {
      const source = options.batches(epoch, createRng(deriveSeed(seed, EPOCH_STREAM, epoch)));
      if (stepsPerEpoch === undefined && Array.isArray(source)) stepsPerEpoch = source.length;
      progress ??= makeProgress();
      const iterator = openIterator(source);
      stepInEpoch = 0;
      const epochStartIndex = loss.length - resumeSkip;
      let exhausted = false;
      let pulled = 0;
      try {
        for (;;) {
          const t0 = performance.now();
          const next = await iterator.next();
          if (next.done) {
            exhausted = true;
            break;
          }
          pulled++;
          const batch = next.value;
          if (stepInEpoch < resumeSkip) {
            if (disposeBatches) tf.dispose(batch as unknown as tf.TensorContainer);
            stepInEpoch++;
            continue;
          }
          if (step >= stepsCap) {
            // Past the cap: the peeked batch only told us the epoch is not over.
            if (disposeBatches) tf.dispose(batch as unknown as tf.TensorContainer);
            break;
          }

          const ctxSeed = deriveSeed(seed, STEP_STREAM, step);
          const ctx: StepContext = { step, epoch, stepInEpoch, seed: ctxSeed, rng: createRng(ctxSeed) };
          let result: { loss: number; metrics: Record<string, number> };
          try {
            result = runStep(options, varList, batch, ctx);
          } finally {
            if (disposeBatches) tf.dispose(batch as unknown as tf.TensorContainer);
          }
          if (!Number.isFinite(result.loss)) {
            // The update was not applied: the model keeps its last finite state.
            throw new Error(
              `train: loss must be finite, got ${result.loss} at step ${step} (epoch ${epoch}); ` +
                `the update was skipped; lower the learning rate or check the loss`,
            );
          }
          const stepSeconds = (performance.now() - t0) / 1000;
          let items: number | undefined;
          if (typeof options.itemsPerBatch === "function") items = options.itemsPerBatch(batch);
          else if (typeof options.itemsPerBatch === "number") items = options.itemsPerBatch;
          else if (batch instanceof tf.Tensor) items = batch.shape[0];
          if (items === undefined) itemsCounted = false;

          step++;
          stepInEpoch++;
          shownEpoch = epoch + 1;
          runSteps++;
          runStepSeconds += stepSeconds;
          runItems += items ?? 0;
          windowSeconds += stepSeconds;
          windowItems += items ?? 0;
          loss.push(result.loss);
          for (const [k, v] of Object.entries(result.metrics)) (metrics[k] ??= []).push(v);
          smoothLoss = 0.9 * smoothLoss + 0.1 * result.loss;
          smoothWeight = 0.9 * smoothWeight + 0.1;
          smoothStepSeconds = 0.9 * smoothStepSeconds + 0.1 * stepSeconds;
          smoothItems = 0.9 * smoothItems + 0.1 * (items ?? 0);
          smoothRateWeight = 0.9 * smoothRateWeight + 0.1;

          if (options.callbacks?.onStep) {
            await options.callbacks.onStep({
              step,
              epoch,
              loss: result.loss,
              metrics: result.metrics,
              elapsedSeconds: seconds(),
              stop: requestStop,
            });
          }
          if (logEvery !== undefined && step % logEvery === 0) {
            const row: StepLog = {
              step,
              epoch,
              loss: mean(loss.slice(windowStart)),
              metrics: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, mean(v.slice(windowStart))])),
              stepsPerSecond: (loss.length - windowStart) / windowSeconds,
              itemsPerSecond: itemsCounted ? windowItems / windowSeconds : undefined,
              elapsedSeconds: seconds(),
            };
            log.push(row);
            windowStart = loss.length;
            windowSeconds = 0;
            windowItems = 0;
            await options.callbacks?.onLog?.(row);
          }
          if (ckpt?.every !== undefined && step % ckpt.every === 0 && step < stepsCap) {
            await saveState(stepInEpoch);
          }
          progress.update(frame("running"));
          // A macrotask turn per step (microseconds) lets SIGINT and the
          // kernel's display messages through.
          await yieldToEventLoop();
          if (shouldStop()) break epochs;
        }
      } finally {
        if (!exhausted) {
          await iterator.return?.();
          // An array's unused batches exist already; they are the loop's to dispose too.
          if (disposeBatches && Array.isArray(source)) tf.dispose(source.slice(pulled) as unknown as tf.TensorContainer);
        }
      }
      resumeSkip = 0;
      if (!exhausted) break;
      if (stepsPerEpoch === undefined) stepsPerEpoch = stepInEpoch;
      const epochMean = mean(loss.slice(epochStartIndex));
      epochLoss.push(epochMean);
      epoch++;
      stepInEpoch = 0;
      if (options.callbacks?.onEpochEnd) {
        await options.callbacks.onEpochEnd({ epoch: epoch - 1, loss: epochMean, step, elapsedSeconds: seconds(), stop: requestStop });
      }
      await yieldToEventLoop();
    }
    progress ??= makeProgress();
    if (ckpt) {
      await saveState(stepInEpoch);
      note = [note, `checkpoint saved at step ${step}`].filter(Boolean).join("; ");
    }
  } catch (error) {
    progress?.finish(frame("error"));
    throw error;
  } finally {
    interrupt.dispose();
  }
  const statusOf: Record<StopReason, ProgressStatus> = {
    completed: "done",
    interrupt: "interrupted",
    signal: "interrupted",
    callback: "stopped",
  };
  progress.finish(frame(statusOf[stopReason]));

  return {
    loss,
    metrics,
    epochLoss,
    log,
    steps: step,
    epochs: epochLoss.length,
    stepsPerSecond: runStepSeconds > 0 ? runSteps / runStepSeconds : 0,
    itemsPerSecond: itemsCounted && runStepSeconds > 0 ? runItems / runStepSeconds : undefined,
    elapsedSeconds: seconds(),
    interrupted: stopReason === "interrupt" || stopReason === "signal",
    stopReason,
    resumedFrom,
  };
}

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

/**
 * One step inside tf.tidy: gradients of the loss, then the update, applied
 * only when the loss is finite (so a NaN leaves the model as it was).
 * Returns the loss and metrics as numbers.
 */
function runStep<B>(
  options: TrainOptions<B>,
  varList: tf.Variable[],
  batch: B,
  ctx: StepContext,
): { loss: number; metrics: Record<string, number> } {
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
    }) as unknown as { loss: number; metrics: Record<string, number> };
  } finally {
    tf.dispose(Object.values(kept));
    kept = {};
  }
}
