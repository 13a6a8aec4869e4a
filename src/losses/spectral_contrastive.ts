/**
 * The spectral contrastive loss (HaoChen, Wei, Gaidon & Ma 2021, "Provable
 * Guarantees for Self-Supervised Deep Learning with Spectral Contrastive
 * Loss", NeurIPS, Sec. 3.2, Lemma 3.2).
 */
import { tf } from "../backend/tf";
import { checkMatrix, describe } from "../validation/arguments";

/**
 * The mini-batch spectral contrastive loss of two views' embeddings:
 *
 *   L = -2/B sum_i z1_i . z2_i + 1/(B(B-1)) sum_{i != j} (z1_i . z2_j)^2.
 *
 * It is the empirical form of the paper's population loss (Lemma 3.2)
 * L(f) = -2 E_{x,x+}[f(x)^T f(x+)] + E_{x,x'}[(f(x)^T f(x'))^2]: the
 * positive pairs are the B rows (i, i), the independent pairs the B(B-1) rows
 * (i, j != i). Minimising it is, up to a constant, the low-rank factorisation
 * ||A_bar - F F^T||_F^2 of the normalised augmentation graph, so its minimiser
 * spans the graph's top eigenvectors (the paper's linear-probe guarantee).
 *
 * No normalisation and no temperature: the embeddings are used as they are,
 * and the quartic term of the negatives bounds their scale.
 *
 * Shapes: `z1`, `z2`: `[B, D]` float32, B >= 2 (row i of each are two views of example i) -> scalar.
 *
 * @example
 * const loss = spectralContrastiveLoss(head.apply(encoder.apply(view1)) as tf.Tensor2D,
 *                                      head.apply(encoder.apply(view2)) as tf.Tensor2D);
 * // In SimCLR's place of NT-Xent (the temperature is not used):
 * createSimclr({ encoder, encoderDim: 128, ntXent: (z1, z2) => spectralContrastiveLoss(z1, z2) });
 */
export function spectralContrastiveLoss(z1: tf.Tensor2D, z2: tf.Tensor2D): tf.Scalar {
  const fn = "spectralContrastiveLoss";
  checkMatrix(fn, "z1", z1, undefined, undefined, "float32");
  const [b, d] = z1.shape;
  if (b < 2 || d < 1) throw new Error(`${fn}: z1 must have at least 2 rows (pairs i != j) and 1 column, got ${describe(z1)}`);
  checkMatrix(fn, "z2", z2, b, d, "float32");
  return tf.tidy(() => {
    const positive = tf.sum(tf.mul(z1, z2), 1);
    // Explicit transpose: wasm's matMul leaves its fast path for a transposed operand.
    const products = tf.matMul(z1, tf.transpose(z2));
    const offDiagonalSquares = tf.sub(tf.sum(tf.square(products)), tf.sum(tf.square(positive)));
    return tf.add(tf.mul(tf.sum(positive), -2 / b), tf.div(offDiagonalSquares, b * (b - 1))) as tf.Scalar;
  });
}
