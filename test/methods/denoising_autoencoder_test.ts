import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { gaussianNoise, maskingNoise } from "../../src/augment/corruption";
import { Autoencoder, createAutoencoder } from "../../src/models/autoencoder";
import { bernoulliCrossEntropy, createDenoisingAutoencoder, denoisingErrors, denoisingLoss } from "../../src/methods/denoising_autoencoder";
import { train, type StepContext } from "../../src/training/loop";

function randomRows(rows: number, d: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: d }, () => rng.next()));
}

test("bernoulliCrossEntropy matches a float64 loop, also at saturated logits", async () => {
  await tf.setBackend("cpu");
  const x = [[0, 0.25, 1], [1, 0.5, 0]];
  const l = [[-3, 0.4, 2], [60, -1.2, -60]];
  const out = bernoulliCrossEntropy(tf.tensor2d(x), tf.tensor2d(l)).dataSync();
  x.forEach((row, n) => {
    let s = 0;
    row.forEach((xi, i) => {
      const p = 1 / (1 + Math.exp(-l[n][i]));
      s += -(xi * Math.log(Math.max(p, 1e-300)) + (1 - xi) * Math.log(Math.max(1 - p, 1e-300)));
    });
    assert.ok(Math.abs(out[n] - s) < 1e-4 * Math.max(1, s), `row ${n}: ${out[n]} vs ${s}`);
    assert.ok(Number.isFinite(out[n]));
  });
});

test("denoisingLoss reconstructs the CLEAN input from the corrupted one (float64 reference)", async () => {
  await tf.setBackend("cpu");
  const ae = createAutoencoder({ inputDim: 8, hiddenUnits: 6, codeDim: 3, seed: 1 });
  // Output biases away from 0, so the reconstruction is not 0.5 everywhere (where any target scores the same).
  ae.biases[3].assign(tf.linspace(-2, 2, 8));
  const rows = randomRows(5, 8, 4);
  const x = tf.tensor2d(rows);
  const corruption = maskingNoise(0.5);
  const before = tf.memory().numTensors;
  const loss = denoisingLoss(ae, x, corruption, 13);
  assert.equal(tf.memory().numTensors, before + 1);
  // Reference: the same corruption draw, reconstruction from it, cross-entropy against the clean rows.
  const noisy = corruption.apply(x, 13);
  const rec = ae.reconstruct(noisy).arraySync();
  let total = 0;
  rows.forEach((row, n) => row.forEach((xi, i) => (total += -(xi * Math.log(rec[n][i]) + (1 - xi) * Math.log(1 - rec[n][i])))));
  assert.ok(Math.abs(loss.dataSync()[0] - total / 5) < 1e-4, `${loss.dataSync()[0]} vs ${total / 5}`);
  // Against the noisy target the number differs: the target is the clean input.
  const noisyTarget = tf.tidy(() => tf.mean(bernoulliCrossEntropy(noisy as tf.Tensor2D, ae.decodeLogits(ae.encode(noisy as tf.Tensor2D)))));
  assert.ok(Math.abs(noisyTarget.dataSync()[0] - loss.dataSync()[0]) > 0.1);
  // A zero-strength corruption gives the plain autoencoder's loss.
  const plain = denoisingLoss(ae, x, maskingNoise(0), 13);
  const plainRef = tf.tidy(() => tf.mean(bernoulliCrossEntropy(x, ae.decodeLogits(ae.encode(x)))));
  assert.ok(Math.abs(plain.dataSync()[0] - plainRef.dataSync()[0]) < 1e-6);
  tf.dispose([x, loss, noisy, noisyTarget, plain, plainRef]);
  ae.dispose();
});

test("denoisingErrors: MSE of the noisy input and of the reconstruction vs float64", async () => {
  await tf.setBackend("cpu");
  const ae = createAutoencoder({ inputDim: 8, hiddenUnits: 6, codeDim: 3, seed: 1 });
  const rows = randomRows(4, 8, 9);
  const x = tf.tensor2d(rows);
  const before = tf.memory().numTensors;
  const errors = denoisingErrors(ae, x, gaussianNoise(0.3), 5);
  assert.equal(tf.memory().numTensors, before);
  const noisy = gaussianNoise(0.3).apply(x, 5);
  const nv = noisy.arraySync() as number[][];
  const rv = ae.reconstruct(noisy as tf.Tensor2D).arraySync();
  let en = 0;
  let er = 0;
  rows.forEach((row, n) => row.forEach((xi, i) => {
    en += (nv[n][i] - xi) ** 2;
    er += (rv[n][i] - xi) ** 2;
  }));
  assert.ok(Math.abs(errors.noisy - en / 32) < 1e-6, `${errors.noisy} vs ${en / 32}`);
  assert.ok(Math.abs(errors.denoised - er / 32) < 1e-6, `${errors.denoised} vs ${er / 32}`);
  tf.dispose([x, noisy]);
  ae.dispose();
});

test("gradient of denoisingLoss matches finite differences at a fixed corruption draw", async () => {
  await tf.setBackend("cpu");
  const ae = createAutoencoder({ inputDim: 5, hiddenUnits: 4, codeDim: 2, seed: 6 });
  // Non-zero biases keep the ReLU pre-activations away from their kink, where finite differences break.
  ae.biases.forEach((b, l) => b.assign(tf.fill(b.shape, l === 3 ? -0.5 : 0.3)));
  const x = tf.tensor2d(randomRows(3, 5, 2));
  const loss = () => denoisingLoss(ae, x, gaussianNoise(0.4), 3);
  const { grads, value } = tf.variableGrads(loss, ae.trainable);
  const eps = 1e-2;
  let nonzero = 0;
  for (const variable of [ae.weights[0], ae.weights[2], ae.weights[3], ae.biases[1]]) {
    const base = variable.dataSync().slice();
    const g = grads[variable.name].dataSync();
    for (let e = 0; e < base.length; e += 2) {
      const at = (delta: number) => {
        const moved = base.slice();
        moved[e] += delta;
        variable.assign(tf.tensor(moved, variable.shape));
        const l = tf.tidy(loss);
        const out = l.dataSync()[0];
        l.dispose();
        return out;
      };
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      variable.assign(tf.tensor(base, variable.shape));
      assert.ok(Math.abs(fd - g[e]) < 3e-3 * Math.max(1, Math.abs(fd)), `${variable.name}[${e}]: ${g[e]} vs ${fd}`);
      if (Math.abs(g[e]) > 1e-3) nonzero++;
    }
  }
  assert.ok(nonzero >= 10, `only ${nonzero} gradient entries are non-zero`);
  tf.dispose([x, value, ...Object.values(grads)]);
  ae.dispose();
});

test("a denoising autoencoder trained through training.train denoises below the noisy input, no leaks", async () => {
  await tf.setBackend("cpu");
  // Four prototype patterns: masking noise can be undone by recognising the prototype.
  const rng = createRng(3);
  const protos = Array.from({ length: 4 }, () => Array.from({ length: 16 }, () => (rng.next() < 0.5 ? 1 : 0)));
  const x = tf.tensor2d(Array.from({ length: 64 }, (_, n) => protos[n % 4]));
  const ae = createAutoencoder({ inputDim: 16, hiddenUnits: 16, codeDim: 4, seed: 1 });
  const corruption = maskingNoise(0.3);
  const before = tf.memory().numTensors;
  const optimizer = tf.train.adam(0.02);
  await train({
    loss: (batch: tf.Tensor2D, ctx) => denoisingLoss(ae, batch, corruption, ctx.seed),
    optimizer,
    trainable: ae.trainable,
    batches: () => [x.clone() as tf.Tensor2D],
    steps: 300,
    seed: 2,
    progress: false,
  });
  optimizer.dispose(); // its moment estimates are the only tensors a run may add
  assert.equal(tf.memory().numTensors, before);
  const { noisy, denoised } = denoisingErrors(ae, x, corruption, 99);
  assert.ok(noisy > 0.1 && denoised < noisy / 4, `noisy ${noisy}, denoised ${denoised}`);
  x.dispose();
  ae.dispose();
});

test("bad input is rejected, naming the function and the argument", async () => {
  await tf.setBackend("cpu");
  const ae = createAutoencoder({ inputDim: 4, hiddenUnits: 3, codeDim: 2 });
  const wrong = tf.zeros([2, 5]) as tf.Tensor2D;
  const ok = tf.zeros([2, 4]) as tf.Tensor2D;
  assert.throws(() => denoisingLoss(ae, wrong, maskingNoise(0.1), 1), /denoisingLoss: x must be a float32 tensor of shape \[n,4\], got a tensor of shape \[2,5\]/);
  assert.throws(() => denoisingLoss(ae, ok, maskingNoise(0.1), 0.5), /denoisingLoss: seed must be an integer, got 0.5/);
  assert.throws(() => bernoulliCrossEntropy(ok, wrong), /bernoulliCrossEntropy: logits must be a float32 tensor of shape \[2,4\], got a tensor of shape \[2,5\]/);
  assert.throws(() => denoisingErrors(ae, wrong, maskingNoise(0.1), 1), /denoisingErrors: x must be a float32 tensor of shape \[n,4\], got a tensor of shape \[2,5\]/);
  tf.dispose([wrong, ok]);
  ae.dispose();
});

test("createDenoisingAutoencoder: its loss is denoisingLoss with the step's seed, plain without a corruption; trains through training.train", async () => {
  await tf.setBackend("cpu");
  const ae = createAutoencoder({ inputDim: 6, hiddenUnits: 5, codeDim: 3, seed: 4 });
  const x = tf.tensor2d(randomRows(16, 6, 9));
  const ctx: StepContext = { step: 0, epoch: 0, stepInEpoch: 0, seed: 21, rng: createRng(21) };
  const dae = createDenoisingAutoencoder({ autoencoder: ae, corruption: gaussianNoise(0.3) });
  const plain = createDenoisingAutoencoder({ autoencoder: ae });
  assert.equal(dae.name, "DAE, Gaussian 0.3");
  assert.equal(plain.name, "autoencoder");
  assert.equal(plain.corruption.strength, 0);
  assert.deepEqual(dae.trainable, ae.trainable);
  const [got, want, gotPlain, wantPlain] = tf.tidy(() => [
    dae.loss(x, ctx) as tf.Tensor,
    denoisingLoss(ae, x, gaussianNoise(0.3), 21),
    plain.loss(x, ctx) as tf.Tensor,
    // The plain autoencoder: the cross-entropy of the clean input's own reconstruction.
    tf.mean(bernoulliCrossEntropy(x, ae.decodeLogits(ae.encode(x)))),
  ]);
  assert.equal(got.dataSync()[0], want.dataSync()[0]);
  assert.ok(Math.abs(gotPlain.dataSync()[0] - wantPlain.dataSync()[0]) < 1e-6);
  tf.dispose([got, want, gotPlain, wantPlain]);

  const lossNow = () => { const l = tf.tidy(() => plain.loss(x, ctx) as tf.Tensor); const v = l.dataSync()[0]; l.dispose(); return v; };
  const start = lossNow();
  const before = tf.memory().numTensors;
  const optimizer = tf.train.adam(0.02);
  const history = await train({ ...dae, optimizer, batches: () => [x.clone() as tf.Tensor2D], steps: 60, seed: 1, progress: false });
  optimizer.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.equal(history.steps, 60);
  const end = lossNow();
  assert.ok(end < start, `clean loss ${start} -> ${end}`);
  dae.dispose();
  plain.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.ok(!ae.weights[0].isDisposed, "the autoencoder was passed in: dispose keeps it");
  assert.throws(() => createDenoisingAutoencoder({ autoencoder: {} as Autoencoder }), /createDenoisingAutoencoder: options.autoencoder must be an autoencoder from models.createAutoencoder, got object/);
  x.dispose();
  ae.dispose();
});
