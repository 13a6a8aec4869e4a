/**
 * Agreement of two partitions of the same items, as clustering papers report
 * it (DeepCluster's Fig. 2: clusters against labels, and clusters against
 * the previous epoch's clusters).
 */

/**
 * Normalized mutual information of two labelings of the same items,
 *
 *   NMI(A; B) = I(A; B) / sqrt(H(A) H(B)),
 *
 * the measure of the paper's Fig. 2 (Strehl & Ghosh 2002): 1 when the two
 * partitions are equal up to renaming, 0 when independent. Entropies in
 * nats from the empirical joint distribution (float64). Both labelings
 * constant: 1 (identical partitions); one constant: 0.
 *
 * Shapes: `a`, `b` `[n]` integer labels (any values) -> a number in [0, 1].
 *
 * @example
 * normalizedMutualInformation([0, 0, 1, 1], [1, 1, 0, 0]); // 1
 * normalizedMutualInformation([0, 0, 1, 1], [0, 1, 0, 1]); // 0
 */
export function normalizedMutualInformation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const fn = "normalizedMutualInformation";
  if (a === null || b === null || typeof a?.length !== "number" || typeof b?.length !== "number") throw new Error(`${fn}: a and b must be arrays of labels, got ${typeof a} and ${typeof b}`);
  if (a.length !== b.length) throw new Error(`${fn}: b must have the length of a (${a.length}), got ${b.length}`);
  const n = a.length;
  if (n === 0) throw new Error(`${fn}: a and b must hold at least one label, got 0`);
  const joint = new Map<string, number>();
  const countA = new Map<number, number>();
  const countB = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(a[i]) || !Number.isInteger(b[i])) throw new Error(`${fn}: labels must be integers, got ${a[i]} and ${b[i]} at ${i}`);
    const key = `${a[i]},${b[i]}`;
    joint.set(key, (joint.get(key) ?? 0) + 1);
    countA.set(a[i], (countA.get(a[i]) ?? 0) + 1);
    countB.set(b[i], (countB.get(b[i]) ?? 0) + 1);
  }
  const entropy = (counts: Map<number, number>) => {
    let h = 0;
    for (const c of counts.values()) h -= (c / n) * Math.log(c / n);
    return h;
  };
  const ha = entropy(countA);
  const hb = entropy(countB);
  if (ha === 0 && hb === 0) return 1;
  if (ha === 0 || hb === 0) return 0;
  let mi = 0;
  for (const [key, c] of joint) {
    const [x, y] = key.split(",").map(Number);
    mi += (c / n) * Math.log((c * n) / (countA.get(x)! * countB.get(y)!));
  }
  return Math.min(1, Math.max(0, mi / Math.sqrt(ha * hb)));
}
