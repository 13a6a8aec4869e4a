/**
 * What this machine offers `@tensorflow/tfjs-node-gpu`: an NVIDIA driver and
 * GPU, and the CUDA runtime and cuDNN libraries TensorFlow loads at start-up.
 *
 * tfjs-node-gpu 4.22 bundles TensorFlow 2.9.1, built against CUDA 11.2 and
 * cuDNN 8.1: it opens `libcudart.so.11.0` and `libcudnn.so.8` by name. When
 * they are missing TensorFlow still loads and silently runs on the CPU
 * (a "Could not load dynamic library 'libcudart.so.11.0'" warning), so the
 * diagnosis has to come from looking at the system, done here.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** The CUDA major version and library sonames tfjs-node-gpu 4.22 needs. */
export const REQUIRED_CUDA = {
  cuda: "11.2",
  cudnn: "8.1",
  cudart: "libcudart.so.11.0",
  cudnnSoname: "libcudnn.so.8",
  /** Oldest Linux driver branch that runs CUDA 11.x programs. */
  minDriver: 450,
} as const;

/** One shared library found on the system. */
export interface FoundLibrary {
  /** File or soname, e.g. `libcudart.so.11.0`. */
  name: string;
  /** Where it was found. */
  path: string;
}

/** Everything {@link probeCuda} found, and what it means for tfjs-node-gpu. */
export interface CudaReport {
  /** GPUs listed by `nvidia-smi`, e.g. `["NVIDIA GeForce RTX 3060, 12288 MiB"]`. */
  gpus: string[];
  /** NVIDIA driver version (nvidia-smi or /proc/driver/nvidia/version), or null. */
  driver: string | null;
  /** Highest CUDA version the driver supports (nvidia-smi header), or null. */
  driverCuda: string | null;
  /** CUDA runtime libraries (`libcudart.so.*`) found. */
  cudart: FoundLibrary[];
  /** cuDNN libraries (`libcudnn.so.*`) found. */
  cudnn: FoundLibrary[];
  /** CUDA toolkits under /usr/local: `{path, version}` from version.json / version.txt. */
  toolkits: Array<{ path: string; version: string }>;
  /** True when a GPU, `libcudart.so.11.0` and `libcudnn.so.8` are all present. */
  ready: boolean;
  /** One sentence: what stands between this machine and tfjs-node-gpu. */
  verdict: string;
  /** What to do about it, one step per entry. */
  advice: string[];
}

/** The system calls {@link probeCuda} makes; tests pass fakes. */
export interface CudaProbeIo {
  /** Runs a program and returns its stdout; throws if it cannot run or fails. */
  run(file: string, args: string[]): string;
  /** Reads a text file; throws if absent. */
  readFile(file: string): string;
  /** Lists a directory; throws if absent. */
  readdir(dir: string): string[];
  /** Environment variables (LD_LIBRARY_PATH). */
  env: Record<string, string | undefined>;
}

const systemIo: CudaProbeIo = {
  run: (file, args) =>
    execFileSync(file, args, { encoding: "utf8", timeout: 10_000, stdio: ["ignore", "pipe", "ignore"] }),
  readFile: (file) => fs.readFileSync(file, "utf8"),
  readdir: (dir) => fs.readdirSync(dir),
  env: process.env,
};

const CUDA_LIBRARY = /^lib(cudart|cudnn)\.so\.\d+(\.\d+)*$/;

/**
 * Parses `ldconfig -p` output into the CUDA runtime and cuDNN libraries it lists.
 *
 * @example
 * parseLdconfig("\tlibcudart.so.11.0 (libc6,x86-64) => /usr/local/cuda/lib64/libcudart.so.11.0");
 * // [{ name: "libcudart.so.11.0", path: "/usr/local/cuda/lib64/libcudart.so.11.0" }]
 */
export function parseLdconfig(text: string): FoundLibrary[] {
  const found: FoundLibrary[] = [];
  for (const line of text.split("\n")) {
    const match = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)/.exec(line);
    if (match && CUDA_LIBRARY.test(match[1])) found.push({ name: match[1], path: match[3] });
  }
  return found;
}

/**
 * Parses `nvidia-smi` (plain, with its header) and
 * `nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader`.
 */
export function parseNvidiaSmi(
  header: string,
  query: string,
): { gpus: string[]; driver: string | null; driverCuda: string | null } {
  const driver = /Driver Version:\s*([\d.]+)/.exec(header)?.[1] ?? null;
  const driverCuda = /CUDA Version:\s*([\d.]+)/.exec(header)?.[1] ?? null;
  const gpus: string[] = [];
  let queryDriver: string | null = null;
  for (const line of query.split("\n")) {
    const cells = line.split(",").map((c) => c.trim());
    if (cells.length >= 3 && cells[0]) {
      gpus.push(`${cells[0]}, ${cells[1]}`);
      queryDriver = cells[2];
    }
  }
  return { gpus, driver: driver ?? queryDriver, driverCuda };
}

/** Reads a CUDA toolkit version from version.json (CUDA >= 11.1) or version.txt. */
export function parseToolkitVersion(text: string): string | null {
  try {
    const json = JSON.parse(text) as { cuda?: { version?: string } };
    if (json.cuda?.version) return json.cuda.version;
  } catch {
    // Not JSON: an older toolkit's version.txt, "CUDA Version 10.2.89".
  }
  return /CUDA Version\s+([\d.]+)/.exec(text)?.[1] ?? null;
}

/** Major version of a library soname: `libcudart.so.11.0` -> 11. */
function sonameMajor(name: string): number {
  return Number(/\.so\.(\d+)/.exec(name)?.[1] ?? NaN);
}

/**
 * Decides what the findings mean for tfjs-node-gpu 4.22 (CUDA 11.2, cuDNN 8.1).
 * Pure: {@link probeCuda} gathers, this judges.
 */
export function diagnoseCuda(
  found: Omit<CudaReport, "ready" | "verdict" | "advice">,
): Pick<CudaReport, "ready" | "verdict" | "advice"> {
  const advice: string[] = [];
  const hasGpu = found.gpus.length > 0 || found.driver !== null;
  const cudart11 = found.cudart.some((l) => l.name.startsWith(REQUIRED_CUDA.cudart));
  const cudnn8 = found.cudnn.some((l) => sonameMajor(l.name) === 8);
  const newerCuda = [
    ...found.cudart.map((l) => sonameMajor(l.name)),
    ...found.toolkits.map((t) => Number(t.version.split(".")[0])),
  ].filter((v) => v >= 12);
  const driverMajor = found.driver ? Number(found.driver.split(".")[0]) : NaN;

  if (!hasGpu) {
    return {
      ready: false,
      verdict: "No NVIDIA GPU found (no nvidia-smi, no /proc/driver/nvidia/version): the GPU backend cannot be used here.",
      advice: ["Use the native CPU backend (npm run setup:native) or the default wasm backend."],
    };
  }
  if (driverMajor < REQUIRED_CUDA.minDriver) {
    advice.push(
      `Update the NVIDIA driver: CUDA 11 needs driver ${REQUIRED_CUDA.minDriver} or newer, found ${found.driver}.`,
    );
  }
  if (!cudart11) {
    advice.push(
      `Install the CUDA ${REQUIRED_CUDA.cuda} runtime so that ${REQUIRED_CUDA.cudart} can be loaded ` +
        `(e.g. NVIDIA's cuda-11-2 packages, or the 11.x runtime libraries), and put its lib64 folder ` +
        `on LD_LIBRARY_PATH or in ldconfig.`,
    );
  }
  if (!cudnn8) {
    advice.push(
      `Install cuDNN ${REQUIRED_CUDA.cudnn} for CUDA 11 (provides ${REQUIRED_CUDA.cudnnSoname}).`,
    );
  }
  if (newerCuda.length > 0 && !cudart11) {
    const toolkit = found.toolkits.filter((t) => Number(t.version.split(".")[0]) >= 12).map((t) => `CUDA ${t.version} at ${t.path}`);
    const have = [...toolkit, ...found.cudart.map((l) => l.name), ...found.cudnn.map((l) => l.name)];
    advice.push(
      `CUDA ${Math.max(...newerCuda)} is installed (found ${have.join(", ")}), but tfjs-node-gpu 4.22 ` +
        `(TensorFlow 2.9.1) is built for CUDA 11 and opens ${REQUIRED_CUDA.cudart} and ${REQUIRED_CUDA.cudnnSoname} by name ` +
        `(tensorflow/tfjs issues 8362 and 8505). ` +
        `Renaming or symlinking the CUDA 12 library does not help: the versions are not binary compatible. ` +
        `Install the CUDA 11 runtime and cuDNN 8 beside CUDA 12 (a CUDA 12 driver runs CUDA 11 programs) ` +
        `and point LD_LIBRARY_PATH at them.`,
      `The package's only other route is a custom libtensorflow: its install script reads ` +
        `scripts/custom-binary.json ({"tf-lib": "<URL of a libtensorflow GPU tar.gz>"}), downloads that ` +
        `instead and builds the binding from source (python3, make, g++). A libtensorflow built for CUDA 12 ` +
        `is a TensorFlow release the binding was not written or tested against; this workbook has not verified it.`,
    );
  }
  const ready = cudart11 && cudnn8 && !(driverMajor < REQUIRED_CUDA.minDriver);
  const gpuName = found.gpus[0] ?? `an NVIDIA GPU (driver ${found.driver})`;
  let verdict: string;
  if (ready) {
    verdict = `${gpuName} with ${REQUIRED_CUDA.cudart} and ${REQUIRED_CUDA.cudnnSoname}: ready for tfjs-node-gpu.`;
  } else {
    const missing = [
      !cudart11 ? `no CUDA 11 runtime (${REQUIRED_CUDA.cudart})` : null,
      !cudnn8 ? `no cuDNN 8 (${REQUIRED_CUDA.cudnnSoname})` : null,
      driverMajor < REQUIRED_CUDA.minDriver ? `driver ${found.driver} is too old` : null,
    ].filter((m): m is string => m !== null);
    verdict = `${gpuName} found, but ${missing.join(", ")}: tfjs-node-gpu would run on the CPU.`;
  }
  return { ready, verdict, advice };
}

/**
 * Looks for an NVIDIA GPU and the CUDA 11 runtime and cuDNN 8 libraries that
 * tfjs-node-gpu 4.22 loads: `ldconfig -p`, the folders on LD_LIBRARY_PATH,
 * /usr/local/cuda*, `nvidia-smi` and /proc/driver/nvidia/version.
 * Never throws: what cannot be read counts as absent.
 *
 * @example
 * const cuda = probeCuda();
 * console.log(cuda.verdict);
 */
export function probeCuda(io: CudaProbeIo = systemIo): CudaReport {
  const attempt = <T>(f: () => T, otherwise: T): T => {
    try {
      return f();
    } catch {
      return otherwise;
    }
  };
  const libraries: FoundLibrary[] = [];
  const ldconfig =
    attempt(() => io.run("ldconfig", ["-p"]), null) ?? attempt(() => io.run("/sbin/ldconfig", ["-p"]), "");
  libraries.push(...parseLdconfig(ldconfig));

  const toolkits: Array<{ path: string; version: string }> = [];
  const cudaDirs = attempt(() => io.readdir("/usr/local"), [] as string[])
    .filter((d) => /^cuda(-[\d.]+)?$/.test(d))
    .map((d) => path.posix.join("/usr/local", d));
  for (const dir of cudaDirs) {
    // version.json (CUDA >= 11.1), version.txt (older), or the runtime wheel's
    // dist-info folder where the toolkit was assembled from NVIDIA's pip wheels.
    const version =
      attempt(() => parseToolkitVersion(io.readFile(path.posix.join(dir, "version.json"))), null) ??
      attempt(() => parseToolkitVersion(io.readFile(path.posix.join(dir, "version.txt"))), null) ??
      attempt(
        () =>
          io
            .readdir(path.posix.join(dir, "dist-info"))
            .map((d) => /^nvidia_cuda_runtime(?:_cu\d+)?-([\d.]+)\.dist-info$/.exec(d)?.[1])
            .find((v): v is string => v !== undefined) ?? null,
        null,
      );
    if (version) toolkits.push({ path: dir, version });
  }
  const libraryDirs = [
    ...(io.env.LD_LIBRARY_PATH ?? "").split(":").filter((d) => d !== ""),
    ...cudaDirs.flatMap((d) => [path.posix.join(d, "lib64"), path.posix.join(d, "lib")]),
  ];
  for (const dir of libraryDirs) {
    for (const file of attempt(() => io.readdir(dir), [] as string[])) {
      if (CUDA_LIBRARY.test(file)) libraries.push({ name: file, path: path.posix.join(dir, file) });
    }
  }
  // One entry per soname: the first place the loader would look (ldconfig first).
  const unique = (kind: string) => {
    const seen = new Set<string>();
    return libraries.filter((l) => {
      if (!l.name.startsWith(`lib${kind}.so.`) || seen.has(l.name)) return false;
      seen.add(l.name);
      return true;
    });
  };

  const smi = parseNvidiaSmi(
    attempt(() => io.run("nvidia-smi", []), ""),
    attempt(
      () => io.run("nvidia-smi", ["--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"]),
      "",
    ),
  );
  const procDriver = attempt(() => io.readFile("/proc/driver/nvidia/version"), "");
  const driver = smi.driver ?? /Kernel Module\s+([\d.]+)/.exec(procDriver)?.[1] ?? null;

  const found = {
    gpus: smi.gpus,
    driver,
    driverCuda: smi.driverCuda,
    cudart: unique("cudart"),
    cudnn: unique("cudnn"),
    toolkits,
  };
  return { ...found, ...diagnoseCuda(found) };
}
