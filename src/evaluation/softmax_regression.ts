/**
 * Softmax regression trained with Adam: the inner loop of the linear probe.
 *
 * A probe is a `[dim, classes]` matrix: each step is a few small products,
 * far below what a tensor op's dispatch costs (a tensor version spent about
 * 1 s launching ops for a 500-step probe on 10 examples), and the
 * few-labels yardstick fits dozens of probes per encoder. So the two
 * products run in WebAssembly SIMD on float64 (softmax_regression_simd.ts)
 * and the rest in TypeScript, with the same numbers on every backend.
 */
import { createRng } from "../data/random";
import { simdKernelsOn } from "../backend/wasm_simd";
import { gradientFunction, logitsFunction } from "./softmax_regression_simd";

/** The optimisation recipe (see `linearProbe` for the defaults). */
export interface SoftmaxRegressionRecipe {
  epochs: number;
  minSteps: number;
  batchSize: number;
  learningRate: number;
  weightDecay: number;
  seed: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** A fitted softmax regression: logits = x W + b. */
export interface SoftmaxRegression {
  /** `[dim * classes]`, row-major `[dim, classes]`. */
  kernel: Float32Array;
  /** `[classes]`. */
  bias: Float32Array;
  /** Adam steps taken. */
  steps: number;
}

/**
 * Minimises mean softmax cross-entropy + `weightDecay / 2 * ||W||^2` (not
 * the bias) over `x` `[n, dim]` (row-major) with labels `y` `[n]`, by Adam
 * on minibatches in a seeded order each epoch, with the learning rate
 * decayed from `learningRate` to 0 by a cosine over all steps. Runs
 * `max(epochs, ceil(minSteps / stepsPerEpoch))` epochs. Trained in
 * float64; the weights are returned in float32.
 *
 * @example
 * const fit = fitSoftmaxRegression(x, n, dim, y, 10, recipe);
 * const predicted = predictSoftmaxRegression(fit, xTest, nTest, dim, 10);
 */
export function fitSoftmaxRegression(
  x: Float32Array,
  n: number,
  dim: number,
  y: Int32Array,
  classes: number,
  recipe: SoftmaxRegressionRecipe,
): SoftmaxRegression {
  const rng = createRng(recipe.seed);
  const batchSize = Math.min(recipe.batchSize, n);
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const epochs = Math.max(recipe.epochs, Math.ceil(recipe.minSteps / stepsPerEpoch));
  const totalSteps = epochs * stepsPerEpoch;
  const space = workspace(x, n, dim, classes, batchSize);
  const { features, weights, gradient, rows, logits, rowBytes } = space;
  const wLength = weights.length;
  // Adam's state: the weights [classes, dimPadded] (the zero padding columns
  // get zero gradients and stay 0), then the bias [classes].
  const bias = new Float64Array(classes);
  const m = new Float64Array(wLength + classes);
  const v = new Float64Array(wLength + classes);
  const biasGrad = new Float64Array(classes);
  const { beta1, beta2, epsilon, weightDecay } = recipe;
  let t = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = rng.permutation(n);
    for (let start = 0; start < n; start += batchSize) {
      const lr = recipe.learningRate * 0.5 * (1 + Math.cos((Math.PI * t) / totalSteps));
      t++;
      const end = Math.min(start + batchSize, n);
      const b = end - start;
      rows.set(order.subarray(start, end));
      space.products.logits(features.byteOffset, weights.byteOffset, rows.byteOffset, b, rowBytes, classes, logits.byteOffset);
      // softmax - onehot, scaled by 1/b, in place: the gradient's coefficients.
      biasGrad.fill(0);
      for (let i = 0; i < b; i++) {
        const o = i * classes;
        let max = -Infinity;
        for (let c = 0; c < classes; c++) {
          logits[o + c] += bias[c];
          if (logits[o + c] > max) max = logits[o + c];
        }
        let sum = 0;
        for (let c = 0; c < classes; c++) {
          logits[o + c] = Math.exp(logits[o + c] - max);
          sum += logits[o + c];
        }
        const label = y[rows[i]];
        for (let c = 0; c < classes; c++) {
          const coefficient = (logits[o + c] / sum - (c === label ? 1 : 0)) / b;
          logits[o + c] = coefficient;
          biasGrad[c] += coefficient;
        }
      }
      gradient.fill(0);
      space.products.gradient(features.byteOffset, gradient.byteOffset, rows.byteOffset, b, rowBytes, classes, logits.byteOffset);
      const c1 = 1 - Math.pow(beta1, t);
      const c2 = 1 - Math.pow(beta2, t);
      const adam = (i: number, g: number, value: number): number => {
        m[i] = beta1 * m[i] + (1 - beta1) * g;
        v[i] = beta2 * v[i] + (1 - beta2) * g * g;
        return value - (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + epsilon);
      };
      for (let i = 0; i < wLength; i++) weights[i] = adam(i, gradient[i] + weightDecay * weights[i], weights[i]);
      for (let c = 0; c < classes; c++) bias[c] = adam(wLength + c, biasGrad[c], bias[c]);
    }
  }
  const dimPadded = rowBytes / 8;
  const kernel = new Float32Array(dim * classes);
  for (let c = 0; c < classes; c++) {
    for (let d = 0; d < dim; d++) kernel[d * classes + c] = weights[c * dimPadded + d];
  }
  return { kernel, bias: Float32Array.from(bias), steps: t };
}

type Product = (x: number, w: number, rows: number, batch: number, rowBytes: number, classes: number, out: number) => void;

/** Views of one fit's memory, and the SIMD products bound to it. */
interface Workspace {
  /** `[n, dimPadded]`. */
  features: Float64Array;
  /** `[classes, dimPadded]`, zero at the start. */
  weights: Float64Array;
  /** `[classes, dimPadded]`. */
  gradient: Float64Array;
  /** The minibatch's row indices `[batchSize]`. */
  rows: Int32Array;
  /** `[batchSize, classes]`. */
  logits: Float64Array;
  /** Bytes of one padded row. */
  rowBytes: number;
  products: { logits: Product; gradient: Product };
}

/** A memory holding `x` `[n, dim]` as float64 rows padded to a multiple of 4, zero weights and room for a minibatch. */
function workspace(x: Float32Array, n: number, dim: number, classes: number, batchSize: number): Workspace {
  const dimPadded = Math.ceil(dim / 4) * 4;
  const rowBytes = dimPadded * 8;
  const featuresBytes = n * rowBytes;
  const weightBytes = classes * rowBytes;
  const rowsAt = featuresBytes + 2 * weightBytes;
  const logitsAt = rowsAt + Math.ceil((batchSize * 4) / 16) * 16;
  const total = logitsAt + batchSize * classes * 8;
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(total / 65536)) });
  const kernels = simdKernelsOn(memory, "softmaxRegression", () => [logitsFunction(), gradientFunction()]);
  if (kernels === null) throw new Error("fitSoftmaxRegression: this JavaScript engine lacks WebAssembly SIMD (Node 20 or later has it)");
  const buffer = memory.buffer;
  const features = new Float64Array(buffer, 0, n * dimPadded);
  for (let r = 0; r < n; r++) {
    for (let d = 0; d < dim; d++) features[r * dimPadded + d] = x[r * dim + d];
  }
  return {
    features,
    weights: new Float64Array(buffer, featuresBytes, classes * dimPadded),
    gradient: new Float64Array(buffer, featuresBytes + weightBytes, classes * dimPadded),
    rows: new Int32Array(buffer, rowsAt, batchSize),
    logits: new Float64Array(buffer, logitsAt, batchSize * classes),
    rowBytes,
    products: { logits: kernels.logits as Product, gradient: kernels.gradient as Product },
  };
}

/** Arg-max class of `x W + b` for each row of `x` `[n, dim]` (row-major). */
export function predictSoftmaxRegression(fit: SoftmaxRegression, x: Float32Array, n: number, dim: number, classes: number): Int32Array {
  const out = new Int32Array(n);
  const logits = new Float64Array(classes);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < classes; c++) logits[c] = fit.bias[c];
    const xo = r * dim;
    for (let d = 0; d < dim; d++) {
      const xv = x[xo + d];
      if (xv === 0) continue;
      const wo = d * classes;
      for (let c = 0; c < classes; c++) logits[c] += xv * fit.kernel[wo + c];
    }
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[c] > logits[best]) best = c;
    out[r] = best;
  }
  return out;
}
