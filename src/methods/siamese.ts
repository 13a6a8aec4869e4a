/**
 * Siamese networks (Bromley et al. 1994): two (or three) inputs go through
 * one encoder with shared weights. Training pulls same-label pairs together
 * and pushes others apart, with the contrastive loss (Chopra, Hadsell & LeCun
 * 2005) or the triplet loss (Schroff, Kalenichenko & Philbin 2015).
 * Verification declares a pair "same" when the distance between the
 * embeddings is below a threshold, fitted on training pairs and then applied
 * unchanged to held-out pairs.
 */
import { tf } from "../backend/tf";
import type { PairBatch, TripletBatch } from "../data/image_batches";
import { contrastiveLoss } from "../losses/contrastive";
import { rowSquaredDistances } from "../losses/ops/distances";
import { tripletLoss } from "../losses/triplet";
import type { Method } from "./method";

/** Options of {@link createSiameseContrastive} and {@link createSiameseTriplet}. */
export interface SiameseOptions {
  /** The shared encoder (e.g. `models.mlpHead`), `[N, D]` -> `[N, dim]`; it stays the caller's. */
  encoder: tf.LayersModel;
  /** The margin: epsilon of the contrastive loss (default 1), alpha of the triplet loss (default 0.2). */
  margin?: number;
}

/** A siamese net as a {@link Method}, with the encoder it trains. */
export interface SiameseMethod<B> extends Method<B> {
  /** The shared encoder. */
  readonly encoder: tf.LayersModel;
  /** The loss's margin. */
  readonly margin: number;
}

function checkSiameseOptions(fn: string, options: SiameseOptions, defaultMargin: number): { encoder: tf.LayersModel; margin: number } {
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object {encoder, margin?}, got ${options}`);
  const { encoder } = options;
  if (!(encoder instanceof tf.LayersModel)) {
    throw new Error(`${fn}: options.encoder must be a tf.LayersModel, got ${encoder === null ? "null" : typeof encoder}`);
  }
  const margin = options.margin ?? defaultMargin;
  if (!(Number.isFinite(margin) && margin > 0)) throw new Error(`${fn}: options.margin must be a finite number > 0, got ${margin}`);
  return { encoder, margin };
}

/** The encoder's outputs for `x`, split into `parts` equal blocks of rows. */
function embedParts(where: string, encoder: tf.LayersModel, x: tf.Tensor2D, parts: number): tf.Tensor2D[] {
  if (x.rank < 2 || x.shape[0] % parts !== 0 || x.shape[0] === 0) {
    throw new Error(`${where}: batch.x must have shape [${parts} * B, ...] with B >= 1, got [${x.shape.join(", ")}]`);
  }
  // One pass of the shared encoder over all sides, then split.
  return tf.split(encoder.apply(x, { training: true }) as tf.Tensor2D, parts) as tf.Tensor2D[];
}

/**
 * A siamese net trained with the contrastive loss (Chopra, Hadsell & LeCun
 * 2005) for `training.train`:
 *
 *   L = mean_i same_i d_i^2 + (1 - same_i) max(0, margin - d_i)^2,  d_i = |f(x1_i) - f(x2_i)|.
 *
 * `dispose()` frees nothing: the encoder was passed in.
 *
 * Shapes: batch `x` `[2B, D]` (first sides, then second sides), `same` `[B]` -> scalar loss `[]`.
 *
 * @example
 * const encoder = models.mlpHead({ inputDim: 784, hidden: [256, 128], outputDim: 2, seed: 1 });
 * const siamese = methods.createSiameseContrastive({ encoder, margin: 1 });
 * await training.train({ ...siamese, optimizer: training.adam(1e-3), batches: data.pairBatches(mnist.train, { batchSize: 128 }), steps: 600 });
 */
export function createSiameseContrastive(options: SiameseOptions): SiameseMethod<PairBatch> {
  const { encoder, margin } = checkSiameseOptions("createSiameseContrastive", options, 1);
  return siameseMethod("siamese, contrastive loss", encoder, margin, (batch: PairBatch) => {
    const [z1, z2] = embedParts("SiameseContrastive.loss", encoder, batch.x, 2);
    return contrastiveLoss(z1, z2, batch.same, { margin });
  });
}

/**
 * A siamese (triplet) net trained with the triplet loss (Schroff,
 * Kalenichenko & Philbin 2015) for `training.train`:
 *
 *   L = mean_i max(0, |f(a_i) - f(p_i)|^2 - |f(a_i) - f(n_i)|^2 + margin).
 *
 * `dispose()` frees nothing: the encoder was passed in.
 *
 * Shapes: batch `x` `[3B, D]` (anchors, positives, negatives) -> scalar loss `[]`.
 *
 * @example
 * const siamese = methods.createSiameseTriplet({ encoder, margin: 1 });
 * await training.train({ ...siamese, optimizer: training.adam(1e-3), batches: data.tripletBatches(mnist.train, { batchSize: 128 }), steps: 600 });
 */
export function createSiameseTriplet(options: SiameseOptions): SiameseMethod<TripletBatch> {
  const { encoder, margin } = checkSiameseOptions("createSiameseTriplet", options, 0.2);
  return siameseMethod("siamese, triplet loss", encoder, margin, (batch: TripletBatch) => {
    const [a, p, n] = embedParts("SiameseTriplet.loss", encoder, batch.x, 3);
    return tripletLoss(a, p, n, { margin });
  });
}

/**
 * Euclidean distance between the rows of two embedding matrices.
 *
 * Shapes: `a`, `b` `[pairs, dim]` -> `Float32Array` `[pairs]`.
 *
 * @example
 * const d = pairDistances(encode(x1), encode(x2));
 */
export function pairDistances(a: tf.Tensor2D, b: tf.Tensor2D): Float32Array {
  const fn = "pairDistances";
  if (a.rank !== 2) throw new Error(`${fn}: a must have shape [pairs, dim], got [${a.shape.join(", ")}]`);
  if (b.rank !== 2 || b.shape[0] !== a.shape[0] || b.shape[1] !== a.shape[1]) {
    throw new Error(`${fn}: b must have shape [${a.shape.join(", ")}], got [${b.shape.join(", ")}]`);
  }
  const d = tf.tidy(() => tf.sqrt(rowSquaredDistances(a, b)));
  const out = d.dataSync() as Float32Array;
  d.dispose();
  return Float32Array.from(out);
}

function checkPairs(fn: string, distances: ArrayLike<number>, same: ArrayLike<number>): void {
  if (distances.length === 0) throw new Error(`${fn}: distances must not be empty`);
  if (same.length !== distances.length) {
    throw new Error(`${fn}: same must have length ${distances.length}, got ${same.length}`);
  }
  for (let i = 0; i < distances.length; i++) {
    if (!Number.isFinite(distances[i])) throw new Error(`${fn}: distances[${i}] must be finite, got ${distances[i]}`);
    if (same[i] !== 0 && same[i] !== 1) throw new Error(`${fn}: same[${i}] must be 0 or 1, got ${same[i]}`);
  }
}

/**
 * The fraction of pairs classified right by "same iff distance < threshold".
 *
 * Shapes: `distances`, `same` (0/1) `[pairs]` -> number in [0, 1].
 *
 * @example
 * verificationAccuracy([0.1, 2], [1, 0], 1); // 1
 */
export function verificationAccuracy(distances: ArrayLike<number>, same: ArrayLike<number>, threshold: number): number {
  const fn = "verificationAccuracy";
  checkPairs(fn, distances, same);
  if (Number.isNaN(threshold)) throw new Error(`${fn}: threshold must be a number, got NaN`);
  let right = 0;
  for (let i = 0; i < distances.length; i++) if ((distances[i] < threshold ? 1 : 0) === same[i]) right++;
  return right / distances.length;
}

/**
 * The threshold that maximises {@link verificationAccuracy} on the given
 * (training) pairs: every midpoint between consecutive distinct sorted
 * distances is tried, and below/above all of them. Ties go to the smallest
 * such threshold.
 *
 * Shapes: `distances`, `same` (0/1) `[pairs]` -> `{ threshold, accuracy }`.
 *
 * @example
 * const { threshold } = fitDistanceThreshold(trainDistances, trainPairs.same);
 * const testAccuracy = verificationAccuracy(testDistances, testPairs.same, threshold);
 */
export function fitDistanceThreshold(
  distances: ArrayLike<number>,
  same: ArrayLike<number>,
): { threshold: number; accuracy: number } {
  checkPairs("fitDistanceThreshold", distances, same);
  const n = distances.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((i, j) => distances[i] - distances[j]);
  // Threshold below every distance: everything is "different".
  let right = 0;
  for (let i = 0; i < n; i++) if (same[i] === 0) right++;
  let best = right;
  let threshold = distances[idx[0]] - 1;
  for (let k = 0; k < n; k++) {
    // Moving the threshold past idx[k] turns it "same".
    right += same[idx[k]] === 1 ? 1 : -1;
    if (k + 1 < n && distances[idx[k + 1]] === distances[idx[k]]) continue;
    if (right > best) {
      best = right;
      threshold = k + 1 < n ? (distances[idx[k]] + distances[idx[k + 1]]) / 2 : distances[idx[k]] + 1;
    }
  }
  return { threshold, accuracy: best / n };
}

/** The parts both siamese methods share: one encoder, trained as is; items are the rows of `x`. */
function siameseMethod<B extends { x: tf.Tensor2D }>(
  name: string,
  encoder: tf.LayersModel,
  margin: number,
  loss: (batch: B) => tf.Tensor,
): SiameseMethod<B> {
  return {
    name,
    encoder,
    margin,
    trainable: [encoder],
    loss,
    itemsPerBatch: (batch) => batch.x.shape[0],
    dispose() {
      // The encoder is the caller's; the method creates nothing of its own.
    },
  };
}
