/**
 * Classical methods the tutorial builds on: PCA, classical MDS, LLE,
 * k-means and a learned Mahalanobis metric (float64, plain TypeScript or
 * through the training loop).
 */
export { pca, pcaTransform } from "./pca";
export type { PcaResult, RowsInput } from "./pca";
export { classicalMds, distanceMatrix } from "./mds";
export type { ClassicalMdsOptions, ClassicalMdsResult } from "./mds";
export { lle, lleWeights } from "./lle";
export type { LleOptions, LleResult, LleWeights } from "./lle";
export { createMahalanobisMethod, createMahalanobisMetric, mahalanobisLoss, mahalanobisMatrix, mahalanobisTransform, pairDifferences } from "./mahalanobis";
export type { MahalanobisMetricOptions, PairDifferences } from "./mahalanobis";
export { kmeans } from "./kmeans";
export type { KmeansOptions, KmeansResult } from "./kmeans";
