import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { bertMask } from "../../src/data/pretext_bert";
import { createRng } from "../../src/data/random";

const PAD = 0;
const MASK = 2;
const BOS = 3;
const VOCAB = 60;

/** `rows` rows of `time` ids: `<bos>`, ordinary ids 4..59, then a random run of padding. */
function tokenRows(rows: number, time: number, seed: number): Int32Array[] {
  const rng = createRng(seed);
  return Array.from({ length: rows }, () => {
    const used = 1 + Math.floor(time / 2) + rng.int(time - Math.floor(time / 2));
    return Int32Array.from({ length: time }, (_, t) => (t === 0 ? BOS : t < used ? 4 + rng.int(VOCAB - 4) : PAD));
  });
}

const plain = (t: tf.Tensor) => Array.from(t.dataSync());

test("bertMask: exact counts per row, specials never chosen, 80/10/10 within binomial tolerance, targets the original ids", async () => {
  await tf.setBackend("cpu");
  const rows = tokenRows(300, 64, 1);
  const { inputs, targets, weights } = bertMask(rows, { maskToken: MASK, vocabSize: VOCAB, seed: 7, special: [PAD, BOS] });
  assert.deepEqual([inputs.shape, targets.shape, weights.shape], [[300, 64], [300, 64], [300, 64]]);
  assert.deepEqual([inputs.dtype, targets.dtype, weights.dtype], ["int32", "int32", "float32"]);
  const [x, y, w] = [plain(inputs), plain(targets), plain(weights)];
  assert.deepEqual(y, rows.flatMap((r) => Array.from(r)), "targets are the original tokens");
  let chosen = 0, masked = 0, random = 0, kept = 0, eligibleAll = 0;
  const drawn = new Set<number>();
  const poolSize = VOCAB - 3; // neither pad, bos nor mask
  for (let b = 0; b < 300; b++) {
    let eligible = 0, rowChosen = 0;
    for (let t = 0; t < 64; t++) {
      const k = b * 64 + t;
      const original = rows[b][t];
      const special = original === PAD || original === BOS;
      if (!special) eligible++;
      assert.ok(w[k] === 0 || w[k] === 1);
      if (w[k] === 0) {
        assert.equal(x[k], original, `unchosen position ${b},${t} unchanged`);
        continue;
      }
      assert.ok(!special, `special token chosen at ${b},${t}`);
      rowChosen++;
      if (x[k] === MASK) masked++;
      else if (x[k] === original) kept++;
      else {
        random++;
        drawn.add(x[k]);
        assert.ok(x[k] !== PAD && x[k] !== BOS && x[k] >= 0 && x[k] < VOCAB, `random replacement ${x[k]} is neither special nor the mask`);
      }
    }
    assert.equal(rowChosen, Math.max(1, Math.round(0.15 * eligible)), `row ${b}: ${rowChosen} of ${eligible}`);
    chosen += rowChosen;
    eligibleAll += eligible;
  }
  assert.ok(Math.abs(chosen / eligibleAll - 0.15) < 0.01, `rate ${chosen / eligibleAll}`);
  assert.ok(drawn.size >= 45, `the random replacements spread over the ${poolSize} ordinary ids: ${drawn.size} seen`);
  // A random draw hits the original token with probability 1 / poolSize, and then looks unchanged.
  const expected = { masked: 0.8, random: 0.1 * (1 - 1 / poolSize), kept: 0.1 + 0.1 / poolSize };
  for (const [name, count] of Object.entries({ masked, random, kept }) as Array<[keyof typeof expected, number]>) {
    const p = expected[name];
    const sd = Math.sqrt(chosen * p * (1 - p));
    assert.ok(Math.abs(count - chosen * p) <= 4 * sd, `${name}: ${count} of ${chosen}, expected ${(chosen * p).toFixed(1)} +- ${(4 * sd).toFixed(1)}`);
  }
  tf.dispose([inputs, targets, weights]);
});

test("bertMask: every eligible position gets chosen over many seeds at about the rate; same seed, same batch; tensor input as array input", async () => {
  await tf.setBackend("cpu");
  const rows = [Int32Array.from({ length: 20 }, (_, t) => 4 + t)];
  const hits = new Array(20).fill(0);
  for (let seed = 0; seed < 400; seed++) {
    const out = bertMask(rows, { maskToken: MASK, vocabSize: VOCAB, seed });
    plain(out.weights).forEach((v, t) => (hits[t] += v));
    tf.dispose([out.inputs, out.targets, out.weights]);
  }
  // round(0.15 * 20) = 3 of 20 per draw: each position Binomial(400, 0.15), mean 60, sd 7.1.
  for (const h of hits) assert.ok(Math.abs(h - 60) <= 4 * Math.sqrt(400 * 0.15 * 0.85), `hits per position ${hits}`);
  const many = tokenRows(8, 16, 2);
  const a = bertMask(many, { maskToken: MASK, vocabSize: VOCAB, seed: 3, special: [PAD, BOS] });
  const asTensor = tf.tensor2d(Int32Array.from(many.flatMap((r) => Array.from(r))), [8, 16], "int32");
  const b = bertMask(asTensor, { maskToken: MASK, vocabSize: VOCAB, seed: 3, special: [PAD, BOS] });
  for (const key of ["inputs", "targets", "weights"] as const) assert.deepEqual(plain(b[key]), plain(a[key]), key);
  const c = bertMask(many, { maskToken: MASK, vocabSize: VOCAB, seed: 4, special: [PAD, BOS] });
  assert.notDeepEqual(plain(c.inputs), plain(a.inputs));
  tf.dispose([asTensor, a.inputs, a.targets, a.weights, b.inputs, b.targets, b.weights, c.inputs, c.targets, c.weights]);
});

test("bertMask: rate 0 chooses nothing, an all-special row nothing, a short row at least one; no tensors left behind", async () => {
  await tf.setBackend("cpu");
  const before = tf.memory().numTensors;
  const rows = [Int32Array.from([PAD, PAD, PAD]), Int32Array.from([5, PAD, PAD]), Int32Array.from([5, 6, 7])];
  const none = bertMask(rows, { maskToken: MASK, vocabSize: VOCAB, seed: 1, rate: 0, special: [PAD] });
  assert.deepEqual(plain(none.weights), new Array(9).fill(0));
  assert.deepEqual(plain(none.inputs), plain(none.targets));
  const some = bertMask(rows, { maskToken: MASK, vocabSize: VOCAB, seed: 1, special: [PAD] });
  const w = plain(some.weights);
  // Row 1 has one eligible position, row 2 three: round(0.15 * 3) = 0, raised to 1.
  assert.deepEqual([0, 1, 2].map((r) => w[3 * r] + w[3 * r + 1] + w[3 * r + 2]), [0, 1, 1]);
  assert.equal(w[3], 1);
  assert.equal(tf.memory().numTensors, before + 6);
  tf.dispose([none.inputs, none.targets, none.weights, some.inputs, some.targets, some.weights]);
  assert.equal(tf.memory().numTensors, before);
});

test("bertMask rejects bad input by name", async () => {
  await tf.setBackend("cpu");
  const ok = { maskToken: MASK, vocabSize: VOCAB, seed: 1 };
  const row = Int32Array.from([4, 5, 6]);
  const before = tf.memory().numTensors;
  const cases: Array<[() => unknown, RegExp]> = [
    [() => bertMask([row, Int32Array.from([4, 5])], ok), /bertMask: tokens\[1\] must have length 3 like tokens\[0\], got an Int32Array of length 2/],
    [() => bertMask([row, [4, 5, 6] as never], ok), /bertMask: tokens\[1\] must be an Int32Array, got \[4,5,6\]/],
    [() => bertMask([Int32Array.from([4, MASK, 6])], ok), /bertMask: tokens\[0\]\[1\] must not be options.maskToken, got 2/],
    [() => bertMask([Int32Array.from([4, 60])], ok), /bertMask: tokens\[0\]\[1\] must be an integer in \[0, 60\), got 60/],
    [() => bertMask([], ok), /bertMask: tokens must have at least one row and one position, got \[\]/],
    [() => bertMask(tf.zeros([2, 3]) as tf.Tensor2D, ok), /bertMask: tokens must be an int32 tensor of shape \[n,d\], got a float32 tensor of shape \[2,3\]/],
    [() => bertMask("abc" as never, ok), /bertMask: tokens must be an int32 tensor \[batch, time\] or an array of Int32Arrays, got "abc"/],
    [() => bertMask([row], { ...ok, maskToken: 60 }), /bertMask: options.maskToken must be an integer in \[0, 60\), got 60/],
    [() => bertMask([row], { ...ok, rate: 1.5 }), /bertMask: options.rate must be a probability in \[0, 1\], got 1.5/],
    [() => bertMask([row], { ...ok, seed: undefined as never }), /bertMask: options.seed must be an integer, got undefined/],
    [() => bertMask([row], { ...ok, special: [61] }), /bertMask: options.special\[0\] must be an integer in \[0, 60\), got 61/],
    [() => bertMask([Int32Array.from([0])], { maskToken: 1, vocabSize: 2, seed: 1, special: [0] }), /bertMask: options.vocabSize must leave at least one id that is neither special nor options.maskToken, got 2/],
    [() => bertMask([row], null as never), /bertMask: options must be an object \{maskToken, vocabSize, seed, rate\?, special\?\}, got null/],
  ];
  for (const [fn, message] of cases) assert.throws(() => tf.tidy(() => { fn(); }), message);
  assert.equal(tf.memory().numTensors, before);
});
