import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createMiEstimation, MiBoundName, MI_BOUNDS } from "../../src/methods/mi_estimation";
import { concatCritic, separableCritic } from "../../src/models/critics";
import { correlatedGaussians, miStaircase, rhoForMutualInformation } from "../../src/data/correlated_gaussians";
import { assertSteadyTensors, ctxOf, onWasm, trainCounting } from "./vision/helpers";
import { train } from "../../src/training/loop";

const meanOf = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Trains a fresh separable critic (d = dim, hidden [64], seed 1) with `bound` on `schedule`; returns the per-step metrics. */
async function run(bound: MiBoundName, schedule: number[], dim: number, batchSize: number, lr = 5e-3): Promise<{ estimate: number[]; trueMi: number[] }> {
  const critic = separableCritic({ dim, hidden: [64], seed: 1 });
  const method = createMiEstimation({ critic, bound, batchSize });
  const optimizer = tf.train.adam(lr);
  const history = await train({ ...method, optimizer, batches: () => schedule, steps: schedule.length, seed: 1, progress: false });
  optimizer.dispose();
  method.dispose();
  critic.dispose();
  return { estimate: history.metrics.estimate, trueMi: history.metrics.trueMi };
}

test("the loss is minus the bound on the step's seeded correlated Gaussians, with the estimate and true MI as metrics", async () => {
  await tf.setBackend("cpu");
  const critic = concatCritic({ dim: 2, hidden: [8], seed: 2 });
  for (const bound of Object.keys(MI_BOUNDS) as MiBoundName[]) {
    const method = createMiEstimation({ critic, bound, batchSize: 6 });
    assert.equal(method.name, `${bound} (concat critic, K=6)`);
    assert.equal(method.itemsPerBatch!(3), 6);
    const [loss, estimate, trueMi, want] = tf.tidy(() => {
      const out = method.loss(1.5, ctxOf(9)) as { loss: tf.Tensor; metrics: Record<string, tf.Tensor> };
      const { x, y } = correlatedGaussians({ n: 6, dim: 2, rho: rhoForMutualInformation(1.5, 2), seed: 9 });
      const expected = MI_BOUNDS[bound](critic.scores(x, y));
      return [out.loss, out.metrics.estimate, out.metrics.trueMi, expected].map((t) => t.dataSync()[0]);
    });
    assert.ok(Math.abs(loss + want) < 1e-6 && Math.abs(estimate - want) < 1e-6, `${bound}: loss ${loss}, estimate ${estimate}, want ${want}`);
    assert.equal(trueMi, 1.5);
  }
  assert.deepEqual(createMiEstimation({ critic, bound: "dv", batchSize: 4 }).trainable, critic.trainable);
  critic.dispose();
});

test("a staircase changes the true MI under one critic; no tensor leaks per step; one seed, one run", async () => {
  await tf.setBackend("cpu");
  const schedule = miStaircase({ levels: [0.5, 3], stepsPerLevel: 3 });
  const runOnce = async () => {
    const critic = separableCritic({ dim: 2, hidden: [8], seed: 3 });
    const method = createMiEstimation({ critic, bound: "infonce", batchSize: 8 });
    const optimizer = tf.train.adam(1e-2);
    const { history, counts } = await trainCounting({ ...method, optimizer, batches: () => schedule, steps: schedule.length, seed: 4 });
    assertSteadyTensors(counts, schedule.length);
    optimizer.dispose();
    critic.dispose();
    return history.metrics;
  };
  const start = tf.memory().numTensors;
  const a = await runOnce();
  assert.deepEqual(a.trueMi, schedule);
  assert.ok(a.estimate.every((e) => e <= Math.log(8) + 1e-6), `estimates ${a.estimate}`);
  assert.deepEqual((await runOnce()).estimate, a.estimate);
  assert.equal(tf.memory().numTensors, start);
});

test("trained with InfoNCE (wasm, d=2, K=64, 200 steps), the estimate tracks a small MI and saturates below log K at a large one", async () => {
  await onWasm(async () => {
    const logK = Math.log(64); // 4.16 nats
    // MI 1 << log K: measured last-50 mean 0.91 (the optimal critic gives ~0.97); sd 0.14 per step.
    const small = await run("infonce", Array(200).fill(1), 2, 64);
    const smallMean = meanOf(small.estimate.slice(-50));
    assert.ok(Math.abs(smallMean - 1) < 0.25, `MI 1: last-50 mean estimate ${smallMean}`);
    // MI 10 >> log K: measured 3.78; the optimal critic gives ~4.15; never above log K.
    const large = await run("infonce", Array(200).fill(10), 2, 64);
    const largeMean = meanOf(large.estimate.slice(-50));
    assert.ok(large.estimate.every((e) => e <= logK + 1e-5));
    assert.ok(largeMean > logK - 0.7 && largeMean <= logK, `MI 10: last-50 mean estimate ${largeMean}, log K ${logK}`);
  });
});

test("NWJ and DV train too: near a small MI after 200 steps (wasm)", async () => {
  await onWasm(async () => {
    for (const bound of ["nwj", "dv"] as const) {
      const { estimate } = await run(bound, Array(200).fill(1), 2, 64);
      const mean = meanOf(estimate.slice(-50));
      assert.ok(Math.abs(mean - 1) < 0.3, `${bound}, MI 1: last-50 mean estimate ${mean}`);
    }
  });
});

test("createMiEstimation rejects bad options and a bad batch with named errors", async () => {
  await tf.setBackend("cpu");
  const critic = separableCritic({ dim: 2, hidden: [4] });
  const cases: Array<[() => unknown, RegExp]> = [
    [() => createMiEstimation(undefined as never), /createMiEstimation: options must be an object \{critic, bound, batchSize\}, got undefined/],
    [() => createMiEstimation({ critic: {} as never, bound: "nwj", batchSize: 8 }), /createMiEstimation: options\.critic must be a critic from models\.separableCritic or models\.concatCritic/],
    [() => createMiEstimation({ critic, bound: "mine" as never, batchSize: 8 }), /createMiEstimation: options\.bound must be one of/],
    [() => createMiEstimation({ critic, bound: "nwj", batchSize: 1 }), /createMiEstimation: options\.batchSize must be an integer >= 2, got 1/],
    [() => createMiEstimation({ critic, bound: "nwj", batchSize: 2.5 }), /createMiEstimation: options\.batchSize must be a positive integer, got 2\.5/],
    [() => tf.tidy(() => { createMiEstimation({ critic, bound: "nwj", batchSize: 4 }).loss(-1, ctxOf(1)); }), /createMiEstimation\.loss: batch \(the true MI in nats\) must be a finite number >= 0, got -1/],
  ];
  for (const [call, message] of cases) assert.throws(call, message);
  critic.dispose();
  tf.disposeVariables();
});
