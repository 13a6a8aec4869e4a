import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { loadMnist } from "../../src/data/mnist";
import { createRng } from "../../src/data/random";
import { movingDigitClips, renderClipView, type MovingDigitClips } from "../../src/data/moving_digits";
import { arrowOfTimeBatch, clipFrames, orderVerificationBatch, timeContrastiveBatch, videoTaskBatches } from "../../src/data/video_tasks";

const digits = loadMnist({ trainSize: 100, testSize: 1 }).train;

/** The time of the frame of clip c equal to `frame` (every frame of a moving digit differs). */
function timeOf(values: Float32Array, clips: MovingDigitClips, c: number, frame: Float32Array): number {
  const [, length, h, w] = clips.shape;
  const pixels = h * w;
  const matches: number[] = [];
  for (let t = 0; t < length; t++) {
    const candidate = values.subarray((c * length + t) * pixels, (c * length + t + 1) * pixels);
    if (candidate.every((v, i) => v === frame[i])) matches.push(t);
  }
  assert.equal(matches.length, 1, `clip ${c}: frame matches times ${matches}`);
  return matches[0];
}

test("orderVerificationBatch: balanced labels; positives have the middle frame between the others, negatives outside", async () => {
  await tf.setBackend("cpu");
  const clips = movingDigitClips(digits, { seed: 1, clips: 9, frames: 7 });
  const before = tf.memory().numTensors;
  const { frames, labels } = orderVerificationBatch(clips, { seed: 4 });
  assert.deepEqual(frames.shape, [9, 3, 28, 28, 1]);
  const y = Array.from(labels.dataSync());
  assert.equal(labels.dtype, "int32");
  assert.equal(y.filter((v) => v === 1).length, 5, "ceil(9 / 2) positives");
  const values = frames.dataSync() as Float32Array;
  let backwards = 0;
  for (let c = 0; c < 9; c++) {
    const [t0, t1, t2] = [0, 1, 2].map((k) => timeOf(clips.frames, clips, c, values.subarray((c * 3 + k) * 784, (c * 3 + k + 1) * 784)));
    const between = (t0 < t1 && t1 < t2) || (t2 < t1 && t1 < t0);
    assert.equal(between, y[c] === 1, `clip ${c}: times ${t0}, ${t1}, ${t2}, label ${y[c]}`);
    if (t0 > t2) backwards++;
  }
  assert.ok(backwards > 0 && backwards < 9, `tuples shown backwards: ${backwards}`);
  const again = orderVerificationBatch(clips, { seed: 4 });
  assert.deepEqual(again.frames.dataSync(), frames.dataSync());
  tf.dispose([frames, labels, again.frames, again.labels]);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => orderVerificationBatch(movingDigitClips(digits, { seed: 1, clips: 2, frames: 4 }), { seed: 1 }), /orderVerificationBatch: clips must have at least 5 frames \(a < b < c < d < e\), got 4/);
  assert.throws(() => orderVerificationBatch(clips, { seed: 1.5 }), /orderVerificationBatch: options.seed must be an integer, got 1.5/);
});

test("arrowOfTimeBatch: floor(B / 2) clips reversed, frame for frame", async () => {
  await tf.setBackend("cpu");
  const clips = movingDigitClips(digits, { seed: 2, clips: 7, frames: 5, friction: 0.2 });
  const { frames, labels } = arrowOfTimeBatch(clips, { seed: 3 });
  assert.deepEqual(frames.shape, [7, 5, 28, 28, 1]);
  const y = Array.from(labels.dataSync());
  assert.equal(y.filter((v) => v === 0).length, 3);
  const values = frames.dataSync() as Float32Array;
  for (let c = 0; c < 7; c++) {
    for (let k = 0; k < 5; k++) {
      const t = y[c] === 1 ? k : 4 - k;
      assert.deepEqual(values.subarray((c * 5 + k) * 784, (c * 5 + k + 1) * 784), clips.frames.subarray((c * 5 + t) * 784, (c * 5 + t + 1) * 784));
    }
  }
  tf.dispose([frames, labels]);
});

test("timeContrastiveBatch: positives within the window, negatives at least the gap away; the multi-view positive is the other camera at the same time", async () => {
  await tf.setBackend("cpu");
  const clips = movingDigitClips(digits, { seed: 3, clips: 12, frames: 8 });
  const single = timeContrastiveBatch(clips, { seed: 5, positiveWindow: 2, negativeGap: 4 });
  for (const key of ["anchor", "positive", "negative"] as const) assert.deepEqual(single[key].shape, [12, 28, 28, 1]);
  const [a, p, n] = [single.anchor, single.positive, single.negative].map((x) => x.dataSync() as Float32Array);
  for (let c = 0; c < 12; c++) {
    const slice = (x: Float32Array) => x.subarray(c * 784, (c + 1) * 784);
    const [ta, tp, tn] = [a, p, n].map((x) => timeOf(clips.frames, clips, c, slice(x)));
    assert.ok(Math.abs(tp - ta) >= 1 && Math.abs(tp - ta) <= 2, `clip ${c}: anchor ${ta}, positive ${tp}`);
    assert.ok(Math.abs(tn - ta) >= 4, `clip ${c}: anchor ${ta}, negative ${tn}`);
  }
  const view2 = { zoom: 0.7, blur: 0.8 }; // no noise: the rendering is a function of the clips alone
  const multi = timeContrastiveBatch(clips, { seed: 5, views: [{}, view2] });
  const second = renderClipView(clips, view2);
  const [ma, mp, mn] = [multi.anchor, multi.positive, multi.negative].map((x) => x.dataSync() as Float32Array);
  for (let c = 0; c < 12; c++) {
    const slice = (x: Float32Array) => x.subarray(c * 784, (c + 1) * 784);
    const ta = timeOf(clips.frames, clips, c, slice(ma));
    assert.equal(timeOf(second, clips, c, slice(mp)), ta, `clip ${c}: the positive is view 2 at the anchor's time`);
    assert.ok(Math.abs(timeOf(clips.frames, clips, c, slice(mn)) - ta) >= 3, "the negative is the anchor's view, far in time");
  }
  tf.dispose([single, multi] as unknown as tf.TensorContainer);
  assert.throws(() => timeContrastiveBatch(clips, { seed: 1, negativeGap: 5 }), /timeContrastiveBatch: options.negativeGap must be at most floor\(frames \/ 2\) = 4 so every anchor has a negative, got 5/);
  assert.throws(() => timeContrastiveBatch(clips, { seed: 1, positiveWindow: 3, negativeGap: 3 }), /timeContrastiveBatch: options.negativeGap must be larger than options.positiveWindow \(3\), got 3/);
  assert.throws(() => timeContrastiveBatch(clips, { seed: 1, views: [{}] as never }), /timeContrastiveBatch: options.views must be two camera views/);
});

test("videoTaskBatches: fresh clips every step, the same ones for the same loop seed; clipFrames is clip-major", async () => {
  await tf.setBackend("cpu");
  const batches = videoTaskBatches(digits, { clips: { frames: 5, friction: 0.1 }, clipsPerBatch: 4, task: (clips, seed) => arrowOfTimeBatch(clips, { seed }) });
  const take = (seed: number) => {
    const it = batches(0, createRng(seed));
    const out = [it.next().value!, it.next().value!];
    const values = out.map((b) => Array.from(b.frames.dataSync()));
    tf.dispose(out as unknown as tf.TensorContainer);
    return values;
  };
  const [first, second] = take(1);
  assert.notDeepEqual(first, second, "each step makes new clips");
  assert.deepEqual(take(1), [first, second]);
  assert.notDeepEqual(take(2)[0], first);
  assert.throws(() => videoTaskBatches(digits, { clips: { frames: 1 }, clipsPerBatch: 4, task: () => 0 }), /movingDigitClips: options.frames must be an integer in \[2, \d+\], got 1/);
  assert.throws(() => videoTaskBatches(digits, { clips: { frames: 5 }, clipsPerBatch: 0, task: () => 0 }), /videoTaskBatches: options.clipsPerBatch must be a positive integer, got 0/);
  const clips = movingDigitClips(digits, { seed: 1, clips: 2, frames: 3 });
  const x = clipFrames(clips);
  assert.deepEqual(x.shape, [6, 28, 28, 1]);
  assert.deepEqual(x.dataSync(), clips.frames);
  x.dispose();
  assert.throws(() => clipFrames(clips, new Float32Array(3)), /clipFrames: view must be a Float32Array of 4704 values/);
});
