/**
 * The speed of a training run: steps per second, and items (examples) per
 * second when every batch says how many it holds. Only the time spent in
 * steps counts (batch, loss, update), not callbacks, logging or saving, so
 * the numbers compare methods rather than notebooks.
 *
 * Three views of one stream of step times: smoothed (for the progress bar
 * and its ETA), since the last log row, and over the whole run.
 */

/** A speed: steps/s always, items/s when every step's items were counted. */
export interface Rate {
  stepsPerSecond: number;
  itemsPerSecond?: number;
}

/** The smoothed speed shown on a progress bar. */
export interface SmoothedRate {
  /** Smoothed seconds per step, for an ETA. */
  stepSeconds: number;
  /** Items/s when items are counted, else steps/s. */
  rate: number;
  unit: "items/s" | "steps/s";
}

/** Records step times and reports speeds; see {@link createRateMeter}. */
export interface RateMeter {
  /** Adds one step that took `stepSeconds` and held `items` examples (`undefined`: not counted). */
  record(stepSeconds: number, items: number | undefined): void;
  /** Exponential moving average (weight 0.1 on the newest step), bias-corrected; undefined before the first step. */
  smoothed(): SmoothedRate | undefined;
  /** Speed over the steps since the previous call (or the start); starts the next window. */
  takeWindow(): Rate;
  /** Speed over every step recorded; 0 steps/s before the first. */
  run(): Rate;
  /** False once a step came without an item count: from then on only steps/s is reported. */
  readonly itemsCounted: boolean;
}

/**
 * A meter of steps/s and items/s. Items/s is reported only while every
 * step was counted: one uncounted step would make the sum meaningless.
 *
 * @example
 * const meter = createRateMeter();
 * meter.record(0.5, 64);
 * meter.record(0.5, 64);
 * meter.run();        // { stepsPerSecond: 2, itemsPerSecond: 128 }
 * meter.takeWindow(); // the same, then the window starts again
 */
export function createRateMeter(): RateMeter {
  let itemsCounted = true;
  // Smoothed sums; dividing by `smoothWeight` corrects the bias towards 0 of the first steps.
  let smoothStepSeconds = 0;
  let smoothItems = 0;
  let smoothWeight = 0;
  let runSteps = 0;
  let runSeconds = 0;
  let runItems = 0;
  let windowSteps = 0;
  let windowSeconds = 0;
  let windowItems = 0;

  const rate = (steps: number, seconds: number, items: number): Rate => ({
    stepsPerSecond: steps / seconds,
    itemsPerSecond: itemsCounted ? items / seconds : undefined,
  });

  return {
    record(stepSeconds, items) {
      if (!Number.isFinite(stepSeconds) || stepSeconds < 0) {
        throw new Error(`RateMeter.record: stepSeconds must be a finite number >= 0, got ${stepSeconds}`);
      }
      if (items === undefined) itemsCounted = false;
      runSteps++;
      runSeconds += stepSeconds;
      runItems += items ?? 0;
      windowSteps++;
      windowSeconds += stepSeconds;
      windowItems += items ?? 0;
      smoothStepSeconds = 0.9 * smoothStepSeconds + 0.1 * stepSeconds;
      smoothItems = 0.9 * smoothItems + 0.1 * (items ?? 0);
      smoothWeight = 0.9 * smoothWeight + 0.1;
    },
    smoothed() {
      if (smoothWeight <= 0) return undefined;
      const stepSeconds = smoothStepSeconds / smoothWeight;
      return itemsCounted
        ? { stepSeconds, rate: smoothItems / smoothWeight / stepSeconds, unit: "items/s" }
        : { stepSeconds, rate: 1 / stepSeconds, unit: "steps/s" };
    },
    takeWindow() {
      const r = rate(windowSteps, windowSeconds, windowItems);
      windowSteps = 0;
      windowSeconds = 0;
      windowItems = 0;
      return r;
    },
    run() {
      if (runSeconds <= 0) return { stepsPerSecond: 0, itemsPerSecond: undefined };
      return rate(runSteps, runSeconds, runItems);
    },
    get itemsCounted() {
      return itemsCounted;
    },
  };
}
