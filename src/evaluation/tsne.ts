/**
 * Exact t-SNE (van der Maaten & Hinton 2008, "Visualizing Data using
 * t-SNE", JMLR 9): Gaussian neighbour probabilities in feature space,
 * Student-t similarities in the plane, and gradient descent on the KL
 * divergence between them. Plain TypeScript in float64, O(n^2) time and
 * memory per iteration, so it is limited to {@link TSNE_MAX_POINTS} points.
 *
 * The optimiser follows the reference recipe of the paper's Sec. 3.4 with
 * the constants of van der Maaten's later reference implementation
 * (bhtsne, "Accelerating t-SNE using tree-based algorithms", JMLR 2014):
 * initial points N(0, 1e-4^2), early exaggeration x12, momentum 0.5 during
 * exaggeration and 0.8 after, learning rate 200, and per-coordinate gains
 * (Jacobs 1988: +0.2 while the last update still goes downhill, x0.8 once
 * the gradient turns against it, floor 0.01).
 */
import { type FeatureRows, readFeatureRows } from "./projection_input";
import { createRng } from "../data/random";
import { checkInteger, checkIntegerInRange, checkPositiveInteger, checkPositiveNumber } from "../validation/arguments";

/** The most points {@link tsneProjection} accepts: its n x n matrices take 32 MB each at 2000. */
export const TSNE_MAX_POINTS = 2000;

/** Options of {@link tsneProjection}. */
export interface TsneOptions {
  /** Effective number of neighbours of each point (2^entropy of its P row); default 30; must be in [1, n - 1). */
  perplexity?: number;
  /** Gradient steps; default 500. */
  iterations?: number;
  /** Step size; default 200 (bhtsne's). */
  learningRate?: number;
  /** Factor on P during the first {@link exaggerationIterations}; default 12. */
  earlyExaggeration?: number;
  /** Steps with exaggerated P (and momentum 0.5); default `min(250, floor(iterations / 2))`. */
  exaggerationIterations?: number;
  /** Seed of the initial layout; default 0. */
  seed?: number;
  /** Row length of a flat `Float32Array` / `Float64Array` `features`. */
  dim?: number;
}

/** What {@link tsneProjection} returns. */
export interface TsneResult {
  /** The layout `[n][2]`, centred on the origin. */
  coordinates: number[][];
  /** KL(P || Q) of the final layout, in nats (without exaggeration). */
  klDivergence: number;
}

/** What {@link tsneAffinities} returns: flat row-major `[n, n]` matrices with zero diagonals. */
export interface TsneAffinities {
  /** p(j | i): row i is point i's Gaussian neighbour distribution; rows sum to 1. */
  conditional: Float64Array;
  /** The symmetric joint p_ij = (p(j | i) + p(i | j)) / 2n; sums to 1. */
  joint: Float64Array;
  /** Precision 1 / (2 sigma_i^2) of each point's Gaussian `[n]`. */
  beta: Float64Array;
  /** Entropy of each row of `conditional` in nats `[n]` (log(perplexity) once calibrated). */
  entropy: Float64Array;
}

const ENTROPY_TOLERANCE = 1e-10;
const MAX_BISECTION_STEPS = 200;

/** Squared Euclidean distances `[n, n]` between the rows of `values` `[n, d]`. */
function squaredDistances(values: Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const diff = values[i * d + k] - values[j * d + k];
        s += diff * diff;
      }
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}

/**
 * Fills `row` with p(j | i) ∝ exp(-beta d_ij) for the given `beta` and
 * returns its entropy in nats. Distances are shifted by their minimum first,
 * which leaves the distribution unchanged but keeps exp() from underflowing
 * for far-away points.
 */
function gaussianRow(shifted: Float64Array, i: number, beta: number, row: Float64Array): number {
  const n = shifted.length;
  let z = 0;
  for (let j = 0; j < n; j++) {
    row[j] = j === i ? 0 : Math.exp(-beta * shifted[j]);
    z += row[j];
  }
  let meanDistance = 0;
  for (let j = 0; j < n; j++) {
    row[j] /= z;
    meanDistance += row[j] * shifted[j];
  }
  return Math.log(z) + beta * meanDistance;
}

/**
 * The input similarities of t-SNE (van der Maaten & Hinton 2008, Sec. 2-3):
 * for each row of `features` `[n, d]` a Gaussian over the other points,
 * p(j | i) ∝ exp(-beta_i |x_i - x_j|^2), whose precision beta_i is found by
 * bisection so the entropy H(P_i) equals log(perplexity) (to 1e-10 nats, or
 * as close as 200 bisection steps get: ties among a point's nearest
 * neighbours set a floor under the entropy), then the symmetric joint
 * p_ij = (p(j | i) + p(i | j)) / 2n.
 *
 * Shapes: `features` `[n, d]`; every result matrix `[n, n]` flat, row-major.
 *
 * @example
 * const { conditional, entropy } = tsneAffinities(features, 30);  // entropy[i] ≈ Math.log(30)
 */
export function tsneAffinities(features: FeatureRows, perplexity: number, options: { dim?: number } = {}): TsneAffinities {
  const fn = "tsneAffinities";
  const { values, n, d } = readFeatureRows(features, options.dim, fn, "features");
  checkPerplexity(fn, "perplexity", perplexity, n);
  return affinities(squaredDistances(values, n, d), n, perplexity);
}

function checkPerplexity(fn: string, arg: string, perplexity: number, n: number): void {
  if (n < 3) throw new Error(`${fn}: features must have at least 3 rows, got ${n}`);
  if (typeof perplexity !== "number" || !(perplexity >= 1 && perplexity < n - 1)) {
    throw new Error(`${fn}: ${arg} must be a number in [1, n - 1) = [1, ${n - 1}) for n = ${n} points, got ${perplexity}`);
  }
}

function affinities(distances: Float64Array, n: number, perplexity: number): TsneAffinities {
  const target = Math.log(perplexity);
  const conditional = new Float64Array(n * n);
  const beta = new Float64Array(n);
  const entropy = new Float64Array(n);
  const shifted = new Float64Array(n);
  const row = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let nearest = Infinity;
    for (let j = 0; j < n; j++) if (j !== i) nearest = Math.min(nearest, distances[i * n + j]);
    let spread = 0;
    for (let j = 0; j < n; j++) {
      shifted[j] = j === i ? 0 : distances[i * n + j] - nearest;
      spread += shifted[j] / (n - 1);
    }
    let b = spread > 0 ? 1 / spread : 1;
    let low = 0;
    let high = Infinity;
    let h = gaussianRow(shifted, i, b, row);
    for (let step = 0; step < MAX_BISECTION_STEPS && Math.abs(h - target) > ENTROPY_TOLERANCE; step++) {
      // Entropy falls as beta grows: too flat -> sharpen, too peaked -> widen.
      if (h > target) {
        low = b;
        b = high === Infinity ? b * 2 : (low + high) / 2;
      } else {
        high = b;
        b = (low + high) / 2;
      }
      h = gaussianRow(shifted, i, b, row);
    }
    conditional.set(row, i * n);
    beta[i] = b;
    entropy[i] = h;
  }
  const joint = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) joint[i * n + j] = (conditional[i * n + j] + conditional[j * n + i]) / (2 * n);
  }
  return { conditional, joint, beta, entropy };
}

/**
 * The t-SNE objective and its gradient (van der Maaten & Hinton 2008,
 * Eq. 5): q_ij = (1 + |y_i - y_j|^2)^-1 / sum_{k≠l} (1 + |y_k - y_l|^2)^-1,
 * KL(P || Q) = sum_{i≠j} p_ij log(p_ij / q_ij) (terms with p_ij = 0 add 0),
 * dKL/dy_i = 4 sum_j (p_ij - q_ij)(y_i - y_j)(1 + |y_i - y_j|^2)^-1.
 *
 * Shapes: `joint` `[n, n]` flat (symmetric, zero diagonal); `y` `[n, 2]`
 * flat; the gradient `[n, 2]` flat.
 *
 * @example
 * const { kl, gradient } = tsneKlDivergence(tsneAffinities(x, 5).joint, layout, n);
 */
export function tsneKlDivergence(joint: Float64Array, y: Float64Array, n: number): { kl: number; gradient: Float64Array } {
  const fn = "tsneKlDivergence";
  checkPositiveInteger(fn, "n", n);
  if (joint.length !== n * n) throw new Error(`${fn}: joint must have n * n = ${n * n} values, got ${joint.length}`);
  if (y.length !== 2 * n) throw new Error(`${fn}: y must have 2n = ${2 * n} values ([n, 2]), got ${y.length}`);
  for (let i = 0; i < n; i++) {
    if (joint[i * n + i] !== 0) throw new Error(`${fn}: joint must have a zero diagonal, got ${joint[i * n + i]} at [${i}, ${i}]`);
    for (let j = i + 1; j < n; j++) {
      const a = joint[i * n + j];
      const b = joint[j * n + i];
      if (!(a >= 0) || a !== b) throw new Error(`${fn}: joint must be symmetric and non-negative, got ${a} at [${i}, ${j}] and ${b} at [${j}, ${i}]`);
    }
  }
  const gradient = new Float64Array(2 * n);
  const kl = klStep(joint, 1, y, n, true, gradient);
  return { kl, gradient };
}

/**
 * One evaluation of the objective with P scaled by `exaggeration`: fills
 * `gradient` with dKL/dy and returns KL of the unscaled P when `withKl`
 * (NaN otherwise: the logarithms cost more than the gradient). With
 * q_ij = k_ij / Z, the gradient splits into an attractive sum of
 * p_ij k_ij (y_i - y_j) and a repulsive sum of k_ij^2 (y_i - y_j) / Z, so
 * one pass over the pairs i < j (each adding to both points) suffices.
 */
function klStep(joint: Float64Array, exaggeration: number, y: Float64Array, n: number, withKl: boolean, gradient: Float64Array): number {
  const attract = new Float64Array(2 * n);
  const repel = new Float64Array(2 * n);
  let z = 0;
  let pLogPOverK = 0;
  let pSum = 0;
  for (let i = 0; i < n; i++) {
    const xi = y[2 * i];
    const yi = y[2 * i + 1];
    let ax = 0, ay = 0, rx = 0, ry = 0;
    for (let j = i + 1; j < n; j++) {
      const dx = xi - y[2 * j];
      const dy = yi - y[2 * j + 1];
      const k = 1 / (1 + dx * dx + dy * dy);
      z += 2 * k;
      const p = joint[i * n + j];
      const a = p * k;
      const r = k * k;
      ax += a * dx;
      ay += a * dy;
      rx += r * dx;
      ry += r * dy;
      attract[2 * j] -= a * dx;
      attract[2 * j + 1] -= a * dy;
      repel[2 * j] -= r * dx;
      repel[2 * j + 1] -= r * dy;
      if (withKl && p > 0) {
        pLogPOverK += 2 * p * Math.log(p / k);
        pSum += 2 * p;
      }
    }
    attract[2 * i] += ax;
    attract[2 * i + 1] += ay;
    repel[2 * i] += rx;
    repel[2 * i + 1] += ry;
  }
  for (let c = 0; c < 2 * n; c++) gradient[c] = 4 * (exaggeration * attract[c] - repel[c] / z);
  // sum p log(p / (k / Z)) = sum p log(p / k) + (sum p) log Z.
  return withKl ? pLogPOverK + pSum * Math.log(z) : NaN;
}

/**
 * A 2-D t-SNE layout of the rows of `features` `[n, d]` (exact, float64):
 * {@link tsneAffinities} at `options.perplexity`, then `iterations` steps of
 * gradient descent on {@link tsneKlDivergence} with the reference recipe
 * (see the module doc). Distances are squared Euclidean on the features as
 * given: reduce very wide features with PCA first if you like, as the paper
 * does (to 30-50 dimensions). Cost is O(n^2 d) once plus O(n^2) per
 * iteration (about 7 s for 2000 points of dimension 64 and 500 iterations
 * on one core), and up to three n x n float64 matrices while calibrating;
 * n above {@link TSNE_MAX_POINTS} (2000) is refused: subsample, or use
 * {@link umapProjection}. The same seed gives the same layout.
 *
 * Shapes: `features` `[n, d]` (a tensor is read, not disposed); `coordinates` `[n][2]`.
 *
 * @example
 * const { coordinates, klDivergence } = tsneProjection(features, { perplexity: 30, seed: 1 });  // features [1000, 128]
 * show(embeddingScatter(coordinates, { labels, classNames, title: "SimCLR features, t-SNE" }));
 */
export function tsneProjection(features: FeatureRows, options: TsneOptions = {}): TsneResult {
  const fn = "tsneProjection";
  const { values, n, d } = readFeatureRows(features, options.dim, fn, "features");
  if (n > TSNE_MAX_POINTS) {
    throw new Error(`${fn}: features must have at most ${TSNE_MAX_POINTS} rows (exact t-SNE is O(n^2)), got ${n}; subsample, or use umapProjection`);
  }
  const perplexity = options.perplexity ?? 30;
  checkPerplexity(fn, "options.perplexity", perplexity, n);
  const iterations = options.iterations ?? 500;
  checkPositiveInteger(fn, "options.iterations", iterations);
  const learningRate = options.learningRate ?? 200;
  checkPositiveNumber(fn, "options.learningRate", learningRate);
  const exaggeration = options.earlyExaggeration ?? 12;
  checkPositiveNumber(fn, "options.earlyExaggeration", exaggeration);
  const exaggerationIterations = options.exaggerationIterations ?? Math.min(250, Math.floor(iterations / 2));
  checkIntegerInRange(fn, "options.exaggerationIterations", exaggerationIterations, 0, iterations);
  const seed = options.seed ?? 0;
  checkInteger(fn, "options.seed", seed);

  const { joint } = affinities(squaredDistances(values, n, d), n, perplexity);
  const rng = createRng(seed);
  const y = new Float64Array(2 * n);
  for (let i = 0; i < 2 * n; i++) y[i] = 1e-4 * rng.normal();
  const update = new Float64Array(2 * n);
  const gains = new Float64Array(2 * n).fill(1);
  const gradient = new Float64Array(2 * n);
  for (let t = 0; t < iterations; t++) {
    const early = t < exaggerationIterations;
    klStep(joint, early ? exaggeration : 1, y, n, false, gradient);
    const momentum = early ? 0.5 : 0.8;
    for (let k = 0; k < 2 * n; k++) {
      // Delta-bar-delta: grow the step while the last move still goes downhill, shrink it once it overshoots.
      gains[k] = update[k] * gradient[k] < 0 ? gains[k] + 0.2 : gains[k] * 0.8;
      if (gains[k] < 0.01) gains[k] = 0.01;
      update[k] = momentum * update[k] - learningRate * gains[k] * gradient[k];
      y[k] += update[k];
    }
    centre(y, n);
  }
  const klDivergence = klStep(joint, 1, y, n, true, gradient);
  const coordinates: number[][] = [];
  for (let i = 0; i < n; i++) coordinates.push([y[2 * i], y[2 * i + 1]]);
  return { coordinates, klDivergence };
}

/** Moves the layout's mean to the origin: KL is translation invariant, so this only keeps the numbers small. */
function centre(y: Float64Array, n: number): void {
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += y[2 * i] / n;
    my += y[2 * i + 1] / n;
  }
  for (let i = 0; i < n; i++) {
    y[2 * i] -= mx;
    y[2 * i + 1] -= my;
  }
}
