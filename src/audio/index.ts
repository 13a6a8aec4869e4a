/**
 * Audio front end: the short-time Fourier transform as matrix products (it
 * runs on wasm, where `tf.signal.stft` has no complex kernels), the HTK mel filter bank,
 * log-mel spectrograms and their per-bin statistics.
 */
export { stftMagnitude, stftPowerTimes, dftMatrices, hannWindow, frameCount } from "./stft";
export type { StftOptions } from "./stft";
export { hzToMel, melToHz, melFilterBank, melFilterBankWeights } from "./mel";
export type { MelFilterBankOptions } from "./mel";
export { logMelSpectrogram, logMelStatistics } from "./log_mel";
export type { LogMelOptions } from "./log_mel";
