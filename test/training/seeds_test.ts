import { test } from "node:test";
import assert from "node:assert/strict";
import { deriveSeed, epochSeed, stepSeed } from "../../src/training/seeds";

test("deriveSeed is a deterministic hash into [0, 2^31) that separates its inputs", () => {
  assert.equal(deriveSeed(1, 2), deriveSeed(1, 2));
  assert.notEqual(deriveSeed(1, 2), deriveSeed(2, 1));
  assert.notEqual(deriveSeed(1), deriveSeed(1, 0));
  // Integers beyond 32 bits still count.
  assert.notEqual(deriveSeed(2 ** 32), deriveSeed(0));
  const seen = new Set<number>();
  for (let k = 0; k < 1000; k++) {
    const s = deriveSeed(7, k);
    assert.ok(Number.isInteger(s) && s >= 0 && s < 2 ** 31, `seed ${s}`);
    seen.add(s);
  }
  assert.equal(seen.size, 1000);
});

test("deriveSeed rejects a part that is not an integer", () => {
  assert.throws(() => deriveSeed(1, 0.5), /deriveSeed: parts must be integers, got 0\.5/);
});

test("step and epoch seeds are separate streams of the run seed", () => {
  assert.equal(stepSeed(3, 5), deriveSeed(3, 1, 5));
  assert.equal(epochSeed(3, 5), deriveSeed(3, 2, 5));
  assert.notEqual(stepSeed(3, 0), epochSeed(3, 0));
  assert.notEqual(stepSeed(3, 0), stepSeed(4, 0));
});
