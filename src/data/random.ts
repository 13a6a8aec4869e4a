/**
 * Seeded pseudo-random numbers for everything the workbook shuffles or samples
 * outside TensorFlow.js: data splits, batch order, pair sampling.
 *
 * mulberry32: a 32-bit generator, small and fast, with a full 2^32 period;
 * plenty for shuffling tens of thousands of items. Not cryptographic.
 */
import { checkInteger, checkPositiveInteger } from "../validation/arguments";

/** A seeded stream of random numbers. */
export interface Rng {
  /** The seed this generator started from. */
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** A standard normal sample (Box-Muller). */
  normal(): number;
  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[];
  /** A permutation of 0..n-1. */
  permutation(n: number): Int32Array;
  /** A seed for a child generator or a tf op, drawn from this stream. */
  fork(): number;
}

/**
 * Creates a generator from an integer seed; the same seed gives the same
 * stream on every machine and backend.
 *
 * @example
 * const rng = createRng(42);
 * rng.shuffle([1, 2, 3, 4]);
 */
export function createRng(seed: number): Rng {
  checkInteger("createRng", "seed", seed);
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => {
    checkPositiveInteger("Rng.int", "n", n);
    return Math.floor(next() * n);
  };
  const shuffle = <T>(items: T[]): T[] => {
    for (let i = items.length - 1; i > 0; i--) {
      const j = int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  };
  return {
    seed,
    next,
    int,
    normal() {
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    shuffle,
    permutation(n: number): Int32Array {
      const p = new Int32Array(n);
      for (let i = 0; i < n; i++) p[i] = i;
      for (let i = n - 1; i > 0; i--) {
        const j = int(i + 1);
        const tmp = p[i];
        p[i] = p[j];
        p[j] = tmp;
      }
      return p;
    },
    fork: () => Math.floor(next() * 2147483647),
  };
}

/** murmur3's 32-bit finaliser: an avalanching bijection of uint32 that spreads nearby integers (epochs 0, 1, 2) far apart. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
