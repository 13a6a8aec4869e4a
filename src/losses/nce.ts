import { tf } from "../backend/tf";
import { checkVector } from "../validation/arguments";

/**
 * Noise-contrastive estimation (Gutmann & Hyvarinen 2010). Logits are
 * G(u) = log p_theta(u) - log q(u) for data samples `[n]` and noise samples `[m]`:
 * -(mean log sigmoid(G(data)) + mean log(1 - sigmoid(G(noise)))),
 * computed as mean softplus(-G(data)) + mean softplus(G(noise)) (stable for any logit).
 *
 * Shapes: `dataLogits` `[n]`, `noiseLogits` `[m]` float32 -> scalar.
 *
 * @example
 * const loss = nceLoss(tf.tensor1d([2, 3]), tf.tensor1d([-1, 0, -2]));
 */
export function nceLoss(dataLogits: tf.Tensor1D, noiseLogits: tf.Tensor1D): tf.Scalar {
  checkVector("nceLoss", "dataLogits", dataLogits, undefined, "float32");
  checkVector("nceLoss", "noiseLogits", noiseLogits, undefined, "float32");
  if (dataLogits.shape[0] === 0 || noiseLogits.shape[0] === 0) {
    throw new Error(`nceLoss: dataLogits and noiseLogits must be non-empty, got [${dataLogits.shape[0]}] and [${noiseLogits.shape[0]}]`);
  }
  // -log sigmoid(x) = softplus(-x); tf.logSigmoid's gradient crashes in tfjs 4.22.
  return tf.tidy(() => tf.add(tf.mean(tf.softplus(tf.neg(dataLogits))), tf.mean(tf.softplus(noiseLogits)))) as tf.Scalar;
}
