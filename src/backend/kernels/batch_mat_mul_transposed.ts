/**
 * `BatchMatMul` on wasm with the transposes done up front. Stock wasm sends
 * any product with `transposeA` or `transposeB` (every matMul gradient has
 * one) to a naive loop at ~3 GFLOP/s, and only an untransposed product of
 * single matrices to XNNPACK (~40 GFLOP/s). For single matrices this kernel
 * computes `a^T b` in a SIMD loop where the widths allow, else transposes the
 * flagged operand with the Transpose kernel and calls the stock kernel
 * untransposed. Batches of matrices (attention) with `N` a multiple of 4 up
 * to 64 run in a SIMD loop of their own (batched_mat_mul_simd.ts); other
 * batched products go to the stock kernel as they are.
 */
import { tf } from "../tf";
import { KernelBackendName, KernelHost } from "./host";
import { addTransposedProduct, MAX_SIMD_OUT_CHANNELS } from "./conv2d_filter_grad_simd";
import { batchedMatMulSimd, MAX_BATCHED_N } from "./batched_mat_mul_simd";
import { simdKernels } from "../wasm_simd";

/**
 * The kernel function: for float32 `a` `[..1, M, K]` (or `[..1, K, M]` with
 * `transposeA`) and `b` `[..1, K, N]` (or `[..1, N, K]` with `transposeB`),
 * whose leading dimensions are all 1, returns `[..1, M, N]`; else runs `stock`.
 *
 * @example
 * const stock = tf.getKernel("BatchMatMul", "wasm");
 * tf.unregisterKernel("BatchMatMul", "wasm");
 * tf.registerKernel({ ...stock, kernelFunc: batchMatMulTransposedKernel("wasm", stock) });
 */
export function batchMatMulTransposedKernel(backendName: KernelBackendName, stock: tf.KernelConfig | undefined): tf.KernelFunc {
  if (stock == null) throw new Error(`batchMatMulTransposedKernel: backend '${backendName}' has no stock BatchMatMul kernel to fall back on`);
  return (args) => {
    const { a, b } = args.inputs as { a?: tf.TensorInfo; b?: tf.TensorInfo };
    const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    const single = (t: tf.TensorInfo) => t.shape.length >= 2 && t.shape.slice(0, -2).every((d) => d === 1);
    if (a == null || b == null || a.dtype !== "float32" || b.dtype !== "float32") return stock.kernelFunc(args);
    const host = new KernelHost(backendName, args.backend);
    if (!single(a) || !single(b)) return batchedProduct(host, a, b, !!transposeA, !!transposeB) ?? stock.kernelFunc(args);
    if (!(transposeA || transposeB)) return stock.kernelFunc(args);
    const rowsCols = (t: tf.TensorInfo) => t.shape.slice(-2) as [number, number];
    if (transposeA && !transposeB) {
      const product = transposedProduct(host, a, b, rowsCols(a), rowsCols(b));
      if (product !== null) return product;
    }
    // Untransposed 2-D views, [M, K] and [K, N]; a transposed operand becomes new data.
    const plain = (t: tf.TensorInfo, transposed: boolean | undefined) => {
      const [r, c] = rowsCols(t);
      if (!transposed) return { info: host.alias(t, [1, r, c]), owned: false };
      const tT = host.run("Transpose", { x: host.alias(t, [r, c]) }, { perm: [1, 0] });
      return { info: host.alias(tT, [1, c, r]), owned: true, data: tT };
    };
    const left = plain(a, transposeA);
    const right = plain(b, transposeB);
    try {
      const M = left.info.shape[1];
      const N = right.info.shape[2];
      if (left.info.shape[2] !== right.info.shape[1]) {
        throw new Error(
          `BatchMatMul (${backendName}): inner dimensions of a [${a.shape}] (transposeA=${!!transposeA}) and b [${b.shape}] (transposeB=${!!transposeB}) must match`,
        );
      }
      const out = stock.kernelFunc({ ...args, inputs: { a: left.info, b: right.info }, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;
      const lead = new Array<number>(Math.max(a.shape.length, b.shape.length) - 2).fill(1);
      return { ...out, shape: [...lead, M, N] };
    } finally {
      if (left.owned) host.dispose(left.data!);
      if (right.owned) host.dispose(right.data!);
    }
  };
}

/**
 * `a^T b` for single matrices `a` `[K, M]` and `b` `[K, N]` by the SIMD loop
 * of the filter gradient (conv2d_filter_grad_simd.ts), with no transpose:
 * the weight gradient `x^T dy` of a dense layer, where K (the batch rows)
 * is long and M, N are layer widths. XNNPACK runs such products poorly
 * after a transpose of `a` (a [4096,32]^T [4096,32] product took 1.6 ms and
 * its transpose 0.8 ms; measured in a SimCLR step of 05's sentence
 * encoder). Null when neither width is a multiple of 4 up to
 * {@link MAX_SIMD_OUT_CHANNELS} (the loop keeps one result row in registers).
 */
function transposedProduct(host: KernelHost, a: tf.TensorInfo, b: tf.TensorInfo, [K, M]: [number, number], [K2, N]: [number, number]): tf.TensorInfo | null {
  if (host.backendName !== "wasm" || K !== K2) return null;
  const lead = new Array<number>(Math.max(a.shape.length, b.shape.length) - 2).fill(1);
  const [aAt, bAt] = [host.f32(a).byteOffset, host.f32(b).byteOffset];
  if (N % 4 === 0 && N <= MAX_SIMD_OUT_CHANNELS) {
    const acc = new Float64Array(M * N);
    if (!addTransposedProduct(host, aAt, bAt, K, M, N, acc)) return null;
    const out = host.alloc([...lead, M, N]);
    host.f32(out).set(acc);
    return out;
  }
  if (M % 4 === 0 && M <= MAX_SIMD_OUT_CHANNELS) {
    // (b^T a)^T: the loop's result rows run over b's columns.
    const acc = new Float64Array(N * M);
    if (!addTransposedProduct(host, bAt, aAt, K, N, M, acc)) return null;
    const out = host.alloc([...lead, M, N]);
    const o = host.f32(out);
    for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) o[m * N + n] = acc[n * M + m];
    return out;
  }
  return null;
}

/**
 * `op(a) op(b)` for batches `a` `[...lead, ., .]` and `b` `[...lead, ., .]`
 * of the same leading shape (no broadcasting) by the batched SIMD loop, the
 * flagged operands transposed first by the Transpose kernel; null where `N`
 * is not a multiple of 4 up to {@link MAX_BATCHED_N} or the shapes need the
 * stock kernel. In a SimCLR step of 05's sentence encoder (4 heads of 8,
 * 32 tokens, 128 sequences) the attention products took 22-26 ms per step
 * in the stock loop and 3 here.
 */
function batchedProduct(host: KernelHost, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): tf.TensorInfo | null {
  if (host.backendName !== "wasm" || a.shape.length < 3 || a.shape.length !== b.shape.length) return null;
  const lead = a.shape.slice(0, -2);
  if (lead.some((d, i) => d !== b.shape[i])) return null;
  const batch = lead.reduce((x, y) => x * y, 1);
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [M, K] = transposeA ? [ac, ar] : [ar, ac];
  const [K2, N] = transposeB ? [bc, br] : [br, bc];
  if (K !== K2 || N % 4 !== 0 || N < 4 || N > MAX_BATCHED_N) return null;
  const kernels = simdKernels(host.backend, `batchedMatMul:${N}`, () => [batchedMatMulSimd(N)]);
  if (kernels === null) return null;
  const product = kernels.batchedMatMul as (a: number, b: number, out: number, batch: number, M: number, K: number) => void;
  const swapLast = (t: tf.TensorInfo, rows: number, cols: number) => host.run("Transpose", { x: host.alias(t, [batch, rows, cols]) }, { perm: [0, 2, 1] });
  const aPlain = transposeA ? swapLast(a, ar, ac) : null;
  const bPlain = transposeB ? swapLast(b, br, bc) : null;
  try {
    const out = host.alloc([...lead, M, N]);
    const at = (t: tf.TensorInfo) => host.f32(t).byteOffset;
    product(at(aPlain ?? a), at(bPlain ?? b), at(out), batch, M, K);
    return out;
  } finally {
    if (aPlain !== null) host.dispose(aPlain);
    if (bPlain !== null) host.dispose(bPlain);
  }
}
