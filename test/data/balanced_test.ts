import { test } from "node:test";
import assert from "node:assert/strict";
import { classBalancedBatch, classBlockPairs } from "../../src/data/balanced";
import { createRng } from "../../src/data/random";

test("classBalancedBatch: P distinct classes, K distinct examples each, laid out class by class, repeatable", () => {
  const rng = createRng(1);
  const labels = Int32Array.from({ length: 300 }, () => rng.int(7));
  for (let trial = 0; trial < 20; trial++) {
    const idx = classBalancedBatch(labels, { classes: 5, perClass: 4 }, createRng(trial));
    assert.equal(idx.length, 20);
    assert.equal(new Set(idx).size, 20, "no example twice");
    const classes = new Set<number>();
    for (let c = 0; c < 5; c++) {
      const y = labels[idx[c * 4]];
      for (let k = 1; k < 4; k++) assert.equal(labels[idx[c * 4 + k]], y, "a block shares one label");
      classes.add(y);
    }
    assert.equal(classes.size, 5, "distinct classes");
    assert.deepEqual(idx, classBalancedBatch(labels, { classes: 5, perClass: 4 }, createRng(trial)));
  }
  // Default P: every class with enough examples.
  const all = classBalancedBatch(labels, { perClass: 2 }, createRng(3));
  assert.equal(new Set(Array.from(all, (i) => labels[i])).size, 7);
});

test("classBalancedBatch draws classes and examples uniformly", () => {
  const labels = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3];
  const rng = createRng(9);
  const picks = new Array<number>(10).fill(0);
  const trials = 4000;
  for (let t = 0; t < trials; t++) for (const i of classBalancedBatch(labels, { classes: 2, perClass: 2 }, rng)) picks[i]++;
  // P(class chosen) = 1/2; an example of class 0 is then one of 2 among 4: 1/4; of the others: 1/2.
  for (let i = 0; i < 10; i++) {
    const expected = trials * (i < 4 ? 0.25 : 0.5);
    assert.ok(Math.abs(picks[i] - expected) < 5 * Math.sqrt(expected), `example ${i}: ${picks[i]} vs ${expected}`);
  }
});

test("classBalancedBatch skips classes too small for K and names bad options", () => {
  const labels = [0, 0, 0, 1, 2, 2, 2];
  const idx = classBalancedBatch(labels, { perClass: 3 }, createRng(0));
  assert.deepEqual(new Set(Array.from(idx, (i) => labels[i])), new Set([0, 2]));
  assert.throws(() => classBalancedBatch(labels, { classes: 3, perClass: 3 }, createRng(0)), /options.classes must be an integer in \[1, 2\]/);
  assert.throws(() => classBalancedBatch(labels, { perClass: 0 }, createRng(0)), /options.perClass must be a positive integer, got 0/);
  assert.throws(() => classBalancedBatch([0, -1], { perClass: 1 }, createRng(0)), /labels must hold non-negative integers, got -1 at index 1/);
});

test("classBlockPairs pairs two examples of one class, in groups holding each class once", () => {
  const { anchors, positives } = classBlockPairs(3, 4);
  assert.deepEqual(Array.from(anchors), [0, 4, 8, 1, 5, 9]);
  assert.deepEqual(Array.from(positives), [2, 6, 10, 3, 7, 11]);
  const rng = createRng(2);
  const labels = Int32Array.from({ length: 200 }, () => rng.int(5));
  const idx = classBalancedBatch(labels, { classes: 5, perClass: 6 }, rng);
  const pairs = classBlockPairs(5, 6);
  const used = new Set<number>();
  for (let i = 0; i < pairs.anchors.length; i++) {
    assert.equal(labels[idx[pairs.anchors[i]]], labels[idx[pairs.positives[i]]]);
    used.add(pairs.anchors[i]).add(pairs.positives[i]);
  }
  assert.equal(used.size, 30, "every row used once");
  for (let g = 0; g < 3; g++) {
    const groupClasses = new Set(Array.from(pairs.anchors.slice(g * 5, g * 5 + 5), (r) => labels[idx[r]]));
    assert.equal(groupClasses.size, 5);
  }
  assert.throws(() => classBlockPairs(3, 3), /classBlockPairs: perClass must be an even integer >= 2, got 3/);
  assert.throws(() => classBlockPairs(0, 2), /classBlockPairs: classes must be a positive integer, got 0/);
});
