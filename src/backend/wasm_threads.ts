/**
 * Multi-threaded wasm under Node: runs tfjs's threaded SIMD build (XNNPACK
 * with a pthread pool on `worker_threads`) where tfjs 4.22 would fall back to
 * one thread.
 *
 * Why tfjs does not do this itself (tensorflow/tfjs issue 3830): the flag
 * `WASM_HAS_MULTITHREAD_SUPPORT` is false whenever `IS_NODE`, and forcing it
 * true fails, because tfjs hands emscripten's pthread glue two browser-only
 * things: the pthread worker script as a `blob:` URL, which Node's `Worker`
 * refuses (`ERR_WORKER_PATH`), and the main script as a `Blob`, which the
 * worker's `importScripts` (an `fs.readFileSync` under Node) cannot read. Past
 * those, the C++ side caps the pool at `logical cores / 2`, one thread on a
 * two-core machine.
 *
 * So this module builds the threaded module itself, from the files tfjs ships:
 * - the worker is a `data:` URL module that gives emscripten's worker code the
 *   `require` it expects; the main script is the glue file's own path;
 * - the core count the C++ reads once at start-up is reported as twice the
 *   threads asked for, so the cap lets exactly that many run;
 * - the module goes to tfjs's own `BackendWasm`, registered as `wasm`, so the
 *   wasm kernels (and any the workbook adds) run on it unchanged;
 * - pool threads are unref'd, so a script ends when its work does, and the
 *   `process` listeners and `globalThis.Worker` the glue installs are removed.
 */
import * as fs from "fs";
import * as os from "os";
// Registers the stock wasm backend and its kernels; BackendWasm runs them on our module.
import { BackendWasm, setThreadsCount, getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { stopSimdHelper } from "./simd_threads";
import { tf } from "./tf";
import { checkIntegerInRange } from "../validation/arguments";

/** What {@link enableWasmThreads} did. */
export interface WasmThreadsResult {
  /** True when `tf.setBackend("wasm")` will start (or has started) the threaded build. */
  enabled: boolean;
  /** Threads XNNPACK computes with: the caller's thread plus `threads - 1` workers. 1 when not enabled. */
  threads: number;
  /** Why it is or is not enabled, in one sentence. */
  reason: string;
}

/**
 * The most threads the threaded build can run: emscripten pre-creates 8
 * pthread workers (PTHREAD_POOL_SIZE) and tfjs caps its pool at 8.
 */
export const MAX_WASM_THREADS = 8;

/** tfjs registers wasm at this priority; keeping it leaves auto-selection unchanged. */
const WASM_PRIORITY = 2;

/** How long the pthread workers may take to load before initialisation fails. */
const WORKER_LOAD_TIMEOUT_MS = 60_000;

const PACKAGE = "@tensorflow/tfjs-backend-wasm";
const GLUE = `${PACKAGE}/wasm-out/tfjs-backend-wasm-threaded-simd.js`;
const WORKER_SOURCE = `${PACKAGE}/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js`;

/** The parts of a Node `Worker` that emscripten's pool keeps. */
interface PoolWorker {
  on(event: "error", listener: (error: unknown) => void): void;
  unref(): void;
  terminate(): unknown;
  onerror: ((error: unknown) => void) | null;
  loaded?: boolean;
}

/** The parts of the emscripten module this file touches. */
interface ThreadedModule {
  cwrap(name: string, returnType: string | null, argTypes: string[]): (...args: number[]) => number;
  asm: Record<string, (...args: number[]) => number>;
  PThread: {
    unusedWorkers: PoolWorker[];
    runningWorkers: PoolWorker[];
    terminateAllThreads(): void;
  };
  tfjs?: unknown;
  /** The shared memory the build imports. */
  wasmMemory?: WebAssembly.Memory;
}

interface FactoryConfig {
  locateFile(path: string, prefix: string): string | URL;
  mainScriptUrlOrBlob: string;
  instantiateWasm(
    this: ThreadedModule,
    imports: { env: Record<string, unknown> } & Record<string, unknown>,
    receiveInstance: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
  ): Record<string, never>;
  onAbort(what: unknown): void;
}

type ModuleFactory = (config: FactoryConfig) => Promise<ThreadedModule>;
type BackendFactory = () => tf.KernelBackend | Promise<tf.KernelBackend>;
type WasmModuleArg = ConstructorParameters<typeof BackendWasm>[0];

/** Engine fields tfjs-core declares public but does not re-export in its typings. */
interface EngineRegistry {
  registry: Record<string, tf.KernelBackend>;
  registryFactory: Record<string, { factory: BackendFactory; priority: number }>;
}

function engineRegistry(): EngineRegistry {
  return tf.engine() as unknown as EngineRegistry;
}

// A WebAssembly module using SIMD (v128) and atomics on a shared memory: the
// two features the threaded SIMD build needs (from wasm-feature-detect, as
// tfjs's own flags use).
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11,
]);
const THREADS_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 65, 0,
  254, 16, 2, 0, 26, 11,
]);

/** Why this runtime cannot run the threaded build, or null when it can. */
function runtimeProblem(): string | null {
  if (typeof process === "undefined" || !process.versions?.node) {
    return "not running under Node (in a browser, tfjs's own wasm backend already uses threads where the page is cross-origin isolated)";
  }
  if (typeof SharedArrayBuffer !== "function" || typeof Atomics !== "object") {
    return "this Node has no SharedArrayBuffer/Atomics";
  }
  try {
    require.resolve("worker_threads");
  } catch {
    return "this Node has no worker_threads";
  }
  if (!WebAssembly.validate(SIMD_PROBE)) return "this Node's WebAssembly has no SIMD";
  if (!WebAssembly.validate(THREADS_PROBE)) return "this Node's WebAssembly has no threads (atomics)";
  return null;
}

/**
 * The pthread worker as a `data:` URL. Node runs `data:` URLs as ES modules,
 * which have no `require`; emscripten's worker code (shipped as a string)
 * needs one, and `__filename`, so it runs inside a function given both.
 */
function workerUrl(gluePath: string): URL {
  const { wasmWorkerContents } = require(WORKER_SOURCE) as { wasmWorkerContents: string };
  // The string comes from a JS template literal, which turned the "\n" escapes
  // inside its string literals into real newlines; put the escapes back (tfjs
  // does the same before making its Blob).
  const body = wasmWorkerContents.replace(/\n/g, "\\n");
  const source =
    `import { createRequire } from "node:module";\n` +
    `const require = createRequire(${JSON.stringify(gluePath)});\n` +
    `new Function("require", "__filename", ${JSON.stringify(body)})(require, ${JSON.stringify(gluePath)});\n`;
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

/**
 * Instantiates the threaded SIMD module with `threads` XNNPACK threads.
 * Resolves once every pool worker has loaded the module.
 */
async function createThreadedModule(threads: number): Promise<ThreadedModule> {
  const gluePath = require.resolve(GLUE);
  const wasmPath = gluePath.replace(/\.js$/, ".wasm");
  const factory = require(GLUE) as ModuleFactory;
  const wasmBytes = await fs.promises.readFile(wasmPath);
  const worker = workerUrl(gluePath);

  const listenersBefore = {
    uncaughtException: process.listeners("uncaughtException"),
    unhandledRejection: process.listeners("unhandledRejection"),
  };
  const workerGlobal = Object.getOwnPropertyDescriptor(globalThis, "Worker");

  return new Promise<ThreadedModule>((resolve, reject) => {
    let settled = false;
    let started = false;
    let pool: ThreadedModule["PThread"] | null = null;
    let glueModule: ThreadedModule | null = null;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      pool?.terminateAllThreads();
      reject(new Error(`enableWasmThreads: the threaded wasm module failed to start: ${why}`));
    };
    const timer = setTimeout(
      () => fail(`its pthread workers did not load within ${WORKER_LOAD_TIMEOUT_MS / 1000} s`),
      WORKER_LOAD_TIMEOUT_MS,
    );

    const ready = factory({
      locateFile: (path, prefix) => (path.endsWith(".worker.js") ? worker : prefix + path),
      mainScriptUrlOrBlob: gluePath,
      // Emscripten calls this as a method of its module object.
      instantiateWasm(this: ThreadedModule, imports, receiveInstance) {
        const glue = this;
        glueModule = this;
        // backend.cc computes its thread cap once, as logical cores / 2.
        const env = { ...imports.env, emscripten_num_logical_cores: () => 2 * threads };
        WebAssembly.instantiate(wasmBytes, { ...imports, env }).then(
          ({ instance, module }) => {
            // Posts the module to the pool workers and attaches their handlers.
            receiveInstance(instance, module);
            pool = glue.PThread;
            // The glue rethrows a worker's error from an event handler, which
            // kills the process; while starting, fail setBackend instead.
            for (const w of pool.unusedWorkers) {
              const rethrow = w.onerror;
              w.onerror = (error) => {
                if (started) rethrow?.(error);
                else fail(`a pthread worker failed: ${error instanceof Error ? error.message : String(error)}`);
              };
            }
          },
          (error: unknown) => fail(String(error)),
        );
        return {};
      },
      onAbort: (what) => fail(String(what)),
    });

    // The pool workers exist now (the glue made them synchronously), but the
    // glue listens for their errors only once the module is instantiated; an
    // error before that would be an unhandled 'error' event, fatal to Node.
    const earlyWorkers = (glueModule as ThreadedModule | null)?.PThread?.unusedWorkers ?? [];
    for (const w of earlyWorkers) {
      w.on("error", (error) => fail(`a pthread worker failed: ${error instanceof Error ? error.message : String(error)}`));
    }

    // The glue did these synchronously inside the factory call: it set
    // globalThis.Worker and added process listeners that rethrow.
    if (workerGlobal) Object.defineProperty(globalThis, "Worker", workerGlobal);
    else delete (globalThis as { Worker?: unknown }).Worker;
    for (const listener of process.listeners("uncaughtException")) {
      if (!listenersBefore.uncaughtException.includes(listener)) process.removeListener("uncaughtException", listener);
    }
    for (const listener of process.listeners("unhandledRejection")) {
      if (!listenersBefore.unhandledRejection.includes(listener)) process.removeListener("unhandledRejection", listener);
    }

    ready.then(
      (module) => {
        if (settled) return;
        settled = true;
        started = true;
        clearTimeout(timer);
        resolve(module);
      },
      (error: unknown) => fail(error instanceof Error ? error.message : String(error)),
    );
  });
}

/** The `tfjs` bridge BackendWasm expects on its module (as tfjs's own init builds it). */
function attachBridge(module: ThreadedModule): WasmModuleArg {
  module.tfjs = {
    init: module.cwrap("init", null, []),
    initWithThreadsCount: module.cwrap("init_with_threads_count", null, ["number"]),
    getThreadsCount: module.cwrap("get_threads_count", "number", []),
    registerTensor: module.cwrap("register_tensor", null, ["number", "number", "number"]),
    disposeData: module.cwrap("dispose_data", null, ["number"]),
    // The glue's Module._dispose also strips every uncaughtException and
    // unhandledRejection listener in the process (a filter bug in tfjs's
    // post.js); the raw export only frees tensors.
    dispose: () => module.asm["dispose"](),
  };
  return module as unknown as WasmModuleArg;
}

async function createThreadedBackend(threads: number): Promise<tf.KernelBackend> {
  const module = await createThreadedModule(threads);
  setThreadsCount(threads);
  // The constructor creates XNNPACK's pool: threads - 1 pthreads.
  const backend = new BackendWasm(attachBridge(module));
  const actual = getThreadsCount();
  if (actual !== threads) {
    backend.dispose();
    throw new Error(`enableWasmThreads: asked XNNPACK for ${threads} threads, it started ${actual}`);
  }
  // Running pthreads are ref'd by emscripten and would keep Node alive after
  // the script's last line; computation never waits on Node's event loop
  // (the caller blocks in wasm until the pool is done), so nothing is lost.
  for (const worker of module.PThread.runningWorkers) worker.unref();
  // Emscripten pre-created 8 workers; XNNPACK creates its threads only in
  // the constructor above, so the idle rest only hold memory (about 7 MB each).
  for (const worker of module.PThread.unusedWorkers.splice(0)) void worker.terminate();
  // Our SIMD loops' helper thread (simd_threads.ts) holds this memory: it ends with the backend.
  const dispose = backend.dispose.bind(backend);
  backend.dispose = () => {
    if (module.wasmMemory instanceof WebAssembly.Memory) stopSimdHelper(module.wasmMemory);
    dispose();
  };
  return backend;
}

let stockFactory: { factory: BackendFactory; priority: number } | null = null;
let threadsEnabled = 0;

/**
 * Makes the `wasm` backend run tfjs's threaded SIMD build with `threads`
 * threads under Node. Call it before `tf.setBackend("wasm")`. Same kernels,
 * same XNNPACK as the single-threaded build; XNNPACK's matMuls and
 * convolutions split across the threads (tfjs's own C++ kernels, such as
 * Conv2DBackpropInput, stay on one).
 *
 * Returns `enabled: false` (and changes nothing) when this runtime cannot run
 * it, or when wasm already started single-threaded: its tensors would be lost
 * by a restart. A failure while starting the workers makes
 * `tf.setBackend("wasm")` resolve `false`, as any backend that fails to start;
 * {@link disableWasmThreads} then brings back tfjs's own single-threaded wasm.
 * Each pool thread is a Node worker (about 35 MB of memory for 2 threads); idle
 * ones cost no CPU. `tf.removeBackend("wasm")` or {@link disableWasmThreads}
 * terminates them.
 *
 * @param threads XNNPACK threads, an integer in [1, 8]; default: the cores
 *   Node may use (`os.availableParallelism()`), at most 8.
 * @example
 * const { enabled, threads, reason } = enableWasmThreads();
 * await tf.setBackend("wasm");
 * console.log(enabled ? `wasm on ${threads} threads` : reason);
 */
export function enableWasmThreads(threads?: number): WasmThreadsResult {
  const cores = os.availableParallelism();
  const count = threads ?? Math.min(cores, MAX_WASM_THREADS);
  checkIntegerInRange("enableWasmThreads", "threads", count, 1, MAX_WASM_THREADS);
  const problem = runtimeProblem();
  if (problem) return { enabled: false, threads: 1, reason: problem };

  const engine = engineRegistry();
  if (engine.registry["wasm"] != null) {
    if (threadsEnabled > 0) {
      return {
        enabled: true,
        threads: threadsEnabled,
        reason: `wasm already runs the threaded build on ${threadsEnabled} threads; tf.removeBackend("wasm") first to change the count`,
      };
    }
    return {
      enabled: false,
      threads: 1,
      reason: `wasm already started single-threaded; call enableWasmThreads before tf.setBackend("wasm")`,
    };
  }

  const current = engine.registryFactory["wasm"];
  if (current == null) {
    // Unreachable while this module imports tfjs-backend-wasm, which registers it.
    throw new Error(`enableWasmThreads: no "wasm" backend is registered with the engine`);
  }
  if (stockFactory == null) stockFactory = current;
  tf.removeBackend("wasm");
  tf.registerBackend("wasm", () => createThreadedBackend(count), WASM_PRIORITY);
  threadsEnabled = count;
  return {
    enabled: true,
    threads: count,
    reason: `wasm will run tfjs's threaded SIMD build on ${count} of ${cores} cores`,
  };
}

/**
 * Undoes {@link enableWasmThreads}: disposes a running threaded wasm backend
 * (its tensors with it) and registers tfjs's own single-threaded factory
 * again. Does nothing when threads were never enabled.
 *
 * @example
 * disableWasmThreads();
 * await tf.setBackend("wasm"); // single-threaded SIMD build
 */
export function disableWasmThreads(): void {
  if (stockFactory == null) return;
  if (engineRegistry().registryFactory["wasm"] != null) tf.removeBackend("wasm");
  tf.registerBackend("wasm", stockFactory.factory, stockFactory.priority);
  stockFactory = null;
  threadsEnabled = 0;
}
