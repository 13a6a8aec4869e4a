import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { labelMasks } from "../../../src/losses/ops/masks";

test("labelMasks marks same-label pairs (not self) as positive and the rest as negative", async () => {
  await tf.setBackend("cpu");
  const labels = tf.tensor1d([0, 0, 1, 2, 1], "int32");
  const before = tf.memory().numTensors;
  const { positive, negative } = labelMasks(labels);
  assert.equal(tf.memory().numTensors, before + 2);
  const l = [0, 0, 1, 2, 1];
  const p = positive.arraySync();
  const n = negative.arraySync();
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 5; j++) {
      assert.equal(p[i][j], l[i] === l[j] && i !== j ? 1 : 0, `positive[${i}][${j}]`);
      assert.equal(n[i][j], l[i] !== l[j] ? 1 : 0, `negative[${i}][${j}]`);
    }
  }
  tf.dispose([labels, positive, negative]);
});
