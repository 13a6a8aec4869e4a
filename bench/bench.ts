/**
 * `npm run bench`: times the three training workloads (bench/workloads.ts) on
 * the backend setupBackend() selects, runs the PyTorch reference
 * (bench/torch_bench.py) with the same thread count when /usr/bin/python3 has
 * torch, and prints JSON lines:
 *
 *   {"workload","items_per_s","ms_per_step","threads","engine"}   per engine
 *   {"workload","ratio","tfjs_items_per_s","torch_items_per_s"}   tfjs / pytorch
 *
 * Flags: --only NAME, --steps N (base steps; sgns and linear-probe run 10x),
 * --rounds N (default 3), --threads N, --backend auto|tensorflow|wasm|cpu,
 * --adam fused|stock (the library's adam from src/training/adam.ts, the
 * default, or tf.train.adam), --no-torch.
 *
 * Each workload runs `rounds` times on each engine, the two alternating
 * (tfjs, PyTorch, tfjs, ...), and each engine's line is its median round:
 * this machine kind's speed drifts by 15-40% within minutes, and timing the
 * engines far apart moved one ratio from 0.53 to 0.85 within an hour. The
 * ratio line also gives the lowest and highest ratio of single rounds.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { tf } from "../src/backend/tf";
import { BackendPreference, setupBackend } from "../src/backend/select";
import { WORKLOAD_NAMES, WorkloadName, makeWorkload } from "./workloads";

/** One engine's result for one workload, as both benchmarks print it. */
export interface BenchResult {
  workload: string;
  items_per_s: number;
  ms_per_step: number;
  threads: number;
  engine: string;
}

interface Flags {
  only: WorkloadName | null;
  steps: number;
  rounds: number;
  threads: number | null;
  backend: BackendPreference | undefined;
  torch: boolean;
  adam: "fused" | "stock";
}

const PYTHON = "/usr/bin/python3";
// dist/bench/bench.js -> bench/torch_bench.py in the checkout.
const TORCH_SCRIPT = path.resolve(__dirname, "..", "..", "bench", "torch_bench.py");

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { only: null, steps: 10, rounds: 3, threads: null, backend: undefined, torch: true, adam: "fused" };
  const value = (i: number, name: string): string => {
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`bench: ${name} needs a value`);
    return v;
  };
  const positive = (text: string, name: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`bench: ${name} must be a positive integer, got ${text}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    switch (argv[i]) {
      case "--only": {
        const name = value(i++, "--only");
        if (!(WORKLOAD_NAMES as readonly string[]).includes(name)) {
          throw new Error(`bench: --only must be one of ${WORKLOAD_NAMES.join(", ")}, got ${name}`);
        }
        flags.only = name as WorkloadName;
        break;
      }
      case "--steps":
        flags.steps = positive(value(i++, "--steps"), "--steps");
        break;
      case "--rounds":
        flags.rounds = positive(value(i++, "--rounds"), "--rounds");
        break;
      case "--threads":
        flags.threads = positive(value(i++, "--threads"), "--threads");
        break;
      case "--backend":
        flags.backend = value(i++, "--backend") as BackendPreference;
        break;
      case "--adam": {
        const kind = value(i++, "--adam");
        if (kind !== "fused" && kind !== "stock") throw new Error(`bench: --adam must be fused or stock, got ${kind}`);
        flags.adam = kind;
        break;
      }
      case "--no-torch":
        flags.torch = false;
        break;
      default:
        throw new Error(`bench: unknown flag ${argv[i]} (flags: --only, --steps, --rounds, --threads, --backend, --adam, --no-torch)`);
    }
  }
  return flags;
}

function timeWorkload(name: WorkloadName, flags: Flags, threads: number, engine: string): BenchResult {
  const workload = makeWorkload(name, { steps: flags.steps, adam: flags.adam });
  try {
    workload.step(); // warm-up: kernels compile, optimizer slots are created
    const start = performance.now();
    for (let i = 0; i < workload.steps; i++) workload.step();
    const ms = (performance.now() - start) / workload.steps;
    return {
      workload: name,
      items_per_s: Math.round((workload.items * 10000) / ms) / 10,
      ms_per_step: Math.round(ms * 100) / 100,
      threads,
      engine,
    };
  } finally {
    workload.dispose();
  }
}

/** Why the PyTorch reference cannot run, or null when it can. */
function torchProblem(): string | null {
  if (!fs.existsSync(PYTHON)) return `${PYTHON} not found`;
  if (!fs.existsSync(TORCH_SCRIPT)) return `${TORCH_SCRIPT} not found`;
  const probe = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" });
  return probe.status === 0 ? null : `${PYTHON} cannot import torch (apt-get install python3-torch)`;
}

function runTorch(name: WorkloadName, steps: number, threads: number): BenchResult {
  const run = spawnSync(
    PYTHON,
    [TORCH_SCRIPT, "--threads", String(threads), "--steps", String(steps), "--only", name],
    { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: String(threads) } },
  );
  if (run.status !== 0) throw new Error(`bench: torch_bench.py failed for ${name}: ${run.stderr.trim()}`);
  const line = run.stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(line) as BenchResult;
}

async function main(argv: string[]): Promise<void> {
  const flags = parseFlags(argv);
  const report = await setupBackend(flags.backend, flags.threads ? { threads: flags.threads } : {});
  const engine =
    `tfjs-${tf.version.tfjs}-${report.name}${report.gpu ? "-gpu" : ""}` + (flags.adam === "stock" ? "-stock-adam" : "");
  if (flags.threads !== null && flags.threads !== report.threads) {
    console.error(
      `bench: asked for ${flags.threads} threads; ${report.name} uses ${report.threads}, so PyTorch runs with ${report.threads} too`,
    );
  }
  const problem = flags.torch ? torchProblem() : "skipped (--no-torch)";
  if (problem) console.error(`bench: PyTorch reference not run: ${problem}`);
  for (const name of WORKLOAD_NAMES) {
    if (flags.only && name !== flags.only) continue;
    const mine: BenchResult[] = [];
    const theirs: BenchResult[] = [];
    for (let r = 0; r < flags.rounds; r++) {
      mine.push(timeWorkload(name, flags, report.threads, engine));
      if (!problem) theirs.push(runTorch(name, flags.steps, report.threads));
    }
    const summary = summarizeRounds(mine, theirs);
    console.log(JSON.stringify(summary.tfjs));
    if (summary.torch === null) continue;
    console.log(JSON.stringify(summary.torch));
    console.log(JSON.stringify(summary.ratio));
  }
}

/** The ratio line: tfjs over PyTorch, medians, and the range over single rounds. */
export interface RatioLine {
  workload: string;
  ratio: number;
  tfjs_items_per_s: number;
  torch_items_per_s: number;
  rounds: number;
  /** `[lowest, highest]` ratio of a tfjs round over the PyTorch round that followed it. */
  round_ratios: [number, number];
}

/**
 * Each engine's median round (by items per second; the upper median of an
 * even count) and the ratio line, from rounds run alternately: `tfjs[i]`
 * then `torch[i]`. `torch` is empty when PyTorch did not run.
 *
 * @example
 * const { tfjs, torch, ratio } = summarizeRounds([a1, a2, a3], [b1, b2, b3]);
 */
export function summarizeRounds(tfjs: BenchResult[], torch: BenchResult[]): { tfjs: BenchResult; torch: BenchResult | null; ratio: RatioLine | null } {
  if (tfjs.length === 0) throw new Error("summarizeRounds: tfjs must hold at least one round, got none");
  if (torch.length !== 0 && torch.length !== tfjs.length) {
    throw new Error(`summarizeRounds: torch must hold one round per tfjs round (${tfjs.length}) or none, got ${torch.length}`);
  }
  const median = (rounds: BenchResult[]) => [...rounds].sort((a, b) => a.items_per_s - b.items_per_s)[rounds.length >> 1];
  const round3 = (v: number) => Math.round(v * 1000) / 1000;
  const mine = median(tfjs);
  if (torch.length === 0) return { tfjs: mine, torch: null, ratio: null };
  const theirs = median(torch);
  const single = tfjs.map((t, i) => t.items_per_s / torch[i].items_per_s);
  return {
    tfjs: mine,
    torch: theirs,
    ratio: {
      workload: mine.workload,
      ratio: round3(mine.items_per_s / theirs.items_per_s),
      tfjs_items_per_s: mine.items_per_s,
      torch_items_per_s: theirs.items_per_s,
      rounds: tfjs.length,
      round_ratios: [round3(Math.min(...single)), round3(Math.max(...single))],
    },
  };
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: Error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
