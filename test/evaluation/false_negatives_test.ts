import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import {
  expectedFalseNegatives,
  falseNegativesByBatchSize,
  falseNegativesOfBatch,
} from "../../src/evaluation/false_negatives";

const close = (got: number, want: number, tol = 1e-12) => Math.abs(got - want) <= tol;

test("falseNegativesOfBatch counts same-class negatives exactly on small batches", () => {
  // Classes 0,0,1,2: ordered pairs of distinct examples 4*3 = 12, same-class 2.
  const small = falseNegativesOfBatch([0, 0, 1, 2]);
  assert.equal(small.batchSize, 4);
  assert.ok(close(small.share, 2 / 12));
  assert.ok(close(small.perAnchor, 0.5));
  assert.ok(close(small.anchorsWithAny, 0.5));
  // All one class: every negative is false.
  const same = falseNegativesOfBatch(Int32Array.from([3, 3, 3]));
  assert.deepEqual(same, { batchSize: 3, share: 1, perAnchor: 2, anchorsWithAny: 1 });
  // All distinct: none.
  assert.deepEqual(falseNegativesOfBatch([0, 1, 2, 3, 4]), { batchSize: 5, share: 0, perAnchor: 0, anchorsWithAny: 0 });
  // 3 of class 0, 2 of class 1, 1 of class 2: (6 + 2) / 30; anchors with any: 5 of 6.
  const mixed = falseNegativesOfBatch(tf.tensor1d([0, 1, 0, 2, 1, 0], "int32"));
  assert.ok(close(mixed.share, 8 / 30));
  assert.ok(close(mixed.perAnchor, 8 / 6));
  assert.ok(close(mixed.anchorsWithAny, 5 / 6));
});

test("falseNegativesOfBatch agrees with a brute-force count over anchors", () => {
  const labels = [2, 0, 1, 1, 0, 2, 2, 3, 1, 0, 0];
  let same = 0;
  let pairs = 0;
  let withAny = 0;
  for (let i = 0; i < labels.length; i++) {
    let own = 0;
    for (let j = 0; j < labels.length; j++) {
      if (j === i) continue;
      pairs++;
      if (labels[j] === labels[i]) own++;
    }
    same += own;
    if (own > 0) withAny++;
  }
  const counts = falseNegativesOfBatch(labels);
  assert.ok(close(counts.share, same / pairs));
  assert.ok(close(counts.perAnchor, same / labels.length));
  assert.ok(close(counts.anchorsWithAny, withAny / labels.length));
});

test("expectedFalseNegatives gives the closed forms, 1/C for balanced classes", () => {
  const two = expectedFalseNegatives([0.5, 0.5], 3);
  assert.ok(close(two.share, 0.5) && close(two.perAnchor, 1) && close(two.anchorsWithAny, 0.75));
  for (const c of [2, 10, 100]) {
    const prior = new Array<number>(c).fill(1 / c);
    for (const b of [2, 32, 256]) {
      const e = expectedFalseNegatives(prior, b);
      assert.ok(close(e.share, 1 / c, 1e-12), `C=${c}: share ${e.share}`);
      assert.ok(close(e.perAnchor, (b - 1) / c, 1e-9));
      assert.ok(close(e.anchorsWithAny, 1 - Math.pow(1 - 1 / c, b - 1), 1e-9));
    }
  }
  // Unbalanced: sum of squares.
  assert.ok(close(expectedFalseNegatives([0.7, 0.2, 0.1], 10).share, 0.49 + 0.04 + 0.01));
});

test("falseNegativesByBatchSize measures near the closed form: share ~1/C, per-anchor count growing with B", () => {
  const numClasses = 10;
  const pool = Array.from({ length: 5000 }, (_, i) => i % numClasses);
  const rows = falseNegativesByBatchSize({ labels: pool, batchSizes: [4, 16, 64, 256], draws: 300, seed: 3 });
  assert.deepEqual(rows.map((r) => r.batchSize), [4, 16, 64, 256]);
  for (const row of rows) {
    assert.ok(close(row.expected.share, 1 / numClasses, 1e-12));
    // Without replacement from a pool of 5000 the true share is (500 - 1) / (5000 - 1) = 0.0998.
    const tolerance = 4 * Math.sqrt(0.1 / (row.batchSize * 300)) + 0.002;
    assert.ok(Math.abs(row.measured.share - 1 / numClasses) < tolerance, `B=${row.batchSize}: share ${row.measured.share}`);
    assert.ok(Math.abs(row.measured.anchorsWithAny - row.expected.anchorsWithAny) < 0.05, `B=${row.batchSize}: ${JSON.stringify(row)}`);
  }
  for (let k = 1; k < rows.length; k++) assert.ok(rows[k].measured.perAnchor > rows[k - 1].measured.perAnchor);
  assert.ok(rows[3].measured.anchorsWithAny > 0.99);
});

test("falseNegativesByBatchSize is deterministic under a seed and takes tensor labels", () => {
  const pool = tf.tensor1d(Array.from({ length: 200 }, (_, i) => (i * 7) % 5), "int32");
  const before = tf.memory().numTensors;
  const a = falseNegativesByBatchSize({ labels: pool, batchSizes: [8, 32], draws: 20, seed: 9 });
  const b = falseNegativesByBatchSize({ labels: pool, batchSizes: [8, 32], draws: 20, seed: 9 });
  const c = falseNegativesByBatchSize({ labels: pool, batchSizes: [8, 32], draws: 20, seed: 10 });
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // A batch as large as the pool is the whole pool, whatever the draw.
  const whole = falseNegativesByBatchSize({ labels: pool, batchSizes: [200], draws: 3 })[0];
  assert.ok(close(whole.measured.share, falseNegativesOfBatch(pool).share));
  pool.dispose();
});

test("false-negative functions reject bad input with named errors", () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [() => falseNegativesOfBatch([1]), /falseNegativesOfBatch: labels must hold at least two labels, got \[1\]/],
    [() => falseNegativesOfBatch(undefined as unknown as number[]), /falseNegativesOfBatch: labels must hold at least two labels, got undefined/],
    [() => falseNegativesOfBatch([0, 1.5]), /falseNegativesOfBatch: labels must hold integers in \[0, inf\), got 1\.5 at index 1/],
    [() => expectedFalseNegatives([0.5, 0.6], 4), /expectedFalseNegatives: classPrior must sum to 1, got a sum of 1\.1/],
    [() => expectedFalseNegatives([1.5, -0.5], 4), /expectedFalseNegatives: classPrior\[0\] must be a probability in \[0, 1\], got 1\.5/],
    [() => expectedFalseNegatives([], 4), /expectedFalseNegatives: classPrior must be a non-empty array/],
    [() => expectedFalseNegatives([1], 1), /expectedFalseNegatives: batchSize must be an integer >= 2, got 1/],
    [() => falseNegativesByBatchSize({ labels: [0, 1, 0], batchSizes: [4] }), /falseNegativesByBatchSize: options\.batchSizes\[0\] must be an integer in \[2, 3\], got 4/],
    [() => falseNegativesByBatchSize({ labels: [0, 1, 0], batchSizes: [] }), /falseNegativesByBatchSize: options\.batchSizes must be a non-empty array/],
    [() => falseNegativesByBatchSize({ labels: [0, 1, 0], batchSizes: [2], draws: 0 }), /falseNegativesByBatchSize: options\.draws must be a positive integer, got 0/],
    [() => falseNegativesByBatchSize({ labels: [0, -1, 0], batchSizes: [2] }), /falseNegativesByBatchSize: options\.labels must hold integers in \[0, inf\), got -1 at index 1/],
    [() => falseNegativesByBatchSize(undefined as unknown as { labels: number[]; batchSizes: number[] }), /falseNegativesByBatchSize: options must be an object/],
  ];
  for (const [fn, message] of cases) assert.throws(fn, message);
});
