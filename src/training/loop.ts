/**
 * The one training loop of the workbook. A method supplies only its loss;
 * the loop owns everything around it: batches, epochs, the optimizer step,
 * tensor cleanup, seeds, progress, interrupts and checkpoints. The parts
 * live beside it: the option checks (options.ts), one step (step.ts), the
 * seeds (seeds.ts), the speed (rate.ts), the saved loop state (resume.ts)
 * and SIGINT (interrupt.ts); the types of its API are in types.ts.
 */
import { tf } from "../backend/tf";
import { createRng } from "../data/random";
import { watchInterrupt } from "./interrupt";
import { resolveTrainOptions } from "./options";
import { createProgress, ProgressReporter, ProgressState, ProgressStatus } from "./progress";
import { createRateMeter } from "./rate";
import { loopCheckpoint, resumeLoop, saveLoop } from "./resume";
import { epochSeed, stepSeed } from "./seeds";
import { runStep, StepResult } from "./step";
import type { History, StepContext, StepLog, StopReason, TrainOptions } from "./types";

export { deriveSeed } from "./seeds";
export type {
  StepContext,
  LossWithMetrics,
  StepInfo,
  EpochInfo,
  StepLog,
  TrainCallbacks,
  TrainCheckpointOptions,
  TrainOptions,
  StopReason,
  History,
} from "./types";

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

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

const STATUS_OF: Record<StopReason, ProgressStatus> = {
  completed: "done",
  interrupt: "interrupted",
  signal: "interrupted",
  callback: "stopped",
};

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
 * Interrupts: SIGINT (the notebook's interrupt button, Ctrl-C) or an
 * aborted `signal` stops the run after the step in progress; it saves its
 * checkpoint, if it has one, and returns with `interrupted: true`. In tslab
 * the cell is reported interrupted at once while the run finishes its step
 * in the background: keep a training call alone in its cell, and declare
 * its result in an earlier one. Why, measured, is in interrupt.ts.
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
  const { seed, stepsCap, epochs, disposeBatches, varList } = resolveTrainOptions(options);

  const ckpt = options.checkpoint ? loopCheckpoint(options.checkpoint, options.trainable, options.optimizer) : undefined;
  const saved = ckpt ? await resumeLoop(ckpt, seed) : undefined;
  // Run state, continued from the checkpoint when resuming.
  let step = saved?.step ?? 0;
  let epoch = saved?.epoch ?? 0;
  let resumeSkip = saved?.stepInEpoch ?? 0; // batches of the current epoch already used before the resume
  const loss: number[] = [...(saved?.loss ?? [])];
  const metrics: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(saved?.metrics ?? {})) metrics[k] = [...v];
  const epochLoss: number[] = [...(saved?.epochLoss ?? [])];
  const log: StepLog[] = [...(saved?.log ?? [])];
  const resumedFrom = saved?.step;

  let stepsPerEpoch = options.stepsPerEpoch;
  const totalSteps = (): number | undefined => {
    const byEpochs = stepsPerEpoch !== undefined && Number.isFinite(epochs) ? epochs * stepsPerEpoch : undefined;
    if (byEpochs === undefined) return Number.isFinite(stepsCap) ? stepsCap : undefined;
    return Math.min(byEpochs, stepsCap);
  };

  // Made once the first epoch's batches tell how many steps an epoch has.
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
  const meter = createRateMeter();
  let smoothLoss = 0;
  let smoothWeight = 0;
  let logStart = loss.length; // index of the first step of the next log row
  // 1-based epoch of the latest step: after an epoch ends `epoch` already points past it.
  let shownEpoch = epoch + 1;
  let note: string | undefined = resumedFrom !== undefined ? `resumed from step ${resumedFrom}` : undefined;

  const frame = (status: ProgressStatus): ProgressState => {
    const total = totalSteps();
    const speed = meter.smoothed();
    return {
      label,
      step,
      total,
      epoch: shownEpoch,
      epochs: Number.isFinite(epochs) ? epochs : undefined,
      loss: smoothWeight > 0 ? smoothLoss / smoothWeight : undefined,
      rate: speed?.rate,
      rateUnit: meter.itemsCounted ? "items/s" : "steps/s",
      elapsedSeconds: seconds(),
      etaSeconds: total !== undefined && speed !== undefined ? Math.max(0, total - step) * speed.stepSeconds : undefined,
      status,
      note,
    };
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
    // step, and leave the synchronous part of a tslab cell (see interrupt.ts).
    await yieldToEventLoop();

    epochs: while (epoch < epochs && step < stepsCap && !shouldStop()) {
      const source = options.batches(epoch, createRng(epochSeed(seed, epoch)));
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

          const ctxSeed = stepSeed(seed, step);
          const ctx: StepContext = { step, epoch, stepInEpoch, seed: ctxSeed, rng: createRng(ctxSeed) };
          let result: StepResult;
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
          meter.record((performance.now() - t0) / 1000, itemsOf(options, batch));

          step++;
          stepInEpoch++;
          shownEpoch = epoch + 1;
          loss.push(result.loss);
          for (const [k, v] of Object.entries(result.metrics)) (metrics[k] ??= []).push(v);
          smoothLoss = 0.9 * smoothLoss + 0.1 * result.loss;
          smoothWeight = 0.9 * smoothWeight + 0.1;

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
              loss: mean(loss.slice(logStart)),
              metrics: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, mean(v.slice(logStart))])),
              ...meter.takeWindow(),
              elapsedSeconds: seconds(),
            };
            log.push(row);
            logStart = loss.length;
            await options.callbacks?.onLog?.(row);
          }
          if (ckpt?.every !== undefined && step % ckpt.every === 0 && step < stepsCap) {
            await saveLoop(ckpt, seed, { step, epoch, stepInEpoch, loss, metrics, epochLoss, log });
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
      await saveLoop(ckpt, seed, { step, epoch, stepInEpoch, loss, metrics, epochLoss, log });
      note = [note, `checkpoint saved at step ${step}`].filter(Boolean).join("; ");
    }
  } catch (error) {
    progress?.finish(frame("error"));
    throw error;
  } finally {
    interrupt.dispose();
  }
  progress.finish(frame(STATUS_OF[stopReason]));

  return {
    loss,
    metrics,
    epochLoss,
    log,
    steps: step,
    epochs: epochLoss.length,
    ...meter.run(),
    elapsedSeconds: seconds(),
    interrupted: stopReason === "interrupt" || stopReason === "signal",
    stopReason,
    resumedFrom,
  };
}

/** Examples in `batch` for items/s: `itemsPerBatch`, else a tensor batch's first dimension, else not counted. */
function itemsOf<B>(options: TrainOptions<B>, batch: B): number | undefined {
  if (typeof options.itemsPerBatch === "function") return options.itemsPerBatch(batch);
  if (typeof options.itemsPerBatch === "number") return options.itemsPerBatch;
  if (batch instanceof tf.Tensor) return batch.shape[0];
  return undefined;
}
