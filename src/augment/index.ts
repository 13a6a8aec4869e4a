/**
 * Input corruptions and augmentations as batched, seeded tensor ops.
 */
export { gaussianNoise, maskingNoise, saltAndPepperNoise } from "./corruption";
export type { Corruption } from "./corruption";
