import { test } from "node:test";
import assert from "node:assert/strict";
import { labelEfficiencyChart } from "../../src/plot";

type AnyTrace = Record<string, any>;

const simclr = {
  name: "SimCLR",
  points: [
    { labelsPerClass: "all" as const, mean: 0.97, std: 0 },
    { labelsPerClass: 1, mean: 0.52, std: 0.06 },
    { labelsPerClass: 10, mean: 0.85, std: 0.02 },
  ],
};
const raw = { name: "raw inputs", points: [{ labelsPerClass: 1, mean: 0.41, std: 0.05 }, { labelsPerClass: 100, mean: 0.88, std: 0.004 }] };

test("labelEfficiencyChart: one line per series, sorted by budget, 'all' at the full count, error bars, log x", () => {
  const fig = labelEfficiencyChart([simclr, raw], { allLabelsPerClass: 800, title: "few labels", yRange: [0, 1] });
  const traces = fig.data as AnyTrace[];
  assert.equal(traces.length, 2);
  assert.deepEqual(traces.map((t) => t.name), ["SimCLR", "raw inputs"]);
  assert.deepEqual(traces[0].x, [1, 10, 800]);
  assert.deepEqual(traces[0].y, [0.52, 0.85, 0.97]);
  assert.deepEqual(traces[0].error_y.array, [0.06, 0.02, 0]);
  assert.equal(traces[0].error_y.visible, true);
  assert.deepEqual(traces[1].x, [1, 100]);
  assert.deepEqual(traces[1].error_y.array, [0.05, 0.004]);
  assert.notEqual(traces[0].line.color, traces[1].line.color);
  const layout = fig.layout as Record<string, any>;
  assert.equal(layout.xaxis.type, "log");
  assert.deepEqual(layout.xaxis.tickvals, [1, 10, 100, 800]);
  assert.deepEqual(layout.xaxis.ticktext, ["1", "10", "100", "all (800)"]);
  assert.equal(layout.xaxis.title.text, "labelled examples per class");
  assert.equal(layout.yaxis.title.text, "test accuracy");
  assert.deepEqual(layout.yaxis.range, [0, 1]);
  assert.equal(layout.title.text, "few labels");
  assert.equal(layout.showlegend, true);
  // The figure is plain JSON.
  assert.deepEqual(JSON.parse(JSON.stringify(fig)), fig);
});

test("labelEfficiencyChart: the band shows mean ± std, filled between its edges", () => {
  const fig = labelEfficiencyChart([raw], { spread: "band" });
  const traces = fig.data as AnyTrace[];
  assert.equal(traces.length, 3, "upper edge, lower edge, line");
  const [upper, lower, line] = traces;
  assert.deepEqual(upper.y, [0.41 + 0.05, 0.88 + 0.004]);
  assert.deepEqual(lower.y, [0.41 - 0.05, 0.88 - 0.004]);
  assert.equal(lower.fill, "tonexty");
  assert.match(lower.fillcolor, /^rgba\(78, 121, 167, 0.2\)$/, "the series colour #4e79a7, translucent");
  assert.equal(line.error_y, undefined);
  assert.deepEqual(line.y, [0.41, 0.88]);
  assert.equal(upper.showlegend, false);
  assert.equal((fig.layout as Record<string, any>).showlegend, false);
});

test("labelEfficiencyChart: named errors", () => {
  assert.throws(() => labelEfficiencyChart([simclr]), /^Error: labelEfficiencyChart: options.allLabelsPerClass must be given to draw series\[0\].points\[0\] \(SimCLR\) at "all", got none$/);
  assert.throws(() => labelEfficiencyChart([]), /labelEfficiencyChart: series must be a non-empty array of \{name, points\}, got \[\]/);
  assert.throws(() => labelEfficiencyChart([{ name: "a", points: [] }]), /labelEfficiencyChart: series\[0\].points \(a\) must be a non-empty array, got \[\]/);
  assert.throws(() => labelEfficiencyChart([{ name: "a", points: [{ labelsPerClass: 0, mean: 0.5, std: 0 }] }]), /labelEfficiencyChart: series\[0\].points\[0\] \(a\).labelsPerClass must be a number > 0 or "all", got 0/);
  assert.throws(() => labelEfficiencyChart([{ name: "a", points: [{ labelsPerClass: 1, mean: NaN, std: 0 }] }]), /labelEfficiencyChart: series\[0\].points\[0\] \(a\).mean must be finite, got NaN/);
  assert.throws(() => labelEfficiencyChart([{ name: "a", points: [{ labelsPerClass: 1, mean: 0.5, std: -1 }] }]), /labelEfficiencyChart: series\[0\].points\[0\] \(a\).std must be finite and >= 0, got -1/);
  assert.throws(() => labelEfficiencyChart([{ name: "a", points: [{ labelsPerClass: 5, mean: 0.5, std: 0 }, { labelsPerClass: 5, mean: 0.6, std: 0 }] }]), /labelEfficiencyChart: series\[0\].points \(a\) must have one point per budget, got two at 5 labels per class/);
  assert.throws(() => labelEfficiencyChart([raw], { allLabelsPerClass: -2 }), /labelEfficiencyChart: options.allLabelsPerClass must be a finite number > 0, got -2/);
  assert.throws(() => labelEfficiencyChart([raw], { spread: "area" as never }), /labelEfficiencyChart: options.spread must be "bars" or "band", got "area"/);
  assert.throws(() => labelEfficiencyChart([raw], { yRange: [1, 0] }), /labelEfficiencyChart: options.yRange must be \[low, high\] with low < high, got \[1,0\]/);
});
