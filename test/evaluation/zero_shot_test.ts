import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { crossModalRecall, promptEnsemble, zeroShotClassify } from "../../src/evaluation/zero_shot";

const randomRows = (rng: ReturnType<typeof createRng>, rows: number, cols: number): number[][] =>
  Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.normal()));
const unit = (r: number[]): number[] => { const n = Math.hypot(...r); return r.map((v) => v / n); };
const dot = (a: number[], b: number[]): number => a.reduce((s, v, k) => s + v * b[k], 0);

test("promptEnsemble: the renormalised mean of each class's unit prompt embeddings (float64 reference)", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(3);
  const prompts = Array.from({ length: 4 }, () => randomRows(rng, 3, 5).map((r, i) => r.map((v) => v * (i + 1) * 7))); // unequal norms
  const x = tf.tensor3d(prompts);
  const before = tf.memory().numTensors;
  const got = promptEnsemble(x);
  assert.equal(tf.memory().numTensors, before + 1);
  const rows = got.arraySync() as number[][];
  prompts.forEach((p, c) => {
    const mean = p.map(unit).reduce((acc, r) => acc.map((v, k) => v + r[k] / p.length), [0, 0, 0, 0, 0]);
    unit(mean).forEach((v, k) => assert.ok(Math.abs(rows[c][k] - v) < 1e-5, `class ${c}`));
  });
  // One prompt per class: that prompt's unit vector.
  const single = promptEnsemble(tf.tensor3d([[[3, 4]], [[0, 2]]]));
  assert.deepEqual((single.arraySync() as number[][]).map((r) => r.map((v) => Math.round(v * 1e6) / 1e6)), [[0.6, 0.8], [0, 1]]);
  assert.throws(() => promptEnsemble(tf.zeros([2, 3]) as never), /promptEnsemble: promptEmbeddings must be a float32 tensor of rank 3, got a tensor of shape \[2,3\]/);
  assert.throws(() => promptEnsemble(tf.zeros([2, 0, 3]) as tf.Tensor3D), /promptEnsemble: promptEmbeddings must be \[classes, prompts, dim\] with every size >= 1, got a tensor of shape \[2,0,3\]/);
  tf.dispose([x, got, single]);
});

test("zeroShotClassify: the most cosine-similar class, accuracy overall and per class (float64 reference)", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(7);
  const images = randomRows(rng, 50, 6), classes = randomRows(rng, 4, 6);
  const labels = Array.from({ length: 50 }, () => rng.int(4));
  const want = images.map((r) => { const s = classes.map((c) => dot(unit(r), unit(c))); return s.indexOf(Math.max(...s)); });
  const x = tf.tensor2d(images), c = tf.tensor2d(classes);
  const before = tf.memory().numTensors;
  const result = zeroShotClassify(x, c, labels);
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(Array.from(result.predictions), want);
  assert.ok(Math.abs(result.accuracy - want.filter((p, i) => p === labels[i]).length / 50) < 1e-12);
  for (let k = 0; k < 4; k++) {
    const mine = labels.map((l, i) => [l, i]).filter(([l]) => l === k).map(([, i]) => i);
    assert.ok(Math.abs(result.perClassAccuracy[k] - mine.filter((i) => want[i] === k).length / mine.length) < 1e-12);
  }
  // Scaling a class embedding changes nothing: cosine, not dot product.
  const scaled = tf.tensor2d(classes.map((r, i) => r.map((v) => v * (i + 1) * 10)));
  assert.deepEqual(Array.from(zeroShotClassify(x, scaled, labels).predictions), want);
  assert.throws(() => zeroShotClassify(x, tf.zeros([4, 5]) as tf.Tensor2D, labels), /zeroShotClassify: classEmbeddings must be a float32 tensor of shape \[n,6\], got a tensor of shape \[4,5\]/);
  assert.throws(() => zeroShotClassify(x, tf.zeros([1, 6]) as tf.Tensor2D, labels), /zeroShotClassify: classEmbeddings must have at least 2 rows \(classes\)/);
  assert.throws(() => zeroShotClassify(x, c, labels.map((l) => l + 1)), /zeroShotClassify: labels must hold integers in \[0, 4\), got 4 at index/);
  assert.throws(() => zeroShotClassify(x, c, labels.slice(1)), /zeroShotClassify: labels must have shape \[50\], got \[49\]/);
  tf.dispose([x, c, scaled]);
});

/** Recall@K both ways and chance by brute force in float64: ranks by cosine, hits by group. */
function referenceRecall(img: number[][], txt: number[][], groups: number[], ks: number[]) {
  const n = img.length;
  const recall = (q: number[][], items: number[][]) => ks.map((k) => {
    let hits = 0;
    q.forEach((row, i) => {
      const order = items.map((it, j) => [dot(unit(row), unit(it)), j]).sort((a, b) => b[0] - a[0]).map(([, j]) => j);
      if (order.slice(0, k).some((j) => groups[j] === groups[i])) hits++;
    });
    return hits / n;
  });
  // Chance: the probability that k distinct items drawn uniformly include one of the m in the group.
  const choose = (a: number, b: number) => { let r = 1; for (let i = 0; i < b; i++) r *= (a - i) / (i + 1); return b > a ? 0 : r; };
  const chance = ks.map((k) => groups.reduce((s, g) => { const m = groups.filter((h) => h === g).length; return s + 1 - choose(n - m, k) / choose(n, k); }, 0) / n);
  return { imageToText: recall(img, txt), textToImage: recall(txt, img), chance };
}

test("crossModalRecall matches a brute-force float64 reference, with and without groups", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(11);
  const n = 40;
  const txt = randomRows(rng, n, 8);
  // Images near their captions, with noise so that recall is neither 0 nor 1.
  const img = txt.map((r) => r.map((v) => v + 1.2 * rng.normal()));
  const x = tf.tensor2d(img), y = tf.tensor2d(txt);
  const ks = [1, 3, 10];
  const before = tf.memory().numTensors;
  for (const groups of [Array.from({ length: n }, (_, i) => i), Array.from({ length: n }, (_, i) => i % 7)]) {
    const got = crossModalRecall(x, y, { ks, groups });
    const want = referenceRecall(img, txt, groups, ks);
    assert.deepEqual(got.ks, ks);
    for (const key of ["imageToText", "textToImage", "chance"] as const) {
      got[key].forEach((v, i) => assert.ok(Math.abs(v - want[key][i]) < 1e-12, `${key} R@${ks[i]}: ${v} vs ${want[key][i]}`));
    }
    assert.ok(got.imageToText[0] > got.chance[0] && got.imageToText[0] < 1);
  }
  assert.equal(tf.memory().numTensors, before);
  // Default groups: only the paired item is a hit, chance k / n.
  const plain = crossModalRecall(x, y, { ks: [4] });
  assert.ok(Math.abs(plain.chance[0] - 4 / n) < 1e-12);
  // A small case by hand: groups [0, 0, 1, 2], k = 1: chance (2 + 2 + 1 + 1) / 4 / 4.
  const tiny = tf.eye(4) as tf.Tensor2D;
  const hand = crossModalRecall(tiny, tiny, { ks: [1], groups: [0, 0, 1, 2] });
  assert.deepEqual(hand.imageToText, [1]);
  assert.ok(Math.abs(hand.chance[0] - 6 / 16) < 1e-12);
  assert.throws(() => crossModalRecall(x, y, { ks: [0] }), /crossModalRecall: options.ks must be a non-empty array of integers in \[1, 40\], got \[0\]/);
  assert.throws(() => crossModalRecall(x, tf.zeros([n - 1, 8]) as tf.Tensor2D), /crossModalRecall: textEmbeddings must be a float32 tensor of shape \[40,8\], got a tensor of shape \[39,8\]/);
  assert.throws(() => crossModalRecall(x, y, { groups: [1, 2] }), /crossModalRecall: options.groups must have shape \[40\], got \[2\]/);
  tf.dispose([x, y, tiny]);
});
