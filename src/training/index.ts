/**
 * Training: the shared loop, its progress bar, interrupts and checkpoints.
 */
export { train, deriveSeed } from "./loop";
export type {
  TrainOptions,
  TrainCallbacks,
  TrainCheckpointOptions,
  StepContext,
  StepInfo,
  EpochInfo,
  StepLog,
  History,
  StopReason,
  LossWithMetrics,
} from "./loop";
export {
  createProgress,
  detectProgressMode,
  renderProgressText,
  renderProgressHtml,
  formatDuration,
} from "./progress";
export type {
  ProgressState,
  ProgressStatus,
  ProgressReporter,
  ProgressMode,
  ProgressOptions,
  TextStream,
  HtmlDisplay,
} from "./progress";
export { watchInterrupt } from "./interrupt";
export type { InterruptWatch } from "./interrupt";
export {
  saveCheckpoint,
  loadCheckpoint,
  loadCheckpointModel,
  readCheckpointState,
  hasCheckpoint,
} from "./checkpoint";
export type { CheckpointContents, CheckpointTargets, JsonValue } from "./checkpoint";
export { adam, adamUpdatePath, FusedAdamOptimizer, FUSED_ADAM_KERNEL } from "./adam";
export type { AdamUpdatePath } from "./adam";
