/**
 * `GatherV2` by block copies, for any axis without batch dims. Along axis 0
 * it is an embedding lookup: stock wasm runs a general strided loop that took
 * 15.6 ms for 6144 rows of a 20000x100 table (23 ms on the threaded build) in
 * the sgns benchmark step; copying rows takes well under 1 ms. Along the last
 * axis it is how an STFT cuts a batch of waves into frames (05's log-mel
 * front end): 68 ms per call stock for 512 one-second waves. Gathers with
 * batch dims, or of other dtypes, go to the stock kernel unchanged.
 *
 * On wasm the copies are a generated loop (one word per single value,
 * `memory.copy` per longer row): cutting 64 waves of 8000 samples into 61
 * frames of 64 values took 0.67 ms in JavaScript and 0.32 ms here, and the
 * log-mel bench step went from 66 to 60 ms (2 threads).
 */
import { tf } from "../tf";
import { addLocalTo, addTo, I32, loopUntil, op, SimdFunction, simdKernels } from "../wasm_simd";
import { KernelBackendName, KernelHost } from "./host";

// Parameters, then locals.
const SRC = 0, IDS = 1, DST = 2, OUTER = 3, N = 4, BLOCK_BYTES = 5, ROW_BYTES = 6;
const B = 7, I = 8, BASE = 9, ID_AT = 10, OUT_AT = 11;

/**
 * `gatherRows(src, ids, dst, outer, n, blockBytes, rowBytes)`: for each of
 * `outer` blocks of `blockBytes` bytes of `src`, copies row `ids[i]`
 * (`rowBytes` bytes) to the next row of `dst`, `i < n`; 4-byte rows are
 * one load and store, longer ones `memory.copy`. Byte addresses; ids are
 * int32 and already checked.
 */
function gatherRowsFunction(): SimdFunction {
  const { localGet: get, localSet: set } = op;
  const rowAt = [get(BASE), get(ID_AT), op.i32Load(), get(ROW_BYTES), op.i32Mul, op.i32Add];
  return {
    name: "gatherRows",
    params: [I32, I32, I32, I32, I32, I32, I32],
    results: [],
    locals: [I32, I32, I32, I32, I32],
    body: [
      get(DST), set(OUT_AT),
      get(SRC), set(BASE),
      op.i32Const(0), set(B),
      ...loopUntil(B, [get(OUTER)], [...addTo(B, 1), ...addLocalTo(BASE, BLOCK_BYTES)], [
        get(IDS), set(ID_AT),
        op.i32Const(0), set(I),
        ...loopUntil(I, [get(N)], [...addTo(I, 1), ...addTo(ID_AT, 4), ...addLocalTo(OUT_AT, ROW_BYTES)], [
          // if rowBytes == 4: one word, else memory.copy
          get(ROW_BYTES), op.i32Const(4), op.i32Eq, op.if,
          get(OUT_AT), ...rowAt, op.i32Load(), op.i32Store(),
          op.else,
          get(OUT_AT), ...rowAt, get(ROW_BYTES), op.memoryCopy,
          op.end,
        ]),
      ]),
    ],
  };
}

/**
 * The kernel function: `x` `[...outer, rows, ...inner]` (float32 or int32,
 * `rows` at `axis`) and int32 `indices` of any shape give
 * `[...outer, ...indices.shape, ...inner]`; an index outside `[0, rows)`
 * throws naming it. Anything else runs `stock`.
 *
 * @example
 * const stock = tf.getKernel("GatherV2", "wasm");
 * tf.unregisterKernel("GatherV2", "wasm");
 * tf.registerKernel({ ...stock, kernelFunc: gatherRowsKernel("wasm", stock) });
 */
export function gatherRowsKernel(backendName: KernelBackendName, stock: tf.KernelConfig | undefined): tf.KernelFunc {
  if (stock == null) throw new Error(`gatherRowsKernel: backend '${backendName}' has no stock GatherV2 kernel to fall back on`);
  return (args) => {
    const { x, indices } = args.inputs as { x?: tf.TensorInfo; indices?: tf.TensorInfo };
    const { axis, batchDims } = (args.attrs ?? {}) as { axis?: number; batchDims?: number };
    if (x == null || indices == null || x.shape.length === 0) return stock.kernelFunc(args);
    const rank = x.shape.length;
    const normalisedAxis = axis == null ? 0 : axis < 0 ? axis + rank : axis;
    const fast =
      normalisedAxis >= 0 && normalisedAxis < rank && (batchDims ?? 0) === 0 && indices.dtype === "int32" && (x.dtype === "float32" || x.dtype === "int32");
    if (!fast) return stock.kernelFunc(args);
    const rows = x.shape[normalisedAxis];
    const outer = x.shape.slice(0, normalisedAxis).reduce((a, b) => a * b, 1);
    const inner = x.shape.slice(normalisedAxis + 1);
    const rowSize = inner.reduce((a, b) => a * b, 1);
    const host = new KernelHost(backendName, args.backend);
    const out = host.alloc([...x.shape.slice(0, normalisedAxis), ...indices.shape, ...inner], x.dtype as "float32" | "int32");
    // Views after the allocation: on wasm it may grow (and detach) the heap.
    const ids = host.i32(indices);
    const src = x.dtype === "float32" ? host.f32(x) : host.i32(x);
    const dst = x.dtype === "float32" ? host.f32(out) : host.i32(out);
    for (let i = 0; i < ids.length; i++) {
      const row = ids[i];
      if (!(row >= 0 && row < rows)) {
        host.dispose(out);
        throw new Error(`GatherV2 (${backendName}): indices[${i}] = ${row} is not in [0, ${rows - 1}]`);
      }
    }
    const n = ids.length;
    const kernels = backendName === "wasm" && n > 0 && rowSize > 0 ? simdKernels(args.backend, "gatherRows", () => [gatherRowsFunction()]) : null;
    if (kernels !== null) {
      (kernels.gatherRows as (...a: number[]) => void)(src.byteOffset, ids.byteOffset, dst.byteOffset, outer, n, 4 * rows * rowSize, 4 * rowSize);
      return out;
    }
    let o = 0;
    for (let b = 0; b < outer; b++) {
      const base = b * rows * rowSize;
      if (rowSize === 1) {
        for (let i = 0; i < n; i++) dst[o++] = src[base + ids[i]];
      } else {
        for (let i = 0; i < n; i++, o += rowSize) {
          const start = base + ids[i] * rowSize;
          dst.set(src.subarray(start, start + rowSize), o);
        }
      }
    }
    return out;
  };
}
