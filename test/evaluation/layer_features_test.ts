import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { layerFeatures } from "../../src/evaluation/layer_features";
import { smallCnnEncoder } from "../../src/models/encoders";
import { at, conv, relu, type Act } from "../models/nhwc_reference";

/** conv3x3(3, relu) -> maxpool2 -> conv3x3(4, relu) -> global average pool -> dense(5): layers 0..4. */
function smallModel(seed: number): tf.Sequential {
  const init = (k: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.5, seed: seed * 10 + k });
  return tf.sequential({
    name: "probe_net",
    layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 3, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: init(1), biasInitializer: init(2), name: "first_conv" }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: init(3), biasInitializer: init(4), name: "second_conv" }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: 5, kernelInitializer: init(5), biasInitializer: init(6), name: "out" }),
    ],
  });
}

const weightsOf = (layer: tf.layers.Layer): Float64Array[] => layer.getWeights().map((w) => Float64Array.from(w.dataSync()));

function maxPool2(a: Act): Act {
  const out: Act = { n: a.n, h: a.h / 2, w: a.w / 2, c: a.c, v: new Float64Array((a.n * a.h * a.w * a.c) / 4) };
  for (let n = 0; n < a.n; n++)
    for (let y = 0; y < out.h; y++)
      for (let x = 0; x < out.w; x++)
        for (let c = 0; c < a.c; c++) {
          out.v[at(out, n, y, x, c)] = Math.max(
            a.v[at(a, n, 2 * y, 2 * x, c)], a.v[at(a, n, 2 * y + 1, 2 * x, c)], a.v[at(a, n, 2 * y, 2 * x + 1, c)], a.v[at(a, n, 2 * y + 1, 2 * x + 1, c)]);
        }
  return out;
}

/** Mean over rows and columns: `[n, h, w, c]` -> n rows of c. */
function spatialMean(a: Act): number[][] {
  return Array.from({ length: a.n }, (_, n) => Array.from({ length: a.c }, (_, c) => {
    let s = 0;
    for (let y = 0; y < a.h; y++) for (let x = 0; x < a.w; x++) s += a.v[at(a, n, y, x, c)];
    return s / (a.h * a.w);
  }));
}

function assertClose(got: tf.Tensor, want: number[][], tol: number, what: string): void {
  const g = got.arraySync() as number[][];
  assert.deepEqual(got.shape, [want.length, want[0].length], what);
  let err = 0;
  g.forEach((row, i) => row.forEach((v, j) => { err = Math.max(err, Math.abs(v - want[i][j])); }));
  assert.ok(err < tol, `${what}: max error ${err}`);
}

test("layerFeatures: pooled activations of the first and second conv and the dense output equal a float64 computation", async () => {
  await tf.setBackend("cpu");
  const model = smallModel(1);
  const rng = createRng(3);
  const pixels = Float64Array.from({ length: 5 * 36 }, () => rng.next());
  const x = tf.tensor4d(Float32Array.from(pixels), [5, 6, 6, 1]);
  const [k1, b1] = weightsOf(model.layers[0]);
  const [k2, b2] = weightsOf(model.layers[2]);
  const [kd, bd] = weightsOf(model.layers[4]);
  const a1 = relu(conv({ n: 5, h: 6, w: 6, c: 1, v: pixels }, k1, 3, 3, { bias: b1 }));
  const a2 = relu(conv(maxPool2(a1), k2, 3, 4, { bias: b2 }));
  const pooled2 = spatialMean(a2);
  const dense = pooled2.map((h) => Array.from({ length: 5 }, (_, o) => bd[o] + h.reduce((s, v, i) => s + v * kd[i * 5 + o], 0)));
  const before = tf.memory().numTensors;
  const cases: Array<[string | number, number[][]]> = [[0, spatialMean(a1)], ["first_conv", spatialMean(a1)], [2, pooled2], ["second_conv", pooled2], [3, pooled2], [-1, dense], [4, dense]];
  for (const [which, want] of cases) {
    const got = layerFeatures(model, which, x);
    assertClose(got, want, 1e-5, `layer ${which}`);
    got.dispose();
  }
  // In passes of 2 rows: the same numbers.
  const batched = layerFeatures(model, 2, x, { batchSize: 2 });
  assertClose(batched, pooled2, 1e-5, "batchSize 2");
  batched.dispose();
  assert.equal(tf.memory().numTensors, before, "only the results, which were disposed, are left");
  x.dispose();
  model.dispose();
});

test("layerFeatures with a grid: each conv map averaged over grid x grid cells, cell-major, equals a float64 computation", async () => {
  await tf.setBackend("cpu");
  const model = smallModel(2);
  const rng = createRng(8);
  const pixels = Float64Array.from({ length: 2 * 36 }, () => rng.next());
  const x = tf.tensor4d(Float32Array.from(pixels), [2, 6, 6, 1]);
  const [k1, b1] = weightsOf(model.layers[0]);
  const a1 = relu(conv({ n: 2, h: 6, w: 6, c: 1, v: pixels }, k1, 3, 3, { bias: b1 }));
  for (const grid of [2, 3]) {
    const side = 6 / grid;
    const want = Array.from({ length: 2 }, (_, n) => {
      const row: number[] = [];
      for (let gy = 0; gy < grid; gy++) for (let gx = 0; gx < grid; gx++) for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let y = 0; y < side; y++) for (let x2 = 0; x2 < side; x2++) s += a1.v[at(a1, n, gy * side + y, gx * side + x2, c)];
        row.push(s / (side * side));
      }
      return row;
    });
    const got = layerFeatures(model, "first_conv", x, { grid });
    assertClose(got, want, 1e-5, `grid ${grid}`);
    got.dispose();
  }
  // A dense layer ignores the grid; a grid that does not divide the map is refused.
  tf.tidy(() => assert.deepEqual(layerFeatures(model, -1, x, { grid: 2 }).shape, [2, 5]));
  assert.throws(() => layerFeatures(model, 0, x, { grid: 4 }), /layerFeatures: options.grid must divide the 6x6 map of layer first_conv, got 4/);
  assert.throws(() => layerFeatures(model, 0, x, { grid: 0 }), /layerFeatures: options.grid must be a positive integer, got 0/);
  x.dispose();
  model.dispose();
});

test("layerFeatures probes smallCnnEncoder at each depth, runs in inference mode, and takes a functional model", async () => {
  await tf.setBackend("cpu");
  const encoder = smallCnnEncoder({ seed: 2, channels: [4, 6, 8] });
  const x = tf.randomUniform([3, 28, 28, 1], 0, 1, "float32", 5) as tf.Tensor4D;
  const dims = [0, 1, 2, 3, 4, 5].map((l) => tf.tidy(() => layerFeatures(encoder, l, x).shape));
  assert.deepEqual(dims, [[3, 4], [3, 4], [3, 6], [3, 6], [3, 8], [3, 8]]);
  // The last layer is the encoder's output: equal to the encoder itself.
  tf.tidy(() => {
    const diff = tf.max(tf.abs(tf.sub(layerFeatures(encoder, -1, x), encoder.predict(x) as tf.Tensor))).dataSync()[0];
    assert.ok(diff < 1e-6, `last layer vs predict: ${diff}`);
  });
  // A functional model with BatchNorm: inference mode uses the moving statistics (zero mean, unit variance at init).
  const input = tf.input({ shape: [4, 4, 2] });
  const bn = tf.layers.batchNormalization({ name: "bn", betaInitializer: "ones" }).apply(input) as tf.SymbolicTensor;
  const functional = tf.model({ inputs: input, outputs: tf.layers.globalAveragePooling2d({}).apply(bn) as tf.SymbolicTensor });
  const z = tf.randomNormal([2, 4, 4, 2], 3, 2, "float32", 1);
  tf.tidy(() => {
    const got = layerFeatures(functional, "bn", z);
    const want = tf.add(tf.div(tf.mean(z, [1, 2]), Math.sqrt(1 + 1e-3)), 1);
    assert.ok(tf.max(tf.abs(tf.sub(got, want))).dataSync()[0] < 1e-5);
  });
  tf.dispose([x, z]);
  encoder.dispose();
  functional.dispose();
});

test("layerFeatures rejects a bad model, layer or input", async () => {
  await tf.setBackend("cpu");
  const model = smallModel(1);
  const x = tf.zeros([2, 6, 6, 1]);
  const bad: Array<[() => unknown, RegExp]> = [
    [() => layerFeatures({} as never, 0, x), /layerFeatures: model must be a tf.LayersModel, got an object/],
    [() => layerFeatures(model, 5, x), /layerFeatures: layerNameOrIndex must be a layer name or an integer in \[-5, 5\), got 5/],
    [() => layerFeatures(model, 1.5, x), /layerFeatures: layerNameOrIndex must be a layer name or an integer in \[-5, 5\), got 1.5/],
    [() => layerFeatures(model, "third_conv", x), /layerFeatures: layerNameOrIndex must name a layer of probe_net \(first_conv, .*\), got "third_conv"/],
    [() => layerFeatures(model, 0, [1, 2] as never), /layerFeatures: images must be a tensor \[n, \.\.\.inputShape\], got \[1,2\]/],
  ];
  for (const [call, message] of bad) assert.throws(call, message);
  x.dispose();
  model.dispose();
});
