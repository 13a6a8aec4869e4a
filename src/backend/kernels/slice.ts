/**
 * `Slice` on wasm by contiguous block copies. Stock wasm walks the output
 * element by element: taking the first half of a `[512,14,14,32]` batch took
 * 45 ms, where it is one 6 MB memcpy. The trailing axes a slice takes whole
 * merge into one run, so each run is a single `set`. float32 and int32 only;
 * other dtypes run the stock kernel.
 */
import { tf } from "../tf";
import { KernelBackendName, KernelHost } from "./host";

/**
 * Copies the box `begin[a] <= i[a] < begin[a] + size[a]` of `src` (shape
 * `shape`, row-major) into `dst` (shape `size`), as `tf.slice` does.
 *
 * @param src Input values, length `prod(shape)`.
 * @param shape Input shape (rank >= 1).
 * @param begin First index per axis.
 * @param size Extent per axis (non-negative, `begin + size <= shape`).
 * @param dst Output, length `prod(size)`; every element is written.
 * @example
 * const out = new Float32Array(2);
 * sliceInto(Float32Array.of(1, 2, 3, 4), [2, 2], [0, 1], [2, 1], out); // 2 4
 */
export function sliceInto(src: Float32Array | Int32Array, shape: number[], begin: number[], size: number[], dst: Float32Array | Int32Array): void {
  const rank = shape.length;
  if (dst.length === 0) return;
  // Axes after `last` are taken whole, so each index of axes 0..last starts a contiguous run.
  let last = rank - 1;
  let run = 1;
  while (last > 0 && begin[last] === 0 && size[last] === shape[last]) {
    run *= shape[last];
    last--;
  }
  run *= size[last];
  const stride = new Array<number>(rank);
  stride[rank - 1] = 1;
  for (let a = rank - 2; a >= 0; a--) stride[a] = stride[a + 1] * shape[a + 1];
  let o = 0;
  const copy = (a: number, offset: number): void => {
    if (a === last) {
      const start = offset + begin[a] * stride[a];
      dst.set(src.subarray(start, start + run), o);
      o += run;
      return;
    }
    for (let i = 0; i < size[a]; i++) copy(a + 1, offset + (begin[a] + i) * stride[a]);
  };
  copy(0, 0);
}

/**
 * The kernel function: `x` of rank >= 1 and attributes `begin`, `size` (as
 * `tf.slice` takes them: a size of -1 runs to the end) give the box; float32
 * and int32 here, anything else runs `stock`.
 *
 * @example
 * const stock = tf.getKernel("Slice", "wasm");
 * tf.unregisterKernel("Slice", "wasm");
 * tf.registerKernel({ ...stock, kernelFunc: sliceKernel("wasm", stock) });
 */
export function sliceKernel(backendName: KernelBackendName, stock: tf.KernelConfig | undefined): tf.KernelFunc {
  if (stock == null) throw new Error(`sliceKernel: backend '${backendName}' has no stock Slice kernel to fall back on`);
  const where = `Slice (${backendName})`;
  return (args) => {
    const x = (args.inputs as { x?: tf.TensorInfo }).x;
    const attrs = (args.attrs ?? {}) as { begin?: number | number[]; size?: number | number[] };
    if (x == null || x.shape.length === 0 || (x.dtype !== "float32" && x.dtype !== "int32")) return stock.kernelFunc(args);
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin as number[], attrs.size as number[]);
    tf.slice_util.assertParamsValid(x as tf.Tensor, begin, size);
    if (size.some((s, a) => !Number.isInteger(s) || s < 0 || begin[a] + s > x.shape[a])) {
      throw new Error(`${where}: begin ${JSON.stringify(begin)} and size ${JSON.stringify(size)} do not fit x [${x.shape}]`);
    }
    const host = new KernelHost(backendName, args.backend);
    const out = host.alloc(size, x.dtype);
    // Views after the allocation: on wasm it may grow (and detach) the heap.
    if (x.dtype === "float32") sliceInto(host.f32(x), x.shape, begin, size, host.f32(out));
    else sliceInto(host.i32(x), x.shape, begin, size, host.i32(out));
    return out;
  };
}
