/**
 * The memory bank of instance discrimination (Wu, Xiong, Yu & Lin 2018,
 * "Unsupervised Feature Learning via Non-Parametric Instance
 * Discrimination", Sec. 3.1-3.3): one unit-length feature per training
 * example, refreshed with a running average each time the example is in a
 * batch, so every example can serve as a negative without re-encoding it.
 */
import { tf } from "../backend/tf";
import { createRng, Rng } from "../data/random";
import { checkInteger, checkIntegerInRange, checkNonNegativeInteger, checkNumberInRange, checkPositiveInteger } from "../validation/arguments";

/** Options of {@link createMemoryBank}. */
export interface MemoryBankOptions {
  /** n, the number of training examples (one row each). */
  size: number;
  /** Size of one feature. */
  dim: number;
  /** m in v = normalise(m * v + (1 - m) * f), in [0, 1); the paper uses 0.5. */
  momentum: number;
  /** Seed of the random initial vectors; default 0. */
  seed?: number;
}

/** Row indices: a plain array, an Int32Array or an int32 `[k]` tensor. */
export type BankIndices = number[] | Int32Array | tf.Tensor1D;

/** One L2-normalised vector per training example. */
export interface MemoryBank {
  /** n. */
  readonly size: number;
  /** Size of one vector. */
  readonly dim: number;
  /** The default momentum of {@link MemoryBank.update}. */
  readonly momentum: number;
  /** The vectors `[size, dim]` float32, a non-trainable variable (for checkpoints: `variables: { bank: bank.vectors }`). */
  readonly vectors: tf.Variable;
  /** A new tensor `[k, dim]` of the rows `indices` (repeats allowed). */
  gather(indices: BankIndices): tf.Tensor2D;
  /**
   * For each i: v[indices[i]] = normalise(m * v[indices[i]] + (1 - m) *
   * features[i]), with m = `momentum` (default: the bank's). `features`
   * `[k, dim]` are used as given (the paper's are already L2-normalised);
   * `indices` must be distinct. Stores values only: no gradient reaches
   * the bank or flows out of it into the next step.
   */
  update(indices: BankIndices, features: tf.Tensor2D, momentum?: number): void;
  /**
   * `[count, dim]`: rows drawn uniformly with replacement (the paper's noise
   * distribution P_n = 1/n), using `rng`; rows in `exclude` (e.g. the
   * batch's own examples) are redrawn.
   */
  sampleNegatives(count: number, rng: Rng, exclude?: BankIndices): tf.Tensor2D;
  /** Frees the variable. */
  dispose(): void;
}

// F.normalize's floor: a zero row stays zero instead of becoming NaN.
const NORM_EPSILON = 1e-12;

/** The indices as numbers, each checked to be an integer in [0, size). */
function indexList(fn: string, arg: string, indices: BankIndices, size: number): Int32Array {
  let list: Int32Array;
  if (indices instanceof tf.Tensor) {
    if (indices.rank !== 1 || indices.dtype !== "int32") {
      throw new Error(`${fn}: ${arg} must be an int32 tensor of shape [k], got ${indices.dtype} [${indices.shape.join(", ")}]`);
    }
    list = indices.dataSync() as Int32Array;
  } else if (Array.isArray(indices) || indices instanceof Int32Array) {
    for (let i = 0; i < indices.length; i++) {
      const v = indices[i];
      checkInteger(fn, `${arg}[${i}]`, v);
    }
    list = Int32Array.from(indices);
  } else {
    throw new Error(`${fn}: ${arg} must be a number[], Int32Array or int32 tf.Tensor1D, got ${indices}`);
  }
  for (let i = 0; i < list.length; i++) {
    checkIntegerInRange(fn, `${arg}[${i}]`, list[i], 0, size, { maxExclusive: true });
  }
  return list;
}

/**
 * Makes a memory bank of `size` random unit vectors (Gaussian rows
 * normalised: uniform on the sphere), drawn from `seed` with the workbook's
 * Rng, so the bank is the same on every backend.
 *
 * Shapes: the bank is `[size, dim]`; `gather`/`sampleNegatives` return `[k, dim]`.
 *
 * @example
 * const bank = createMemoryBank({ size: 60000, dim: 128, momentum: 0.5, seed: 1 });
 * // in the loss: const positives = bank.gather(batch.indices); const negatives = bank.sampleNegatives(4096, ctx.rng);
 * // after the step: bank.update(batch.indices, features);
 */
export function createMemoryBank(options: MemoryBankOptions): MemoryBank {
  const fn = "createMemoryBank";
  if (options === null || typeof options !== "object") {
    throw new Error(`${fn}: options must be an object {size, dim, momentum, seed}, got ${options}`);
  }
  const { size, dim, momentum } = options;
  checkPositiveInteger(fn, "size", size);
  checkPositiveInteger(fn, "dim", dim);
  checkNumberInRange(fn, "momentum", momentum, 0, 1, { maxExclusive: true });
  const seed = options.seed ?? 0;
  checkInteger(fn, "seed", seed);

  const rng = createRng(seed);
  const init = new Float32Array(size * dim);
  const row = new Float64Array(dim);
  for (let r = 0; r < size; r++) {
    let norm = 0;
    for (let j = 0; j < dim; j++) {
      row[j] = rng.normal();
      norm += row[j] * row[j];
    }
    norm = Math.sqrt(norm);
    for (let j = 0; j < dim; j++) init[r * dim + j] = row[j] / norm;
  }
  // tf.variable copies its initial value; the temporary tensor is freed at once so dispose() leaves nothing behind.
  const start = tf.tensor2d(init, [size, dim]);
  const vectors = tf.variable(start, false);
  start.dispose();
  let disposed = false;
  const alive = (where: string) => {
    if (disposed) throw new Error(`${where}: the memory bank was disposed`);
  };

  return {
    size,
    dim,
    momentum,
    vectors,
    gather(indices: BankIndices) {
      const where = "MemoryBank.gather";
      alive(where);
      const list = indexList(where, "indices", indices, size);
      return tf.tidy(() => tf.gather(vectors as tf.Tensor2D, tf.tensor1d(list, "int32")));
    },
    update(indices: BankIndices, features: tf.Tensor2D, m = momentum) {
      const where = "MemoryBank.update";
      alive(where);
      const list = indexList(where, "indices", indices, size);
      const seen = new Set<number>();
      for (const i of list) {
        if (seen.has(i)) throw new Error(`${where}: indices must be distinct, got ${i} more than once`);
        seen.add(i);
      }
      if (!(features instanceof tf.Tensor) || features.rank !== 2 || features.shape[0] !== list.length || features.shape[1] !== dim) {
        const got = features instanceof tf.Tensor ? `[${features.shape.join(", ")}]` : `${features}`;
        throw new Error(`${where}: features must have shape [${list.length}, ${dim}], got ${got}`);
      }
      if (features.dtype !== "float32") throw new Error(`${where}: features must be float32, got ${features.dtype}`);
      checkNumberInRange(where, "momentum", m, 0, 1, { maxExclusive: true });
      if (list.length === 0) return;
      tf.tidy(() => {
        const idx = tf.tensor1d(list, "int32");
        const mixed = tf.add(tf.mul(tf.gather(vectors, idx), m), tf.mul(features, 1 - m));
        const norm = tf.maximum(tf.sqrt(tf.sum(tf.square(mixed), 1, true)), NORM_EPSILON);
        const rows = tf.div(mixed, norm);
        vectors.assign(tf.tensorScatterUpdate(vectors, tf.reshape(idx, [list.length, 1]), rows));
      });
    },
    sampleNegatives(count: number, sampler: Rng, exclude?: BankIndices) {
      const where = "MemoryBank.sampleNegatives";
      alive(where);
      checkNonNegativeInteger(where, "count", count);
      if (sampler === null || typeof sampler !== "object" || typeof sampler.int !== "function") {
        throw new Error(`${where}: rng must be an Rng (createRng), got ${sampler}`);
      }
      const banned = new Set(exclude === undefined ? [] : indexList(where, "exclude", exclude, size));
      if (count > 0 && banned.size >= size) {
        throw new Error(`${where}: exclude must leave at least one of the ${size} rows, got all ${banned.size} excluded`);
      }
      const picks = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        let r = sampler.int(size);
        while (banned.has(r)) r = sampler.int(size);
        picks[i] = r;
      }
      return tf.tidy(() => tf.gather(vectors as tf.Tensor2D, tf.tensor1d(picks, "int32")));
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      vectors.dispose();
    },
  };
}
