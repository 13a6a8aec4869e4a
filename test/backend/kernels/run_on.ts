import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";

/**
 * Runs `f` inside `tf.tidy` on `backend` and returns its output's values and
 * shape, asserting it left no tensor behind: the comparison the kernel tests
 * make between wasm (with the training kernels) and the stock cpu backend.
 *
 * @example
 * assert.deepEqual(await runOn("wasm", () => tf.tile(x, [2])), await runOn("cpu", () => tf.tile(x, [2])));
 */
export async function runOn(backend: "wasm" | "cpu", f: () => tf.Tensor, label = ""): Promise<{ values: number[]; shape: number[] }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const got = tf.tidy(() => {
    const out = f();
    return { values: Array.from(out.dataSync()), shape: out.shape };
  });
  assert.equal(tf.memory().numTensors, before, `${backend} ${label} leaked`);
  return got;
}
