import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import {
  checkFiniteNumber,
  checkInteger,
  checkIntegerInRange,
  checkMatrix,
  checkNonNegativeInteger,
  checkNonNegativeNumber,
  checkNumberInRange,
  checkOneOf,
  checkPositiveInteger,
  checkPositiveNumber,
  checkProbability,
  checkRank,
  checkSameRows,
  checkTensor,
  checkVector,
  describe,
} from "../../src/validation/arguments";

/** Asserts that `f` throws exactly `message`. */
function throwsExactly(f: () => void, message: string): void {
  assert.throws(f, (e: unknown) => e instanceof Error && e.message === message);
}

test("describe prints numbers, quoted strings, arrays, typed arrays, tensors, undefined and null", async () => {
  await tf.setBackend("cpu");
  assert.equal(describe(0), "0");
  assert.equal(describe(-1.5), "-1.5");
  assert.equal(describe(NaN), "NaN");
  assert.equal(describe(Infinity), "Infinity");
  assert.equal(describe("sgd"), '"sgd"');
  assert.equal(describe([2, 3]), "[2,3]");
  assert.equal(describe(["a", 1]), '["a",1]');
  assert.equal(describe([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), "[1,2,3,4,5,6,7,8,... (10 elements)]");
  assert.equal(describe(new Float32Array(5)), "a Float32Array of length 5");
  assert.equal(describe(new Int32Array(2)), "an Int32Array of length 2");
  assert.equal(describe(undefined), "undefined");
  assert.equal(describe(null), "null");
  assert.equal(describe(true), "true");
  assert.equal(describe(() => 1), "a function");
  assert.equal(describe({ a: 1 }), "an object");
  assert.equal(describe(new Map()), "a Map");
  const t = tf.zeros([2, 3]);
  assert.equal(describe(t), "a tensor of shape [2,3]");
  t.dispose();
});

test("checkInteger accepts integers of any sign and rejects the rest", () => {
  checkInteger("f", "seed", -3);
  checkInteger("f", "seed", 0);
  throwsExactly(() => checkInteger("f", "seed", 1.5), "f: seed must be an integer, got 1.5");
  throwsExactly(() => checkInteger("f", "seed", "1"), 'f: seed must be an integer, got "1"');
});

test("checkPositiveInteger accepts 1, 2, ... and names function, argument and value otherwise", () => {
  checkPositiveInteger("smallCnnEncoder", "options.filters", 1);
  throwsExactly(() => checkPositiveInteger("smallCnnEncoder", "options.filters", 0), "smallCnnEncoder: options.filters must be a positive integer, got 0");
  throwsExactly(() => checkPositiveInteger("f", "n", 2.5), "f: n must be a positive integer, got 2.5");
  throwsExactly(() => checkPositiveInteger("f", "n", undefined), "f: n must be a positive integer, got undefined");
  throwsExactly(() => checkPositiveInteger("f", "n", NaN), "f: n must be a positive integer, got NaN");
});

test("checkNonNegativeInteger accepts 0 and rejects negatives and fractions", () => {
  checkNonNegativeInteger("f", "epoch", 0);
  throwsExactly(() => checkNonNegativeInteger("f", "epoch", -1), "f: epoch must be a non-negative integer, got -1");
  throwsExactly(() => checkNonNegativeInteger("f", "epoch", 0.5), "f: epoch must be a non-negative integer, got 0.5");
});

test("checkIntegerInRange states inclusive and exclusive bounds", () => {
  checkIntegerInRange("f", "k", 1, 1, 5);
  checkIntegerInRange("f", "k", 5, 1, 5);
  checkIntegerInRange("f", "id", 0, 0, 10, { maxExclusive: true });
  throwsExactly(() => checkIntegerInRange("f", "k", 6, 1, 5), "f: k must be an integer in [1, 5], got 6");
  throwsExactly(() => checkIntegerInRange("f", "id", 10, 0, 10, { maxExclusive: true }), "f: id must be an integer in [0, 10), got 10");
  throwsExactly(() => checkIntegerInRange("f", "k", 0, 0, 3, { minExclusive: true }), "f: k must be an integer in (0, 3], got 0");
  throwsExactly(() => checkIntegerInRange("f", "k", 2.5, 1, 5), "f: k must be an integer in [1, 5], got 2.5");
});

test("checkFiniteNumber rejects NaN, infinities and non-numbers", () => {
  checkFiniteNumber("f", "fill", -2);
  throwsExactly(() => checkFiniteNumber("f", "fill", NaN), "f: fill must be a finite number, got NaN");
  throwsExactly(() => checkFiniteNumber("f", "fill", -Infinity), "f: fill must be a finite number, got -Infinity");
  throwsExactly(() => checkFiniteNumber("f", "fill", null), "f: fill must be a finite number, got null");
});

test("checkPositiveNumber accepts finite numbers > 0 only", () => {
  checkPositiveNumber("f", "options.temperature", 0.07);
  throwsExactly(() => checkPositiveNumber("f", "options.temperature", 0), "f: options.temperature must be a finite number > 0, got 0");
  throwsExactly(() => checkPositiveNumber("f", "options.temperature", Infinity), "f: options.temperature must be a finite number > 0, got Infinity");
  throwsExactly(() => checkPositiveNumber("f", "options.temperature", "0.1"), 'f: options.temperature must be a finite number > 0, got "0.1"');
});

test("checkNonNegativeNumber accepts 0 and rejects negatives and NaN", () => {
  checkNonNegativeNumber("f", "options.margin", 0);
  throwsExactly(() => checkNonNegativeNumber("f", "options.margin", -1), "f: options.margin must be a finite number >= 0, got -1");
  throwsExactly(() => checkNonNegativeNumber("f", "options.margin", NaN), "f: options.margin must be a finite number >= 0, got NaN");
});

test("checkNumberInRange states which bounds are inclusive", () => {
  checkNumberInRange("f", "momentum", 0, 0, 1, { maxExclusive: true });
  checkNumberInRange("f", "momentum", 1, 0, 1);
  throwsExactly(
    () => checkNumberInRange("createMemoryBank", "options.momentum", 1, 0, 1, { maxExclusive: true }),
    "createMemoryBank: options.momentum must be a number in [0, 1), got 1",
  );
  throwsExactly(() => checkNumberInRange("f", "x", 0, 0, 1, { minExclusive: true }), "f: x must be a number in (0, 1], got 0");
  throwsExactly(() => checkNumberInRange("f", "x", 1.5, 0, 1), "f: x must be a number in [0, 1], got 1.5");
  throwsExactly(() => checkNumberInRange("f", "x", NaN, 0, 1), "f: x must be a number in [0, 1], got NaN");
});

test("checkProbability accepts [0, 1] and rejects the rest", () => {
  checkProbability("f", "options.p", 0);
  checkProbability("f", "options.p", 1);
  throwsExactly(() => checkProbability("f", "options.p", 1.1), "f: options.p must be a probability in [0, 1], got 1.1");
  throwsExactly(() => checkProbability("f", "options.p", NaN), "f: options.p must be a probability in [0, 1], got NaN");
});

test("checkOneOf lists the allowed values quoted", () => {
  checkOneOf("mineTriplets", "options.distance", "squared", ["euclidean", "squared"]);
  throwsExactly(
    () => checkOneOf("mineTriplets", "options.distance", "cosine", ["euclidean", "squared"]),
    'mineTriplets: options.distance must be one of "euclidean", "squared", got "cosine"',
  );
  throwsExactly(() => checkOneOf("f", "k", 3, [1, 2]), "f: k must be one of 1, 2, got 3");
});

test("checkTensor and checkRank check the type, rank and dtype", async () => {
  await tf.setBackend("cpu");
  const before = tf.memory().numTensors;
  const images = tf.zeros([2, 4, 4, 1]);
  const ids = tf.zeros([3], "int32");
  const ids4 = ids.reshape([1, 1, 1, 3]);
  checkTensor("f", "x", images);
  checkTensor("f", "x", images, "float32");
  throwsExactly(() => checkTensor("f", "x", [1, 2]), "f: x must be a tensor, got [1,2]");
  throwsExactly(() => checkTensor("f", "x", ids, "float32"), "f: x must be a float32 tensor, got an int32 tensor of shape [3]");
  throwsExactly(() => checkTensor("f", "ids", images, "int32"), "f: ids must be an int32 tensor, got a float32 tensor of shape [2,4,4,1]");
  checkRank("f", "images", images, 4, "float32");
  throwsExactly(() => checkRank("f", "images", ids, 4), "f: images must be a tensor of rank 4, got a tensor of shape [3]");
  throwsExactly(() => checkRank("f", "images", ids4, 4, "float32"), "f: images must be a float32 tensor of rank 4, got an int32 tensor of shape [1,1,1,3]");
  throwsExactly(() => checkRank("f", "images", undefined, 4), "f: images must be a tensor of rank 4, got undefined");
  tf.dispose([images, ids, ids4]);
  assert.equal(tf.memory().numTensors, before);
});

test("checkMatrix checks rank 2 and, when given, rows, columns and dtype", async () => {
  await tf.setBackend("cpu");
  const m = tf.zeros([8, 16]);
  const v = tf.zeros([3], "int32");
  const column = v.reshape([3, 1]);
  checkMatrix("f", "x", m);
  checkMatrix("f", "x", m, 8, 16, "float32");
  throwsExactly(() => checkMatrix("f", "x", v), "f: x must be a tensor of shape [n,d], got a tensor of shape [3]");
  throwsExactly(
    () => checkMatrix("tripletLoss", "positive", m, 8, 4, "float32"),
    "tripletLoss: positive must be a float32 tensor of shape [8,4], got a tensor of shape [8,16]",
  );
  throwsExactly(() => checkMatrix("f", "y", m, 2), "f: y must be a tensor of shape [2,d], got a tensor of shape [8,16]");
  throwsExactly(() => checkMatrix("f", "x", [[1, 2]]), "f: x must be a tensor of shape [n,d], got [[1,2]]");
  throwsExactly(
    () => checkMatrix("f", "x", column, undefined, undefined, "float32"),
    "f: x must be a float32 tensor of shape [n,d], got an int32 tensor of shape [3,1]",
  );
  tf.dispose([m, v, column]);
});

test("checkVector checks rank 1, the length and the dtype", async () => {
  await tf.setBackend("cpu");
  const v = tf.zeros([3], "int32");
  checkVector("f", "labels", v, 3, "int32");
  checkVector("f", "labels", v);
  throwsExactly(() => checkVector("f", "labels", v, 4, "int32"), "f: labels must be an int32 tensor of shape [4], got a tensor of shape [3]");
  throwsExactly(() => checkVector("f", "labels", v, 3, "float32"), "f: labels must be a float32 tensor of shape [3], got an int32 tensor of shape [3]");
  throwsExactly(() => checkVector("f", "labels", null), "f: labels must be a tensor of shape [n], got null");
  v.dispose();
});

test("checkSameRows compares the rows of tensors and arrays", async () => {
  await tf.setBackend("cpu");
  const x = tf.zeros([4, 2]);
  const y = tf.zeros([3, 2]);
  checkSameRows("f", "labels", [0, 1, 2, 3], "x", x);
  checkSameRows("f", "y", x, "x", x);
  throwsExactly(() => checkSameRows("alignment", "y", y, "x", x), "alignment: y must have 4 rows like x, got a tensor of shape [3,2]");
  throwsExactly(() => checkSameRows("f", "labels", new Int32Array(3), "x", x), "f: labels must have 4 rows like x, got an Int32Array of length 3");
  tf.dispose([x, y]);
});
