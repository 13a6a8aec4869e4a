/**
 * What the video methods of this folder share: the {@link VideoMethod}
 * contract, and a position-keeping frame encoder.
 */
import { tf } from "../../backend/tf";
import { conv2d } from "../../models/conv2d";
import type { Method } from "../method";
import type { LossWithMetrics, StepContext } from "../../training/loop";
import { checkInteger, checkOptions, checkPositiveInteger, describe } from "../../validation/arguments";

/** A video pretext method: a {@link Method} with the per-frame encoder it trains. */
export interface VideoMethod<B> extends Method<B> {
  /** The frame encoder `[n, h, w, 1]` -> `[n, encoderDim]`, passed in: `dispose()` keeps it, for probing. */
  readonly encoder: tf.LayersModel;
  /** The loss of one batch (inside the optimizer's gradient and tf.tidy), with metrics to log. */
  loss(batch: B, ctx: StepContext): LossWithMetrics;
}

/** Options of {@link createFrameEncoder}. */
export interface FrameEncoderOptions {
  /** Side of the square input frame; default 28. */
  frameSize?: number;
  /** Channels of the two conv layers; default `[8, 16]`. */
  channels?: [number, number];
  /** Output size; default 32. */
  dim?: number;
  /** Seed of the initialisers; default 0. */
  seed?: number;
  /** Model name; default "frame_encoder". */
  name?: string;
}

/**
 * The frame encoder of the video tasks: conv3x3(c1, same)+ReLU, maxpool2,
 * conv3x3(c2, same)+ReLU, maxpool2, flatten, dense(dim). Unlike
 * `models.smallCnnEncoder` it ends in a dense layer over the whole feature
 * map, not a global average pool: pooling over positions throws away where
 * the digit is, and where it is (and so how it moves) is all that ordering
 * frames, telling time's direction or telling moments apart needs.
 *
 * Shapes: `[n, frameSize, frameSize, 1]` -> `[n, dim]`.
 *
 * @example
 * const encoder = createFrameEncoder({ seed: 1 }); // [n, 28, 28, 1] -> [n, 32]
 */
export function createFrameEncoder(options: FrameEncoderOptions = {}): tf.LayersModel {
  const fn = "createFrameEncoder";
  checkOptions(fn, options, "{frameSize?, channels?, dim?, seed?, name?}");
  const { frameSize = 28, channels = [8, 16], dim = 32, seed = 0, name = "frame_encoder" } = options;
  checkPositiveInteger(fn, "options.frameSize", frameSize);
  if (frameSize % 4 !== 0) throw new Error(`${fn}: options.frameSize must be a multiple of 4 (two 2x2 poolings), got ${frameSize}`);
  if (!Array.isArray(channels) || channels.length !== 2 || !channels.every((c) => Number.isInteger(c) && c > 0)) {
    throw new Error(`${fn}: options.channels must be two positive integers [c1, c2], got ${describe(channels)}`);
  }
  checkPositiveInteger(fn, "options.dim", dim);
  checkInteger(fn, "options.seed", seed);
  const conv = (filters: number, k: number, extra: Record<string, unknown> = {}) =>
    conv2d({ filters, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: tf.initializers.heUniform({ seed: seed * 101 + k }), ...extra });
  return tf.sequential({
    name,
    layers: [
      conv(channels[0], 1, { inputShape: [frameSize, frameSize, 1] }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      conv(channels[1], 2),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: dim, kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 101 + 3 }) }),
    ],
  });
}
