/**
 * MoCo v2 (He, Fan, Wu, Xie & Girshick 2020, "Momentum Contrast for
 * Unsupervised Visual Representation Learning"; Chen, Fan, Girshick & He
 * 2020, "Improved Baselines with Momentum Contrastive Learning"): queries
 * from the trained encoder are contrasted with keys from a momentum copy of
 * it, against a queue of the keys of past batches.
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
import { checkNumberInRange } from "../../validation/arguments";

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
}

/** The MoCo method, with its key network and queue (for checkpoints: `variables: { queue: queue.buffer, queue_state: queue.state }`). */
export interface Moco extends VisionMethod {
  /** The momentum (key) encoder and head: not trainable, moved in `afterStep`. */
  readonly target: { readonly encoder: tf.LayersModel; readonly projector: tf.LayersModel };
  /** The queue of past keys `[queueSize, projectionDim]`. */
  readonly queue: KeyQueue;
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
 * logit among all candidates; `std`, normalised std of the queries.
 *
 * Shapes: `batch.images` `[B, 28, 28, 1]` (2 <= B <= queueSize) ->
 * `[B, encoderDim]` -> q, k `[B, projectionDim]`; queue
 * `[queueSize, projectionDim]` -> scalar.
 *
 * @example
 * const moco = createMoco({ encoder: models.smallCnnEncoder({ seed: 1 }), encoderDim: 128, queueSize: 4096, seed: 1 });
 * await training.train({ ...moco, optimizer: adam(1e-3), batches, steps: 500 }); // afterStep: EMA, then enqueue
 * moco.dispose(); // head, key network, queue
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
    name: "MoCo v2",
    encoder,
    trainable: [encoder, projector],
    target: { encoder: keyEncoder.target, projector: keyProjector.target },
    queue,
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
      const loss = losses.infoNCE(q, k, { temperature, negatives });
      pending = tf.keep(k.clone());
      return { loss, metrics: { accuracy: keyAccuracy(q, k, negatives), std: normalizedStd(q) } };
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

/** Share of queries whose own key has the largest logit among the batch's keys and the queue. */
function keyAccuracy(q: tf.Tensor2D, k: tf.Tensor2D, negatives: tf.Tensor2D | undefined): tf.Scalar {
  return tf.tidy(() => {
    const candidates = negatives === undefined ? k : tf.concat([k, negatives], 0);
    const logits = tf.matMul(q, tf.transpose(candidates));
    const own = tf.range(0, q.shape[0], 1, "int32");
    return tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), own), "float32")) as tf.Scalar;
  });
}
