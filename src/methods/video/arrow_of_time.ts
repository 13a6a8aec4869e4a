/**
 * The arrow of time: Wei, Lim, Zisserman & Freeman (2018), "Learning and
 * Using the Arrow of Time", CVPR.
 */
import { checkIntegerInRange, checkOptions } from "../../validation/arguments";
import type { FrameSequenceClassifier, FrameSequenceClassifierOptions } from "./sequence_classifier";
import { createFrameSequenceClassifier } from "./sequence_classifier";

/** Options of {@link createArrowOfTime}. */
export interface ArrowOfTimeMethodOptions extends FrameSequenceClassifierOptions {
  /** Frames per clip (the head sees them all, in the order shown). */
  frames: number;
}

/**
 * Arrow of time: every frame of a clip through one encoder, the features
 * concatenated in the order shown, and a head that says whether the clip
 * plays forward (label 1) or reversed (0). Batches come from
 * `data.arrowOfTimeBatch`. The task is learnable only where physics breaks
 * time symmetry: friction and inelastic bounces make forward clips lose
 * energy, reversed ones gain it; elastic, frictionless motion looks equally
 * right both ways, and the best classifier is at chance.
 *
 * Shapes: `batch.frames` `[B, frames, h, w, 1]`, `batch.labels` `[B]` int32 -> scalar loss.
 *
 * @example
 * const arrow = createArrowOfTime({ encoder: createFrameEncoder({ seed: 1 }), encoderDim: 32, frames: 8, seed: 1 });
 */
export function createArrowOfTime(options: ArrowOfTimeMethodOptions): FrameSequenceClassifier {
  const fn = "createArrowOfTime";
  checkOptions(fn, options, "{encoder, encoderDim, frames, hidden?, seed?}");
  checkIntegerInRange(fn, "options.frames", options.frames, 2, 1024);
  return createFrameSequenceClassifier(fn, "arrow of time", options.frames, options);
}
