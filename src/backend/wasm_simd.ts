/**
 * Loops of our own in WebAssembly SIMD, for hot loops that would otherwise
 * run in plain JavaScript (one lane, one thread): kernels of the wasm
 * backend, the fused Adam update, the linear probe's inner loop. Each is a
 * function body written with the small assembler below and compiled at run
 * time into a module that imports a memory: the wasm backend's own (so it
 * works on tensors in place) or one of its caller's. No toolchain is needed
 * at install time.
 *
 * Only what those loops need is encoded: i32 arithmetic, structured control
 * flow, loads and stores (atomic i32 ones for tests of threads), and a
 * handful of 128-bit SIMD ops (WebAssembly 2.0 binary format).
 */

/** Value types of locals and parameters. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
};

const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
};

const simd = (op: number): number[] => [0xfd, ...uleb(op)];
/** memarg of a 4-byte-aligned access at `offset` bytes past the address. */
const memarg = (offset: number): number[] => [2, ...uleb(offset)];

/**
 * Instruction encoders: each returns the bytes of one instruction. Names
 * follow the text format (`i32.add` is `op.i32Add`).
 */
export const op = {
  localGet: (i: number) => [0x20, ...uleb(i)],
  localSet: (i: number) => [0x21, ...uleb(i)],
  localTee: (i: number) => [0x22, ...uleb(i)],
  i32Const: (v: number) => [0x41, ...sleb(v | 0)],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32DivU: [0x6e],
  i32RemU: [0x70],
  i32Shl: [0x74],
  i32Eq: [0x46],
  i32GeU: [0x4f],
  i32LtU: [0x49],
  i32GtU: [0x4b],
  /** `select`: the first of two values when the i32 on top is non-zero, else the second. */
  select: [0x1b],
  /** `block` with no result. */
  block: [0x02, 0x40],
  /** `loop` with no result. */
  loop: [0x03, 0x40],
  /** `if` with no result: runs what follows when the i32 on top is non-zero, up to `else` or `end`. */
  if: [0x04, 0x40],
  else: [0x05],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  /** `call` of the module's function at `index` (the order of `assembleModule`'s list). */
  call: (index: number) => [0x10, ...uleb(index)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  i32Load: (offset = 0) => [0x28, ...memarg(offset)],
  i32Store: (offset = 0) => [0x36, ...memarg(offset)],
  /** `i32.atomic.load` and `i32.atomic.store` (shared memories): values other threads see. */
  i32AtomicLoad: (offset = 0) => [0xfe, 0x10, ...memarg(offset)],
  i32AtomicStore: (offset = 0) => [0xfe, 0x17, ...memarg(offset)],
  /** `i32.atomic.rmw.add`: adds the value on top to the i32 at the address below it and pushes the old value. */
  i32AtomicRmwAdd: (offset = 0) => [0xfe, 0x1e, ...memarg(offset)],
  f32Load: (offset = 0) => [0x2a, ...memarg(offset)],
  f32Store: (offset = 0) => [0x38, ...memarg(offset)],
  /** `memory.fill` (bulk memory): takes the address, the byte value and the length. */
  memoryFill: [0xfc, 0x0b, 0x00],
  /** `memory.copy` (bulk memory): takes the destination, the source and the length, overlapping or not. */
  memoryCopy: [0xfc, 0x0a, 0x00, 0x00],
  f64Load: (offset = 0) => [0x2b, ...memarg(offset)],
  f64Store: (offset = 0) => [0x39, ...memarg(offset)],
  f64Add: [0xa0],
  v128Load: (offset = 0) => [...simd(0x00), ...memarg(offset)],
  v128Store: (offset = 0) => [...simd(0x0b), ...memarg(offset)],
  /** `v128.load32_splat`: one float32 from memory in all four lanes. */
  v128Load32Splat: (offset = 0) => [...simd(0x09), ...memarg(offset)],
  f32x4Splat: simd(0x13),
  f32x4Eq: simd(0x41),
  f32x4Ne: simd(0x42),
  f32x4Gt: simd(0x44),
  v128Not: simd(0x4d),
  v128And: simd(0x4e),
  v128AndNot: simd(0x4f),
  v128Or: simd(0x50),
  v128AnyTrue: simd(0x53),
  f32x4Sqrt: simd(0xe3),
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Mul: simd(0xe6),
  f32x4Div: simd(0xe7),
  f64x2Splat: simd(0x14),
  f64x2ExtractLane: (lane: number) => [...simd(0x21), lane],
  f64x2Add: simd(0xf0),
  f64x2Mul: simd(0xf2),
  f32Const: (v: number) => {
    const bytes = new Uint8Array(new Float32Array([v]).buffer);
    return [0x43, ...bytes];
  },
};

/**
 * `local += amount` for an i32 local (nothing when `amount` is 0).
 *
 * @example
 * addTo(POINTER, 16) // [local.get, i32.const 16, i32.add, local.set]
 */
export function addTo(local: number, amount: number): number[][] {
  return amount === 0 ? [] : [op.localGet(local), op.i32Const(amount), op.i32Add, op.localSet(local)];
}

/**
 * `local += other` for two i32 locals (a stride held in a parameter).
 *
 * @example
 * addLocalTo(ROW, ROW_BYTES) // [local.get ROW, local.get ROW_BYTES, i32.add, local.set ROW]
 */
export function addLocalTo(local: number, other: number): number[][] {
  return [op.localGet(local), op.localGet(other), op.i32Add, op.localSet(local)];
}

/**
 * `while (local < limit) { body; step }` with an unsigned compare: `limit`
 * is code that pushes the bound, `step` the code that advances `local`
 * (which the caller initialises).
 *
 * @example
 * [op.i32Const(0), op.localSet(I), ...loopUntil(I, [op.localGet(N)], addTo(I, 1), body)]
 */
export function loopUntil(local: number, limit: number[][], step: number[][], body: number[][]): number[][] {
  return [
    op.block, op.loop,
    op.localGet(local), ...limit, op.i32GeU, op.brIf(1),
    ...body,
    ...step,
    op.br(0), op.end, op.end,
  ];
}

/** One exported function: its signature, extra locals and body (without the final `end`). */
export interface SimdFunction {
  name: string;
  params: number[];
  results: number[];
  /** Types of the locals after the parameters, in index order. */
  locals: number[];
  body: number[][];
}

const section = (id: number, payload: number[]): number[] => [id, ...uleb(payload.length), ...payload];
const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (s: string): number[] => vector([...Buffer.from(s, "utf8")].map((b) => [b]));

/**
 * The bytes of a module that imports `env.memory` (shared when `shared`)
 * and exports `functions`.
 *
 * @example
 * const bytes = assembleModule([{ name: "id", params: [I32], results: [I32], locals: [], body: [op.localGet(0)] }], false);
 * new WebAssembly.Module(bytes); // validates
 */
export function assembleModule(functions: SimdFunction[], shared: boolean): Uint8Array {
  const types = section(1, vector(functions.map((f) => [0x60, ...vector(f.params.map((t) => [t])), ...vector(f.results.map((t) => [t]))])));
  // Limits: at least 1 page; a shared memory must declare a maximum (65536
  // pages, 4 GiB, accepts any), an unshared one need not (accepts any).
  const limits = shared ? [0x03, ...uleb(1), ...uleb(65536)] : [0x00, ...uleb(1)];
  const memoryImport = [...name("env"), ...name("memory"), 0x02, ...limits];
  const imports = section(2, vector([memoryImport]));
  const funcs = section(3, vector(functions.map((_, i) => uleb(i))));
  const exports = section(7, vector(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)])));
  const bodies = functions.map((f) => {
    const localGroups = vector(f.locals.map((t) => [1, t]));
    const code = [...localGroups, ...f.body.flat(), 0x0b];
    return [...uleb(code.length), ...code];
  });
  const code = section(10, vector(bodies));
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...types, ...imports, ...funcs, ...exports, ...code]);
}

/** The parts of the wasm backend's emscripten module that hold its memory. */
interface EmscriptenLike {
  wasmMemory?: WebAssembly.Memory;
  asm?: { memory?: WebAssembly.Memory };
}

const simdSupported = (() => {
  try {
    // any_true of a zero v128 local: the smallest body with a SIMD op.
    const bytes = assembleModule([{ name: "f", params: [], results: [I32], locals: [V128], body: [op.localGet(0), op.v128AnyTrue] }], false);
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
})();

const modules = new Map<string, WebAssembly.Module | null>();
const moduleOfExports = new WeakMap<WebAssembly.Exports, WebAssembly.Module>();
const instances = new WeakMap<WebAssembly.Memory, Map<string, WebAssembly.Exports | null>>();

/**
 * The memory of the wasm backend `backend`: the stock builds export it, the
 * threaded build imports a shared one it keeps as `wasmMemory`.
 */
export function wasmBackendMemory(backend: unknown): WebAssembly.Memory | null {
  const module = (backend as { wasm?: EmscriptenLike } | null)?.wasm;
  const memory = module?.wasmMemory ?? module?.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : null;
}

/**
 * The exports of `functions` compiled against the memory of the wasm
 * backend `backend`, or null when the backend's memory cannot be reached or
 * the engine lacks SIMD (or threads, for a shared memory): callers then run
 * their JavaScript loops.
 *
 * @example
 * const kernels = simdKernels(backend, "maxPoolGrad", () => [maxPoolGrad2x2Simd()]);
 * if (kernels !== null) (kernels.maxPoolGrad2x2 as Function)(...pointers);
 */
export function simdKernels(backend: unknown, key: string, functions: () => SimdFunction[]): WebAssembly.Exports | null {
  const memory = wasmBackendMemory(backend);
  return memory === null ? null : simdKernelsOn(memory, key, functions);
}

/**
 * The exports of `functions` instantiated on `memory`, or null when the
 * engine cannot run them. The module is compiled once per `key` (and
 * sharedness) and instantiated once per memory, so `key` must name one set
 * of functions.
 *
 * @example
 * const memory = new WebAssembly.Memory({ initial: 1 });
 * const probe = simdKernelsOn(memory, "softmaxRegression", () => [logitsFunction(), gradientFunction()]);
 */
export function simdKernelsOn(memory: WebAssembly.Memory, key: string, functions: () => SimdFunction[]): WebAssembly.Exports | null {
  if (!simdSupported) return null;
  let byKey = instances.get(memory);
  if (byKey === undefined) {
    byKey = new Map();
    instances.set(memory, byKey);
  }
  if (!byKey.has(key)) {
    const shared = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
    const moduleKey = `${key}:${shared ? "shared" : "unshared"}`;
    if (!modules.has(moduleKey)) {
      const bytes = assembleModule(functions(), shared);
      modules.set(moduleKey, WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null);
    }
    const module = modules.get(moduleKey) ?? null;
    const exports = module === null ? null : new WebAssembly.Instance(module, { env: { memory } }).exports;
    if (exports !== null) moduleOfExports.set(exports, module!);
    byKey.set(key, exports);
  }
  return byKey.get(key) ?? null;
}

/** `fill(at, bytes)`: zeroes `bytes` bytes from byte address `at`. */
const zeroBytesFunction = (): SimdFunction => ({
  name: "fill",
  params: [I32, I32],
  results: [],
  locals: [],
  body: [op.localGet(0), op.i32Const(0), op.localGet(1), op.memoryFill],
});

/**
 * Zeroes `view`, a view of the wasm backend `backend`'s memory, with
 * `memory.fill`; plain `fill` where the module cannot run. On the threaded
 * build's shared memory, JavaScript's `fill` took 0.45 ms for 6 MB and
 * `memory.fill` 0.14 ms (1.9 and 0.53 ms for 24 MB); on an unshared memory
 * the two are within 1.5x of each other.
 *
 * @example
 * zeroFill(host.backend, host.f32(t)); // t's data is all zeros
 */
export function zeroFill(backend: unknown, view: Float32Array | Int32Array): void {
  const exports = view.length === 0 ? null : simdKernels(backend, "zeroFill", () => [zeroBytesFunction()]);
  if (exports === null || view.buffer !== wasmBackendMemory(backend)?.buffer) {
    view.fill(0);
    return;
  }
  (exports.fill as (at: number, bytes: number) => void)(view.byteOffset, view.byteLength);
}

/**
 * The compiled module behind `exports` from {@link simdKernels}: another
 * thread instantiates it on the same shared memory (simd_threads.ts).
 */
export function simdModuleOf(exports: WebAssembly.Exports): WebAssembly.Module {
  const module = moduleOfExports.get(exports);
  if (module === undefined) throw new Error("simdModuleOf: these exports did not come from simdKernels");
  return module;
}
