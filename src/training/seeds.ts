/**
 * The seeds of a training run. Every random stream of a run is a hash of
 * the run's seed and a position (the step, the epoch), never a generator
 * advanced as the run goes: a run resumed at step k draws what an
 * uninterrupted one would, whatever was drawn before.
 */
import { fmix32 } from "../data/random";


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

// Stream tags keep step seeds and epoch seeds apart when a step and an epoch share an index.
const STEP_STREAM = 1;
const EPOCH_STREAM = 2;

/**
 * The seed of step `step` (0-based, over the whole run) of a run seeded
 * `seed`: the loop's `ctx.seed`.
 *
 * @example
 * stepSeed(1, 0) !== stepSeed(1, 1); // each step draws its own numbers
 */
export function stepSeed(seed: number, step: number): number {
  return deriveSeed(seed, STEP_STREAM, step);
}

/**
 * The seed of epoch `epoch`'s generator (for shuffling) in a run seeded `seed`.
 *
 * @example
 * createRng(epochSeed(1, 0)); // the rng `batches(0, rng)` receives
 */
export function epochSeed(seed: number, epoch: number): number {
  return deriveSeed(seed, EPOCH_STREAM, epoch);
}
