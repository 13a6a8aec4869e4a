/**
 * A masked autoregressive density model for binary vectors, MADE (Germain,
 * Gregor, Murray, Larochelle 2015): the network form of NADE (Larochelle &
 * Murray 2011). It models p(x) = prod_d p(x_d | x_<d) for one ordering of the
 * D pixels with a plain MLP whose weights are masked so that the output for
 * pixel d sees only the pixels before d in the ordering.
 *
 * Beside it, the baseline it has to beat: independent Bernoulli pixels.
 */
import { tf } from "../backend/tf";
import { createRng } from "../data/random";
import { checkInteger, checkMatrix, checkPositiveInteger } from "../validation/arguments";

/** Options of {@link createMade}. */
export interface MadeOptions {
  /** D, the number of binary inputs (784 for MNIST). */
  inputDim: number;
  /**
   * Hidden layer sizes, each followed by ReLU; default `[500]`. `[]` gives a
   * masked logistic regression per pixel (a fully visible sigmoid belief net).
   */
  hiddenUnits?: number[];
  /**
   * The ordering: `"natural"` (pixel 0 first, the default), `"random"` (a
   * seeded permutation), or an explicit permutation `order[i]` = the pixel
   * generated i-th.
   */
  order?: "natural" | "random" | ArrayLike<number>;
  /** Seed of the ordering, the hidden units' degrees and the weights; default 0. */
  seed?: number;
  /**
   * Initial output biases `[D]` (logits). Setting them to the logits of the
   * pixel frequencies starts the model at the independent-Bernoulli baseline.
   * Default zeros.
   */
  outputBias?: ArrayLike<number>;
}

/** A MADE network: its masks, its variables, and what it computes. */
export interface Made {
  /** D. */
  readonly inputDim: number;
  /** Hidden layer sizes. */
  readonly hiddenUnits: readonly number[];
  /** `order[i]` is the pixel generated i-th. */
  readonly order: Int32Array;
  /**
   * The degree of every unit, layer by layer: `degrees[0]` `[D]` for the
   * inputs (1 + position of the pixel in the ordering), then one array per
   * hidden layer (values in [1, D-1]). Unit k of layer l feeds unit j of
   * layer l+1 iff degree_l(k) <= degree_{l+1}(j); an output d sees unit k of
   * the last layer iff degree(k) < degree_0(d).
   */
  readonly degrees: readonly Int32Array[];
  /** The 0/1 masks, one per weight matrix, `[fanIn, fanOut]`. */
  readonly masks: readonly tf.Tensor2D[];
  /** Weight matrices `[fanIn, fanOut]` (used through their masks). */
  readonly weights: readonly tf.Variable[];
  /** Bias vectors `[fanOut]`; the last one is the output bias `[D]`. */
  readonly biases: readonly tf.Variable[];
  /** Every trainable variable, for `training.train({ trainable })`. */
  readonly trainable: tf.Variable[];
  /**
   * The logits of p(x_d = 1 | x_<d) for every d.
   * Shapes: `[batch, D]` in {0, 1} -> `[batch, D]`.
   */
  logits(x: tf.Tensor2D): tf.Tensor2D;
  /**
   * Negative log-likelihood of each row in nats.
   * Shapes: `[batch, D]` in {0, 1} -> `[batch]`.
   */
  nll(x: tf.Tensor2D): tf.Tensor1D;
  /** Frees the variables and masks. */
  dispose(): void;
}

function checkPermutation(fn: string, order: ArrayLike<number>, d: number): Int32Array {
  if (order.length !== d) throw new Error(`${fn}: order must have length ${d}, got ${order.length}`);
  const seen = new Uint8Array(d);
  for (let i = 0; i < d; i++) {
    const p = order[i];
    if (!Number.isInteger(p) || p < 0 || p >= d || seen[p]) {
      throw new Error(`${fn}: order must be a permutation of 0..${d - 1}, got ${p} at position ${i}`);
    }
    seen[p] = 1;
  }
  return Int32Array.from(order);
}

/** A variable holding `t`'s values; `t` is disposed (a variable keeps its own reference). */
function variableFrom(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t);
  t.dispose();
  return v;
}

/**
 * Builds a MADE with masks from a fixed (seeded) ordering and seeded weights.
 * Hidden degrees are drawn uniformly from [min degree of the layer below, D-1]
 * as in the paper, so no hidden unit is dead; weights are Glorot-uniform.
 *
 * Shapes: inputs and outputs `[batch, D]`.
 *
 * @example
 * const made = createMade({ inputDim: 784, hiddenUnits: [500], seed: 1 });
 * const nll = made.nll(xBatch); // [batch] nats
 */
export function createMade(options: MadeOptions): Made {
  const fn = "createMade";
  const d = options.inputDim;
  checkPositiveInteger(fn, "inputDim", d);
  const hiddenUnits = options.hiddenUnits ?? [500];
  hiddenUnits.forEach((h, i) => checkPositiveInteger(fn, `hiddenUnits[${i}]`, h));
  if (hiddenUnits.length > 0 && d < 2) {
    throw new Error(`${fn}: inputDim must be at least 2 with hidden layers, got ${d}`);
  }
  const seed = options.seed ?? 0;
  checkInteger(fn, "seed", seed);
  const rng = createRng(seed);
  const orderOption = options.order ?? "natural";
  let order: Int32Array;
  if (orderOption === "natural") order = Int32Array.from({ length: d }, (_, i) => i);
  else if (orderOption === "random") order = rng.permutation(d);
  else if (typeof orderOption === "string") {
    throw new Error(`${fn}: order must be "natural", "random" or a permutation, got "${orderOption}"`);
  } else order = checkPermutation(fn, orderOption, d);
  if (options.outputBias !== undefined && options.outputBias.length !== d) {
    throw new Error(`${fn}: outputBias must have length ${d}, got ${options.outputBias.length}`);
  }

  const inputDegrees = new Int32Array(d);
  order.forEach((pixel, position) => (inputDegrees[pixel] = position + 1));
  const degrees: Int32Array[] = [inputDegrees];
  for (const h of hiddenUnits) {
    const below = degrees[degrees.length - 1];
    const low = Math.min(...Array.from(below), d - 1);
    degrees.push(Int32Array.from({ length: h }, () => low + rng.int(d - low)));
  }

  const sizes = [d, ...hiddenUnits, d];
  const maskValues: Float32Array[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const from = degrees[l];
    const isOutput = l + 1 === sizes.length - 1;
    const to = isOutput ? inputDegrees : degrees[l + 1];
    const m = new Float32Array(from.length * to.length);
    for (let k = 0; k < from.length; k++) {
      for (let j = 0; j < to.length; j++) {
        m[k * to.length + j] = (isOutput ? from[k] < to[j] : from[k] <= to[j]) ? 1 : 0;
      }
    }
    maskValues.push(m);
  }

  const masks: tf.Tensor2D[] = [];
  const weights: tf.Variable[] = [];
  const biases: tf.Variable[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [fanIn, fanOut] = [sizes[l], sizes[l + 1]];
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const w = Float32Array.from({ length: fanIn * fanOut }, () => (2 * rng.next() - 1) * limit);
    masks.push(tf.tensor2d(maskValues[l], [fanIn, fanOut]));
    weights.push(variableFrom(tf.tensor2d(w, [fanIn, fanOut])));
    const isOutput = l + 1 === sizes.length - 1;
    const b = isOutput && options.outputBias !== undefined ? Float32Array.from(options.outputBias) : new Float32Array(fanOut);
    biases.push(variableFrom(tf.tensor1d(b)));
  }

  const logits = (x: tf.Tensor2D): tf.Tensor2D => {
    checkMatrix("Made.logits", "x", x, undefined, d, "float32");
    return tf.tidy(() => {
      let h: tf.Tensor2D = x;
      for (let l = 0; l < weights.length; l++) {
        h = tf.add(tf.matMul(h, tf.mul(weights[l], masks[l]) as tf.Tensor2D), biases[l]) as tf.Tensor2D;
        if (l + 1 < weights.length) h = tf.relu(h);
      }
      return h;
    });
  };

  return {
    inputDim: d,
    hiddenUnits: hiddenUnits.slice(),
    order,
    degrees,
    masks,
    weights,
    biases,
    trainable: [...weights, ...biases],
    logits,
    nll: (x: tf.Tensor2D) => {
      checkMatrix("Made.nll", "x", x, undefined, d, "float32");
      return tf.tidy(() => bernoulliNll(logits(x), x));
    },
    dispose: () => tf.dispose([...masks, ...weights, ...biases]),
  };
}

/**
 * The negative log-likelihood of binary rows under independent Bernoullis
 * given by logits, summed over each row, in nats: sum_d softplus(l_d) - x_d l_d
 * (the sigmoid cross-entropy, stable for any logit).
 *
 * Shapes: `logits` `[batch, D]`, `x` `[batch, D]` in {0, 1} (or in [0, 1]: the cross-entropy of soft targets) -> `[batch]`.
 *
 * @example
 * const nats = bernoulliNll(made.logits(x), x); // [batch]
 */
export function bernoulliNll(logits: tf.Tensor2D, x: tf.Tensor2D): tf.Tensor1D {
  const fn = "bernoulliNll";
  if (logits.rank !== 2) throw new Error(`${fn}: logits must have shape [batch, D], got [${logits.shape.join(", ")}]`);
  if (x.rank !== 2 || x.shape[0] !== logits.shape[0] || x.shape[1] !== logits.shape[1]) {
    throw new Error(`${fn}: x must have shape [${logits.shape.join(", ")}], got [${x.shape.join(", ")}]`);
  }
  return tf.tidy(() => tf.sum(tf.sub(tf.softplus(logits), tf.mul(x, logits)), 1)) as tf.Tensor1D;
}

/**
 * Draws binary vectors from a MADE pixel by pixel along its ordering:
 * D forward passes, each sampling one pixel from p(x_d | x_<d) with a seeded
 * JS generator (same seed, same samples on every backend up to float rounding).
 *
 * Shapes: -> `[count, D]` float32 in {0, 1}.
 *
 * @example
 * const samples = sampleMade(made, 16, 7); // [16, 784]
 */
export function sampleMade(made: Made, count: number, seed: number): tf.Tensor2D {
  const fn = "sampleMade";
  checkPositiveInteger(fn, "count", count);
  checkInteger(fn, "seed", seed);
  const d = made.inputDim;
  const rng = createRng(seed);
  const x = new Float32Array(count * d);
  for (let i = 0; i < d; i++) {
    const pixel = made.order[i];
    // Only column `pixel` of the output is needed; it depends on pixels already drawn.
    const column = tf.tidy(() => {
      const l = made.logits(tf.tensor2d(x, [count, d]));
      return tf.slice(l, [0, pixel], [count, 1]);
    });
    const logit = column.dataSync();
    column.dispose();
    for (let b = 0; b < count; b++) {
      const p = 1 / (1 + Math.exp(-logit[b]));
      x[b * d + pixel] = rng.next() < p ? 1 : 0;
    }
  }
  return tf.tensor2d(x, [count, d]);
}

/**
 * Independent Bernoulli pixels fitted by counting with add-one (Laplace)
 * smoothing: p_d = (count of ones + 1) / (n + 2), so no pixel gets
 * probability 0 or 1 and the test NLL stays finite.
 *
 * Shapes: `images` flat `[n * D]` in {0, 1} -> `[D]` probabilities.
 *
 * @example
 * const p = bernoulliFrequencies(binaryTrain.images, 784);
 */
export function bernoulliFrequencies(images: ArrayLike<number>, dim: number): Float64Array {
  const fn = "bernoulliFrequencies";
  checkPositiveInteger(fn, "dim", dim);
  if (images.length === 0 || images.length % dim !== 0) {
    throw new Error(`${fn}: images must have length n * ${dim} with n >= 1, got ${images.length}`);
  }
  const n = images.length / dim;
  const ones = new Float64Array(dim);
  for (let i = 0; i < images.length; i++) {
    const v = images[i];
    if (v !== 0 && v !== 1) throw new Error(`${fn}: images must hold only 0 or 1, got ${v} at ${i}`);
    ones[i % dim] += v;
  }
  return ones.map((c) => (c + 1) / (n + 2));
}

/**
 * The mean negative log-likelihood, in nats per image, of binary images
 * under independent Bernoulli pixels `probs`:
 * -(1/n) sum_i sum_d [x_id log p_d + (1 - x_id) log(1 - p_d)].
 *
 * Shapes: `images` flat `[n * D]` in {0, 1}, `probs` `[D]` in (0, 1) -> number.
 *
 * @example
 * const nats = bernoulliMeanNll(binaryTest.images, bernoulliFrequencies(binaryTrain.images, 784));
 */
export function bernoulliMeanNll(images: ArrayLike<number>, probs: ArrayLike<number>): number {
  const fn = "bernoulliMeanNll";
  const dim = probs.length;
  if (dim === 0) throw new Error(`${fn}: probs must not be empty`);
  for (let j = 0; j < dim; j++) {
    if (!(probs[j] > 0 && probs[j] < 1)) throw new Error(`${fn}: probs must lie in (0, 1), got ${probs[j]} at ${j}`);
  }
  if (images.length === 0 || images.length % dim !== 0) {
    throw new Error(`${fn}: images must have length n * ${dim} with n >= 1, got ${images.length}`);
  }
  const logP = Array.from(probs, (p) => Math.log(p));
  const logQ = Array.from(probs, (p) => Math.log(1 - p));
  let total = 0;
  for (let i = 0; i < images.length; i++) {
    const v = images[i];
    if (v !== 0 && v !== 1) throw new Error(`${fn}: images must hold only 0 or 1, got ${v} at ${i}`);
    total -= v === 1 ? logP[i % dim] : logQ[i % dim];
  }
  return total / (images.length / dim);
}
