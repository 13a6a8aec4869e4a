import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { labelMasks } from "../../../src/losses/ops/masks";
import { checkMatrix, checkPositive, checkVector } from "../../../src/losses/ops/validate";

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

test("the checks name the function, the argument, the expected and the actual value", async () => {
  await tf.setBackend("cpu");
  const m = tf.zeros([3, 4]);
  const v = tf.zeros([3], "int32");
  assert.doesNotThrow(() => checkMatrix("f", "x", m, 3, 4));
  assert.throws(() => checkMatrix("f", "x", v), /f: x must have rank 2, shape \[batch,dim\], got shape \[3\]/);
  assert.throws(() => checkMatrix("f", "y", m, 2), /f: y must have shape \[2,dim\], got \[3,4\]/);
  assert.throws(() => checkMatrix("f", "x", [1, 2]), /f: x must be a tf.Tensor/);
  assert.throws(() => checkMatrix("f", "x", v.reshape([3, 1])), /f: x must be float32, got int32/);
  assert.doesNotThrow(() => checkVector("f", "labels", v, 3, "int32"));
  assert.throws(() => checkVector("f", "labels", v, 4, "int32"), /f: labels must have shape \[4\], got \[3\]/);
  assert.throws(() => checkVector("f", "labels", v, 3), /f: labels must be float32, got int32/);
  assert.throws(() => checkPositive("f", "margin", -1), /f: options.margin must be a finite number > 0, got -1/);
  assert.throws(() => checkPositive("f", "margin", NaN, true), /options.margin must be a finite number >= 0, got NaN/);
  assert.doesNotThrow(() => checkPositive("f", "margin", 0, true));
  tf.dispose([m, v]);
});
