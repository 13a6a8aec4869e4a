import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { createMade } from "../../src/models/made";
import { createAutoregressive } from "../../src/methods/autoregressive";
import { train, type StepContext } from "../../src/training/loop";

test("createAutoregressive: its loss is the mean NLL of the batch (float64 sum over rows); trains MADE through training.train without leaks", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(5);
  // Correlated bits: pixel 1 copies pixel 0, pixel 3 copies pixel 2, so the autoregressive model can gain.
  const rows = Array.from({ length: 32 }, () => {
    const a = rng.next() < 0.5 ? 1 : 0, b = rng.next() < 0.5 ? 1 : 0;
    return [a, a, b, b, rng.next() < 0.3 ? 1 : 0];
  });
  const x = tf.tensor2d(rows);
  const made = createMade({ inputDim: 5, hiddenUnits: [8], seed: 3 });
  const method = createAutoregressive({ model: made });
  assert.equal(method.name, "MADE");
  assert.equal(method.model, made);
  assert.deepEqual(method.trainable, made.trainable);
  const ctx: StepContext = { step: 0, epoch: 0, stepInEpoch: 0, seed: 1, rng: createRng(1) };
  const [loss, nll] = tf.tidy(() => [method.loss(x, ctx) as tf.Tensor, made.nll(x)]);
  const perRow = Array.from(nll.dataSync());
  const mean = perRow.reduce((s, v) => s + v, 0) / perRow.length;
  assert.ok(Math.abs(loss.dataSync()[0] - mean) < 1e-5, `${loss.dataSync()[0]} vs ${mean}`);
  const start = loss.dataSync()[0];
  tf.dispose([loss, nll]);

  const before = tf.memory().numTensors;
  const optimizer = tf.train.adam(0.05);
  const history = await train({ ...method, optimizer, batches: () => [x.clone() as tf.Tensor2D], steps: 80, seed: 1, progress: false });
  optimizer.dispose();
  assert.equal(tf.memory().numTensors, before);
  const end = history.loss[history.loss.length - 1];
  // Independent bits would cost 5 log 2 = 3.47 nats; copying halves two of them.
  assert.ok(end < start - 0.5, `NLL ${start} -> ${end}`);
  method.dispose();
  assert.equal(tf.memory().numTensors, before, "the model was passed in: dispose frees nothing");
  assert.throws(() => createAutoregressive({ model: null as never }), /createAutoregressive: options.model must have nll\(x\) and trainable \(models.createMade\), got null/);
  assert.throws(() => createAutoregressive({ model: made, name: "" }), /createAutoregressive: options.name must be a non-empty string, got ""/);
  x.dispose();
  made.dispose();
});
