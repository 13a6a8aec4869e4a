/**
 * MoCHi, hard negative mixing (Kalantidis, Sariyildiz, Pion, Weinzaepfel &
 * Larlus 2020, "Hard Negative Mixing for Contrastive Learning", Sec. 4):
 * for each query, new negatives synthesised from the hardest entries of
 * MoCo's queue, mixed with each other and with the query itself, appended
 * to that query's logits. The queue then holds more "hard" negatives than
 * it stores, at the price of a few dot products.
 */
import { tf } from "../../backend/tf";
import { createRng } from "../../data/random";
import { rowLogSumExp } from "../../losses/ops/log_sum_exp";
import { l2NormalizeRows } from "../../losses/ops/similarity";
import {
  checkInteger,
  checkIntegerInRange,
  checkMatrix,
  checkNonNegativeInteger,
  checkOptions,
  checkPositiveNumber,
  checkRank,
  describe,
} from "../../validation/arguments";

/** Options of {@link mochiNegatives}. */
export interface MochiNegativesOptions {
  /** N, how many of the queue entries most similar to each query it mixes from, 1 <= N <= K (the paper: 1024 of K = 16384). */
  hardest: number;
  /** s1 (the paper's s), negatives per query mixed from two hard negatives (the paper: 1024). */
  mixed: number;
  /** s2 (the paper's s'), negatives per query mixed from the query and one hard negative (the paper: 256). */
  queryMixed: number;
  /** Seed of the picks and mixing coefficients; default 0. */
  seed?: number;
}

/**
 * MoCHi's synthetic hard negatives for every query (the paper's eqs. 4-5).
 * Similarity is the cosine. For query q_b, let n_1..n_N be the N queue
 * entries most similar to it. Then
 *
 *   h = normalise(alpha n_i + (1 - alpha) n_j),  i != j uniform in 1..N, alpha ~ U[0, 1)   (s1 of them)
 *   h' = normalise(beta q_b + (1 - beta) n_j),    j uniform in 1..N,       beta ~ U[0, 0.5)  (s2 of them)
 *
 * (i = j only when N = 1). beta < 0.5 keeps h' nearer the negative than
 * the query: harder than n_j, yet still a negative. The picks and
 * coefficients come from `createRng(seed)`, so one seed gives the same
 * negatives on every backend.
 *
 * No gradient flows through the result: the queries are copied out of the
 * gradient tape (one read of `[B, D]` floats) before mixing, as the paper
 * does not back-propagate through the synthetic points. The ranking needs
 * `tf.topk`, which has no gradient either.
 *
 * Shapes: `queries` `[B, D]`, `queue` `[K, D]` float32 (any norms: both are
 * L2-normalised inside) -> `[B, s1 + s2, D]` float32 unit rows, the s1
 * pair mixes first, then the s2 query mixes.
 *
 * @example
 * const synthetic = mochiNegatives(q, queue.keys(), { hardest: 256, mixed: 256, queryMixed: 64, seed: ctx.seed }); // [B, 320, D]
 * const loss = infoNceWithSynthetic(q, k, { temperature: 0.2, negatives: queue.keys(), synthetic });
 */
export function mochiNegatives(queries: tf.Tensor2D, queue: tf.Tensor2D, options: MochiNegativesOptions): tf.Tensor3D {
  const fn = "mochiNegatives";
  checkMatrix(fn, "queries", queries, undefined, undefined, "float32");
  if (queries.shape[0] < 1 || queries.shape[1] < 1) throw new Error(`${fn}: queries must have at least one row and one column, got ${describe(queries)}`);
  checkMatrix(fn, "queue", queue, undefined, queries.shape[1], "float32");
  if (queue.shape[0] < 1) throw new Error(`${fn}: queue must have at least one row, got ${describe(queue)}`);
  checkOptions(fn, options, "{hardest, mixed, queryMixed, seed?}");
  const [b, d] = queries.shape;
  const k = queue.shape[0];
  checkIntegerInRange(fn, "options.hardest", options.hardest, 1, k);
  checkNonNegativeInteger(fn, "options.mixed", options.mixed);
  checkNonNegativeInteger(fn, "options.queryMixed", options.queryMixed);
  const seed = options.seed ?? 0;
  checkInteger(fn, "options.seed", seed);
  const { hardest: n, mixed: s1, queryMixed: s2 } = options;
  if (s1 + s2 === 0) return tf.zeros([b, 0, d]) as tf.Tensor3D;

  // Picks index the [B * N] flattened ranking: row b's j-th hardest is b * N + j.
  const rng = createRng(seed);
  const first = new Int32Array(b * s1);
  const second = new Int32Array(b * s1);
  const alpha = new Float32Array(b * s1);
  const ofQuery = new Int32Array(b * s2);
  const partner = new Int32Array(b * s2);
  const beta = new Float32Array(b * s2);
  for (let row = 0; row < b; row++) {
    for (let t = 0; t < s1; t++) {
      const i = rng.int(n);
      const j = n === 1 ? i : (i + 1 + rng.int(n - 1)) % n;
      first[row * s1 + t] = row * n + i;
      second[row * s1 + t] = row * n + j;
      alpha[row * s1 + t] = rng.next();
    }
    for (let t = 0; t < s2; t++) {
      ofQuery[row * s2 + t] = row;
      partner[row * s2 + t] = row * n + rng.int(n);
      beta[row * s2 + t] = 0.5 * rng.next();
    }
  }
  // A copy outside the gradient tape: nothing below reaches the query encoder.
  const detached = tf.tensor2d(queries.dataSync() as Float32Array, [b, d]);
  try {
    return synthesise(detached, queue, n, { first, second, alpha, ofQuery, partner, beta });
  } finally {
    detached.dispose();
  }
}

/** The seeded draws of {@link mochiNegatives}: row picks into the flattened ranking and mixing weights. */
interface MochiDraws {
  first: Int32Array;
  second: Int32Array;
  alpha: Float32Array;
  ofQuery: Int32Array;
  partner: Int32Array;
  beta: Float32Array;
}

/** The tensor part of {@link mochiNegatives}: rank, gather, mix, normalise. */
function synthesise(queries: tf.Tensor2D, queue: tf.Tensor2D, n: number, draws: MochiDraws): tf.Tensor3D {
  const [b, d] = queries.shape;
  const s1 = draws.alpha.length / b;
  const s2 = draws.beta.length / b;
  const { first, second, alpha, ofQuery, partner, beta } = draws;
  return tf.tidy(() => {
    const q = l2NormalizeRows(queries);
    const keys = l2NormalizeRows(queue);
    const ranking = tf.reshape(tf.topk(tf.matMul(q, tf.transpose(keys)), n).indices, [b * n]);
    const hardRows = (picks: Int32Array) => tf.gather(keys, tf.gather(ranking, tf.tensor1d(picks, "int32")));
    const mix = (weight: Float32Array, x: tf.Tensor2D, y: tf.Tensor2D) => {
      const w = tf.tensor2d(weight, [weight.length, 1]);
      return l2NormalizeRows(tf.add(tf.mul(w, x), tf.mul(tf.sub(1, w), y)) as tf.Tensor2D);
    };
    const parts: tf.Tensor3D[] = [];
    if (s1 > 0) parts.push(tf.reshape(mix(alpha, hardRows(first), hardRows(second)), [b, s1, d]));
    if (s2 > 0) parts.push(tf.reshape(mix(beta, tf.gather(q, tf.tensor1d(ofQuery, "int32")), hardRows(partner)), [b, s2, d]));
    return (parts.length === 1 ? parts[0] : tf.concat(parts, 1)) as tf.Tensor3D;
  });
}

/** Options of {@link infoNceWithSynthetic}. */
export interface InfoNceWithSyntheticOptions {
  /** Temperature dividing the dot products (> 0). */
  temperature: number;
  /** Negatives `[M, D]` shared by every query (MoCo's queue). */
  negatives?: tf.Tensor2D;
  /** Negatives `[B, S, D]` of each query alone (MoCHi's): row b's S entries join only query b's logits. */
  synthetic?: tf.Tensor3D;
}

/**
 * InfoNCE (van den Oord et al. 2018, eq. 4, as `losses.infoNCE`) with
 * per-query extra negatives, MoCHi's loss (Kalantidis et al. 2020, Sec. 4):
 *
 *   loss = 1/B sum_b [ log( sum_j exp(q_b.k_j/T) + sum_m exp(q_b.n_m/T) + sum_s exp(q_b.h_bs/T) ) - q_b.k_b/T ]
 *
 * with j over the B keys, m over the shared `negatives` and s over query
 * b's own `synthetic` ones. Without `synthetic` (or with S = 0) it is
 * `losses.infoNCE` exactly. No normalisation is done inside.
 *
 * Shapes: `query`, `keys` `[B, D]` float32 (key b is the positive of query
 * b), `negatives` `[M, D]`, `synthetic` `[B, S, D]` -> scalar.
 *
 * @example
 * const loss = infoNceWithSynthetic(q, k, { temperature: 0.2, negatives: queue.keys(), synthetic: mochiNegatives(q, queue.keys(), { hardest: 64, mixed: 64, queryMixed: 16 }) });
 */
export function infoNceWithSynthetic(query: tf.Tensor2D, keys: tf.Tensor2D, options: InfoNceWithSyntheticOptions): tf.Scalar {
  const fn = "infoNceWithSynthetic";
  checkMatrix(fn, "query", query, undefined, undefined, "float32");
  if (query.shape[0] < 1 || query.shape[1] < 1) throw new Error(`${fn}: query must have at least one row and one column, got ${describe(query)}`);
  const [b, d] = query.shape;
  checkMatrix(fn, "keys", keys, b, d, "float32");
  checkOptions(fn, options, "{temperature, negatives?, synthetic?}");
  checkPositiveNumber(fn, "options.temperature", options.temperature);
  const { negatives, synthetic, temperature } = options;
  if (negatives !== undefined) checkMatrix(fn, "options.negatives", negatives, undefined, d, "float32");
  if (synthetic !== undefined) {
    checkRank(fn, "options.synthetic", synthetic, 3, "float32");
    if (synthetic.shape[0] !== b || synthetic.shape[2] !== d) {
      throw new Error(`${fn}: options.synthetic must have shape [${b}, S, ${d}], got ${describe(synthetic)}`);
    }
  }
  return tf.tidy(() => {
    const candidates = negatives === undefined ? keys : tf.concat([keys, negatives], 0);
    // Explicit transpose: matMul with a transposed operand is slow on wasm.
    let logits = tf.matMul(query, tf.transpose(candidates)) as tf.Tensor2D;
    if (synthetic !== undefined && synthetic.shape[1] > 0) {
      const own = tf.sum(tf.mul(tf.expandDims(query, 1), synthetic), 2) as tf.Tensor2D;
      logits = tf.concat([logits, own], 1);
    }
    const positive = tf.div(tf.sum(tf.mul(query, keys)), temperature);
    return tf.div(tf.sub(tf.sum(rowLogSumExp(tf.div(logits, temperature) as tf.Tensor2D)), positive), b) as tf.Scalar;
  });
}

/** What {@link negativeSimilarities} returns: cosine similarities, row-major, for histograms. */
export interface NegativeSimilarities {
  /** cos(q_b, n_m) for every query b and queue entry m: `B * M` values, query-major. */
  queue: Float32Array;
  /** cos(q_b, h_bs) for every query b and its own synthetic negative s: `B * S` values (empty without them). */
  synthetic: Float32Array;
}

/**
 * The similarity of each query to its negatives, shared (the queue) and
 * its own (MoCHi's synthetic ones), as plain arrays for a histogram such as
 * the paper's Fig. 3: the synthetic ones should sit to the right.
 *
 * Shapes: `queries` `[B, D]`, `queue` `[M, D]`, `synthetic` `[B, S, D]`
 * float32 (any norms: cosines are computed) -> `B * M` and `B * S` numbers.
 *
 * @example
 * const sims = negativeSimilarities(q, queue.keys(), mochiNegatives(q, queue.keys(), { hardest: 64, mixed: 64, queryMixed: 16 }));
 * plot.show(plot.figure([{ type: "histogram", x: Array.from(sims.queue), name: "queue" }, { type: "histogram", x: Array.from(sims.synthetic), name: "MoCHi" }]));
 */
export function negativeSimilarities(queries: tf.Tensor2D, queue: tf.Tensor2D, synthetic?: tf.Tensor3D): NegativeSimilarities {
  const fn = "negativeSimilarities";
  checkMatrix(fn, "queries", queries, undefined, undefined, "float32");
  const [b, d] = queries.shape;
  checkMatrix(fn, "queue", queue, undefined, d, "float32");
  if (synthetic !== undefined) {
    checkRank(fn, "synthetic", synthetic, 3, "float32");
    if (synthetic.shape[0] !== b || synthetic.shape[2] !== d) throw new Error(`${fn}: synthetic must have shape [${b}, S, ${d}], got ${describe(synthetic)}`);
  }
  const [shared, own] = tf.tidy(() => {
    const q = l2NormalizeRows(queries);
    const sharedSims = tf.matMul(q, tf.transpose(l2NormalizeRows(queue)));
    if (synthetic === undefined || synthetic.shape[1] === 0) return [sharedSims, tf.zeros([0])];
    const s = synthetic.shape[1];
    const unit = tf.reshape(l2NormalizeRows(tf.reshape(synthetic, [b * s, d]) as tf.Tensor2D), [b, s, d]);
    return [sharedSims, tf.sum(tf.mul(tf.expandDims(q, 1), unit), 2)];
  });
  const result = { queue: shared.dataSync() as Float32Array, synthetic: own.dataSync() as Float32Array };
  tf.dispose([shared, own]);
  return result;
}
