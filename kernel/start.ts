/**
 * `npm start`: serves notebooks/ with the classic Jupyter Notebook, after
 * making sure the workbook kernel registered with Jupyter is this checkout's.
 * Extra arguments go to `jupyter notebook` (e.g. `npm start -- --port 9000`).
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import {
  findInstalledKernel,
  findJupyter,
  installKernel,
  JUPYTER_MISSING_HELP,
  kernelPointsHere,
  REPO_ROOT,
} from "./jupyter";

function main(): void {
  const jupyter = findJupyter();
  if (!jupyter) {
    console.error(JUPYTER_MISSING_HELP);
    process.exit(1);
  }
  if (!kernelPointsHere(jupyter)) {
    const before = findInstalledKernel(jupyter);
    const file = installKernel(jupyter, { kind: "user" });
    console.log(before ? `Re-registered the kernel for this checkout: ${file}` : `Registered the kernel: ${file}`);
  }
  const args = ["notebook", `--notebook-dir=${path.join(REPO_ROOT, "notebooks")}`];
  // Jupyter refuses to run as root unless told; containers and CI machines often are root.
  if (process.getuid?.() === 0) args.push("--allow-root");
  args.push(...process.argv.slice(2));
  const child = spawn(jupyter, args, { stdio: "inherit" });
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => child.kill(sig));
}

main();
