/**
 * `UnsortedSegmentSum`: `out[s, ...] = sum of x[i, ...] over i with segmentIds[i] = s`,
 * the gradient of `gather` (embedding tables). One pass over `x`.
 *
 * Unlike TensorFlow, which drops rows whose id is negative, an id outside
 * `[0, numSegments)` throws: silently losing gradient rows hides bugs.
 *
 * On wasm, float32 rows of a multiple of 4 floats are added in a SIMD loop
 * on two threads (unsorted_segment_sum_simd.ts).
 */
import { tf } from "../tf";
import { backendThreads, runSplit } from "../simd_threads";
import { simdKernels, wasmBackendMemory, zeroFill } from "../wasm_simd";
import { shapeString } from "./conv_geometry";
import { KernelBackendName, KernelHost } from "./host";
import { segmentSumSimd } from "./unsorted_segment_sum_simd";

/**
 * The kernel function for `backendName`: inputs `x` `[...idShape, ...inner]`
 * (float32 or int32) and `segmentIds` `idShape` (int32), attribute
 * `numSegments`; returns `[numSegments, ...inner]` of `x`'s dtype.
 *
 * @example
 * tf.registerKernel({ kernelName: "UnsortedSegmentSum", backendName: "wasm",
 *   kernelFunc: unsortedSegmentSumKernel("wasm") });
 */
export function unsortedSegmentSumKernel(backendName: KernelBackendName): tf.KernelFunc {
  const where = `UnsortedSegmentSum (${backendName})`;
  return ({ inputs, backend, attrs }) => {
    const { x, segmentIds } = inputs as { x?: tf.TensorInfo; segmentIds?: tf.TensorInfo };
    if (x == null || segmentIds == null) throw new Error(`${where}: inputs x and segmentIds are required`);
    const numSegments = (attrs as { numSegments?: unknown } | undefined)?.numSegments;
    if (typeof numSegments !== "number" || !Number.isInteger(numSegments) || numSegments < 0) {
      throw new Error(`${where}: numSegments must be a non-negative integer, got ${String(numSegments)}`);
    }
    if (segmentIds.dtype !== "int32") {
      throw new Error(`${where}: segmentIds must be int32, got ${segmentIds.dtype}`);
    }
    if (x.dtype !== "float32" && x.dtype !== "int32") {
      throw new Error(`${where}: x must be float32 or int32, got ${x.dtype}`);
    }
    const idRank = segmentIds.shape.length;
    if (idRank > x.shape.length || segmentIds.shape.some((d, i) => d !== x.shape[i])) {
      throw new Error(
        `${where}: segmentIds shape must be a prefix of x shape ${shapeString(x.shape)}, got ${shapeString(segmentIds.shape)}`,
      );
    }
    const innerShape = x.shape.slice(idRank);
    const inner = innerShape.reduce((a, b) => a * b, 1);
    const host = new KernelHost(backendName, backend);
    const out = host.alloc([numSegments, ...innerShape], x.dtype);
    const ids = host.i32(segmentIds);
    const numIds = ids.length;
    const xv = x.dtype === "int32" ? host.i32(x) : host.f32(x);
    const ov = x.dtype === "int32" ? host.i32(out) : host.f32(out);
    zeroFill(host.backend, ov);
    for (let i = 0; i < numIds; i++) {
      const s = ids[i];
      if (!(s >= 0 && s < numSegments)) {
        host.dispose(out);
        throw new Error(`${where}: segmentIds must lie in [0, ${numSegments}), got ${s} at flat index ${i}`);
      }
    }
    if (x.dtype === "float32" && addRowsSimd(host, xv, ids, ov, numIds, numSegments, inner)) return out;
    for (let i = 0; i < numIds; i++) {
      const s = ids[i];
      const src = i * inner;
      const dst = s * inner;
      for (let j = 0; j < inner; j++) ov[dst + j] += xv[src + j];
    }
    return out;
  };
}

/**
 * The SIMD loop's `out[ids[i]] += x[i]` over `rows` rows of `inner` floats,
 * the helper thread taking the first half of the segments; false (nothing
 * done) off wasm, without SIMD, or when `inner` is not a multiple of 4.
 */
function addRowsSimd(host: KernelHost, x: Float32Array | Int32Array, ids: Int32Array, out: Float32Array | Int32Array, rows: number, numSegments: number, inner: number): boolean {
  if (host.backendName !== "wasm" || inner % 4 !== 0 || inner === 0 || rows === 0) return false;
  const memory = wasmBackendMemory(host.backend);
  const kernels = simdKernels(host.backend, `segmentSum:${inner}`, () => [segmentSumSimd(inner)]);
  if (memory === null || kernels === null) return false;
  const args = [x.byteOffset, ids.byteOffset, out.byteOffset, rows];
  const half = numSegments >> 1;
  runSplit(memory, kernels, "segmentSum", backendThreads(host.backend), [...args, half, numSegments], [...args, 0, half]);
  return true;
}
