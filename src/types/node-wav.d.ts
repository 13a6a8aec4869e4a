/**
 * Types of `node-wav` 0.0.2 (the package ships none): a synchronous WAV
 * (RIFF, PCM 8/16/24/32-bit integer or 32/64-bit float) decoder and encoder.
 */
declare module "node-wav" {
  /** A decoded file: one `Float32Array` of samples per channel, integers scaled into [-1, 1]. */
  export interface DecodedWav {
    sampleRate: number;
    channelData: Float32Array[];
  }
  /** Options of `encode`; `float: true` writes 32-bit float, otherwise `bitDepth`-bit integer PCM (default 16). */
  export interface EncodeOptions {
    sampleRate?: number;
    float?: boolean;
    bitDepth?: 8 | 16 | 24 | 32;
  }
  /** Decodes a WAV file; returns undefined when it holds no `data` chunk. Throws a TypeError on other formats. */
  export function decode(buffer: ArrayBuffer | Uint8Array): DecodedWav | undefined;
  /** Encodes channels of equal length; samples outside [-1, 1] are clipped by the package. */
  export function encode(channelData: readonly Float32Array[], options: EncodeOptions): Buffer;
}
