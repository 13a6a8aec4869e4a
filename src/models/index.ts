/**
 * Encoders and heads shared by the notebooks and the benchmark.
 */
export { smallCnnEncoder, mlpHead, trainableVariables } from "./encoders";
export type { SmallCnnOptions, MlpHeadOptions } from "./encoders";
export { bernoulliFrequencies, bernoulliMeanNll, bernoulliNll, createMade, sampleMade } from "./made";
export type { Made, MadeOptions } from "./made";
export { bernoulliFromUniforms, createRbm, exactPseudoLikelihood, gibbsChain, pseudoLikelihood, reconstructionError } from "./rbm";
export type { GibbsStep, Rbm, RbmOptions } from "./rbm";
export { createAutoencoder } from "./autoencoder";
export type { Autoencoder, AutoencoderOptions } from "./autoencoder";
export { batchNormalization, batchNormTraining } from "./batch_norm";
export { conv2d, registerFusedConv2DGradient } from "./conv2d";
export type { BatchNormTrainingResult } from "./batch_norm";
export { smallResNetEncoder } from "./resnet";
export type { SmallResNetOptions } from "./resnet";
export { createEma, emaRule } from "./ema";
export type { Ema, EmaOptions, EmaRule } from "./ema";
export { createKeyQueue } from "./queue";
export type { KeyQueue, KeyQueueOptions } from "./queue";
export { createMemoryBank } from "./memory_bank";
export type { BankIndices, MemoryBank, MemoryBankOptions } from "./memory_bank";
export { convMask, createPixelCnn } from "./masked_conv";
export type { MaskType, PixelCnn, PixelCnnConv, PixelCnnOptions } from "./masked_conv";
export { createVectorQuantizer } from "./vector_quantizer";
export type { Quantization, VectorQuantizer, VectorQuantizerOptions } from "./vector_quantizer";
export { MASKED_LOGIT, attentionWeights, causalMask, createLinear, createMultiHeadAttention, dropoutMask, paddingMask, scaledDotProductAttention, seededDropout } from "./attention";
export type { AttentionOptions, DropoutOptions, Layer, Linear, LinearOptions, MultiHeadAttention, MultiHeadAttentionOptions, SelfAttentionOptions, SequenceLayer } from "./attention";
export { createLayerNorm, createTransformer, createTransformerBlock, gelu } from "./transformer";
export type { LayerNorm, LayerNormOptions, Transformer, TransformerApplyOptions, TransformerBlock, TransformerBlockOptions, TransformerDropoutOptions, TransformerOptions, TransformerOutput, TransformerPooledOptions } from "./transformer";
export { createVit, gatherPatches } from "./vit";
export type { Vit, VitOptions } from "./vit";
export { cutoffMask, CUTOFF_KINDS } from "./transformer";
export type { CutoffKind, CutoffOptions } from "./transformer";
export { separableCritic, concatCritic } from "./critics";
export type { Critic, CriticOptions } from "./critics";
export { MODEL_JSON, MODEL_WEIGHTS, loadModelFolder, saveModelFolder } from "./model_folder";
export type { ModelMetadata } from "./model_folder";
