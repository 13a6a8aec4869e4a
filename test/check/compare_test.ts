import { test } from "node:test";
import assert from "node:assert/strict";
import { atPosition, findMismatch, nanText, toleranceText, valuesText } from "../../src/check/compare";

const TOL = { atol: 1e-4, rtol: 1e-3 };

test("findMismatch applies |got - expected| <= atol + rtol * |expected| in float64", () => {
  assert.equal(findMismatch([1, 2, 3], [1, 2, 3], TOL), undefined);
  // At the edge: 1000 * (1 + 1e-3) + 1e-4 is within, a bit more is not.
  assert.equal(findMismatch([1001.0001], [1000], TOL), undefined);
  assert.equal(findMismatch([1001.0002], [1000], TOL)?.kind, "values");
  // A float32 value compared with itself widened to a double matches exactly.
  const f = Float32Array.of(0.1);
  assert.equal(findMismatch(f, [f[0]], { atol: 0, rtol: 0 }), undefined);
  assert.equal(findMismatch(f, [0.1], { atol: 0, rtol: 0 })?.kind, "values");
});

test("findMismatch reports the largest error, and how many elements are out", () => {
  const m = findMismatch([1, 5, 3, 2.5], [1, 2, 3, 2], TOL);
  assert.deepEqual(m, { kind: "values", index: 1, got: 5, expected: 2, error: 3, count: 2, size: 4 });
});

test("findMismatch reports the first non-finite value first; agreeing non-finite values match", () => {
  const m = findMismatch([9, Infinity, NaN], [1, 2, 3], TOL);
  assert.equal(m?.kind, "nan");
  assert.equal(m?.index, 1);
  assert.equal(m?.got, Infinity);
  assert.equal(findMismatch([NaN, -Infinity], [NaN, -Infinity], TOL), undefined);
  const onlyExpected = findMismatch([1], [NaN], TOL);
  assert.equal(onlyExpected?.kind, "values");
  assert.equal(onlyExpected?.error, Infinity);
});

test("the mismatch sentences: position, non-finite value, values and tolerance", () => {
  assert.equal(atPosition(13, [2, 8]), " at [1,5]");
  assert.equal(atPosition(0, []), "");
  assert.equal(toleranceText(TOL), "tolerance 1e-4 + 1e-3 * |expected|");
  const nan = findMismatch([1, 2, 3, NaN], [1, 2, 3, 4], TOL)!;
  assert.equal(nanText(nan, [2, 2]), "NaN at [1,1]");
  assert.equal(nanText(findMismatch([-Infinity], [0], TOL)!, []), "-Infinity");
  const values = findMismatch([1, 2, 3, 1.2, 0, 0], [1, 2, 3, 0.89, 0.01, 0], TOL)!;
  assert.equal(valuesText(values, [2, 3], TOL), " at 2 of 6 positions: max error 0.31 at [1,0] (got 1.2, expected 0.89); tolerance 1e-4 + 1e-3 * |expected|");
  const scalar = findMismatch([1.2], [0.89], TOL)!;
  assert.equal(valuesText(scalar, [], TOL), ": error 0.31 (got 1.2, expected 0.89); tolerance 1e-4 + 1e-3 * |expected|");
});
