import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { createFrameEncoder } from "../../../src/methods/video/method";

test("createFrameEncoder: [n, 28, 28, 1] -> [n, dim], the same weights for the same seed, and where the digit is changes the features", async () => {
  await tf.setBackend("cpu");
  const a = createFrameEncoder({ seed: 2, dim: 12 });
  const b = createFrameEncoder({ seed: 2, dim: 12 });
  const x = tf.tidy(() => {
    const blob = tf.pad(tf.ones([4, 4, 1]), [[4, 20], [4, 20], [0, 0]]);            // a square at the top left
    const moved = tf.pad(tf.ones([4, 4, 1]), [[20, 4], [20, 4], [0, 0]]);          // the same square at the bottom right
    return tf.stack([blob, moved]) as tf.Tensor4D;
  });
  const [ya, yb] = tf.tidy(() => [a.predict(x) as tf.Tensor, b.predict(x) as tf.Tensor]);
  assert.deepEqual(ya.shape, [2, 12]);
  assert.deepEqual(ya.dataSync(), yb.dataSync());
  const rows = ya.arraySync() as number[][];
  const distance = Math.hypot(...rows[0].map((v, i) => v - rows[1][i]));
  // A globally pooled CNN would give (nearly) the same features for a translated square.
  assert.ok(distance > 1e-2, `features of the moved square differ by ${distance}`);
  assert.deepEqual(createFrameEncoder({ frameSize: 16, channels: [4, 4], dim: 3 }).outputs[0].shape, [null, 3]);
  assert.throws(() => createFrameEncoder({ frameSize: 30 }), /createFrameEncoder: options.frameSize must be a multiple of 4 \(two 2x2 poolings\), got 30/);
  assert.throws(() => createFrameEncoder({ channels: [8] as never }), /createFrameEncoder: options.channels must be two positive integers \[c1, c2\], got \[8\]/);
  tf.dispose([x, ya, yb]);
  a.dispose();
  b.dispose();
});
