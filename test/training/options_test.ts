import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { mlpHead } from "../../src/models/encoders";
import { collectVariables, resolveTrainOptions } from "../../src/training/options";
import type { TrainOptions } from "../../src/training/types";

function options(extra: Partial<TrainOptions<number>>, trainable: Array<tf.LayersModel | tf.Variable>): TrainOptions<number> {
  return {
    loss: () => tf.scalar(0),
    optimizer: tf.train.sgd(0.1),
    trainable,
    batches: () => [1, 2],
    ...extra,
  };
}

test("defaults: seed 0, one epoch without steps, unlimited epochs with steps, batches disposed", () => {
  const v = tf.variable(tf.zeros([2]));
  try {
    const plain = resolveTrainOptions(options({}, [v]));
    assert.deepEqual(
      { seed: plain.seed, stepsCap: plain.stepsCap, epochs: plain.epochs, disposeBatches: plain.disposeBatches },
      { seed: 0, stepsCap: Infinity, epochs: 1, disposeBatches: true },
    );
    const capped = resolveTrainOptions(options({ steps: 10, seed: 4, disposeBatches: false }, [v]));
    assert.deepEqual(
      { seed: capped.seed, stepsCap: capped.stepsCap, epochs: capped.epochs, disposeBatches: capped.disposeBatches },
      { seed: 4, stepsCap: 10, epochs: Infinity, disposeBatches: false },
    );
    assert.deepEqual(capped.varList, [v]);
  } finally {
    v.dispose();
  }
});

test("collectVariables lists each variable once, in the order of trainable", () => {
  const head = mlpHead({ inputDim: 3, hidden: [4], outputDim: 2, seed: 1 });
  const extra = tf.variable(tf.ones([1]));
  try {
    const vars = collectVariables([head, extra, head, extra]);
    assert.equal(vars.length, head.trainableWeights.length + 1);
    assert.equal(vars[vars.length - 1], extra);
    assert.equal(new Set(vars.map((x) => x.name)).size, vars.length);
  } finally {
    head.dispose();
    extra.dispose();
  }
});

test("bad options throw naming train, the option and the value", () => {
  const v = tf.variable(tf.zeros([2]));
  try {
    assert.throws(() => resolveTrainOptions(options({ seed: 0.5 }, [v])), /train: seed must be an integer, got 0\.5/);
    assert.throws(() => resolveTrainOptions(options({ epochs: -1 }, [v])), /train: epochs must be a positive integer, got -1/);
    assert.doesNotThrow(() => resolveTrainOptions(options({ epochs: Infinity, steps: 3 }, [v])));
    assert.throws(() => resolveTrainOptions(options({ stepsPerEpoch: 1.5 }, [v])), /train: stepsPerEpoch must be a positive integer, got 1\.5/);
    assert.throws(
      () => resolveTrainOptions(options({ checkpoint: { dir: "x", every: 0 } }, [v])),
      /train: checkpoint\.every must be a positive integer, got 0/,
    );
    const noLoss = { ...options({}, [v]), loss: undefined } as unknown as TrainOptions<number>;
    assert.throws(() => resolveTrainOptions(noLoss), /train: loss must be a function, got undefined/);
    const head = mlpHead({ inputDim: 2, hidden: [], outputDim: 1, seed: 1 });
    head.trainable = false;
    try {
      assert.throws(() => resolveTrainOptions(options({}, [head])), /train: trainable must hold at least one trainable variable, got none/);
    } finally {
      head.dispose();
    }
  } finally {
    v.dispose();
  }
});
