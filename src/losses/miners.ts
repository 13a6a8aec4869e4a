/**
 * Hard-negative miners: pick which triplets or pairs of a batch the triplet
 * and contrastive losses train on. Pure index selection, no gradient: the
 * caller gathers the rows with `tf.gather` and the loss differentiates those.
 */
import { tf } from "../backend/tf";
import { checkMatrix, checkNonNegativeNumber, checkOneOf, checkVector } from "../validation/arguments";

/** Triplets as row indices into the batch, all of equal length. */
export interface MinedTriplets {
  anchor: Int32Array;
  positive: Int32Array;
  negative: Int32Array;
}

/** Pairs as row indices into the batch, with `same` 1 (same label) or 0, all of equal length. */
export interface MinedPairs {
  first: Int32Array;
  second: Int32Array;
  same: Float32Array;
}

/** Options of {@link mineTriplets}. */
export interface MineTripletsOptions {
  /** "all" triplets, batch-"hardest" per anchor, or FaceNet "semi-hard" per positive pair. */
  strategy: "all" | "hardest" | "semi-hard";
  /** Width of the semi-hard window d(a,p) < d(a,n) < d(a,p) + margin; default 0.2 like tripletLoss. */
  margin?: number;
  /**
   * Distance the window is measured in; default "squared" (squared Euclidean), which is what
   * tripletLoss compares with its margin. Only "semi-hard" depends on it (orderings do not).
   */
  distance?: "euclidean" | "squared";
}

/** Options of {@link minePairs}. */
export interface MinePairsOptions {
  /** "all" unordered pairs, or per anchor its "hardest" positive and negative. */
  strategy: "all" | "hardest";
  /**
   * With "hardest": drop mined negatives at Euclidean distance >= margin, which add 0 to
   * contrastiveLoss with that margin. Default: keep them all.
   */
  margin?: number;
}

const TRIPLET_STRATEGIES = ["all", "hardest", "semi-hard"] as const;
const PAIR_STRATEGIES = ["all", "hardest"] as const;
const DISTANCES = ["euclidean", "squared"] as const;

/**
 * Float64 squared distances `[batch * batch]` (row-major) computed as differences, as
 * rowSquaredDistances (which tripletLoss uses) does: exact zeros for equal rows and no
 * cancellation from the |a|^2 - 2ab + |b|^2 expansion, so mined inequalities hold as stated.
 */
function squaredDistances(embeddings: tf.Tensor2D): Float64Array {
  const [b, d] = embeddings.shape;
  const x = embeddings.dataSync();
  const out = new Float64Array(b * b);
  for (let i = 0; i < b; i++) {
    for (let j = i + 1; j < b; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const diff = x[i * d + k] - x[j * d + k];
        s += diff * diff;
      }
      out[i * b + j] = s;
      out[j * b + i] = s;
    }
  }
  return out;
}

function validateBatch(fn: string, embeddings: unknown, labels: unknown): Int32Array {
  checkMatrix(fn, "embeddings", embeddings, undefined, undefined, "float32");
  checkVector(fn, "labels", labels, embeddings.shape[0], "int32");
  return labels.dataSync() as Int32Array;
}

/**
 * Mines triplets (anchor, positive, negative) of a labelled batch for tripletLoss.
 *
 * - "all": every (a, p, n) with y_a = y_p, a != p, y_n != y_a.
 * - "hardest" (batch-hard; Hermans, Beyer, Leibe 2017, "In Defense of the Triplet Loss"):
 *   one triplet per anchor that has a positive and a negative: its farthest positive and
 *   its nearest negative.
 * - "semi-hard" (Schroff, Kalenichenko, Philbin 2015, FaceNet): one triplet per positive
 *   pair (a, p): the nearest negative with d(a,p) < d(a,n) < d(a,p) + margin. Pairs with no
 *   such negative are skipped (they are either already satisfied by every negative or only
 *   have hard negatives, which FaceNet avoids early in training).
 *
 * d is the squared Euclidean distance by default (what tripletLoss compares), or Euclidean
 * with `distance: "euclidean"`. Ties go to the lower row index. Distances are read once
 * from the embeddings and computed in float64; no tensor is created or kept.
 *
 * Batches where nothing can be mined (one label only, labels without a second member)
 * return empty arrays; tripletLoss rejects an empty batch, so check `.anchor.length`.
 *
 * Shapes: `embeddings` `[batch, dim]` float32, `labels` `[batch]` int32 -> Int32Array indices.
 *
 * @example
 * const t = mineTriplets(emb, labels, { strategy: "semi-hard", margin: 0.2 });
 * if (t.anchor.length > 0) {
 *   const loss = tripletLoss(tf.gather(emb, t.anchor), tf.gather(emb, t.positive),
 *     tf.gather(emb, t.negative), { margin: 0.2 });
 * }
 */
export function mineTriplets(
  embeddings: tf.Tensor2D,
  labels: tf.Tensor1D,
  options: MineTripletsOptions,
): MinedTriplets {
  const fn = "mineTriplets";
  if (options === null || typeof options !== "object") {
    throw new Error(`${fn}: options must be an object with a strategy, got ${String(options)}`);
  }
  checkOneOf(fn, "options.strategy", options.strategy, TRIPLET_STRATEGIES);
  const distance = options.distance ?? "squared";
  checkOneOf(fn, "options.distance", distance, DISTANCES);
  const margin = options.margin ?? 0.2;
  checkNonNegativeNumber(fn, "options.margin", margin);
  const y = validateBatch(fn, embeddings, labels);
  const b = y.length;
  const d2 = squaredDistances(embeddings);
  const dist = distance === "squared" ? d2 : d2.map(Math.sqrt);

  const anchor: number[] = [];
  const positive: number[] = [];
  const negative: number[] = [];
  for (let a = 0; a < b; a++) {
    const row = a * b;
    if (options.strategy === "hardest") {
      let p = -1;
      let n = -1;
      for (let j = 0; j < b; j++) {
        if (j === a) continue;
        if (y[j] === y[a]) {
          if (p < 0 || dist[row + j] > dist[row + p]) p = j;
        } else if (n < 0 || dist[row + j] < dist[row + n]) {
          n = j;
        }
      }
      if (p >= 0 && n >= 0) {
        anchor.push(a);
        positive.push(p);
        negative.push(n);
      }
      continue;
    }
    for (let p = 0; p < b; p++) {
      if (p === a || y[p] !== y[a]) continue;
      const dap = dist[row + p];
      if (options.strategy === "all") {
        for (let n = 0; n < b; n++) {
          if (y[n] === y[a]) continue;
          anchor.push(a);
          positive.push(p);
          negative.push(n);
        }
        continue;
      }
      let best = -1;
      for (let n = 0; n < b; n++) {
        if (y[n] === y[a]) continue;
        const dan = dist[row + n];
        if (dan > dap && dan < dap + margin && (best < 0 || dan < dist[row + best])) best = n;
      }
      if (best >= 0) {
        anchor.push(a);
        positive.push(p);
        negative.push(best);
      }
    }
  }
  return { anchor: Int32Array.from(anchor), positive: Int32Array.from(positive), negative: Int32Array.from(negative) };
}

/**
 * Mines pairs of a labelled batch for contrastiveLoss (Chopra, Hadsell, LeCun 2005).
 *
 * - "all": every unordered pair i < j, `same` = 1 where the labels agree.
 * - "hardest": per anchor i, its farthest positive (same 1) if it has one and its nearest
 *   negative (same 0) if it has one, by Euclidean distance (what contrastiveLoss uses).
 *   A pair can appear twice, as (i, j) and (j, i). With `margin`, mined negatives at
 *   distance >= margin are dropped: they contribute 0 to contrastiveLoss with that margin.
 *
 * Ties go to the lower row index. Batches with nothing to mine (a single row; "hardest"
 * with every negative dropped and no positives) return empty arrays; contrastiveLoss
 * rejects an empty batch, so check `.first.length`.
 *
 * Shapes: `embeddings` `[batch, dim]` float32, `labels` `[batch]` int32 -> indices and
 * `same` of equal length.
 *
 * @example
 * const p = minePairs(emb, labels, { strategy: "hardest", margin: 1 });
 * const loss = contrastiveLoss(tf.gather(emb, p.first), tf.gather(emb, p.second),
 *   tf.tensor1d(p.same), { margin: 1 });
 */
export function minePairs(embeddings: tf.Tensor2D, labels: tf.Tensor1D, options: MinePairsOptions): MinedPairs {
  const fn = "minePairs";
  if (options === null || typeof options !== "object") {
    throw new Error(`${fn}: options must be an object with a strategy, got ${String(options)}`);
  }
  checkOneOf(fn, "options.strategy", options.strategy, PAIR_STRATEGIES);
  if (options.margin !== undefined) checkNonNegativeNumber(fn, "options.margin", options.margin);
  const y = validateBatch(fn, embeddings, labels);
  const b = y.length;

  const first: number[] = [];
  const second: number[] = [];
  const same: number[] = [];
  if (options.strategy === "all") {
    for (let i = 0; i < b; i++) {
      for (let j = i + 1; j < b; j++) {
        first.push(i);
        second.push(j);
        same.push(y[i] === y[j] ? 1 : 0);
      }
    }
  } else {
    const d2 = squaredDistances(embeddings);
    const limit = options.margin === undefined ? Infinity : options.margin * options.margin;
    for (let i = 0; i < b; i++) {
      const row = i * b;
      let p = -1;
      let n = -1;
      for (let j = 0; j < b; j++) {
        if (j === i) continue;
        if (y[j] === y[i]) {
          if (p < 0 || d2[row + j] > d2[row + p]) p = j;
        } else if (n < 0 || d2[row + j] < d2[row + n]) {
          n = j;
        }
      }
      if (p >= 0) {
        first.push(i);
        second.push(p);
        same.push(1);
      }
      // Compared squared: d >= margin <=> d^2 >= margin^2 for d, margin >= 0.
      if (n >= 0 && d2[row + n] < limit) {
        first.push(i);
        second.push(n);
        same.push(0);
      }
    }
  }
  return { first: Int32Array.from(first), second: Int32Array.from(second), same: Float32Array.from(same) };
}
