import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { promises as fs } from "fs";
import * as os from "os";
import * as path from "path";
import { createKeyQueue } from "../../src/models/queue";
import { loadCheckpoint, saveCheckpoint } from "../../src/training/checkpoint";

/** Rows whose every entry is the row's id, so order is readable. */
const rowsOf = (ids: number[], dim: number) => tf.tensor2d(ids.flatMap((id) => new Array(dim).fill(id)), [ids.length, dim]);
const idsIn = (t: tf.Tensor2D) => (t.arraySync() as number[][]).map((row) => {
  assert.ok(row.every((v) => v === row[0]), "rows stay whole");
  return row[0];
});

test("KeyQueue keeps the last `size` keys, oldest first, wrapping around, and matches a plain FIFO", async () => {
  await tf.setBackend("cpu");
  const dim = 3;
  const created = tf.memory().numTensors;
  const queue = createKeyQueue({ size: 5, dim });
  const start = tf.memory().numTensors;
  assert.equal(start, created + 2, "a queue holds its buffer and its state, nothing else");
  const empty = queue.keys();
  assert.deepEqual(empty.shape, [0, 3]);
  empty.dispose();
  const fifo: number[] = [];
  let id = 1;
  // Batch sizes that fill partly, exactly, wrap across the end, and fill the whole ring at once.
  for (const b of [2, 2, 3, 1, 4, 5, 2, 3, 5]) {
    const ids = Array.from({ length: b }, () => id++);
    const batch = rowsOf(ids, dim);
    const before = tf.memory().numTensors;
    queue.enqueue(batch);
    assert.equal(tf.memory().numTensors, before, "enqueue allocates nothing that stays");
    batch.dispose();
    fifo.push(...ids);
    while (fifo.length > 5) fifo.shift();
    assert.equal(queue.filled, fifo.length);
    const keys = queue.keys();
    assert.deepEqual(keys.shape, [fifo.length, dim]);
    assert.deepEqual(idsIn(keys), fifo, `after a batch of ${b}`);
    keys.dispose();
  }
  assert.equal(tf.memory().numTensors, start);
  queue.dispose();
  assert.equal(tf.memory().numTensors, created, "dispose frees everything the queue made");
});

test("KeyQueue stores copies: later changes and gradients do not reach it, and its state restores", async () => {
  await tf.setBackend("cpu");
  const queue = createKeyQueue({ size: 4, dim: 2 });
  const x = tf.variable(tf.tensor2d([[1, 2], [3, 4]]));
  // Enqueueing inside a gradient computation leaves no path from the queue back to x.
  assert.throws(
    () => tf.variableGrads(() => {
      queue.enqueue(tf.mul(x, 2) as tf.Tensor2D);
      return tf.sum(queue.keys()) as tf.Scalar;
    }, [x]),
    /Cannot find a connection between any variable and the result of the loss function/,
  );
  x.assign(tf.zeros([2, 2]));
  const keys = queue.keys();
  assert.deepEqual(keys.arraySync(), [[2, 4], [6, 8]]);
  keys.dispose();
  // Checkpoint-style restore: write saved values into the variables, the queue continues from them.
  const other = createKeyQueue({ size: 4, dim: 2 });
  other.buffer.assign(queue.buffer);
  other.state.assign(queue.state);
  const three = tf.tensor2d([[9, 9], [8, 8], [7, 7]]);
  other.enqueue(three);
  const restored = other.keys();
  assert.deepEqual(restored.arraySync(), [[6, 8], [9, 9], [8, 8], [7, 7]]);
  assert.equal(other.buffer.trainable, false);
  tf.dispose([x, three, restored]);
  queue.dispose();
  other.dispose();
});

test("a KeyQueue saved with saveCheckpoint and loaded into a new queue continues where it stopped", async () => {
  await tf.setBackend("cpu");
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "key-queue-"));
  try {
    const queue = createKeyQueue({ size: 3, dim: 1 });
    for (const v of [[1], [2], [3], [4]]) {
      const t = tf.tensor2d([v]);
      queue.enqueue(t);
      t.dispose();
    }
    await saveCheckpoint(dir, { variables: { queue: queue.buffer, queue_state: queue.state } });
    const restored = createKeyQueue({ size: 3, dim: 1 });
    await loadCheckpoint(dir, { variables: { queue: restored.buffer, queue_state: restored.state } });
    for (const q of [queue, restored]) {
      const t = tf.tensor2d([[5]]);
      q.enqueue(t);
      t.dispose();
    }
    const [a, b] = [queue.keys(), restored.keys()];
    assert.deepEqual(b.arraySync(), [[3], [4], [5]]);
    assert.deepEqual(b.arraySync(), a.arraySync());
    tf.dispose([a, b]);
    queue.dispose();
    restored.dispose();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test("createKeyQueue and KeyQueue reject bad input, naming the argument and shapes", async () => {
  await tf.setBackend("cpu");
  assert.throws(() => createKeyQueue({ size: 0, dim: 2 }), /createKeyQueue: size must be a positive integer, got 0/);
  assert.throws(() => createKeyQueue({ size: 4, dim: 1.5 }), /createKeyQueue: dim must be a positive integer, got 1.5/);
  const queue = createKeyQueue({ size: 4, dim: 2 });
  const tooMany = tf.zeros([5, 2]) as tf.Tensor2D;
  const wrongDim = tf.zeros([2, 3]) as tf.Tensor2D;
  const ints = tf.zeros([2, 2], "int32") as tf.Tensor2D;
  assert.throws(() => queue.enqueue(tooMany), /KeyQueue.enqueue: keys must have shape \[B, 2\] with 1 <= B <= 4, got \[5, 2\]/);
  assert.throws(() => queue.enqueue(wrongDim), /KeyQueue.enqueue: keys must have shape \[B, 2\] with 1 <= B <= 4, got \[2, 3\]/);
  assert.throws(() => queue.enqueue(ints), /KeyQueue.enqueue: keys must be float32, got int32/);
  assert.equal(queue.filled, 0, "rejected input leaves the queue as it was");
  queue.dispose();
  assert.throws(() => queue.keys(), /KeyQueue.keys: the queue was disposed/);
  tf.dispose([tooMany, wrongDim, ints]);
});
