import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { number, tensor, that } from "../../src/check/assertions";
import { fails, passes } from "./expect";

const OPTS = { exercise: "04.2", name: "mask" };

test("tensor: passes on the expected shape and values, against a tensor, nested arrays or a number", async () => {
  await tf.setBackend("cpu");
  const mask = tf.sub(1, tf.eye(3));
  const want = tf.sub(1, tf.eye(3));
  assert.equal(passes(() => tensor(mask, want, OPTS)), "✓ Exercise 04.2: mask has the expected shape [3,3] and values.");
  passes(() => tensor(mask, [[0, 1, 1], [1, 0, 1], [1, 1, 0.00005]], OPTS));
  const loss = tf.scalar(0.5);
  assert.equal(passes(() => tensor(loss, 0.5, { exercise: "04.2", name: "loss" })), "✓ Exercise 04.2: loss has the expected shape [] and values.");
  assert.ok(!mask.isDisposed && !want.isDisposed, "the caller's tensors are left alone");
  tf.dispose([mask, want, loss]);
});

test("tensor: type, shape, nan and values failures", async () => {
  await tf.setBackend("cpu");
  const expected = [[0, 1], [1, 0]];
  fails(() => tensor(undefined, expected, OPTS), "type", ["Exercise 04.2: mask is undefined; expected a tf.Tensor."]);
  fails(() => tensor([[0, 1], [1, 0]], expected, OPTS), "type", ["Exercise 04.2: mask is [[0,1],[1,0]]; expected a tf.Tensor (make one with tf.tensor(...))."]);
  fails(() => tensor([0, 1], [0, 1], OPTS), "type", ["mask is [0,1]; expected a tf.Tensor (make one with tf.tensor(...))."]);
  const gone = tf.zeros([2, 2]);
  gone.dispose();
  fails(() => tensor(gone, expected, OPTS), "type", ["mask is a tensor that was already disposed; expected a tf.Tensor (a tensor returned from tf.tidy survives it"]);
  const flat = tf.tensor1d([0, 1, 1, 0]);
  fails(() => tensor(flat, expected, OPTS), "shape", ["Exercise 04.2: mask has shape [4] but should have shape [2,2]."]);
  const nan = tf.tensor2d([[0, 1], [NaN, 0]]);
  fails(() => tensor(nan, expected, OPTS), "nan", ["Exercise 04.2: mask is NaN at [1,0] (the expected value is finite there)."]);
  const wrong = tf.tensor2d([[1, 1], [1, 1]]);
  fails(() => tensor(wrong, expected, OPTS), "values", [
    "Exercise 04.2: mask differs from the expected values at 2 of 4 positions: max error 1 at [0,0] (got 1, expected 0); tolerance 1e-4 + 1e-3 * |expected|.",
  ]);
  fails(() => tensor(wrong, expected, { ...OPTS, atol: 0.5, rtol: 0 }), "values", ["tolerance 0.5 + 0 * |expected|."]);
  tf.dispose([flat, nan, wrong]);
});

test("tensor: a bad expected value or options is the author's Error", async () => {
  await tf.setBackend("cpu");
  const t = tf.zeros([2]);
  assert.throws(() => tensor(t, [[1, 2], [3]], OPTS), /^Error: check\.tensor: expected must be a tensor, a number or a nested array of numbers, got \[\[1,2\],\[3\]\]$/);
  assert.throws(() => tensor(t, [0, 0], { exercise: "04.2" } as typeof OPTS), /check\.tensor: options\.name must be a non-empty string, got undefined/);
  t.dispose();
});

test("number: pass, type, nan and values", async () => {
  await tf.setBackend("cpu");
  const opts = { exercise: "04.1", name: "the loss of equal rows" };
  assert.equal(passes(() => number(Math.log(15) + 1e-6, Math.log(15), opts)), "✓ Exercise 04.1: the loss of equal rows is 2.708, as expected.");
  const t = tf.scalar(2.708);
  fails(() => number(t, Math.log(15), opts), "type", ["Exercise 04.1: the loss of equal rows is a tensor of shape []; expected a number (read its value out with dataSync()[0])."]);
  t.dispose();
  fails(() => number("2.7", Math.log(15), opts), "type", ['the loss of equal rows is "2.7"; expected a number.']);
  fails(() => number(NaN, Math.log(15), opts), "nan", ["Exercise 04.1: the loss of equal rows is NaN; expected 2.708."]);
  fails(() => number(2.5, Math.log(15), opts), "values", ["Exercise 04.1: the loss of equal rows is 2.5; expected 2.708 (error 0.2081; tolerance 1e-4 + 1e-3 * |expected|)."]);
  assert.throws(() => number(1, NaN, opts), /check\.number: expected must be a number, got NaN/);
});

test("that: a condition with the author's teaching sentence", () => {
  const opts = { exercise: "05.3", message: "the queue should keep 4096 keys: enqueue the new batch, then drop the oldest" };
  assert.equal(passes(() => that(true, { ...opts, passed: "the queue keeps 4096 keys" })), "✓ Exercise 05.3: the queue keeps 4096 keys.");
  assert.equal(passes(() => that(true, opts)), "✓ Exercise 05.3: check passed.");
  fails(() => that(false, opts), "condition", ["Exercise 05.3: the queue should keep 4096 keys: enqueue the new batch, then drop the oldest."]);
  fails(() => that(false, { ...opts, message: "Is the queue full?" }), "condition", ["Exercise 05.3: Is the queue full?"]);
  assert.throws(() => that(1 as unknown as boolean, opts), /^Error: check\.that: condition must be true or false, got 1$/);
  assert.throws(() => that(true, { exercise: "05.3" } as typeof opts), /check\.that: options\.message must be a non-empty string, got undefined/);
});
