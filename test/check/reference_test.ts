import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { matchesReference, type ReferenceCheck } from "../../src/check/reference";
import { ntXentLoss } from "../../src/losses/nt_xent";
import { stopGradient } from "../../src/losses/ops/stop_gradient";
import { fails, passes } from "./expect";

type Pair = [tf.Tensor2D, tf.Tensor2D];
const N = 8;
const D = 16;
const TAU = 0.5;

/** NT-Xent's spec as an exercise cell would write it, for any student function. */
function ntXentSpec(student: (z1: tf.Tensor2D, z2: tf.Tensor2D) => unknown, more: Partial<ReferenceCheck<Pair>> = {}): ReferenceCheck<Pair> {
  return {
    exercise: "04.1",
    name: "ntXentLoss",
    student,
    reference: (z1, z2) => ntXentLoss(z1, z2, { temperature: TAU }),
    inputs: (seed) => [
      tf.randomNormal([N, D], 0, 1, "float32", 2 * seed + 1) as tf.Tensor2D,
      tf.randomNormal([N, D], 0, 1, "float32", 2 * seed + 2) as tf.Tensor2D,
    ],
    scalar: true,
    gradient: true,
    inputNames: ["z1", "z2"],
    ...more,
  };
}

/** The -log softmax of the positive for each of the 2N anchors, as a student writes it. */
function perAnchorLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, mask = true): tf.Tensor1D {
  const m = 2 * z1.shape[0];
  const z = tf.concat([z1, z2], 0);
  const unit = tf.div(z, tf.norm(z, 2, 1, true));
  const sim = tf.div(tf.matMul(unit, unit, false, true), TAU);
  const logits = mask ? tf.where(tf.cast(tf.eye(m), "bool"), tf.fill([m, m], -1e9), sim) : sim;
  const positives = tf.oneHot(tf.tensor1d(Array.from({ length: m }, (_, i) => (i + m / 2) % m), "int32"), m);
  return tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), positives), 1)) as tf.Tensor1D;
}

/** A correct hand-written NT-Xent. */
function correct(z1: tf.Tensor2D, z2: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(perAnchorLoss(z1, z2)) as tf.Scalar);
}

test("a correct NT-Xent passes, printing one line, and the library's own passes too", async () => {
  await tf.setBackend("cpu");
  const line = passes(() => matchesReference(ntXentSpec(correct)));
  assert.equal(line, "✓ Exercise 04.1: ntXentLoss matches the reference on 3 seeded inputs (values and gradients).");
  // Written inline as in a notebook cell: the input types are inferred from the student's function.
  const valuesOnly = passes(() =>
    matchesReference({
      exercise: "04.1",
      name: "ntXentLoss",
      student: correct,
      reference: (z1, z2) => ntXentLoss(z1, z2, { temperature: TAU }),
      inputs: (seed) => [tf.randomNormal([4, 3], 0, 1, "float32", seed + 1) as tf.Tensor2D, tf.randomNormal([4, 3], 0, 1, "float32", seed + 9) as tf.Tensor2D],
      trials: 1,
    }),
  );
  assert.equal(valuesOnly, "✓ Exercise 04.1: ntXentLoss matches the reference on 1 seeded input (values).");
});

test("threw: the student's own message is quoted, and the engine is left clean", async () => {
  await tf.setBackend("cpu");
  const notYet = () => {
    throw new Error("Exercise 04.1: not implemented yet");
  };
  fails(() => matchesReference(ntXentSpec(notYet)), "threw", [
    'Exercise 04.1: ntXentLoss threw "Exercise 04.1: not implemented yet" on seeded input 0.',
  ]);
  // Throwing halfway, with tensors allocated and a tidy open: all of it is freed.
  const halfway = (z1: tf.Tensor2D, z2: tf.Tensor2D) =>
    tf.tidy(() => {
      tf.concat([z1, z2], 0);
      return tf.matMul(z1, z2);
    });
  fails(() => matchesReference(ntXentSpec(halfway)), "threw", ["ntXentLoss threw ", "on seeded input 0."]);
  const typeError = (z1: tf.Tensor2D) => (undefined as unknown as { shape: number[] }).shape.concat(z1.shape);
  fails(() => matchesReference(ntXentSpec(typeError)), "threw", ['ntXentLoss threw TypeError "Cannot read properties of undefined']);
});

test("type: undefined, a string, a Promise, a number, a disposed tensor, too many tensors", async () => {
  await tf.setBackend("cpu");
  const forgotReturn = (z1: tf.Tensor2D, z2: tf.Tensor2D) => {
    tf.tidy(() => correct(z1, z2));
  };
  fails(() => matchesReference(ntXentSpec(forgotReturn)), "type", [
    "Exercise 04.1: ntXentLoss returned undefined; expected a tf.Tensor (did you forget to return?).",
  ]);
  fails(() => matchesReference(ntXentSpec(() => "loss")), "type", ['ntXentLoss returned "loss"; expected a tf.Tensor.']);
  fails(() => matchesReference(ntXentSpec(async (a, b) => correct(a, b))), "type", ["returned a Promise; expected a tf.Tensor (is it declared async?"]);
  fails(() => matchesReference(ntXentSpec((a, b) => tf.tidy(() => correct(a, b).dataSync()[0]))), "type", [
    "ntXentLoss returned the number 2.997; expected a tf.Tensor (return the tensor itself rather than reading its value out).",
  ]);
  const disposed = (a: tf.Tensor2D, b: tf.Tensor2D) => {
    const loss = correct(a, b);
    loss.dispose();
    return loss;
  };
  fails(() => matchesReference(ntXentSpec(disposed)), "type", ["ntXentLoss returned a tensor that was already disposed; expected a tf.Tensor (a tensor returned from tf.tidy survives it"]);
  fails(() => matchesReference(ntXentSpec((a, b) => [correct(a, b), correct(b, a)])), "type", ["ntXentLoss returned an array of 2 tensors; expected a tf.Tensor."]);
});

test("not-scalar and shape: per-example losses returned instead of their mean", async () => {
  await tf.setBackend("cpu");
  const perExample = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.tidy(() => perAnchorLoss(a, b));
  fails(() => matchesReference(ntXentSpec(perExample)), "not-scalar", [
    "Exercise 04.1: ntXentLoss should return a scalar loss (shape []), got shape [16]: average over the batch.",
  ]);
  fails(() => matchesReference(ntXentSpec(perExample, { scalar: false })), "shape", [
    "Exercise 04.1: ntXentLoss returned shape [16] for inputs of shapes [8,16] and [8,16]; the reference returns [].",
  ]);
});

test("values: forgetting the self-similarity mask", async () => {
  await tf.setBackend("cpu");
  const noMask = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.tidy(() => tf.mean(perAnchorLoss(a, b, false)));
  const message = fails(() => matchesReference(ntXentSpec(noMask)), "values", [
    "Exercise 04.1: ntXentLoss differs from the reference on seeded input 0: error ",
    "; tolerance 1e-4 + 1e-3 * |expected|.",
  ]);
  assert.match(message, /error [\d.]+ \(got [\d.]+, expected [\d.]+\)/);
});

test("nan: masking with 0 * -Infinity makes the loss NaN", async () => {
  await tf.setBackend("cpu");
  const infMask = (a: tf.Tensor2D, b: tf.Tensor2D) =>
    tf.tidy(() => {
      const m = 2 * N;
      const z = tf.concat([a, b], 0);
      const unit = tf.div(z, tf.norm(z, 2, 1, true));
      // The bug: 0 * -Infinity is NaN off the diagonal.
      const logits = tf.add(tf.div(tf.matMul(unit, unit, false, true), TAU), tf.mul(tf.eye(m), -Infinity));
      const positives = tf.oneHot(tf.tensor1d(Array.from({ length: m }, (_, i) => (i + N) % m), "int32"), m);
      return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), positives), 1)));
    });
  fails(() => matchesReference(ntXentSpec(infMask)), "nan", ["Exercise 04.1: ntXentLoss returned NaN for seeded input 0 (the reference is finite there)."]);
});

test("gradient: a wrong custom gradient, a stopped gradient, values read out of the tape", async () => {
  await tf.setBackend("cpu");
  // A hand-derived gradient that is wrong: as if the loss were linear in z1 and z2.
  const wrongGradient = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([a, b]);
    return { value: correct(a, b), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => saved.map((x) => tf.mul(dy, x)) };
  });
  const message = fails(() => matchesReference(ntXentSpec((a, b) => wrongGradient(a, b))), "gradient", [
    "Exercise 04.1: ntXentLoss has the right values but its gradient with respect to z1 differs on seeded input 0 at ",
    " of 128 positions: max error ",
    "; tolerance 1e-4 + 1e-3 * |expected|.",
  ]);
  assert.match(message, /max error [\d.e-]+ at \[\d,\d+\] \(got -?[\d.e-]+, expected -?[\d.e-]+\)/);

  // A gradient that is NaN, as from sqrt at 0 in a hand-derived norm.
  const nanGradient = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [a, b] = args as [tf.Tensor2D, tf.Tensor2D];
    return { value: correct(a, b), gradFunc: () => [tf.fill(a.shape, NaN), tf.zerosLike(b)] };
  });
  fails(() => matchesReference(ntXentSpec((a, b) => nanGradient(a, b))), "gradient", [
    "Exercise 04.1: ntXentLoss has the right values but its gradient with respect to z1 is NaN at [0,0] on seeded input 0 (the reference's is finite there).",
  ]);

  // Half the loss behind a stop-gradient: the right value, half the gradient.
  const halfStopped = (a: tf.Tensor2D, b: tf.Tensor2D) =>
    tf.tidy(() => {
      const half = tf.mul(correct(a, b), 0.5);
      return tf.add(half, stopGradient(half));
    });
  fails(() => matchesReference(ntXentSpec(halfStopped)), "gradient", ["ntXentLoss has the right values but its gradient with respect to z1 differs on seeded input 0"]);

  const stoppedZ2 = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.tidy(() => correct(a, stopGradient(b)));
  fails(() => matchesReference(ntXentSpec(stoppedZ2)), "gradient", ["has the right values but its gradient with respect to z2 differs on seeded input 0", "(got 0, expected "]);

  const readOut = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.scalar(tf.tidy(() => correct(a, b)).dataSync()[0]);
  fails(() => matchesReference(ntXentSpec(readOut, { trials: 1 })), "gradient", [
    "ntXentLoss has the right values but no gradient flows back to z1 on seeded input 0 (did you read values out with dataSync",
  ]);
});

test("gradient: a custom gradient that throws is reported, and the tape it leaves is freed", async () => {
  await tf.setBackend("cpu");
  const broken = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [a, b] = args as [tf.Tensor2D, tf.Tensor2D];
    return {
      value: correct(a, b),
      gradFunc: () => {
        throw new Error("gradient not written yet");
      },
    };
  });
  fails(() => matchesReference(ntXentSpec((a, b) => broken(a, b))), "gradient", [
    'ntXentLoss has the right values but tf.grads could not differentiate it on seeded input 0: "gradient not written yet".',
  ]);
  assert.equal(tf.engine().state.activeTape, null);
});

test("leak: intermediates left allocated are counted on the first seeded input, and freed by the check", async () => {
  await tf.setBackend("cpu");
  const leaky = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.mean(perAnchorLoss(a, b));
  const message = fails(() => matchesReference(ntXentSpec(leaky)), "leak", [
    "Exercise 04.1: ntXentLoss leaves ",
    " tensors allocated per call: wrap its work in tf.tidy or dispose intermediates.",
  ]);
  // Everything perAnchorLoss allocates, less the mean returned.
  const before = tf.memory().numTensors;
  const [a, b] = [tf.zeros([N, D]) as tf.Tensor2D, tf.ones([N, D]) as tf.Tensor2D];
  const loss = leaky(a, b);
  const allocated = tf.memory().numTensors - before - 3;
  tf.dispose([a, b, loss]);
  assert.ok(message.includes(`leaves ${allocated} tensors`), `${allocated}: ${message}`);
  // A mistake in the values is reported before the leak.
  const leakyNoMask = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.mean(perAnchorLoss(a, b, false));
  fails(() => matchesReference(ntXentSpec(leakyNoMask)), "values", ["ntXentLoss differs from the reference on seeded input 0"]);
  // A leak of one tensor is singular.
  const oneLeak = (x: tf.Tensor2D, y: tf.Tensor2D) => {
    tf.zeros([2]);
    return correct(x, y);
  };
  fails(() => matchesReference(ntXentSpec(oneLeak)), "leak", ["ntXentLoss leaves 1 tensor allocated per call"]);
  // A variable created and dropped counts (with its initial value), and the check disposes it.
  const variableLeak = (x: tf.Tensor2D, y: tf.Tensor2D) => {
    tf.variable(tf.zeros([2]));
    return correct(x, y);
  };
  const variables = Object.keys(tf.engine().registeredVariables).length;
  fails(() => matchesReference(ntXentSpec(variableLeak)), "leak", ["ntXentLoss leaves 2 tensors allocated per call"]);
  assert.equal(Object.keys(tf.engine().registeredVariables).length, variables);
});

test("a check leaves alone the tensors it did not create", async () => {
  await tf.setBackend("cpu");
  const shared = tf.randomNormal([N, D], 0, 1, "float32", 5) as tf.Tensor2D;
  const constant = tf.scalar(1);
  // Inputs that reuse an existing tensor, and a student that returns an existing one.
  const spec = ntXentSpec(() => constant, {
    inputs: (seed) => [shared, tf.randomNormal([N, D], 0, 1, "float32", seed + 1) as tf.Tensor2D],
    reference: () => tf.scalar(1),
    gradient: false,
  });
  passes(() => matchesReference(spec));
  assert.ok(!shared.isDisposed && !constant.isDisposed);
  tf.dispose([shared, constant]);
});

test("an array of outputs: the failing one is named", async () => {
  await tf.setBackend("cpu");
  const reference = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.tidy(() => [tf.add(a, b), tf.sub(a, b), tf.mul(a, b)]);
  const spec = (student: (a: tf.Tensor2D, b: tf.Tensor2D) => unknown) => ntXentSpec(student, { name: "combine", reference, scalar: false });
  passes(() => matchesReference(spec(reference)));
  const wrongSecond = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.tidy(() => [tf.add(a, b), tf.sub(b, a), tf.mul(a, b)]);
  fails(() => matchesReference(spec(wrongSecond)), "values", ["combine differs from the reference in output 2 of 3 on seeded input 0 at 128 of 128 positions: max error "]);
  const shortThird = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.tidy(() => [tf.add(a, b), tf.sub(a, b), tf.sum(tf.mul(a, b), 1)]);
  fails(() => matchesReference(spec(shortThird)), "shape", ["combine returned shape [8] as output 3 of 3 for inputs of shapes [8,16] and [8,16]; the reference returns [8,16]."]);
  fails(() => matchesReference(spec((a, b) => tf.tidy(() => [tf.add(a, b)]))), "type", ["combine returned an array of 1 tensor; expected an array of 3 tf.Tensors."]);
});

/** NT-Xent's logits with the self-similarities masked out: the mask exercise, with an output that has positions. */
function maskedLogits(sim: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.add(sim, tf.mul(tf.eye(sim.shape[0]), -1e9)) as tf.Tensor2D);
}

test("nan and values in a matrix output name the position", async () => {
  await tf.setBackend("cpu");
  const spec = (student: (sim: tf.Tensor2D) => unknown): ReferenceCheck<[tf.Tensor2D]> => ({
    exercise: "04.2",
    name: "maskSelf",
    student,
    reference: maskedLogits,
    inputs: (seed) => [tf.randomUniform([6, 6], -2, 2, "float32", seed) as tf.Tensor2D],
    inputNames: ["sim"],
    gradient: true,
  });
  passes(() => matchesReference(spec(maskedLogits)));
  const infinite = (sim: tf.Tensor2D) => tf.tidy(() => tf.where(tf.cast(tf.eye(6), "bool"), tf.fill([6, 6], -Infinity), sim));
  fails(() => matchesReference(spec(infinite)), "nan", ["Exercise 04.2: maskSelf returned -Infinity at [0,0] for seeded input 0 (the reference is finite there)."]);
  // An off-by-one loop that leaves the last diagonal element unmasked.
  const offByOne = (sim: tf.Tensor2D) =>
    tf.tidy(() => {
      const mask = tf.tensor2d(Array.from({ length: 6 }, (_, i) => Array.from({ length: 6 }, (_, j) => (i === j && i < 5 ? -1e9 : 0))));
      return tf.add(sim, mask);
    });
  fails(() => matchesReference(spec(offByOne)), "values", [
    "Exercise 04.2: maskSelf differs from the reference on seeded input 0 at 1 of 36 positions: max error 1e9 at [5,5] (got ",
    ", expected -1e9); tolerance 1e-4 + 1e-3 * |expected|.",
  ]);
});
