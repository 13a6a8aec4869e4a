/**
 * Shared steps of the tests of our wasm kernel routes: run a check on the
 * threaded build with 2 threads (so the helper thread takes part) and then
 * on the plain build, and check one call's result against a reference.
 */
import assert from "node:assert/strict";
import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { tf } from "../../../src/backend/tf";
import { KernelHost } from "../../../src/backend/kernels/host";
import { disableWasmThreads, enableWasmThreads } from "../../../src/backend/wasm_threads";
import { backendThreads } from "../../../src/backend/simd_threads";
import { maxRelError } from "./conv_reference";
import { TOLERANCE } from "./conv2d_cases";

/**
 * Makes the next `tf.setBackend("wasm")` start the threaded build with 2
 * threads (true) or the plain one (false), whatever ran before: a running
 * wasm backend is stopped, its tensors with it.
 */
export function restartWasm(threaded: boolean): void {
  disableWasmThreads();
  if (!threaded) return;
  // enableWasmThreads leaves a running single-threaded wasm alone: stop it, keeping its factory.
  const factory = tf.findBackendFactory("wasm");
  tf.removeBackend("wasm");
  tf.registerBackend("wasm", factory, 2);
  assert.ok(enableWasmThreads(2).enabled);
}

/** Runs `check(host, threads)` on wasm with 2 threads, then with 1. */
export async function onTwoThreadsThenOne(check: (host: KernelHost, threads: number) => void): Promise<void> {
  try {
    restartWasm(true);
    assert.equal(await tf.setBackend("wasm"), true);
    assert.equal(getThreadsCount(), 2);
    assert.equal(backendThreads(tf.backend()), 2, "the kernels see 2 threads: the helper thread takes part");
    check(new KernelHost("wasm", tf.backend()), 2);
  } finally {
    disableWasmThreads();
  }
  assert.equal(await tf.setBackend("wasm"), true);
  assert.equal(getThreadsCount(), 1);
  assert.equal(backendThreads(tf.backend()), 1);
  check(new KernelHost("wasm", tf.backend()), 1);
}

/**
 * Asserts that `route()` returns new data of `shape` within
 * {@link TOLERANCE} of `want` (relative to its largest value), frees it,
 * and leaves no other backend data behind.
 */
export function assertRouteMatches(host: KernelHost, what: string, shape: number[], want: Float64Array, route: () => tf.TensorInfo | null): void {
  const dataIds = tf.engine().backend.numDataIds();
  const out = route();
  assert.ok(out !== null, `${what}: the route declined`);
  assert.deepEqual(out.shape, shape, what);
  const got = host.f32(out).slice();
  host.dispose(out);
  assert.equal(tf.engine().backend.numDataIds(), dataIds, `${what}: backend data left behind`);
  const err = maxRelError(got, want);
  assert.ok(err < TOLERANCE, `${what}: relative error ${err}`);
}
