/**
 * Test data and a float64 reference score for 2-D projections.
 */
import { createRng } from "../../src/data/random";

/** `clusters` Gaussian blobs (std 1) of `perCluster` points in `dim` dimensions, centres 10 apart along separate axes. */
export function gaussianClusters(clusters: number, perCluster: number, dim: number, seed: number): { values: Float32Array; labels: number[]; n: number } {
  const rng = createRng(seed);
  const n = clusters * perCluster;
  const values = new Float32Array(n * dim);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % clusters;
    labels.push(c);
    for (let k = 0; k < dim; k++) values[i * dim + k] = (k === c ? 10 : 0) + rng.normal();
  }
  return { values, labels, n };
}

/** Mean over points of the share of their k nearest other points (Euclidean, brute force) with the same label. */
export function neighbourLabelAgreement(points: readonly (readonly number[])[], labels: readonly number[], k: number): number {
  let total = 0;
  for (let i = 0; i < points.length; i++) {
    const order = points
      .map((p, j) => ({ j, d: j === i ? Infinity : p.reduce((s, v, a) => s + (v - points[i][a]) ** 2, 0) }))
      .sort((a, b) => a.d - b.d)
      .slice(0, k);
    total += order.filter(({ j }) => labels[j] === labels[i]).length / k;
  }
  return total / points.length;
}
