/**
 * SwAV (Caron, Misra, Mairal, Goyal, Bojanowski & Joulin 2020, "Unsupervised
 * Learning of Visual Features by Contrasting Cluster Assignments"): each view
 * predicts the cluster assignment (code) of the other view, where the codes
 * are soft assignments to K learned prototypes that Sinkhorn-Knopp forces to
 * use every prototype equally.
 */
import { tf } from "../../backend/tf";
import * as losses from "../../losses";
import { mlpHead } from "../../models/encoders";
import { createKeyQueue, type KeyQueue } from "../../models/queue";
import { sinkhorn } from "../sinkhorn";
import type { VisionMethod } from "./method";
import {
  applyChecked,
  checkPositiveInteger,
  checkPositiveNumber,
  checkVisionBatch,
  checkVisionMethodOptions,
  type VisionMethodOptions,
  checkProjectorOptions,
  checkNonNegativeInteger,
} from "./checks";
import { normalizedStd } from "./collapse";

/** Options of {@link createSwav}. */
export interface SwavOptions extends VisionMethodOptions {
  /** Hidden sizes of the projector (each Linear, BatchNorm, ReLU); default `[encoderDim]` (the paper: 2048). */
  hidden?: number[];
  /** Size of z; default 64 (the paper: 128). */
  projectionDim?: number;
  /** K, the number of prototypes; default 30 (the paper: 3000 for ImageNet's 1000 classes; MNIST has 10). */
  numPrototypes?: number;
  /**
   * Temperature tau of the softmax over prototype scores; default 0.2 (the
   * paper: 0.1). In 50-step MNIST runs (batch 256) 0.2 gave a kNN accuracy of
   * 0.90 where 0.1 gave 0.87, at the same linear probe.
   */
  temperature?: number;
  /** Entropy weight epsilon of Sinkhorn-Knopp; default 0.05 (the paper). */
  epsilon?: number;
  /** Sinkhorn-Knopp iterations; default 3 (the paper). */
  sinkhornIterations?: number;
  /**
   * Steps during which the prototypes get no gradient (the encoder and
   * projector still train); default 20 (the paper: its first epoch, 313 steps
   * of 4096 images). 0 trains them from the first step.
   */
  freezePrototypesSteps?: number;
  /**
   * Rows of each view's queue of past embeddings that join the batch in the
   * Sinkhorn equipartition; default 0 = no queue (the paper: 3840 when a GPU
   * sees fewer than 256 images). Used once full, as the paper's code.
   */
  queueSize?: number;
}

/** The SwAV method, with its prototypes (and queues, when `queueSize` > 0). */
export interface Swav extends VisionMethod {
  /** C `[numPrototypes, projectionDim]`, trainable, rows kept unit-norm by `afterStep`. Read it; do not assign to it. */
  readonly prototypes: tf.Variable;
  /** One queue of past embeddings z per view, `[queueSize, projectionDim]` each; absent when `queueSize` is 0. */
  readonly queues?: readonly [KeyQueue, KeyQueue];
}

/**
 * SwAV: z = normalise(g(f(x))) for two views by the encoder f and projector
 * g, scores s = z C^T against the K unit-norm prototypes C, codes
 * q = sinkhorn(s) (epsilon, 3 iterations; no gradient, as the paper's
 * `torch.no_grad()`), and the swapped prediction loss (eq. 1-2)
 *
 *   L = 1/2 [ l(s1, q2) + l(s2, q1) ],
 *   l(s, q) = -1/B sum_i sum_k q_ik log softmax(s_i / tau)_k
 *
 * (`losses.softTargetCrossEntropy`). The paper writes eq. 1 as the sum of
 * the two terms; its code divides by the number of swapped pairs, giving
 * the mean used here. Gradient reaches f, g and C through the scores.
 *
 * After each optimizer step `afterStep` renormalises C's rows (the paper
 * normalises them before every step, outside the gradient); C is created
 * unit-norm. For the first `freezePrototypesSteps` steps C gets a zero
 * gradient (the paper's code cancels it during the first epoch), so the
 * prototypes start moving once the embeddings are no longer random.
 * With `queueSize` > 0 each view keeps a FIFO of its past z (filled in
 * `afterStep`, with this step's z); once full, the queue's scores against the
 * current C join the batch's in Sinkhorn, so equipartition holds over
 * B + queueSize rows, and only the batch's codes are used.
 *
 * Not done: multi-crop (the paper's 2 x 224 + 6 x 96 crops, where the small
 * crops only predict codes of the two large ones): both views here are full
 * images at the data's size.
 *
 * Metrics: `std`, normalised std of z1 ({@link normalizedStd}); `codeEntropy`,
 * entropy (nats) of the batch-mean code of view 1 (log K when Sinkhorn
 * spreads the batch over every prototype); `usedPrototypes`, how many
 * prototypes are the argmax of some code of view 1; `nearestPrototypes`,
 * how many are the nearest prototype (argmax score) of some z1, the
 * assignment before Sinkhorn, which shrinks if the embedding collapses.
 *
 * Shapes: `batch.images` `[B, H, W, C]` (B >= 2; B <= queueSize with a
 * queue) -> `[B, encoderDim]` -> z `[B, projectionDim]` -> s, q `[B, K]` -> scalar.
 *
 * @example
 * const swav = createSwav({ encoder: models.smallCnnEncoder({ seed: 1 }), encoderDim: 128, numPrototypes: 30, seed: 1 });
 * await training.train({ ...swav, optimizer: adam(1e-3), batches, steps: 100 }); // afterStep renormalises C
 * swav.prototypes.arraySync(); // [30, 64], unit rows
 * swav.dispose(); // projector, prototypes, queues
 */
export function createSwav(options: SwavOptions): Swav {
  const fn = "createSwav";
  const { augmentation, seed } = checkVisionMethodOptions(fn, options);
  const { encoder, encoderDim } = options;
  const { hidden, projectionDim } = checkProjectorOptions(fn, options, encoderDim);
  const numPrototypes = options.numPrototypes ?? 30;
  checkPositiveInteger(fn, "options.numPrototypes", numPrototypes);
  if (numPrototypes < 2) throw new Error(`${fn}: options.numPrototypes must be at least 2, got ${numPrototypes}`);
  const temperature = options.temperature ?? 0.2;
  checkPositiveNumber(fn, "options.temperature", temperature);
  const epsilon = options.epsilon ?? 0.05;
  checkPositiveNumber(fn, "options.epsilon", epsilon);
  const iterations = options.sinkhornIterations ?? 3;
  checkPositiveInteger(fn, "options.sinkhornIterations", iterations);
  const freezeSteps = options.freezePrototypesSteps ?? 20;
  checkNonNegativeInteger(fn, "options.freezePrototypesSteps", freezeSteps);
  const queueSize = options.queueSize ?? 0;
  checkNonNegativeInteger(fn, "options.queueSize", queueSize);

  const projector = mlpHead({ inputDim: encoderDim, hidden, outputDim: projectionDim, batchNorm: true, seed, name: "swav_projector" });
  // Directions uniform on the sphere: normalised Gaussian rows.
  const prototypes = tf.tidy(() =>
    tf.variable(losses.l2NormalizeRows(tf.randomNormal([numPrototypes, projectionDim], 0, 1, "float32", seed + 1) as tf.Tensor2D), true),
  );
  const queues: [KeyQueue, KeyQueue] | undefined =
    queueSize > 0 ? [createKeyQueue({ size: queueSize, dim: projectionDim }), createKeyQueue({ size: queueSize, dim: projectionDim })] : undefined;
  // This step's z1, z2 (detached copies), from `loss` to `afterStep`, for the queues.
  let pending: [tf.Tensor2D, tf.Tensor2D] | undefined;
  const dropPending = () => {
    tf.dispose(pending);
    pending = undefined;
  };
  const where = "SwAV.loss";
  const embed = (x: tf.Tensor4D): tf.Tensor2D =>
    losses.l2NormalizeRows(applyChecked(where, "projector", projector, applyChecked(where, "encoder", encoder, x, encoderDim), projectionDim));
  // Codes of the batch's rows; with a full queue, equipartitioned over [batch; queue].
  const codes = (scores: tf.Tensor2D, c: tf.Tensor2D, queue: KeyQueue | undefined): tf.Tensor2D => {
    if (queue === undefined || queue.filled < queue.size) return sinkhorn(scores, { epsilon, iterations });
    const past = queue.keys();
    const all = sinkhorn(tf.concat([scores, tf.matMul(past, c, false, true) as tf.Tensor2D], 0), { epsilon, iterations });
    return tf.slice(all, [0, 0], [scores.shape[0], numPrototypes]) as tf.Tensor2D;
  };
  return {
    name: "SwAV",
    encoder,
    trainable: [encoder, projector, prototypes],
    prototypes,
    queues,
    loss(batch, ctx) {
      const images = checkVisionBatch(where, batch);
      if (images.shape[0] > queueSize && queueSize > 0) {
        throw new Error(`${where}: batch.images must have at most queueSize = ${queueSize} rows, got [${images.shape.join(", ")}]`);
      }
      // A step whose loss was not finite never reached afterStep.
      dropPending();
      const [x1, x2] = augmentation(images, ctx.seed);
      const z1 = embed(x1);
      const z2 = embed(x2);
      // Frozen prototypes: a zero gradient, so Adam/SGD leave them where they are.
      const c = (ctx.step < freezeSteps ? losses.stopGradient(prototypes) : prototypes) as tf.Tensor2D;
      const s1 = tf.matMul(z1, c, false, true) as tf.Tensor2D;
      const s2 = tf.matMul(z2, c, false, true) as tf.Tensor2D;
      const q1 = codes(s1, c, queues?.[0]);
      const q2 = codes(s2, c, queues?.[1]);
      const loss = tf.mul(
        tf.add(losses.softTargetCrossEntropy(s1, q2, { temperature }), losses.softTargetCrossEntropy(s2, q1, { temperature })),
        0.5,
      ) as tf.Scalar;
      if (queues) pending = [tf.keep(z1.clone()), tf.keep(z2.clone())];
      return { loss, metrics: { std: normalizedStd(z1), ...prototypeUsage(s1, q1) } };
    },
    afterStep() {
      tf.tidy(() => prototypes.assign(losses.l2NormalizeRows(prototypes as tf.Tensor2D)));
      if (queues) {
        if (pending === undefined) throw new Error("SwAV.afterStep: embeddings must come from this step's loss, got none (call loss first)");
        queues[0].enqueue(pending[0]);
        queues[1].enqueue(pending[1]);
        dropPending();
      }
    },
    dispose() {
      dropPending();
      projector.dispose();
      prototypes.dispose();
      queues?.forEach((q) => q.dispose());
    },
  };
}


/** Collapse and usage signals of one view: entropy of the mean code, distinct argmax codes and distinct nearest prototypes. */
function prototypeUsage(scores: tf.Tensor2D, codes: tf.Tensor2D): { codeEntropy: tf.Scalar; usedPrototypes: tf.Scalar; nearestPrototypes: tf.Scalar } {
  return tf.tidy(() => {
    const k = scores.shape[1];
    const mean = tf.mean(codes, 0);
    // 0 log 0 = 0: clamp inside the log only.
    const codeEntropy = tf.neg(tf.sum(tf.mul(mean, tf.log(tf.maximum(mean, 1e-30))))) as tf.Scalar;
    const distinct = (m: tf.Tensor2D) => tf.sum(tf.max(tf.oneHot(tf.argMax(m, 1), k), 0)).toFloat() as tf.Scalar;
    return { codeEntropy, usedPrototypes: distinct(codes), nearestPrototypes: distinct(scores) };
  });
}
