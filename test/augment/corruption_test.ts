import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { gaussianNoise, maskingNoise, saltAndPepperNoise } from "../../src/augment/corruption";

function stats(values: Float32Array | number[]): { mean: number; std: number } {
  let s = 0;
  for (const v of values) s += v;
  const mean = s / values.length;
  let q = 0;
  for (const v of values) q += (v - mean) ** 2;
  return { mean, std: Math.sqrt(q / values.length) };
}

test("masking noise zeroes the requested fraction, keeps the rest unchanged, and is seeded", async () => {
  await tf.setBackend("cpu");
  const x = tf.fill([200, 100], 0.7) as tf.Tensor2D;
  for (const fraction of [0.25, 0.5]) {
    const before = tf.memory().numTensors;
    const a = maskingNoise(fraction).apply(x, 3);
    const b = maskingNoise(fraction).apply(x, 3);
    const c = maskingNoise(fraction).apply(x, 4);
    assert.equal(tf.memory().numTensors, before + 3);
    const av = a.dataSync();
    let zeros = 0;
    for (const v of av) {
      if (v === 0) zeros++;
      else assert.ok(Math.abs(v - 0.7) < 1e-7, `kept entry changed to ${v}`);
    }
    // 20000 Bernoulli draws: std of the rate is sqrt(f(1-f)/20000) <= 0.0036.
    assert.ok(Math.abs(zeros / av.length - fraction) < 0.015, `zero rate ${zeros / av.length} for ${fraction}`);
    assert.deepEqual(Array.from(av), Array.from(b.dataSync()));
    assert.notDeepEqual(Array.from(av), Array.from(c.dataSync()));
    assert.deepEqual(a.shape, [200, 100]);
    tf.dispose([a, b, c]);
  }
  x.dispose();
});

test("Gaussian noise adds zero-mean noise of the requested std, seeded, unclipped", async () => {
  await tf.setBackend("cpu");
  const x = tf.fill([100, 28, 28, 1], 0.5) as tf.Tensor4D;
  const a = gaussianNoise(0.3).apply(x, 7);
  const b = gaussianNoise(0.3).apply(x, 7);
  const noise = Array.from(a.dataSync(), (v) => v - 0.5);
  const { mean, std } = stats(noise);
  assert.ok(Math.abs(mean) < 0.005, `mean ${mean}`);
  assert.ok(Math.abs(std - 0.3) < 0.005, `std ${std}`);
  assert.ok(Math.max(...a.dataSync()) > 1, "values above 1 are kept, not clipped");
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  assert.deepEqual(a.shape, [100, 28, 28, 1]);
  tf.dispose([x, a, b]);
});

test("salt-and-pepper sets the fraction to low or high in equal parts", async () => {
  await tf.setBackend("cpu");
  const x = tf.fill([200, 100], 0.4) as tf.Tensor2D;
  const a = saltAndPepperNoise(0.3).apply(x, 2);
  let low = 0;
  let high = 0;
  for (const v of a.dataSync()) {
    if (v === 0) low++;
    else if (v === 1) high++;
    else assert.ok(Math.abs(v - 0.4) < 1e-7);
  }
  assert.ok(Math.abs(low / 20000 - 0.15) < 0.012, `pepper rate ${low / 20000}`);
  assert.ok(Math.abs(high / 20000 - 0.15) < 0.012, `salt rate ${high / 20000}`);
  tf.dispose([x, a]);
});

test("zero strength is the identity (a new tensor with the same values)", async () => {
  await tf.setBackend("cpu");
  const x = tf.randomUniform([5, 7], 0, 1, "float32", 1);
  for (const corruption of [maskingNoise(0), gaussianNoise(0), saltAndPepperNoise(0)]) {
    const y = corruption.apply(x, 9);
    assert.notEqual(y, x);
    assert.deepEqual(Array.from(y.dataSync()), Array.from(x.dataSync()));
    y.dispose();
    assert.ok(!x.isDisposed);
  }
  x.dispose();
});

test("bad input is rejected, naming the function and the argument", async () => {
  await tf.setBackend("cpu");
  assert.throws(() => maskingNoise(1), /maskingNoise: fraction must be a number in \[0, 1\), got 1/);
  assert.throws(() => maskingNoise(-0.1), /maskingNoise: fraction must be a number in \[0, 1\), got -0\.1/);
  assert.throws(() => gaussianNoise(-1), /gaussianNoise: std must be a finite number >= 0, got -1/);
  assert.throws(() => saltAndPepperNoise(1.5), /saltAndPepperNoise: fraction must be a number in \[0, 1\), got 1\.5/);
  const xi = tf.zeros([2, 2], "int32");
  assert.throws(() => maskingNoise(0.5).apply(xi, 1), /maskingNoise\.apply: x must be a float32 tensor, got an int32 tensor of shape \[2,2\]/);
  const x = tf.zeros([2, 2]);
  assert.throws(() => gaussianNoise(0.5).apply(x, 1.5), /gaussianNoise.apply: seed must be an integer, got 1.5/);
  tf.dispose([xi, x]);
});
