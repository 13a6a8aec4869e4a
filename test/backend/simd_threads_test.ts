import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { backendThreads, runSplit, stopSimdHelper } from "../../src/backend/simd_threads";
import { I32, op, SimdFunction, simdKernelsOn } from "../../src/backend/wasm_simd";

// meet(mine, theirs, out, tries): raises the flag at byte address `mine`,
// polls the flag at `theirs` up to `tries` times, then writes that flag to
// `out`. Two parts running at the same time each see the other's flag; run
// one after the other, the first cannot.
const MINE = 0, THEIRS = 1, OUT = 2, TRIES = 3, I = 4;
function meetFunction(): SimdFunction {
  const { localGet: get, localSet: set } = op;
  return {
    name: "meet",
    params: [I32, I32, I32, I32],
    results: [],
    locals: [I32],
    body: [
      get(MINE), op.i32Const(1), op.i32AtomicStore(),
      op.i32Const(0), set(I),
      op.block, op.loop,
      get(I), get(TRIES), op.i32GeU, op.brIf(1),
      get(THEIRS), op.i32AtomicLoad(), op.brIf(1),
      get(I), op.i32Const(1), op.i32Add, set(I),
      op.br(0), op.end, op.end,
      get(OUT), get(THEIRS), op.i32AtomicLoad(), op.i32Store(),
    ],
  };
}

/** A second export, so the helper's function indices are exercised: writes `value` at `at`. */
function storeFunction(): SimdFunction {
  return { name: "store", params: [I32, I32], results: [], locals: [], body: [op.localGet(0), op.localGet(1), op.i32Store()] };
}

const PATIENCE = 400_000_000;

function setup(shared: boolean) {
  const memory = new WebAssembly.Memory(shared ? { initial: 1, maximum: 4, shared: true } : { initial: 1 });
  const exports = simdKernelsOn(memory, "simdThreadsTest", () => [storeFunction(), meetFunction()]);
  assert.ok(exports !== null, "this Node runs WebAssembly SIMD and threads");
  const view = new Int32Array(memory.buffer);
  return { memory, exports, view };
}

test("runSplit runs the two parts at the same time on a shared memory with 2 threads", () => {
  const { memory, exports, view } = setup(true);
  for (let round = 0; round < 3; round++) {
    view.fill(0, 0, 8);
    // flags at bytes 0 (caller) and 4 (helper); results at 8 and 12.
    runSplit(memory, exports, "meet", 2, [0, 4, 8, PATIENCE], [4, 0, 12, PATIENCE]);
    assert.deepEqual([view[2], view[3]], [1, 1], `round ${round}: each part saw the other's flag`);
  }
  // The other export of the same module, by name.
  runSplit(memory, exports, "store", 2, [64, 5], [68, 6]);
  assert.deepEqual([view[16], view[17]], [5, 6]);
});

test("runSplit runs both parts here, caller's first, with 1 thread or an unshared memory", () => {
  for (const [shared, threads] of [[true, 1], [false, 2]] as const) {
    const { memory, exports, view } = setup(shared);
    runSplit(memory, exports, "meet", threads, [0, 4, 8, 1000], [4, 0, 12, 1000]);
    assert.deepEqual([view[2], view[3]], [0, 1], `shared ${shared}, threads ${threads}`);
  }
});

test("runSplit reports a part that fails, waits for the other, and the helper keeps working", () => {
  const { memory, exports, view } = setup(true);
  const outside = 4 * 65536 * 4; // past the memory's maximum: the store traps
  assert.throws(() => runSplit(memory, exports, "store", 2, [0, 1], [outside, 1]), /simd_threads: the helper thread failed store/);
  assert.throws(() => runSplit(memory, exports, "store", 2, [outside, 1], [16, 9]), (e: Error) => !e.message.includes("simd_threads"));
  assert.equal(view[4], 9, "the helper's part ran although the caller's failed");
  runSplit(memory, exports, "store", 2, [20, 3], [24, 4]);
  assert.deepEqual([view[5], view[6]], [3, 4]);
  assert.throws(() => runSplit(memory, exports, "nothing", 2, [], []), /simd_threads: the module has no function nothing \(it has store, meet\)/);
});

test("a script that used the helper thread exits by itself", () => {
  const script = `
    const { runSplit } = require(${JSON.stringify(path.join(__dirname, "..", "..", "src", "backend", "simd_threads.js"))});
    const { simdKernelsOn, op, I32 } = require(${JSON.stringify(path.join(__dirname, "..", "..", "src", "backend", "wasm_simd.js"))});
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
    const fn = { name: "store", params: [I32, I32], results: [], locals: [], body: [op.localGet(0), op.localGet(1), op.i32Store()] };
    const exports = simdKernelsOn(memory, "exit", () => [fn]);
    runSplit(memory, exports, "store", 2, [0, 7], [4, 8]);
    console.log(JSON.stringify(Array.from(new Int32Array(memory.buffer, 0, 2))));`;
  const child = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 20_000 });
  assert.equal(child.signal, null, "the child was killed: it did not exit by itself within 20 s");
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), "[7,8]");
});

test("stopSimdHelper ends the helper: later calls run both parts here", () => {
  const { memory, exports, view } = setup(true);
  runSplit(memory, exports, "meet", 2, [0, 4, 8, PATIENCE], [4, 0, 12, PATIENCE]);
  assert.deepEqual([view[2], view[3]], [1, 1]);
  stopSimdHelper(memory);
  view.fill(0, 0, 8);
  runSplit(memory, exports, "meet", 2, [0, 4, 8, 1000], [4, 0, 12, 1000]);
  assert.deepEqual([view[2], view[3]], [0, 1], "one after the other, on this thread");
});

test("backendThreads reads the wasm backend instance's thread count, 1 for anything else", () => {
  assert.equal(backendThreads({ wasm: { tfjs: { getThreadsCount: () => 2 } } }), 2);
  assert.equal(backendThreads({ wasm: { tfjs: {} } }), 1);
  assert.equal(backendThreads({}), 1);
  assert.equal(backendThreads(null), 1);
});
