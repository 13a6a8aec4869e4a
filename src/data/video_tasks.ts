/**
 * Batch builders of the video pretext tasks, from clips of
 * {@link movingDigitClips}:
 *
 * - order verification: Misra, Zitnick & Hebert (2016), "Shuffle and Learn:
 *   Unsupervised Learning using Temporal Order Verification", ECCV;
 * - arrow of time: Wei, Lim, Zisserman & Freeman (2018), "Learning and Using
 *   the Arrow of Time", CVPR;
 * - time-contrastive triplets: Sermanet, Lynch, Chebotar, Hsu, Jang, Schaal &
 *   Levine (2018), "Time-Contrastive Networks: Self-Supervised Learning from
 *   Video", ICRA.
 *
 * Each builder draws its choices from a seed and returns tensors the caller
 * disposes (`training.train` does, for the batches it pulls), and
 * {@link videoTaskBatches} makes fresh clips for every step, so a task is
 * never learned by heart from a fixed pool.
 */
import { tf } from "../backend/tf";
import { createRng, type Rng } from "./random";
import type { ImageSet } from "./mnist";
import { checkClips, movingDigitClips, renderClipView, type ClipView, type MovingDigitClips, type MovingDigitsOptions } from "./moving_digits";
import { checkInteger, checkIntegerInRange, checkOptions, checkPositiveInteger, describe } from "../validation/arguments";

/** A batch of frame sequences with one binary label each. */
export interface FrameSequenceBatch {
  /** `[B, length, height, width, 1]` float32. */
  frames: tf.Tensor5D;
  /** `[B]` int32: 1 for "in order" / "forward", 0 for "shuffled" / "reversed". */
  labels: tf.Tensor1D;
}

/** A batch of time-contrastive triplets: the anchor should be nearer the positive than the negative. */
export interface TimeContrastiveBatch {
  /** `[B, height, width, 1]` float32: a frame at time t. */
  anchor: tf.Tensor4D;
  /** `[B, height, width, 1]`: a frame near t (single view) or the other view at t (multi-view). */
  positive: tf.Tensor4D;
  /** `[B, height, width, 1]`: a frame of the same clip and the anchor's view, far from t. */
  negative: tf.Tensor4D;
}

/** Options of {@link orderVerificationBatch}. */
export interface OrderVerificationOptions {
  /** Seed of the frame choices and labels. */
  seed: number;
}

/** Options of {@link arrowOfTimeBatch}. */
export interface ArrowOfTimeOptions {
  /** Seed of which clips are reversed. */
  seed: number;
}

/** Options of {@link timeContrastiveBatch}. */
export interface TimeContrastiveOptions {
  /** Seed of the frame choices (and of the views' noise). */
  seed: number;
  /** Single view: the positive is 1 to `positiveWindow` frames from the anchor; default 1. */
  positiveWindow?: number;
  /** The negative is at least `negativeGap` frames from the anchor; default 3. */
  negativeGap?: number;
  /**
   * Two cameras `[anchor's view, positive's view]` for the multi-view TCN: the
   * positive is the same instant seen by the second camera. Default: single view.
   */
  views?: readonly [ClipView, ClipView];
}

/**
 * Shuffle and Learn's tuples (Misra et al. 2016): from each clip, five frame
 * times a < b < c < d < e drawn at random; a positive tuple is (b, c, d), a
 * negative one puts a frame from outside the interval in the middle, (b, a, d)
 * or (b, e, d). As in the paper a tuple is also shown backwards, (d, c, b),
 * with the same label: the task asks whether the middle frame lies between
 * the other two, not which way time runs, so it is learnable from
 * time-symmetric motion too. Labels are balanced: exactly `ceil(B / 2)`
 * positives, at positions drawn from the seed.
 *
 * Shapes: clips `[B, T, h, w, 1]` (T >= 5) -> frames `[B, 3, h, w, 1]`, labels `[B]` int32.
 *
 * @example
 * const { frames, labels } = orderVerificationBatch(clips, { seed: 1 });
 */
export function orderVerificationBatch(clips: MovingDigitClips, options: OrderVerificationOptions): FrameSequenceBatch {
  const fn = "orderVerificationBatch";
  checkClips(fn, clips);
  checkOptions(fn, options, "{seed}");
  checkInteger(fn, "options.seed", options.seed);
  const [n, length] = clips.shape;
  if (length < 5) throw new Error(`${fn}: clips must have at least 5 frames (a < b < c < d < e), got ${length}`);
  const rng = createRng(options.seed);
  const positive = balancedLabels(n, rng);
  const times: number[] = [];
  for (let c = 0; c < n; c++) {
    const [a, b, mid, d, e] = Array.from(rng.permutation(length).slice(0, 5)).sort((u, v) => u - v);
    const middle = positive[c] === 1 ? mid : rng.next() < 0.5 ? a : e;
    const tuple = rng.next() < 0.5 ? [b, middle, d] : [d, middle, b];
    times.push(...tuple);
  }
  return { frames: gatherFrames(clips.frames, clips.shape, times, 3), labels: tf.tensor1d(positive, "int32") };
}

/**
 * Arrow-of-time clips (Wei et al. 2018): every clip whole, a balanced half of
 * them (exactly `floor(B / 2)`, chosen by the seed) with its frames in
 * reverse order. Label 1 = forward, 0 = reversed.
 *
 * Shapes: clips `[B, T, h, w, 1]` -> frames `[B, T, h, w, 1]`, labels `[B]` int32.
 *
 * @example
 * const { frames, labels } = arrowOfTimeBatch(clips, { seed: 1 });
 */
export function arrowOfTimeBatch(clips: MovingDigitClips, options: ArrowOfTimeOptions): FrameSequenceBatch {
  const fn = "arrowOfTimeBatch";
  checkClips(fn, clips);
  checkOptions(fn, options, "{seed}");
  checkInteger(fn, "options.seed", options.seed);
  const [n, length] = clips.shape;
  const forward = balancedLabels(n, createRng(options.seed), n - Math.floor(n / 2));
  const times: number[] = [];
  for (let c = 0; c < n; c++) for (let t = 0; t < length; t++) times.push(forward[c] === 1 ? t : length - 1 - t);
  return { frames: gatherFrames(clips.frames, clips.shape, times, length), labels: tf.tensor1d(forward, "int32") };
}

/**
 * Time-contrastive triplets (Sermanet et al. 2018), one per clip. Anchor: a
 * frame at a random time t. Single view: the positive is a frame 1 to
 * `positiveWindow` frames away, the negative one at least `negativeGap`
 * frames away, both from the same clip. Multi-view (`views`): the anchor and
 * the negative are rendered by the first camera, the positive is the second
 * camera's frame at the same t, so the only thing the pair shares is the
 * moment (the paper's setting; its negatives too are from the anchor's view).
 *
 * Shapes: clips `[B, T, h, w, 1]` -> anchor, positive, negative `[B, h, w, 1]`.
 *
 * @example
 * const batch = timeContrastiveBatch(clips, { seed: 1, views: [{}, { zoom: 0.7, blur: 0.8, noise: 0.05 }] });
 */
export function timeContrastiveBatch(clips: MovingDigitClips, options: TimeContrastiveOptions): TimeContrastiveBatch {
  const fn = "timeContrastiveBatch";
  checkClips(fn, clips);
  checkOptions(fn, options, "{seed, positiveWindow?, negativeGap?, views?}");
  const { seed, positiveWindow = 1, negativeGap = 3, views } = options;
  checkInteger(fn, "options.seed", seed);
  checkPositiveInteger(fn, "options.positiveWindow", positiveWindow);
  checkPositiveInteger(fn, "options.negativeGap", negativeGap);
  const [n, length] = clips.shape;
  if (negativeGap <= positiveWindow) {
    throw new Error(`${fn}: options.negativeGap must be larger than options.positiveWindow (${positiveWindow}), got ${negativeGap}`);
  }
  // Every anchor time needs a frame negativeGap away: min over t of max(t, T-1-t) = floor(T/2).
  if (Math.floor(length / 2) < negativeGap) {
    throw new Error(`${fn}: options.negativeGap must be at most floor(frames / 2) = ${Math.floor(length / 2)} so every anchor has a negative, got ${negativeGap}`);
  }
  if (views !== undefined && (!Array.isArray(views) || views.length !== 2)) {
    throw new Error(`${fn}: options.views must be two camera views [anchor view, positive view], got ${describe(views)}`);
  }
  const rng = createRng(seed);
  const [anchorView, positiveView] = views === undefined
    ? [clips.frames, clips.frames]
    : [renderClipView(clips, { ...views[0], seed: rng.fork() }), renderClipView(clips, { ...views[1], seed: rng.fork() })];
  const anchors: number[] = [];
  const positives: number[] = [];
  const negatives: number[] = [];
  for (let c = 0; c < n; c++) {
    const t = rng.int(length);
    const near = views !== undefined ? [t] : range(length).filter((u) => u !== t && Math.abs(u - t) <= positiveWindow);
    const far = range(length).filter((u) => Math.abs(u - t) >= negativeGap);
    anchors.push(t);
    positives.push(near[rng.int(near.length)]);
    negatives.push(far[rng.int(far.length)]);
  }
  return {
    anchor: squeezeOwned(gatherFrames(anchorView, clips.shape, anchors, 1)),
    positive: squeezeOwned(gatherFrames(positiveView, clips.shape, positives, 1)),
    negative: squeezeOwned(gatherFrames(anchorView, clips.shape, negatives, 1)),
  };
}

/** Options of {@link videoTaskBatches}. */
export interface VideoTaskBatchesOptions<B> {
  /** How the clips of every batch are generated (their `seed` and `clips` are set per batch). */
  clips: Omit<MovingDigitsOptions, "seed" | "clips" | "sources">;
  /** Clips per batch. */
  clipsPerBatch: number;
  /** Builds one batch from fresh clips and a seed, e.g. `(clips, seed) => arrowOfTimeBatch(clips, { seed })`. */
  task: (clips: MovingDigitClips, seed: number) => B;
}

/**
 * A `batches(epoch, rng)` function for `training.train` that never runs out:
 * every step generates `clipsPerBatch` new clips of digits of `set` (seeds
 * drawn from the loop's rng, so the run's seed fixes every batch) and turns
 * them into a batch with `task`. Pass `steps` to `train`.
 *
 * Shapes: as `task` returns.
 *
 * @example
 * const batches = videoTaskBatches(mnist.train, { clips: { frames: 8, friction: 0.1 }, clipsPerBatch: 32,
 *   task: (clips, seed) => arrowOfTimeBatch(clips, { seed }) });
 * await training.train({ ...arrow, optimizer, batches, steps: 200 });
 */
export function videoTaskBatches<B>(set: ImageSet, options: VideoTaskBatchesOptions<B>): (epoch: number, rng: Rng) => Generator<B> {
  const fn = "videoTaskBatches";
  checkOptions(fn, options, "{clips, clipsPerBatch, task}");
  checkPositiveInteger(fn, "options.clipsPerBatch", options.clipsPerBatch);
  if (typeof options.task !== "function") throw new Error(`${fn}: options.task must be a function (clips, seed) => batch, got ${describe(options.task)}`);
  checkOptions(fn, options.clips, "{frames, friction?, gravity?, restitution?, ...}");
  // Fail now, not at the first step: one clip with these options.
  movingDigitClips(set, { ...options.clips, seed: 0, clips: 1 });
  return function* (_epoch, rng) {
    for (;;) {
      const clips = movingDigitClips(set, { ...options.clips, seed: rng.fork(), clips: options.clipsPerBatch });
      yield options.task(clips, rng.fork());
    }
  };
}

/**
 * All frames of `clips` as one image batch, clip-major (frame t of clip c at
 * row `c * T + t`), e.g. to encode them for a probe.
 *
 * Shapes: -> `[clips * T, h, w, 1]` float32.
 *
 * @example
 * const x = clipFrames(clips); // [64 * 8, 28, 28, 1]
 */
export function clipFrames(clips: MovingDigitClips, view?: Float32Array): tf.Tensor4D {
  const fn = "clipFrames";
  checkClips(fn, clips);
  const [n, length, h, w] = clips.shape;
  const values = view ?? clips.frames;
  if (!(values instanceof Float32Array) || values.length !== clips.frames.length) {
    throw new Error(`${fn}: view must be a Float32Array of ${clips.frames.length} values (renderClipView of these clips), got ${describe(view)}`);
  }
  return tf.tensor4d(values, [n * length, h, w, 1], "float32");
}

/** `count` labels with exactly `ones` ones at positions drawn from `rng` (default `ceil(count / 2)`). */
function balancedLabels(count: number, rng: Rng, ones = Math.ceil(count / 2)): Int32Array {
  const labels = new Int32Array(count);
  const order = rng.permutation(count);
  for (let i = 0; i < ones; i++) labels[order[i]] = 1;
  return labels;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * `[B, per, h, w, 1]` frames: row b holds frames `times[b * per .. b * per + per)`
 * of clip b, copied from the flat clip-major `values`.
 */
function gatherFrames(values: Float32Array, shape: MovingDigitClips["shape"], times: readonly number[], per: number): tf.Tensor5D {
  const [n, length, h, w] = shape;
  const pixels = h * w;
  const out = new Float32Array(n * per * pixels);
  for (let b = 0; b < n; b++) {
    for (let k = 0; k < per; k++) {
      const t = times[b * per + k];
      checkIntegerInRange("gatherFrames", "time", t, 0, length, { maxExclusive: true });
      out.set(values.subarray((b * length + t) * pixels, (b * length + t + 1) * pixels), (b * per + k) * pixels);
    }
  }
  return tf.tensor5d(out, [n, per, h, w, 1], "float32");
}

/** `[B, 1, h, w, 1]` -> `[B, h, w, 1]`, disposing the input. */
function squeezeOwned(x: tf.Tensor5D): tf.Tensor4D {
  const y = tf.reshape(x, [x.shape[0], x.shape[2], x.shape[3], 1]) as tf.Tensor4D;
  x.dispose();
  return y;
}
