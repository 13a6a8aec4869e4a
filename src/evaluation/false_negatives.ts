/**
 * False negatives in a contrastive batch: the "negatives" of an anchor that
 * share its class.
 *
 * SimCLR-style losses treat every other example of the batch as a negative,
 * so with C balanced classes about 1/C of them are of the anchor's class
 * (Chuang et al. 2020, "Debiased Contrastive Learning", call this share tau+).
 * The share does not shrink with batch size, but the number of false
 * negatives per anchor grows with it, and soon nearly every anchor has some.
 */
import { tf } from "../backend/tf";
import { createRng } from "../data/random";
import { Labels, readLabels } from "./labels";
import { checkInteger, checkOptions, checkPositiveInteger, describe } from "../validation/arguments";

/** False-negative counts of one batch (or their expectation). */
export interface FalseNegativeCounts {
  /** Examples in the batch, B. */
  batchSize: number;
  /** Share of (anchor, negative) pairs of distinct examples that are same-class. */
  share: number;
  /** Same-class negatives per anchor, averaged over anchors: share * (B - 1). */
  perAnchor: number;
  /** Share of anchors with at least one same-class negative. */
  anchorsWithAny: number;
}

/**
 * False negatives of one batch from its labels. Each example is an anchor
 * and the other B - 1 examples its negatives (in SimCLR's two-view batch
 * every negative example brings both its views, which doubles the counts and
 * leaves the shares unchanged). With n_c examples of class c:
 *
 *   share = sum_c n_c (n_c - 1) / (B (B - 1))
 *
 * Shapes: `labels` `[B]` integer class labels (tensor or array), B >= 2.
 *
 * @example
 * falseNegativesOfBatch([0, 0, 1, 2]);
 * // { batchSize: 4, share: 2/12, perAnchor: 0.5, anchorsWithAny: 0.5 }
 */
export function falseNegativesOfBatch(labels: Labels): FalseNegativeCounts {
  const fn = "falseNegativesOfBatch";
  const length = labelCount(labels);
  if (length < 2) {
    throw new Error(`${fn}: labels must hold at least two labels, got ${describe(labels)}`);
  }
  return countFalseNegatives(readLabels(labels, length, fn, "labels"));
}

function countFalseNegatives(labels: Int32Array): FalseNegativeCounts {
  const b = labels.length;
  const classCounts = new Map<number, number>();
  for (const label of labels) classCounts.set(label, (classCounts.get(label) ?? 0) + 1);
  let sameClassPairs = 0;
  let anchorsWithAny = 0;
  for (const count of classCounts.values()) {
    sameClassPairs += count * (count - 1);
    if (count > 1) anchorsWithAny += count;
  }
  const share = sameClassPairs / (b * (b - 1));
  return { batchSize: b, share, perAnchor: share * (b - 1), anchorsWithAny: anchorsWithAny / b };
}

/**
 * Expected false negatives of a batch of B examples drawn independently from
 * the class prior p (closed forms):
 *
 *   share          = sum_c p_c^2                        (1/C for C balanced classes)
 *   perAnchor      = (B - 1) sum_c p_c^2
 *   anchorsWithAny = 1 - sum_c p_c (1 - p_c)^(B - 1)
 *
 * Batches drawn without replacement from a finite pool have a slightly lower
 * share, by a relative O(C / poolSize).
 *
 * Shapes: `classPrior` `[C]` non-negative numbers summing to 1.
 *
 * @example
 * expectedFalseNegatives([0.5, 0.5], 3);
 * // { batchSize: 3, share: 0.5, perAnchor: 1, anchorsWithAny: 0.75 }
 */
export function expectedFalseNegatives(classPrior: ArrayLike<number>, batchSize: number): FalseNegativeCounts {
  const fn = "expectedFalseNegatives";
  checkClassPrior(fn, classPrior);
  checkInteger(fn, "batchSize", batchSize);
  if (batchSize < 2) throw new Error(`${fn}: batchSize must be an integer >= 2, got ${batchSize}`);
  let share = 0;
  let noneOfOwnClass = 0;
  for (let c = 0; c < classPrior.length; c++) {
    const p = classPrior[c];
    share += p * p;
    noneOfOwnClass += p * Math.pow(1 - p, batchSize - 1);
  }
  return { batchSize, share, perAnchor: share * (batchSize - 1), anchorsWithAny: 1 - noneOfOwnClass };
}

function checkClassPrior(fn: string, prior: ArrayLike<number>): void {
  if (prior === null || typeof prior !== "object" || typeof prior.length !== "number" || prior.length < 1) {
    throw new Error(`${fn}: classPrior must be a non-empty array of probabilities summing to 1, got ${describe(prior)}`);
  }
  let total = 0;
  for (let c = 0; c < prior.length; c++) {
    const p = prior[c];
    if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
      throw new Error(`${fn}: classPrior[${c}] must be a probability in [0, 1], got ${describe(p)}`);
    }
    total += p;
  }
  if (Math.abs(total - 1) > 1e-6) throw new Error(`${fn}: classPrior must sum to 1, got a sum of ${total}`);
}

/** Options of {@link falseNegativesByBatchSize}. */
export interface FalseNegativesByBatchSizeOptions {
  /** Class labels of the pool batches are drawn from, `[poolSize]`. */
  labels: Labels;
  /** Batch sizes to measure, each an integer in [2, poolSize]. */
  batchSizes: number[];
  /** Batches drawn per batch size; default 200. */
  draws?: number;
  /** Seed of the draws; default 0. */
  seed?: number;
}

/** One row of {@link falseNegativesByBatchSize}: measured means beside the closed form. */
export interface FalseNegativesRow {
  batchSize: number;
  /** Means over the drawn batches. */
  measured: FalseNegativeCounts;
  /** {@link expectedFalseNegatives} at the pool's class frequencies. */
  expected: FalseNegativeCounts;
}

/**
 * False negatives against batch size, for a figure: for each batch size,
 * `draws` batches drawn without replacement from the pool (as a shuffling
 * data loader does), their mean counts, and the closed form at the pool's
 * class frequencies. The share stays near sum_c p_c^2 while the false
 * negatives per anchor grow linearly with B.
 *
 * Shapes: `labels` `[poolSize]` integer class labels.
 *
 * @example
 * const rows = falseNegativesByBatchSize({ labels: mnist.trainLabels, batchSizes: [8, 32, 128, 512], seed: 1 });
 * // rows[3].measured.perAnchor ~ 51 for MNIST's ten classes; rows[3].measured.anchorsWithAny ~ 1
 */
export function falseNegativesByBatchSize(options: FalseNegativesByBatchSizeOptions): FalseNegativesRow[] {
  const fn = "falseNegativesByBatchSize";
  checkOptions(fn, options, "{labels, batchSizes, draws?, seed?}");
  const draws = options.draws ?? 200;
  const seed = options.seed ?? 0;
  const { labels, batchSizes } = options;
  checkPositiveInteger(fn, "options.draws", draws);
  checkInteger(fn, "options.seed", seed);
  const poolSize = labelCount(labels);
  if (poolSize < 2) {
    throw new Error(`${fn}: options.labels must hold at least two labels, got ${describe(labels)}`);
  }
  const pool = readLabels(labels, poolSize, fn, "options.labels");
  if (!Array.isArray(batchSizes) || batchSizes.length < 1) {
    throw new Error(`${fn}: options.batchSizes must be a non-empty array of integers in [2, ${poolSize}], got ${describe(batchSizes)}`);
  }
  batchSizes.forEach((b, i) => {
    if (!Number.isInteger(b) || b < 2 || b > poolSize) {
      throw new Error(`${fn}: options.batchSizes[${i}] must be an integer in [2, ${poolSize}], got ${describe(b)}`);
    }
  });
  const prior = classFrequencies(pool);
  const rng = createRng(seed);
  return batchSizes.map((batchSize) => {
    const sum = { share: 0, perAnchor: 0, anchorsWithAny: 0 };
    const batch = new Int32Array(batchSize);
    const order = Int32Array.from({ length: poolSize }, (_, i) => i);
    for (let d = 0; d < draws; d++) {
      // The first batchSize steps of a Fisher-Yates shuffle: a uniform draw without replacement.
      for (let k = 0; k < batchSize; k++) {
        const pick = k + rng.int(poolSize - k);
        const chosen = order[pick];
        order[pick] = order[k];
        order[k] = chosen;
        batch[k] = pool[chosen];
      }
      const counts = countFalseNegatives(batch);
      sum.share += counts.share;
      sum.perAnchor += counts.perAnchor;
      sum.anchorsWithAny += counts.anchorsWithAny;
    }
    return {
      batchSize,
      measured: {
        batchSize,
        share: sum.share / draws,
        perAnchor: sum.perAnchor / draws,
        anchorsWithAny: sum.anchorsWithAny / draws,
      },
      expected: expectedFalseNegatives(prior, batchSize),
    };
  });
}

function classFrequencies(labels: Int32Array): number[] {
  let numClasses = 0;
  for (const label of labels) numClasses = Math.max(numClasses, label + 1);
  const counts = new Array<number>(numClasses).fill(0);
  for (const label of labels) counts[label]++;
  return counts.map((count) => count / labels.length);
}

/** Number of labels in a tensor or array (-1 when it is neither), for the checks. */
function labelCount(labels: unknown): number {
  if (labels instanceof tf.Tensor) return labels.rank === 1 ? labels.shape[0] : -1;
  if (labels !== null && typeof labels === "object" && Number.isInteger((labels as ArrayLike<number>).length)) {
    return (labels as ArrayLike<number>).length;
  }
  return -1;
}
