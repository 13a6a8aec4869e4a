/**
 * Chooses the fastest TensorFlow.js backend this machine can run, and says
 * why the faster ones are not in use.
 *
 * Order: native TensorFlow on a GPU (`@tensorflow/tfjs-node-gpu`), native
 * TensorFlow on the CPU (`@tensorflow/tfjs-node`), WebAssembly (the default
 * here: no download, SIMD), then the pure-JavaScript `cpu` backend. The
 * native packages download libtensorflow when installed, so they are never
 * part of the default install: `npm run setup:native` / `npm run setup:gpu`.
 */
import * as os from "os";
import * as path from "path";
// Registers the wasm backend factory and its WASM_* flags with the engine.
import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { tf } from "./tf";
import { enableWasmThreads, MAX_WASM_THREADS } from "./wasm_threads";
import { CudaReport, probeCuda } from "./cuda";
import { checkPositiveInteger } from "../validation/arguments";

/** A backend the workbook can run on. */
export type BackendName = "tensorflow" | "wasm" | "cpu";

/** What {@link setupBackend} is asked for: one backend, or the fastest available. */
export type BackendPreference = BackendName | "auto";

/** Environment variable that overrides the preference passed to {@link setupBackend}. */
export const BACKEND_ENV_VAR = "SSL_WORKBOOK_BACKEND";

/** The npm packages that provide native TensorFlow. */
export type NativePackage = "@tensorflow/tfjs-node-gpu" | "@tensorflow/tfjs-node";

/** A faster option than the active backend. */
export type BackendOption = "tensorflow-gpu" | "tensorflow-cpu" | "wasm";

/** Why one faster option is not the active backend, and how to enable it. */
export interface BackendReason {
  /** The option: native TensorFlow on GPU, native TensorFlow on CPU, or wasm. */
  option: BackendOption;
  /** The npm package providing it. */
  package: string;
  /** Why it is not active, with the loader's error message where there was one. */
  why: string;
  /** The exact command that would enable it, or null when nothing can on this machine. */
  enable: string | null;
}

/** The active backend, as {@link setupBackend} and {@link backendReport} describe it. */
export interface BackendReport {
  /** The active tf backend. */
  name: BackendName;
  /** `tfjs 4.22.0`, plus the native TensorFlow and package version when native. */
  version: string;
  /** True when the wasm backend runs its SIMD build. */
  simd: boolean;
  /** Threads the backend computes with. */
  threads: number;
  /** The GPU TensorFlow computes on, or null. */
  gpu: string | null;
  /** For each faster option not in use: why, and how to enable it. */
  reasons: BackendReason[];
  /** What was asked for, and where the request came from. */
  requested: { preference: BackendPreference; from: "argument" | "environment" | "default" };
  /** Training kernels the workbook registered for this backend (wasm, cpu). */
  kernels: string[];
}

/** Options of {@link setupBackend}. */
export interface SetupBackendOptions {
  /**
   * Threads of the wasm backend's pool (its threaded SIMD build, started
   * under Node's worker_threads by `enableWasmThreads`). Default: the
   * environment variable `SSL_WORKBOOK_WASM_THREADS`, else every core (at
   * most 8). 1 keeps tfjs's single-threaded build. It applies only before
   * wasm first starts in this process; the report says what is used.
   */
  threads?: number;
}

/** A package.json as found from some folder. */
export interface PackageInfo {
  /** Its "name" field (an npm alias keeps the aliased package's name). */
  name: string;
  /** Its "version" field. */
  version: string;
  /** The folder holding it. */
  dir: string;
}

/** What a loaded native package reports. */
export interface NativeInfo {
  /** libtensorflow version, e.g. `2.9.1`. */
  tensorflowVersion: string;
  /** True when TensorFlow placed ops on a GPU. */
  usingGpu: boolean;
}

/**
 * Everything backend selection does to the outside world; tests pass fakes
 * so every branch runs without native packages or GPUs.
 * @internal
 */
export interface BackendProbes {
  /** Environment variables. */
  env: Record<string, string | undefined>;
  /** The package.json `request` resolves to from `fromDir` (default: this library), or null. */
  findPackage(request: string, fromDir?: string): PackageInfo | null;
  /** Loads a native package into the library's engine; throws the loader's error. */
  loadNative(pkg: NativePackage, info: PackageInfo): NativeInfo;
  /** Makes `name` the active tf backend; throws with the cause if it cannot. */
  activate(name: BackendName): Promise<void>;
  /** Registers the workbook's training kernels for wasm or cpu; returns their names. */
  registerKernels(name: "wasm" | "cpu"): Promise<string[]>;
  /** The CUDA / GPU findings. */
  cuda(): CudaReport;
}

/** The outcome of {@link chooseBackend}. @internal */
export interface BackendChoice {
  name: BackendName;
  native: (NativeInfo & { package: PackageInfo }) | null;
  gpu: string | null;
  reasons: BackendReason[];
  requested: BackendReport["requested"];
  kernels: string[];
}

const PREFERENCES: readonly BackendPreference[] = ["auto", "tensorflow", "wasm", "cpu"];

const SETUP_COMMAND: Record<NativePackage, string> = {
  "@tensorflow/tfjs-node-gpu": "npm run setup:gpu",
  "@tensorflow/tfjs-node": "npm run setup:native",
};

const NO_DEVICE = "loaded, but TensorFlow found no usable GPU and runs on the CPU";

function parsePreference(value: unknown, where: string): BackendPreference {
  if (typeof value === "string" && (PREFERENCES as readonly string[]).includes(value)) {
    return value as BackendPreference;
  }
  throw new Error(
    `setupBackend: ${where} must be one of ${PREFERENCES.join(", ")}, got ${JSON.stringify(value)}`,
  );
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n").find((l) => l.trim() !== "")?.trim() ?? "(no message)";
}

type NativeAttempt =
  | { ok: true; info: PackageInfo; native: NativeInfo }
  | { ok: false; status: "missing" | "refused" | "failed" | "not-tried"; why: string };

/**
 * Whether `info` (a native package) would share the library's tfjs-core.
 * tfjs-node requires "@tensorflow/tfjs", which requires "@tensorflow/tfjs-core":
 * both must resolve to the library's own copies, or the native backend would
 * live beside a second engine's classes whose tensors the library cannot use.
 */
function secondCopyProblem(probes: BackendProbes, info: PackageInfo): string | null {
  const ourTfjs = probes.findPackage("@tensorflow/tfjs");
  const ourCore = ourTfjs ? probes.findPackage("@tensorflow/tfjs-core", ourTfjs.dir) : null;
  const theirTfjs = probes.findPackage("@tensorflow/tfjs", info.dir);
  const theirCore = theirTfjs ? probes.findPackage("@tensorflow/tfjs-core", theirTfjs.dir) : null;
  if (!ourTfjs || !ourCore) return "cannot locate the library's own @tensorflow/tfjs-core";
  if (!theirTfjs || !theirCore) {
    return `${info.name}@${info.version} cannot find @tensorflow/tfjs (a broken install)`;
  }
  if (theirTfjs.dir !== ourTfjs.dir || theirCore.dir !== ourCore.dir) {
    return (
      `${info.name}@${info.version} would load a second copy of TensorFlow.js ` +
      `(@tensorflow/tfjs-core ${theirCore.version} in ${theirCore.dir}; the library uses ` +
      `${ourCore.version} in ${ourCore.dir}), whose tensors the library cannot use; ` +
      `install ${info.name}@${ourTfjs.version} so npm shares one copy`
    );
  }
  return null;
}

/**
 * Finds, checks and loads one native package; with `notTried` set, only
 * finds and checks it (loading would switch the active backend).
 */
function tryNative(probes: BackendProbes, pkg: NativePackage, notTried: string | null): NativeAttempt {
  const info = probes.findPackage(pkg);
  if (!info) return { ok: false, status: "missing", why: "not installed" };
  if (info.name !== pkg) {
    return {
      ok: false,
      status: "missing",
      why:
        `not installed: ${info.dir} holds ${info.name}@${info.version}, an npm alias ` +
        `(danfojs-node's override), not the native package`,
    };
  }
  const problem = secondCopyProblem(probes, info);
  if (problem) return { ok: false, status: "refused", why: `installed but refused: ${problem}` };
  if (notTried !== null) return { ok: false, status: "not-tried", why: `installed, not tried: ${notTried}` };
  try {
    return { ok: true, info, native: probes.loadNative(pkg, info) };
  } catch (error) {
    return { ok: false, status: "failed", why: `installed but failed to load: ${firstLine(error)}` };
  }
}

/**
 * The reason one native option is not in use. `status` "no-device" means
 * tfjs-node-gpu loaded but TensorFlow found no GPU; `switchCommand` is how to
 * stop asking for something else.
 */
function nativeReason(
  probes: BackendProbes,
  pkg: NativePackage,
  status: Exclude<NativeAttempt, { ok: true }>["status"] | "no-device",
  why: string,
  switchCommand: string,
): BackendReason {
  const setup = SETUP_COMMAND[pkg];
  if (pkg === "@tensorflow/tfjs-node") {
    return { option: "tensorflow-cpu", package: pkg, why, enable: status === "not-tried" ? switchCommand : setup };
  }
  const cuda = probes.cuda();
  const hasGpu = cuda.gpus.length > 0 || cuda.driver !== null;
  let enable: string | null;
  if (!hasGpu) enable = null;
  else if (status === "not-tried") enable = switchCommand;
  else if (!cuda.ready && (status === "failed" || status === "no-device")) enable = "npm run doctor (lists what CUDA needs)";
  else enable = setup;
  return { option: "tensorflow-gpu", package: pkg, why: `${why}; ${cuda.verdict}`, enable };
}

/**
 * Picks and activates a backend with the given probes; the logic of
 * {@link setupBackend} without its side effects on the real system.
 * @internal
 */
export async function chooseBackend(
  preference: BackendPreference | undefined,
  probes: BackendProbes,
): Promise<BackendChoice> {
  let requested: BackendReport["requested"];
  const fromEnv = probes.env[BACKEND_ENV_VAR];
  if (fromEnv !== undefined && fromEnv !== "") {
    requested = { preference: parsePreference(fromEnv, BACKEND_ENV_VAR), from: "environment" };
  } else if (preference !== undefined) {
    requested = { preference: parsePreference(preference, "preference"), from: "argument" };
  } else {
    requested = { preference: "auto", from: "default" };
  }
  const want = requested.preference;
  const asked =
    requested.from === "environment" ? `${BACKEND_ENV_VAR}=${want}` : `setupBackend("${want}")`;
  const switchCommand =
    requested.from === "environment" ? `unset ${BACKEND_ENV_VAR}` : `setupBackend("auto")`;
  const reasons: BackendReason[] = [];
  const failures: string[] = [];

  const done = async (
    name: BackendName,
    native: BackendChoice["native"] = null,
    gpu: string | null = null,
  ): Promise<BackendChoice> => {
    const kernels = name === "tensorflow" ? [] : await probes.registerKernels(name);
    return { name, native, gpu, reasons, requested, kernels };
  };

  // Native TensorFlow: tried for "auto" and "tensorflow"; otherwise only reported.
  const tryTensorflow = want === "auto" || want === "tensorflow";
  for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"] as const) {
    const attempt = tryNative(probes, pkg, tryTensorflow ? null : asked);
    if (attempt.ok) {
      await probes.activate("tensorflow");
      const native = { ...attempt.native, package: attempt.info };
      if (native.usingGpu) {
        const cuda = probes.cuda();
        const gpu = `${cuda.gpus[0] ?? "an NVIDIA GPU"} (TensorFlow ${native.tensorflowVersion}, CUDA)`;
        return done("tensorflow", native, gpu);
      }
      if (pkg === "@tensorflow/tfjs-node-gpu") {
        reasons.push(nativeReason(probes, pkg, "no-device", NO_DEVICE, switchCommand));
      }
      return done("tensorflow", native, null);
    }
    reasons.push(nativeReason(probes, pkg, attempt.status, attempt.why, switchCommand));
    failures.push(`${pkg}: ${attempt.why.replace(/\.+$/, "")}`);
  }
  if (want === "tensorflow") {
    throw new Error(
      `setupBackend: backend "tensorflow" was requested (${asked}) but cannot be used: ` +
        `${failures.join("; ")}. Run npm run setup:native (or npm run setup:gpu), or ask for "auto".`,
    );
  }

  if (want === "auto" || want === "wasm") {
    try {
      await probes.activate("wasm");
      return done("wasm");
    } catch (error) {
      if (want === "wasm") {
        throw new Error(
          `setupBackend: backend "wasm" was requested (${asked}) but failed to initialise: ${firstLine(error)}`,
        );
      }
      reasons.push({
        option: "wasm",
        package: "@tensorflow/tfjs-backend-wasm",
        why: `failed to initialise: ${firstLine(error)}`,
        enable: "npm ci (reinstalls @tensorflow/tfjs-backend-wasm)",
      });
    }
  } else {
    reasons.push({
      option: "wasm",
      package: "@tensorflow/tfjs-backend-wasm",
      why: `not tried: ${asked}`,
      enable: switchCommand,
    });
  }

  try {
    await probes.activate("cpu");
  } catch (error) {
    throw new Error(`setupBackend: no backend could be initialised; cpu failed: ${firstLine(error)}`);
  }
  return done("cpu");
}

// ---------------------------------------------------------------------------
// The real system.

interface NodeBackendLike {
  binding?: { TF_Version?: string };
  isUsingGpuDevice?: boolean;
}

function findPackageOnDisk(request: string, fromDir: string = __dirname): PackageInfo | null {
  try {
    const file = require.resolve(`${request}/package.json`, { paths: [fromDir] });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const json = require(file) as { name?: string; version?: string };
    return { name: String(json.name), version: String(json.version), dir: path.dirname(file) };
  } catch {
    return null;
  }
}

function loadNativeIntoEngine(pkg: NativePackage, info: PackageInfo): NativeInfo {
  const hadTensorflow = tf.findBackendFactory("tensorflow") != null;
  try {
    // Loading registers the "tensorflow" backend (priority 3) and activates it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(info.dir);
  } catch (error) {
    // A binding that loaded but whose backend failed to start leaves a broken
    // registration behind: remove it so "auto" cannot fall into it later.
    if (!hadTensorflow && tf.findBackendFactory("tensorflow") != null) tf.removeBackend("tensorflow");
    throw error;
  }
  const backend = tf.findBackend("tensorflow") as unknown as NodeBackendLike | null;
  if (!backend) {
    throw new Error(`${pkg} loaded but registered no "tensorflow" backend in the library's engine`);
  }
  return {
    tensorflowVersion: backend.binding?.TF_Version ?? "unknown",
    usingGpu: backend.isUsingGpuDevice === true,
  };
}

async function activateBackend(name: BackendName): Promise<void> {
  if (tf.findBackendFactory(name) == null) {
    throw new Error(`the "${name}" backend is not registered with TensorFlow.js`);
  }
  // tfjs reports an initialisation failure only through console.warn; keep it for the reason.
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map(String).join(" "));
  };
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } finally {
    console.warn = warn;
  }
  if (!ok) {
    const cause = warnings.filter((w) => !/^Initialization of backend/.test(w)).join(" ");
    throw new Error(`tf.setBackend("${name}") failed${cause ? `: ${firstLine(cause)}` : ""}`);
  }
  for (const w of warnings) warn(w);
}

async function registerKernelsFor(name: "wasm" | "cpu"): Promise<string[]> {
  try {
    const kernels = await import("./kernels");
    return kernels.registerTrainingKernels(name);
  } catch (error) {
    throw new Error(`setupBackend: could not register the training kernels for ${name}: ${firstLine(error)}`);
  }
}

function systemProbes(): BackendProbes {
  let cuda: CudaReport | null = null;
  return {
    env: process.env,
    findPackage: findPackageOnDisk,
    loadNative: loadNativeIntoEngine,
    activate: activateBackend,
    registerKernels: registerKernelsFor,
    cuda: () => (cuda ??= probeCuda()),
  };
}

// Each selection, keyed by the backend instance it activated, so
// backendReport() can repeat the reasons without probing again.
const choices = new WeakMap<object, BackendChoice>();

function cores(): number {
  return typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
}

function describe(choice: BackendChoice): BackendReport {
  const tfjs = `tfjs ${tf.version.tfjs}`;
  const flags = tf.env().getFlags();
  switch (choice.name) {
    case "tensorflow": {
      const native = choice.native;
      return {
        name: "tensorflow",
        version: native
          ? `${tfjs}, TensorFlow ${native.tensorflowVersion} (${native.package.name} ${native.package.version})`
          : tfjs,
        simd: false,
        // TensorFlow sizes its intra-op pool to the machine's cores by default.
        threads: cores(),
        gpu: choice.gpu,
        reasons: choice.reasons,
        requested: choice.requested,
        kernels: choice.kernels,
      };
    }
    case "wasm":
      return {
        name: "wasm",
        version: `${tfjs} (wasm backend)`,
        simd: flags["WASM_HAS_SIMD_SUPPORT"] === true,
        threads: getThreadsCount(),
        gpu: null,
        reasons: choice.reasons,
        requested: choice.requested,
        kernels: choice.kernels,
      };
    case "cpu":
      return {
        name: "cpu",
        version: `${tfjs} (cpu backend, plain JavaScript)`,
        simd: false,
        threads: 1,
        gpu: null,
        reasons: choice.reasons,
        requested: choice.requested,
        kernels: choice.kernels,
      };
  }
}

/** The environment variable that sets the wasm backend's thread count. */
export const WASM_THREADS_ENV_VAR = "SSL_WORKBOOK_WASM_THREADS";

/** The thread count `SSL_WORKBOOK_WASM_THREADS` asks for, or undefined when unset. */
export function wasmThreadsFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env[WASM_THREADS_ENV_VAR];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`setupBackend: ${WASM_THREADS_ENV_VAR} must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/**
 * Selects, initialises and reports the TensorFlow.js backend: native
 * TensorFlow on a GPU, native TensorFlow on the CPU, wasm, then cpu — the
 * first that works for `"auto"`. An explicit backend that cannot be used
 * throws instead of falling back. The environment variable
 * `SSL_WORKBOOK_BACKEND` (auto, tensorflow, wasm, cpu) overrides
 * `preference`. Registers the workbook's training kernels for wasm and cpu.
 *
 * @param preference `"auto"` (default) or a backend name.
 * @returns The report: backend, versions, SIMD, threads, GPU, and for every
 *   faster option not in use why not and the command that would enable it.
 *
 * @example
 * const report = await setupBackend();      // fastest available
 * await setupBackend("cpu");                // exactly cpu, or an error
 */
export async function setupBackend(
  preference?: BackendPreference,
  options: SetupBackendOptions = {},
): Promise<BackendReport> {
  const threads = options.threads ?? wasmThreadsFromEnv(process.env);
  if (threads !== undefined) checkPositiveInteger("setupBackend", "options.threads", threads);
  // Only swaps the registered wasm factory; no worker starts unless wasm is chosen.
  if (threads !== 1) enableWasmThreads(threads === undefined ? undefined : Math.min(threads, MAX_WASM_THREADS));
  const choice = await chooseBackend(preference, systemProbes());
  const instance = tf.findBackend(choice.name);
  if (choice.name === "cpu" && choice.requested.preference === "cpu" && instance) {
    // The cpu backend greets its first tensor with advice to install
    // tfjs-node; cpu was asked for on purpose and the report explains.
    (instance as unknown as { firstUse?: boolean }).firstUse = false;
  }
  if (instance) choices.set(instance, choice);
  // The threaded build starts without tfjs evaluating its SIMD flag; evaluate
  // it so the report (and backendReport later) reads the real value.
  if (choice.name === "wasm") await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  return describe(choice);
}

/**
 * The report of the active backend, without changing anything: no backend
 * is initialised and no package is loaded. After {@link setupBackend} it
 * repeats that call's reasons; for a backend activated otherwise (plain
 * `tf.setBackend`) the reasons come from what is installed.
 *
 * @example
 * await setupBackend();
 * backendReport().name; // "wasm"
 */
export function backendReport(): BackendReport {
  const name = tf.engine().backendName as string | null;
  if (name !== "tensorflow" && name !== "wasm" && name !== "cpu") {
    throw new Error(
      `backendReport: the active backend must be one of tensorflow, wasm, cpu (call setupBackend() first), got ${JSON.stringify(name)}`,
    );
  }
  const instance = tf.findBackend(name);
  const remembered = instance ? choices.get(instance) : undefined;
  if (remembered) return describe(remembered);

  const probes = systemProbes();
  const reasons: BackendReason[] = [];
  let native: BackendChoice["native"] = null;
  let gpu: string | null = null;
  if (name === "tensorflow") {
    const backend = instance as unknown as NodeBackendLike & { isGPUPackage?: boolean };
    const pkg: NativePackage = backend.isGPUPackage ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node";
    const info = probes.findPackage(pkg) ?? { name: pkg, version: "unknown", dir: "" };
    native = {
      tensorflowVersion: backend.binding?.TF_Version ?? "unknown",
      usingGpu: backend.isUsingGpuDevice === true,
      package: info,
    };
    if (native.usingGpu) gpu = `${probes.cuda().gpus[0] ?? "an NVIDIA GPU"} (TensorFlow ${native.tensorflowVersion}, CUDA)`;
  }
  const faster: NativePackage[] =
    name === "tensorflow"
      ? native?.usingGpu ? [] : ["@tensorflow/tfjs-node-gpu"]
      : ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"];
  for (const pkg of faster) {
    if (native && native.package.name === pkg) {
      reasons.push(nativeReason(probes, pkg, "no-device", NO_DEVICE, `setupBackend("auto")`));
      continue;
    }
    const attempt = tryNative(probes, pkg, `the ${name} backend was set directly`);
    if (!attempt.ok) reasons.push(nativeReason(probes, pkg, attempt.status, attempt.why, `setupBackend("auto")`));
  }
  if (name === "cpu") {
    reasons.push({
      option: "wasm",
      package: "@tensorflow/tfjs-backend-wasm",
      why: "not selected (the cpu backend was set directly)",
      enable: `setupBackend("auto")`,
    });
  }
  return describe({
    name,
    native,
    gpu,
    reasons,
    requested: { preference: name, from: "argument" },
    kernels: [],
  });
}
