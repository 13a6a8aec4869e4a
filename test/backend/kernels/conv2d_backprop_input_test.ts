import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { registerTrainingKernels, unregisterTrainingKernels } from "../../../src/backend/kernels";
import { createRng } from "../../../src/data/random";
import { phaseAxis } from "../../../src/backend/kernels/conv2d_backprop_input";
import { ConvCase, conv2dInputGradRef, conv2dRef, maxRelError, randomValues } from "./conv_reference";
import {
  CASES,
  CHUNKED_CASE,
  EXPLICIT_CASE,
  TOLERANCE,
  assertOneNewTensor,
  attrsOf,
  caseData,
  inputGrad,
  label,
} from "./conv2d_cases";

// Only wasm gets this kernel: cpu's stock one is as fast as its forward Conv2D.
registerTrainingKernels();

test("Conv2DBackpropInput on wasm matches the float64 reference", async () => {
  await tf.setBackend("wasm");
  CASES.forEach((c, i) => {
    const d = caseData(c, 300 + i);
    const err = maxRelError(inputGrad(d), conv2dInputGradRef(c, d.dy, d.f));
    assert.ok(err < TOLERANCE, `${label(c)}: relative error ${err}`);
  });
});

test("Conv2DBackpropInput on wasm agrees with the stock wasm and cpu kernels (dilation 1)", async () => {
  const cases = CASES.filter((c) => c.dilations[0] === 1 && c.dilations[1] === 1);
  const data = cases.map((c, i) => caseData(c, 350 + i));
  await tf.setBackend("cpu");
  const cpu = data.map(inputGrad);
  await tf.setBackend("wasm");
  unregisterTrainingKernels("wasm");
  const stockWasm = data.map(inputGrad);
  registerTrainingKernels("wasm");
  data.forEach((d, i) => {
    const got = inputGrad(d);
    assert.ok(maxRelError(got, cpu[i]) < TOLERANCE, `cpu ${label(d.c)}`);
    assert.ok(maxRelError(got, stockWasm[i]) < TOLERANCE, `stock wasm ${label(d.c)}`);
  });
});

test("Conv2DBackpropInput on wasm takes NCHW tensors", async () => {
  await tf.setBackend("wasm");
  const c = CASES[EXPLICIT_CASE];
  const d = caseData(c, 400);
  const pad = c.pad as number[][];
  const dx = tf.tidy(() => {
    const dy = tf.tensor4d(d.dy, d.dyShape).transpose([0, 3, 1, 2]);
    const attrs = {
      strides: c.strides, dilations: c.dilations, pad: [[0, 0], [0, 0], pad[1], pad[2]], dataFormat: "NCHW",
      inputShape: [c.x[0], c.x[3], c.x[1], c.x[2]],
    };
    const out = tf.engine().runKernel("Conv2DBackpropInput", { dy, filter: tf.tensor4d(d.f, c.filter) }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    return out.transpose([0, 2, 3, 1]).dataSync();
  });
  assert.ok(maxRelError(dx, conv2dInputGradRef(c, d.dy, d.f)) < TOLERANCE);
});

for (const backend of ["wasm", "cpu"] as const) {
  test(`tf.grads of a conv2d loss on ${backend} match float64 finite differences`, async () => {
    await tf.setBackend(backend);
    // L(x, w) = sum(conv2d(x, w) * r): central differences are exact up to float64 rounding.
    const c: ConvCase = { x: [2, 6, 5, 2], filter: [3, 2, 2, 3], strides: [2, 1], dilations: [1, 1], pad: "same" };
    const d = caseData(c, 500);
    const r = d.dy;
    const loss = (x: ArrayLike<number>, w: ArrayLike<number>) => conv2dRef(c, x, w).reduce((s, v, i) => s + v * r[i], 0);
    const [gx, gw] = tf.tidy(() =>
      tf.grads((x: tf.Tensor, w: tf.Tensor) =>
        tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.strides, c.pad as "same").mul(tf.tensor4d(r, d.dyShape)).sum(),
      )([tf.tensor4d(d.x, c.x), tf.tensor4d(d.f, c.filter)]).map((g) => g.dataSync()),
    );
    const h = 1e-3;
    const check = (values: Float32Array, grad: ArrayLike<number>, isX: boolean) => {
      for (let i = 0; i < values.length; i += 3) {
        const plus = Float64Array.from(values);
        const minus = Float64Array.from(values);
        plus[i] += h;
        minus[i] -= h;
        const fd = isX ? (loss(plus, d.f) - loss(minus, d.f)) / (2 * h) : (loss(d.x, plus) - loss(d.x, minus)) / (2 * h);
        assert.ok(Math.abs(fd - grad[i]) < 1e-4 * Math.max(1, Math.abs(fd)), `${isX ? "x" : "w"}[${i}]: ${grad[i]} vs ${fd}`);
      }
    };
    check(d.x, gx, true);
    check(d.f, gw, false);
  });
}

test("Conv2DBackpropInput on wasm leaves tensor and backend-data counts unchanged", async () => {
  await tf.setBackend("wasm");
  for (const i of [CHUNKED_CASE, 1, 8]) {
    const c = CASES[i];
    const d = caseData(c, 600 + i);
    const dy = tf.tensor4d(d.dy, d.dyShape);
    const f = tf.tensor4d(d.f, c.filter);
    assertOneNewTensor(() => tf.engine().runKernel("Conv2DBackpropInput", { dy, filter: f }, attrsOf(c, { inputShape: c.x })) as tf.Tensor);
    tf.dispose([dy, f]);
  }
});

test("Conv2DBackpropInput on wasm rejects bad input with a message naming kernel and argument", async () => {
  await tf.setBackend("wasm");
  const dy = tf.zeros([2, 7, 5, 4]);
  const f = tf.zeros([3, 3, 3, 4]);
  const dyInt = dy.toInt();
  const run = (inputs: tf.NamedTensorMap, attrs: Record<string, unknown>) => () =>
    tf.engine().runKernel("Conv2DBackpropInput", inputs, { strides: [1, 1], pad: "same", dataFormat: "NHWC", inputShape: [2, 7, 5, 3], ...attrs } as unknown as tf.NamedAttrMap);
  const where = "Conv2DBackpropInput \\(wasm\\)";
  const tensors = tf.memory().numTensors;
  assert.throws(run({ dy, filter: f }, { inputShape: [2, 8, 5, 3] }), new RegExp(`${where}: dy must have shape \\[2,8,5,4\\], got \\[2,7,5,4\\]`));
  assert.throws(run({ dy, filter: f }, { strides: [0, 1] }), new RegExp(`${where}: strides must be a positive integer or a pair of them, got \\[0,1\\]`));
  assert.throws(run({ dy, filter: f }, { dilations: 0 }), new RegExp(`${where}: dilations must be a positive integer or a pair of them, got 0`));
  assert.throws(run({ dy, filter: f }, { pad: "full" }), new RegExp(`${where}: pad must be 'same', 'valid', a non-negative integer or \\[\\[0,0\\],\\[top,bottom\\],\\[left,right\\],\\[0,0\\]\\], got "full"`));
  assert.throws(run({ dy: dyInt, filter: f }, {}), new RegExp(`${where}: dy must be float32, got int32`));
  assert.throws(run({ dy, filter: f }, { inputShape: [2, 7, 5] }), new RegExp(`${where}: x shape must be a rank-4 shape, got \\[2,7,5\\]`));
  assert.equal(tf.memory().numTensors, tensors);
  tf.dispose([dy, f, dyInt]);
});

test("training-mode gradients of a conv net on wasm equal the cpu backend's", async () => {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [9, 9, 2], filters: 4, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        // No bias before batch norm: its gradient would be rounding noise around 0.
        tf.layers.conv2d({ filters: 5, kernelSize: 3, strides: 2, padding: "valid", useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
        tf.layers.batchNormalization({}),
        tf.layers.globalAveragePooling2d({}),
        tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      ],
    });
    const grads = tf.tidy(() => {
      const rng = createRng(9);
      const x = tf.tensor4d(randomValues(4 * 9 * 9 * 2, rng.next), [4, 9, 9, 2]);
      const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 1], "int32"), 3);
      const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
      return Object.values(grads).map((g) => g.dataSync());
    });
    model.dispose();
    return grads;
  };
  const cpu = await run("cpu");
  const wasm = await run("wasm");
  assert.equal(wasm.length, cpu.length);
  wasm.forEach((g, i) => assert.ok(maxRelError(g, cpu[i]) < TOLERANCE, `variable ${i}: ${maxRelError(g, cpu[i])}`));
});

test("phaseAxis: the taps, length and padding of each phase of a strided axis, derived by hand", () => {
  // 28 -> 14, 3 taps, stride 2, 'same' (padTop 0): even rows get dy[i] W[0] + dy[i-1] W[2], odd rows dy[i] W[1].
  assert.deepEqual(phaseAxis(28, 14, 3, 2, 0, 0), { taps: [2, 0], length: 14, cropFront: 0, cropBack: 0, padFront: 1, padBack: 0 });
  assert.deepEqual(phaseAxis(28, 14, 3, 2, 0, 1), { taps: [1], length: 14, cropFront: 0, cropBack: 0, padFront: 0, padBack: 0 });
  // 7 -> 4, padTop 1: even rows (4 of them) get dy[i] W[1]; odd rows (3) dy[i+1] W[0] + dy[i] W[2].
  assert.deepEqual(phaseAxis(7, 4, 3, 2, 1, 0), { taps: [1], length: 4, cropFront: 0, cropBack: 0, padFront: 0, padBack: 0 });
  assert.deepEqual(phaseAxis(7, 4, 3, 2, 1, 1), { taps: [2, 0], length: 3, cropFront: 0, cropBack: 0, padFront: 0, padBack: 0 });
  // A 1x1 filter at stride 2 reaches only the even rows.
  assert.deepEqual(phaseAxis(8, 4, 1, 2, 0, 1).taps, []);
});
