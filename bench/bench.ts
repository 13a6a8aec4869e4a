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
 * --threads N, --backend auto|tensorflow|wasm|cpu, --adam fused|stock
 * (the library's adam from src/training/adam.ts, the default, or tf.train.adam), --no-torch.
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
  threads: number | null;
  backend: BackendPreference | undefined;
  torch: boolean;
  adam: "fused" | "stock";
}

const PYTHON = "/usr/bin/python3";
// dist/bench/bench.js -> bench/torch_bench.py in the checkout.
const TORCH_SCRIPT = path.resolve(__dirname, "..", "..", "bench", "torch_bench.py");

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { only: null, steps: 10, threads: null, backend: undefined, torch: true, adam: "fused" };
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
        throw new Error(`bench: unknown flag ${argv[i]} (flags: --only, --steps, --threads, --backend, --adam, --no-torch)`);
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
    const mine = timeWorkload(name, flags, report.threads, engine);
    console.log(JSON.stringify(mine));
    if (problem) continue;
    const theirs = runTorch(name, flags.steps, report.threads);
    console.log(JSON.stringify(theirs));
    console.log(
      JSON.stringify({
        workload: name,
        ratio: Math.round((mine.items_per_s / theirs.items_per_s) * 1000) / 1000,
        tfjs_items_per_s: mine.items_per_s,
        torch_items_per_s: theirs.items_per_s,
      }),
    );
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: Error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
