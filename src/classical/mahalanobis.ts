/**
 * A learned Mahalanobis metric `d_A(x, y) = sqrt((x - y)^T A (x - y))` from
 * side information, after Xing, Ng, Jordan & Russell 2002, "Distance metric
 * learning, with application to clustering with side-information".
 *
 * Xing et al. solve  min_A sum_S |x_i - x_j|_A^2  s.t.  sum_D |x_i - x_j|_A >= 1, A PSD
 * (S: similar pairs, D: dissimilar pairs) by projected gradient. This module
 * keeps the objective but parameterises `A = L^T L` (PSD by construction, no
 * projection) and minimises the equivalent unconstrained form the paper gives
 * for diagonal A (their Eq. 6),
 *
 *   g(L) = sum_S |L(x_i - x_j)|^2 - log sum_D |L(x_i - x_j)|,
 *
 * with the shared training loop (gradient steps on sampled pairs). Scaling A
 * by c > 0 changes g by c * (first sum) - log(sqrt c), so the minimiser is the
 * constrained solution up to a positive scale, which neither kNN nor
 * clustering sees.
 */
import { tf } from "../backend/tf";
import { createRng } from "../data/random";
import { checkOptions, checkPositiveInteger } from "../validation/arguments";
import type { Method } from "../methods/method";

/** Options of {@link createMahalanobisMetric}. */
export interface MahalanobisMetricOptions {
  /** Input dimension d. */
  dim: number;
  /** Rows of L (rank of A); default `dim`. */
  rank?: number;
  /** Initial L: `"identity"` (default; needs rank <= dim: the first rows of I, i.e. Euclidean) or `"random"`. */
  init?: "identity" | "random";
  /** Seed of the random initialisation; default 0. */
  seed?: number;
}

/**
 * The trainable factor `L` `[rank, dim]` of `A = L^T L`, a `tf.Variable`
 * (pass it as `trainable` to `training.train`; dispose it when done).
 *
 * @example
 * const metricL = createMahalanobisMetric({ dim: 40 });   // L = I [40, 40]
 */
export function createMahalanobisMetric(options: MahalanobisMetricOptions): tf.Variable {
  const fn = "createMahalanobisMetric";
  const { dim } = options;
  checkPositiveInteger(fn, "options.dim", dim);
  const rank = options.rank ?? dim;
  checkPositiveInteger(fn, "options.rank", rank);
  const init = options.init ?? "identity";
  const values = new Float32Array(rank * dim);
  if (init === "identity") {
    if (rank > dim) throw new Error(`${fn}: options.rank must be <= dim (${dim}) for init "identity", got ${rank}`);
    for (let r = 0; r < rank; r++) values[r * dim + r] = 1;
  } else if (init === "random") {
    const rng = createRng(options.seed ?? 0);
    for (let i = 0; i < values.length; i++) values[i] = rng.normal() / Math.sqrt(dim);
  } else {
    throw new Error(`${fn}: options.init must be "identity" or "random", got ${String(init)}`);
  }
  return tf.tidy(() => tf.variable(tf.tensor2d(values, [rank, dim]), true, `mahalanobis_L_${rank}x${dim}`));
}

/**
 * The objective `g(L) = sum_S |L δ|^2 - log sum_D |L δ|` on pair differences:
 * `similarDiffs` `[s, dim]` (x_i - x_j over similar pairs) and
 * `dissimilarDiffs` `[m, dim]` (over dissimilar pairs); `L` `[rank, dim]`.
 * Returns a scalar. `|L δ|` is `sqrt(|L δ|^2 + 1e-12)` so the gradient stays
 * finite for a dissimilar pair that L maps to one point.
 *
 * @example
 * const loss = mahalanobisLoss(metricL, simDiffs, disDiffs);  // tf.Scalar
 */
export function mahalanobisLoss(L: tf.Tensor2D | tf.Variable, similarDiffs: tf.Tensor2D, dissimilarDiffs: tf.Tensor2D): tf.Scalar {
  const fn = "mahalanobisLoss";
  if (L.rank !== 2) throw new Error(`${fn}: L must be 2-D [rank, dim], got shape [${L.shape}]`);
  const dim = L.shape[1] as number;
  for (const [name, t] of [["similarDiffs", similarDiffs], ["dissimilarDiffs", dissimilarDiffs]] as const) {
    if (t.rank !== 2 || t.shape[1] !== dim || t.shape[0] < 1) {
      throw new Error(`${fn}: ${name} must have shape [pairs >= 1, ${dim}], got [${t.shape}]`);
    }
  }
  return tf.tidy(() => {
    const simSq = tf.sum(tf.square(tf.matMul(similarDiffs, L as tf.Tensor2D, false, true)));
    const disDist = tf.sqrt(tf.add(tf.sum(tf.square(tf.matMul(dissimilarDiffs, L as tf.Tensor2D, false, true)), 1), 1e-12));
    return tf.sub(simSq, tf.log(tf.sum(disDist))) as tf.Scalar;
  });
}

/**
 * Maps rows `x` `[n, dim]` to `x L^T` `[n, rank]`: Euclidean distances there
 * are the Mahalanobis distances `d_A`, so any Euclidean tool (kNN, plots)
 * works on the result.
 *
 * @example
 * const z = mahalanobisTransform(metricL, features);  // [n, rank]
 */
export function mahalanobisTransform(L: tf.Tensor2D | tf.Variable, x: tf.Tensor2D): tf.Tensor2D {
  if (L.rank !== 2 || x.rank !== 2 || x.shape[1] !== L.shape[1]) {
    throw new Error(`mahalanobisTransform: x must have shape [n, ${L.shape[1]}], got [${x.shape}]`);
  }
  return tf.tidy(() => tf.matMul(x, L as tf.Tensor2D, false, true));
}

/**
 * The metric matrix `A = L^T L` `[dim][dim]` as plain float64 arrays
 * (computed from L's float32 values in float64).
 *
 * @example
 * mahalanobisMatrix(metricL)[0][0];
 */
export function mahalanobisMatrix(L: tf.Tensor2D | tf.Variable): number[][] {
  if (L.rank !== 2) throw new Error(`mahalanobisMatrix: L must be 2-D [rank, dim], got shape [${L.shape}]`);
  const [rank, dim] = L.shape as [number, number];
  const l = L.dataSync();
  const a: number[][] = [];
  for (let i = 0; i < dim; i++) {
    const row: number[] = [];
    for (let j = 0; j < dim; j++) {
      let s = 0;
      for (let r = 0; r < rank; r++) s += l[r * dim + i] * l[r * dim + j];
      row.push(s);
    }
    a.push(row);
  }
  return a;
}

/**
 * Differences `x[first] - x[second]` of the rows of `x` `[n, dim]`, split by
 * `same` (1: similar pair, 0: dissimilar): `similar` `[s, dim]` and
 * `dissimilar` `[m, dim]`, the inputs of {@link mahalanobisLoss} (pairs
 * e.g. from `data.samplePairs`). The caller disposes both.
 *
 * @example
 * const { similar, dissimilar } = pairDifferences(features, pairs.first, pairs.second, pairs.same);
 */
export function pairDifferences(
  x: tf.Tensor2D,
  first: ArrayLike<number>,
  second: ArrayLike<number>,
  same: ArrayLike<number>,
): { similar: tf.Tensor2D; dissimilar: tf.Tensor2D } {
  const fn = "pairDifferences";
  if (x.rank !== 2) throw new Error(`${fn}: x must be 2-D [n, dim], got shape [${x.shape}]`);
  const n = x.shape[0];
  if (second.length !== first.length || same.length !== first.length) {
    throw new Error(`${fn}: second and same must have length ${first.length} (of first), got ${second.length} and ${same.length}`);
  }
  const sim: number[][] = [[], []];
  const dis: number[][] = [[], []];
  for (let i = 0; i < first.length; i++) {
    for (const [name, v] of [["first", first[i]], ["second", second[i]]] as const) {
      if (!Number.isInteger(v) || v < 0 || v >= n) throw new Error(`${fn}: ${name}[${i}] must be an index in [0, ${n}), got ${v}`);
    }
    if (same[i] !== 0 && same[i] !== 1) throw new Error(`${fn}: same[${i}] must be 0 or 1, got ${same[i]}`);
    const target = same[i] === 1 ? sim : dis;
    target[0].push(first[i]);
    target[1].push(second[i]);
  }
  const diff = (ab: number[][]) =>
    tf.tidy(() => tf.sub(tf.gather(x, tf.tensor1d(ab[0], "int32")), tf.gather(x, tf.tensor1d(ab[1], "int32"))) as tf.Tensor2D);
  return { similar: diff(sim), dissimilar: diff(dis) };
}

/** A batch of {@link createMahalanobisMethod}: pair differences from {@link pairDifferences}. */
export interface PairDifferences {
  /** `[s, dim]` differences over similar pairs. */
  similar: tf.Tensor2D;
  /** `[m, dim]` differences over dissimilar pairs. */
  dissimilar: tf.Tensor2D;
}

/**
 * Mahalanobis metric learning (Xing, Ng, Jordan & Russell 2002) as a
 * `Method` for `training.train`: the loss of a batch is
 * {@link mahalanobisLoss} of `metric`, the only trainable variable.
 * `dispose()` frees nothing: the metric was passed in and is kept.
 *
 * Shapes: `metric` `[rank, dim]`; batches `{ similar [s, dim], dissimilar [m, dim] }` -> scalar loss.
 *
 * @example
 * const L = classical.createMahalanobisMetric({ dim: 40 });
 * await training.train({ ...classical.createMahalanobisMethod({ metric: L }), optimizer: tf.train.adam(0.02),
 *   batches: (epoch, rng) => [classical.pairDifferences(x, ...)], steps: 300 });
 */
export function createMahalanobisMethod(options: { metric: tf.Variable; name?: string }): Method<PairDifferences> {
  const fn = "createMahalanobisMethod";
  checkOptions(fn, options, "{metric, name?}");
  const { metric } = options;
  if (!(metric instanceof tf.Variable) || metric.rank !== 2) {
    throw new Error(`${fn}: options.metric must be a 2-D tf.Variable [rank, dim] (createMahalanobisMetric), got ${metric instanceof tf.Tensor ? `a tensor of shape [${metric.shape}]` : typeof metric}`);
  }
  return {
    name: options.name ?? "Mahalanobis metric",
    trainable: [metric],
    loss: (batch) => mahalanobisLoss(metric, batch.similar, batch.dissimilar),
    dispose() {
      // The metric is the caller's; the method creates nothing of its own.
    },
  };
}
