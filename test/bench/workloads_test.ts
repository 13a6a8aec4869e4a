import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { setupBackend } from "../../src/backend/select";
import { createRng } from "../../src/data/random";
import {
  WORKLOAD_NAMES,
  makeWorkload,
  linearProbe,
  logMelStep,
  maeStep,
  resnetStep,
  sgnsStep,
  simclrStep,
  transformerStep,
} from "../../bench/workloads";

// Small versions of the benchmark's workloads: the code path is the bench's,
// only the sizes shrink.
const SCALE = {
  "simclr-step": 1 / 32,
  "sgns-step": 0.05,
  "linear-probe": 0.1,
  "resnet-step": 1 / 16,
  "transformer-step": 0.25,
  "mae-step": 1 / 8,
  "log-mel": 1 / 64,
} as const;

for (const backend of ["cpu", "wasm"] as const) {
  test(`each workload trains on ${backend}: a step leaks nothing, the loss falls, dispose frees all`, async () => {
    await setupBackend(backend);
    for (const name of WORKLOAD_NAMES) {
      const before = tf.memory().numTensors;
      const workload = makeWorkload(name, { scale: SCALE[name], steps: 1, seed: 3 });
      const first = workload.step(); // creates the optimizer's moments
      const settled = tf.memory().numTensors;
      const losses = [first];
      for (let i = 0; i < 5; i++) {
        losses.push(workload.step());
        assert.equal(tf.memory().numTensors, settled, `${name} on ${backend}: step ${i + 2} changed the tensor count`);
      }
      assert.ok(losses.every(Number.isFinite), `${name}: ${losses}`);
      if (name === "log-mel") {
        // No training: every step computes the same spectrogram of the same waves.
        assert.equal(workload.variables.length, 0);
        assert.ok(losses.every((l) => l === losses[0]), `log-mel on ${backend}: ${losses.join(", ")}`);
      } else {
        assert.ok(losses[5] < losses[0], `${name} on ${backend}: loss did not fall: ${losses.join(", ")}`);
      }
      workload.dispose();
      assert.equal(tf.memory().numTensors, before, `${name} on ${backend}: dispose left tensors behind`);
    }
  });
}

test("the benchmark's sizes and step counts are the reference's", async () => {
  await setupBackend("cpu");
  const simclr = simclrStep({ steps: 10 });
  const sgns = sgnsStep({ steps: 10 });
  const probe = linearProbe({ steps: 10 });
  const resnet = resnetStep({ steps: 10 });
  const transformer = transformerStep({ steps: 10 });
  const mae = maeStep({ steps: 10 });
  const logMel = logMelStep({ steps: 10 });
  try {
    assert.deepEqual([simclr.items, simclr.steps], [512, 10]);
    assert.deepEqual([sgns.items, sgns.steps], [1024, 100]);
    assert.deepEqual([probe.items, probe.steps], [8000, 100]);
    assert.deepEqual([resnet.items, resnet.steps], [128, 10]);
    assert.deepEqual([transformer.items, transformer.steps], [32, 100]);
    assert.deepEqual([mae.items, mae.steps], [64, 100]);
    assert.deepEqual([logMel.items, logMel.steps], [512, 100]);
    // Parameter counts as the reference's modules have them (torch_bench.py prints the same sums).
    const count = (w: { variables: tf.Variable[] }) => w.variables.reduce((a, v) => a + v.size, 0);
    assert.equal(count(transformer), 96 * 64 + 32 * 64 + 2 * (4 * 64 * 64 + 4 * 64 + 2 * 64 * 256 + 256 + 64 + 4 * 64) + 2 * 64 + 96);
  } finally {
    [simclr, sgns, probe, resnet, transformer, mae, logMel].forEach((w) => w.dispose());
  }
});

test("the sgns loss is the skip-gram objective of the reference (float64 check)", async () => {
  await setupBackend("cpu");
  const workload = sgnsStep({ scale: 0.002, seed: 1, steps: 1 }); // vocab 40, dim 4, batch 4
  // The workload's initial tables: seeded draws, reproduced here.
  const [input, output] = [2, 3].map((s) => {
    const t = tf.randomNormal([40, 4], 0, 1, "float32", s);
    const values = t.arraySync() as number[][];
    t.dispose();
    return values;
  });
  const loss = workload.step(); // the loss is computed before the update
  // Recompute with the same seeded ids as the workload draws them.
  const rng = createRng(1);
  const vocab = input.length;
  const batch = 4;
  const ids = (n: number) => Array.from({ length: n }, () => rng.int(vocab));
  const center = ids(batch);
  const rest = ids(batch * 6);
  const logSigmoid = (x: number) => -Math.log1p(Math.exp(-x));
  const dot = (a: number[], b: number[]) => a.reduce((s, v, k) => s + v * b[k], 0);
  let total = 0;
  for (let b = 0; b < batch; b++) {
    const u = input[center[b]];
    total += logSigmoid(dot(u, output[rest[b * 6]]));
    for (let k = 1; k < 6; k++) total += logSigmoid(-dot(u, output[rest[b * 6 + k]]));
  }
  const want = -total / batch;
  assert.ok(Math.abs(loss - want) < 1e-4 * Math.max(1, Math.abs(want)), `${loss} vs ${want}`);
  workload.dispose();
});

test("workload options are validated by name", () => {
  assert.throws(() => simclrStep({ scale: 0 }), /simclrStep: options\.scale must be in \(0, 1\], got 0/);
  assert.throws(() => sgnsStep({ steps: 1.5 }), /sgnsStep: options\.steps must be a positive integer, got 1\.5/);
  assert.throws(
    () => linearProbe({ adam: "sgd" as "stock" }),
    /linearProbe: options\.adam must be "fused" or "stock", got "sgd"/,
  );
  assert.throws(() => makeWorkload("mnist" as "sgns-step"), /makeWorkload: name must be one of simclr-step, sgns-step, linear-probe, resnet-step, transformer-step, mae-step, log-mel, got "mnist"/);
});

test("linear-probe's hand-written gradient trains like float64 cross-entropy + Adam", async () => {
  await setupBackend("cpu");
  const workload = linearProbe({ scale: 0.01, seed: 2, steps: 1 }); // n 80, d 4 (min), 10 classes
  let [weights, bias] = workload.variables.map((v) => v.arraySync()) as [number[][], number[]];
  const n = 80;
  const d = weights.length;
  const features = tf.randomNormal([n, d], 0, 1, "float32", 3).arraySync() as number[][];
  const rng = createRng(2);
  const labels = Array.from({ length: n }, () => rng.int(10));
  const lossAndGrad = (w: number[][], b: number[]) => {
    const gradW = w.map((row) => row.map(() => 0));
    const gradB = b.map(() => 0);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const logits = b.map((bc, c) => bc + features[i].reduce((s, x, k) => s + x * w[k][c], 0));
      const max = Math.max(...logits);
      const sum = logits.reduce((s, l) => s + Math.exp(l - max), 0);
      loss += Math.log(sum) + max - logits[labels[i]];
      logits.forEach((l, c) => {
        const g = (Math.exp(l - max) / sum - (c === labels[i] ? 1 : 0)) / n;
        gradB[c] += g;
        for (let k = 0; k < d; k++) gradW[k][c] += g * features[i][k];
      });
    }
    return { loss: loss / n, grads: [...gradW.flat(), ...gradB] };
  };
  // Float64 Adam(1e-2, eps 1e-8) over the flattened [W, b]. (Adam cannot see
  // a uniform scale error in the gradient; every other error shows.)
  let params = [...weights.flat(), ...bias];
  const m = params.map(() => 0);
  const v = params.map(() => 0);
  for (let t = 1; t <= 3; t++) {
    const w = Array.from({ length: d }, (_, k) => params.slice(k * 10, k * 10 + 10));
    const { loss, grads } = lossAndGrad(w, params.slice(d * 10));
    assert.ok(Math.abs(workload.step() - loss) < 1e-5, `loss at step ${t}`);
    params = params.map((p, i) => {
      m[i] = 0.9 * m[i] + 0.1 * grads[i];
      v[i] = 0.999 * v[i] + 0.001 * grads[i] ** 2;
      return p - (1e-2 * (m[i] / (1 - 0.9 ** t))) / (Math.sqrt(v[i] / (1 - 0.999 ** t)) + 1e-8);
    });
  }
  [weights, bias] = workload.variables.map((x) => x.arraySync()) as [number[][], number[]];
  const got = [...weights.flat(), ...bias];
  const worst = Math.max(...got.map((g, i) => Math.abs(g - params[i])));
  assert.ok(worst < 1e-5, `max deviation from float64 Adam after 3 steps: ${worst}`);
  workload.dispose();
});
