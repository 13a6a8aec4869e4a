import { test } from "node:test";
import assert from "node:assert/strict";
import "../../src/backend/select"; // registers the wasm backend
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import type { Augmentation } from "../../src/augment/augmentation";
import { twoViews } from "../../src/augment/compose";
import { randAugment, randAugmentOps, type RandAugmentOp } from "../../src/augment/rand_augment";

/** Digit-like images: two soft strokes (rings) per image at random places, values in [0, 1], background 0. */
function strokeImages(seed: number, n: number, size = 28): tf.Tensor4D {
  const rng = createRng(seed);
  const data = new Float32Array(n * size * size);
  for (let i = 0; i < n; i++) {
    for (let ring = 0; ring < 2; ring++) {
      const [cy, cx, r] = [size * (0.3 + 0.4 * rng.next()), size * (0.3 + 0.4 * rng.next()), size * (0.1 + 0.15 * rng.next())];
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const v = Math.exp(-((Math.hypot(y - cy, x - cx) - r) ** 2) / 2);
          const k = (i * size + y) * size + x;
          data[k] = Math.max(data[k], v);
        }
      }
    }
  }
  return tf.tensor4d(data, [n, size, size, 1]);
}

function meanAbsChange(op: Augmentation, x: tf.Tensor4D, seed: number): number {
  return tf.tidy(() => {
    const y = op(x, seed);
    return tf.mean(tf.abs(tf.sub(y, x))).dataSync()[0];
  });
}

for (const backend of ["cpu", "wasm"]) {
  test(`every RandAugment op on ${backend}: M = 0 is the identity, strength and effect grow with M, no leak`, async () => {
    await tf.setBackend(backend);
    const x = strokeImages(1, 8);
    const xs = x.dataSync();
    for (const op of randAugmentOps) {
      const s = [0, 10, 20, 30].map((m) => op.strength(m));
      assert.equal(s[0], 0, `${op.name}: strength at M = 0`);
      const before = tf.memory().numTensors;
      const id = op.at(op.strength(0))(x, 3);
      assert.equal(tf.memory().numTensors, before + 1, `${op.name} leaks`);
      assert.deepEqual(id.dataSync(), xs, `${op.name} at M = 0 is not the identity`);
      id.dispose();
      if (op.name === "identity") continue;
      assert.ok(s[1] > 0 && s[1] < s[2] && s[2] < s[3], `${op.name}: strengths ${s}`);
      for (const sign of op.signed ? [1, -1] : [1]) {
        const effect = [10, 30].map((m) => meanAbsChange(op.at(sign * op.strength(m)), x, 3));
        assert.ok(effect[0] > 1e-4 && effect[1] > effect[0], `${op.name} sign ${sign}: mean change ${effect} at M = 10, 30`);
      }
    }
    x.dispose();
  });
}

test("RandAugment ops do what their names say: translate shifts whole pixels, brightness scales, solarize inverts the top", async () => {
  await tf.setBackend("cpu");
  const x = strokeImages(2, 3, 10);
  const xs = x.arraySync() as number[][][][];
  const byName = (name: string): RandAugmentOp => randAugmentOps.find((op) => op.name === name)!;
  const right = byName("translateX").at(0.3)(x, 1).arraySync() as number[][][][]; // 3 pixels right
  const up = byName("translateY").at(-0.2)(x, 1).arraySync() as number[][][][]; // 2 pixels up
  const bright = byName("brightness").at(0.5)(x, 1).arraySync() as number[][][][];
  const solar = byName("solarize").at(0.4)(x, 1).arraySync() as number[][][][];
  for (let i = 0; i < 3; i++) {
    for (let y = 0; y < 10; y++) {
      for (let c = 0; c < 10; c++) {
        const v = xs[i][y][c][0];
        assert.equal(right[i][y][c][0], c >= 3 ? xs[i][y][c - 3][0] : 0);
        assert.equal(up[i][y][c][0], y < 8 ? xs[i][y + 2][c][0] : 0);
        assert.ok(Math.abs(bright[i][y][c][0] - Math.min(1, 1.5 * v)) < 1e-6);
        assert.ok(Math.abs(solar[i][y][c][0] - (v > 0.6 ? 1 - v : v)) < 1e-6);
      }
    }
  }
  x.dispose();
});

/** Test ops that add a known constant, so the output tells which ops ran: +1 (unsigned) and +-10 (signed). */
const counters: RandAugmentOp[] = [
  { name: "one", signed: false, strength: (m) => m / 30, at: (v) => (images) => tf.tidy(() => tf.add(images, v) as tf.Tensor4D) },
  { name: "ten", signed: true, strength: (m) => (10 * m) / 30, at: (v) => (images) => tf.tidy(() => tf.add(images, v) as tf.Tensor4D) },
];

for (const backend of ["cpu", "wasm"]) {
  test(`randAugment on ${backend} applies exactly the N planned ops to each image, seeded, no leak`, async () => {
    await tf.setBackend(backend);
    const [batch, n] = [40, 3];
    const x = tf.zeros([batch, 4, 4, 1]) as tf.Tensor4D;
    const aug = randAugment({ n, magnitude: 30, ops: counters });
    const before = tf.memory().numTensors;
    const y = aug(x, 11);
    assert.equal(tf.memory().numTensors, before + 1);
    const plan = aug.plan(batch, 11);
    assert.equal(plan.ops.length, batch * n);
    const ys = y.dataSync();
    const totals = new Set<number>();
    for (let i = 0; i < batch; i++) {
      let want = 0;
      for (let s = 0; s < n; s++) want += plan.ops[i * n + s] === 0 ? 1 : 10 * plan.signs[i * n + s];
      totals.add(want);
      for (let k = 0; k < 16; k++) assert.equal(ys[i * 16 + k], want, `image ${i}`);
    }
    assert.ok(totals.size > 4, "images draw different ops");
    assert.deepEqual(aug(x, 11).dataSync(), ys);
    tf.dispose([x, y]);
  });
}

test("shear keeps the centre row (x) or column (y) and agrees between cpu (per image) and wasm (batched)", async () => {
  const shearX = randAugmentOps.find((op) => op.name === "shearX")!;
  const shearY = randAugmentOps.find((op) => op.name === "shearY")!;
  const results: number[][][][][][] = [];
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    const x = strokeImages(3, 4, 9);
    const xs = x.arraySync() as number[][][][];
    const [sx, sy] = [shearX.at(0.25)(x, 1), shearY.at(-0.25)(x, 1)];
    const [ax, ay] = [sx.arraySync() as number[][][][], sy.arraySync() as number[][][][]];
    for (let i = 0; i < 4; i++) {
      for (let k = 0; k < 9; k++) {
        assert.ok(Math.abs(ax[i][4][k][0] - xs[i][4][k][0]) < 1e-6, `${backend} shearX moved the centre row`);
        assert.ok(Math.abs(ay[i][k][4][0] - xs[i][k][4][0]) < 1e-6, `${backend} shearY moved the centre column`);
      }
    }
    assert.ok(meanAbsChange(() => sx.clone(), x, 0) > 0.01);
    results.push([ax, ay]);
    tf.dispose([x, sx, sy]);
  }
  const flat = (a: unknown): number[] => (a as number[][][][][]).flat(4);
  const [cpu, wasm] = [flat(results[0]), flat(results[1])];
  assert.ok(cpu.every((v, k) => Math.abs(v - wasm[k]) < 1e-5), "cpu and wasm shears differ");
  await tf.setBackend("cpu");
});

test("randAugment plans draw ops uniformly and signs only for signed ops; n = 0 and M = 0 are the identity", async () => {
  await tf.setBackend("cpu");
  const aug = randAugment({ n: 2, magnitude: 9 });
  const { ops, signs } = aug.plan(3000, 4);
  const k = randAugmentOps.length;
  const counts = new Array(k).fill(0);
  ops.forEach((o) => counts[o]++);
  // Multinomial(6000, 1/12): sd of a count about 21.
  for (const c of counts) assert.ok(Math.abs(c - 6000 / k) < 110, `op counts ${counts}`);
  ops.forEach((o, j) => {
    if (!randAugmentOps[o].signed) assert.equal(signs[j], 1);
  });
  const negative = Array.from(ops).filter((o, j) => randAugmentOps[o].signed && signs[j] === -1).length;
  const signed = Array.from(ops).filter((o) => randAugmentOps[o].signed).length;
  assert.ok(Math.abs(negative / signed - 0.5) < 0.05);
  assert.deepEqual(aug.plan(3000, 4), { ops, signs });

  const x = strokeImages(5, 6);
  for (const options of [{ n: 0, magnitude: 20 }, { n: 3, magnitude: 0 }]) {
    const y = randAugment(options)(x, 2);
    assert.deepEqual(y.dataSync(), x.dataSync());
    y.dispose();
  }
  x.dispose();
});

test("randAugment with the default ops works in twoViews: seeded, views differ, values in [0, 1], no leak", async () => {
  await tf.setBackend("wasm");
  const x = strokeImages(6, 16);
  const views = twoViews(randAugment({ n: 2, magnitude: 15 }));
  const before = tf.memory().numTensors;
  const [a, b] = views(x, 3);
  assert.equal(tf.memory().numTensors, before + 2);
  const [a2, b2] = views(x, 3);
  assert.deepEqual(a.dataSync(), a2.dataSync());
  assert.deepEqual(b.dataSync(), b2.dataSync());
  const [lo, hi] = tf.tidy(() => [tf.min(a).dataSync()[0], tf.max(a).dataSync()[0]]);
  assert.ok(lo >= 0 && hi <= 1, `range [${lo}, ${hi}]`);
  assert.ok(meanAbsChange(() => a.clone(), b, 0) > 0.01);
  tf.dispose([x, a, b, a2, b2]);
  await tf.setBackend("cpu");
});

test("randAugment rejects bad options by name", () => {
  assert.throws(() => randAugment({ n: 1.5 }), /randAugment: options\.n must be a non-negative integer, got 1\.5/);
  assert.throws(() => randAugment({ magnitude: 31 }), /randAugment: options\.magnitude must be a number in \[0, 30\], got 31/);
  assert.throws(() => randAugment({ ops: [] }), /randAugment: options\.ops must be a non-empty array of ops, got \[\]/);
  assert.throws(() => randAugment({ ops: [{ name: "x" } as RandAugmentOp] }), /randAugment: options\.ops\[0\] must be an op \{name, signed, strength, at\}, got an object/);
  assert.throws(() => randAugment()(tf.zeros([2, 2]) as unknown as tf.Tensor4D, 1), /randAugment: images must be a float32 tensor of rank 4/);
});
