import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { knnClassify, knnPredict } from "../../src/evaluation/knn";

const deg = (a: number, r = 1): number[] => [r * Math.cos((a * Math.PI) / 180), r * Math.sin((a * Math.PI) / 180)];

// Train points on circles, by angle; radii differ so cosine and euclidean disagree.
const TRAIN_ANGLES = [0, 10, 20, 90, 100, 180];
const TRAIN_RADII = [1, 2, 1, 1, 3, 0.5];
const TRAIN_LABELS = [0, 0, 0, 1, 1, 2];

test("cosine kNN on points whose answer is worked out by hand", async () => {
  await tf.setBackend("cpu");
  const train = tf.tensor2d(TRAIN_ANGLES.map((a, i) => deg(a, TRAIN_RADII[i])));
  // Angular distances from each query to the train angles decide everything.
  //  4 deg, k=3: 0 (4), 10 (6), 20 (16)              -> votes 0,0,0      -> 0
  // 80 deg, k=3: 90 (10), 100 (20), 20 (60)          -> votes 1,1,0      -> 1
  // 150 deg, k=3: 180 (30), 100 (50), 90 (60)        -> votes 2,1,1      -> 1 (majority beats the nearest)
  // 150 deg, k=2: 180 (30), 100 (50)                 -> 1 vote each; the higher summed similarity: cos 30 > cos 50 -> 2
  // 200 deg, k=3: 180 (20), 100 (100), 90 (110)      -> votes 2,1,1      -> 1
  // 200 deg, k=2: 180 (20), 100 (100)                -> tie; cos 20 > cos 100 -> 2
  // 200 deg, k=1: 180 (20)                           -> 2
  const queries = tf.tensor2d([deg(4, 5), deg(80), deg(150, 0.1), deg(200, 7)]);
  assert.deepEqual(Array.from(knnPredict(train, TRAIN_LABELS, queries, { k: 3 })), [0, 1, 1, 1]);
  assert.deepEqual(Array.from(knnPredict(train, TRAIN_LABELS, queries, { k: 2 })), [0, 1, 2, 2]);
  assert.deepEqual(Array.from(knnPredict(train, TRAIN_LABELS, queries, { k: 1 })), [0, 1, 2, 2]);
  const r = knnClassify(train, TRAIN_LABELS, queries, [0, 1, 2, 0], { k: 3 });
  assert.equal(r.accuracy, 0.5); // right on 4 and 80 deg only
  assert.deepEqual(r.perClassAccuracy, [0.5, 1, 0]);
  assert.deepEqual([r.k, r.metric, r.vote], [3, "cosine", "majority"]);
  tf.dispose([train, queries]);
});

test("weighted votes: exp(similarity / temperature) lets a close neighbour outvote two far ones", async () => {
  await tf.setBackend("cpu");
  const train = tf.tensor2d(TRAIN_ANGLES.map((a) => deg(a)));
  const query = tf.tensor2d([deg(150)]);
  // k=3 at 150 deg: class 2 at 30 deg away, class 1 at 50 and 60 deg away.
  // Weights at T=0.07: exp(cos30/T) = e^12.37 against e^9.18 + e^7.14 -> class 2.
  assert.deepEqual(Array.from(knnPredict(train, TRAIN_LABELS, query, { k: 3, vote: "weighted" })), [2]);
  // A hot temperature makes weights nearly equal again: 1 + 1 against 1 -> class 1.
  assert.deepEqual(Array.from(knnPredict(train, TRAIN_LABELS, query, { k: 3, vote: "weighted", temperature: 100 })), [1]);
  tf.dispose([train, query]);
});

test("euclidean kNN uses distances, not angles", async () => {
  await tf.setBackend("cpu");
  const train = tf.tensor2d([[0, 0], [10, 0], [0, 3]]);
  // (0, 1): distances 1, ~10.05, 2 -> nearest (0,0) class 0. Cosine would pick (0,3) (same direction).
  const query = tf.tensor2d([[0, 1]]);
  assert.deepEqual(Array.from(knnPredict(train, [0, 1, 2], query, { k: 1, metric: "euclidean" })), [0]);
  assert.deepEqual(Array.from(knnPredict(train, [0, 1, 2], query, { k: 1, metric: "cosine" })), [2]);
  tf.dispose([train, query]);
});

test("a complete tie goes to the lower class index", async () => {
  await tf.setBackend("cpu");
  const train = tf.tensor2d([[1, 0], [0, 1]]);
  const query = tf.tensor2d([[1, 1]]);
  assert.deepEqual(Array.from(knnPredict(train, [1, 0], query, { k: 2 })), [0]);
  assert.deepEqual(Array.from(knnPredict(train, [0, 1], query, { k: 2 })), [0]);
  tf.dispose([train, query]);
});

/** Brute force in float64: the reference for random data. */
function bruteForce(
  train: number[][],
  labels: number[],
  queries: number[][],
  k: number,
  metric: "cosine" | "euclidean",
  weighted: boolean,
  classes: number,
): number[] {
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return queries.map((q) => {
    const scored = train.map((t, i) => {
      const score =
        metric === "cosine"
          ? t.reduce((s, x, j) => s + x * q[j], 0) / (norm(t) * norm(q))
          : -t.reduce((s, x, j) => s + (x - q[j]) ** 2, 0);
      return { score, label: labels[i] };
    });
    scored.sort((a, b) => b.score - a.score);
    const votes = new Array<number>(classes).fill(0);
    const sums = new Array<number>(classes).fill(0);
    for (const { score, label } of scored.slice(0, k)) {
      votes[label] += weighted ? Math.exp(score / 0.07) : 1;
      sums[label] += score;
    }
    let best = 0;
    for (let c = 1; c < classes; c++) if (votes[c] > votes[best] || (votes[c] === votes[best] && sums[c] > sums[best])) best = c;
    return best;
  });
}

test("matches a float64 brute force on random data, with and without chunking, without leaks", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(3);
  const classes = 4;
  const centres = Array.from({ length: classes }, () => Array.from({ length: 8 }, () => rng.normal()));
  const sample = (n: number) => {
    const x: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      const c = rng.int(classes);
      x.push(centres[c].map((v) => v + 0.8 * rng.normal()));
      y.push(c);
    }
    return { x, y };
  };
  const tr = sample(300);
  const te = sample(100);
  const [train, queries] = [tf.tensor2d(tr.x), tf.tensor2d(te.x)];
  const before = tf.memory().numTensors;
  for (const metric of ["cosine", "euclidean"] as const) {
    for (const weighted of metric === "cosine" ? [false, true] : [false]) {
      for (const k of [1, 5, 16]) {
        const expected = bruteForce(tr.x, tr.y, te.x, k, metric, weighted, classes);
        const vote = weighted ? "weighted" : "majority";
        const whole = knnClassify(train, tr.y, queries, te.y, { k, metric, vote });
        const chunked = knnPredict(train, tr.y, queries, { k, metric, vote, chunkSize: 7 });
        const label = `${metric} ${vote} k=${k}`;
        assert.deepEqual(Array.from(whole.predictions), expected, label);
        assert.deepEqual(Array.from(chunked), expected, label);
        assert.equal(whole.accuracy, expected.filter((p, i) => p === te.y[i]).length / 100, label);
      }
    }
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([train, queries]);
});

test("bad arguments fail with messages naming argument, expected and actual", async () => {
  await tf.setBackend("cpu");
  const train = tf.zeros([6, 2]) as tf.Tensor2D;
  const q = tf.zeros([2, 3]) as tf.Tensor2D;
  const q2 = tf.zeros([2, 2]) as tf.Tensor2D;
  assert.throws(() => knnPredict(train, TRAIN_LABELS, q), /knnPredict: testFeatures must be a tensor of shape \[n,2\], got a tensor of shape \[2,3\]/);
  assert.throws(() => knnPredict(train, TRAIN_LABELS, q2, { k: 7 }), /knnPredict: k must be an integer in \[1, 6\] \(the train rows\), got 7/);
  assert.throws(() => knnPredict(train, TRAIN_LABELS.slice(1), q2, { k: 1 }), /knnPredict: trainLabels must have shape \[6\], got \[5\]/);
  assert.throws(
    () => knnPredict(train, TRAIN_LABELS, q2, { k: 1, metric: "euclidean", vote: "weighted" }),
    /knnPredict: vote "weighted" needs metric "cosine", got "euclidean"/,
  );
  assert.throws(() => knnClassify(train, TRAIN_LABELS, q2, [0], { k: 1 }), /knnClassify: testLabels must have shape \[2\], got \[1\]/);
  assert.throws(() => knnPredict(train, TRAIN_LABELS, q2, { k: 1, chunkSize: 0 }), /knnPredict: chunkSize must be a positive integer, got 0/);
  tf.dispose([train, q, q2]);
});
