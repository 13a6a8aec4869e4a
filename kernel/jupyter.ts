/**
 * Finding Jupyter and registering the workbook's kernel with it.
 *
 * The kernel is tslab (a TypeScript kernel for Jupyter) started from this
 * checkout's own node_modules, so notebooks import this checkout's library
 * and no global tslab is needed. It starts through kernel/launch.ts, which
 * fixes tslab's lost and failing outputs under bursts of output first. Shared by `npm install` (kernel/install.ts),
 * `npm start` (kernel/start.ts) and the notebook harness.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** The kernel's name in Jupyter (`--ExecutePreprocessor.kernel_name`, `kernelspec list`). */
export const KERNEL_NAME = "ssl-workbook";
/** What the notebook's kernel menu shows. */
export const KERNEL_DISPLAY_NAME = "SSL Workbook (TypeScript)";

/** The root of this checkout: two levels above dist/kernel/. */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** What to tell a user whose machine has no Jupyter. */
export const JUPYTER_MISSING_HELP = [
  "Jupyter was not found: looked for `jupyter` on PATH and at /usr/bin/jupyter.",
  "Install the classic Notebook and nbconvert, then run `npm run kernel:install`:",
  "  Debian/Ubuntu:  sudo apt-get install jupyter-notebook jupyter-nbconvert python3-nbclient",
  "  macOS:          brew install jupyterlab",
  "  pip (any OS):   python3 -m pip install --user notebook nbconvert nbclient",
].join("\n");

/** Where the kernel spec goes. */
export type InstallScope =
  | { kind: "user" }
  | { kind: "system" }
  | { kind: "prefix"; prefix: string };

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The `jupyter` command to use: `$JUPYTER` if set, else the first `jupyter`
 * on PATH, else /usr/bin/jupyter (Debian's, which may sit behind another
 * python3 earlier on PATH). Returns null when none is found.
 */
export function findJupyter(
  env: NodeJS.ProcessEnv = process.env,
  fallbacks: string[] = ["/usr/bin/jupyter", "/usr/local/bin/jupyter"],
): string | null {
  if (env.JUPYTER) {
    if (!isExecutable(env.JUPYTER)) {
      throw new Error(`findJupyter: JUPYTER=${env.JUPYTER} is not an executable file`);
    }
    return env.JUPYTER;
  }
  const dirs = (env.PATH ?? "").split(path.delimiter).filter(Boolean);
  const candidates = [...dirs.map((d) => path.join(d, "jupyter")), ...fallbacks];
  return candidates.find(isExecutable) ?? null;
}

/**
 * The Python interpreter that runs `jupyter` (from its `#!` line), which has
 * nbclient and nbformat; the python3 first on PATH may be another one.
 */
export function jupyterPython(jupyter: string): string {
  const firstLine = fs.readFileSync(jupyter, "utf8").split("\n", 1)[0];
  if (!firstLine.startsWith("#!")) {
    throw new Error(`jupyterPython: ${jupyter} has no #! line naming its Python`);
  }
  const words = firstLine.slice(2).trim().split(/\s+/);
  // "#!/usr/bin/env python3" names the interpreter by its second word.
  return path.basename(words[0]) === "env" ? words[1] : words[0];
}

/** Jupyter's data directories, most personal first (`jupyter --paths --json`). */
export function jupyterDataDirs(jupyter: string): string[] {
  const out = execFileSync(jupyter, ["--paths", "--json"], { encoding: "utf8" });
  const paths = JSON.parse(out) as { data: string[] };
  return paths.data;
}

/** The script that starts tslab with the workbook's fixes (kernel/launch.ts, compiled). */
export function kernelLauncher(repoRoot: string = REPO_ROOT): string {
  return path.join(repoRoot, "dist", "kernel", "launch.js");
}

/** The kernel spec (kernel.json) that starts tslab from this checkout, through its launcher. */
export function kernelSpec(repoRoot: string = REPO_ROOT): Record<string, unknown> {
  return {
    argv: [
      process.execPath,
      kernelLauncher(repoRoot),
      "--config-path",
      "{connection_file}",
    ],
    display_name: KERNEL_DISPLAY_NAME,
    language: "typescript",
    interrupt_mode: "signal",
    metadata: { "ssl-workbook": { root: repoRoot } },
  };
}

/** The folder under which a scope's kernels live. */
export function kernelsDir(jupyter: string, scope: InstallScope): string {
  switch (scope.kind) {
    case "prefix":
      return path.join(scope.prefix, "share", "jupyter", "kernels");
    case "user":
      return path.join(jupyterDataDirs(jupyter)[0], "kernels");
    case "system": {
      // Jupyter lists the user's dir first, then system dirs; /usr/local is
      // the one a package manager leaves to the administrator.
      const dirs = jupyterDataDirs(jupyter).slice(1);
      const preferred = dirs.find((d) => d.startsWith("/usr/local/")) ?? dirs[0];
      if (!preferred) throw new Error("kernelsDir: Jupyter reported no system data directory");
      return path.join(preferred, "kernels");
    }
  }
}

/**
 * Writes the kernel spec for this checkout into the scope's kernels folder and
 * returns the path of the kernel.json written. Re-running replaces it, so a
 * moved checkout is re-registered by running the installer again.
 */
export function installKernel(jupyter: string, scope: InstallScope, repoRoot: string = REPO_ROOT): string {
  const tslabBin = path.join(repoRoot, "node_modules", "tslab", "bin", "tslab");
  if (!fs.existsSync(tslabBin)) {
    throw new Error(`installKernel: tslab is not installed at ${tslabBin}; run \`npm install\` first`);
  }
  if (!fs.existsSync(kernelLauncher(repoRoot))) {
    throw new Error(`installKernel: the kernel launcher ${kernelLauncher(repoRoot)} is not built; run \`npm run build\` first`);
  }
  const dir = path.join(kernelsDir(jupyter, scope), KERNEL_NAME);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "kernel.json");
  fs.writeFileSync(file, JSON.stringify(kernelSpec(repoRoot), null, 2) + "\n");
  return file;
}

/**
 * The kernel.json Jupyter would use for the workbook kernel, or null: the
 * first data directory holding one wins, as in Jupyter.
 */
export function findInstalledKernel(jupyter: string): { file: string; spec: { argv: string[] } } | null {
  for (const dir of jupyterDataDirs(jupyter)) {
    const file = path.join(dir, "kernels", KERNEL_NAME, "kernel.json");
    if (fs.existsSync(file)) {
      return { file, spec: JSON.parse(fs.readFileSync(file, "utf8")) };
    }
  }
  return null;
}

/** True when the registered workbook kernel starts this checkout's launcher. */
export function kernelPointsHere(jupyter: string, repoRoot: string = REPO_ROOT): boolean {
  const found = findInstalledKernel(jupyter);
  return found !== null && found.spec.argv[1] === kernelLauncher(repoRoot);
}
