/**
 * `MaxPoolGrad` for 2x2 windows with stride 2 in WebAssembly SIMD: four
 * channels per instruction, in the wasm backend's memory. Same rule as the
 * JavaScript loop in `max_pool_grad.ts` (each window's `dy` goes to the first
 * of its four pixels equal to the pooled value `y`, in row-major order; the
 * others get `0 * dy`), so the results are bit-identical. Windows the rule
 * does not settle (no pixel equal to `y`, `y` = -Infinity or NaN, a
 * non-finite `dy`) are reported, and the caller reruns the JavaScript loop,
 * which handles them.
 */
import { I32, op, SimdFunction, V128 } from "../wasm_simd";

// Parameters.
const X = 0, DY = 1, Y = 2, OUT = 3, ROWS = 4, H = 5, HO = 6, WO = 7, C = 8, ROW_BYTES = 9;
// Locals (i32, then v128).
const R = 10, P_ROW = 11, P_WIN = 12, D_OFF = 13, OW = 14, CB = 15, C_BYTES = 16, ADDR = 17;
const A = 18, B = 19, E = 20, F = 21, M = 22, G = 23, K0 = 24, K1 = 25, K2 = 26, K3 = 27, TAKEN = 28, BAD = 29, ONES = 30, ZERO = 31, NEG_INF = 32;

const { localGet: get, localSet: set } = op;
/** `base + ADDR (+ extra)` as a byte address. */
const address = (base: number, ...extra: number[]) => [get(base), get(ADDR), op.i32Add, ...extra.flatMap((e) => [get(e), op.i32Add])];
const load = (target: number, base: number, ...extra: number[]) => [...address(base, ...extra), op.v128Load(), set(target)];
/** k = (pixel == m) & ~taken; taken |= k. */
const firstEqual = (k: number, pixel: number) => [
  get(pixel), get(M), op.f32x4Eq, get(TAKEN), op.v128AndNot, op.localTee(k),
  get(TAKEN), op.v128Or, set(TAKEN),
];
/** out[pixel] = (k ? 1 : 0) * g, as the JavaScript loop computes it. */
const store = (k: number, ...extra: number[]) => [...address(OUT, ...extra), get(k), get(ONES), op.v128And, get(G), op.f32x4Mul, op.v128Store()];

/**
 * `maxPoolGrad2x2(x, dy, y, out, rows, H, Ho, Wo, C, rowBytes) -> i32`:
 * byte addresses of `x` `[N,H,W,C]`, `dy` and `y` `[N,Ho,Wo,C]` and `out`
 * `[N,H,W,C]`; `rows = N * Ho`; `C` a multiple of 4; `rowBytes = 4 * W * C`.
 * Writes every pixel of a window; returns 1 if some window was not settled.
 */
export const maxPoolGrad2x2Simd = (): SimdFunction => ({
  name: "maxPoolGrad2x2",
  params: Array(10).fill(I32),
  results: [I32],
  locals: [...Array(8).fill(I32), ...Array(15).fill(V128)],
  body: [
    get(C), op.i32Const(2), op.i32Shl, set(C_BYTES),
    op.f32Const(1), op.f32x4Splat, set(ONES),
    op.f32Const(0), op.f32x4Splat, set(ZERO),
    op.f32Const(-Infinity), op.f32x4Splat, set(NEG_INF),
    op.block, op.loop, // rows r = n * Ho + oh
    get(R), get(ROWS), op.i32GeU, op.brIf(1),
    // The window row's first byte: ((r / Ho) * H + 2 * (r % Ho)) * rowBytes.
    get(R), get(HO), op.i32DivU, get(H), op.i32Mul, get(R), get(HO), op.i32RemU, op.i32Const(1), op.i32Shl, op.i32Add,
    get(ROW_BYTES), op.i32Mul, op.localTee(P_ROW), set(P_WIN),
    op.i32Const(0), set(OW),
    op.block, op.loop, // windows ow
    get(OW), get(WO), op.i32GeU, op.brIf(1),
    op.i32Const(0), set(CB),
    op.block, op.loop, // channels, 16 bytes at a time
    get(CB), get(C_BYTES), op.i32GeU, op.brIf(1),
    get(P_WIN), get(CB), op.i32Add, set(ADDR),
    ...load(A, X), ...load(B, X, C_BYTES), ...load(E, X, ROW_BYTES), ...load(F, X, ROW_BYTES, C_BYTES),
    get(Y), get(D_OFF), op.i32Add, op.v128Load(), set(M),
    get(DY), get(D_OFF), op.i32Add, op.v128Load(), set(G),
    get(A), get(M), op.f32x4Eq, op.localTee(K0), set(TAKEN),
    ...firstEqual(K1, B), ...firstEqual(K2, E), ...firstEqual(K3, F),
    // bad |= ~(taken & (m != -inf) & (g - g == 0))
    get(TAKEN), get(M), get(NEG_INF), op.f32x4Ne, op.v128And,
    get(G), get(G), op.f32x4Sub, get(ZERO), op.f32x4Eq, op.v128And,
    op.v128Not, get(BAD), op.v128Or, set(BAD),
    ...store(K0), ...store(K1, C_BYTES), ...store(K2, ROW_BYTES), ...store(K3, ROW_BYTES, C_BYTES),
    get(D_OFF), op.i32Const(16), op.i32Add, set(D_OFF),
    get(CB), op.i32Const(16), op.i32Add, set(CB),
    op.br(0), op.end, op.end,
    get(P_WIN), get(C_BYTES), op.i32Const(1), op.i32Shl, op.i32Add, set(P_WIN),
    get(OW), op.i32Const(1), op.i32Add, set(OW),
    op.br(0), op.end, op.end,
    get(R), op.i32Const(1), op.i32Add, set(R),
    op.br(0), op.end, op.end,
    get(BAD), op.v128AnyTrue,
  ],
});
