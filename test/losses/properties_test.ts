/**
 * Properties every loss of the `losses` namespace shares: it is lower for
 * embeddings that separate the classes (or align the views) than for the same
 * embeddings with the labels (or the pairing) shuffled.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import * as losses from "../../src/losses";
import { createRng } from "../../src/data/random";
import { classBlockPairs } from "../../src/data/balanced";

const CLASSES = 4;
const PER_CLASS = 6;

/** Class-blocked embeddings [CLASSES*PER_CLASS, dim]: class c around a random unit centre, noise `spread`. */
function clustered(seed: number, dim: number, spread: number): { z: number[][]; labels: number[] } {
  const rng = createRng(seed);
  const centres = Array.from({ length: CLASSES }, () => {
    const v = Array.from({ length: dim }, () => rng.normal());
    const n = Math.hypot(...v);
    return v.map((x) => (2 * x) / n);
  });
  const z: number[][] = [];
  const labels: number[] = [];
  for (let c = 0; c < CLASSES; c++) {
    for (let k = 0; k < PER_CLASS; k++) {
      z.push(centres[c].map((x) => x + spread * rng.normal()));
      labels.push(c);
    }
  }
  return { z, labels };
}

type LabelledLoss = (z: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar;

const pairs = classBlockPairs(CLASSES, PER_CLASS);
const anchorsOf = (z: tf.Tensor2D) => tf.gather(z, pairs.anchors) as tf.Tensor2D;
const positivesOf = (z: tf.Tensor2D) => tf.gather(z, pairs.positives) as tf.Tensor2D;

const labelledLosses: Record<string, LabelledLoss> = {
  contrastiveLoss: (z, y) => {
    // Positive pairs of the layout and the same anchors against the next class's positive.
    const a = anchorsOf(z), p = positivesOf(z);
    const n = tf.concat([p.slice([1, 0]), p.slice([0, 0], [1, -1])]);
    const yp = tf.gather(y, pairs.positives), yn = tf.concat([yp.slice([1]), yp.slice([0], [1])]);
    const ya = tf.gather(y, pairs.anchors);
    const same = tf.cast(tf.equal(tf.concat([ya, ya]), tf.concat([yp, yn])), "float32") as tf.Tensor1D;
    return losses.contrastiveLoss(tf.concat([a, a]) as tf.Tensor2D, tf.concat([p, n]) as tf.Tensor2D, same, { margin: 1 });
  },
  liftedStructuredLoss: (z, y) => losses.liftedStructuredLoss(z, y, { margin: 1 }),
};

test("losses that read labels are lower when the embeddings separate the classes than with shuffled labels", async () => {
  await tf.setBackend("cpu");
  for (let seed = 0; seed < 5; seed++) {
    const { z, labels } = clustered(seed, 8, 0.2);
    const shuffled = Array.from(createRng(100 + seed).permutation(labels.length), (i) => labels[i]);
    const zt = tf.tensor2d(z) as tf.Tensor2D;
    const y = tf.tensor1d(labels, "int32") as tf.Tensor1D;
    const ys = tf.tensor1d(shuffled, "int32") as tf.Tensor1D;
    for (const [name, loss] of Object.entries(labelledLosses)) {
      const separated = tf.tidy(() => loss(zt, y).dataSync()[0]);
      const mixed = tf.tidy(() => loss(zt, ys).dataSync()[0]);
      assert.ok(separated < mixed, `${name} (seed ${seed}): separated ${separated} should be < shuffled ${mixed}`);
    }
    tf.dispose([zt, y, ys]);
  }
});

type PairLoss = (a: tf.Tensor2D, p: tf.Tensor2D) => tf.Scalar;

const pairLosses: Record<string, PairLoss> = {
  tripletLoss: (a, p) => losses.tripletLoss(a, p, tf.concat([p.slice([1, 0]), p.slice([0, 0], [1, -1])]) as tf.Tensor2D, { margin: 0.2 }),
  nPairLoss: (a, p) => losses.nPairLoss(a, p),
  ntXentLoss: (a, p) => losses.ntXentLoss(a, p, { temperature: 0.5 }),
};

test("pair losses are lower when each anchor's positive is its own class than with the positives shuffled", async () => {
  await tf.setBackend("cpu");
  for (let seed = 0; seed < 5; seed++) {
    const { z } = clustered(seed, 8, 0.2);
    const zt = tf.tensor2d(z) as tf.Tensor2D;
    // One pair per class (an N-pair batch): anchor i's positive is row i of positives.
    const a = tf.gather(zt, pairs.anchors.slice(0, CLASSES)) as tf.Tensor2D;
    const p = tf.gather(zt, pairs.positives.slice(0, CLASSES)) as tf.Tensor2D;
    const rolled = tf.concat([p.slice([1, 0]), p.slice([0, 0], [1, -1])]) as tf.Tensor2D;
    for (const [name, loss] of Object.entries(pairLosses)) {
      const aligned = tf.tidy(() => loss(a, p).dataSync()[0]);
      const shuffled = tf.tidy(() => loss(a, rolled).dataSync()[0]);
      assert.ok(aligned < shuffled, `${name} (seed ${seed}): aligned ${aligned} should be < shuffled ${shuffled}`);
    }
    tf.dispose([zt, a, p, rolled]);
  }
});
