/**
 * A dense autoencoder for flattened images: encoder D -> hidden (ReLU) ->
 * code (linear), decoder code -> hidden (ReLU) -> D logits, and a sigmoid
 * for the reconstruction in [0, 1]. Used plain or denoising (Vincent et al.
 * 2008; methods/denoising_autoencoder.ts).
 */
import { tf } from "../backend/tf";
import { createRng } from "../data/random";
import { checkInteger, checkMatrix, checkPositiveInteger } from "../validation/arguments";

/** Options of {@link createAutoencoder}. */
export interface AutoencoderOptions {
  /** D, the input size; default 784. */
  inputDim?: number;
  /** Width of the hidden layer on each side; default 256. */
  hiddenUnits?: number;
  /** Size of the code; default 64. */
  codeDim?: number;
  /** Seed of the Glorot-uniform weights; default 0. */
  seed?: number;
}

/** A dense autoencoder: its variables and what it computes. */
export interface Autoencoder {
  /** D. */
  readonly inputDim: number;
  /** Hidden width. */
  readonly hiddenUnits: number;
  /** Code size. */
  readonly codeDim: number;
  /** Weight matrices, in order: encoder `[D, hidden]`, `[hidden, code]`, decoder `[code, hidden]`, `[hidden, D]`. */
  readonly weights: readonly tf.Variable[];
  /** Biases matching `weights`. */
  readonly biases: readonly tf.Variable[];
  /** Every variable, for `training.train({ trainable })`. */
  readonly trainable: tf.Variable[];
  /** The code. Shapes: `[batch, D]` -> `[batch, code]`. */
  encode(x: tf.Tensor2D): tf.Tensor2D;
  /** The reconstruction's logits. Shapes: `[batch, code]` -> `[batch, D]`. */
  decodeLogits(code: tf.Tensor2D): tf.Tensor2D;
  /** The reconstruction sigmoid(decodeLogits(encode(x))) in (0, 1). Shapes: `[batch, D]` -> `[batch, D]`. */
  reconstruct(x: tf.Tensor2D): tf.Tensor2D;
  /** Frees the variables. */
  dispose(): void;
}

function variableFrom(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t);
  t.dispose();
  return v;
}

/**
 * Builds the autoencoder with seeded Glorot-uniform weights and zero biases.
 *
 * Shapes: inputs `[batch, D]`, codes `[batch, code]`.
 *
 * @example
 * const ae = createAutoencoder({ inputDim: 784, hiddenUnits: 256, codeDim: 64, seed: 1 });
 * const code = ae.encode(x); // [batch, 64]
 */
export function createAutoencoder(options: AutoencoderOptions = {}): Autoencoder {
  const fn = "createAutoencoder";
  const d = options.inputDim ?? 784;
  const hidden = options.hiddenUnits ?? 256;
  const codeDim = options.codeDim ?? 64;
  checkPositiveInteger(fn, "inputDim", d);
  checkPositiveInteger(fn, "hiddenUnits", hidden);
  checkPositiveInteger(fn, "codeDim", codeDim);
  const seed = options.seed ?? 0;
  checkInteger(fn, "seed", seed);
  const rng = createRng(seed);
  const sizes: Array<[number, number]> = [[d, hidden], [hidden, codeDim], [codeDim, hidden], [hidden, d]];
  const weights: tf.Variable[] = [];
  const biases: tf.Variable[] = [];
  for (const [fanIn, fanOut] of sizes) {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    weights.push(variableFrom(tf.tensor2d(Float32Array.from({ length: fanIn * fanOut }, () => (2 * rng.next() - 1) * limit), [fanIn, fanOut])));
    biases.push(variableFrom(tf.zeros([fanOut])));
  }
  const layer = (x: tf.Tensor2D, l: number) => tf.add(tf.matMul(x, weights[l] as tf.Tensor2D), biases[l]) as tf.Tensor2D;
  const encode = (x: tf.Tensor2D): tf.Tensor2D => {
    checkMatrix("Autoencoder.encode", "x", x, undefined, d, "float32");
    return tf.tidy(() => layer(tf.relu(layer(x, 0)), 1));
  };
  const decodeLogits = (code: tf.Tensor2D): tf.Tensor2D => {
    checkMatrix("Autoencoder.decodeLogits", "code", code, undefined, codeDim, "float32");
    return tf.tidy(() => layer(tf.relu(layer(code, 2)), 3));
  };
  return {
    inputDim: d,
    hiddenUnits: hidden,
    codeDim,
    weights,
    biases,
    trainable: [...weights, ...biases],
    encode,
    decodeLogits,
    reconstruct(x: tf.Tensor2D): tf.Tensor2D {
      checkMatrix("Autoencoder.reconstruct", "x", x, undefined, d, "float32");
      return tf.tidy(() => tf.sigmoid(decodeLogits(encode(x))));
    },
    dispose() {
      tf.dispose([...weights, ...biases]);
    },
  };
}
