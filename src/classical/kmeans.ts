/**
 * k-means (Lloyd's algorithm) with k-means++ seeding (Arthur & Vassilvitskii
 * 2007): the clustering step of DeepCluster (Caron et al. 2018), whose
 * cluster assignments become the pseudo-labels the encoder is trained to
 * predict. Empty clusters are re-seeded as DeepCluster does (see
 * {@link kmeans}).
 */
import { tf } from "../backend/tf";
import { createRng, Rng } from "../data/random";
import { checkInteger, checkNonNegativeInteger } from "../validation/arguments";

/** Options of {@link kmeans}. */
export interface KmeansOptions {
  /** Number of clusters, in [1, n]. */
  k: number;
  /** Lloyd rounds (assign, then update); default 20. Stops earlier once no assignment changes. */
  iterations?: number;
  /** Seed of the k-means++ draws and of empty-cluster re-seeding; default 0. */
  seed?: number;
  /**
   * `"k-means++"` (default): D^2 sampling. `"random"`: k distinct rows drawn
   * uniformly. A `[k, d]` tensor: these starting centroids (not disposed).
   */
  init?: "k-means++" | "random" | tf.Tensor2D;
}

/** What {@link kmeans} returns. */
export interface KmeansResult {
  /** Final centroids `[k, d]` (the caller disposes). */
  centroids: tf.Tensor2D;
  /** Cluster of every row `[n]`: its nearest final centroid. */
  assignments: Int32Array;
  /** Sum over rows of the squared distance to the assigned centroid (float64). */
  inertia: number;
  /**
   * Inertia after each assignment step, the last equal to `inertia`. Lloyd's
   * rounds never increase it, except right after an empty-cluster re-seed
   * (which perturbs a centroid) and by float32 round-off of the distances.
   */
  inertiaHistory: number[];
  /** Rows per cluster `[k]`. */
  clusterSizes: Int32Array;
  /** Empty clusters re-seeded over the run. */
  reseeded: number;
  /** Lloyd rounds run (fewer than `iterations` when assignments stopped changing). */
  iterations: number;
}

// faiss's split_clusters perturbation, which DeepCluster's clustering inherits.
const RESEED_EPSILON = 1 / 1024;

/**
 * Clusters the rows of `features` `[n, d]` into `k` groups.
 *
 * Each round assigns every row to its nearest centroid (squared distances
 * `||c||^2 - 2 x c^T` from one `tf.matMul`, float32, arg-min; ties go to the
 * lower index) and moves each centroid to the mean of its rows (float64).
 * After the last round the rows are assigned once more, so `assignments`
 * and `inertia` belong to the returned centroids.
 *
 * Empty clusters: DeepCluster (Caron et al. 2018, Sec. 3.3) gives an empty
 * cluster the centroid of a randomly chosen non-empty cluster plus a small
 * perturbation, then splits that cluster's points between the two. As in
 * faiss's `Clustering` (which DeepCluster's code calls), the donor is drawn
 * with probability proportional to (its size - 1), the empty centroid
 * becomes the donor's times
 * `1 + e, 1 - e, 1 + e, ...` per dimension and the donor's times
 * `1 - e, 1 + e, ...`, with e = 1/1024; the next assignment step splits the
 * donor's rows between the two.
 *
 * k-means++ when the chosen centroids already cover every distinct row (all
 * remaining D^2 = 0): the rest are drawn uniformly among unchosen rows.
 *
 * Shapes: `[n, d]` -> centroids `[k, d]`, assignments `[n]`.
 *
 * @example
 * const { assignments, centroids } = kmeans(features, { k: 100, iterations: 20, seed: epoch });
 * centroids.dispose();
 * // assignments: DeepCluster's pseudo-labels for this epoch
 */
export function kmeans(features: tf.Tensor2D, options: KmeansOptions): KmeansResult {
  const fn = "kmeans";
  if (!(features instanceof tf.Tensor) || features.rank !== 2) {
    const got = features instanceof tf.Tensor ? `shape [${(features as tf.Tensor).shape}]` : typeof features;
    throw new Error(`${fn}: features must be a tf.Tensor2D [n, d], got ${got}`);
  }
  const [n, d] = features.shape;
  if (n < 1 || d < 1) throw new Error(`${fn}: features must have at least one row and one column, got [${n}, ${d}]`);
  if (options === undefined || options === null) throw new Error(`${fn}: options.k is required, got no options`);
  const { k } = options;
  if (!Number.isInteger(k) || k < 1 || k > n) throw new Error(`${fn}: options.k must be an integer in [1, ${n}] (the rows), got ${k}`);
  const iterations = options.iterations ?? 20;
  checkNonNegativeInteger(fn, "options.iterations", iterations);
  const seed = options.seed ?? 0;
  checkInteger(fn, "options.seed", seed);
  const init = options.init ?? "k-means++";
  const x = Float64Array.from(features.dataSync() as ArrayLike<number>);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new Error(`${fn}: features must be finite, got ${x[i]} at row ${Math.floor(i / d)}, column ${i % d}`);
  }
  const rng = createRng(seed);
  let centroids: Float64Array;
  if (init instanceof tf.Tensor) {
    if (init.rank !== 2 || init.shape[0] !== k || init.shape[1] !== d) {
      throw new Error(`${fn}: options.init must have shape [${k}, ${d}], got [${init.shape}]`);
    }
    centroids = Float64Array.from(init.dataSync() as ArrayLike<number>);
  } else if (init === "k-means++") {
    centroids = kmeansPlusPlus(x, n, d, k, rng);
  } else if (init === "random") {
    centroids = new Float64Array(k * d);
    const rows = rng.permutation(n);
    for (let c = 0; c < k; c++) centroids.set(x.subarray(rows[c] * d, (rows[c] + 1) * d), c * d);
  } else {
    throw new Error(`${fn}: options.init must be "k-means++", "random" or a [${k}, ${d}] tensor, got ${String(init)}`);
  }

  const inertiaHistory: number[] = [];
  let assignments = assign(features, centroids, k, d);
  inertiaHistory.push(inertiaOf(x, centroids, assignments, n, d));
  let reseeded = 0;
  let rounds = 0;
  for (let round = 0; round < iterations; round++) {
    rounds++;
    reseeded += updateCentroids(x, assignments, centroids, n, d, k, rng);
    const next = assign(features, centroids, k, d);
    inertiaHistory.push(inertiaOf(x, centroids, next, n, d));
    let changed = false;
    for (let i = 0; i < n && !changed; i++) changed = next[i] !== assignments[i];
    assignments = next;
    if (!changed) break;
  }
  const clusterSizes = new Int32Array(k);
  for (let i = 0; i < n; i++) clusterSizes[assignments[i]]++;
  return {
    centroids: tf.tensor2d(Float32Array.from(centroids), [k, d]),
    assignments,
    inertia: inertiaHistory[inertiaHistory.length - 1],
    inertiaHistory,
    clusterSizes,
    reseeded,
    iterations: rounds,
  };
}

/** Nearest centroid of every row: arg-min of `||c||^2 - 2 x c^T` (float32). */
function assign(features: tf.Tensor2D, centroids: Float64Array, k: number, d: number): Int32Array {
  // Centroids go in transposed, [d, k]: wasm's matMul leaves its fast path for a transposed operand.
  const transposed = new Float32Array(d * k);
  const squaredNorms = new Float32Array(k);
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const v = centroids[c * d + j];
      transposed[j * k + c] = v;
      s += v * v;
    }
    squaredNorms[c] = s;
  }
  const nearest = tf.tidy(() => {
    const scores = tf.sub(tf.tensor2d(squaredNorms, [1, k]), tf.mul(2, tf.matMul(features, tf.tensor2d(transposed, [d, k]))));
    return tf.argMin(scores, 1);
  });
  const out = Int32Array.from(nearest.dataSync() as ArrayLike<number>);
  nearest.dispose();
  return out;
}

function inertiaOf(x: Float64Array, centroids: Float64Array, assignments: Int32Array, n: number, d: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const c = assignments[i] * d;
    for (let j = 0; j < d; j++) {
      const diff = x[i * d + j] - centroids[c + j];
      total += diff * diff;
    }
  }
  return total;
}

/** Moves centroids to their rows' means and re-seeds empty clusters; returns how many were empty. */
function updateCentroids(x: Float64Array, assignments: Int32Array, centroids: Float64Array, n: number, d: number, k: number, rng: Rng): number {
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const c = assignments[i];
    counts[c]++;
    for (let j = 0; j < d; j++) sums[c * d + j] += x[i * d + j];
  }
  for (let c = 0; c < k; c++) {
    if (counts[c] > 0) for (let j = 0; j < d; j++) centroids[c * d + j] = sums[c * d + j] / counts[c];
  }
  let empty = 0;
  for (let c = 0; c < k; c++) {
    if (counts[c] > 0) continue;
    empty++;
    let spare = 0;
    for (let j = 0; j < k; j++) spare += Math.max(counts[j] - 1, 0);
    // k <= n guarantees a cluster with at least 2 rows while one is empty.
    let r = rng.next() * spare;
    let donor = 0;
    for (let j = 0; j < k; j++) {
      const w = Math.max(counts[j] - 1, 0);
      if (w > 0) donor = j;
      if (r < w) break;
      r -= w;
    }
    for (let j = 0; j < d; j++) {
      const v = centroids[donor * d + j];
      const sign = j % 2 === 0 ? 1 : -1;
      centroids[c * d + j] = v * (1 + sign * RESEED_EPSILON);
      centroids[donor * d + j] = v * (1 - sign * RESEED_EPSILON);
    }
    counts[c] = Math.floor(counts[donor] / 2);
    counts[donor] -= counts[c];
  }
  return empty;
}

/** k-means++ seeding: each next centroid is a row drawn with probability proportional to its squared distance to the nearest chosen one. */
function kmeansPlusPlus(x: Float64Array, n: number, d: number, k: number, rng: Rng): Float64Array {
  const centroids = new Float64Array(k * d);
  const chosen = new Uint8Array(n);
  const nearest = new Float64Array(n).fill(Infinity);
  let pick = rng.int(n);
  for (let c = 0; c < k; c++) {
    chosen[pick] = 1;
    centroids.set(x.subarray(pick * d, (pick + 1) * d), c * d);
    if (c === k - 1) break;
    let total = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const diff = x[i * d + j] - x[pick * d + j];
        s += diff * diff;
      }
      if (s < nearest[i]) nearest[i] = s;
      if (!chosen[i]) total += nearest[i];
    }
    pick = -1;
    if (total > 0) {
      let r = rng.next() * total;
      for (let i = 0; i < n; i++) {
        if (chosen[i] || nearest[i] === 0) continue;
        pick = i;
        if (r < nearest[i]) break;
        r -= nearest[i];
      }
    }
    if (pick < 0) {
      // Every row coincides with a chosen centroid: take an unchosen row uniformly.
      let r = rng.int(n - c - 1);
      for (let i = 0; i < n; i++) {
        if (chosen[i]) continue;
        if (r === 0) {
          pick = i;
          break;
        }
        r--;
      }
    }
  }
  return centroids;
}
