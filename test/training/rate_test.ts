import { test } from "node:test";
import assert from "node:assert/strict";
import { createRateMeter } from "../../src/training/rate";

test("the run rate counts step time only, items while every step was counted", () => {
  const meter = createRateMeter();
  assert.deepEqual(meter.run(), { stepsPerSecond: 0, itemsPerSecond: undefined });
  assert.equal(meter.smoothed(), undefined);
  meter.record(0.5, 64);
  meter.record(0.5, 64);
  assert.deepEqual(meter.run(), { stepsPerSecond: 2, itemsPerSecond: 128 });
  meter.record(1, undefined);
  assert.equal(meter.itemsCounted, false);
  assert.deepEqual(meter.run(), { stepsPerSecond: 1.5, itemsPerSecond: undefined });
});

test("a window covers the steps since the previous one", () => {
  const meter = createRateMeter();
  meter.record(1, 10);
  meter.record(1, 30);
  assert.deepEqual(meter.takeWindow(), { stepsPerSecond: 1, itemsPerSecond: 20 });
  meter.record(0.25, 5);
  assert.deepEqual(meter.takeWindow(), { stepsPerSecond: 4, itemsPerSecond: 20 });
  // The run keeps every step.
  assert.deepEqual(meter.run(), { stepsPerSecond: 3 / 2.25, itemsPerSecond: 45 / 2.25 });
});

test("the smoothed rate is bias-corrected and follows the latest steps", () => {
  const meter = createRateMeter();
  meter.record(0.5, 100);
  // One step: no pull towards 0 from the empty start.
  const first = meter.smoothed()!;
  assert.ok(Math.abs(first.stepSeconds - 0.5) < 1e-12);
  assert.ok(Math.abs(first.rate - 200) < 1e-9);
  assert.equal(first.unit, "items/s");
  for (let i = 0; i < 100; i++) meter.record(0.1, 100);
  const later = meter.smoothed()!;
  assert.ok(Math.abs(later.stepSeconds - 0.1) < 1e-4, `stepSeconds ${later.stepSeconds}`);
  meter.record(0.1, undefined);
  const steps = meter.smoothed()!;
  assert.equal(steps.unit, "steps/s");
  assert.ok(Math.abs(steps.rate - 1 / steps.stepSeconds) < 1e-12);
});

test("record rejects a step time that is not a finite number >= 0", () => {
  const meter = createRateMeter();
  assert.throws(() => meter.record(-1, 1), /RateMeter\.record: stepSeconds must be a finite number >= 0, got -1/);
  assert.throws(() => meter.record(NaN, 1), /got NaN/);
});
