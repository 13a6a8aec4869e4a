/**
 * Verification with a siamese network (Bromley et al. 1994): two inputs go
 * through one encoder, and the pair is declared "same" when the distance
 * between the embeddings is below a threshold. The threshold is fitted on
 * training pairs and then applied unchanged to held-out pairs.
 */
import { tf } from "../backend/tf";
import { rowSquaredDistances } from "../losses/ops/distances";

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
