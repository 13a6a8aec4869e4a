/**
 * A binary restricted Boltzmann machine (Smolensky 1986, "harmonium"; Hinton
 * 2002): visible units v in {0,1}^V and hidden units h in {0,1}^H with the
 * energy E(v, h) = -b.v - c.h - v W h. There are no visible-visible nor
 * hidden-hidden weights, so both conditionals factorise:
 *
 *   p(h_j = 1 | v) = sigmoid(c_j + v.W[:, j]),   p(v_i = 1 | h) = sigmoid(b_i + W[i, :].h),
 *
 * and summing h out gives the free energy
 *
 *   F(v) = -b.v - sum_j softplus(c_j + v.W[:, j]),   p(v) = exp(-F(v)) / Z.
 *
 * Training (contrastive divergence) lives in methods/contrastive_divergence.ts.
 */
import { tf } from "../backend/tf";
import { createRng } from "../data/random";
import { checkInteger, checkMatrix, checkNonNegativeNumber, checkPositiveInteger } from "../validation/arguments";

/** Options of {@link createRbm}. */
export interface RbmOptions {
  /** V, the number of visible units (784 for MNIST). */
  visibleUnits: number;
  /** H, the number of hidden units. */
  hiddenUnits: number;
  /** Seed of the initial weights; default 0. */
  seed?: number;
  /** Standard deviation of the initial weights, N(0, initStd^2); default 0.01 (Hinton 2010, "A practical guide"). */
  initStd?: number;
  /**
   * Initial visible biases `[V]`. Hinton's guide sets b_i = log(p_i / (1 - p_i))
   * from the pixel frequencies p_i; default zeros. Hidden biases start at 0.
   */
  visibleBias?: ArrayLike<number>;
}

/** What one Gibbs step v -> h -> v' produced. */
export interface GibbsStep {
  /** p(h = 1 | v) `[batch, H]`. */
  hiddenProbs: tf.Tensor2D;
  /** h sampled from `hiddenProbs` `[batch, H]` in {0, 1}. */
  hidden: tf.Tensor2D;
  /** p(v' = 1 | h) `[batch, V]`. */
  visibleProbs: tf.Tensor2D;
  /** v' sampled from `visibleProbs` `[batch, V]` in {0, 1}. */
  visible: tf.Tensor2D;
}

/** A binary RBM: its variables and what it computes. */
export interface Rbm {
  /** V. */
  readonly visibleUnits: number;
  /** H. */
  readonly hiddenUnits: number;
  /** W `[V, H]`. */
  readonly weights: tf.Variable;
  /** b `[V]`. */
  readonly visibleBias: tf.Variable;
  /** c `[H]`. */
  readonly hiddenBias: tf.Variable;
  /** `[weights, visibleBias, hiddenBias]`, for `training.train({ trainable })`. */
  readonly trainable: tf.Variable[];
  /** p(h = 1 | v). Shapes: `[batch, V]` -> `[batch, H]`. */
  hiddenProbs(v: tf.Tensor2D): tf.Tensor2D;
  /** p(v = 1 | h). Shapes: `[batch, H]` -> `[batch, V]`. */
  visibleProbs(h: tf.Tensor2D): tf.Tensor2D;
  /** F(v) = -b.v - sum_j softplus(c_j + v.W[:, j]). Shapes: `[batch, V]` -> `[batch]`. */
  freeEnergy(v: tf.Tensor2D): tf.Tensor1D;
  /**
   * One block-Gibbs step v -> h -> v'. The hidden draw uses uniforms from
   * `tf.randomUniform([batch, H], 0, 1, "float32", seed)`, the visible draw
   * from seed `seed + 1`; a unit is 1 iff its uniform is below its probability.
   */
  gibbsStep(v: tf.Tensor2D, seed: number): GibbsStep;
  /** Frees the variables. */
  dispose(): void;
}

/** A variable holding `t`'s values; `t` is disposed (the variable keeps its own reference). */
function variableFrom(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t);
  t.dispose();
  return v;
}

/**
 * Bernoulli draws: 1 where `uniforms < probs`, else 0. Built from `tf.step`,
 * whose gradient is zero, so a sample inside a loss passes no gradient back.
 *
 * Shapes: `probs` and `uniforms` the same shape -> that shape.
 *
 * @example
 * const h = bernoulliFromUniforms(p, tf.randomUniform(p.shape, 0, 1, "float32", 7));
 */
export function bernoulliFromUniforms<T extends tf.Tensor>(probs: T, uniforms: tf.Tensor): T {
  if (probs.shape.join(",") !== uniforms.shape.join(",")) {
    throw new Error(`bernoulliFromUniforms: uniforms must have shape [${probs.shape}], got [${uniforms.shape}]`);
  }
  return tf.tidy(() => tf.step(tf.sub(probs, uniforms))) as T;
}

/**
 * Builds a binary RBM with seeded N(0, initStd^2) weights, zero hidden biases
 * and the given (or zero) visible biases.
 *
 * Shapes: W `[V, H]`, b `[V]`, c `[H]`.
 *
 * @example
 * const rbm = createRbm({ visibleUnits: 784, hiddenUnits: 128, seed: 1 });
 * const p = rbm.hiddenProbs(vBatch); // [batch, 128]
 */
export function createRbm(options: RbmOptions): Rbm {
  const fn = "createRbm";
  const v = options.visibleUnits;
  const h = options.hiddenUnits;
  checkPositiveInteger(fn, "visibleUnits", v);
  checkPositiveInteger(fn, "hiddenUnits", h);
  const seed = options.seed ?? 0;
  checkInteger(fn, "seed", seed);
  const initStd = options.initStd ?? 0.01;
  checkNonNegativeNumber(fn, "initStd", initStd);
  if (options.visibleBias !== undefined && options.visibleBias.length !== v) {
    throw new Error(`${fn}: visibleBias must have length ${v}, got ${options.visibleBias.length}`);
  }
  const rng = createRng(seed);
  const w = Float32Array.from({ length: v * h }, () => rng.normal() * initStd);
  const weights = variableFrom(tf.tensor2d(w, [v, h]));
  const visibleBias = variableFrom(tf.tensor1d(options.visibleBias ? Float32Array.from(options.visibleBias) : new Float32Array(v)));
  const hiddenBias = variableFrom(tf.zeros([h]));
  const hiddenProbs = (x: tf.Tensor2D): tf.Tensor2D => {
    checkMatrix("Rbm.hiddenProbs", "v", x, undefined, v, "float32");
    return tf.tidy(() => tf.sigmoid(tf.add(tf.matMul(x, weights), hiddenBias)) as tf.Tensor2D);
  };
  const visibleProbs = (y: tf.Tensor2D): tf.Tensor2D => {
    checkMatrix("Rbm.visibleProbs", "h", y, undefined, h, "float32");
    return tf.tidy(() => tf.sigmoid(tf.add(tf.matMul(y, weights, false, true), visibleBias)) as tf.Tensor2D);
  };
  return {
    visibleUnits: v,
    hiddenUnits: h,
    weights,
    visibleBias,
    hiddenBias,
    trainable: [weights, visibleBias, hiddenBias],
    hiddenProbs,
    visibleProbs,
    freeEnergy(x: tf.Tensor2D): tf.Tensor1D {
      checkMatrix("Rbm.freeEnergy", "v", x, undefined, v, "float32");
      return tf.tidy(() => {
        const visibleTerm = tf.sum(tf.mul(x, visibleBias), 1);
        const hiddenTerm = tf.sum(tf.softplus(tf.add(tf.matMul(x, weights), hiddenBias)), 1);
        return tf.neg(tf.add(visibleTerm, hiddenTerm)) as tf.Tensor1D;
      });
    },
    gibbsStep(x: tf.Tensor2D, stepSeed: number): GibbsStep {
      checkMatrix("Rbm.gibbsStep", "v", x, undefined, v, "float32");
      checkInteger("Rbm.gibbsStep", "seed", stepSeed);
      return tf.tidy(() => {
        const batch = x.shape[0];
        const hp = hiddenProbs(x);
        const hs = bernoulliFromUniforms(hp, tf.randomUniform([batch, h], 0, 1, "float32", stepSeed));
        const vp = visibleProbs(hs);
        const vs = bernoulliFromUniforms(vp, tf.randomUniform([batch, v], 0, 1, "float32", stepSeed + 1));
        return { hiddenProbs: hp, hidden: hs, visibleProbs: vp, visible: vs };
      });
    },
    dispose() {
      tf.dispose([weights, visibleBias, hiddenBias]);
    },
  };
}

/**
 * Runs `steps` Gibbs steps from `v` and returns the last step's tensors.
 * Step t (0-based) uses seed `seed + 2t` (see {@link Rbm.gibbsStep}).
 *
 * Shapes: `[batch, V]` -> a {@link GibbsStep} of the last step.
 *
 * @example
 * const chain = gibbsChain(rbm, start, 1000, 3);
 * plot.imageGrid(await chain.visibleProbs.data(), { shape: [16, 28, 28, 1] });
 */
export function gibbsChain(rbm: Rbm, v: tf.Tensor2D, steps: number, seed: number): GibbsStep {
  checkPositiveInteger("gibbsChain", "steps", steps);
  checkInteger("gibbsChain", "seed", seed);
  checkMatrix("gibbsChain", "v", v, undefined, rbm.visibleUnits, "float32");
  let current: GibbsStep | undefined;
  let x = v;
  for (let t = 0; t < steps; t++) {
    const next = rbm.gibbsStep(x, seed + 2 * t);
    if (current) tf.dispose([current.hiddenProbs, current.hidden, current.visibleProbs, current.visible]);
    current = next;
    x = next.visible;
  }
  return current as GibbsStep;
}

/**
 * Mean-field reconstruction error: the mean squared difference per pixel
 * between v and p(v | h = p(h | v)), the monitoring number of Hinton's guide
 * (it is not the training objective).
 *
 * Shapes: `[batch, V]` -> `[batch]`.
 *
 * @example
 * const err = reconstructionError(rbm, vBatch).mean();
 */
export function reconstructionError(rbm: Rbm, v: tf.Tensor2D): tf.Tensor1D {
  checkMatrix("reconstructionError", "v", v, undefined, rbm.visibleUnits, "float32");
  return tf.tidy(() => tf.mean(tf.square(tf.sub(v, rbm.visibleProbs(rbm.hiddenProbs(v)))), 1) as tf.Tensor1D);
}

/**
 * Stochastic log pseudo-likelihood, as scikit-learn's
 * `BernoulliRBM.score_samples`: for each row, flip one pixel i drawn uniformly
 * (seeded) and return V * log sigmoid(F(v with i flipped) - F(v)), an unbiased
 * estimate of sum_i log p(v_i | v_-i).
 *
 * Shapes: `[batch, V]` in {0, 1} -> `[batch]` (nats, <= 0).
 *
 * @example
 * const pl = pseudoLikelihood(rbm, vBatch, 0).mean();
 */
export function pseudoLikelihood(rbm: Rbm, v: tf.Tensor2D, seed: number): tf.Tensor1D {
  checkMatrix("pseudoLikelihood", "v", v, undefined, rbm.visibleUnits, "float32");
  checkInteger("pseudoLikelihood", "seed", seed);
  const batch = v.shape[0];
  const d = rbm.visibleUnits;
  const rng = createRng(seed);
  const flips = Int32Array.from({ length: batch }, () => rng.int(d));
  return tf.tidy(() => {
    const mask = tf.oneHot(tf.tensor1d(flips, "int32"), d).toFloat();
    // v_i -> 1 - v_i at the chosen pixel: v + mask * (1 - 2 v).
    const flipped = tf.add(v, tf.mul(mask, tf.sub(1, tf.mul(2, v)))) as tf.Tensor2D;
    const gap = tf.sub(rbm.freeEnergy(flipped), rbm.freeEnergy(v));
    return tf.mul(d, tf.logSigmoid(gap)) as tf.Tensor1D;
  });
}

/**
 * Exact log pseudo-likelihood sum_i log p(v_i | v_-i), one flip per pixel:
 * V free energies per row, so for small V (tests) or small batches.
 *
 * Shapes: `[batch, V]` in {0, 1} -> `[batch]` (nats, <= 0).
 *
 * @example
 * const pl = exactPseudoLikelihood(rbm, tf.tensor2d([[1, 0, 1]]));
 */
export function exactPseudoLikelihood(rbm: Rbm, v: tf.Tensor2D): tf.Tensor1D {
  checkMatrix("exactPseudoLikelihood", "v", v, undefined, rbm.visibleUnits, "float32");
  const [batch, d] = v.shape;
  return tf.tidy(() => {
    const base = rbm.freeEnergy(v);
    let total: tf.Tensor = tf.zeros([batch]);
    for (let i = 0; i < d; i++) {
      const mask = tf.oneHot(tf.fill([batch], i, "int32") as tf.Tensor1D, d).toFloat();
      const flipped = tf.add(v, tf.mul(mask, tf.sub(1, tf.mul(2, v)))) as tf.Tensor2D;
      total = tf.add(total, tf.logSigmoid(tf.sub(rbm.freeEnergy(flipped), base)));
    }
    return total as tf.Tensor1D;
  });
}
