import { test } from "node:test";
import assert from "node:assert/strict";
import { scatterPanels } from "../../src/plot/scatterPanels";
import { COLORWAY } from "../../src/plot/figure";

test("scatterPanels: each panel's points on its own axes, one colour and one legend entry per class", () => {
  const fig = scatterPanels(
    [
      { points: [[0, 0], [1, 1], [2, 2]], labels: [0, 1, 0], title: "before" },
      { points: [[5, 5], [6, 6], [7, 7]], labels: [1, 0, 0], title: "after" },
      { points: [[9, 9]], labels: [2], title: "third" },
    ],
    { title: "demo", columns: 2 },
  );
  assert.equal(fig.data.length, 5);
  const onAxis = (axis: string) => fig.data.filter((t) => t.xaxis === `x${axis}`);
  assert.deepEqual(onAxis("").map((t) => [t.name, t.x]), [["0", [0, 2]], ["1", [1]]]);
  assert.deepEqual(onAxis("2").map((t) => [t.name, t.y]), [["0", [6, 7]], ["1", [5]]]);
  assert.deepEqual(onAxis("3").map((t) => [t.name, t.x]), [["2", [9]]]);
  for (const t of fig.data) {
    assert.equal((t.marker as { color: string }).color, COLORWAY[Number(t.name)], `class ${t.name} keeps its colour`);
    assert.equal(t.legendgroup, t.name);
  }
  assert.deepEqual(fig.data.filter((t) => t.showlegend).map((t) => t.name), ["0", "1", "2"]);
  const layout = fig.layout as Record<string, { domain: number[] } | unknown>;
  // Two columns, two rows: panel 3 sits under panel 1.
  assert.deepEqual((layout.xaxis3 as { domain: number[] }).domain, (layout.xaxis as { domain: number[] }).domain);
  assert.ok((layout.yaxis3 as { domain: number[] }).domain[1] < (layout.yaxis as { domain: number[] }).domain[0]);
  assert.deepEqual((fig.layout.annotations as { text: string }[]).map((a) => a.text), ["before", "after", "third"]);
});

test("scatterPanels rejects bad input naming the argument", () => {
  assert.throws(() => scatterPanels([]), /scatterPanels: panels must be a non-empty array/);
  assert.throws(() => scatterPanels([{ points: [[0, 0]] }], { columns: 0 }), /options.columns must be a positive integer, got 0/);
  assert.throws(() => scatterPanels([{ points: [[0, 0, 1]] }]), /scatter2d: points must have shape \[n, 2\]/);
});
