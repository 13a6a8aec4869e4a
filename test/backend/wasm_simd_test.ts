import { test } from "node:test";
import assert from "node:assert/strict";
import { assembleModule, I32, op, simdKernels, V128, zeroFill } from "../../src/backend/wasm_simd";

const call = (bytes: Uint8Array, memory: WebAssembly.Memory, name: string, ...args: number[]): number => {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  return (instance.exports[name] as (...a: number[]) => number)(...args);
};

test("assembleModule encodes i32 arithmetic, loops and branches: the sum 0 + 1 + ... + (n - 1)", () => {
  const [N, I, S] = [0, 1, 2];
  const bytes = assembleModule([{
    name: "triangle", params: [I32], results: [I32], locals: [I32, I32],
    body: [
      op.block, op.loop,
      op.localGet(I), op.localGet(N), op.i32GeU, op.brIf(1),
      op.localGet(S), op.localGet(I), op.i32Add, op.localSet(S),
      op.localGet(I), op.i32Const(1), op.i32Add, op.localSet(I),
      op.br(0), op.end, op.end,
      op.localGet(S),
    ],
  }], false);
  const memory = new WebAssembly.Memory({ initial: 1 });
  for (const n of [0, 1, 10, 300]) assert.equal(call(bytes, memory, "triangle", n), n === 0 ? 0 : (n * (n - 1)) / 2);
  // Constants across LEB128 byte boundaries, signed.
  for (const v of [0, 63, 64, -64, -65, 8191, -8192, 2 ** 31 - 1, -(2 ** 31)]) {
    const c = assembleModule([{ name: "c", params: [], results: [I32], locals: [], body: [op.i32Const(v)] }], false);
    assert.equal(call(c, memory, "c"), v);
  }
});

test("assembleModule's SIMD ops act on four float32 lanes of the imported memory, shared or not", () => {
  const [A, B, OUT, VA, VB] = [0, 1, 2, 3, 4];
  const fn = {
    name: "f", params: [I32, I32, I32], results: [I32], locals: [V128, V128],
    body: [
      op.localGet(A), op.v128Load(), op.localSet(VA),
      op.localGet(B), op.v128Load(), op.localSet(VB),
      // out = ((va == vb) & 1.0) * va, then out + 16 = (va - vb) * va
      op.localGet(OUT), op.localGet(VA), op.localGet(VB), op.f32x4Eq, op.f32Const(1), op.f32x4Splat, op.v128And, op.localGet(VA), op.f32x4Mul, op.v128Store(),
      op.localGet(OUT), op.localGet(VA), op.localGet(VB), op.f32x4Sub, op.localGet(VA), op.f32x4Mul, op.v128Store(16),
      // any lane with va != vb
      op.localGet(VA), op.localGet(VB), op.f32x4Ne,
      op.v128AnyTrue,
    ],
  };
  for (const shared of [false, true]) {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4, shared });
    const f32 = new Float32Array(memory.buffer);
    f32.set([1, 2, -3, 4], 0);
    f32.set([1, 5, -3, 0], 4);
    const anyDiffer = call(assembleModule([fn], shared), memory, "f", 0, 16, 32);
    assert.equal(anyDiffer, 1);
    assert.deepEqual(Array.from(f32.subarray(8, 16)), [1, 0, -3, 0, 0, -6, -0, 16]);
  }
});

test("simdKernels returns null for a backend whose memory it cannot reach, and caches per memory", () => {
  assert.equal(simdKernels({}, "k", () => []), null);
  assert.equal(simdKernels(null, "k", () => []), null);
  const memory = new WebAssembly.Memory({ initial: 1 });
  const functions = () => [{ name: "one", params: [], results: [I32], locals: [], body: [op.i32Const(1)] }];
  const first = simdKernels({ wasm: { wasmMemory: memory } }, "one", functions);
  assert.notEqual(first, null);
  assert.equal((first!.one as () => number)(), 1);
  assert.equal(simdKernels({ wasm: { asm: { memory } } }, "one", functions), first);
});

test("zeroFill zeroes exactly its view on a backend's memory, shared or not, and falls back to fill elsewhere", () => {
  for (const shared of [false, true]) {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4, shared });
    const backend = { wasm: { wasmMemory: memory } };
    const all = new Float32Array(memory.buffer);
    all.fill(7);
    zeroFill(backend, new Float32Array(memory.buffer, 40, 13));
    zeroFill(backend, new Int32Array(memory.buffer, 400, 0));
    for (let i = 0; i < 40; i++) assert.equal(all[i], i >= 10 && i < 23 ? 0 : 7, `float ${i} (shared ${shared})`);
  }
  // A view of another buffer (or no reachable memory): plain fill.
  const other = new Int32Array([1, 2, 3]);
  zeroFill({ wasm: { wasmMemory: new WebAssembly.Memory({ initial: 1 }) } }, other);
  zeroFill({}, Float32Array.from([4]));
  assert.deepEqual(Array.from(other), [0, 0, 0]);
});
