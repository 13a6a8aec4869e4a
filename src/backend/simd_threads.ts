/**
 * A second thread for our generated SIMD loops (wasm_simd.ts). XNNPACK's
 * kernels run on the wasm backend's thread pool; ours ran on the calling
 * thread alone, so on two cores they used half the machine. Here one helper
 * `Worker` instantiates the same module on the backend's shared memory and
 * runs one part of a call while the calling thread runs the other; the two
 * parts must write disjoint memory.
 *
 * The calling thread blocks (`Atomics.wait`) until the helper is done, so a
 * kernel stays synchronous, as tfjs kernels are. Commands go through a small
 * shared control block, modules through a message port the helper reads
 * synchronously. Only shared memories (the threaded build) get a helper, and
 * only when the backend computes with more than one thread.
 */
import { MessageChannel, MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import { simdModuleOf } from "./wasm_simd";

/** Control block slots (Int32). */
const SEQ = 0, DONE = 1, STATUS = 2, COMMAND = 3, FUNCTION = 4, ARGC = 5, ARGS = 6;
const MAX_ARGS = 32;
const CALL = 1, LOAD = 2;
/**
 * How long the caller waits for the helper before it reports a fault. The
 * helper reports its own failures, so this only ends a wait on a thread that
 * died (terminated, out of memory); no part of a kernel at workbook scale
 * comes near it.
 */
const ANSWER_MS = 600_000;

// The helper: waits for a command, runs it, reports. Plain JavaScript (it is
// evaluated, not compiled by tsc); failures are reported, never thrown, so
// the caller never waits on a dead thread.
const HELPER_SOURCE = `
const { workerData, receiveMessageOnPort } = require("node:worker_threads");
const { memory, control, port } = workerData;
const ctl = new Int32Array(control);
const functions = [];
let seen = 0;
for (;;) {
  Atomics.wait(ctl, ${SEQ}, seen);
  seen = Atomics.load(ctl, ${SEQ});
  let status = 0;
  try {
    if (ctl[${COMMAND}] === ${LOAD}) {
      const { module, names } = receiveMessageOnPort(port).message;
      const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
      for (const name of names) functions.push(exports[name]);
    } else {
      const args = [];
      for (let i = 0; i < ctl[${ARGC}]; i++) args.push(ctl[${ARGS} + i]);
      functions[ctl[${FUNCTION}]](...args);
    }
  } catch (err) {
    status = 1;
  }
  Atomics.store(ctl, ${STATUS}, status);
  Atomics.store(ctl, ${DONE}, seen);
  Atomics.notify(ctl, ${DONE});
}
`;

/** One helper thread bound to one shared memory. */
class SimdHelper {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(4 * (ARGS + MAX_ARGS)));
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private seq = 0;
  /** Index of each loaded function in the helper, by module and export name. */
  private readonly loaded = new WeakMap<WebAssembly.Module, Map<string, number>>();
  private count = 0;

  constructor(memory: WebAssembly.Memory) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(HELPER_SOURCE, { eval: true, workerData: { memory, control: this.ctl.buffer, port: port2 }, transferList: [port2] });
    // The helper must not keep a finished program alive.
    this.worker.unref();
    this.port.unref();
  }

  /** The helper's index of export `name` of `module`, loading the module once. */
  index(module: WebAssembly.Module, name: string): number {
    let byName = this.loaded.get(module);
    if (byName === undefined) {
      const names = WebAssembly.Module.exports(module).map((e) => e.name);
      byName = new Map(names.map((n, i) => [n, this.count + i]));
      this.port.postMessage({ module, names });
      this.ctl[COMMAND] = LOAD;
      this.signal();
      this.await("loading a module");
      this.loaded.set(module, byName);
      this.count += names.length;
    }
    return byName.get(name)!;
  }

  /** Ends the helper thread. */
  stop(): void {
    void this.worker.terminate();
    this.port.close();
  }

  /** Starts function `index` on the helper with `args` (int32); {@link await} before reusing the helper. */
  start(index: number, args: number[]): void {
    if (args.length > MAX_ARGS) throw new Error(`simd_threads: at most ${MAX_ARGS} arguments, got ${args.length}`);
    this.ctl[COMMAND] = CALL;
    this.ctl[FUNCTION] = index;
    this.ctl[ARGC] = args.length;
    for (let i = 0; i < args.length; i++) this.ctl[ARGS + i] = args[i];
    this.signal();
  }

  private signal(): void {
    this.seq = (this.seq + 1) | 0;
    Atomics.store(this.ctl, SEQ, this.seq);
    Atomics.notify(this.ctl, SEQ);
  }

  /** Blocks until the helper has finished the last command; throws if it failed. */
  await(what: string): void {
    const started = Date.now();
    for (;;) {
      const done = Atomics.load(this.ctl, DONE);
      if (done === this.seq) break;
      if (Date.now() - started > ANSWER_MS) throw new Error(`simd_threads: the helper thread did not finish ${what} within ${ANSWER_MS / 1000} s`);
      Atomics.wait(this.ctl, DONE, done, 1000);
    }
    if (Atomics.load(this.ctl, STATUS) !== 0) throw new Error(`simd_threads: the helper thread failed ${what}`);
  }
}

const helpers = new WeakMap<WebAssembly.Memory, SimdHelper | null>();

/**
 * The threads the wasm backend instance `backend` computes with (1 for
 * anything else). Read from the instance, not from tfjs-backend-wasm's
 * module: importing that module from a kernel would register the wasm
 * backend as a side effect.
 *
 * @example
 * runSplit(memory, kernels, name, backendThreads(host.backend), callerArgs, helperArgs);
 */
export function backendThreads(backend: unknown): number {
  const count = (backend as { wasm?: { tfjs?: { getThreadsCount?: () => number } } } | null)?.wasm?.tfjs?.getThreadsCount?.();
  return typeof count === "number" && count >= 1 ? count : 1;
}

function helperFor(memory: WebAssembly.Memory): SimdHelper | null {
  if (!helpers.has(memory)) {
    let helper: SimdHelper | null = null;
    if (typeof SharedArrayBuffer === "function" && memory.buffer instanceof SharedArrayBuffer) {
      try {
        helper = new SimdHelper(memory);
      } catch {
        helper = null;
      }
    }
    helpers.set(memory, helper);
  }
  return helpers.get(memory) ?? null;
}

/** Whether `memory` has a running helper thread. */
export function hasSimdHelper(memory: WebAssembly.Memory): boolean {
  return helpers.get(memory) != null;
}

/**
 * Ends the helper thread of `memory`, if it has one (the wasm backend calls
 * this when it is disposed: the helper holds the memory).
 *
 * @example
 * stopSimdHelper(memory); // a later runSplit on it runs both parts here
 */
export function stopSimdHelper(memory: WebAssembly.Memory): void {
  helpers.get(memory)?.stop();
  // Disposed memories are never used again; null keeps a stray call from starting a new helper.
  helpers.set(memory, null);
}

/**
 * Runs export `name` of `exports` (from `simdKernels`, instantiated on
 * `memory`) as two parts: `helperArgs` on the helper thread and `callerArgs`
 * here, at the same time, and returns when both are done. With `threads`
 * below 2, or a memory that is not shared, both parts run here, one after
 * the other. The parts must write disjoint memory; arguments are int32 (byte
 * addresses, counts).
 *
 * @example
 * runSplit(memory, kernels, "tiledFilterGrad", backendThreads(host.backend),
 *   [...common, half, tiles], [...common, 0, half]);
 */
export function runSplit(
  memory: WebAssembly.Memory,
  exports: WebAssembly.Exports,
  name: string,
  threads: number,
  callerArgs: number[],
  helperArgs: number[],
): void {
  const module = simdModuleOf(exports);
  const fn = exports[name];
  if (typeof fn !== "function") {
    const names = WebAssembly.Module.exports(module).map((e) => e.name);
    throw new Error(`simd_threads: the module has no function ${name} (it has ${names.join(", ")})`);
  }
  const helper = threads >= 2 ? helperFor(memory) : null;
  if (helper === null) {
    fn(...callerArgs);
    fn(...helperArgs);
    return;
  }
  helper.start(helper.index(module, name), helperArgs);
  let failure: unknown = null;
  try {
    fn(...callerArgs);
  } catch (err) {
    failure = err;
  }
  // Wait even when this part failed: the helper is still writing memory.
  helper.await(`${name}`);
  if (failure !== null) throw failure;
}
