/**
 * Evaluation of frozen representations: features, linear probe, kNN, and
 * the comparison against raw inputs and a random-init encoder.
 */
export { extractFeatures, flattenInputs } from "./features";
export type { FeatureExtractor, ExtractFeaturesOptions } from "./features";
export { linearProbe } from "./linear_probe";
export type { LinearProbeOptions, LinearProbeRecipe, LinearProbeResult } from "./linear_probe";
export { knnClassify, knnPredict } from "./knn";
export type { KnnOptions, KnnResult } from "./knn";
export { evaluateRepresentation } from "./baselines";
export type { EvaluateRepresentationOptions, EvaluationRow, FrozenEvaluationOptions, LabelledSplit } from "./baselines";
export { readLabels, scorePredictions } from "./labels";
export type { Labels } from "./labels";
export { recallAtK } from "./retrieval";
export type { RecallAtKOptions, RecallAtKResult } from "./retrieval";
export { nearestNeighbours, pairCosines, rocAuc, synonymAuc, synonymBenchmark } from "./word_similarity";
export type { NearestNeighbourOptions, SynonymAucResult, SynonymBenchmark, SynonymBenchmarkOptions, WordPairs } from "./word_similarity";
export { alignment, alignmentUniformity, uniformity } from "./alignment_uniformity";
export type { AlignmentOptions, AlignmentUniformityOptions, AlignmentUniformityResult, UniformityOptions } from "./alignment_uniformity";
export { effectiveRank, featureSpectrum } from "./spectrum";
export type { FeatureSpectrum, FeatureSpectrumOptions } from "./spectrum";
export { representationDiagnostics } from "./diagnostics";
export type { RepresentationDiagnostics, RepresentationDiagnosticsOptions } from "./diagnostics";
export { normalizedMutualInformation } from "./mutual_information";
export { DEFAULT_LABELS_PER_CLASS, labelEfficiency, labelSubsets, sampleLabelsPerClass } from "./label_efficiency";
export type { DrawSpread, FeatureSplit, LabelBudget, LabelEfficiencyOptions, LabelEfficiencyPoint, LabelSubsets } from "./label_efficiency";
export { supervisedFewLabels } from "./supervised_few_labels";
export type { SupervisedFewLabelsOptions, SupervisedFewLabelsPoint } from "./supervised_few_labels";
export { fitCharNgram, ngramBitsPerChar, ngramDistribution } from "./char_ngram";
export type { CharNgram, CharNgramOptions } from "./char_ngram";
export { layerFeatures } from "./layer_features";
export type { LayerFeaturesOptions } from "./layer_features";
export { promptEnsemble, zeroShotClassify, crossModalRecall } from "./zero_shot";
export type { ZeroShotResult, CrossModalRecallOptions, CrossModalRecallResult } from "./zero_shot";
export { falseNegativesOfBatch, expectedFalseNegatives, falseNegativesByBatchSize } from "./false_negatives";
export type { FalseNegativeCounts, FalseNegativesRow, FalseNegativesByBatchSizeOptions } from "./false_negatives";
export { weat, weatEffectSize, weatPermutationTest, wordCoverage } from "./weat";
export type { WordIndex, WordCoverage, WeatLists, WeatOptions, WeatResult, PermutationTestResult } from "./weat";
export { biasDirection, biasProjections, neutralize, equalize, pairCoverage } from "./debias";
export type { BiasDirection, PairCoverage } from "./debias";
export { tsneAffinities, tsneKlDivergence, tsneProjection, TSNE_MAX_POINTS } from "./tsne";
export type { TsneAffinities, TsneOptions, TsneResult } from "./tsne";
export { umapProjection } from "./umap";
export type { UmapOptions, UmapResult } from "./umap";
export type { FeatureRows } from "./projection_input";
export { readProjectorFiles, writeProjectorFiles } from "./projector_export";
export type { ProjectorData, ProjectorExport, ProjectorMetadata, ProjectorPaths } from "./projector_export";
