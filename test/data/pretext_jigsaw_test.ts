import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { hammingDistance, jigsawBatch, jigsawPermutations, minimumHammingDistance } from "../../src/data/pretext_jigsaw";
import { createRng } from "../../src/data/random";
import { onWasm, rngImages } from "../methods/vision/helpers";

/** All permutations of 0..n-1 in lexicographic order, by recursion. */
function permutationsRef(n: number): number[][] {
  if (n === 1) return [[0]];
  const out: number[][] = [];
  for (let first = 0; first < n; first++) {
    for (const rest of permutationsRef(n - 1)) out.push([first, ...rest.map((v) => (v >= first ? v + 1 : v))]);
  }
  return out;
}

/** The greedy selection written out: every round rescores every remaining candidate against the whole chosen set. */
function greedyRef(count: number, tiles: number, seed: number, criterion: "min" | "mean"): number[][] {
  const pool = permutationsRef(tiles);
  const dist = (a: number[], b: number[]) => a.filter((v, i) => v !== b[i]).length;
  const chosen = [pool.splice(createRng(seed).int(pool.length), 1)[0]];
  while (chosen.length < count) {
    const scores = pool.map((p) => {
      const ds = chosen.map((q) => dist(p, q));
      return criterion === "min" ? Math.min(...ds) : ds.reduce((s, d) => s + d, 0) / ds.length;
    });
    chosen.push(pool.splice(scores.indexOf(Math.max(...scores)), 1)[0]);
  }
  return chosen;
}

const isPermutation = (p: ArrayLike<number>, n: number) => p.length === n && [...Array.from(p)].sort((a, b) => a - b).every((v, i) => v === i);

test("hammingDistance and minimumHammingDistance count differing positions", () => {
  assert.equal(hammingDistance([0, 1, 2], [0, 2, 1]), 2);
  assert.equal(hammingDistance([0, 1, 2], [1, 2, 0]), 3);
  assert.equal(minimumHammingDistance([[0, 1, 2], [1, 2, 0], [0, 2, 1]]), 2);
  assert.equal(minimumHammingDistance([Int32Array.from([0, 1, 2, 3]), Int32Array.from([1, 0, 3, 2])]), 4);
  assert.throws(() => hammingDistance([0, 1], [0, 1, 2]), /hammingDistance: a and b must have the same length, got 2 and 3/);
  assert.throws(() => minimumHammingDistance([[0, 1]]), /minimumHammingDistance: perms must be an array of at least 2 permutations, got \[\[0,1\]\]/);
  assert.throws(() => minimumHammingDistance([[0, 1], [1, 0, 2]]), /minimumHammingDistance: perms\[1\] must have length 2 like perms\[0\], got 3/);
});

test("jigsawPermutations: with the whole pool (5 tiles) it is exactly the greedy algorithm written out, for both criteria", () => {
  for (const criterion of ["min", "mean"] as const) {
    for (const seed of [1, 2]) {
      const got = jigsawPermutations(12, { tiles: 5, seed, criterion }).map((p) => Array.from(p));
      assert.deepEqual(got, greedyRef(12, 5, seed, criterion), `${criterion}, seed ${seed}`);
    }
  }
});

test("jigsawPermutations (9 tiles, a 10,000-candidate pool): distinct permutations far apart, min distance 7 for 30 and 6 for 100, well above random sets", () => {
  for (const [count, atLeast] of [[30, 7], [100, 6]]) {
    for (const seed of [1, 2]) {
      const perms = jigsawPermutations(count, { seed });
      assert.equal(perms.length, count);
      assert.ok(perms.every((p) => p instanceof Int32Array && isPermutation(p, 9)));
      assert.equal(new Set(perms.map((p) => p.join())).size, count);
      const best = minimumHammingDistance(perms);
      const rng = createRng(seed + 100);
      const random = minimumHammingDistance(Array.from({ length: count }, () => rng.permutation(9)));
      assert.ok(best >= atLeast && best > random, `${count} permutations, seed ${seed}: greedy ${best}, random ${random}`);
    }
  }
  // The greedy maximin keeps the minimum higher than the paper's mean criterion.
  assert.ok(minimumHammingDistance(jigsawPermutations(100, { seed: 1, criterion: "mean" })) < 6);
  assert.deepEqual(jigsawPermutations(30, { seed: 5 }), jigsawPermutations(30, { seed: 5 }));
  assert.notDeepEqual(jigsawPermutations(30, { seed: 5 }), jigsawPermutations(30, { seed: 6 }));
});

test("jigsawPermutations rejects bad input by name", () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [() => jigsawPermutations(7, { tiles: 3, seed: 1 }), /jigsawPermutations: count must be at most the 6 candidate permutations, got 7/],
    [() => jigsawPermutations(0, { seed: 1 }), /jigsawPermutations: count must be a positive integer, got 0/],
    [() => jigsawPermutations(3, { tiles: 1, seed: 1 }), /jigsawPermutations: options.tiles must be at least 2, got 1/],
    [() => jigsawPermutations(3, { seed: 0.5 }), /jigsawPermutations: options.seed must be an integer, got 0.5/],
    [() => jigsawPermutations(3, { seed: 1, candidates: 0 }), /jigsawPermutations: options.candidates must be a positive integer, got 0/],
    [() => jigsawPermutations(3, { seed: 1, criterion: "max" as never }), /jigsawPermutations: options.criterion must be one of "min", "mean", got "max"/],
    [() => jigsawPermutations(3, undefined as never), /jigsawPermutations: options must be an object \{seed, tiles\?, candidates\?, criterion\?\}, got undefined/],
  ];
  for (const [fn, message] of cases) assert.throws(fn, message);
});

test("jigsawBatch: with tiles as large as the cells, the inverse permutation reassembles each image exactly", async () => {
  await tf.setBackend("cpu");
  const x = tf.tidy(() => rngImages(6, 4).slice([0, 0, 0, 0], [6, 27, 27, 1]) as tf.Tensor4D);
  const data = x.dataSync();
  const perms = jigsawPermutations(10, { seed: 2 });
  const { tiles, labels, origins } = jigsawBatch(x, perms, { tile: 9 }, 3);
  assert.deepEqual(tiles.shape, [6, 9, 9, 9, 1]);
  const t = tiles.dataSync();
  const l = labels.dataSync();
  for (let b = 0; b < 6; b++) {
    const perm = perms[l[b]];
    const rebuilt = new Float32Array(27 * 27);
    for (let k = 0; k < 9; k++) {
      // Output position k holds cell perm[k]; put it back there.
      const cell = perm[k];
      for (let i = 0; i < 9; i++) for (let j = 0; j < 9; j++) rebuilt[(Math.floor(cell / 3) * 9 + i) * 27 + (cell % 3) * 9 + j] = t[((b * 9 + k) * 9 + i) * 9 + j];
      assert.deepEqual([origins[2 * (b * 9 + k)], origins[2 * (b * 9 + k) + 1]], [Math.floor(cell / 3) * 9, (cell % 3) * 9]);
    }
    assert.deepEqual(Array.from(rebuilt), Array.from(data.subarray(b * 729, (b + 1) * 729)), `image ${b}`);
  }
  tf.dispose([x, tiles, labels]);
});

test("jigsawBatch with the defaults on 28x28: 7-pixel tiles cropped inside their cells at the returned origins; every label drawn; same seed, same batch", async () => {
  await tf.setBackend("cpu");
  const x = rngImages(300, 8);
  const data = x.dataSync();
  const perms = jigsawPermutations(30, { seed: 1 });
  const a = jigsawBatch(x, perms, {}, 9);
  assert.deepEqual(a.tiles.shape, [300, 9, 7, 7, 1]);
  assert.equal(a.labels.dtype, "int32");
  const t = a.tiles.dataSync();
  const l = Array.from(a.labels.dataSync());
  const offsets = new Set<number>();
  for (let b = 0; b < 300; b++) {
    for (let k = 0; k < 9; k++) {
      const at = b * 9 + k;
      const [top, left] = [a.origins[2 * at], a.origins[2 * at + 1]];
      const cell = perms[l[b]][k];
      const [dy, dx] = [top - Math.floor(cell / 3) * 9, left - (cell % 3) * 9];
      assert.ok(dy >= 0 && dy <= 2 && dx >= 0 && dx <= 2, `image ${b} tile ${k}: offset ${dy}, ${dx}`);
      offsets.add(dy).add(dx);
      for (let i = 0; i < 7; i++) {
        for (let j = 0; j < 7; j++) assert.equal(t[at * 49 + i * 7 + j], data[b * 784 + (top + i) * 28 + left + j]);
      }
    }
  }
  assert.deepEqual([...offsets].sort(), [0, 1, 2]);
  assert.equal(new Set(l).size, 30, "all 30 permutations appear");
  const b = jigsawBatch(x, perms, {}, 9);
  assert.deepEqual(Array.from(b.labels.dataSync()), l);
  assert.deepEqual(b.origins, a.origins);
  tf.dispose([x, a.tiles, a.labels, b.tiles, b.labels]);
});

test("jigsawBatch: 2x2 grid, 2 channels, permutations as plain arrays; the same tiles on wasm as on cpu", async () => {
  await tf.setBackend("cpu");
  const make = () => tf.reshape(tf.range(0, 2 * 10 * 10 * 2), [2, 10, 10, 2]) as tf.Tensor4D;
  const run = () => tf.tidy(() => {
    const out = jigsawBatch(make(), [[3, 2, 1, 0], [1, 0, 3, 2]], { grid: 2, tile: 4 }, 5);
    return [Array.from(out.tiles.dataSync()), Array.from(out.labels.dataSync()), Array.from(out.origins), out.tiles.shape];
  });
  const cpu = run();
  assert.deepEqual(cpu[3], [2, 4, 4, 4, 2]);
  const wasm = await onWasm(run);
  assert.deepEqual(wasm, cpu);
});

test("jigsawBatch leaves no tensors behind and rejects bad input by name", async () => {
  await tf.setBackend("cpu");
  const x = rngImages(2, 1);
  const perms = jigsawPermutations(4, { seed: 1 });
  const before = tf.memory().numTensors;
  const out = jigsawBatch(x, perms, {}, 1);
  assert.equal(tf.memory().numTensors, before + 2);
  tf.dispose([out.tiles, out.labels]);
  assert.equal(tf.memory().numTensors, before);
  const cases: Array<[() => unknown, RegExp]> = [
    [() => jigsawBatch(x, [[0, 0, 1, 2, 3, 4, 5, 6, 7]], {}, 1), /jigsawBatch: perms\[0\] must be a permutation of 0..8, got \[0,0,1,2,3,4,5,6,\.\.\. \(9 elements\)\]/],
    [() => jigsawBatch(x, [perms[0], Int32Array.from([0, 1, 2])], {}, 1), /jigsawBatch: perms\[1\] must be a permutation of 0..8, got \[0,1,2\]/],
    [() => jigsawBatch(x, [], {}, 1), /jigsawBatch: perms must be a non-empty array of permutations of 0..8, got \[\]/],
    [() => jigsawBatch(x, perms, { grid: 2 }, 1), /jigsawBatch: perms\[0\] must be a permutation of 0..3, got/],
    [() => jigsawBatch(x, perms, { tile: 10 }, 1), /jigsawBatch: options.tile must be at most the cell side 9, got 10/],
    [() => jigsawBatch(x, perms, { grid: 29 }, 1), /jigsawBatch: options.grid must be at most the image side 28, got 29/],
    [() => jigsawBatch(x, perms, { grid: 0 }, 1), /jigsawBatch: options.grid must be a positive integer, got 0/],
    [() => jigsawBatch(x, perms, {}, 2.5), /jigsawBatch: seed must be an integer, got 2.5/],
    [() => jigsawBatch(tf.zeros([2, 28, 28, 1], "int32") as never, perms, {}, 1), /jigsawBatch: images must be a float32 tensor of rank 4, got an int32 tensor of shape \[2,28,28,1\]/],
  ];
  for (const [fn, message] of cases) assert.throws(() => tf.tidy(() => { fn(); }), message);
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});
