/**
 * A small ResNet (He, Zhang, Ren & Sun 2016, "Deep Residual Learning for
 * Image Recognition", Sec. 3 and 4.2: basic blocks, BatchNorm after every
 * convolution, 1x1 projection shortcuts where the shape changes) sized for
 * MNIST on a CPU: the encoder SimSiam, BYOL and Barlow Twins were designed
 * around, where BatchNorm is part of what makes them work.
 */
import { tf } from "../backend/tf";
import { batchNormalization } from "./batch_norm";
import { conv2d } from "./conv2d";
import { checkInteger, checkNumberInRange, checkPositiveInteger } from "../validation/arguments";

/** Options of {@link smallResNetEncoder}. */
export interface SmallResNetOptions {
  /** Input image shape `[height, width, channels]`; default `[28, 28, 1]` (MNIST). */
  inputShape?: readonly [number, number, number];
  /** Channels of the stem convolution; default 16. */
  stemWidth?: number;
  /**
   * Channels of each stage (2 or 3 stages); default `[32, 64, 128]`. The
   * last is the embedding size.
   */
  widths?: number[];
  /** Basic blocks per stage, one number per stage; default 1 each. */
  blocks?: number[];
  /**
   * Momentum of the BatchNorm moving statistics (Keras convention: the
   * weight of the old value); default 0.9, PyTorch's 0.1.
   */
  bnMomentum?: number;
  /** Seed of the weight initialisers; default 0. */
  seed?: number;
  /** Model name, also the prefix of its layer names; default `"small_resnet"`. */
  name?: string;
}

/**
 * A small ResNet encoder: conv3x3(stemWidth)+BN+ReLU at full resolution, then
 * stages of basic residual blocks (conv3x3+BN+ReLU, conv3x3+BN, plus the
 * shortcut, ReLU). The first block of every stage halves the resolution with
 * a stride-2 convolution and its shortcut is a stride-2 1x1 convolution +
 * BN; later blocks of a stage use the identity. Global average pooling ends
 * it. Convolutions have no bias (BN's beta is the bias); kernels are
 * He-normal, seeded per layer, so two builds with one seed are identical.
 *
 * With the defaults (28 -> 14 -> 7 -> 4 pixels; 16, 32, 64, 128 channels)
 * it has 303,952 weights (smallCnnEncoder: 92,672) and 9.4 M multiply-adds
 * per image (smallCnnEncoder: 7.4 M). Its BatchNorm layers are
 * `batchNormalization` (`./batch_norm`): the stock layer with the
 * training-mode gradient in closed form, which took the `resnet-step`
 * benchmark from about 250 to 360 images per second on wasm (2 threads),
 * against tfjs-core's composed gradient through tf.moments and
 * tf.batchNorm. Every op it uses has a gradient on wasm once the
 * workbook's training kernels are registered (`setupBackend` does it).
 *
 * Train it with `model.apply(x, { training: true })`: BatchNorm then
 * normalises with the batch's statistics and updates its moving averages;
 * `predict`/`apply` without `training` use the moving averages.
 *
 * Any image size and channel count (each stage's "same" stride-2
 * convolution rounds odd sizes up: 20 -> 10 -> 5 -> 3): pass the data's
 * `[height, width, channels]` as `inputShape`.
 *
 * Shapes: `[batch, height, width, channels]` -> `[batch, widths[widths.length - 1]]` (128).
 *
 * @example
 * const encoder = smallResNetEncoder({ seed: 1 });
 * const h = encoder.apply(tf.zeros([4, 28, 28, 1]), { training: true }) as tf.Tensor; // [4, 128]
 * const rgb = smallResNetEncoder({ inputShape: [32, 32, 3], seed: 1 }); // [B, 32, 32, 3] -> [B, 128]
 */
export function smallResNetEncoder(options: SmallResNetOptions = {}): tf.LayersModel {
  const fn = "smallResNetEncoder";
  const inputShape = options.inputShape ?? [28, 28, 1];
  if (!Array.isArray(inputShape) || inputShape.length !== 3) {
    throw new Error(`${fn}: inputShape must be [height, width, channels], got ${JSON.stringify(inputShape)}`);
  }
  inputShape.forEach((v, i) => checkPositiveInteger(fn, `inputShape[${i}]`, v));
  const stemWidth = options.stemWidth ?? 16;
  checkPositiveInteger(fn, "stemWidth", stemWidth);
  const widths = options.widths ?? [32, 64, 128];
  if (!Array.isArray(widths) || widths.length < 2 || widths.length > 3) {
    throw new Error(`${fn}: widths must list 2 or 3 stage widths, got ${JSON.stringify(widths)}`);
  }
  widths.forEach((v, i) => checkPositiveInteger(fn, `widths[${i}]`, v));
  const blocks = options.blocks ?? widths.map(() => 1);
  if (!Array.isArray(blocks) || blocks.length !== widths.length) {
    throw new Error(`${fn}: blocks must have one entry per stage (${widths.length}), got ${JSON.stringify(blocks)}`);
  }
  blocks.forEach((v, i) => checkPositiveInteger(fn, `blocks[${i}]`, v));
  const bnMomentum = options.bnMomentum ?? 0.9;
  checkNumberInRange(fn, "bnMomentum", bnMomentum, 0, 1, { maxExclusive: true });
  const seed = options.seed ?? 0;
  checkInteger(fn, "seed", seed);
  const name = options.name ?? "small_resnet";

  let layerIndex = 0;
  const conv = (x: tf.SymbolicTensor, filters: number, kernelSize: number, strides: number, label: string) =>
    conv2d({
      filters,
      kernelSize,
      strides,
      padding: "same",
      useBias: false,
      kernelInitializer: tf.initializers.heNormal({ seed: seed * 1009 + ++layerIndex }),
      name: `${name}_${label}`,
    }).apply(x) as tf.SymbolicTensor;
  // epsilon 1e-5 as in PyTorch's BatchNorm2d (tfjs defaults to 1e-3).
  const bn = (x: tf.SymbolicTensor, label: string) =>
    batchNormalization({ momentum: bnMomentum, epsilon: 1e-5, name: `${name}_${label}` }).apply(x) as tf.SymbolicTensor;
  const relu = (x: tf.SymbolicTensor, label: string) =>
    tf.layers.reLU({ name: `${name}_${label}` }).apply(x) as tf.SymbolicTensor;

  const input = tf.input({ shape: [...inputShape], name: `${name}_input` });
  let x = relu(bn(conv(input, stemWidth, 3, 1, "stem_conv"), "stem_bn"), "stem_relu");
  widths.forEach((width, s) => {
    for (let b = 0; b < blocks[s]; b++) {
      const id = `s${s + 1}b${b + 1}`;
      const strides = b === 0 ? 2 : 1;
      let y = relu(bn(conv(x, width, 3, strides, `${id}_conv1`), `${id}_bn1`), `${id}_relu1`);
      y = bn(conv(y, width, 3, 1, `${id}_conv2`), `${id}_bn2`);
      const shortcut = b === 0 ? bn(conv(x, width, 1, strides, `${id}_proj`), `${id}_proj_bn`) : x;
      const sum = tf.layers.add({ name: `${name}_${id}_add` }).apply([y, shortcut]) as tf.SymbolicTensor;
      x = relu(sum, `${id}_relu2`);
    }
  });
  const output = tf.layers.globalAveragePooling2d({ name: `${name}_pool` }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name });
}
