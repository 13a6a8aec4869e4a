/**
 * Training methods: each supplies the loss (and batches) of one
 * self-supervised method for the shared training loop (`training.train`).
 */
export { fitDistanceThreshold, pairDistances, verificationAccuracy } from "./siamese";
export {
  cbowBatches,
  cbowLoss,
  createWord2Vec,
  noiseDistribution,
  noiseTable,
  skipGramBatches,
  skipGramLoss,
  skipGramPairs,
  subsampleCorpus,
  subsampleKeepProbabilities,
} from "./word2vec";
export type {
  CbowBatch,
  NoiseOptions,
  SkipGramBatch,
  SkipGramPairs,
  SubsampleOptions,
  SubsampleVariant,
  Word2VecBatchOptions,
  Word2VecModel,
  Word2VecOptions,
} from "./word2vec";
export { createGlove, gloveBatches, gloveLoss, gloveVectors, gloveWeight } from "./glove";
export type { GloveBatch, GloveBatchOptions, GloveModel, GloveOptions } from "./glove";
export { contrastiveDivergenceLoss, stopGradient } from "./contrastive_divergence";
export type { ContrastiveDivergenceOptions } from "./contrastive_divergence";
export { bernoulliCrossEntropy, denoisingErrors, denoisingLoss } from "./denoising_autoencoder";
export type { DenoisingErrors } from "./denoising_autoencoder";
export { pca, pcaTransform } from "./pca";
export type { PcaResult, RowsInput } from "./pca";
export { classicalMds, pairwiseDistances } from "./mds";
export type { ClassicalMdsOptions, ClassicalMdsResult } from "./mds";
export { lle, lleWeights } from "./lle";
export type { LleOptions, LleResult, LleWeights } from "./lle";
export { createMahalanobisMetric, mahalanobisLoss, mahalanobisMatrix, mahalanobisTransform, pairDifferences } from "./mahalanobis";
export type { MahalanobisMetricOptions } from "./mahalanobis";
export { kmeans } from "./kmeans";
export type { KmeansOptions, KmeansResult } from "./kmeans";
export { sinkhorn } from "./sinkhorn";
export type { SinkhornOptions } from "./sinkhorn";
