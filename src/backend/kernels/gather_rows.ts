/**
 * `GatherV2` with a fast path for gathering whole rows (axis 0, no batch
 * dims): an embedding lookup. Stock wasm runs a general strided loop that
 * took 15.6 ms for 6144 rows of a 20000x100 table (23 ms on the threaded
 * build) in the sgns benchmark step; copying rows takes well under 1 ms.
 * Other gathers go to the stock kernel unchanged.
 */
import { tf } from "../tf";
import { KernelBackendName, KernelHost } from "./host";

/**
 * The kernel function: `x` `[rows, ...rest]` (float32 or int32) and int32
 * `indices` of any shape give `[...indices.shape, ...rest]`; an index outside
 * `[0, rows)` throws naming it. Anything else runs `stock`.
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
      normalisedAxis === 0 && (batchDims ?? 0) === 0 && indices.dtype === "int32" && (x.dtype === "float32" || x.dtype === "int32");
    if (!fast) return stock.kernelFunc(args);
    const rows = x.shape[0];
    const rest = x.shape.slice(1);
    const rowSize = rest.reduce((a, b) => a * b, 1);
    const host = new KernelHost(backendName, args.backend);
    const out = host.alloc([...indices.shape, ...rest], x.dtype as "float32" | "int32");
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
      dst.set(src.subarray(row * rowSize, (row + 1) * rowSize), i * rowSize);
    }
    return out;
  };
}
