/**
 * The self-prediction pretext tasks, one module each: the batch builders that
 * turn unlabelled images or token rows into a supervised problem whose labels
 * come from the data itself.
 *
 * - rotation (Gidaris, Singh, Komodakis 2018): pretext_rotation.ts
 * - relative position (Doersch, Gupta, Efros 2015): pretext_relative.ts
 * - jigsaw puzzles (Noroozi & Favaro 2016): pretext_jigsaw.ts
 * - BERT's masked tokens (Devlin et al. 2019): pretext_bert.ts
 * - MAE's patch masks and patches (He et al. 2022): pretext_mae.ts
 *
 * Every builder is seeded: the same seed gives the same batch.
 */
export { rotationBatch, rotateQuarterTurns, type RotationBatch } from "./pretext_rotation";
export { relativePositionBatch, RELATIVE_POSITIONS, type RelativePositionBatch, type RelativePositionOptions } from "./pretext_relative";
export {
  hammingDistance,
  jigsawBatch,
  jigsawPermutations,
  minimumHammingDistance,
  type JigsawBatch,
  type JigsawOptions,
  type JigsawPermutationOptions,
} from "./pretext_jigsaw";
export { bertMask, type BertMaskBatch, type BertMaskOptions } from "./pretext_bert";
export { maePatchMask, patchify, unpatchify, type MaePatchMask, type MaePatchMaskOptions } from "./pretext_mae";
