/**
 * Softmax regression trained with Adam in plain TypeScript: the inner loop
 * of the linear probe.
 *
 * A probe is a `[dim, classes]` matrix: each step is a few small products,
 * far below what a tensor op's dispatch costs. On wasm the tensor version
 * spent its time launching ~20 ops per step (about 1 s for a 500-step probe
 * on 10 examples); the few-labels yardstick fits dozens of such probes per
 * encoder. Loops over typed arrays do the same arithmetic in a fraction of
 * that, and give the same numbers on every backend.
 */
import { createRng } from "../data/random";

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
  const params = dim * classes + classes; // kernel then bias
  const w = new Float64Array(params);
  const m = new Float64Array(params);
  const v = new Float64Array(params);
  const grad = new Float64Array(params);
  const rng = createRng(recipe.seed);
  const batchSize = Math.min(recipe.batchSize, n);
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const epochs = Math.max(recipe.epochs, Math.ceil(recipe.minSteps / stepsPerEpoch));
  const totalSteps = epochs * stepsPerEpoch;
  const p = new Float64Array(classes);
  const biasAt = dim * classes;
  let t = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = rng.permutation(n);
    for (let start = 0; start < n; start += batchSize) {
      const lr = recipe.learningRate * 0.5 * (1 + Math.cos((Math.PI * t) / totalSteps));
      t++;
      const end = Math.min(start + batchSize, n);
      const b = end - start;
      grad.fill(0);
      for (let r = start; r < end; r++) {
        const row = order[r];
        const xo = row * dim;
        // logits = x W + b, then softmax - onehot, scaled by 1/b.
        for (let c = 0; c < classes; c++) p[c] = w[biasAt + c];
        for (let d = 0; d < dim; d++) {
          const xv = x[xo + d];
          if (xv === 0) continue;
          const wo = d * classes;
          for (let c = 0; c < classes; c++) p[c] += xv * w[wo + c];
        }
        let max = -Infinity;
        for (let c = 0; c < classes; c++) if (p[c] > max) max = p[c];
        let sum = 0;
        for (let c = 0; c < classes; c++) {
          p[c] = Math.exp(p[c] - max);
          sum += p[c];
        }
        for (let c = 0; c < classes; c++) p[c] = (p[c] / sum - (c === y[row] ? 1 : 0)) / b;
        for (let d = 0; d < dim; d++) {
          const xv = x[xo + d];
          if (xv === 0) continue;
          const go = d * classes;
          for (let c = 0; c < classes; c++) grad[go + c] += xv * p[c];
        }
        for (let c = 0; c < classes; c++) grad[biasAt + c] += p[c];
      }
      const c1 = 1 - Math.pow(recipe.beta1, t);
      const c2 = 1 - Math.pow(recipe.beta2, t);
      for (let i = 0; i < params; i++) {
        const g = i < biasAt ? grad[i] + recipe.weightDecay * w[i] : grad[i];
        m[i] = recipe.beta1 * m[i] + (1 - recipe.beta1) * g;
        v[i] = recipe.beta2 * v[i] + (1 - recipe.beta2) * g * g;
        w[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + recipe.epsilon);
      }
    }
  }
  return { kernel: Float32Array.from(w.subarray(0, biasAt)), bias: Float32Array.from(w.subarray(biasAt)), steps: t };
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
