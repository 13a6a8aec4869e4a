/**
 * The jigsaw pretext task: cut an image into a 3x3 grid of tiles, shuffle
 * them by one of a fixed set of permutations, and ask which permutation it
 * was. Solving the puzzle needs the parts of an object and their layout.
 *
 * Noroozi & Favaro (2016), "Unsupervised Learning of Visual Representations
 * by Solving Jigsaw Puzzles", ECCV. The permutation set matters: the task is
 * hard, and useful, when any two permutations of the set move many tiles
 * differently, i.e. have a large Hamming distance. As in the paper, each
 * tile is a random crop inside its cell (64 of 75 pixels there), so tiles
 * cannot be matched by their continuing edges. The paper also normalises
 * each tile to zero mean and unit deviation on its own, against matching by
 * brightness; that is left to the model (one op on the tiles).
 */
import { tf } from "../backend/tf";
import { createRng } from "./random";
import { checkImages, cropPatches } from "./pretext_common";
import { checkInteger, checkOneOf, checkOptions, checkPositiveInteger, describe } from "../validation/arguments";

/** Options of {@link jigsawPermutations}. */
export interface JigsawPermutationOptions {
  /** Tiles of the puzzle, the length of each permutation; default 9 (a 3x3 grid). */
  tiles?: number;
  /** Seed of the first permutation and of the candidate pool. */
  seed: number;
  /**
   * Size of the candidate pool the set is chosen from. When `tiles!` is at
   * most this, the pool is every permutation; otherwise it is this many
   * distinct permutations drawn from the seeded generator. Default 10,000:
   * all 5,040 permutations for 7 tiles, a random sample of the 362,880 for 9.
   */
  candidates?: number;
  /**
   * How a candidate is scored against the chosen set: `"min"` (default) by its
   * smallest Hamming distance to it, greedy maximin, which is what keeps the
   * set's minimum distance high; `"mean"` by its average distance, as in the
   * paper's Algorithm 1 (its sum `1^T D`).
   */
  criterion?: "min" | "mean";
}

/** Options of {@link jigsawBatch}. */
export interface JigsawOptions {
  /** Cells per side; default 3, so the permutations have 9 entries. */
  grid?: number;
  /**
   * Side of a square tile in pixels, at most the cell side
   * `floor(min(height, width) / grid)`; default `floor(0.85 * cell)`, the
   * paper's 64 of 75: 7 of 9 pixels for 28x28 digits.
   */
  tile?: number;
}

/** What {@link jigsawBatch} returns. */
export interface JigsawBatch {
  /**
   * `[batch, grid * grid, tile, tile, channels]` float32: the shuffled tiles
   * of each image; position `k` holds the tile of cell `perms[labels[b]][k]`
   * (cells numbered row-major). Reshape to `[batch * grid * grid, tile, tile,
   * channels]` for a shared tile encoder; the reshape is free.
   */
  tiles: tf.Tensor5D;
  /** `[batch]` int32: the index into `perms` of the permutation each image was shuffled by. */
  labels: tf.Tensor1D;
  /** `[batch * grid * grid * 2]`: row and column of the top-left pixel of tile `k` of image `b` in that image, at `2 * (b * grid * grid + k)`. */
  origins: Int32Array;
}

/**
 * The Hamming distance of two permutations: the number of positions where they differ.
 *
 * @example
 * hammingDistance([0, 1, 2], [0, 2, 1]); // 2
 */
export function hammingDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`hammingDistance: a and b must have the same length, got ${a.length} and ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return d;
}

/**
 * The smallest Hamming distance between two permutations of `perms`: how
 * many tiles at least tell any two puzzles of the set apart.
 *
 * @example
 * minimumHammingDistance(jigsawPermutations(100, { seed: 1 })); // 6
 */
export function minimumHammingDistance(perms: readonly ArrayLike<number>[]): number {
  const fn = "minimumHammingDistance";
  if (!Array.isArray(perms) || perms.length < 2) throw new Error(`${fn}: perms must be an array of at least 2 permutations, got ${describe(perms)}`);
  let best = Infinity;
  for (let i = 0; i < perms.length; i++) {
    for (let j = i + 1; j < perms.length; j++) {
      if (perms[j].length !== perms[0].length) {
        throw new Error(`${fn}: perms[${j}] must have length ${perms[0].length} like perms[0], got ${perms[j].length}`);
      }
      best = Math.min(best, hammingDistance(perms[i], perms[j]));
    }
  }
  return best;
}

/**
 * `count` permutations of `0..tiles-1` chosen greedily to lie far apart:
 * start from a random candidate, then repeatedly add the candidate whose
 * distance to the chosen set (its smallest, or its mean, see `criterion`)
 * is largest, the first in pool order on a tie.
 *
 * For 9 tiles the pool is 10,000 seeded random permutations, not all
 * 362,880: the greedy step touches every candidate once per chosen
 * permutation, and a pool of 10,000 already holds sets of 100 with minimum
 * distance 6 (random sets of 100 have about 2).
 *
 * Shapes: `count` arrays of `[tiles]`.
 *
 * @example
 * const perms = jigsawPermutations(30, { seed: 1 }); // 30 permutations of 0..8
 * minimumHammingDistance(perms); // 7
 */
export function jigsawPermutations(count: number, options: JigsawPermutationOptions): Int32Array[] {
  const fn = "jigsawPermutations";
  checkPositiveInteger(fn, "count", count);
  checkOptions(fn, options, "{seed, tiles?, candidates?, criterion?}");
  const { seed, tiles = 9, candidates = 10000, criterion = "min" } = options;
  checkInteger(fn, "options.seed", seed);
  checkPositiveInteger(fn, "options.tiles", tiles);
  if (tiles < 2) throw new Error(`${fn}: options.tiles must be at least 2, got ${tiles}`);
  checkPositiveInteger(fn, "options.candidates", candidates);
  checkOneOf(fn, "options.criterion", criterion, ["min", "mean"]);
  const rng = createRng(seed);
  const pool = factorial(tiles) <= candidates ? allPermutations(tiles) : randomPermutations(tiles, candidates, rng);
  if (count > pool.length) {
    throw new Error(`${fn}: count must be at most the ${pool.length} candidate permutations, got ${count}`);
  }
  // score[k]: candidate k's smallest (or summed) distance to the chosen set; -1 once chosen.
  const score = new Float64Array(pool.length).fill(criterion === "min" ? Infinity : 0);
  const chosen: Int32Array[] = [];
  let next = rng.int(pool.length);
  for (;;) {
    const p = pool[next];
    chosen.push(p);
    score[next] = -1;
    if (chosen.length === count) return chosen;
    next = 0;
    for (let k = 0; k < pool.length; k++) {
      if (score[k] >= 0) {
        const d = hammingDistance(p, pool[k]);
        score[k] = criterion === "min" ? Math.min(score[k], d) : score[k] + d;
      }
      if (score[k] > score[next]) next = k;
    }
  }
}

/**
 * One jigsaw puzzle per image: a permutation drawn uniformly from `perms`
 * (the label is its index) shuffles the `grid x grid` tiles of the image.
 *
 * The grid: `grid` square cells of `cell = floor(min(height, width) / grid)`
 * pixels per side, centred in the image (a 28x28 digit: 9-pixel cells over
 * rows and columns 0..26). Each tile is a `tile x tile` crop at a uniform
 * random offset in `0..cell-tile` inside its cell, drawn per tile.
 *
 * Shapes: `images` `[batch, height, width, channels]` float32, `perms`
 * arrays of `[grid * grid]` -> {@link JigsawBatch}: `tiles`
 * `[batch, grid * grid, tile, tile, channels]`, `labels` `[batch]` int32.
 *
 * @example
 * const perms = jigsawPermutations(30, { seed: 1 });
 * const { tiles, labels } = jigsawBatch(digits, perms, {}, 5); // [B, 9, 7, 7, 1], [B]
 */
export function jigsawBatch(images: tf.Tensor4D, perms: readonly ArrayLike<number>[], options: JigsawOptions, seed: number): JigsawBatch {
  const fn = "jigsawBatch";
  checkImages(fn, images);
  checkOptions(fn, options, "{grid?, tile?}");
  const grid = options.grid ?? 3;
  checkPositiveInteger(fn, "options.grid", grid);
  const [batch, height, width] = images.shape;
  const cell = Math.floor(Math.min(height, width) / grid);
  if (cell < 1) throw new Error(`${fn}: options.grid must be at most the image side ${Math.min(height, width)}, got ${grid}`);
  const tile = options.tile ?? Math.max(1, Math.floor(0.85 * cell));
  checkPositiveInteger(fn, "options.tile", tile);
  if (tile > cell) throw new Error(`${fn}: options.tile must be at most the cell side ${cell}, got ${tile}`);
  checkPermutations(fn, perms, grid * grid);
  checkInteger(fn, "seed", seed);
  const tiles = grid * grid;
  const top = Math.floor((height - grid * cell) / 2);
  const left = Math.floor((width - grid * cell) / 2);
  const rng = createRng(seed);
  const labels = new Int32Array(batch);
  const sources = new Int32Array(batch * tiles);
  const origins = new Int32Array(2 * batch * tiles);
  for (let b = 0; b < batch; b++) {
    labels[b] = rng.int(perms.length);
    const perm = perms[labels[b]];
    for (let k = 0; k < tiles; k++) {
      const at = b * tiles + k;
      const from = perm[k];
      sources[at] = b;
      origins[2 * at] = top + Math.floor(from / grid) * cell + rng.int(cell - tile + 1);
      origins[2 * at + 1] = left + (from % grid) * cell + rng.int(cell - tile + 1);
    }
  }
  const channels = images.shape[3];
  const out = tf.tidy(() => tf.reshape(cropPatches(images, sources, origins, tile), [batch, tiles, tile, tile, channels]) as tf.Tensor5D);
  return { tiles: out, labels: tf.tensor1d(labels, "int32"), origins };
}

function checkPermutations(fn: string, perms: readonly ArrayLike<number>[], n: number): void {
  if (!Array.isArray(perms) || perms.length < 1) throw new Error(`${fn}: perms must be a non-empty array of permutations of 0..${n - 1}, got ${describe(perms)}`);
  perms.forEach((p: unknown, i) => {
    const values = Array.isArray(p) || p instanceof Int32Array ? Array.from(p as ArrayLike<number>) : undefined;
    const seen = new Uint8Array(n);
    const ok = values !== undefined && values.length === n && values.every((v) => Number.isInteger(v) && v >= 0 && v < n && !seen[v] && (seen[v] = 1));
    if (!ok) throw new Error(`${fn}: perms[${i}] must be a permutation of 0..${n - 1}, got ${describe(values ?? p)}`);
  });
}

function factorial(n: number): number {
  let f = 1;
  for (let k = 2; k <= n; k++) f *= k;
  return f;
}

/** Every permutation of 0..n-1 in lexicographic order. */
function allPermutations(n: number): Int32Array[] {
  const out: Int32Array[] = [];
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (;;) {
    out.push(p.slice());
    // Next permutation: the rightmost ascent i, swap with the rightmost larger entry, reverse the tail.
    let i = n - 2;
    while (i >= 0 && p[i] >= p[i + 1]) i--;
    if (i < 0) return out;
    let j = n - 1;
    while (p[j] <= p[i]) j--;
    [p[i], p[j]] = [p[j], p[i]];
    p.subarray(i + 1).reverse();
  }
}

/** `count` distinct permutations of 0..n-1 from `rng` (n! > count, so they exist). */
function randomPermutations(n: number, count: number, rng: ReturnType<typeof createRng>): Int32Array[] {
  const seen = new Set<string>();
  const out: Int32Array[] = [];
  while (out.length < count) {
    const p = rng.permutation(n);
    const key = p.join(",");
    if (!seen.has(key)) {
      seen.add(key);
      out.push(p);
    }
  }
  return out;
}
