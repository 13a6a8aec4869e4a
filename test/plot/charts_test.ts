import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { barChart, emaSmooth, heatmap, lineChart, scatter2d } from "../../src/plot";
import { readValues, shortestFloat32 } from "../../src/plot/values";
import { createRng } from "../../src/data/random";

type AnyTrace = Record<string, any>;

test("shortestFloat32: round-trips every float32 in at most 9 digits, usually fewer", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(7);
  let shorter = 0;
  for (let i = 0; i < 5000; i++) {
    const v = Math.fround((rng.next() - 0.5) * Math.pow(10, rng.int(12) - 6));
    const s = shortestFloat32(v);
    assert.equal(Math.fround(s), v);
    assert.ok(String(s).replace(/^-?0\.0*|[-.]|e.*$/g, "").length <= 9, `${v} -> ${s}`);
    if (String(s).length < String(v).length) shorter++;
  }
  assert.ok(shorter > 4000, `most values get shorter, got ${shorter} of 5000`);
  assert.equal(shortestFloat32(Math.fround(0.1)), 0.1);
  assert.ok(Number.isNaN(shortestFloat32(NaN)));
});

test("readValues: shapes, validation and no tensor leaks", () => {
  const t = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  const before = tf.memory().numTensors;
  assert.deepEqual(readValues(t, "f", "m"), { values: [1, 2, 3, 4, 5, 6], shape: [2, 3] });
  assert.deepEqual(readValues([[1, 2], [3, 4]], "f", "m"), { values: [1, 2, 3, 4], shape: [2, 2] });
  assert.deepEqual(readValues(new Int32Array([1, 2, 3, 4, 5, 6]), "f", "m", { shape: [3, 2] }).shape, [3, 2]);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => readValues([[1, 2], [3]], "heatmap", "matrix"), /heatmap: matrix rows must all have length 2 \(row 0\), got length 1 at row 1/);
  assert.throws(() => readValues(new Float32Array(5), "f", "m", { shape: [2, 3] }), /f: m of Float32Array of length 5 does not have shape \[2,3\] \(6 values\)/);
  assert.throws(() => readValues(t, "f", "m", { rank: 1 }), /f: m must have rank 1, got tf.Tensor of shape \[2,3\] \(float32\)/);
  assert.throws(() => readValues([1, "a"] as never, "f", "m"), /f: m\[1\] must be a number, got string/);
  assert.throws(() => readValues("x" as never, "f", "m"), /f: m must be a tf.Tensor, a typed array or an array of numbers, got string/);
  t.dispose();
  assert.throws(() => readValues(t, "f", "m"), /f: m is a disposed tensor/);
});

test("lineChart: series, x values, smoothing against a float64 EMA, non-finite values named", () => {
  const y = tf.tensor1d([4, 2, 3, 1, 0.5]);
  const before = tf.memory().numTensors;
  const fig = lineChart(
    [{ name: "a", y }, { name: "b", y: [1, NaN, 2], x: [10, 20, 30] }],
    { smoothing: 0.5, logY: true, title: "loss" },
  );
  assert.equal(tf.memory().numTensors, before);
  const traces = fig.data as AnyTrace[];
  assert.equal(traces.length, 4, "raw + smoothed for each series");
  assert.deepEqual(traces[0].y, [4, 2, 3, 1, 0.5]);
  assert.deepEqual(traces[0].x, [0, 1, 2, 3, 4]);
  // Reference: debiased EMA, w = 0.5: s_t = (sum_k w^(t-k) (1-w) y_k) / (1 - w^(t+1)).
  const ref = [4, 2, 3, 1, 0.5].map((_, t, ys) => {
    let num = 0;
    for (let k = 0; k <= t; k++) num += Math.pow(0.5, t - k) * 0.5 * ys[k];
    return num / (1 - Math.pow(0.5, t + 1));
  });
  (traces[1].y as number[]).forEach((v, i) => assert.ok(Math.abs(v - ref[i]) < 1e-6, `smoothed[${i}] ${v} vs ${ref[i]}`));
  assert.equal(traces[1].name, "a");
  assert.equal(traces[3].name, "b (1 non-finite not drawn)");
  assert.deepEqual(traces[2].x, [10, 20, 30]);
  assert.ok(Number.isNaN(traces[2].y[1]));
  assert.equal((fig.layout.yaxis as AnyTrace).type, "log");
  assert.equal(traces[0].line.color, traces[1].line.color, "raw and smoothed share a colour");
  assert.notEqual(traces[1].line.color, traces[3].line.color);
  // A bare array is one series.
  assert.equal(lineChart(new Float32Array([1, 2])).data.length, 1);
  assert.throws(() => lineChart({ y: [1, 2, 3], x: [0, 1] }), /lineChart: series\[0\].x \(y\) must have shape \[3\], got \[2\]/);
  assert.throws(() => lineChart({ y: [1, 2], x: [0, Infinity] }), /lineChart: series\[0\].x \(y\) must be finite, got Infinity at flat index 1/);
  assert.throws(() => lineChart([1, 2], { smoothing: 1 }), /lineChart: options\.smoothing must be a number in \[0, 1\), got 1/);
  assert.throws(() => lineChart({ y: tf.zeros([2, 2]) as tf.Tensor }), /lineChart: series\[0\].y \(y\) must have rank 1, got tf.Tensor of shape \[2,2\]/);
  assert.deepEqual(emaSmooth([2], 0.9), [2]);
  y.dispose();
});

test("scatter2d: one trace per class holding exactly that class's points", () => {
  const rng = createRng(3);
  const n = 200;
  const pts = Array.from({ length: n }, () => [rng.normal(), rng.normal()]);
  const labels = Array.from({ length: n }, () => rng.int(4));
  const points = tf.tensor2d(pts);
  const labelTensor = tf.tensor1d(labels, "int32");
  const before = tf.memory().numTensors;
  const fig = scatter2d(points, { labels: labelTensor, classNames: ["zero", "one", "two", "three"], title: "pca" });
  assert.equal(tf.memory().numTensors, before);
  const traces = fig.data as AnyTrace[];
  assert.deepEqual(traces.map((t) => t.name), ["zero", "one", "two", "three"]);
  for (let c = 0; c < 4; c++) {
    const want = pts.filter((_, i) => labels[i] === c).map((p) => p.map((v) => Math.fround(v)));
    const got = (traces[c].x as number[]).map((x, i) => [Math.fround(x), Math.fround(traces[c].y[i])]);
    assert.deepEqual(got, want, `class ${c}`);
  }
  assert.equal((fig.layout.yaxis as AnyTrace).scaleanchor, "x");
  // Strings keep first-appearance order; flat input is x0, y0, x1, y1.
  const byName = scatter2d(new Float32Array([0, 1, 2, 3, 4, 5]), { labels: ["cat", "dog", "cat"] });
  assert.deepEqual((byName.data as AnyTrace[]).map((t) => [t.name, t.x, t.y]), [["cat", [0, 4], [1, 5]], ["dog", [2], [3]]]);
  assert.throws(() => scatter2d(tf.zeros([5, 3]) as tf.Tensor), /scatter2d: points must have shape \[n, 2\], got \[5,3\]/);
  assert.throws(() => scatter2d([1, 2, 3]), /scatter2d: points given flat must hold 2n values \(x0, y0, x1, y1, \.\.\.\), got length 3/);
  assert.throws(() => scatter2d(points, { labels: labels.slice(1) }), /scatter2d: options.labels must have shape \[200\], got \[199\]/);
  assert.throws(() => scatter2d(points, { labels, classNames: ["a", "b"] }), /scatter2d: options.classNames has 2 names, but labels hold class id 2/);
  assert.throws(() => scatter2d([[0, NaN]]), /scatter2d: points must be finite, got NaN at flat index 1/);
  assert.throws(() => scatter2d([[0, 1]], { labels: [0.5] }), /scatter2d: options.labels must hold integer class ids or strings, got 0.5 at index 0/);
  points.dispose();
  labelTensor.dispose();
});

test("heatmap: shape validation errors name the argument and both shapes", () => {
  const m = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  const before = tf.memory().numTensors;
  const fig = heatmap(m, { xLabels: [0, 1, 2], yLabels: ["r0", "r1"], title: "m" });
  assert.equal(tf.memory().numTensors, before);
  const trace = fig.data[0] as AnyTrace;
  assert.deepEqual(trace.z, [[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(trace.x, ["0", "1", "2"]);
  assert.equal(trace.texttemplate, "%{z:d}", "integer matrix written as integers");
  assert.equal((fig.layout.yaxis as AnyTrace).autorange, "reversed", "row 0 on top");
  assert.equal((fig.layout.xaxis as AnyTrace).type, "category");
  assert.throws(() => heatmap(m, { xLabels: ["a", "b"] }), /heatmap: options.xLabels must have shape \[3\] \(matrix columns\), got \[2\]/);
  assert.throws(() => heatmap(m, { yLabels: ["a", "b", "c"] }), /heatmap: options.yLabels must have shape \[2\] \(matrix rows\), got \[3\]/);
  assert.throws(() => heatmap(new Float32Array(6)), /heatmap: matrix must have shape \[rows, cols\], got \[6\] \(give options.shape for a flat array\)/);
  assert.throws(() => heatmap(tf.zeros([2, 2, 2]) as tf.Tensor), /heatmap: matrix must have shape \[rows, cols\], got \[2,2,2\]/);
  assert.throws(() => heatmap(new Float32Array(6), { shape: [4, 2] }), /heatmap: matrix of Float32Array of length 6 does not have shape \[4,2\] \(8 values\)/);
  assert.throws(() => heatmap([[1, NaN]]), /heatmap: matrix must be finite, got NaN at flat index 1/);
  assert.throws(() => heatmap(m, { zmin: 1, zmax: 0 }), /heatmap: options.zmin must be < options.zmax, got 1 and 0/);
  const flat = heatmap(new Float32Array([0.5, 0.25, 0.125, 1]), { shape: [2, 2] });
  assert.deepEqual((flat.data[0] as AnyTrace).z, [[0.5, 0.25], [0.125, 1]]);
  assert.equal((flat.data[0] as AnyTrace).texttemplate, "%{z:.2f}");
  assert.equal((flat.layout.yaxis as AnyTrace).scaleanchor, "x", "square matrix, square cells");
  m.dispose();
});

test("barChart: grouped series with error bars; shape errors", () => {
  const acc = tf.tensor1d([0.86, 0.79, 0.93]);
  const before = tf.memory().numTensors;
  const fig = barChart(["raw", "random", "SimCLR"], [{ name: "probe", values: acc, errors: [0.01, 0.02, 0.005] }, { name: "kNN", values: [0.9, 0.8, 0.95] }], { valueRange: [0, 1] });
  assert.equal(tf.memory().numTensors, before);
  const traces = fig.data as AnyTrace[];
  assert.deepEqual(traces.map((t) => t.name), ["probe", "kNN"]);
  assert.deepEqual(traces[0].x, ["raw", "random", "SimCLR"]);
  assert.deepEqual(traces[0].y, [0.86, 0.79, 0.93]);
  assert.deepEqual(traces[0].error_y.array, [0.01, 0.02, 0.005]);
  assert.equal(traces[1].error_y, undefined);
  assert.equal(traces[0].texttemplate, "%{y:.3f}");
  assert.deepEqual((fig.layout.yaxis as AnyTrace).range, [0, 1]);
  const horizontal = barChart(["a", "b"], [1200, 3400], { horizontal: true });
  assert.deepEqual((horizontal.data[0] as AnyTrace).x, [1200, 3400]);
  assert.equal((horizontal.data[0] as AnyTrace).texttemplate, "%{x:d}");
  assert.throws(() => barChart(["a", "b"], [1, 2, 3]), /barChart: series\[0\].values \(value\) must have shape \[2\], got \[3\]/);
  assert.throws(() => barChart(["a"], { values: [1], errors: [-1] }), /barChart: series\[0\].errors \(value\) must be finite and >= 0, got -1 at index 0/);
  assert.throws(() => barChart([], [1]), /barChart: categories must be a non-empty array of names, got \[\]/);
  acc.dispose();
});
