/**
 * Encoders and heads shared by the notebooks and the benchmark.
 *
 * Every network is a `tf.LayersModel` so it can be summarised, saved, loaded
 * and applied inside `tf.tidy` (`model.apply(x, { training: true })`).
 * Weights are initialised from `seed`, so two calls with one seed give the
 * same network on one backend.
 */
import { tf } from "../backend/tf";
import { batchNormalization } from "./batch_norm";
import { conv2d } from "./conv2d";
import { checkInteger, checkPositiveInteger, describe } from "../validation/arguments";

/** Options of {@link smallCnnEncoder}. */
export interface SmallCnnOptions {
  /** Input image shape `[height, width, channels]`; default `[28, 28, 1]` (MNIST). */
  inputShape?: readonly [number, number, number];
  /** Channels of the three conv layers; default `[32, 64, 128]` (the benchmark's). */
  channels?: [number, number, number];
  /** Seed of the weight initialisers; default 0. */
  seed?: number;
  /** Model name; default `"small_cnn"`. */
  name?: string;
}

/**
 * The workbook's small CNN, the encoder of the `simclr-step` benchmark:
 * conv3x3(32, same)+ReLU, maxpool2, conv3x3(64, same)+ReLU, maxpool2,
 * conv3x3(128, same)+ReLU, global average pool. Any image size of at
 * least 4 x 4 (the two pools halve it twice) and any channel count: pass
 * the data's `[height, width, channels]` as `inputShape`.
 *
 * Shapes: `[batch, height, width, channels]` -> `[batch, channels[2]]`
 * (`[batch, 28, 28, 1]` -> `[batch, 128]` with the defaults).
 *
 * @example
 * const encoder = smallCnnEncoder({ seed: 1 });
 * const h = encoder.predict(tf.zeros([4, 28, 28, 1])) as tf.Tensor; // [4, 128]
 * const rgb = smallCnnEncoder({ inputShape: set.shape, seed: 1 }); // e.g. [32, 32, 3] photos
 */
export function smallCnnEncoder(options: SmallCnnOptions = {}): tf.LayersModel {
  const fn = "smallCnnEncoder";
  const inputShape = options.inputShape ?? [28, 28, 1];
  if (!Array.isArray(inputShape) || inputShape.length !== 3) {
    throw new Error(`${fn}: options.inputShape must be [height, width, channels], got ${describe(inputShape)}`);
  }
  inputShape.forEach((v, i) => checkPositiveInteger(fn, `options.inputShape[${i}]`, v));
  if (inputShape[0] < 4 || inputShape[1] < 4) {
    throw new Error(`${fn}: options.inputShape must be at least 4 x 4 (two 2x2 max pools), got ${describe(inputShape)}`);
  }
  const channels = options.channels ?? [32, 64, 128];
  if (!Array.isArray(channels) || channels.length !== 3) {
    throw new Error(`${fn}: options.channels must list the channels of the 3 conv layers, got ${describe(channels)}`);
  }
  channels.forEach((v, i) => checkPositiveInteger(fn, `options.channels[${i}]`, v));
  const [c1, c2, c3] = channels;
  const seed = options.seed ?? 0;
  checkInteger(fn, "options.seed", seed);
  const conv = (filters: number, k: number, extra: Record<string, unknown> = {}) =>
    conv2d({
      filters,
      kernelSize: 3,
      padding: "same",
      activation: "relu",
      kernelInitializer: tf.initializers.heUniform({ seed: seed * 101 + k }),
      ...extra,
    });
  return tf.sequential({
    name: options.name ?? "small_cnn",
    layers: [
      conv(c1, 1, { inputShape: [...inputShape] }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      conv(c2, 2),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      conv(c3, 3),
      tf.layers.globalAveragePooling2d({}),
    ],
  });
}

/** Options of {@link mlpHead}. */
export interface MlpHeadOptions {
  /** Input feature size. */
  inputDim: number;
  /** Hidden layer sizes, each followed by ReLU; default `[inputDim]`. */
  hidden?: number[];
  /** Output size. */
  outputDim: number;
  /** Add BatchNorm (`batchNormalization`: its training gradient in closed form) after each hidden layer; default false. */
  batchNorm?: boolean;
  /** Seed of the weight initialisers; default 0. */
  seed?: number;
  /** Model name; default `"mlp_head"`. */
  name?: string;
}

/**
 * A multilayer perceptron head: projection heads (SimCLR), predictors
 * (BYOL) and classifiers. Dense+ReLU for each hidden size, then a linear
 * output layer.
 *
 * Shapes: `[batch, inputDim]` -> `[batch, outputDim]`.
 *
 * @example
 * const head = mlpHead({ inputDim: 128, hidden: [128], outputDim: 64 });
 */
export function mlpHead(options: MlpHeadOptions): tf.LayersModel {
  const { inputDim, outputDim } = options;
  checkPositiveInteger("mlpHead", "inputDim", inputDim);
  checkPositiveInteger("mlpHead", "outputDim", outputDim);
  const hidden = options.hidden ?? [inputDim];
  const seed = options.seed ?? 0;
  const layers: tf.layers.Layer[] = [];
  hidden.forEach((units, i) => {
    layers.push(
      tf.layers.dense({
        units,
        activation: options.batchNorm ? "linear" : "relu",
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 101 + i + 1 }),
        ...(i === 0 ? { inputShape: [inputDim] } : {}),
      }),
    );
    if (options.batchNorm) {
      layers.push(batchNormalization({}));
      layers.push(tf.layers.activation({ activation: "relu" }));
    }
  });
  layers.push(
    tf.layers.dense({
      units: outputDim,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 101 + 99 }),
      ...(hidden.length === 0 ? { inputShape: [inputDim] } : {}),
    }),
  );
  return tf.sequential({ name: options.name ?? "mlp_head", layers });
}

/**
 * The trainable `tf.Variable`s of one or more models, in a stable order: what
 * an optimizer's `minimize(f, returnCost, varList)` takes.
 */
export function trainableVariables(...models: tf.LayersModel[]): tf.Variable[] {
  // LayerVariable.read() returns the underlying tf.Variable the engine tracks.
  return models.flatMap((m) =>
    m.trainableWeights.map((w) => (w as unknown as { read(): tf.Variable }).read()),
  );
}
