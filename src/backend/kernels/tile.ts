/**
 * `Tile` on wasm by block copies. BatchNorm's gradient in tfjs-core tiles the
 * per-channel `1/sqrt(var + eps)` `[1,1,1,C]` up to the activation's shape
 * `[N,H,W,C]`; stock wasm's element-by-element loop took about 100 ms per
 * BatchNorm layer for 128 images of the small ResNet (42% of its training
 * step). Here each input row is written once and every repetition is a
 * doubling `copyWithin` (memmove). float32 and int32 only; other dtypes run
 * the stock kernel.
 */
import { tf } from "../tf";
import { KernelBackendName, KernelHost } from "./host";

/**
 * Writes `src` (shape `shape`, row-major) tiled `reps[a]` times along each
 * axis `a` into `dst` (shape `shape[a] * reps[a]`), as `tf.tile` does.
 *
 * @param src Input values, length `prod(shape)`.
 * @param shape Input shape (rank >= 1).
 * @param reps Repetitions per axis, same length as `shape`, each >= 1... or 0 (empty output).
 * @param dst Output, length `prod(shape[a] * reps[a])`; every element is written.
 * @example
 * const out = new Float32Array(6);
 * tileInto(Float32Array.of(1, 2), [1, 2], [3, 1], out); // 1 2 1 2 1 2
 */
export function tileInto(src: Float32Array | Int32Array, shape: number[], reps: number[], dst: Float32Array | Int32Array): void {
  const rank = shape.length;
  if (dst.length === 0) return;
  // Strides of the input and of the output, per axis.
  const srcStride = new Array<number>(rank);
  const dstStride = new Array<number>(rank);
  srcStride[rank - 1] = 1;
  dstStride[rank - 1] = 1;
  for (let a = rank - 2; a >= 0; a--) {
    srcStride[a] = srcStride[a + 1] * shape[a + 1];
    dstStride[a] = dstStride[a + 1] * shape[a + 1] * reps[a + 1];
  }
  const fill = (a: number, srcOffset: number, dstOffset: number): void => {
    const n = shape[a];
    if (a === rank - 1) {
      if (n === 1) dst[dstOffset] = src[srcOffset];
      else dst.set(src.subarray(srcOffset, srcOffset + n), dstOffset);
    } else {
      for (let i = 0; i < n; i++) fill(a + 1, srcOffset + i * srcStride[a], dstOffset + i * dstStride[a]);
    }
    // The first repetition along `a` is in place; copy it reps[a] - 1 times.
    const block = n * dstStride[a];
    const total = block * reps[a];
    for (let filled = block; filled < total; ) {
      const count = Math.min(filled, total - filled);
      dst.copyWithin(dstOffset + filled, dstOffset, dstOffset + count);
      filled += count;
    }
  };
  fill(0, 0, 0);
}

/**
 * The kernel function: `x` of any rank >= 1 and attribute `reps` (one
 * non-negative integer per axis) give `x` repeated along every axis; float32
 * and int32 here, anything else runs `stock`.
 *
 * @example
 * const stock = tf.getKernel("Tile", "wasm");
 * tf.unregisterKernel("Tile", "wasm");
 * tf.registerKernel({ ...stock, kernelFunc: tileKernel("wasm", stock) });
 */
export function tileKernel(backendName: KernelBackendName, stock: tf.KernelConfig | undefined): tf.KernelFunc {
  if (stock == null) throw new Error(`tileKernel: backend '${backendName}' has no stock Tile kernel to fall back on`);
  const where = `Tile (${backendName})`;
  return (args) => {
    const x = (args.inputs as { x?: tf.TensorInfo }).x;
    const reps = ((args.attrs ?? {}) as { reps?: number[] }).reps;
    if (x == null || x.shape.length === 0 || (x.dtype !== "float32" && x.dtype !== "int32")) return stock.kernelFunc(args);
    if (!Array.isArray(reps) || reps.length !== x.shape.length || reps.some((r) => !Number.isInteger(r) || r < 0)) {
      throw new Error(`${where}: reps must hold ${x.shape.length} non-negative integers (one per axis of x [${x.shape}]), got ${JSON.stringify(reps)}`);
    }
    const host = new KernelHost(backendName, args.backend);
    const out = host.alloc(x.shape.map((s, a) => s * reps[a]), x.dtype);
    // Views after the allocation: on wasm it may grow (and detach) the heap.
    if (x.dtype === "float32") tileInto(host.f32(x), x.shape, reps, host.f32(out));
    else tileInto(host.i32(x), x.shape, reps, host.i32(out));
    return out;
  };
}
