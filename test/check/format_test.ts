import { test } from "node:test";
import assert from "node:assert/strict";
import { formatList, formatNumber, formatPosition, formatShape, formatThrown, plural } from "../../src/check/format";

test("formatNumber: 4 significant digits, exponent form for the very small and the very large", () => {
  const cases: Array<[number, string]> = [
    [0.31415926, "0.3142"],
    [1.2, "1.2"],
    [0.89, "0.89"],
    [-2.99685335, "-2.997"],
    [12345.678, "12350"],
    [0.01, "0.01"],
    [1e-4, "1e-4"],
    [1e-3, "1e-3"],
    [-4.1514e-3, "-4.151e-3"],
    [1e9, "1e9"],
    [-1e9, "-1e9"],
    [123456, "1.235e5"],
    [0, "0"],
    [-0, "0"],
    [Number.NaN, "NaN"],
    [Infinity, "Infinity"],
    [-Infinity, "-Infinity"],
  ];
  for (const [x, want] of cases) assert.equal(formatNumber(x), want, `${x}`);
});

test("formatShape and formatPosition write [i,j] multi-indices, row-major", () => {
  assert.equal(formatShape([8, 16]), "[8,16]");
  assert.equal(formatShape([]), "[]");
  assert.equal(formatPosition(13, [2, 8]), "[1,5]");
  assert.equal(formatPosition(0, [3]), "[0]");
  assert.equal(formatPosition(23, [2, 3, 4]), "[1,2,3]");
  assert.equal(formatPosition(0, []), "[]");
});

test("formatList, plural and formatThrown", () => {
  assert.equal(formatList([]), "");
  assert.equal(formatList(["[8,16]"]), "[8,16]");
  assert.equal(formatList(["[8,16]", "[8,16]"]), "[8,16] and [8,16]");
  assert.equal(formatList(["a", "b", "c"]), "a, b and c");
  assert.equal(plural(1, "tensor"), "1 tensor");
  assert.equal(plural(0, "tensor"), "0 tensors");
  assert.equal(formatThrown(new Error("not implemented yet")), '"not implemented yet"');
  assert.equal(formatThrown(new TypeError("x is undefined")), 'TypeError "x is undefined"');
  assert.equal(formatThrown("a string"), '"a string"');
  assert.equal(formatThrown(new Error("first line\n    at frame")), '"first line"');
  const long = formatThrown(new Error("x".repeat(500)));
  assert.equal(long.length, 202);
  assert.ok(long.endsWith('..."'));
});
