/**
 * UMAP (McInnes, Healy & Melville 2018, "UMAP: Uniform Manifold
 * Approximation and Projection for Dimension Reduction", arXiv:1802.03426)
 * through the `umap-js` package, with every random draw (the random
 * projection trees and NN-descent of the neighbour graph, the initial
 * layout, the negative samples) taken from the workbook's seeded generator,
 * so a seed fixes the layout.
 */
import { UMAP } from "umap-js";
import { type FeatureRows, readFeatureRows } from "./projection_input";
import { createRng } from "../data/random";
import { checkInteger, checkNumberInRange, checkPositiveInteger } from "../validation/arguments";

/** Options of {@link umapProjection}. */
export interface UmapOptions {
  /** Neighbours of each point in the fuzzy graph (local vs global structure); default 15; at least 2 and below n. */
  nNeighbors?: number;
  /** How tightly points may pack in the layout, in [0, 1] (UMAP's spread is 1); default 0.1. */
  minDist?: number;
  /** Optimisation epochs; default umap-js's: 500 up to 2500 points, fewer above (200 beyond 10000). */
  nEpochs?: number;
  /** Seed of every random draw; default 0. */
  seed?: number;
  /** Row length of a flat `Float32Array` / `Float64Array` `features`. */
  dim?: number;
}

/** What {@link umapProjection} returns. */
export interface UmapResult {
  /** The layout `[n][2]`. */
  coordinates: number[][];
  /** Epochs run. */
  nEpochs: number;
}

/**
 * A 2-D UMAP layout of the rows of `features` `[n, d]` (Euclidean metric).
 * umap-js finds approximate nearest neighbours (random projection forest +
 * NN-descent), builds the fuzzy simplicial set, starts from a random layout
 * (not the spectral one of the Python package) and runs the negative-sampling
 * SGD; the same seed gives the same layout. Time grows roughly as n log n
 * times the epochs: about 7 s for 2000 points of dimension 64.
 *
 * Shapes: `features` `[n, d]` (a tensor is read, not disposed); `coordinates` `[n][2]`.
 *
 * @example
 * const { coordinates } = umapProjection(features, { nNeighbors: 15, minDist: 0.1, seed: 1 });  // features [2000, 128]
 * show(embeddingScatter(coordinates, { labels, classNames, title: "SimCLR features, UMAP" }));
 */
export function umapProjection(features: FeatureRows, options: UmapOptions = {}): UmapResult {
  const fn = "umapProjection";
  const { values, n, d } = readFeatureRows(features, options.dim, fn, "features");
  const nNeighbors = options.nNeighbors ?? 15;
  checkInteger(fn, "options.nNeighbors", nNeighbors);
  if (nNeighbors < 2) throw new Error(`${fn}: options.nNeighbors must be an integer >= 2, got ${nNeighbors}`);
  if (n <= nNeighbors) {
    throw new Error(`${fn}: features must have more rows than options.nNeighbors = ${nNeighbors}, got ${n} rows`);
  }
  const minDist = options.minDist ?? 0.1;
  checkNumberInRange(fn, "options.minDist", minDist, 0, 1);
  if (options.nEpochs !== undefined) checkPositiveInteger(fn, "options.nEpochs", options.nEpochs);
  const seed = options.seed ?? 0;
  checkInteger(fn, "options.seed", seed);

  const rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push(Array.from(values.subarray(i * d, (i + 1) * d)));
  const rng = createRng(seed);
  const umap = new UMAP({ nComponents: 2, nNeighbors, minDist, nEpochs: options.nEpochs, random: rng.next });
  const nEpochs = umap.initializeFit(rows);
  for (let epoch = 0; epoch < nEpochs; epoch++) umap.step();
  const coordinates = umap.getEmbedding().map((point) => [point[0], point[1]]);
  return { coordinates, nEpochs };
}
