/**
 * The four passes of the BatchNorm kernels (batch_norm.ts) in WebAssembly
 * SIMD, four channels per instruction, for `C` a multiple of 4. Every pass
 * walks `rows` rows of `C` float32 values; per-channel arrays (`[C]`
 * float32) are read at the same column.
 *
 * - `moments(x, shift, acc1, acc2, rows, rowBytes)`: `acc1 += sum (x - shift)`,
 *   `acc2 += sum (x - shift)^2` over the rows.
 * - `affine(x, y, mean, scale, offset, rows, rowBytes)`: `y = (x - mean) * scale + offset`.
 * - `gradSums(dy, x, mean, acc1, acc2, rows, rowBytes)`: `acc1 += sum dy`, `acc2 += sum dy (x - mean)`.
 * - `gradAffine(dy, x, dx, mean, a, b, d, rows, rowBytes)`: `dx = dy * a + (x - mean) * b + d`.
 *
 * The sums accumulate in float32 over blocks of rows ({@link SUM_BLOCK_ROWS});
 * `momentsBlocks` and `gradSumsBlocks` run a range of blocks, each into its
 * own pair of rows of a partials array, which the caller adds up in float64.
 * All addresses are byte addresses in the wasm backend's memory.
 */
import { addLocalTo, addTo, I32, loopUntil, op, SimdFunction, V128 } from "../wasm_simd";

/** Rows per call of the summing passes: their float32 sums stay within ~1e-5 relative of float64. */
export const SUM_BLOCK_ROWS = 128;

const { localGet: get, localSet: set } = op;

/**
 * A function over `rows` rows: its first `streams` parameters advance one
 * row (`rowBytes`) per row, the next `fixed` are per-channel arrays, then
 * `rows` and `rowBytes`. `group(at, v)` emits the body for the four
 * channels at the current column: `at(p)` pushes parameter `p`'s address at
 * that column, `v` is a scratch v128 local.
 */
function rowLoop(name: string, streams: number, fixed: number, group: (at: (param: number) => number[][], v: number) => number[][]): SimdFunction {
  const params = streams + fixed + 2;
  const ROWS = streams + fixed, ROW_BYTES = ROWS + 1;
  const R = params, COL = params + 1, V = params + 2;
  // address of parameter p at the current column: its value plus COL.
  const at = (p: number) => [get(p), get(COL), op.i32Add];
  return {
    name,
    params: Array.from({ length: params }, () => I32),
    results: [],
    locals: [I32, I32, V128],
    body: [
      op.i32Const(0), set(R),
      op.block, op.loop,
      get(R), get(ROWS), op.i32GeU, op.brIf(1),
      op.i32Const(0), set(COL),
      op.block, op.loop,
      get(COL), get(ROW_BYTES), op.i32GeU, op.brIf(1),
      ...group(at, V),
      get(COL), op.i32Const(16), op.i32Add, set(COL),
      op.br(0), op.end, op.end,
      // next row: every stream advances by rowBytes
      ...Array.from({ length: streams }, (_, s) => addLocalTo(s, ROW_BYTES)).flat(),
      get(R), op.i32Const(1), op.i32Add, set(R),
      op.br(0), op.end, op.end,
    ],
  };
}

/** `moments(x, shift, acc1, acc2, rows, rowBytes)`. */
export function momentsSimd(): SimdFunction {
  const X = 0, SHIFT = 1, ACC1 = 2, ACC2 = 3;
  return rowLoop("moments", 1, 3, (at, V) => [
    ...at(X), op.v128Load(), ...at(SHIFT), op.v128Load(), op.f32x4Sub, set(V),
    ...at(ACC1), ...at(ACC1), op.v128Load(), get(V), op.f32x4Add, op.v128Store(),
    ...at(ACC2), ...at(ACC2), op.v128Load(), get(V), get(V), op.f32x4Mul, op.f32x4Add, op.v128Store(),
  ]);
}

/** `affine(x, y, mean, scale, offset, rows, rowBytes)`. */
export function affineSimd(): SimdFunction {
  const X = 0, Y = 1, MEAN = 2, SCALE = 3, OFFSET = 4;
  return rowLoop("affine", 2, 3, (at) => [
    ...at(Y),
    ...at(X), op.v128Load(), ...at(MEAN), op.v128Load(), op.f32x4Sub,
    ...at(SCALE), op.v128Load(), op.f32x4Mul,
    ...at(OFFSET), op.v128Load(), op.f32x4Add,
    op.v128Store(),
  ]);
}

/** `gradSums(dy, x, mean, acc1, acc2, rows, rowBytes)`. */
export function gradSumsSimd(): SimdFunction {
  const DY = 0, X = 1, MEAN = 2, ACC1 = 3, ACC2 = 4;
  return rowLoop("gradSums", 2, 3, (at, V) => [
    ...at(DY), op.v128Load(), set(V),
    ...at(ACC1), ...at(ACC1), op.v128Load(), get(V), op.f32x4Add, op.v128Store(),
    ...at(ACC2), ...at(ACC2), op.v128Load(),
    get(V), ...at(X), op.v128Load(), ...at(MEAN), op.v128Load(), op.f32x4Sub, op.f32x4Mul,
    op.f32x4Add, op.v128Store(),
  ]);
}

/** `gradAffine(dy, x, dx, mean, a, b, d, rows, rowBytes)`. */
export function gradAffineSimd(): SimdFunction {
  const DY = 0, X = 1, DX = 2, MEAN = 3, A = 4, B = 5, D = 6;
  return rowLoop("gradAffine", 3, 4, (at) => [
    ...at(DX),
    ...at(DY), op.v128Load(), ...at(A), op.v128Load(), op.f32x4Mul,
    ...at(X), op.v128Load(), ...at(MEAN), op.v128Load(), op.f32x4Sub, ...at(B), op.v128Load(), op.f32x4Mul,
    op.f32x4Add,
    ...at(D), op.v128Load(), op.f32x4Add,
    op.v128Store(),
  ]);
}

/**
 * `${name}Blocks(...streams, ...fixed, partials, rows, rowBytes, b0, b1)`:
 * calls the summing pass at `callee` (its module index) on blocks `[b0, b1)`
 * of {@link SUM_BLOCK_ROWS} rows, block `b`'s two sums into `partials` rows
 * `2b` and `2b + 1` (`[blocks * 2, C]` float32, zeros).
 */
export function blockSumsSimd(name: string, callee: number, streams: number, fixed: number): SimdFunction {
  const PARTIALS = streams + fixed, ROWS = PARTIALS + 1, ROW_BYTES = ROWS + 1, B0 = ROW_BYTES + 1, B1 = B0 + 1;
  const B = B1 + 1, R0 = B + 1, ACC = R0 + 1;
  return {
    name: `${name}Blocks`,
    params: Array.from({ length: B1 + 1 }, () => I32),
    results: [],
    locals: [I32, I32, I32],
    body: [
      get(B0), set(B),
      ...loopUntil(B, [get(B1)], addTo(B, 1), [
        get(B), op.i32Const(SUM_BLOCK_ROWS), op.i32Mul, set(R0),
        get(PARTIALS), get(B), get(ROW_BYTES), op.i32Mul, op.i32Const(2), op.i32Mul, op.i32Add, set(ACC),
        ...Array.from({ length: streams }, (_, k) => [get(k), get(R0), get(ROW_BYTES), op.i32Mul, op.i32Add]).flat(),
        ...Array.from({ length: fixed }, (_, k) => [get(streams + k)]).flat(),
        get(ACC), get(ACC), get(ROW_BYTES), op.i32Add,
        // n = min(SUM_BLOCK_ROWS, rows - r0)
        op.i32Const(SUM_BLOCK_ROWS), get(ROWS), get(R0), op.i32Sub,
        op.i32Const(SUM_BLOCK_ROWS), get(ROWS), get(R0), op.i32Sub, op.i32LtU, op.select,
        get(ROW_BYTES),
        op.call(callee),
      ]),
    ],
  };
}
