/**
 * Training methods: each supplies the loss (and batches) of one
 * self-supervised method for the shared training loop (`training.train`).
 */
export type { Method } from "./method";
export { createSiameseContrastive, createSiameseTriplet, fitDistanceThreshold, pairDistances, verificationAccuracy } from "./siamese";
export type { SiameseMethod, SiameseOptions } from "./siamese";
export { createAutoregressive } from "./autoregressive";
export type { AutoregressiveMethod, AutoregressiveOptions } from "./autoregressive";
export {
  cbowBatches,
  cbowLoss,
  createCbow,
  createSkipGram,
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
  Word2VecMethod,
  Word2VecModel,
  Word2VecOptions,
} from "./word2vec";
export { createGlove, gloveBatches, gloveLoss, gloveVectors, gloveWeight } from "./glove";
export type { GloveBatch, GloveBatchOptions, GloveModel, GloveOptions } from "./glove";
export { contrastiveDivergenceLoss, createContrastiveDivergence } from "./contrastive_divergence";
export type { ContrastiveDivergenceMethod, ContrastiveDivergenceMethodOptions, ContrastiveDivergenceOptions } from "./contrastive_divergence";
export { bernoulliCrossEntropy, createDenoisingAutoencoder, denoisingErrors, denoisingLoss } from "./denoising_autoencoder";
export type { DenoisingAutoencoderMethod, DenoisingAutoencoderOptions, DenoisingErrors } from "./denoising_autoencoder";
export { sinkhorn } from "./sinkhorn";
export type { SinkhornOptions } from "./sinkhorn";
export { createSupCon } from "./vision/supcon";
export type { SupConMethodOptions } from "./vision/supcon";
export { createInstDisc } from "./vision/instdisc";
export type { InstDiscMethod, InstDiscOptions } from "./vision/instdisc";
export { createNnclr } from "./vision/nnclr";
export type { NnclrMethod, NnclrOptions } from "./vision/nnclr";
export { createCpc, cpcPatches, CPC_GRID, CPC_PATCH, CPC_STRIDE } from "./vision/cpc";
export type { CpcMethod, CpcOptions } from "./vision/cpc";
export type { VisionBatch, VisionMethod } from "./vision/method";
export { createSimclr } from "./vision/simclr";
export { createIMix } from "./vision/i_mix";
export type { IMixMethodOptions } from "./vision/i_mix";
export { normalizedStd, positiveAccuracy } from "./vision/collapse";
export type { SimclrOptions } from "./vision/simclr";
export type { VisionMethodOptions } from "./vision/checks";
export { createByol } from "./vision/byol";
export type { Byol, ByolOptions } from "./vision/byol";
export { createSimsiam } from "./vision/simsiam";
export type { SimsiamOptions } from "./vision/simsiam";
export { createBarlowTwins } from "./vision/barlow_twins";
export type { BarlowTwinsMethodOptions } from "./vision/barlow_twins";
export { createMoco } from "./vision/moco";
export type { Moco, MocoMochiOptions, MocoOptions } from "./vision/moco";
export { visionBatches } from "./vision/batches";
export type { VisionBatchesOptions } from "./vision/batches";
export { createSwav } from "./vision/swav";
export type { Swav, SwavOptions } from "./vision/swav";
export { createDeepCluster } from "./vision/deepcluster";
export type { DeepClusterMethod, DeepClusterOptions, DeepClusterRecord } from "./vision/deepcluster";
export { visionComparison } from "./vision/comparison";
export type { ComparisonRow, VisionComparison, VisionComparisonOptions, VisionRunOptions } from "./vision/comparison";
export { createMae, maskedPatchLoss, meanPatchBaselineMse, NORMALIZE_EPSILON } from "./vision/mae";
export type { MaeDecoder, MaeMethod, MaeOptions, MaeReconstruction, MaskedPatchLossOptions, MeanPatchBaselineOptions } from "./vision/mae";
export { createPixelCnnMethod, pixelCnnNll, independentPixelNll } from "./vision/pixel_cnn";
export type { PixelCnnMethod, PixelCnnMethodOptions, PixelCnnNllOptions } from "./vision/pixel_cnn";
export { createVqVae, createCodePrior, codeGridBatches } from "./vision/vq_vae";
export type { VqVae, VqVaeOptions, CodeUsage, CodePrior, CodePriorOptions, CodeGridBatchesOptions } from "./vision/vq_vae";
export { createCausalLm, evaluateCausalLm, sampleCausalLm, nextTokenNll } from "./language/causal_lm";
export type { CausalLmBatch, CausalLmOptions, CausalLmModelOptions, CausalLmMethod, EvaluateCausalLmOptions, SampleCausalLmOptions } from "./language/causal_lm";
export { createContextEncoder, spatialDecoder, regionMask, maskedRegionMse, meanRegionBaselineMse } from "./vision/context_encoder";
export type { ContextEncoderOptions, ContextEncoderMethod, Inpainting, RegionMaskOptions, RegionPlacement, SpatialDecoderOptions } from "./vision/context_encoder";
export { createColorization, colorDecoder, chromaBins, chromaBinCentres, chromaBinCount, colorRebalanceWeights, rebalancedColorLoss, annealedMean, meanColorBaselineMse } from "./vision/colorization";
export type { ColorizationOptions, ColorizationMethod, ColorDecoderOptions, ChromaGrid, RebalanceOptions, ColorBaseline } from "./vision/colorization";
export { createMaskedLm, maskedCrossEntropy, maskedAccuracyOf, maskedLmBatches, maskedTokenAccuracy, unigramMaskedAccuracy, mostFrequentToken, pooledEmbeddings } from "./language/masked_lm";
export type { MaskedLmBatch, MaskingOptions, MaskedLmOptions, MaskedLmMethod, MaskedEvaluationOptions, MaskedTokenAccuracy, PooledEmbeddingOptions } from "./language/masked_lm";
export { createPretextClassifier, createRotNet, createRelativePosition, createJigsaw } from "./vision/pretext_classifier";
export type { PretextClassifierOptions, PretextTask, RelativePositionMethodOptions, JigsawMethodOptions } from "./vision/pretext_classifier";
export { createCounting, countingLoss, quadrantTiles, downsampleByTwo, otherImages } from "./vision/counting";
export type { CountingOptions, CountingLossOptions } from "./vision/counting";
export { createClip, clipLoss, clipBatches, MAX_LOGIT_SCALE } from "./multimodal/clip";
export type { ClipOptions, ClipMethod, ClipBatch, ClipBatchesOptions, ClipLossFunction } from "./multimodal/clip";
export { createCola, colaBatches, embedRecordings, bilinearContrastiveLoss } from "./audio/cola";
export type { ColaBatch, ColaOptions, ColaMethod, ColaBatchesOptions, EmbedRecordingsOptions } from "./audio/cola";
export { createFrameEncoder } from "./video/method";
export type { VideoMethod, FrameEncoderOptions } from "./video/method";
export { createOrderVerification } from "./video/order_verification";
export { createArrowOfTime } from "./video/arrow_of_time";
export type { ArrowOfTimeMethodOptions } from "./video/arrow_of_time";
export { createTimeContrastive } from "./video/time_contrastive";
export type { TimeContrastiveMethodOptions } from "./video/time_contrastive";
export type { FrameSequenceClassifier, FrameSequenceClassifierOptions } from "./video/sequence_classifier";
export { createSimcse, simcseLoss } from "./language/simcse";
export type { SimcseOptions, SimcseMethod, SimcseViews } from "./language/simcse";
export { createQuickThought, quickThoughtLoss, quickThoughtEmbeddings } from "./language/quick_thought";
export type { QuickThoughtOptions, QuickThoughtMethod } from "./language/quick_thought";
export { mochiNegatives, infoNceWithSynthetic, negativeSimilarities } from "./vision/mochi";
export type { MochiNegativesOptions, InfoNceWithSyntheticOptions, NegativeSimilarities } from "./vision/mochi";
export { createUda, udaBatches, udaLoss } from "./vision/uda";
export type { UdaBatch, UdaBatchesOptions, UdaLossOptions, UdaLossParts, UdaMethod, UdaOptions } from "./vision/uda";
export { createMiEstimation, MI_BOUNDS } from "./mi_estimation";
export type { MiBoundName, MiEstimationOptions, MiEstimationMethod } from "./mi_estimation";
export { createDirectClr } from "./vision/direct_clr";
export type { DirectClrOptions } from "./vision/direct_clr";
export { createAlignUniform } from "./vision/align_uniform";
export type { AlignUniformMethodOptions } from "./vision/align_uniform";
