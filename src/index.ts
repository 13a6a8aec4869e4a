/**
 * ssl-workbook: the helper library behind the self-supervised learning workbook.
 *
 * One import gives a notebook everything it shares with the others:
 *
 * ```ts
 * import { tf, setupBackend, data, augment, audio, models, losses, methods, classical, training, evaluation, plot, notebook } from "ssl-workbook";
 * ```
 *
 * `tf` is the one TensorFlow.js instance the library itself uses; use it
 * rather than importing `@tensorflow/tfjs` again, so tensors, backends and
 * memory counts are shared.
 */
export { tf } from "./backend/tf";
export { setupBackend } from "./backend/select";

/** Backend selection, the report and its diagnostics, the added training kernels. */
export * as backend from "./backend";
/** MNIST and the Brown corpus offline, vocabularies, seeded batching. */
export * as data from "./data";
/** Input corruptions and augmentations. */
export * as augment from "./augment";
/** The audio front end: STFT magnitudes, mel filter banks, log-mel spectrograms. */
export * as audio from "./audio";
/** Encoders, heads and generative models. */
export * as models from "./models";
/** Self-supervised losses. */
export * as losses from "./losses";
/** Self-supervised methods as losses and batches for the training loop. */
export * as methods from "./methods";
/** Classical methods: PCA, MDS, LLE, k-means, Mahalanobis metric learning. */
export * as classical from "./classical";
/** The training loop, its progress bar, interrupts and checkpoints. */
export * as training from "./training";
/** Linear probe, kNN and the baselines every result stands beside. */
export * as evaluation from "./evaluation";
/** Figures and tables that render offline. */
export * as plot from "./plot";
/** What a notebook records for its tests. */
export * as notebook from "./notebook";
/** Checks for exercise cells: a student's function against the library's reference, with messages that teach. */
export * as check from "./check";
