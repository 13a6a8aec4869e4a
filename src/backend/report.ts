/**
 * The backend report in words a student can act on: which engine computes,
 * how fast it can be, and what would make it faster.
 */
import type { BackendOption, BackendReport } from "./select";
import { BACKEND_ENV_VAR } from "./select";
import type { CudaReport } from "./cuda";
import { REQUIRED_CUDA } from "./cuda";

const OPTION_TITLE: Record<BackendOption, string> = {
  "tensorflow-gpu": "Native TensorFlow on an NVIDIA GPU",
  "tensorflow-cpu": "Native TensorFlow on the CPU",
  wasm: "WebAssembly",
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** One line saying what computes: engine, SIMD, threads, GPU. */
function engineLine(report: BackendReport): string {
  switch (report.name) {
    case "tensorflow":
      return report.gpu
        ? `tensorflow: native TensorFlow on the GPU ${report.gpu}`
        : `tensorflow: native TensorFlow on the CPU, ${plural(report.threads, "thread")}`;
    case "wasm":
      return `wasm: WebAssembly${report.simd ? " with SIMD" : " without SIMD"}, ${plural(report.threads, "thread")}`;
    case "cpu":
      return "cpu: plain JavaScript, 1 thread (the slowest backend: fine for small examples only)";
  }
}

function requestLine(report: BackendReport): string {
  const { preference, from } = report.requested;
  if (from === "environment") return `you set ${BACKEND_ENV_VAR}=${preference}`;
  if (from === "argument") return `the code asked for "${preference}"`;
  return `"auto": the fastest backend that works here`;
}

function cudaSection(cuda: CudaReport): string[] {
  const lines = [
    `GPU check (@tensorflow/tfjs-node-gpu 4.22 needs CUDA ${REQUIRED_CUDA.cuda} and cuDNN ${REQUIRED_CUDA.cudnn}):`,
    `  ${cuda.verdict}`,
  ];
  if (cuda.gpus.length > 0 || cuda.driver) {
    lines.push(`  GPUs: ${cuda.gpus.length > 0 ? cuda.gpus.join("; ") : "(nvidia-smi not available)"}`);
    lines.push(
      `  Driver: ${cuda.driver ?? "unknown"}${cuda.driverCuda ? ` (supports CUDA up to ${cuda.driverCuda})` : ""}`,
    );
  }
  const list = (libs: CudaReport["cudart"]) =>
    libs.length > 0 ? libs.map((l) => `${l.name} (${l.path})`).join(", ") : "none found";
  if (cuda.gpus.length > 0 || cuda.driver || cuda.cudart.length > 0 || cuda.cudnn.length > 0) {
    lines.push(`  CUDA runtime: ${list(cuda.cudart)}`);
    lines.push(`  cuDNN: ${list(cuda.cudnn)}`);
    for (const t of cuda.toolkits) lines.push(`  CUDA toolkit ${t.version} in ${t.path}`);
  }
  if (cuda.advice.length > 0) {
    lines.push("  What to do:");
    cuda.advice.forEach((a, i) => lines.push(`    ${i + 1}. ${a}`));
  }
  return lines;
}

/**
 * Formats a {@link BackendReport} (and optionally the CUDA findings) as the
 * plain text `npm run doctor` prints.
 *
 * @example
 * console.log(formatBackendReport(await setupBackend(), probeCuda()));
 */
export function formatBackendReport(report: BackendReport, cuda?: CudaReport): string {
  const lines = [
    `Backend: ${engineLine(report)}`,
    `  Chosen because: ${requestLine(report)}`,
    `  Versions: ${report.version}`,
    `  GPU: ${report.gpu ?? "none in use"}`,
  ];
  if (report.kernels.length > 0) {
    lines.push(`  Training kernels added by the workbook: ${report.kernels.join(", ")}`);
  }
  lines.push("");
  if (report.reasons.length === 0) {
    lines.push("Faster options: none, this is the fastest backend the workbook supports.");
  } else {
    lines.push("Faster options not in use:");
    for (const reason of report.reasons) {
      lines.push(`  - ${OPTION_TITLE[reason.option]} (${reason.package})`);
      lines.push(`      Why: ${reason.why}`);
      lines.push(`      To enable: ${reason.enable ?? "not possible on this machine"}`);
    }
  }
  if (cuda) {
    lines.push("");
    lines.push(...cudaSection(cuda));
  }
  lines.push("");
  lines.push(
    `To choose a backend yourself: ${BACKEND_ENV_VAR}=auto|tensorflow|wasm|cpu ` +
      `(or setupBackend("wasm") in code); an explicit choice that cannot be met is an error.`,
  );
  return lines.join("\n");
}
