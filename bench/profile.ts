/**
 * `npm run bench:profile`: where one training step of a benchmark workload
 * spends its time, kernel by kernel, on the selected backend (tf.profile).
 *
 *   node dist/bench/profile.js [--only simclr-step] [--steps 3] [--threads 1]
 *
 * Prints a table of kernels sorted by total time over the profiled steps,
 * then the step's wall time. Kernel times include tfjs's per-kernel overhead.
 */
import { setupBackend } from "../src/backend/select";
import { tf } from "../src/backend/tf";
import { makeWorkload, WORKLOAD_NAMES, WorkloadName } from "./workloads";

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let only: WorkloadName = "simclr-step";
  let steps = 3;
  let threads: number | null = null;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--only") only = args[++i] as WorkloadName;
    else if (args[i] === "--steps") steps = Number(args[++i]);
    else if (args[i] === "--threads") threads = Number(args[++i]);
    else throw new Error(`bench:profile: unknown flag ${args[i]} (flags: --only, --steps, --threads)`);
  }
  if (!WORKLOAD_NAMES.includes(only)) {
    throw new Error(`bench:profile: --only must be one of ${WORKLOAD_NAMES.join(", ")}, got ${only}`);
  }
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`bench:profile: --steps must be a positive integer, got ${steps}`);
  if (threads !== null && !(Number.isInteger(threads) && threads >= 1)) {
    throw new Error(`bench:profile: --threads must be a positive integer, got ${threads}`);
  }
  const report = await setupBackend(undefined, threads === null ? {} : { threads });
  const workload = makeWorkload(only);
  workload.step(); // warm-up: first calls compile and allocate
  const totals = new Map<string, { ms: number; calls: number }>();
  const started = performance.now();
  for (let s = 0; s < steps; s++) {
    const info = await tf.profile(() => {
      workload.step();
    });
    for (const k of info.kernels) {
      const entry = totals.get(k.name) ?? { ms: 0, calls: 0 };
      entry.ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
      entry.calls += 1;
      totals.set(k.name, entry);
    }
  }
  const wallMs = (performance.now() - started) / steps;
  workload.dispose();
  const rows = [...totals.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const kernelMs = rows.reduce((a, [, v]) => a + v.ms, 0) / steps;
  console.log(`${only} on ${report.name} (${report.threads} thread${report.threads === 1 ? "" : "s"}), per step:`);
  console.log(`${"kernel".padEnd(30)} ${"ms".padStart(8)} ${"share".padStart(6)} ${"calls".padStart(6)}`);
  for (const [name, v] of rows) {
    const ms = v.ms / steps;
    if (ms < 0.05 * kernelMs / 10) continue;
    console.log(`${name.padEnd(30)} ${ms.toFixed(1).padStart(8)} ${((100 * ms) / kernelMs).toFixed(1).padStart(5)}% ${String(v.calls / steps).padStart(6)}`);
  }
  console.log(`${"all kernels".padEnd(30)} ${kernelMs.toFixed(1).padStart(8)}`);
  console.log(`${"step wall time (profiled)".padEnd(30)} ${wallMs.toFixed(1).padStart(8)}`);
}

main().catch((err) => {
  console.error((err as Error).message);
  process.exit(1);
});
