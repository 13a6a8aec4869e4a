/**
 * The filter gradient of a convolution with few taps and more output
 * channels (a first layer: `Kh*Kw*Ci` = 9, `Co` = 32) in WebAssembly SIMD:
 * `dW[q, co] = sum over pixels p of patches[p, q] * dy[p, co]`, four output
 * channels per instruction, all of a tap's channels in registers. XNNPACK
 * runs this product poorly (a 9-wide result, and `dy` transposed first):
 * for [128,28,28,1] -> 32 channels the kernel took 12.5 ms with it and
 * 8.2 ms with this loop on one thread, the patch matrix included.
 *
 * The function is generated for one `(taps, Co)`, so each output channel
 * group has its own accumulator local.
 */
import { I32, op, SimdFunction, simdKernels, V128 } from "../wasm_simd";
import type { KernelHost } from "./host";

// Parameters, then locals.
const PATCHES = 0, DY = 1, OUT = 2, PIXELS = 3, Q = 4, P = 5, PA = 6, DA = 7, S = 8, ACC = 9;

/** Largest `Co` handled: 16 accumulators. */
export const MAX_SIMD_OUT_CHANNELS = 64;

/**
 * `filterGrad(patches, dy, out, pixels)`: byte addresses of the pixel-major
 * patches `[pixels, taps]`, `dy` `[pixels, Co]` and `out` `[taps, Co]`
 * (overwritten), all float32; `Co` a multiple of 4, at most
 * {@link MAX_SIMD_OUT_CHANNELS}.
 */
export function pixelMajorFilterGradSimd(taps: number, Co: number): SimdFunction {
  if (Co % 4 !== 0 || Co > MAX_SIMD_OUT_CHANNELS || !Number.isInteger(taps) || taps < 1) {
    throw new Error(`pixelMajorFilterGradSimd: Co must be a multiple of 4 up to ${MAX_SIMD_OUT_CHANNELS} and taps a positive integer, got Co ${Co}, taps ${taps}`);
  }
  const groups = Co / 4;
  const accs = Array.from({ length: groups }, (_, j) => ACC + j);
  const { localGet: get, localSet: set } = op;
  return {
    name: "filterGrad",
    params: [I32, I32, I32, I32],
    results: [],
    locals: [I32, I32, I32, I32, V128, ...accs.map(() => V128)],
    body: [
      op.block, op.loop, // taps: Q is the tap's byte offset in a patch row
      get(Q), op.i32Const(4 * taps), op.i32GeU, op.brIf(1),
      ...accs.flatMap((a) => [op.f32Const(0), op.f32x4Splat, set(a)]),
      get(PATCHES), get(Q), op.i32Add, set(PA),
      get(DY), set(DA),
      op.i32Const(0), set(P),
      op.block, op.loop, // pixels
      get(P), get(PIXELS), op.i32GeU, op.brIf(1),
      get(PA), op.f32Load(), op.f32x4Splat, set(S),
      ...accs.flatMap((a, j) => [get(a), get(S), get(DA), op.v128Load(16 * j), op.f32x4Mul, op.f32x4Add, set(a)]),
      get(PA), op.i32Const(4 * taps), op.i32Add, set(PA),
      get(DA), op.i32Const(4 * Co), op.i32Add, set(DA),
      get(P), op.i32Const(1), op.i32Add, set(P),
      op.br(0), op.end, op.end,
      // out[q, :] = accumulators; out + q * Co * 4 = OUT + Q * Co.
      ...accs.flatMap((a, j) => [get(OUT), get(Q), op.i32Const(Co), op.i32Mul, op.i32Add, get(a), op.v128Store(16 * j)]),
      get(Q), op.i32Const(4), op.i32Add, set(Q),
      op.br(0), op.end, op.end,
    ],
  };
}

/** Bytes of `b` per call of the SIMD product (64 KB: it stays in L2 while each row of the result reads it). */
const SIMD_BLOCK_BYTES = 65536;

/**
 * `acc[m*N + n] += sum over r < rows of a[r, m] * b[r, n]` (that is,
 * `acc += a^T b`) for float32 `a` `[rows, M]` and `b` `[rows, N]` at byte
 * addresses `aAt` and `bAt` of the wasm backend's memory, by
 * {@link pixelMajorFilterGradSimd} over blocks of rows whose `b` stays in
 * cache, each block's float32 result added to the float64 `acc`. Returns
 * false, with `acc` untouched, where the engine lacks SIMD or `N` is not a
 * multiple of 4 up to {@link MAX_SIMD_OUT_CHANNELS}.
 *
 * @example
 * const acc = new Float64Array(taps * Co);
 * addTransposedProduct(host, patchesAt, dyAt, pixels, taps, Co, acc); // the filter gradient [taps, Co]
 */
export function addTransposedProduct(host: KernelHost, aAt: number, bAt: number, rows: number, M: number, N: number, acc: Float64Array): boolean {
  if (host.backendName !== "wasm" || N % 4 !== 0 || N > MAX_SIMD_OUT_CHANNELS || M < 1) return false;
  const kernels = simdKernels(host.backend, `filterGrad:${M}:${N}`, () => [pixelMajorFilterGradSimd(M, N)]);
  if (kernels === null) return false;
  const product = kernels.filterGrad as (a: number, b: number, out: number, rows: number) => void;
  const partial = host.alloc([M, N]);
  try {
    const pv = host.f32(partial);
    const block = Math.max(1, Math.floor(SIMD_BLOCK_BYTES / (4 * N)));
    for (let r0 = 0; r0 < rows; r0 += block) {
      product(aAt + 4 * r0 * M, bAt + 4 * r0 * N, pv.byteOffset, Math.min(block, rows - r0));
      for (let i = 0; i < acc.length; i++) acc[i] += pv[i];
    }
  } finally {
    host.dispose(partial);
  }
  return true;
}
