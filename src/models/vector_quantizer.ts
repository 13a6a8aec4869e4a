/**
 * The vector quantizer of VQ-VAE (van den Oord, Vinyals, Kavukcuoglu 2017,
 * "Neural Discrete Representation Learning", Sec. 3.1-3.2 and eq. 3). An
 * encoder output z_e(x) is replaced by its nearest entry of a learned
 * codebook e_1..e_K; the index is the discrete code. Nearest-neighbour
 * lookup has no gradient, so the decoder's gradient is copied straight
 * through to the encoder (z + sg(e - z): the forward value is e, the
 * backward is the identity), and two extra terms train the rest:
 *
 *   L = || sg(z) - e ||^2 + beta || z - sg(e) ||^2
 *
 * the codebook term moves each used code towards the vectors assigned to it,
 * the commitment term keeps the encoder close to its codes.
 */
import { tf } from "../backend/tf";
import { createRng } from "../data/random";
import { stopGradient } from "../losses/ops/stop_gradient";
import {
  checkInteger,
  checkNonNegativeNumber,
  checkOptions,
  checkPositiveInteger,
  checkTensor,
  describe,
} from "../validation/arguments";

/** Options of {@link createVectorQuantizer}. */
export interface VectorQuantizerOptions {
  /** K, the number of codes. */
  codebookSize: number;
  /** D, the length of each code vector (the encoder's channels). */
  dim: number;
  /** Weight of the commitment term; default 0.25 (the paper's). */
  beta?: number;
  /** Seed of the initial codebook; default 0. */
  seed?: number;
  /**
   * Initial codebook, row-major `[K * D]`, e.g. K encoder outputs, which
   * avoids codes that start far from every input and never win ("dead
   * codes"). Default: uniform in [-1/K, 1/K].
   */
  initialCodebook?: ArrayLike<number>;
}

/** What {@link VectorQuantizer.quantize} returns; the caller disposes it. */
export interface Quantization {
  /**
   * The nearest code of each vector, with the straight-through gradient:
   * z + sg(e - z), which is e up to the float32 rounding of that sum.
   * `[..., D]`, the shape of `z`.
   */
  quantized: tf.Tensor;
  /** Index of the nearest code (the lowest on a tie), int32 `[...]`. */
  codes: tf.Tensor;
  /**
   * mean (sg(z) - e)^2 + beta * mean (z - sg(e))^2, means over all N * D
   * entries: its gradient reaches the codebook only through the first term
   * and `z` only through the second. A scalar.
   */
  loss: tf.Scalar;
  /**
   * exp(entropy) of this batch's code histogram, no gradient: 1 when one
   * code takes every vector, K when all are used equally. A scalar.
   */
  perplexity: tf.Scalar;
}

/** A VQ-VAE codebook: its variable and what it computes. */
export interface VectorQuantizer {
  /** K. */
  readonly codebookSize: number;
  /** D. */
  readonly dim: number;
  /** Weight of the commitment term. */
  readonly beta: number;
  /** The codes, `[K, D]`. */
  readonly codebook: tf.Variable;
  /** `[codebook]`, for `training.train({ trainable })`. */
  readonly trainable: tf.Variable[];
  /**
   * Quantizes every D-vector of `z` to its nearest code (squared Euclidean
   * distance). Shapes: `z` `[..., D]` float32 -> see {@link Quantization}.
   */
  quantize(z: tf.Tensor): Quantization;
  /** The code vectors of `codes`. Shapes: int32 `[...]` -> `[..., D]`. */
  lookup(codes: tf.Tensor): tf.Tensor;
  /** How many entries of `codes` name each code. Shapes: int32 `[...]` -> `[K]` counts. */
  usage(codes: tf.Tensor): Int32Array;
  /** Frees the codebook. */
  dispose(): void;
}

/** Fails unless every entry of int32 `codes` lies in [0, k); returns the values. */
function checkCodes(fn: string, codes: unknown, k: number): Int32Array {
  checkTensor(fn, "codes", codes, "int32");
  const values = codes.dataSync() as Int32Array;
  values.forEach((c, i) => {
    if (c < 0 || c >= k) throw new Error(`${fn}: codes must lie in [0, ${k}), got ${c} at flat index ${i}`);
  });
  return values;
}

/**
 * Builds a VQ-VAE quantizer with a seeded codebook.
 *
 * Shapes: codebook `[K, D]`; `quantize`: `[..., D]` -> `[..., D]`, codes `[...]`.
 *
 * @example
 * const vq = createVectorQuantizer({ codebookSize: 64, dim: 16, seed: 1 });
 * const loss = (x: tf.Tensor4D) => {
 *   const { quantized, loss: vqLoss } = vq.quantize(encoder.apply(x) as tf.Tensor); // [B, 7, 7, 16]
 *   const recon = decoder.apply(quantized) as tf.Tensor;
 *   return tf.add(tf.losses.meanSquaredError(x, recon), vqLoss);
 * };
 * await training.train({ trainable: [encoder, decoder, ...vq.trainable], loss, ... });
 */
export function createVectorQuantizer(options: VectorQuantizerOptions): VectorQuantizer {
  const fn = "createVectorQuantizer";
  checkOptions(fn, options, "{codebookSize, dim, beta?, seed?, initialCodebook?}");
  const { codebookSize: k, dim } = options;
  const beta = options.beta ?? 0.25;
  const seed = options.seed ?? 0;
  checkPositiveInteger(fn, "options.codebookSize", k);
  checkPositiveInteger(fn, "options.dim", dim);
  checkNonNegativeNumber(fn, "options.beta", beta);
  checkInteger(fn, "options.seed", seed);
  let initial: Float32Array;
  if (options.initialCodebook !== undefined) {
    const given = options.initialCodebook;
    if (given.length !== k * dim) {
      throw new Error(`${fn}: options.initialCodebook must have length ${k} * ${dim} = ${k * dim}, got ${describe(given)}`);
    }
    initial = Float32Array.from(given);
    const bad = initial.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`${fn}: options.initialCodebook must be finite, got ${given[bad]} at ${bad}`);
  } else {
    const rng = createRng(seed);
    initial = Float32Array.from({ length: k * dim }, () => (2 * rng.next() - 1) / k);
  }
  const initialTensor = tf.tensor2d(initial, [k, dim]);
  const codebook = tf.variable(initialTensor);
  initialTensor.dispose();

  const quantize = (z: tf.Tensor): Quantization => {
    const name = "VectorQuantizer.quantize";
    const expectation = `a float32 tensor of shape [...,${dim}]`;
    checkTensor(name, "z", z, "float32");
    if (z.rank < 1 || z.shape[z.rank - 1] !== dim || z.size === 0) {
      throw new Error(`${name}: z must be ${expectation} with at least one vector, got ${describe(z)}`);
    }
    return tf.tidy(() => {
      const n = z.size / dim;
      const flat = tf.reshape(z, [n, dim]) as tf.Tensor2D;
      // ||z - e||^2 = ||z||^2 - 2 z.e + ||e||^2 without an [n, K, D] tensor.
      const distances = tf.add(
        tf.sub(tf.sum(tf.square(flat), 1, true), tf.mul(tf.matMul(flat, codebook, false, true), 2)),
        tf.sum(tf.square(codebook), 1),
      );
      const codes = tf.argMin(distances, 1);
      // The lookup as a product with one-hot rows, not tf.gather: gather's
      // gradient w.r.t. its (int32) indices is refused by the tape, since
      // they depend on z and the codebook through argMin.
      const oneHot = tf.oneHot(codes, k);
      const e = tf.matMul(oneHot, codebook);
      const codebookTerm = tf.mean(tf.square(tf.sub(stopGradient(flat), e)));
      const commitment = tf.mean(tf.square(tf.sub(flat, stopGradient(e))));
      const counts = tf.sum(oneHot, 0);
      const p = tf.div(counts, n);
      // 0 log 0 = 0: log of a clamped p, multiplied by the exact p.
      const entropy = tf.neg(tf.sum(tf.mul(p, tf.log(tf.maximum(p, 1e-30)))));
      return {
        quantized: tf.reshape(tf.add(flat, stopGradient(tf.sub(e, flat))), z.shape),
        codes: tf.reshape(codes, z.shape.slice(0, -1)),
        loss: tf.add(codebookTerm, tf.mul(commitment, beta)) as tf.Scalar,
        perplexity: tf.exp(entropy) as tf.Scalar,
      };
    });
  };

  return {
    codebookSize: k,
    dim,
    beta,
    codebook,
    trainable: [codebook],
    quantize,
    lookup: (codes: tf.Tensor) => {
      checkCodes("VectorQuantizer.lookup", codes, k);
      return tf.tidy(() => tf.reshape(tf.gather(codebook, tf.reshape(codes, [-1])), [...codes.shape, dim]));
    },
    usage: (codes: tf.Tensor) => {
      const counts = new Int32Array(k);
      for (const c of checkCodes("VectorQuantizer.usage", codes, k)) counts[c]++;
      return counts;
    },
    dispose: () => codebook.dispose(),
  };
}
