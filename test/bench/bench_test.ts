import { test } from "node:test";
import assert from "node:assert/strict";
import { BenchResult, summarizeRounds } from "../../bench/bench";

const round = (engine: string, items: number): BenchResult => ({ workload: "resnet-step", items_per_s: items, ms_per_step: 128_000 / items, threads: 2, engine });

test("summarizeRounds takes each engine's median round and the range of single-round ratios", () => {
  const tfjs = [round("tfjs", 600), round("tfjs", 500), round("tfjs", 700)];
  const torch = [round("torch", 1000), round("torch", 800), round("torch", 1400)];
  const { tfjs: mine, torch: theirs, ratio } = summarizeRounds(tfjs, torch);
  assert.equal(mine.items_per_s, 600);
  assert.equal(theirs?.items_per_s, 1000);
  assert.deepEqual(ratio, {
    workload: "resnet-step",
    ratio: 0.6,
    tfjs_items_per_s: 600,
    torch_items_per_s: 1000,
    rounds: 3,
    // 600/1000, 500/800, 700/1400: each tfjs round against the PyTorch round after it
    round_ratios: [0.5, 0.625],
  });
  // An even count takes the upper median; one round is its own median.
  assert.equal(summarizeRounds([round("tfjs", 1), round("tfjs", 3)], []).tfjs.items_per_s, 3);
  assert.equal(summarizeRounds([round("tfjs", 5)], [round("torch", 10)]).ratio?.round_ratios[1], 0.5);
});

test("summarizeRounds without PyTorch gives no ratio, and rejects rounds that do not pair up", () => {
  const { torch, ratio } = summarizeRounds([round("tfjs", 600)], []);
  assert.equal(torch, null);
  assert.equal(ratio, null);
  assert.throws(() => summarizeRounds([], []), /summarizeRounds: tfjs must hold at least one round, got none/);
  assert.throws(() => summarizeRounds([round("tfjs", 1), round("tfjs", 2)], [round("torch", 1)]), /one round per tfjs round \(2\) or none, got 1/);
});
