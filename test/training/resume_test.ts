import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { tf } from "../../src/backend/tf";
import { mlpHead } from "../../src/models/encoders";
import { saveCheckpoint } from "../../src/training/checkpoint";
import { LoopProgress, loopCheckpoint, resumeLoop, saveLoop } from "../../src/training/resume";

test("loopCheckpoint saves the models by name and the bare variables in order by default", () => {
  const head = mlpHead({ inputDim: 2, hidden: [], outputDim: 1, seed: 1 });
  const [a, b] = [tf.variable(tf.zeros([1])), tf.variable(tf.ones([1]))];
  const optimizer = tf.train.sgd(0.1);
  try {
    const ckpt = loopCheckpoint({ dir: "unused" }, [a, head, b], optimizer);
    assert.deepEqual(Object.keys(ckpt.models), [head.name]);
    assert.equal(ckpt.models[head.name], head);
    assert.deepEqual(ckpt.variables, { variable_0: a, variable_1: b });
    assert.equal(ckpt.resume, true);
    const twin = mlpHead({ inputDim: 2, hidden: [], outputDim: 1, seed: 2, name: head.name });
    try {
      assert.throws(
        () => loopCheckpoint({ dir: "unused" }, [head, twin], optimizer),
        new RegExp(`train: checkpoint.models must be given when two trainable models share a name, got two named '${head.name}'`),
      );
      assert.doesNotThrow(() => loopCheckpoint({ dir: "unused", models: { one: head, two: twin } }, [head, twin], optimizer));
    } finally {
      twin.dispose();
    }
  } finally {
    tf.dispose([a, b]);
    head.dispose();
    optimizer.dispose();
  }
});

test("saveLoop then resumeLoop restores the progress and the variables, and checks the seed", async () => {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), "resume-test-")), "ckpt");
  const v = tf.variable(tf.tensor1d([1, 2, 3]));
  const optimizer = tf.train.sgd(0.1);
  try {
    const ckpt = loopCheckpoint({ dir }, [v], optimizer);
    assert.equal(await resumeLoop(ckpt, 7), undefined, "no checkpoint yet");
    const progress: LoopProgress = {
      step: 3,
      epoch: 1,
      stepInEpoch: 1,
      loss: [3, 2, 1],
      metrics: { acc: [0.1, 0.2, 0.3] },
      epochLoss: [2.5],
      log: [{ step: 2, epoch: 0, loss: 2.5, metrics: { acc: 0.15 }, stepsPerSecond: 10, elapsedSeconds: 0.2 }],
    };
    await saveLoop(ckpt, 7, progress);
    v.assign(tf.zeros([3]));
    assert.deepEqual(await resumeLoop(ckpt, 7), progress);
    assert.deepEqual(Array.from(v.dataSync()), [1, 2, 3]);
    assert.equal(await resumeLoop({ ...ckpt, resume: false }, 7), undefined, "resume: false starts over");
    await assert.rejects(resumeLoop(ckpt, 8), /train: seed must match the checkpoint's to resume, got 8 \(checkpoint in '.*' has 7\)/);
    await saveCheckpoint(dir, { state: { kind: "notes" } });
    await assert.rejects(resumeLoop(ckpt, 7), /train: checkpoint.dir must hold a checkpoint written by train, got another kind/);
  } finally {
    v.dispose();
    optimizer.dispose();
    rmSync(path.dirname(dir), { recursive: true, force: true });
  }
});
