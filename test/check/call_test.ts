import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { callTracked, disposeAll, tensorIdMark, tensorLeaves } from "../../src/check/call";

test("tensorLeaves finds tensors in arrays and plain objects, each once, with paths", async () => {
  await tf.setBackend("cpu");
  const [a, b, c] = [tf.zeros([1]), tf.zeros([2]), tf.zeros([3])];
  const leaves = tensorLeaves([a, [b, 0.5], { queue: c, again: a }, "x"], "in");
  assert.deepEqual(leaves.map((l) => l.path), ["in[0]", "in[1][0]", "in[2].queue"]);
  assert.deepEqual(leaves.map((l) => l.tensor), [a, b, c]);
  assert.deepEqual(tensorLeaves(a, "z1").map((l) => l.path), ["z1"]);
  tf.dispose([a, b, c]);
});

test("tensorIdMark is below the id of every tensor and variable created after it", async () => {
  await tf.setBackend("cpu");
  const old = tf.zeros([2]);
  const mark = tensorIdMark();
  const t = tf.zeros([2]);
  const v = tf.variable(tf.zeros([1]));
  assert.ok(old.id <= mark && t.id > mark && v.id > mark);
  tf.dispose([old, t, v]);
});

test("callTracked keeps what the call created and returned, counts and frees the rest", async () => {
  await tf.setBackend("cpu");
  const x = tf.ones([3]);
  const before = tf.memory().numTensors;
  const call = callTracked((input: tf.Tensor) => {
    const doubled = tf.mul(input, 2); // an intermediate, left allocated
    tf.variable(tf.zeros([1])); // a variable, and its initial value, dropped
    return [tf.add(doubled, 1), input];
  }, [x]);
  assert.equal(call.threw, false);
  assert.equal(call.leaked, 3);
  assert.equal(call.created.length, 1, "the input returned is not the call's to dispose");
  assert.deepEqual(Array.from(call.created[0].dataSync()), [3, 3, 3]);
  assert.equal(tf.memory().numTensors, before + 1);
  disposeAll([...call.created, ...call.created]);
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});

test("callTracked reports a throw, ends the scope and frees what the call allocated", async () => {
  await tf.setBackend("cpu");
  const before = tf.memory().numTensors;
  const call = callTracked(() => {
    tf.zeros([4]);
    tf.tidy(() => {
      tf.ones([2]);
      throw new RangeError("deep inside");
    });
  }, []);
  assert.equal(call.threw, true);
  assert.ok(call.thrown instanceof RangeError);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(tf.engine().state.scopeStack.length, 0);
});
