import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng } from "../../src/data/random";
import { samplePairs, sampleTriplets } from "../../src/data/pairs";

// 3 classes of unequal sizes (5, 2, 13) in scrambled order, plus a singleton class 9.
const labels = Int32Array.from([0, 2, 2, 1, 0, 2, 2, 2, 0, 2, 9, 2, 2, 1, 0, 2, 2, 0, 2, 2, 2]);

test("samplePairs: labels right, exact same fraction, no self-pairs, roughly uniform partners", () => {
  for (const sameFraction of [0, 0.25, 0.5, 1]) {
    const count = 4000;
    const p = samplePairs(labels, { count, sameFraction }, createRng(1));
    assert.equal(p.first.length, count);
    let same = 0;
    for (let i = 0; i < count; i++) {
      assert.notEqual(p.first[i], p.second[i], "self pair");
      const agree = labels[p.first[i]] === labels[p.second[i]] ? 1 : 0;
      assert.equal(p.same[i], agree, `pair ${i}`);
      same += agree;
      // The singleton cannot be in a same pair.
      if (agree) assert.notEqual(labels[p.first[i]], 9);
    }
    assert.equal(same, Math.round(count * sameFraction));
  }
  // Same pairs from class 1 (2 members, indices 3 and 13) are exactly {3, 13}; its share of first
  // elements follows its share of pairable examples (2 of 20).
  const p = samplePairs(labels, { count: 20000, sameFraction: 1 }, createRng(2));
  let fromClass1 = 0;
  for (let i = 0; i < p.first.length; i++) {
    if (labels[p.first[i]] === 1) {
      fromClass1++;
      assert.equal(p.first[i] + p.second[i], 16);
    }
  }
  assert.ok(Math.abs(fromClass1 / 20000 - 0.1) < 0.01, `class 1 share ${fromClass1 / 20000}`);
  // Negative partners of index 3 (class 1) are uniform over the 19 examples of other classes.
  const q = samplePairs(labels, { count: 40000, sameFraction: 0 }, createRng(3));
  const hits = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < q.first.length; i++) {
    if (q.first[i] !== 3) continue;
    hits.set(q.second[i], (hits.get(q.second[i]) ?? 0) + 1);
    total++;
  }
  assert.equal(hits.size, 19);
  for (const [, c] of hits) assert.ok(Math.abs(c / total - 1 / 19) < 4 * Math.sqrt((1 / 19) * (18 / 19) / total) + 1e-9, `${c}/${total}`);
  // Same and different pairs are interleaved, not blocked.
  const mixed = samplePairs(labels, { count: 100, sameFraction: 0.5 }, createRng(4));
  const firstHalf = mixed.same.slice(0, 50).reduce((a, b) => a + b, 0);
  assert.ok(firstHalf > 10 && firstHalf < 40, `first half has ${firstHalf} same pairs`);
});

test("sampleTriplets: positive shares the anchor's label and is not the anchor, negative differs", () => {
  const t = sampleTriplets(labels, 5000, createRng(5));
  const seen = new Set<number>();
  for (let i = 0; i < 5000; i++) {
    assert.notEqual(t.anchor[i], t.positive[i]);
    assert.equal(labels[t.anchor[i]], labels[t.positive[i]]);
    assert.notEqual(labels[t.anchor[i]], labels[t.negative[i]]);
    seen.add(t.anchor[i]);
  }
  // Every example but the singleton serves as an anchor.
  assert.equal(seen.size, labels.length - 1);
  assert.ok(!seen.has(10));
});

test("samplers are deterministic under a seed and differ across seeds", () => {
  const a = samplePairs(labels, { count: 50 }, createRng(7));
  const b = samplePairs(labels, { count: 50 }, createRng(7));
  const c = samplePairs(labels, { count: 50 }, createRng(8));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.first, c.first);
  const t1 = sampleTriplets(labels, 50, createRng(7));
  assert.deepEqual(t1, sampleTriplets(labels, 50, createRng(7)));
  assert.notDeepEqual(t1.anchor, sampleTriplets(labels, 50, createRng(8)).anchor);
});

test("bad input is rejected naming the argument", () => {
  const rng = createRng(0);
  assert.throws(() => samplePairs(labels, { count: 0 }, rng), /samplePairs: options\.count must be a positive integer, got 0/);
  assert.throws(() => samplePairs(labels, { count: 4, sameFraction: 1.5 }, rng), /samplePairs: options\.sameFraction must be a number in \[0, 1\], got 1\.5/);
  assert.throws(() => samplePairs([0, 1.5], { count: 4 }, rng), /samplePairs: labels\[1\] must be an integer, got 1.5/);
  assert.throws(() => samplePairs([0, 1, 2], { count: 4, sameFraction: 0.5 }, rng), /samplePairs: labels must have a class with at least 2 examples/);
  assert.throws(() => samplePairs([3, 3, 3], { count: 4, sameFraction: 0.5 }, rng), /samplePairs: labels must have at least 2 classes for different pairs, got 1/);
  // All-different pairs need no class of two; all-same pairs need no second class.
  assert.equal(samplePairs([0, 1, 2], { count: 4, sameFraction: 0 }, rng).same.reduce((s, v) => s + v, 0), 0);
  assert.equal(samplePairs([3, 3], { count: 4, sameFraction: 1 }, rng).same.reduce((s, v) => s + v, 0), 4);
  assert.throws(() => sampleTriplets(labels, 2.5, rng), /sampleTriplets: count must be a positive integer, got 2.5/);
  assert.throws(() => sampleTriplets([0, 1, 2], 4, rng), /sampleTriplets: labels must have a class with at least 2 examples/);
  assert.throws(() => sampleTriplets([3, 3], 4, rng), /sampleTriplets: labels must have at least 2 classes, got 1/);
});
