/**
 * Input corruptions and augmentations as batched, seeded tensor ops.
 */
export { gaussianNoise, maskingNoise, saltAndPepperNoise } from "./corruption";
export type { Corruption } from "./corruption";
export { compose, twoViews, simclrAugment } from "./compose";
export type { SimclrAugmentOptions } from "./compose";
export type { Augmentation, TwoViewAugment } from "./augmentation";
export { randomResizedCrop, randomResizedCropBoxes } from "./crop";
export type { RandomResizedCropOptions } from "./crop";
export { horizontalFlip, randomRotation, rotationTransforms } from "./geometric";
export type { HorizontalFlipOptions, RandomRotationOptions } from "./geometric";
export { intensityJitter, gaussianBlur, gaussianKernels, gaussianPixelNoise } from "./photometric";
export type { IntensityJitterOptions, GaussianBlurOptions, GaussianPixelNoiseOptions } from "./photometric";
export { colorJitter, colorJitterParameters, randomGrayscale, shiftHue, COLOR_JITTER_OPS } from "./color";
export type { ColorJitterOptions, ColorJitterParameters, RandomGrayscaleOptions } from "./color";
export { cutout, cutoutMasks } from "./cutout";
export type { CutoutOptions } from "./cutout";
export { EDA_STOP_WORDS, EDA_OPERATIONS, vocabSynonyms, synonymTable, edaChangeCount, synonymReplacement, randomInsertion, randomSwap, randomDeletion, eda, edaRows, rowsToTensor } from "./text";
export type { SynonymTable, VocabSynonymOptions, EdaOperation, EdaOptions, TokenRows, AugmentedRows } from "./text";
export { mixup, cutMix, mixupAssignment, cutMixAssignment, mixLabels, mixAsAugmentation, sampleBeta } from "./mix";
export type { MixOptions, MixAssignment, MixedBatch, BatchMix, CutMixAssignment } from "./mix";
export { randAugment, randAugmentOps, RAND_AUGMENT_MAX_MAGNITUDE } from "./rand_augment";
export type { RandAugmentOptions, RandAugmentOp, RandAugmentPlan, RandAugmentation } from "./rand_augment";
