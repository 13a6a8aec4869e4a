/**
 * The innate-relationship pretext tasks as trainable methods: a transform of
 * each image whose parameters the data itself supplies (a rotation, where a
 * patch sits, how tiles were shuffled), and a classifier that must say which
 * transform it was. A network that solves them has to find the object and
 * its parts.
 *
 * - RotNet: Gidaris, Singh & Komodakis (2018), "Unsupervised Representation
 *   Learning by Predicting Image Rotations", ICLR.
 * - Relative position: Doersch, Gupta & Efros (2015), "Unsupervised Visual
 *   Representation Learning by Context Prediction", ICCV.
 * - Jigsaw: Noroozi & Favaro (2016), "Unsupervised Learning of Visual
 *   Representations by Solving Jigsaw Puzzles", ECCV.
 *
 * The three share one factory, {@link createPretextClassifier}: a task turns
 * the step's images and seed into encoded features and labels, a head maps
 * the features to class scores, and the loss is their softmax cross-entropy.
 * The batch builders are in data/pretext_rotation.ts, pretext_relative.ts
 * and pretext_jigsaw.ts.
 */
import { tf } from "../../backend/tf";
import { mlpHead } from "../../models/encoders";
import { rotationBatch } from "../../data/pretext_rotation";
import { relativePositionBatch, type RelativePositionOptions } from "../../data/pretext_relative";
import { jigsawBatch, jigsawPermutations } from "../../data/pretext_jigsaw";
import type { StepContext } from "../../training/loop";
import type { VisionBatch, VisionMethod } from "./method";
import { applyChecked, checkHidden, checkPositiveInteger, checkVisionBatch } from "./checks";
import { checkInteger, checkOptions, describe } from "../../validation/arguments";

/** What every pretext classifier takes. */
export interface PretextClassifierOptions {
  /**
   * The encoder to train, `[n, h, w, 1]` -> `[n, encoderDim]`; the method never
   * disposes it. The patch tasks run it on patches and tiles (6x6, 7x7): a
   * fully convolutional encoder with global pooling, such as
   * `smallCnnEncoder()`, takes any size, so the same weights then encode
   * whole digits for a probe.
   */
  encoder: tf.LayersModel;
  /** Size of the encoder's output. */
  encoderDim: number;
  /** Hidden sizes of the classifier head (Dense+ReLU each); the default depends on the task. */
  hidden?: number[];
  /** Seed of the head's initialiser (and of the jigsaw permutation set); default 0. */
  seed?: number;
}

/** The task-specific part of a pretext classifier: what {@link createPretextClassifier} is given. */
export interface PretextTask {
  /** Method name, e.g. "RotNet". */
  name: string;
  /** Number of pretext classes (4 rotations, 8 neighbours, the permutations). */
  classes: number;
  /** Encoded inputs per example the head sees side by side: 1 (RotNet), 2 (a patch pair), 9 (jigsaw tiles). */
  parts: number;
  /** Default hidden sizes of the head, given the encoder's output size. */
  defaultHidden: (encoderDim: number) => number[];
  /**
   * The pretext problem of one batch: features `[n, parts * encoderDim]` and
   * labels `[n]` int32. `encode` runs the encoder, checked, `[m, h, w, c]` -> `[m, encoderDim]`.
   * Runs inside the step's tf.tidy.
   */
  build(images: tf.Tensor4D, seed: number, encode: (x: tf.Tensor4D) => tf.Tensor2D): { features: tf.Tensor2D; labels: tf.Tensor1D };
}

/**
 * A classification pretext method: `task.build` makes features and labels
 * from the batch's images and `ctx.seed`; an {@link mlpHead}
 * `[n, parts * encoderDim]` -> `[n, classes]` scores them, and the loss is
 * the mean softmax cross-entropy. Metric: `accuracy`, the share of pretext
 * examples whose top score is their label (chance is `1 / classes`).
 * `dispose()` frees the head, never the encoder.
 *
 * Shapes: `batch.images` `[B, H, W, C]` (B >= 2) -> scalar loss.
 *
 * @example
 * const rotnet = createPretextClassifier("createRotNet", options, rotationTask);
 */
export function createPretextClassifier(fn: string, options: PretextClassifierOptions, task: PretextTask): VisionMethod {
  checkOptions(fn, options, "{encoder, encoderDim, hidden?, seed?}");
  if (!(options.encoder instanceof tf.LayersModel)) throw new Error(`${fn}: options.encoder must be a tf.LayersModel, got ${describe(options.encoder)}`);
  const { encoder, encoderDim } = options;
  checkPositiveInteger(fn, "options.encoderDim", encoderDim);
  const hidden = options.hidden ?? task.defaultHidden(encoderDim);
  checkHidden(fn, "options.hidden", hidden);
  const seed = options.seed ?? 0;
  checkInteger(fn, "options.seed", seed);
  const inputDim = task.parts * encoderDim;
  const head = mlpHead({ inputDim, hidden, outputDim: task.classes, seed, name: `${task.name.toLowerCase().replace(/[^a-z0-9]+/g, "_")}_head` });
  const where = `${task.name}.loss`;
  const encode = (x: tf.Tensor4D): tf.Tensor2D => applyChecked(where, "encoder", encoder, x, encoderDim);
  return {
    name: task.name,
    encoder,
    trainable: [encoder, head],
    loss(batch: VisionBatch, ctx: StepContext) {
      const images = checkVisionBatch(where, batch);
      const { features, labels } = task.build(images, ctx.seed, encode);
      const logits = applyChecked(where, "head", head, features, task.classes);
      const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, task.classes), logits) as tf.Scalar;
      const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), labels), "float32")) as tf.Scalar;
      return { loss, metrics: { accuracy } };
    },
    itemsPerBatch: (batch: VisionBatch) => batch.images.shape[0],
    dispose() {
      head.dispose();
    },
  };
}

/**
 * RotNet (Gidaris et al. 2018): every image of the batch at 0, 90, 180 and
 * 270 degrees (as in the paper, all four in one batch), the encoder's
 * features of each, and a 4-way classifier: label k for k quarter turns
 * counter-clockwise. Head: linear by default (`hidden: []`), as the paper's
 * global-pooled NIN is followed by one linear layer. Chance accuracy 0.25.
 *
 * Shapes: `batch.images` `[B, n, n, C]` -> rotated `[4B, n, n, C]` ->
 * features `[4B, encoderDim]` -> scores `[4B, 4]` -> scalar loss.
 *
 * @example
 * const encoder = models.smallCnnEncoder({ seed: 1 });
 * const rotnet = createRotNet({ encoder, encoderDim: 128, seed: 1 });
 * await training.train({ ...rotnet, optimizer: training.adam(1e-3), batches, steps: 125 });
 * rotnet.dispose(); // the head; the encoder is kept for probing, e.g. evaluation.layerFeatures(encoder, 2, x)
 */
export function createRotNet(options: PretextClassifierOptions): VisionMethod {
  return createPretextClassifier("createRotNet", options, {
    name: "RotNet",
    classes: 4,
    parts: 1,
    defaultHidden: () => [],
    build(images, seed, encode) {
      const rotated = rotationBatch(images, seed);
      return { features: encode(rotated.images), labels: rotated.labels };
    },
  });
}

/** Options of {@link createRelativePosition}: the shared ones and the patch grid's. */
export interface RelativePositionMethodOptions extends PretextClassifierOptions {
  /** The grid of `relativePositionBatch`: patch side (default 6), gap (3) and jitter (1) in pixels. */
  grid?: RelativePositionOptions;
}

/**
 * Relative position (Doersch et al. 2015): the centre patch of a 3x3 grid
 * and one of its 8 neighbours (with gaps and jitter against trivial
 * edge matching), each through the same encoder, their features
 * concatenated as in the paper's late fusion `[center, neighbour]`, and an
 * 8-way classifier of where the neighbour sits (labels as
 * `RELATIVE_POSITIONS`). Head: one hidden layer of `encoderDim` by default
 * (the paper's fc7 over the concatenated fc6 outputs). Chance 0.125.
 *
 * Shapes: `batch.images` `[B, H, W, C]` -> two patch sets `[B, p, p, C]`
 * -> features `[B, 2 * encoderDim]` -> scores `[B, 8]` -> scalar loss.
 *
 * @example
 * const relpos = createRelativePosition({ encoder: models.smallCnnEncoder({ seed: 1 }), encoderDim: 128 });
 */
export function createRelativePosition(options: RelativePositionMethodOptions): VisionMethod {
  const fn = "createRelativePosition";
  const grid = options?.grid ?? {};
  checkOptions(fn, grid, "{patch?, gap?, jitter?}");
  return createPretextClassifier(fn, options, {
    name: "relative position",
    classes: 8,
    parts: 2,
    defaultHidden: (d) => [d],
    build(images, seed, encode) {
      const pair = relativePositionBatch(images, grid, seed);
      // One encoder call over both patch sets: the same weights, one BatchNorm batch if it has any.
      const b = images.shape[0];
      const both = encode(tf.concat([pair.center, pair.neighbour], 0) as tf.Tensor4D);
      const features = tf.concat([tf.slice(both, [0, 0], [b, -1]), tf.slice(both, [b, 0], [b, -1])], 1) as tf.Tensor2D;
      return { features, labels: pair.labels };
    },
  });
}

/** Options of {@link createJigsaw}. */
export interface JigsawMethodOptions extends PretextClassifierOptions {
  /**
   * The permutation set, each a permutation of 0..8; default
   * `jigsawPermutations(permutations, { seed })` (maximal minimum Hamming distance).
   */
  perms?: readonly ArrayLike<number>[];
  /** Size of the default permutation set; default 30 (the paper: 100 of 1,000 classes of ImageNet). */
  permutations?: number;
  /** Tile side in pixels, at most the 9-pixel cell; default 7 (the paper's 64 of 75). */
  tile?: number;
}

/**
 * Jigsaw puzzles (Noroozi & Favaro 2016): the 3x3 tiles of each image
 * shuffled by one permutation of a fixed set chosen for large Hamming
 * distances, every tile through the same encoder (the paper's shared
 * "context-free" columns), the nine features concatenated in shuffled order,
 * and a classifier over the permutation set. Head: one hidden layer of
 * `encoderDim` by default (the paper's fc7 over the nine fc6 outputs).
 * Chance `1 / perms.length`.
 *
 * Shapes: `batch.images` `[B, H, W, C]` -> tiles `[9B, t, t, C]` ->
 * features `[B, 9 * encoderDim]` -> scores `[B, perms.length]` -> scalar loss.
 *
 * @example
 * const jigsaw = createJigsaw({ encoder: models.smallCnnEncoder({ seed: 1 }), encoderDim: 128, permutations: 30 });
 */
export function createJigsaw(options: JigsawMethodOptions): VisionMethod & { readonly perms: readonly Int32Array[] } {
  const fn = "createJigsaw";
  checkOptions(fn, options, "{encoder, encoderDim, perms?, permutations?, tile?, hidden?, seed?}");
  const seed = options.seed ?? 0;
  checkInteger(fn, "options.seed", seed);
  let perms: Int32Array[];
  if (options.perms !== undefined) {
    if (!Array.isArray(options.perms) || options.perms.length < 2) {
      throw new Error(`${fn}: options.perms must be an array of at least 2 permutations of 0..8, got ${describe(options.perms)}`);
    }
    perms = options.perms.map((p, i) => {
      const values = Array.isArray(p) || p instanceof Int32Array ? Array.from(p as ArrayLike<number>) : [];
      if (values.length !== 9 || [...values].sort((a, b) => a - b).some((v, k) => v !== k)) {
        throw new Error(`${fn}: options.perms[${i}] must be a permutation of 0..8, got ${describe(p)}`);
      }
      return Int32Array.from(values);
    });
  } else {
    const count = options.permutations ?? 30;
    checkPositiveInteger(fn, "options.permutations", count);
    if (count < 2) throw new Error(`${fn}: options.permutations must be at least 2, got ${count}`);
    perms = jigsawPermutations(count, { seed });
  }
  const tile = options.tile ?? 7;
  checkPositiveInteger(fn, "options.tile", tile);
  const method = createPretextClassifier(fn, options, {
    name: "jigsaw",
    classes: perms.length,
    parts: 9,
    defaultHidden: (d) => [d],
    build(images, stepSeed, encode) {
      const puzzle = jigsawBatch(images, perms, { grid: 3, tile }, stepSeed);
      const [b, tiles, t, , c] = puzzle.tiles.shape;
      const features = encode(tf.reshape(puzzle.tiles, [b * tiles, t, t, c]) as tf.Tensor4D);
      // Rows b*9 .. b*9+8 are image b's tiles in shuffled order; a reshape concatenates them.
      return { features: tf.reshape(features, [b, -1]) as tf.Tensor2D, labels: puzzle.labels };
    },
  });
  return { ...method, perms };
}
