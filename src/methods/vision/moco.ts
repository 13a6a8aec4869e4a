/**
 * MoCo v2 (He, Fan, Wu, Xie & Girshick 2020, "Momentum Contrast for
 * Unsupervised Visual Representation Learning"; Chen, Fan, Girshick & He
 * 2020, "Improved Baselines with Momentum Contrastive Learning"): queries
 * from the trained encoder are contrasted with keys from a momentum copy of
 * it, against a queue of the keys of past batches. Optionally with MoCHi's
 * synthetic hard negatives (Kalantidis et al. 2020; ./mochi.ts).
 */
import { tf } from "../../backend/tf";
import * as losses from "../../losses";
import { createEma, type EmaRule } from "../../models/ema";
import { mlpHead } from "../../models/encoders";
import { createKeyQueue, type KeyQueue } from "../../models/queue";
import type { VisionMethod } from "./method";
import {
  applyChecked,
  checkPositiveInteger,
  checkPositiveNumber,
  checkVisionBatch,
  checkVisionMethodOptions,
  type VisionMethodOptions,
  checkProjectorOptions,
} from "./checks";
import { normalizedStd } from "./collapse";
import { checkInteger, checkIntegerInRange, checkNonNegativeInteger, checkNumberInRange, checkOptions, describe } from "../../validation/arguments";
import { deriveSeed } from "../../training/seeds";
import { infoNceWithSynthetic, mochiNegatives, negativeSimilarities, type NegativeSimilarities } from "./mochi";

/**
 * MoCHi inside MoCo (Kalantidis et al. 2020): per query, `mixed` + `queryMixed`
 * synthetic negatives from its `hardest` queue entries (see `mochiNegatives`).
 * The paper's ImageNet-100 setting is N = 1024, s = 1024, s' = 256 for K = 16384.
 */
export interface MocoMochiOptions {
  /** N, hard queue entries mixed from; default 256 (K / 16 at the default queue, as the paper's 1024 of 16384). While the queue fills, min(N, keys held). */
  hardest?: number;
  /** s1, negatives per query mixed from two hard ones; default 256. */
  mixed?: number;
  /** s2, negatives per query mixed from the query and a hard one; default 64. */
  queryMixed?: number;
  /** First step that mixes: the early queue holds keys of a near-random encoder, so mixing them can wait; default 0. */
  startStep?: number;
}

// Stream tag of MoCHi's draws, apart from the augmentation's ctx.seed.
const MOCHI_STREAM = 6;

/** Options of {@link createMoco}. */
export interface MocoOptions extends VisionMethodOptions {
  /** Hidden sizes of the MLP head (MoCo v2's addition; no BatchNorm); default `[encoderDim]` (the paper: 2048). */
  hidden?: number[];
  /** Size of a query/key; default 64 (the paper: 128). */
  projectionDim?: number;
  /** K, keys in the queue; default 4096 (the paper: 65536, for 1.28 M ImageNet images; MNIST has 60 000). */
  queueSize?: number;
  /** Temperature tau; default 0.2 (MoCo v2). */
  temperature?: number;
  /** Key-encoder momentum m; default 0.99 (the paper: 0.999 over ~10^5+ steps; a few hundred MNIST steps need a faster key encoder). */
  momentum?: number;
  /** How each target weight follows its online weight; default `models.emaRule` (m * target + (1 - m) * online). */
  emaRule?: EmaRule;
  /** Adds MoCHi's synthetic hard negatives to every query's logits; default none (plain MoCo v2). `{}` takes the defaults. */
  mochi?: MocoMochiOptions;
}

/** The MoCo method, with its key network and queue (for checkpoints: `variables: { queue: queue.buffer, queue_state: queue.state }`). */
export interface Moco extends VisionMethod {
  /** The momentum (key) encoder and head: not trainable, moved in `afterStep`. */
  readonly target: { readonly encoder: tf.LayersModel; readonly projector: tf.LayersModel };
  /** The queue of past keys `[queueSize, projectionDim]`. */
  readonly queue: KeyQueue;
  /** MoCHi's settings with defaults filled in, or undefined for plain MoCo. */
  readonly mochi: Required<MocoMochiOptions> | undefined;
  /**
   * Cosine similarities of the queries of `images` (encoder and head in
   * inference mode, no augmentation) to the queue's keys and, with MoCHi
   * (this method's, or `options.mochi`), to their synthetic negatives drawn
   * with `options.seed` (default 0): the negatives' histogram. Empty arrays
   * before the first enqueue.
   *
   * Shapes: `images` `[B, H, W, C]` -> `B * filled` and `B * (s1 + s2)` numbers.
   */
  negativeSimilarities(images: tf.Tensor4D, options?: { seed?: number; mochi?: MocoMochiOptions }): NegativeSimilarities;
}

/**
 * MoCo v2: query q = normalise(g(f(x1))) from the trained encoder f and MLP
 * head g, key k = normalise(g'(f'(x2))) from their EMA copies f', g'
 * (models/ema.ts, m = `momentum`), and InfoNCE (the paper's eq. 1):
 *
 *   L = -1/B sum_i log exp(q_i.k_i/tau) / (sum_j exp(q_i.k_j/tau) + sum_{n in queue} exp(q_i.n/tau)).
 *
 * Differences from the paper, and why:
 * - j runs over the batch's B keys as well as the queue (`losses.infoNCE`
 *   with `negatives` = the queue); the paper uses only the queue. The other
 *   keys of the batch are the freshest negatives; the queue has them next step.
 * - The key network runs in inference mode (`training: false`), so its
 *   BatchNorm layers, if the encoder has any, use the averaged moving
 *   statistics instead of the batch's: one device cannot do the paper's
 *   shuffling BN, and batch statistics would let a query find its key
 *   through them.
 * Each step's keys are kept (a detached copy, `tf.keep`) from `loss` to
 * `afterStep`, which moves the key network (after the optimizer's update)
 * and then enqueues them, as the paper's Algorithm 1. Before the first
 * enqueue the queue is empty and only the batch's keys are negatives.
 * Metrics: `accuracy`, the share of queries whose own key has the largest
 * logit among the batch's keys and the queue; `std`, normalised std of the queries.
 *
 * With `mochi`, from step `mochi.startStep` on (and once the queue holds
 * keys), each query also gets its own synthetic negatives
 * (`mochiNegatives`, seeded by the step's seed) in its logits
 * (`infoNceWithSynthetic`); no gradient flows through them. With
 * `mixed = queryMixed = 0` the loss is plain MoCo's, exactly.
 *
 * The knobs MoCo's ablations turn: `queueSize` K (at least the batch size:
 * K = B keeps only the previous batch) and `momentum` m in [0, 1]. At m = 0
 * the key network is a copy of the query network after every step (MoCo's
 * momentum ablation, Sec. 4.1: the training loss oscillates and fails to
 * converge there, the paper's explanation being keys in the queue that change
 * too fast to stay consistent; 0.99-0.9999 work); at m = 1 it stays at its
 * initial weights.
 *
 * Shapes: `batch.images` `[B, H, W, C]` (2 <= B <= queueSize) ->
 * `[B, encoderDim]` -> q, k `[B, projectionDim]`; queue
 * `[queueSize, projectionDim]` -> scalar.
 *
 * @example
 * const moco = createMoco({ encoder: models.smallCnnEncoder({ seed: 1 }), encoderDim: 128, queueSize: 4096, seed: 1 });
 * await training.train({ ...moco, optimizer: adam(1e-3), batches, steps: 500 }); // afterStep: EMA, then enqueue
 * moco.dispose(); // head, key network, queue
 * // with MoCHi: createMoco({ ..., mochi: { hardest: 256, mixed: 256, queryMixed: 64 } })
 */
export function createMoco(options: MocoOptions): Moco {
  const fn = "createMoco";
  const { augmentation, seed } = checkVisionMethodOptions(fn, options);
  const { encoder, encoderDim } = options;
  const { hidden, projectionDim } = checkProjectorOptions(fn, options, encoderDim);
  const queueSize = options.queueSize ?? 4096;
  checkPositiveInteger(fn, "options.queueSize", queueSize);
  const temperature = options.temperature ?? 0.2;
  checkPositiveNumber(fn, "options.temperature", temperature);
  const momentum = options.momentum ?? 0.99;
  checkNumberInRange(fn, "options.momentum", momentum, 0, 1);
  const mochi = options.mochi === undefined ? undefined : checkMochiOptions(fn, "options.mochi", options.mochi, queueSize);

  const projector = mlpHead({ inputDim: encoderDim, hidden, outputDim: projectionDim, seed, name: "moco_projector" });
  const keyEncoder = createEma(encoder, { momentum, name: `${encoder.name}_moco_key`, rule: options.emaRule });
  const keyProjector = createEma(projector, { momentum, name: "moco_projector_key", rule: options.emaRule });
  const queue = createKeyQueue({ size: queueSize, dim: projectionDim });
  // This step's keys, from `loss` to `afterStep`.
  let pending: tf.Tensor2D | undefined;
  const dropPending = () => {
    pending?.dispose();
    pending = undefined;
  };
  const where = "MoCo.loss";
  return {
    name: mochi === undefined ? "MoCo v2" : "MoCo v2 + MoCHi",
    encoder,
    trainable: [encoder, projector],
    target: { encoder: keyEncoder.target, projector: keyProjector.target },
    queue,
    mochi,
    loss(batch, ctx) {
      const images = checkVisionBatch(where, batch);
      if (images.shape[0] > queueSize) {
        throw new Error(`${where}: batch.images must have at most queueSize = ${queueSize} rows, got [${images.shape.join(", ")}]`);
      }
      // A step whose loss was not finite never reached afterStep.
      dropPending();
      const [x1, x2] = augmentation(images, ctx.seed);
      const q = losses.l2NormalizeRows(applyChecked(where, "projector", projector, applyChecked(where, "encoder", encoder, x1, encoderDim), projectionDim));
      const keyFeatures = applyChecked(where, "key encoder", keyEncoder.target, x2, encoderDim, false);
      const k = losses.l2NormalizeRows(applyChecked(where, "key projector", keyProjector.target, keyFeatures, projectionDim, false));
      const negatives = queue.filled > 0 ? queue.keys() : undefined;
      const mixing = mochi !== undefined && negatives !== undefined && ctx.step >= mochi.startStep && mochi.mixed + mochi.queryMixed > 0;
      const loss = mixing
        ? infoNceWithSynthetic(q, k, { temperature, negatives, synthetic: synthesise(q, negatives, mochi, deriveSeed(ctx.seed, MOCHI_STREAM)) })
        : losses.infoNCE(q, k, { temperature, negatives });
      pending = tf.keep(k.clone());
      return { loss, metrics: { accuracy: keyAccuracy(q, k, negatives), std: normalizedStd(q) } };
    },
    negativeSimilarities(images, similarityOptions = {}) {
      const where = "MoCo.negativeSimilarities";
      checkOptions(where, similarityOptions, "{seed?, mochi?}");
      const seed = similarityOptions.seed ?? 0;
      checkInteger(where, "options.seed", seed);
      const settings = similarityOptions.mochi === undefined ? mochi : checkMochiOptions(where, "options.mochi", similarityOptions.mochi, queueSize);
      checkVisionBatch(where, { images });
      if (queue.filled === 0) return { queue: new Float32Array(0), synthetic: new Float32Array(0) };
      const [q, keys] = tf.tidy(() => [
        losses.l2NormalizeRows(applyChecked(where, "projector", projector, applyChecked(where, "encoder", encoder, images, encoderDim, false), projectionDim, false)),
        queue.keys(),
      ]) as [tf.Tensor2D, tf.Tensor2D];
      const synthetic = settings === undefined ? undefined : synthesise(q, keys, settings, seed);
      try {
        return negativeSimilarities(q, keys, synthetic);
      } finally {
        tf.dispose([q, keys, synthetic as tf.Tensor]);
      }
    },
    afterStep() {
      if (pending === undefined) throw new Error("MoCo.afterStep: keys must come from this step's loss, got none (call loss first)");
      keyEncoder.update();
      keyProjector.update();
      queue.enqueue(pending);
      dropPending();
    },
    dispose() {
      dropPending();
      projector.dispose();
      keyEncoder.dispose();
      keyProjector.dispose();
      queue.dispose();
    },
  };
}

/** MoCHi's negatives for `q` from the keys held, with N capped by how many there are while the queue fills. */
function synthesise(q: tf.Tensor2D, keys: tf.Tensor2D, mochi: Required<MocoMochiOptions>, seed: number): tf.Tensor3D {
  return mochiNegatives(q, keys, { hardest: Math.min(mochi.hardest, keys.shape[0]), mixed: mochi.mixed, queryMixed: mochi.queryMixed, seed });
}

/** `options.mochi` checked, defaults filled in. */
function checkMochiOptions(fn: string, arg: string, mochi: MocoMochiOptions, queueSize: number): Required<MocoMochiOptions> {
  if (mochi === null || typeof mochi !== "object") throw new Error(`${fn}: ${arg} must be an object {hardest?, mixed?, queryMixed?, startStep?}, got ${describe(mochi)}`);
  const filled = { hardest: mochi.hardest ?? Math.min(256, queueSize), mixed: mochi.mixed ?? 256, queryMixed: mochi.queryMixed ?? 64, startStep: mochi.startStep ?? 0 };
  checkIntegerInRange(fn, `${arg}.hardest`, filled.hardest, 1, queueSize);
  checkNonNegativeInteger(fn, `${arg}.mixed`, filled.mixed);
  checkNonNegativeInteger(fn, `${arg}.queryMixed`, filled.queryMixed);
  checkNonNegativeInteger(fn, `${arg}.startStep`, filled.startStep);
  return filled;
}

/** Share of queries whose own key has the largest logit among the batch's keys and the queue. */
function keyAccuracy(q: tf.Tensor2D, k: tf.Tensor2D, negatives: tf.Tensor2D | undefined): tf.Scalar {
  return tf.tidy(() => {
    const candidates = negatives === undefined ? k : tf.concat([k, negatives], 0);
    const logits = tf.matMul(q, tf.transpose(candidates));
    const own = tf.range(0, q.shape[0], 1, "int32");
    return tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), own), "float32")) as tf.Scalar;
  });
}
