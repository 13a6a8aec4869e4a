/**
 * Nearest-neighbour contrastive learning (NNCLR): Dwibedi, Aytar, Tompson,
 * Sermanet & Zisserman (2021), "With a Little Help from My Friends:
 * Nearest-Neighbor Contrastive Learning of Visual Representations". Like
 * SimCLR, but the positive of a view is the nearest neighbour of its
 * embedding in a support set (a FIFO queue of past embeddings): another
 * image that looks alike, a variation no augmentation produces.
 */
import { tf } from "../../backend/tf";
import { twoViews, simclrAugment } from "../../augment/compose";
import type { TwoViewAugment } from "../../augment/augmentation";
import { infoNCE } from "../../losses/info_nce";
import { l2NormalizeRows } from "../../losses/ops/similarity";
import { mlpHead } from "../../models/encoders";
import { createKeyQueue, KeyQueue } from "../../models/queue";
import type { StepContext } from "../../train/loop";
import type { VisionBatch, VisionMethod } from "./method";
import { checkPositiveInteger } from "./checks";

/** Options of {@link createNnclr}. */
export interface NnclrOptions {
  /** The encoder `[B, 28, 28, 1] -> [B, encoderDim]`; trained, never disposed by the method. */
  encoder: tf.LayersModel;
  /** Size of the encoder's output. */
  encoderDim: number;
  /** The two views of a batch; default `twoViews(simclrAugment())`. */
  augmentation?: TwoViewAugment;
  /** Hidden size of the projector and predictor; default `encoderDim` (the paper: 2048 and 4096). */
  hiddenDim?: number;
  /** Embedding size; default 64 (the paper's 256, scaled to MNIST's 128-d encoder). */
  projectionDim?: number;
  /** Support-set (queue) size; default 4096 (the paper's 98304, for 60000 MNIST images rather than 1.28M). */
  queueSize?: number;
  /** Temperature tau; default 0.1 (the paper's). */
  temperature?: number;
  /** Seed of the heads' initial weights; default 0. */
  seed?: number;
}

/** NNCLR: a {@link VisionMethod} with its support set (checkpoint `queue.buffer` and `queue.state`). */
export interface NnclrMethod extends VisionMethod {
  /** The support set Q `[queueSize, projectionDim]` of L2-normalised embeddings. */
  readonly queue: KeyQueue;
}

/**
 * Builds NNCLR around `encoder`: a projector g (Dense(hiddenDim)+BN+ReLU,
 * Dense(projectionDim)), a predictor q (Dense(hiddenDim)+ReLU,
 * Dense(projectionDim)), and, with z = normalise(g(f(view))),
 * p = normalise(q(g(f(view)))) and NN(z) the row of the support set Q with
 * the largest cosine similarity to z, the symmetric loss (paper eq. 2 with
 * the prediction head of its Sec. 4)
 *
 *   L = 1/2 (L(NN(z1), p2) + L(NN(z2), p1)),
 *   L(a, b) = 1/B sum_i -log( exp(a_i.b_i/tau) / sum_k exp(a_i.b_k/tau) ).
 *
 * NN(z) is a constant (no gradient reaches Q or flows through the search),
 * so gradients flow only through p. `afterStep` enqueues the step's z1. On
 * the first step the queue is empty and NN(z) = z (SimCLR with a
 * predictor). Batch size must not exceed `queueSize`.
 *
 * Shapes: `batch.images` `[B, 28, 28, 1]` -> scalar loss.
 *
 * @example
 * const method = createNnclr({ encoder: smallCnnEncoder({ seed: 1 }), encoderDim: 128, seed: 1 });
 * await training.train({ ...method, optimizer: adam(1e-3), batches: (epoch, rng) => imageBatches(rng), steps: 1000 });
 * method.dispose();
 */
export function createNnclr(options: NnclrOptions): NnclrMethod {
  const fn = "createNnclr";
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object, got ${options}`);
  const { encoder, encoderDim } = options;
  if (!(encoder instanceof tf.LayersModel)) throw new Error(`${fn}: encoder must be a tf.LayersModel, got ${typeof encoder}`);
  checkPositiveInteger("createNnclr", "encoderDim", encoderDim);
  const hiddenDim = options.hiddenDim ?? encoderDim;
  const projectionDim = options.projectionDim ?? 64;
  const queueSize = options.queueSize ?? 4096;
  checkPositiveInteger("createNnclr", "hiddenDim", hiddenDim);
  checkPositiveInteger("createNnclr", "projectionDim", projectionDim);
  checkPositiveInteger("createNnclr", "queueSize", queueSize);
  const temperature = options.temperature ?? 0.1;
  if (!(Number.isFinite(temperature) && temperature > 0)) throw new Error(`${fn}: temperature must be a finite number > 0, got ${temperature}`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}`);
  const augmentation = options.augmentation ?? twoViews(simclrAugment());
  if (typeof augmentation !== "function") throw new Error(`${fn}: augmentation must be a function (images, seed) => [view1, view2], got ${typeof augmentation}`);

  const projector = mlpHead({ inputDim: encoderDim, hidden: [hiddenDim], outputDim: projectionDim, batchNorm: true, seed, name: "nnclr_projector" });
  const predictor = mlpHead({ inputDim: projectionDim, hidden: [hiddenDim], outputDim: projectionDim, seed: seed + 1, name: "nnclr_predictor" });
  const queue = createKeyQueue({ size: queueSize, dim: projectionDim });
  // The step's z1, kept from the loss for afterStep's enqueue.
  let pending: tf.Tensor2D | undefined;
  const dropPending = () => {
    pending?.dispose();
    pending = undefined;
  };

  /** Nearest support-set rows of `z` `[B, D]`, computed from a detached copy so the search is off the gradient tape. */
  const nearest = (z: tf.Tensor2D, support: tf.Tensor2D): tf.Tensor2D => {
    const detached = tf.tensor2d(z.dataSync(), z.shape);
    return tf.gather(support, tf.argMax(tf.matMul(detached, tf.transpose(support)), 1));
  };

  return {
    name: "NNCLR",
    encoder,
    trainable: [encoder, projector, predictor],
    queue,
    loss(batch: VisionBatch, ctx: StepContext) {
      const where = "NNCLR.loss";
      const { images } = batch;
      if (!(images instanceof tf.Tensor) || images.rank !== 4) {
        throw new Error(`${where}: batch.images must be a tf.Tensor4D [B, 28, 28, 1], got ${images instanceof tf.Tensor ? `[${images.shape}]` : typeof images}`);
      }
      const b = images.shape[0];
      if (b > queueSize) throw new Error(`${where}: the batch size must be at most queueSize ${queueSize}, got ${b}`);
      dropPending();
      const [v1, v2] = augmentation(images, ctx.seed);
      const h = encoder.apply(tf.concat([v1, v2], 0), { training: true }) as tf.Tensor2D;
      if (h.rank !== 2 || h.shape[1] !== encoderDim) throw new Error(`${where}: the encoder must output [${2 * b}, ${encoderDim}], got [${h.shape}]`);
      const g = projector.apply(h, { training: true }) as tf.Tensor2D;
      const p = l2NormalizeRows(predictor.apply(g, { training: true }) as tf.Tensor2D);
      const z = l2NormalizeRows(g);
      const [z1, z2] = tf.split(z, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
      const [p1, p2] = tf.split(p, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
      let nn1: tf.Tensor2D;
      let nn2: tf.Tensor2D;
      if (queue.filled === 0) {
        nn1 = z1;
        nn2 = z2;
      } else {
        const support = queue.keys();
        nn1 = nearest(z1, support);
        nn2 = nearest(z2, support);
      }
      const loss = tf.mul(tf.add(infoNCE(nn1, p2, { temperature }), infoNCE(nn2, p1, { temperature })), 0.5) as tf.Scalar;
      pending = tf.keep(z1.clone());
      return { loss };
    },
    afterStep() {
      if (!pending) return;
      const z1 = pending;
      pending = undefined;
      try {
        queue.enqueue(z1);
      } finally {
        z1.dispose();
      }
    },
    dispose() {
      dropPending();
      projector.dispose();
      predictor.dispose();
      queue.dispose();
    },
  };
}
