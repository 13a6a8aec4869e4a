/**
 * Pins simclrAugment's output on grey 28x28 digits, recorded before the
 * colour ops for RGB were added: the MNIST notebooks' numbers depend on the
 * one-channel pipeline staying bit-identical.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import "../../src/backend/select"; // registers the wasm backend
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { simclrAugment } from "../../src/augment/compose";

/** Three digit-like 28x28 grey images: 70% black, the rest uniform. */
function digitLike(): tf.Tensor4D {
  const rng = createRng(11);
  return tf.tensor4d(Float32Array.from({ length: 3 * 28 * 28 }, () => (rng.next() < 0.3 ? rng.next() : 0)), [3, 28, 28, 1]);
}

const PROBES = [0, 300, 406, 784 + 350, 2 * 784 + 420, 2 * 784 + 500];

/** Recorded per backend and strength: sha256 of the float32 bytes, and six values. */
const PINNED: Record<string, Record<number, { sha256: string; values: number[] }>> = {
  wasm: {
    1: {
      sha256: "86d557d442c9996b49d9f8697729f4649d9f5189b9391d37ea494025d8ecf0dd",
      values: [0.10590102523565292, 0.12741237878799438, 0.34798678755760193, 0.008024301379919052, 0.06151995062828064, 0.20567727088928223],
    },
    0.5: {
      sha256: "2cfee967d63d00fba1795e548d0819207b892346953d653e0af8c34869b2df6d",
      values: [0.05296508967876434, 0.04253465682268143, 0.2295137494802475, 0.10461437702178955, 0.1668519377708435, 0.1570335477590561],
    },
  },
  cpu: {
    1: {
      sha256: "ec3adeb76ba03f74c8bd3eb657b124ea292eec3a8246a13aeb29410491d3d4ee",
      values: [0.10590101778507233, 0.12741240859031677, 0.34798678755760193, 0.008024349808692932, 0.06151995807886124, 0.205677330493927],
    },
    0.5: {
      sha256: "60ab96e3322302b8db80e3b4af73159d14ee92cadf5fedccac948ac6bb853b81",
      values: [0.05296508967876434, 0.04253465682268143, 0.22951354086399078, 0.10461431741714478, 0.16685211658477783, 0.15703336894512177],
    },
  },
};

for (const backend of ["wasm", "cpu"]) {
  test(`simclrAugment on grey 28x28 digits is bit-identical to the recorded pipeline (${backend})`, async () => {
    await tf.setBackend(backend);
    await tf.ready();
    const x = digitLike();
    for (const strength of [1, 0.5]) {
      const y = simclrAugment({ strength })(x, 2024);
      const data = y.dataSync() as Float32Array;
      const pinned = PINNED[backend][strength];
      assert.deepEqual(
        PROBES.map((i) => data[i]),
        pinned.values,
      );
      assert.equal(createHash("sha256").update(Buffer.from(data.buffer, data.byteOffset, data.byteLength)).digest("hex"), pinned.sha256);
      y.dispose();
    }
    x.dispose();
  });
}
