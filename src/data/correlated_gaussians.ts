/**
 * Correlated Gaussians: the test bed of mutual-information estimators whose
 * true MI is known in closed form (Poole, Ozair, van den Oord, Alemi,
 * Tucker 2019, "On Variational Bounds of Mutual Information", Fig. 2;
 * Belghazi et al. 2018, MINE, its Gaussian experiments).
 *
 * x ~ N(0, I_d) and y = rho x + sqrt(1 - rho^2) eps with eps ~ N(0, I_d):
 * each (x_k, y_k) is a standard bivariate normal with correlation rho,
 * independent across k, so I(X; Y) = -d/2 log(1 - rho^2) nats.
 */
import { tf } from "../backend/tf";
import { createRng } from "./random";
import { checkInteger, checkMatrix, checkNonNegativeNumber, checkNumberInRange, checkOptions, checkPositiveInteger } from "../validation/arguments";

/** Options of {@link correlatedGaussians}. */
export interface CorrelatedGaussiansOptions {
  /** Number of pairs. */
  n: number;
  /** Dimension d of x and of y. */
  dim: number;
  /** Componentwise correlation, in (-1, 1). */
  rho: number;
  /** Seed of {@link createRng}: one seed, one sample, on every backend. */
  seed: number;
}

/** A sample of {@link correlatedGaussians}: row i of `x` and row i of `y` are a pair. */
export interface CorrelatedGaussianSample {
  /** `[n, dim]`, standard normal. */
  x: tf.Tensor2D;
  /** `[n, dim]`, standard normal, corr(x_ik, y_ik) = rho. */
  y: tf.Tensor2D;
}

/**
 * `n` pairs (x, y) with y = rho x + sqrt(1 - rho^2) eps, componentwise,
 * drawn in JS from the seeded generator of random.ts (so a seed gives the
 * same numbers on cpu and wasm). The caller disposes `x` and `y`.
 *
 * Shapes: -> `x` `[n, dim]`, `y` `[n, dim]` float32.
 *
 * @example
 * const { x, y } = correlatedGaussians({ n: 128, dim: 20, rho: rhoForMutualInformation(4, 20), seed: 1 });
 * // true MI between the rows: 4 nats
 */
export function correlatedGaussians(options: CorrelatedGaussiansOptions): CorrelatedGaussianSample {
  const fn = "correlatedGaussians";
  checkOptions(fn, options, "{n, dim, rho, seed}");
  const { n, dim, rho, seed } = options;
  checkPositiveInteger(fn, "options.n", n);
  checkPositiveInteger(fn, "options.dim", dim);
  checkNumberInRange(fn, "options.rho", rho, -1, 1, { minExclusive: true, maxExclusive: true });
  checkInteger(fn, "options.seed", seed);
  const rng = createRng(seed);
  const noiseScale = Math.sqrt(1 - rho * rho);
  const x = new Float32Array(n * dim);
  const y = new Float32Array(n * dim);
  for (let i = 0; i < n * dim; i++) {
    const xi = rng.normal();
    x[i] = xi;
    y[i] = rho * xi + noiseScale * rng.normal();
  }
  return { x: tf.tensor2d(x, [n, dim]), y: tf.tensor2d(y, [n, dim]) };
}

/**
 * The mutual information of {@link correlatedGaussians}, in nats:
 * I(X; Y) = -d/2 log(1 - rho^2) (d independent bivariate normals, each
 * contributing -1/2 log(1 - rho^2)).
 *
 * @example
 * gaussianMutualInformation(0.5, 20); // 2.877 nats
 */
export function gaussianMutualInformation(rho: number, dim: number): number {
  const fn = "gaussianMutualInformation";
  checkNumberInRange(fn, "rho", rho, -1, 1, { minExclusive: true, maxExclusive: true });
  checkPositiveInteger(fn, "dim", dim);
  return (-dim / 2) * Math.log1p(-rho * rho);
}

/**
 * The correlation that gives `mutualInformation` nats in dimension `dim`,
 * the inverse of {@link gaussianMutualInformation}:
 * rho = sqrt(1 - exp(-2 I / d)) (the non-negative root).
 *
 * @example
 * rhoForMutualInformation(2.877, 20); // 0.5
 */
export function rhoForMutualInformation(mutualInformation: number, dim: number): number {
  const fn = "rhoForMutualInformation";
  checkNonNegativeNumber(fn, "mutualInformation", mutualInformation);
  checkPositiveInteger(fn, "dim", dim);
  return Math.sqrt(-Math.expm1((-2 * mutualInformation) / dim));
}

/** Options of {@link miStaircase}. */
export interface MiStaircaseOptions {
  /** True MI of each level in nats, in order; Poole et al.'s Fig. 2 uses [2, 4, 6, 8, 10]. */
  levels: number[];
  /** Training steps spent on each level. */
  stepsPerLevel: number;
}

/**
 * The staircase schedule of Poole et al.'s Fig. 2: the true mutual
 * information of each training step, held at each level for
 * `stepsPerLevel` steps. Pass it as the batches of the MI-estimation
 * method (methods/mi_estimation.ts), which turns each value into a batch
 * of correlated Gaussians with that MI.
 *
 * Shapes: -> `[levels.length * stepsPerLevel]` numbers (nats).
 *
 * @example
 * miStaircase({ levels: [2, 4], stepsPerLevel: 3 }); // [2, 2, 2, 4, 4, 4]
 */
export function miStaircase(options: MiStaircaseOptions): number[] {
  const fn = "miStaircase";
  checkOptions(fn, options, "{levels, stepsPerLevel}");
  const { levels, stepsPerLevel } = options;
  if (!Array.isArray(levels) || levels.length === 0) {
    throw new Error(`${fn}: options.levels must be a non-empty array of MI values in nats, got ${Array.isArray(levels) ? "[]" : typeof levels}`);
  }
  levels.forEach((level, i) => {
    checkNonNegativeNumber(fn, `options.levels[${i}]`, level);
  });
  checkPositiveInteger(fn, "options.stepsPerLevel", stepsPerLevel);
  return levels.flatMap((level) => Array<number>(stepsPerLevel).fill(level));
}

/**
 * The optimal critic of {@link correlatedGaussians}: the log density ratio
 *
 *   f*(x_i, y_j) = log p(y_j | x_i) / p(y_j)
 *                = sum_k [ -1/2 log(1 - rho^2) - (y_jk - rho x_ik)^2 / (2 (1 - rho^2)) + y_jk^2 / 2 ],
 *
 * on all pairs, so its diagonal averages to the true MI. With it, the bounds
 * of losses/mi_*.ts show their bias alone, free of any training: InfoNCE
 * stays below log K whatever the MI (Poole et al. 2019, sec. 2.3).
 *
 * Shapes: `x`, `y` `[K, dim]` float32 -> `[K, K]` with `[i][j] = f*(x_i, y_j)`.
 *
 * @example
 * const { x, y } = correlatedGaussians({ n: 64, dim: 2, rho: 0.8, seed: 1 });
 * const scores = optimalGaussianCriticScores(x, y, 0.8); // [64, 64]
 */
export function optimalGaussianCriticScores(x: tf.Tensor2D, y: tf.Tensor2D, rho: number): tf.Tensor2D {
  const fn = "optimalGaussianCriticScores";
  checkMatrix(fn, "x", x, undefined, undefined, "float32");
  checkMatrix(fn, "y", y, x.shape[0], x.shape[1], "float32");
  checkNumberInRange(fn, "rho", rho, -1, 1, { minExclusive: true, maxExclusive: true });
  const dim = x.shape[1];
  const v = 1 - rho * rho;
  return tf.tidy(() => {
    // sum_k (y_jk - rho x_ik)^2 = |y_j|^2 - 2 rho x_i.y_j + rho^2 |x_i|^2, expanded to stay [K, K].
    const yy = tf.expandDims(tf.sum(tf.square(y), 1), 0);
    const xx = tf.expandDims(tf.sum(tf.square(x), 1), 1);
    const xy = tf.matMul(x, tf.transpose(y));
    const squaredResidual = tf.add(tf.sub(yy, tf.mul(2 * rho, xy)), tf.mul(rho * rho, xx));
    const logRatio = tf.add(tf.sub(tf.mul(-0.5 * dim, Math.log(v)), tf.div(squaredResidual, 2 * v)), tf.div(yy, 2));
    return logRatio as tf.Tensor2D;
  });
}
