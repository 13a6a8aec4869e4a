/**
 * Contrastive predictive coding on image patches (CPC): van den Oord, Li &
 * Vinyals (2018), "Representation Learning with Contrastive Predictive
 * Coding", Sec. 3.2 (images), and Henaff et al. (2019), "Data-Efficient
 * Image Recognition with Contrastive Predictive Coding" (CPC v2), scaled
 * down to 28 x 28 digits: from the patches of the rows above, predict the
 * representation of a patch k rows below, told apart from the other
 * patches of the batch.
 */
import { tf } from "../../backend/tf";
import type { Augmentation } from "../../augment/augmentation";
import * as losses from "../../losses";
import { mlpHead } from "../../models/encoders";
import type { StepContext } from "../../training/loop";
import type { VisionBatch, VisionMethod } from "./method";
import { applyChecked, checkHidden, checkPositiveInteger, checkPositiveNumber, checkVisionBatch } from "./checks";
import { normalizedStd } from "./collapse";
import { checkInteger, checkIntegerInRange } from "../../validation/arguments";

/** The patch grid: 4 x 4 overlapping 10 x 10 patches at stride 6 cover a 28 x 28 image exactly (18 + 10 = 28). */
export const CPC_GRID = 4;
/** Side of one patch, pixels. */
export const CPC_PATCH = 10;
/** Distance between neighbouring patches, pixels. */
export const CPC_STRIDE = 6;

/**
 * Options of {@link createCpc}. Not `VisionMethodOptions`: CPC trains a patch
 * encoder (its `encoder` is built from it) and draws one view, not two; the
 * shared fields keep their names, checks and messages.
 */
export interface CpcOptions {
  /** The patch encoder `[N, 10, 10, 1] -> [N, encoderDim]`, e.g. `smallCnnEncoder({ inputShape: [10, 10, 1] })`; trained, never disposed by the method. */
  patchEncoder: tf.LayersModel;
  /** Size of the patch encoder's output. */
  encoderDim: number;
  /** An augmentation of whole images before cutting; default none (the paper's crops would shift the grid). */
  augmentation?: Augmentation;
  /** Size of the context vectors; default `encoderDim`. */
  contextDim?: number;
  /** Hidden sizes of the context network g (each Dense, ReLU); default `[contextDim]`. */
  hidden?: number[];
  /** Predict 1..`steps` rows below; default 2 (of the 3 a 4-row grid allows; CPC v2 predicts up to 5 of 7). */
  steps?: number;
  /** Temperature dividing the bilinear scores z.W_k c; default 1 (the paper's exp(z^T W_k c)). */
  temperature?: number;
  /** Seed of the context network's and predictors' initial weights; default 0. */
  seed?: number;
}

/** CPC: a {@link VisionMethod} whose `encoder` is the patch encoder applied to the grid and averaged. */
export interface CpcMethod extends VisionMethod {
  /** The patch encoder passed in. */
  readonly patchEncoder: tf.LayersModel;
  /** The context network `[N, encoderDim] -> [N, contextDim]`. */
  readonly contextNetwork: tf.LayersModel;
  /** W_1 .. W_steps, each `[contextDim, encoderDim]`. */
  readonly predictors: tf.Variable[];
}

/**
 * The 16 patches of each image, row-major over the grid, images innermost.
 *
 * Shapes: `[B, 28, 28, C]` -> `[16 B, 10, 10, C]`; patch (r, c) of image b is row `(4 r + c) B + b`.
 *
 * @example
 * const patches = cpcPatches(images); // [16 * B, 10, 10, 1]
 */
export function cpcPatches(images: tf.Tensor4D): tf.Tensor4D {
  if (!(images instanceof tf.Tensor) || images.rank !== 4 || images.shape[1] !== 28 || images.shape[2] !== 28) {
    throw new Error(`cpcPatches: images must have shape [B, 28, 28, C], got ${images instanceof tf.Tensor ? `[${images.shape}]` : typeof images}`);
  }
  const [b, , , ch] = images.shape;
  return tf.tidy(() => {
    const parts: tf.Tensor4D[] = [];
    for (let r = 0; r < CPC_GRID; r++) {
      for (let c = 0; c < CPC_GRID; c++) parts.push(tf.slice(images, [0, r * CPC_STRIDE, c * CPC_STRIDE, 0], [b, CPC_PATCH, CPC_PATCH, ch]));
    }
    return tf.concat(parts, 0);
  });
}

/** `[B, 28, 28, 1] -> [B, encoderDim]`: the mean of the patch encoder over the 16 patches (the features probed after CPC). */
function gridEncoder(patchEncoder: tf.LayersModel): tf.LayersModel {
  const input = tf.input({ shape: [28, 28, 1] });
  const features: tf.SymbolicTensor[] = [];
  for (let r = 0; r < CPC_GRID; r++) {
    for (let c = 0; c < CPC_GRID; c++) {
      const top = r * CPC_STRIDE;
      const left = c * CPC_STRIDE;
      const crop = tf.layers.cropping2D({ cropping: [[top, 28 - top - CPC_PATCH], [left, 28 - left - CPC_PATCH]] }).apply(input) as tf.SymbolicTensor;
      features.push(patchEncoder.apply(crop) as tf.SymbolicTensor);
    }
  }
  const mean = tf.layers.average().apply(features) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: mean, name: "cpc_grid_encoder" });
}

/**
 * Builds CPC on patches around `patchEncoder`. Each image is cut into a 4 x 4
 * grid of overlapping 10 x 10 patches (stride 6); z_{r,c} = patchEncoder(patch).
 * The context of position (r, c) summarises the rows at or above r in its
 * column: c_{r,c} = g(mean_{r' <= r} z_{r',c}) with g a small MLP
 * (Dense+ReLU per entry of `hidden`, Dense(contextDim)). For k = 1..steps the
 * prediction of z_{r+k,c} is W_k c_{r,c}, and
 *
 *   L_k = InfoNCE over all (image, r <= 3 - k, c) of the batch: query W_k c_{r,c}, positive z_{r+k,c},
 *         negatives the targets of every other position and image,
 *   L = mean_k L_k.
 *
 * Simplifications of the papers, for MNIST and this machine: a 4 x 4 grid of
 * 10 x 10 patches instead of 7 x 7 of 64 x 64; a cumulative column mean plus
 * an MLP instead of the PixelCNN-style masked context network (so a context
 * sees only its own column above it, not the rows above in other columns);
 * prediction downwards only (CPC v2 also predicts upwards and sideways);
 * no patch augmentation or layer norm by default.
 *
 * The encoder probed afterwards is `encoder`: the patch encoder on the 16
 * patches, averaged (CPC v2 mean-pools the patch grid likewise).
 * Metrics: `loss_k1` .. `loss_k{steps}`, the terms L_k; `std`,
 * {@link normalizedStd} of the 16 B patch representations z.
 *
 * Shapes: `batch.images` `[B, 28, 28, 1]` (B >= 2) -> z `[16 B, encoderDim]`
 * -> contexts `[16 B, contextDim]` -> scalar loss.
 *
 * @example
 * const method = createCpc({ patchEncoder: smallCnnEncoder({ inputShape: [10, 10, 1], seed: 1 }), encoderDim: 128, seed: 1 });
 * await training.train({ ...method, optimizer: adam(1e-3), batches: (epoch, rng) => imageBatches(rng), steps: 1000 });
 * const features = method.encoder.predict(testImages); // [N, 128]
 * method.dispose();
 */
export function createCpc(options: CpcOptions): CpcMethod {
  const fn = "createCpc";
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object {patchEncoder, encoderDim, ...}, got ${options}`);
  const { patchEncoder, encoderDim } = options;
  if (!(patchEncoder instanceof tf.LayersModel)) throw new Error(`${fn}: options.patchEncoder must be a tf.LayersModel, got ${patchEncoder}`);
  const inShape = patchEncoder.inputs[0]?.shape ?? [];
  if (patchEncoder.inputs.length !== 1 || inShape.length !== 4 || inShape[1] !== CPC_PATCH || inShape[2] !== CPC_PATCH || inShape[3] !== 1) {
    throw new Error(`${fn}: options.patchEncoder must take [N, ${CPC_PATCH}, ${CPC_PATCH}, 1], got [${inShape.map(String).join(", ")}]`);
  }
  checkPositiveInteger(fn, "options.encoderDim", encoderDim);
  const contextDim = options.contextDim ?? encoderDim;
  checkPositiveInteger(fn, "options.contextDim", contextDim);
  const hidden = options.hidden ?? [contextDim];
  checkHidden(fn, "options.hidden", hidden);
  const steps = options.steps ?? 2;
  checkIntegerInRange(fn, "options.steps", steps, 1, CPC_GRID - 1);
  const temperature = options.temperature ?? 1;
  checkPositiveNumber(fn, "options.temperature", temperature);
  const seed = options.seed ?? 0;
  checkInteger(fn, "options.seed", seed);
  const augmentation = options.augmentation;
  if (augmentation !== undefined && typeof augmentation !== "function") throw new Error(`${fn}: options.augmentation must be a function (images, seed) => images, got ${typeof augmentation}`);

  const contextNetwork = mlpHead({ inputDim: encoderDim, hidden, outputDim: contextDim, seed, name: "cpc_context" });
  const predictors = Array.from({ length: steps }, (_, k) => {
    const init = tf.initializers.glorotUniform({ seed: seed * 101 + 50 + k }).apply([contextDim, encoderDim]);
    const w = tf.variable(init, true);
    init.dispose();
    return w;
  });
  const encoder = gridEncoder(patchEncoder);
  const g = CPC_GRID;
  const where = "CPC.loss";

  return {
    name: "CPC",
    encoder,
    patchEncoder,
    contextNetwork,
    predictors,
    trainable: [patchEncoder, contextNetwork, ...predictors],
    loss(batch: VisionBatch, ctx: StepContext) {
      const images = checkVisionBatch(where, batch);
      if (images.shape[1] !== 28 || images.shape[2] !== 28 || images.shape[3] !== 1) {
        throw new Error(`${where}: batch.images must have shape [B, 28, 28, 1], got [${images.shape.join(", ")}]`);
      }
      const b = images.shape[0];
      const view = augmentation ? augmentation(images, ctx.seed) : images;
      const z = applyChecked(where, "patch encoder", patchEncoder, cpcPatches(view), encoderDim);
      const grid = tf.reshape(z, [g, g * b, encoderDim]); // [row, (column, image), dim]
      const rowsOf = tf.split(grid, g, 0);
      const cumulative: tf.Tensor[] = [];
      let sum = rowsOf[0];
      for (let r = 0; r < g; r++) {
        if (r > 0) sum = tf.add(sum, rowsOf[r]);
        cumulative.push(tf.div(sum, r + 1));
      }
      const context = applyChecked(where, "context network", contextNetwork, tf.reshape(tf.concat(cumulative, 0), [g * g * b, encoderDim]), contextDim);
      const contextGrid = tf.reshape(context, [g, g * b, contextDim]);
      const terms: tf.Scalar[] = [];
      const metrics: Record<string, tf.Tensor> = { std: normalizedStd(z) };
      predictors.forEach((w, i) => {
        const k = i + 1;
        const n = (g - k) * g * b;
        const query = tf.matMul(tf.reshape(tf.slice(contextGrid, [0, 0, 0], [g - k, g * b, contextDim]), [n, contextDim]), w) as tf.Tensor2D;
        const target = tf.reshape(tf.slice(grid, [k, 0, 0], [g - k, g * b, encoderDim]), [n, encoderDim]) as tf.Tensor2D;
        const lossK = losses.infoNCE(query, target, { temperature });
        terms.push(lossK);
        metrics[`loss_k${k}`] = lossK;
      });
      const loss = tf.div(tf.addN(terms), steps) as tf.Scalar;
      return { loss, metrics };
    },
    dispose() {
      // The grid encoder's only weights are the patch encoder's, which the caller owns.
      contextNetwork.dispose();
      tf.dispose(predictors);
    },
  };
}
