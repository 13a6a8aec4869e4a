import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import {
  bernoulliFrequencies,
  bernoulliMeanNll,
  bernoulliNll,
  createMade,
  Made,
  sampleMade,
} from "../../src/models/made";
import { train } from "../../src/training/loop";

/** float64 forward pass from the model's raw weights and masks rebuilt here from the degrees. */
function referenceLogits(made: Made, x: number[][]): number[][] {
  const sizes = [made.inputDim, ...made.hiddenUnits, made.inputDim];
  let h = x.map((row) => row.slice());
  for (let l = 0; l + 1 < sizes.length; l++) {
    const w = made.weights[l].arraySync() as number[][];
    const b = made.biases[l].arraySync() as number[];
    const from = made.degrees[l];
    const isOut = l + 1 === sizes.length - 1;
    const to = isOut ? made.degrees[0] : made.degrees[l + 1];
    h = h.map((row) =>
      Array.from({ length: sizes[l + 1] }, (_, j) => {
        let s = b[j];
        for (let k = 0; k < sizes[l]; k++) {
          const allowed = isOut ? from[k] < to[j] : from[k] <= to[j];
          if (allowed) s += row[k] * w[k][j];
        }
        return isOut ? s : Math.max(0, s);
      }),
    );
  }
  return h;
}

function randomBinary(rows: number, d: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: d }, () => (rng.next() < 0.5 ? 1 : 0)));
}

test("output d does not depend on inputs at or after d in the ordering (Jacobian), and does on earlier ones", async () => {
  await tf.setBackend("cpu");
  const d = 7;
  for (const [hidden, order] of [[[12, 12], "random"], [[20], [3, 0, 6, 1, 5, 2, 4]], [[], "natural"]] as const) {
    const made = createMade({ inputDim: d, hiddenUnits: [...hidden], order: order as never, seed: 3 });
    const position = new Int32Array(d);
    made.order.forEach((pixel, i) => (position[pixel] = i));
    const x = tf.tensor2d(randomBinary(16, d, 9));
    // Jacobian summed in absolute value over 16 inputs: |d logit_out / d x_in|.
    const dependsOn: number[][] = [];
    for (let out = 0; out < d; out++) {
      const g = tf.tidy(() =>
        tf.abs(tf.grad((xi: tf.Tensor) => tf.sum(tf.slice(made.logits(xi as tf.Tensor2D), [0, out], [16, 1])))(x)).sum(0),
      );
      dependsOn.push(Array.from(g.dataSync()));
      g.dispose();
    }
    let earlierLinks = 0;
    for (let out = 0; out < d; out++) {
      for (let inp = 0; inp < d; inp++) {
        if (position[inp] >= position[out]) {
          assert.equal(dependsOn[out][inp], 0, `order ${order}: output ${out} depends on input ${inp}`);
        } else if (dependsOn[out][inp] > 0) earlierLinks++;
      }
    }
    // The property must not hold by the network being disconnected: most earlier links are live.
    assert.ok(earlierLinks >= (d * (d - 1)) / 2 / 2, `only ${earlierLinks} live links of ${(d * (d - 1)) / 2}`);
    // The first pixel in the ordering has no inputs at all: a constant logit.
    assert.ok(dependsOn[made.order[0]].every((v) => v === 0));
    x.dispose();
    made.dispose();
  }
});

test("degrees follow the paper: inputs 1..D by ordering, hidden in [1, D-1]; masks match them", async () => {
  await tf.setBackend("cpu");
  const made = createMade({ inputDim: 9, hiddenUnits: [30, 25], order: "random", seed: 4 });
  assert.deepEqual(Array.from(made.degrees[0]).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (const i of [0, 1, 2, 3, 4, 5, 6, 7, 8]) assert.equal(made.degrees[0][made.order[i]], i + 1);
  for (const deg of made.degrees.slice(1)) for (const v of deg) assert.ok(v >= 1 && v <= 8, `degree ${v}`);
  const m0 = made.masks[0].arraySync();
  for (let k = 0; k < 9; k++) for (let j = 0; j < 30; j++) assert.equal(m0[k][j], made.degrees[0][k] <= made.degrees[1][j] ? 1 : 0);
  // A seed fixes ordering, degrees and weights.
  const again = createMade({ inputDim: 9, hiddenUnits: [30, 25], order: "random", seed: 4 });
  assert.deepEqual(again.order, made.order);
  assert.deepEqual(again.weights[1].dataSync(), made.weights[1].dataSync());
  const other = createMade({ inputDim: 9, hiddenUnits: [30, 25], order: "random", seed: 5 });
  assert.notDeepEqual(other.weights[1].dataSync(), made.weights[1].dataSync());
  [made, again, other].forEach((m) => m.dispose());
});

test("logits and NLL match a float64 loop; bernoulliNll is stable for large logits", async () => {
  await tf.setBackend("cpu");
  const d = 10;
  const made = createMade({ inputDim: d, hiddenUnits: [16, 8], order: "random", seed: 11, outputBias: Array.from({ length: d }, (_, i) => i / 5 - 1) });
  const rows = randomBinary(6, d, 12);
  const ref = referenceLogits(made, rows);
  const x = tf.tensor2d(rows);
  const before = tf.memory().numTensors;
  const logits = made.logits(x);
  const nll = made.nll(x);
  assert.equal(tf.memory().numTensors, before + 2);
  const got = logits.arraySync();
  for (let i = 0; i < rows.length; i++) for (let j = 0; j < d; j++) assert.ok(Math.abs(got[i][j] - ref[i][j]) < 1e-5);
  const nllGot = nll.arraySync();
  for (let i = 0; i < rows.length; i++) {
    let r = 0;
    for (let j = 0; j < d; j++) {
      const p = 1 / (1 + Math.exp(-ref[i][j]));
      r -= rows[i][j] === 1 ? Math.log(p) : Math.log(1 - p);
    }
    assert.ok(Math.abs(nllGot[i] - r) < 1e-4 * Math.max(1, r), `row ${i}: ${nllGot[i]} vs ${r}`);
  }
  const extreme = bernoulliNll(tf.tensor2d([[100, -100, 100, -100]]), tf.tensor2d([[0, 1, 1, 0]]));
  const e = extreme.dataSync()[0];
  assert.ok(Math.abs(e - 200) < 1e-3, `extreme ${e}`);
  tf.dispose([logits, nll, x, extreme]);
  made.dispose();
});

test("the NLL gradient matches finite differences", async () => {
  await tf.setBackend("cpu");
  const d = 5;
  const made = createMade({ inputDim: d, hiddenUnits: [6], order: "random", seed: 21 });
  const x = tf.tensor2d(randomBinary(4, d, 22));
  const meanNll = () => tf.tidy(() => tf.mean(made.nll(x)));
  const grads = tf.tidy(() => tf.variableGrads(() => tf.mean(made.nll(x)) as tf.Scalar, made.trainable as tf.Variable[]));
  const eps = 1e-2;
  for (const v of [made.weights[0], made.weights[1], made.biases[1]]) {
    const g = grads.grads[v.name].dataSync();
    const values = v.dataSync().slice();
    const mask = v === made.weights[0] ? made.masks[0].dataSync() : v === made.weights[1] ? made.masks[1].dataSync() : null;
    for (let k = 0; k < values.length; k += 3) {
      const bump = (delta: number) => {
        const w = values.slice();
        w[k] += delta;
        v.assign(tf.tensor(w, v.shape));
        const l = meanNll();
        const out = l.dataSync()[0];
        l.dispose();
        return out;
      };
      const numeric = (bump(eps) - bump(-eps)) / (2 * eps);
      v.assign(tf.tensor(values, v.shape));
      assert.ok(Math.abs(numeric - g[k]) < 2e-3 + 2e-2 * Math.abs(numeric), `${v.name}[${k}]: ${g[k]} vs ${numeric}`);
      if (mask && mask[k] === 0) assert.ok(g[k] === 0, `a masked weight has gradient ${g[k]}`);
    }
  }
  tf.dispose(Object.values(grads.grads));
  tf.dispose([grads.value, x]);
  made.dispose();
});

test("sampling is seeded and follows the conditionals (D = 2, known probabilities, both orderings)", async () => {
  await tf.setBackend("cpu");
  const logit = (p: number) => Math.log(p / (1 - p));
  for (const order of [[0, 1], [1, 0]]) {
    const [first, second] = order;
    // p(x_first = 1) = 0.3; p(x_second = 1 | x_first = 0) = 0.8, | x_first = 1) = 0.2.
    const made = createMade({ inputDim: 2, hiddenUnits: [], order, seed: 1 });
    const bias = [0, 0];
    bias[first] = logit(0.3);
    bias[second] = logit(0.8);
    const w = [[0, 0], [0, 0]];
    w[first][second] = logit(0.2) - logit(0.8);
    w[second][first] = 5; // masked out: must have no effect
    made.biases[0].assign(tf.tensor1d(bias));
    made.weights[0].assign(tf.tensor2d(w));
    const before = tf.memory().numTensors;
    const n = 4000;
    const s = sampleMade(made, n, 77);
    assert.equal(tf.memory().numTensors, before + 1);
    const again = sampleMade(made, n, 77);
    const other = sampleMade(made, n, 78);
    const sv = s.dataSync();
    assert.deepEqual(again.dataSync(), sv);
    assert.notDeepEqual(other.dataSync(), sv);
    const counts = [0, 0, 0, 0]; // index 2 * x_first + x_second
    for (let i = 0; i < n; i++) counts[2 * sv[i * 2 + first] + sv[i * 2 + second]]++;
    const expected = [0.7 * 0.2, 0.7 * 0.8, 0.3 * 0.8, 0.3 * 0.2];
    for (let c = 0; c < 4; c++) {
      const tol = 4 * Math.sqrt((expected[c] * (1 - expected[c])) / n);
      assert.ok(Math.abs(counts[c] / n - expected[c]) < tol, `order ${order} cell ${c}: ${counts[c] / n} vs ${expected[c]}`);
    }
    tf.dispose([s, again, other]);
    made.dispose();
  }
});

test("training reaches the entropy of a correlated source, below the independent baseline", async () => {
  await tf.setBackend("cpu");
  // x0 ~ B(0.5), x1 = x0, x2 = 1 - x0, x3 ~ B(0.5): entropy 2 ln 2 nats; independent pixels 4 ln 2.
  const rng = createRng(3);
  const n = 512;
  const flat = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const a = rng.next() < 0.5 ? 1 : 0;
    flat.set([a, a, 1 - a, rng.next() < 0.5 ? 1 : 0], i * 4);
  }
  const made = createMade({ inputDim: 4, hiddenUnits: [16], seed: 2 });
  const x = tf.tensor2d(flat, [n, 4]);
  const before = tf.memory().numTensors;
  const optimizer = tf.train.adam(0.05);
  await train({
    loss: (batch: tf.Tensor2D) => tf.mean(made.nll(batch)),
    optimizer,
    trainable: made.trainable,
    batches: () => [x],
    disposeBatches: false,
    steps: 300,
    progress: false,
  });
  optimizer.dispose();
  assert.equal(tf.memory().numTensors, before, "training leaks");
  const nll = made.nll(x);
  const mean = tf.mean(nll).dataSync()[0];
  const baseline = bernoulliMeanNll(flat, bernoulliFrequencies(flat, 4));
  assert.ok(mean < 2 * Math.LN2 + 0.05, `MADE NLL ${mean}`);
  assert.ok(baseline > 4 * Math.LN2 - 0.05, `baseline ${baseline}`);
  tf.dispose([nll, x]);
  made.dispose();
});

test("the independent-Bernoulli baseline matches a hand computation", () => {
  // Train rows [1,0,1] and [1,1,0]: ones per pixel [2,1,1] -> p = [(2+1)/4, (1+1)/4, (1+1)/4].
  const p = bernoulliFrequencies([1, 0, 1, 1, 1, 0], 3);
  assert.deepEqual(Array.from(p), [0.75, 0.5, 0.5]);
  // Test rows [1,1,1] and [0,0,0]: (-ln .75 - 2 ln .5) and (-ln .25 - 2 ln .5), averaged.
  const nll = bernoulliMeanNll([1, 1, 1, 0, 0, 0], p);
  const hand = (0.2876820724517809 + 1.3862943611198906 + 1.3862943611198906 + 1.3862943611198906) / 2;
  assert.ok(Math.abs(nll - hand) < 1e-12, `${nll} vs ${hand}`);
  // Smoothing keeps a pixel never on in training finite on a test image where it is on.
  assert.ok(Number.isFinite(bernoulliMeanNll([1], bernoulliFrequencies([0, 0, 0], 1))));
});

test("bad input is rejected naming the argument; createMade/dispose leaves no tensors", async () => {
  await tf.setBackend("cpu");
  const start = tf.memory().numTensors;
  createMade({ inputDim: 5, hiddenUnits: [4], seed: 1 }).dispose();
  assert.equal(tf.memory().numTensors, start);
  assert.throws(() => createMade({ inputDim: 0 }), /createMade: inputDim must be a positive integer, got 0/);
  assert.throws(() => createMade({ inputDim: 4, hiddenUnits: [3, -1] }), /createMade: hiddenUnits\[1\]/);
  assert.throws(() => createMade({ inputDim: 3, order: [0, 0, 2] }), /createMade: order must be a permutation of 0..2, got 0 at position 1/);
  assert.throws(() => createMade({ inputDim: 3, order: [0, 1] }), /createMade: order must have length 3, got 2/);
  assert.throws(() => createMade({ inputDim: 3, outputBias: [0] }), /createMade: outputBias must have length 3, got 1/);
  assert.equal(tf.memory().numTensors, start);
  const made = createMade({ inputDim: 3, hiddenUnits: [4] });
  const wrong = tf.zeros([2, 4]) as tf.Tensor2D;
  assert.throws(() => made.logits(wrong), /Made\.logits: x must be a float32 tensor of shape \[n,3\], got a tensor of shape \[2,4\]/);
  assert.throws(() => made.nll(wrong), /Made\.nll: x must be a float32 tensor of shape \[n,3\], got a tensor of shape \[2,4\]/);
  assert.throws(() => sampleMade(made, 0, 1), /sampleMade: count must be a positive integer, got 0/);
  const zeros23 = tf.zeros([2, 3]) as tf.Tensor2D;
  assert.throws(() => bernoulliNll(zeros23, wrong), /bernoulliNll: x must have shape \[2, 3\], got \[2, 4\]/);
  zeros23.dispose();
  assert.throws(() => bernoulliFrequencies([0, 1, 0.5, 1], 2), /bernoulliFrequencies: images must hold only 0 or 1, got 0.5 at 2/);
  assert.throws(() => bernoulliFrequencies([0, 1, 1], 2), /bernoulliFrequencies: images must have length n \* 2/);
  assert.throws(() => bernoulliMeanNll([0, 1], [0.5, 1]), /bernoulliMeanNll: probs must lie in \(0, 1\), got 1 at 1/);
  wrong.dispose();
  made.dispose();
  assert.equal(tf.memory().numTensors, start);
});
