/**
 * Losses of self-supervised learning: contrastive (InfoNCE family) and
 * self-prediction objectives, each a function of model outputs returning a
 * scalar `tf.Scalar`.
 */
export { ntXentLoss } from "./nt_xent";
export type { NtXentOptions } from "./nt_xent";
export { pairwiseSquaredDistances, pairwiseDistances, DISTANCE_EPSILON } from "./ops/distances";
export { contrastiveLoss } from "./contrastive";
export type { ContrastiveOptions } from "./contrastive";
export { tripletLoss } from "./triplet";
export type { TripletOptions } from "./triplet";
export { nPairLoss } from "./n_pair";
export { nceLoss } from "./nce";
export { liftedStructuredLoss } from "./lifted_structured";
export type { LiftedStructuredOptions } from "./lifted_structured";
export { mineTriplets, minePairs } from "./miners";
export type { MinedTriplets, MinedPairs, MineTripletsOptions, MinePairsOptions } from "./miners";
export { negativeCosineSimilarity } from "./negative_cosine_similarity";
export { barlowTwinsLoss } from "./barlow_twins";
export type { BarlowTwinsOptions } from "./barlow_twins";
export { infoNCE } from "./info_nce";
export type { InfoNceOptions } from "./info_nce";
export { supConLoss } from "./sup_con";
export type { SupConOptions } from "./sup_con";
export { softNearestNeighborLoss } from "./soft_nearest_neighbor";
export type { SoftNearestNeighborOptions } from "./soft_nearest_neighbor";
export { gram, l2NormalizeRows } from "./ops/similarity";
export { rowLogSumExp } from "./ops/log_sum_exp";
export { stopGradient } from "./ops/stop_gradient";
export { softTargetCrossEntropy } from "./cross_entropy";
export type { SoftTargetCrossEntropyOptions } from "./cross_entropy";
export { debiasedContrastiveLoss, debiasedNtXent } from "./debiased_contrastive";
export type { DebiasedContrastiveOptions, TwoViewLogits } from "./debiased_contrastive";
export { hardNegativeLoss, hardNegativeNtXent } from "./hard_negative";
export type { HardNegativeOptions } from "./hard_negative";
export { iMixLoss } from "./i_mix";
export type { IMixOptions } from "./i_mix";
export { infoNceBound } from "./mi_info_nce_bound";
export { nwjBound } from "./mi_nwj";
export { donskerVaradhanBound } from "./mi_donsker_varadhan";
export { alignUniformLoss } from "./align_uniform";
export type { AlignUniformOptions } from "./align_uniform";
export { spectralContrastiveLoss } from "./spectral_contrastive";
