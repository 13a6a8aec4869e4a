/**
 * The two critics f(x, y) of Poole, Ozair, van den Oord, Alemi, Tucker
 * (2019), "On Variational Bounds of Mutual Information", Fig. 2: the
 * learned score whose diagonal and off-diagonal feed the MI bounds of
 * losses/mi_*.ts.
 *
 * - separable: f(x, y) = g(x)^T h(y), two MLPs; all K x K scores from one
 *   matrix product (the critic of CPC and SimCLR, cheap);
 * - concat: f(x, y) = MLP([x, y]) on every one of the K^2 pairs (more
 *   expressive, K times the compute).
 */
import { tf } from "../backend/tf";
import { mlpHead } from "./encoders";
import { checkInteger, checkMatrix, checkOptions, checkPositiveInteger } from "../validation/arguments";

/** A critic f(x, y) evaluated on all pairs of a batch. */
export interface Critic {
  /** "separable" or "concat", for labels. */
  readonly name: string;
  /** Dimension of x and of y. */
  readonly dim: number;
  /** The models the optimizer trains (pass as `trainable`). */
  readonly trainable: tf.LayersModel[];
  /**
   * `scores[i][j] = f(x_i, y_j)`: positives on the diagonal.
   * Shapes: `x`, `y` `[K, dim]` float32 -> `[K, K]`.
   */
  scores(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D;
  /** Frees the critic's models. */
  dispose(): void;
}

/** Options of {@link separableCritic} and {@link concatCritic}. */
export interface CriticOptions {
  /** Dimension of x and of y. */
  dim: number;
  /** Hidden layer sizes (ReLU) of each MLP; default [64]. */
  hidden?: number[];
  /** Output size of g and h (separable critic only); default 32. */
  embeddingDim?: number;
  /** Seed of the weight initialisers; default 0. */
  seed?: number;
}

function hiddenOf(fn: string, hidden: unknown): number[] {
  if (!Array.isArray(hidden)) throw new Error(`${fn}: options.hidden must be an array of layer sizes, got ${typeof hidden}`);
  hidden.forEach((units, i) => checkPositiveInteger(fn, `options.hidden[${i}]`, units));
  return hidden as number[];
}

function checkPair(fn: string, dim: number, x: unknown, y: unknown): void {
  checkMatrix(fn, "x", x, undefined, dim, "float32");
  checkMatrix(fn, "y", y, x.shape[0], dim, "float32");
}

/**
 * The separable critic f(x, y) = g(x)^T h(y), g and h two MLPs
 * `[*, dim] -> [*, embeddingDim]` (seeded). Its K x K scores cost two MLP
 * passes over K rows and one matrix product.
 *
 * Shapes: `scores(x [K, dim], y [K, dim])` -> `[K, K]`.
 *
 * @example
 * const critic = separableCritic({ dim: 20, hidden: [64], embeddingDim: 32, seed: 1 });
 * const s = critic.scores(x, y); // [K, K]
 * critic.dispose();
 */
export function separableCritic(options: CriticOptions): Critic {
  const fn = "separableCritic";
  checkOptions(fn, options, "{dim, hidden?, embeddingDim?, seed?}");
  const { dim, embeddingDim = 32, seed = 0 } = options;
  checkPositiveInteger(fn, "options.dim", dim);
  checkPositiveInteger(fn, "options.embeddingDim", embeddingDim);
  checkInteger(fn, "options.seed", seed);
  const hidden = hiddenOf(fn, options.hidden ?? [64]);
  const g = mlpHead({ inputDim: dim, hidden, outputDim: embeddingDim, seed: 2 * seed, name: "critic_g" });
  const h = mlpHead({ inputDim: dim, hidden, outputDim: embeddingDim, seed: 2 * seed + 1, name: "critic_h" });
  return {
    name: "separable",
    dim,
    trainable: [g, h],
    scores(x, y) {
      checkPair(`${fn}.scores`, dim, x, y);
      return tf.tidy(() => {
        const gx = g.apply(x) as tf.Tensor2D;
        const hy = h.apply(y) as tf.Tensor2D;
        // Explicit transpose: matMul with a transposed operand is slow on wasm.
        return tf.matMul(gx, tf.transpose(hy));
      });
    },
    dispose() {
      g.dispose();
      h.dispose();
    },
  };
}

/**
 * The concat critic f(x, y) = MLP([x, y]) `[*, 2 dim] -> [*, 1]` (seeded),
 * run on all K^2 pairs (x_i, y_j) at once: K^2 rows through the MLP, so
 * keep K and the hidden sizes small on wasm.
 *
 * Shapes: `scores(x [K, dim], y [K, dim])` -> `[K, K]`.
 *
 * @example
 * const critic = concatCritic({ dim: 20, hidden: [64], seed: 1 });
 * const s = critic.scores(x, y); // [K, K]
 * critic.dispose();
 */
export function concatCritic(options: CriticOptions): Critic {
  const fn = "concatCritic";
  checkOptions(fn, options, "{dim, hidden?, seed?}");
  const { dim, seed = 0 } = options;
  checkPositiveInteger(fn, "options.dim", dim);
  checkInteger(fn, "options.seed", seed);
  if (options.embeddingDim !== undefined) {
    throw new Error(`${fn}: options.embeddingDim must be undefined (it belongs to the separable critic), got ${options.embeddingDim}`);
  }
  const hidden = hiddenOf(fn, options.hidden ?? [64]);
  const mlp = mlpHead({ inputDim: 2 * dim, hidden, outputDim: 1, seed, name: "critic_concat" });
  return {
    name: "concat",
    dim,
    trainable: [mlp],
    scores(x, y) {
      checkPair(`${fn}.scores`, dim, x, y);
      const k = x.shape[0];
      return tf.tidy(() => {
        // Row i * K + j of the pair matrix is [x_i, y_j].
        const xs = tf.tile(tf.expandDims(x, 1), [1, k, 1]);
        const ys = tf.tile(tf.expandDims(y, 0), [k, 1, 1]);
        const pairs = tf.reshape(tf.concat([xs, ys], 2), [k * k, 2 * dim]);
        return tf.reshape(mlp.apply(pairs) as tf.Tensor, [k, k]) as tf.Tensor2D;
      });
    },
    dispose() {
      mlp.dispose();
    },
  };
}
