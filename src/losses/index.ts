/**
 * Losses of self-supervised learning: contrastive (InfoNCE family) and
 * self-prediction objectives, each a function of model outputs returning a
 * scalar `tf.Scalar`.
 */
export { ntXentLoss } from "./nt_xent";
export type { NtXentOptions } from "./nt_xent";
