import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { expectationText, partValues, readOutputs, sameForm, tensorsOf, wrongFormText } from "../../src/check/outputs";

test("readOutputs takes apart a tensor, an array of tensors, a number, an array of numbers", async () => {
  await tf.setBackend("cpu");
  const [a, b] = [tf.zeros([2, 3]), tf.ones([4])];
  assert.deepEqual(readOutputs(a)?.shapes, [[2, 3]]);
  assert.equal(readOutputs(a)?.kind, "tensor");
  const both = readOutputs([a, b])!;
  assert.equal(both.kind, "tensors");
  assert.deepEqual(both.shapes, [[2, 3], [4]]);
  assert.deepEqual(tensorsOf(both), [a, b]);
  assert.deepEqual(readOutputs(0.5), { kind: "number", parts: [0.5], shapes: [[]] });
  assert.deepEqual(readOutputs([1, 2]), { kind: "numbers", parts: [[1, 2]], shapes: [[2]] });
  assert.deepEqual(Array.from(partValues(b)), [1, 1, 1, 1]);
  assert.deepEqual(partValues(3), [3]);
  tf.dispose([a, b]);
});

test("readOutputs rejects what is not a usable Checkable", async () => {
  await tf.setBackend("cpu");
  const gone = tf.zeros([2]);
  gone.dispose();
  const text = tf.tensor(["a"]);
  const one = tf.scalar(1);
  const bad = [undefined, null, "x", {}, [], [1, one], gone, text, [gone], Promise.resolve(1), [[1, 2]]];
  bad.forEach((value, i) => assert.equal(readOutputs(value), undefined, `case ${i}`));
  tf.dispose([text, one]);
});

test("expectationText, sameForm and wrongFormText say what was expected and what came instead", async () => {
  await tf.setBackend("cpu");
  const [a, b] = [tf.zeros([2]), tf.zeros([2])];
  const one = readOutputs(a)!;
  const two = readOutputs([a, b])!;
  assert.equal(expectationText(one), "a tf.Tensor");
  assert.equal(expectationText(two), "an array of 2 tf.Tensors");
  assert.equal(expectationText(readOutputs(1)!), "a number");
  assert.equal(expectationText(readOutputs([1])!), "an array of numbers");
  assert.ok(sameForm(two, readOutputs([b, a])!));
  assert.ok(!sameForm(two, readOutputs([a])!));
  assert.ok(!sameForm(one, readOutputs(1)!));
  assert.equal(wrongFormText(undefined, one, true), "undefined; expected a tf.Tensor (did you forget to return?)");
  assert.equal(wrongFormText(undefined, one, false), "undefined; expected a tf.Tensor");
  assert.equal(wrongFormText(a, readOutputs(1)!, true), "a tensor of shape [2]; expected a number (read its value out with dataSync()[0])");
  assert.equal(wrongFormText([1, 2], one, false), "[1,2]; expected a tf.Tensor (make one with tf.tensor(...))");
  assert.equal(wrongFormText([a, 3], two, true), "an array mixing tensors and numbers; expected an array of 2 tf.Tensors");
  assert.equal(wrongFormText([a, "b"], two, true), 'an array whose element 1 is "b"; expected an array of 2 tf.Tensors');
  assert.equal(wrongFormText([], two, true), "an empty array; expected an array of 2 tf.Tensors");
  const text = tf.tensor(["a"]);
  assert.equal(wrongFormText(text, one, true), "a string tensor of shape [1]; expected a tf.Tensor");
  tf.dispose([a, b, text]);
  assert.equal(wrongFormText([a, b], two, true), "an array of 2 tensors, some already disposed; expected an array of 2 tf.Tensors");
});
