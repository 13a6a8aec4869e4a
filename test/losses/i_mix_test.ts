import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { iMixLoss } from "../../src/losses/i_mix";
import { infoNCE } from "../../src/losses/info_nce";
import { l2NormalizeRows } from "../../src/losses/ops/similarity";
import { mixup } from "../../src/augment/mix";
import { gaussianPixelNoise } from "../../src/augment/photometric";
import { assertSteadyTensors, denseEncoder, onWasm, rngImages, trainCounting } from "../methods/vision/helpers";

/** Float64 i-Mix straight from the paper: cross-entropy of the softmax over [positives; negatives] against the mixed virtual labels. */
function reference(a: number[][], k: number[][], neg: number[][], partners: ArrayLike<number>, lambdas: ArrayLike<number>, t: number): number {
  const keys = k.concat(neg);
  let total = 0;
  for (let i = 0; i < a.length; i++) {
    const logits = keys.map((c) => c.reduce((s, v, d) => s + v * a[i][d], 0) / t);
    const m = Math.max(...logits);
    const lse = m + Math.log(logits.reduce((s, v) => s + Math.exp(v - m), 0));
    const target = new Array(keys.length).fill(0);
    target[i] += lambdas[i];
    target[partners[i]] += 1 - lambdas[i];
    total += target.reduce((s, w, j) => s - w * (logits[j] - lse), 0);
  }
  return total / a.length;
}

const rand = (rng: ReturnType<typeof createRng>, n: number, d: number, s = 1): number[][] =>
  Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal() * s));

function randomMix(rng: ReturnType<typeof createRng>, b: number): { partners: Int32Array; lambdas: Float32Array } {
  return { partners: rng.permutation(b), lambdas: Float32Array.from({ length: b }, () => rng.next()) };
}

for (const backend of ["cpu", "wasm"]) {
  test(`iMixLoss on ${backend} matches a float64 reference, with and without a queue of negatives`, async () => {
    const body = (): void => {
      const rng = createRng(5);
      for (const [b, d, m, t] of [[1, 3, 0, 1], [4, 5, 0, 0.5], [9, 6, 7, 0.2], [16, 8, 32, 0.1]]) {
        const a = rand(rng, b, d, 0.5), k = rand(rng, b, d, 0.5), n = rand(rng, m, d, 0.5);
        const mix = randomMix(rng, b);
        const [ta, tk] = [tf.tensor2d(a), tf.tensor2d(k)];
        const tn = m > 0 ? tf.tensor2d(n) : undefined;
        const before = tf.memory().numTensors;
        const loss = iMixLoss(ta, tk, mix, { temperature: t, negatives: tn });
        assert.equal(tf.memory().numTensors, before + 1);
        const want = reference(a, k, n, mix.partners, mix.lambdas, t);
        const got = loss.dataSync()[0];
        assert.ok(Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)), `b=${b} m=${m} t=${t}: got ${got}, want ${want}`);
        tf.dispose([ta, tk, loss]);
        if (tn) tn.dispose();
      }
    };
    if (backend === "wasm") await onWasm(body);
    else {
      await tf.setBackend("cpu");
      body();
    }
  });
}

test("iMixLoss is infoNCE at lambda = 1, and infoNCE against the partners' keys at lambda = 0", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(8);
  const b = 6;
  const [a, k, n] = [tf.tensor2d(rand(rng, b, 4)), tf.tensor2d(rand(rng, b, 4)), tf.tensor2d(rand(rng, 5, 4))];
  const partners = rng.permutation(b);
  for (const negatives of [undefined, n]) {
    const options = { temperature: 0.3, negatives };
    const unmixed = iMixLoss(a, k, { partners, lambdas: new Float32Array(b).fill(1) }, options);
    const plain = infoNCE(a, k, options);
    assert.ok(Math.abs(unmixed.dataSync()[0] - plain.dataSync()[0]) < 1e-6, `${unmixed.dataSync()[0]} vs ${plain.dataSync()[0]}`);
    const swapped = iMixLoss(a, k, { partners, lambdas: new Float32Array(b) }, options);
    const permutedKeys = tf.gather(k, tf.tensor1d(partners, "int32")) as tf.Tensor2D;
    const againstPartners = infoNCE(a, permutedKeys, options);
    assert.ok(Math.abs(swapped.dataSync()[0] - againstPartners.dataSync()[0]) < 1e-5);
    tf.dispose([unmixed, plain, swapped, permutedKeys, againstPartners]);
  }
  tf.dispose([a, k, n]);
});

test("iMixLoss gradients match central finite differences of the float64 reference", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(13);
  const [b, d, m, t] = [4, 3, 3, 0.5];
  const a = rand(rng, b, d), k = rand(rng, b, d), n = rand(rng, m, d);
  const mix = randomMix(rng, b);
  const tensors = [tf.tensor2d(a), tf.tensor2d(k), tf.tensor2d(n)];
  const grads = tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
    iMixLoss(x as tf.Tensor2D, y as tf.Tensor2D, mix, { temperature: t, negatives: z as tf.Tensor2D }),
  )(tensors);
  const h = 1e-6;
  const args = [a, k, n];
  let maxRef = 0;
  for (let w = 0; w < 3; w++) {
    const got = grads[w].arraySync() as number[][];
    for (let i = 0; i < args[w].length; i++) {
      for (let j = 0; j < d; j++) {
        const plus = args.map((x) => x.map((r) => [...r]));
        const minus = args.map((x) => x.map((r) => [...r]));
        plus[w][i][j] += h;
        minus[w][i][j] -= h;
        const fd =
          (reference(plus[0], plus[1], plus[2], mix.partners, mix.lambdas, t) - reference(minus[0], minus[1], minus[2], mix.partners, mix.lambdas, t)) /
          (2 * h);
        maxRef = Math.max(maxRef, Math.abs(fd));
        assert.ok(Math.abs(got[i][j] - fd) < 1e-4 * Math.max(1, Math.abs(fd)), `argument ${w} [${i},${j}]: ${got[i][j]} vs ${fd}`);
      }
    }
  }
  assert.ok(maxRef > 1e-3, "the reference gradient should not vanish");
  tf.dispose([...tensors, ...grads]);
});

test("iMixLoss trains an encoder through training.train: the loss falls well below its start, no tensor leak", async () => {
  await tf.setBackend("cpu");
  const encoder = denseEncoder(16, 3);
  const x = rngImages(16, 4);
  const noise = gaussianPixelNoise({ std: 0.1 });
  const mix = mixup({ alpha: 1, per: "example" });
  const steps = 30;
  const { history, counts } = await trainCounting<tf.Tensor4D>({
    trainable: [encoder],
    loss: (images, ctx) => {
      const mixed = mix(noise(images, ctx.rng.fork()), ctx.rng.fork());
      const a = l2NormalizeRows(encoder.apply(mixed.images, { training: true }) as tf.Tensor2D);
      const k = l2NormalizeRows(encoder.apply(noise(images, ctx.rng.fork()), { training: true }) as tf.Tensor2D);
      return iMixLoss(a, k, mixed, { temperature: 0.2 });
    },
    optimizer: tf.train.adam(1e-2),
    batches: () => Array.from({ length: steps }, () => x),
    disposeBatches: false,
    steps,
    seed: 1,
  });
  assertSteadyTensors(counts, steps);
  const losses = history.loss;
  const start = losses[0];
  const end = losses.slice(-5).reduce((s, v) => s + v, 0) / 5;
  // Baseline: the loss at step 1 (about log 16 = 2.8 for an untrained encoder); mixing keeps it above 0.
  assert.ok(end < start - 0.5, `loss ${start} -> ${end}`);
  x.dispose();
  encoder.dispose();
});

test("iMixLoss rejects bad input with named errors", async () => {
  await tf.setBackend("cpu");
  const ok = tf.zeros([3, 2]) as tf.Tensor2D;
  const mix = { partners: Int32Array.from([1, 2, 0]), lambdas: Float32Array.from([1, 0.5, 0]) };
  const t = { temperature: 0.5 };
  const cases: Array<[() => unknown, RegExp]> = [
    [() => iMixLoss(tf.zeros([3]) as unknown as tf.Tensor2D, ok, mix, t), /iMixLoss: anchors must be a float32 tensor of shape \[n,d\], got a tensor of shape \[3\]/],
    [() => iMixLoss(ok, tf.zeros([4, 2]) as tf.Tensor2D, mix, t), /iMixLoss: positives must be a float32 tensor of shape \[3,2\], got a tensor of shape \[4,2\]/],
    [() => iMixLoss(ok, ok, { ...mix, partners: Int32Array.from([1, 2]) }, t), /iMixLoss: mix\.partners must have length 3, got an Int32Array of length 2/],
    [() => iMixLoss(ok, ok, { ...mix, partners: Int32Array.from([1, 3, 0]) }, t), /iMixLoss: mix\.partners\[1\] must be an integer in \[0, 3\), got 3/],
    [() => iMixLoss(ok, ok, { ...mix, lambdas: Float32Array.from([1, NaN, 0]) }, t), /iMixLoss: mix\.lambdas\[1\] must be a number in \[0, 1\], got NaN/],
    [() => iMixLoss(ok, ok, mix, { temperature: 0 }), /iMixLoss: options\.temperature must be a finite number > 0, got 0/],
    [() => iMixLoss(ok, ok, mix, { temperature: 1, negatives: tf.zeros([5, 3]) as tf.Tensor2D }), /iMixLoss: options\.negatives must be a float32 tensor of shape \[n,2\], got a tensor of shape \[5,3\]/],
    [() => iMixLoss(ok, ok, mix, undefined as never), /iMixLoss: options must be an object \{temperature, negatives\?\}, got undefined/],
  ];
  for (const [fn, message] of cases) assert.throws(fn, message);
  tf.disposeVariables();
});
