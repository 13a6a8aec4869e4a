/**
 * Batched products of small matrices in WebAssembly SIMD: `out[b] = a[b] x
 * b[b]` for `a` `[batch, M, K]`, `b` `[batch, K, N]`, four output columns per
 * instruction with all `N` of a row in registers. Attention's products are
 * such batches (queries by keys per sequence and head, `[B*heads, T, T]`
 * by `[B*heads, T, dk]`); stock wasm runs every batched product in a scalar
 * loop, since XNNPACK takes single matrices only.
 *
 * The function is generated for one `N` (a multiple of 4, at most 64).
 */
import { I32, op, SimdFunction, V128 } from "../wasm_simd";

/** Largest `N` handled: 16 accumulators. */
export const MAX_BATCHED_N = 64;

// Parameters, then locals.
const A = 0, B = 1, OUT = 2, BATCH = 3, M = 4, K = 5;
const BI = 6, I = 7, KI = 8, AROW = 9, OROW = 10, BB = 11, AP = 12, BP = 13, KB = 14, KNB = 15, S = 16, ACC = 17;

/**
 * `batchedMatMul(a, b, out, batch, M, K)`: byte addresses of float32 `a`
 * `[batch, M, K]`, `b` `[batch, K, N]` and `out` `[batch, M, N]`
 * (overwritten), for the `N` given here.
 *
 * @example
 * const f = batchedMatMulSimd(32); // then f(aAt, bAt, outAt, 512, 32, 8) multiplies 512 pairs of [32,8] x [8,32]
 */
export function batchedMatMulSimd(N: number): SimdFunction {
  if (!Number.isInteger(N) || N < 4 || N % 4 !== 0 || N > MAX_BATCHED_N) {
    throw new Error(`batchedMatMulSimd: N must be a multiple of 4 from 4 to ${MAX_BATCHED_N}, got ${N}`);
  }
  const groups = N / 4;
  const accs = Array.from({ length: groups }, (_, j) => ACC + j);
  const { localGet: get, localSet: set } = op;
  return {
    name: "batchedMatMul",
    params: [I32, I32, I32, I32, I32, I32],
    results: [],
    locals: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, V128, ...accs.map(() => V128)],
    body: [
      get(K), op.i32Const(4), op.i32Mul, set(KB),
      get(K), op.i32Const(4 * N), op.i32Mul, set(KNB),
      get(A), set(AROW), get(OUT), set(OROW), get(B), set(BB),
      op.i32Const(0), set(BI),
      op.block, op.loop, // batch
      get(BI), get(BATCH), op.i32GeU, op.brIf(1),
      op.i32Const(0), set(I),
      op.block, op.loop, // rows of a
      get(I), get(M), op.i32GeU, op.brIf(1),
      ...accs.flatMap((a) => [op.f32Const(0), op.f32x4Splat, set(a)]),
      get(AROW), set(AP), get(BB), set(BP),
      op.i32Const(0), set(KI),
      op.block, op.loop, // the contraction
      get(KI), get(K), op.i32GeU, op.brIf(1),
      get(AP), op.f32Load(), op.f32x4Splat, set(S),
      ...accs.flatMap((a, j) => [get(a), get(S), get(BP), op.v128Load(16 * j), op.f32x4Mul, op.f32x4Add, set(a)]),
      get(AP), op.i32Const(4), op.i32Add, set(AP),
      get(BP), op.i32Const(4 * N), op.i32Add, set(BP),
      get(KI), op.i32Const(1), op.i32Add, set(KI),
      op.br(0), op.end, op.end,
      ...accs.flatMap((a, j) => [get(OROW), get(a), op.v128Store(16 * j)]),
      get(AROW), get(KB), op.i32Add, set(AROW),
      get(OROW), op.i32Const(4 * N), op.i32Add, set(OROW),
      get(I), op.i32Const(1), op.i32Add, set(I),
      op.br(0), op.end, op.end,
      get(BB), get(KNB), op.i32Add, set(BB),
      get(BI), op.i32Const(1), op.i32Add, set(BI),
      op.br(0), op.end, op.end,
    ],
  };
}
