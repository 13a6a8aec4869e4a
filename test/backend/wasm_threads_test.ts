import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { tf } from "../../src/backend/tf";
import { createRng } from "../../src/data/random";
import { MAX_WASM_THREADS, disableWasmThreads, enableWasmThreads } from "../../src/backend/wasm_threads";
import { hasSimdHelper } from "../../src/backend/simd_threads";
import { wasmBackendMemory } from "../../src/backend/wasm_simd";
import { registerTrainingKernels } from "../../src/backend/kernels";

// The filter gradient below runs on wasm through our kernels.
registerTrainingKernels();

const MODULE = path.join(__dirname, "..", "..", "src", "backend", "wasm_threads.js");
const TF_MODULE = path.join(__dirname, "..", "..", "src", "backend", "tf.js");

/** Seeded values in [-scale, scale]: the same numbers on every backend. */
function values(seed: number, n: number, scale: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => (2 * rng.next() - 1) * scale);
}

/** Outputs that cover the threaded kernels a training step uses. */
function workload(): Record<string, Float32Array> {
  const outputs = tf.tidy(() => {
    const a = tf.tensor2d(values(1, 200 * 300, 0.1), [200, 300]);
    const b = tf.tensor2d(values(2, 300 * 160, 0.1), [300, 160]);
    const x1 = tf.tensor4d(values(3, 8 * 28 * 28, 1), [8, 28, 28, 1]);
    const f1 = tf.tensor4d(values(4, 3 * 3 * 32, 0.3), [3, 3, 1, 32]);
    const x2 = tf.tensor4d(values(5, 8 * 14 * 14 * 32, 1), [8, 14, 14, 32]);
    const f2 = tf.tensor4d(values(6, 3 * 3 * 32 * 64, 0.06), [3, 3, 32, 64]);
    // d/dx of sum(relu(conv)) runs Conv2DBackpropInput; d/db of a matMul runs
    // transposed matMuls.
    const convInputGrad = tf.grad((x) => tf.relu(tf.conv2d(x as tf.Tensor4D, f2, 1, "same")).sum())(x2);
    const convFilterGrad = tf.grad((f) => tf.relu(tf.conv2d(x2, f as tf.Tensor4D, 1, "same")).sum())(f2);
    const matMulGrad = tf.grad((m) => tf.relu(tf.matMul(a, m)).square().sum())(b);
    const out = {
      matMul: tf.matMul(a, b),
      conv1: tf.conv2d(x1, f1, 1, "same"),
      conv2: tf.conv2d(x2, f2, 1, "same"),
      convInputGrad,
      convFilterGrad,
      matMulGrad,
    };
    return out;
  });
  // Read outside tidy: tidy walks every element of a returned typed array.
  const read: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(outputs)) {
    read[name] = t.dataSync() as Float32Array;
    t.dispose();
  }
  return read;
}

function assertClose(actual: Record<string, Float32Array>, expected: Record<string, Float32Array>): void {
  for (const [name, want] of Object.entries(expected)) {
    const got = actual[name];
    assert.equal(got.length, want.length, `${name}: length`);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    assert.ok(worst <= 1e-4, `${name}: max |wasm - cpu| = ${worst}`);
  }
}

/** Runs `body` in a fresh Node; returns its last stdout line parsed, or fails with its output. */
function runChild(body: string): { status: number | null; signal: string | null; result: Record<string, unknown> } {
  const script =
    `const { tf } = require(${JSON.stringify(TF_MODULE)});\n` +
    `const { enableWasmThreads } = require(${JSON.stringify(MODULE)});\n` +
    `const { getThreadsCount } = require("@tensorflow/tfjs-backend-wasm");\n` +
    `(async () => {\n${body}\n})();\n`;
  const child = spawnSync(process.execPath, ["-e", script], {
    cwd: path.join(__dirname, "..", ".."),
    encoding: "utf8",
    timeout: 25_000,
  });
  const lines = child.stdout.trim().split("\n");
  let result: Record<string, unknown> = {};
  try {
    result = JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
  } catch {
    assert.fail(`child printed no result (status ${child.status}, signal ${child.signal}):\n${child.stdout}\n${child.stderr}`);
  }
  return { status: child.status, signal: child.signal, result };
}

test("threaded wasm (2 threads) computes matMul, conv2d and their gradients as cpu does, to 1e-4", async () => {
  await tf.setBackend("cpu");
  const expected = workload();

  const enabled = enableWasmThreads(2);
  assert.deepEqual(
    { enabled: enabled.enabled, threads: enabled.threads },
    { enabled: true, threads: 2 },
    enabled.reason,
  );
  assert.equal(await tf.setBackend("wasm"), true);
  assert.equal(getThreadsCount(), 2);
  // Asking again while it runs reports the running pool and changes nothing.
  assert.deepEqual(
    { enabled: enableWasmThreads(1).enabled, threads: enableWasmThreads(1).threads },
    { enabled: true, threads: 2 },
  );

  const before = tf.memory().numTensors;
  assertClose(workload(), expected);
  assert.equal(tf.memory().numTensors, before);
  // The filter gradient's SIMD loop started the helper thread on the backend's memory; disposing the backend ends it.
  const memory = wasmBackendMemory(tf.backend());
  assert.ok(memory !== null && hasSimdHelper(memory));

  // Back to tfjs's own single-threaded build: threads gone, same results.
  disableWasmThreads();
  assert.ok(!hasSimdHelper(memory!));
  assert.equal(await tf.setBackend("wasm"), true);
  assert.equal(getThreadsCount(), 1);
  assertClose(workload(), expected);
  await tf.setBackend("cpu");
});

test("enableWasmThreads rejects a thread count outside [1, 8]", () => {
  for (const bad of [0, MAX_WASM_THREADS + 1, 1.5, -2, Number.NaN]) {
    assert.throws(
      () => enableWasmThreads(bad),
      (e: Error) =>
        e.message.startsWith("enableWasmThreads: threads must be an integer in [1, 8], got ") &&
        e.message.endsWith(String(bad)),
    );
  }
});

test("a script on threaded wasm exits by itself, leaving no process listeners or global Worker", () => {
  // Emscripten refs its pthread workers: without the unref the child would
  // hang until the timeout kills it.
  const { status, signal, result } = runChild(`
    const listeners = process.listenerCount("uncaughtException") + process.listenerCount("unhandledRejection");
    const r = enableWasmThreads(2);
    await tf.setBackend("wasm");
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const y = Array.from(await tf.matMul(x, x).data());
    console.log(JSON.stringify({
      enabled: r.enabled,
      threads: getThreadsCount(),
      y,
      listenersAdded: process.listenerCount("uncaughtException") + process.listenerCount("unhandledRejection") - listeners,
      workerGlobal: typeof globalThis.Worker,
    }));`);
  assert.equal(signal, null, "the child was killed: it did not exit by itself within 25 s");
  assert.equal(status, 0);
  assert.deepEqual(result, { enabled: true, threads: 2, y: [7, 10, 15, 22], listenersAdded: 0, workerGlobal: "undefined" });
});

test("enableWasmThreads refuses once wasm started single-threaded, and wasm keeps working", () => {
  const { status, result } = runChild(`
    await tf.setBackend("wasm");
    const r = enableWasmThreads(2);
    const y = Array.from(await tf.add(tf.tensor1d([1, 2]), 1).data());
    console.log(JSON.stringify({ enabled: r.enabled, threads: r.threads, reason: r.reason, y, actual: getThreadsCount() }));`);
  assert.equal(status, 0);
  assert.equal(result.enabled, false);
  assert.equal(result.threads, 1);
  assert.match(String(result.reason), /already started single-threaded/);
  assert.deepEqual([result.y, result.actual], [[2, 3], 1]);
});
