import { test } from "node:test";
import assert from "node:assert/strict";
import { normalizedMutualInformation } from "../../src/evaluation/mutual_information";

test("normalizedMutualInformation matches hand-computed values", () => {
  // a = [0,0,1,1], b = [0,0,0,1]: H(a) = ln 2, H(b) = -(3/4 ln 3/4 + 1/4 ln 1/4),
  // I = 1/2 ln(4/3) + 1/4 ln(2/3) + 1/4 ln 2 (cells (0,0), (1,0), (1,1)).
  const ha = Math.log(2);
  const hb = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
  const mi = 0.5 * Math.log(4 / 3) + 0.25 * Math.log(2 / 3) + 0.25 * Math.log(2);
  const want = mi / Math.sqrt(ha * hb);
  assert.ok(Math.abs(want - 0.345592) < 1e-6, `hand value ${want}`);
  assert.ok(Math.abs(normalizedMutualInformation([0, 0, 1, 1], [0, 0, 0, 1]) - want) < 1e-12);
  assert.ok(Math.abs(normalizedMutualInformation([0, 0, 0, 1], [7, 7, 3, 3]) - want) < 1e-12, "symmetric, any label values");
  assert.equal(normalizedMutualInformation([0, 0, 1, 1, 2, 2], [5, 5, 9, 9, 1, 1]), 1, "a renaming");
  assert.equal(normalizedMutualInformation([0, 0, 1, 1], [0, 1, 0, 1]), 0, "independent");
  assert.equal(normalizedMutualInformation([3, 3, 3], [1, 1, 1]), 1, "both constant");
  assert.equal(normalizedMutualInformation([3, 3, 3], [0, 1, 2]), 0, "one constant");
  assert.throws(() => normalizedMutualInformation([0, 1], [0]), /normalizedMutualInformation: b must have the length of a \(2\), got 1/);
  assert.throws(() => normalizedMutualInformation([], []), /normalizedMutualInformation: a and b must hold at least one label, got 0/);
  assert.throws(() => normalizedMutualInformation([0, 0.5], [0, 1]), /normalizedMutualInformation: labels must be integers, got 0.5 and 1 at 1/);
});
