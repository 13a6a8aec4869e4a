import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { histogram } from "../../src/plot/histogram";
import { createRng } from "../../src/data/random";
import { shortestFloat32 } from "../../src/plot/values";

type AnyTrace = Record<string, any>;

/** Plain counts: value v falls in bin k when lo + k w <= v < lo + (k+1) w, the top edge in the last bin. */
function plainCounts(values: number[], lo: number, hi: number, bins: number): number[] {
  const w = (hi - lo) / bins;
  const counts = new Array(bins).fill(0);
  for (const v of values) {
    let k = 0;
    while (k < bins - 1 && v >= (k + 1 === bins ? hi : lo + (k + 1) * w)) k++;
    counts[k]++;
  }
  return counts;
}

test("histogram: counts per bin match a plain computation, on bins shared by every series, from tensors and arrays without leaks", async () => {
  await tf.setBackend("cpu");
  const rng = createRng(3);
  const a = Array.from({ length: 500 }, () => rng.normal() * 0.3);
  const b = Array.from({ length: 130 }, () => 0.5 + rng.normal() * 0.1);
  const ta = tf.tensor1d(a);
  const before = tf.memory().numTensors;
  const fig = histogram([{ name: "queue", values: ta }, { name: "synthetic", values: Float64Array.from(b) }], { bins: 25, normalize: "count", title: "negatives", xTitle: "cosine" });
  assert.equal(tf.memory().numTensors, before);
  const traces = fig.data as AnyTrace[];
  assert.deepEqual(traces.map((t) => t.name), ["queue", "synthetic"]);
  // A float32 tensor is binned as the values plot helpers read from it (values.ts: the shortest decimal of each float32).
  const af = a.map((v) => shortestFloat32(Math.fround(v)));
  const all = [...af, ...b];
  const [lo, hi] = [Math.min(...all), Math.max(...all)];
  assert.deepEqual(traces[0].y, plainCounts(af, lo, hi, 25));
  assert.deepEqual(traces[1].y, plainCounts(b, lo, hi, 25));
  assert.equal(traces[0].y.reduce((s: number, c: number) => s + c, 0), 500, "every value is counted, the extremes included");
  assert.deepEqual(traces[0].x, traces[1].x, "shared bin centres");
  assert.equal(traces[0].width, traces[1].width);
  assert.ok(Math.abs(traces[0].width - (hi - lo) / 25) < 1e-12);
  assert.ok(Math.abs(traces[0].x[0] - (lo + traces[0].width / 2)) < 1e-12);
  assert.deepEqual(traces[1].customdata.map((c: number[]) => c[2]), traces[1].y);
  assert.equal(traces[0].customdata[24][1], hi);
  assert.equal(fig.layout.barmode, "overlay");
  assert.equal(fig.layout.showlegend, true);
  assert.ok(traces.every((t) => t.opacity > 0 && t.opacity < 1), "overlapping series are see-through");
  assert.deepEqual((fig.layout.yaxis as AnyTrace).title, { text: "count" });
  assert.deepEqual(fig.layout.title, { text: "negatives" });
  ta.dispose();
});

test("histogram: values on bin edges and a fixed range count as [low, high), the top edge in the last bin", () => {
  const fig = histogram({ name: "edges", values: [0, 0.25, 0.5, 0.75, 1, 1, 0.1] }, { range: [0, 1], bins: 4, normalize: "count" });
  assert.deepEqual((fig.data[0] as AnyTrace).y, [2, 1, 1, 3]);
  assert.deepEqual((fig.data[0] as AnyTrace).x, [0.125, 0.375, 0.625, 0.875]);
  assert.equal(fig.layout.showlegend, false);
  // One distinct value: a unit-wide range around it.
  const flat = histogram([2, 2, 2], { bins: 2, normalize: "count" }).data[0] as AnyTrace;
  assert.deepEqual(flat.x, [1.75, 2.25]);
  assert.deepEqual(flat.y, [0, 3]);
});

test("histogram: probability heights sum to 1 and densities integrate to 1 per series, whatever its size", () => {
  const rng = createRng(9);
  const small = Array.from({ length: 37 }, () => rng.next());
  const large = new Float32Array(Array.from({ length: 1000 }, () => rng.next() * 2 - 0.5));
  const series = [{ name: "small", values: small }, { name: "large", values: large }];
  const probability = histogram(series).data as AnyTrace[];
  assert.equal(probability[0].y.length, 40, "40 bins by default");
  for (const t of probability) assert.ok(Math.abs(t.y.reduce((s: number, v: number) => s + v, 0) - 1) < 1e-12, `${t.name} sums to 1`);
  const density = histogram(series, { normalize: "density", range: [-1, 2], bins: 30 });
  for (const t of density.data as AnyTrace[]) {
    assert.ok(Math.abs(t.y.reduce((s: number, v: number) => s + v * t.width, 0) - 1) < 1e-12, `${t.name} integrates to 1`);
    assert.ok(Math.abs(t.width - 0.1) < 1e-12);
  }
  assert.deepEqual((density.layout.yaxis as AnyTrace).title, { text: "density" });
  // Probability is count / n, bin by bin.
  const counts = histogram(series, { normalize: "count" }).data as AnyTrace[];
  counts.forEach((t, s) => t.y.forEach((c: number, k: number) => assert.ok(Math.abs(c / t.y.reduce((x: number, y: number) => x + y, 0) - probability[s].y[k]) < 1e-12)));
});

test("histogram: markers are dashed vertical lines with labels, inside the x range", () => {
  const fig = histogram([0.1, 0.2, 0.3], { markers: [{ x: 0.2, name: "mean" }, { x: 0.9 }], opacity: 0.4, yTitle: "share" });
  const shapes = fig.layout.shapes as AnyTrace[];
  assert.deepEqual(shapes.map((s) => [s.x0, s.x1, s.yref, s.line.dash]), [[0.2, 0.2, "paper", "dash"], [0.9, 0.9, "paper", "dash"]]);
  assert.deepEqual((fig.layout.annotations as AnyTrace[]).map((a) => [a.x, a.text]), [[0.2, "mean"]]);
  assert.equal((fig.layout.xaxis as AnyTrace).range[1], 0.9);
  assert.equal((fig.data[0] as AnyTrace).opacity, 0.4);
  assert.deepEqual((fig.layout.yaxis as AnyTrace).title, { text: "share" });
});

test("histogram: empty and non-finite series, values outside the range and bad options throw naming what is wrong", () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [() => histogram([{ name: "a", values: [1] }, { name: "b", values: [] }]), /histogram: series\[1\] \(b\) must hold at least one value, got an empty series/],
    [() => histogram([]), /histogram: series must hold at least one series, got an empty array/],
    [() => histogram([{ name: "a", values: [1, 2] }, { name: "b", values: [0, NaN] }]), /histogram: series\[1\] \(b\) must be finite, got NaN at flat index 1/],
    [() => histogram(new Float32Array([1, Infinity])), /histogram: series\[0\] \(values\) must be finite, got Infinity at flat index 1/],
    [() => histogram({ name: "m", values: [[1, 2], [3, 4]] }), /histogram: series\[0\] \(m\) must have rank 1, got array of 2 rows/],
    [() => histogram([{ name: "cos", values: [0.5, 1.2] }], { range: [-1, 1] }), /histogram: series\[0\] \(cos\) must lie in options.range \[-1, 1\], got 1.2 at index 1/],
    [() => histogram([1, 2], { range: [1, 1] }), /histogram: options.range must be \[low, high\] with finite low < high, got/],
    [() => histogram([1, 2], { bins: 0 }), /histogram: options.bins must be a positive integer, got 0/],
    [() => histogram([1, 2], { normalize: "percent" as never }), /histogram: options.normalize must be one of "count", "probability", "density", got "percent"/],
    [() => histogram([1, 2], { opacity: 0 }), /histogram: options.opacity must be a number in \(0, 1\], got 0/],
    [() => histogram([1, 2], { markers: [{ x: NaN }] }), /histogram: options.markers\[0\].x must be a finite number, got NaN/],
    [() => histogram("x" as never), /histogram: series\[0\] \(values\) must be a tf.Tensor, a typed array or an array of numbers, got string/],
  ];
  for (const [fn, message] of cases) assert.throws(fn, message);
});
