/**
 * Retrieval Recall@K, the metric-learning benchmark's measure (Song et al.
 * 2016, Sohn 2016): each example of a labelled set queries all the others,
 * and counts as recalled at K when one of its K nearest neighbours has its
 * label. Recall@1 is leave-one-out 1-nearest-neighbour accuracy.
 */
import { tf } from "../backend/tf";
import { l2NormalizeRows } from "../losses/ops/similarity";
import { Labels, readLabels } from "./labels";
import { checkMatrix, checkPositiveInteger } from "../validation/arguments";

/** Options of {@link recallAtK}. */
export interface RecallAtKOptions {
  /** The K values to report, each in [1, n-1]; default `[1]`. */
  ks?: number[];
  /** `"cosine"` (default): similarity of L2-normalised rows. `"euclidean"`: negative distance. */
  metric?: "cosine" | "euclidean";
  /** Query rows per similarity matrix; default about 4M entries per chunk. */
  chunkSize?: number;
}

/** What {@link recallAtK} returns. */
export interface RecallAtKResult {
  /** The K values, as given. */
  ks: number[];
  /** `recall[i]`: fraction of queries with a same-label example among their `ks[i]` nearest others. */
  recall: number[];
  /** The metric used. */
  metric: "cosine" | "euclidean";
}

/**
 * Recall@K of `features` `[n, dim]` with `labels` `[n]`: every row is a
 * query against the other `n - 1` rows (itself excluded). Neighbours with
 * exactly equal scores are ranked by `tf.topk`.
 *
 * @example
 * const { recall } = recallAtK(testFeatures, testLabels, { ks: [1, 5] }); // [R@1, R@5]
 */
export function recallAtK(features: tf.Tensor2D, labels: Labels, options: RecallAtKOptions = {}): RecallAtKResult {
  const fn = "recallAtK";
  checkMatrix(fn, "features", features);
  const [n] = features.shape;
  if (n < 2) throw new Error(`${fn}: features must have at least 2 rows (each query needs another row), got ${n}`);
  const truth = readLabels(labels, n, fn, "labels");
  const ks = options.ks ?? [1];
  if (!Array.isArray(ks) || ks.length === 0) {
    throw new Error(`${fn}: options.ks must be a non-empty array of integers in [1, ${n - 1}], got ${JSON.stringify(ks)}`);
  }
  for (const k of ks) {
    if (!Number.isInteger(k) || k < 1 || k > n - 1) {
      throw new Error(`${fn}: options.ks must hold integers in [1, ${n - 1}] (the other rows), got ${k}`);
    }
  }
  const metric = options.metric ?? "cosine";
  if (metric !== "cosine" && metric !== "euclidean") {
    throw new Error(`${fn}: options.metric must be "cosine" or "euclidean", got ${String(metric)}`);
  }
  const chunkSize = options.chunkSize ?? Math.max(1, Math.floor(4194304 / n));
  checkPositiveInteger(fn, "options.chunkSize", chunkSize);
  const maxK = Math.max(...ks);
  const prepared = tf.tidy(() => {
    const x = features.toFloat();
    return (metric === "cosine" ? l2NormalizeRows(x) : x) as tf.Tensor2D;
  });
  // Pre-transposed: wasm's matMul with a transposed operand is slow.
  const reference = tf.transpose(prepared);
  const norms = metric === "euclidean" ? tf.tidy(() => tf.sum(tf.square(reference), 0)) : undefined;
  // firstHit[i]: rank (1-based) of the first same-label neighbour of query i within maxK, else Infinity.
  const firstHit = new Float64Array(n).fill(Infinity);
  try {
    for (let start = 0; start < n; start += chunkSize) {
      const rows = Math.min(chunkSize, n - start);
      const indices = tf.tidy(() => {
        const query = tf.slice(prepared, [start, 0], [rows, -1]);
        let scores: tf.Tensor2D = tf.matMul(query, reference);
        // Euclidean ranking by 2 x.y - |y|^2, which orders like -|x - y|^2.
        if (norms) scores = tf.sub(tf.mul(scores, 2), norms);
        // The query itself is pushed below every other row.
        const self = tf.oneHot(tf.range(start, start + rows, 1, "int32"), n);
        scores = tf.where(tf.cast(self, "bool"), tf.fill(scores.shape, -Infinity), scores);
        return tf.topk(scores, maxK).indices;
      });
      const ids = indices.dataSync();
      indices.dispose();
      for (let r = 0; r < rows; r++) {
        const q = start + r;
        for (let j = 0; j < maxK; j++) {
          if (truth[ids[r * maxK + j]] === truth[q]) {
            firstHit[q] = j + 1;
            break;
          }
        }
      }
    }
  } finally {
    tf.dispose([prepared, reference, ...(norms ? [norms] : [])]);
  }
  const recall = ks.map((k) => firstHit.reduce((hits, rank) => hits + (rank <= k ? 1 : 0), 0) / n);
  return { ks: [...ks], recall, metric };
}
