/**
 * Nearest-neighbour contrastive learning (NNCLR): Dwibedi, Aytar, Tompson,
 * Sermanet & Zisserman (2021), "With a Little Help from My Friends:
 * Nearest-Neighbor Contrastive Learning of Visual Representations". Like
 * SimCLR, but the positive of a view is the nearest neighbour of its
 * embedding in a support set (a FIFO queue of past embeddings): another
 * image that looks alike, a variation no augmentation produces.
 */
import { tf } from "../../backend/tf";
import * as losses from "../../losses";
import { mlpHead } from "../../models/encoders";
import { createKeyQueue, type KeyQueue } from "../../models/queue";
import type { StepContext } from "../../training/loop";
import type { VisionBatch, VisionMethod } from "./method";
import { applyChecked, checkHidden, checkPositiveInteger, checkPositiveNumber, checkVisionBatch, checkProjectorOptions, checkVisionMethodOptions, type VisionMethodOptions } from "./checks";
import { normalizedStd } from "./collapse";

/** Options of {@link createNnclr}. */
export interface NnclrOptions extends VisionMethodOptions {
  /** Hidden sizes of the projector (each Dense, BatchNorm, ReLU); default `[encoderDim]` (the paper: 2048). */
  hidden?: number[];
  /** Hidden sizes of the predictor (each Dense, ReLU); default `[encoderDim]` (the paper: 4096). */
  predictorHidden?: number[];
  /** Embedding size; default 64 (the paper's 256, scaled to MNIST's 128-d encoder). */
  projectionDim?: number;
  /** Support-set (queue) size; default 4096 (the paper's 98304, for 60000 MNIST images rather than 1.28M). */
  queueSize?: number;
  /** Temperature tau; default 0.1 (the paper's). */
  temperature?: number;
}

/** NNCLR: a {@link VisionMethod} with its support set (checkpoint `queue.buffer` and `queue.state`). */
export interface NnclrMethod extends VisionMethod {
  /** The support set Q `[queueSize, projectionDim]` of L2-normalised embeddings. */
  readonly queue: KeyQueue;
}

/**
 * Builds NNCLR around `encoder`: a projector g (Dense+BN+ReLU per entry of
 * `hidden`, Dense(projectionDim)), a predictor q (Dense+ReLU per entry of
 * `predictorHidden`, Dense(projectionDim)), and, with z = normalise(g(f(view))),
 * p = normalise(q(g(f(view)))) and NN(z) the row of the support set Q with
 * the largest cosine similarity to z, the symmetric loss (paper eq. 2 with
 * the prediction head of its Sec. 4)
 *
 *   L = 1/2 (L(NN(z1), p2) + L(NN(z2), p1)),
 *   L(a, b) = 1/B sum_i -log( exp(a_i.b_i/tau) / sum_k exp(a_i.b_k/tau) ).
 *
 * NN(z) is a constant (no gradient reaches Q or flows through the search),
 * so gradients flow only through p. The two views go through the networks
 * in one call of 2B rows. `afterStep` enqueues the step's z1. On the first
 * step the queue is empty and NN(z) = z (SimCLR with a predictor). Batch
 * size must not exceed `queueSize`. Metric `std`: {@link normalizedStd} of z1.
 *
 * Shapes: `batch.images` `[B, H, W, C]` (2 <= B <= queueSize) -> encoder
 * `[2B, encoderDim]` -> z, p `[2B, projectionDim]` -> scalar loss.
 *
 * @example
 * const method = createNnclr({ encoder: smallCnnEncoder({ seed: 1 }), encoderDim: 128, seed: 1 });
 * await training.train({ ...method, optimizer: adam(1e-3), batches: (epoch, rng) => imageBatches(rng), steps: 1000 });
 * method.dispose();
 */
export function createNnclr(options: NnclrOptions): NnclrMethod {
  const fn = "createNnclr";
  const { augmentation, seed } = checkVisionMethodOptions(fn, options);
  const { encoder, encoderDim } = options;
  const { hidden, projectionDim } = checkProjectorOptions(fn, options, encoderDim);
  const predictorHidden = options.predictorHidden ?? [encoderDim];
  checkHidden(fn, "options.predictorHidden", predictorHidden);
  const queueSize = options.queueSize ?? 4096;
  checkPositiveInteger(fn, "options.queueSize", queueSize);
  const temperature = options.temperature ?? 0.1;
  checkPositiveNumber(fn, "options.temperature", temperature);

  const projector = mlpHead({ inputDim: encoderDim, hidden, outputDim: projectionDim, batchNorm: true, seed, name: "nnclr_projector" });
  const predictor = mlpHead({ inputDim: projectionDim, hidden: predictorHidden, outputDim: projectionDim, seed: seed + 1, name: "nnclr_predictor" });
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
  const where = "NNCLR.loss";

  return {
    name: "NNCLR",
    encoder,
    trainable: [encoder, projector, predictor],
    queue,
    loss(batch: VisionBatch, ctx: StepContext) {
      const images = checkVisionBatch(where, batch);
      if (images.shape[0] > queueSize) {
        throw new Error(`${where}: batch.images must have at most queueSize = ${queueSize} rows, got [${images.shape.join(", ")}]`);
      }
      dropPending();
      const [v1, v2] = augmentation(images, ctx.seed);
      const h = applyChecked(where, "encoder", encoder, tf.concat([v1, v2], 0), encoderDim);
      const g = applyChecked(where, "projector", projector, h, projectionDim);
      const p = losses.l2NormalizeRows(applyChecked(where, "predictor", predictor, g, projectionDim));
      const z = losses.l2NormalizeRows(g);
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
      const loss = tf.mul(tf.add(losses.infoNCE(nn1, p2, { temperature }), losses.infoNCE(nn2, p1, { temperature })), 0.5) as tf.Scalar;
      pending = tf.keep(z1.clone());
      return { loss, metrics: { std: normalizedStd(z1) } };
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
