/**
 * The two products of a softmax-regression step in WebAssembly SIMD, two
 * float64 lanes at a time: the logits of a minibatch and the weight
 * gradient. They are the whole cost of a linear probe (the softmax, the
 * bias and Adam are O(classes) per example and stay in TypeScript); in
 * plain loops a probe on 8,000 x 128 features took 1 s.
 *
 * Layout, in the memory the functions are instantiated on (byte addresses):
 * features `[n, dimPadded]` and weights and gradient `[classes, dimPadded]`,
 * row-major float64, `dimPadded` a multiple of 4 (zero columns pad `dim`);
 * the minibatch's row indices as int32; logits `[batch, classes]` float64.
 */
import { I32, op, SimdFunction, V128 } from "../backend/wasm_simd";

const { localGet: get, localSet: set } = op;

// Parameters, shared by both functions.
const X = 0, W = 1, ROWS = 2, BATCH = 3, ROW_BYTES = 4, CLASSES = 5, OUT = 6;
// Locals: i32, then v128.
const I = 7, END = 8, XR = 9, C = 10, WC = 11, D = 12, K = 13, ACC = 14, ACC2 = 15;

/** XR = X + rows[i] * ROW_BYTES: the byte address of the example's features. */
const exampleRow = [get(X), get(ROWS), get(I), op.i32Add, op.i32Load(), get(ROW_BYTES), op.i32Mul, op.i32Add, set(XR)];

/**
 * Loops over the minibatch's examples (i), classes (c, with WC the class's
 * weight row) and features four at a time (d, in bytes): `beforeClass`,
 * then `inner` at each four, then `afterClass`; K walks `out` one float64
 * per (example, class).
 */
const loops = (beforeClass: number[][], inner: number[][], afterClass: number[][]): number[][] => [
  get(BATCH), op.i32Const(2), op.i32Shl, set(END),
  get(OUT), set(K),
  op.block, op.loop, // examples: I steps through rows in bytes
  get(I), get(END), op.i32GeU, op.brIf(1),
  ...exampleRow,
  op.i32Const(0), set(C), get(W), set(WC),
  op.block, op.loop, // classes
  get(C), get(CLASSES), op.i32GeU, op.brIf(1),
  ...beforeClass,
  op.i32Const(0), set(D),
  op.block, op.loop, // features, four at a time (two v128 of two float64)
  get(D), get(ROW_BYTES), op.i32GeU, op.brIf(1),
  ...inner,
  get(D), op.i32Const(32), op.i32Add, set(D),
  op.br(0), op.end, op.end,
  ...afterClass,
  get(K), op.i32Const(8), op.i32Add, set(K),
  get(C), op.i32Const(1), op.i32Add, set(C),
  get(WC), get(ROW_BYTES), op.i32Add, set(WC),
  op.br(0), op.end, op.end,
  get(I), op.i32Const(4), op.i32Add, set(I),
  op.br(0), op.end, op.end,
];

const PARAMS = Array(7).fill(I32);
const LOCALS = [...Array(7).fill(I32), V128, V128];

/**
 * `logits(x, w, rows, batch, rowBytes, classes, out)`: for each example i
 * of the minibatch and class c, `out[i, c] = x[rows[i]] . w[c]` (the bias
 * is added by the caller).
 */
export const logitsFunction = (): SimdFunction => ({
  name: "logits",
  params: PARAMS,
  results: [],
  locals: LOCALS,
  body: loops(
    [op.f32Const(0), op.f32x4Splat, op.localTee(ACC), set(ACC2)],
    // Two accumulators: two independent chains of adds.
    [
      get(ACC), get(XR), get(D), op.i32Add, op.v128Load(), get(WC), get(D), op.i32Add, op.v128Load(), op.f64x2Mul, op.f64x2Add, set(ACC),
      get(ACC2), get(XR), get(D), op.i32Add, op.v128Load(16), get(WC), get(D), op.i32Add, op.v128Load(16), op.f64x2Mul, op.f64x2Add, set(ACC2),
    ],
    [get(K), get(ACC), get(ACC2), op.f64x2Add, op.localTee(ACC), op.f64x2ExtractLane(0), get(ACC), op.f64x2ExtractLane(1), op.f64Add, op.f64Store()],
  ),
});

/**
 * `gradient(x, g, rows, batch, rowBytes, classes, coefficients)`: for each
 * example i and class c, `g[c] += coefficients[i, c] * x[rows[i]]` (the
 * caller zeroes `g` first).
 */
export const gradientFunction = (): SimdFunction => ({
  name: "gradient",
  params: PARAMS,
  results: [],
  locals: LOCALS,
  body: loops(
    [get(K), op.f64Load(), op.f64x2Splat, set(ACC)],
    [0, 16].flatMap((at) => [
      get(WC), get(D), op.i32Add,
      get(WC), get(D), op.i32Add, op.v128Load(at),
      get(ACC), get(XR), get(D), op.i32Add, op.v128Load(at), op.f64x2Mul, op.f64x2Add,
      op.v128Store(at),
    ]),
    [],
  ),
});
