/**
 * A thin view of one tfjs backend (`wasm` or `cpu`) for kernels that are
 * composed from that backend's own kernels plus plain typed-array loops.
 *
 * Intermediates made here are backend data, not engine tensors, so the engine
 * never sees them: every kernel must `dispose` what it `alloc`s or `run`s,
 * except the one TensorInfo it returns.
 */
import { tf } from "../tf";
import { zeroFill } from "../wasm_simd";

/** Backends the training kernels are written for. */
export type KernelBackendName = "wasm" | "cpu";

/** The parts of `BackendWasm` the kernels use. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

/** The parts of `MathBackendCPU` the kernels use. */
interface CpuBackendLike {
  data: { get(dataId: tf.DataId): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array | Int32Array): tf.TensorInfo;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

/**
 * Runs kernels and allocates, reads and frees data on one backend instance.
 *
 * Views returned by {@link KernelHost.f32} and {@link KernelHost.i32} alias
 * the backend's memory. On `wasm` an allocation can grow (and so detach) the
 * heap, so take views after the last `alloc`/`run` that precedes their use.
 *
 * @example
 * const host = new KernelHost("wasm", backend); // inside a kernelFunc
 * const t = host.run("Transpose", { x }, { perm: [3, 0, 1, 2] });
 * const sum = host.f32(t).reduce((a, b) => a + b, 0);
 * host.dispose(t);
 */
export class KernelHost {
  /**
   * @param backendName `"wasm"` or `"cpu"`.
   * @param backend The backend instance passed to a kernelFunc.
   */
  constructor(
    readonly backendName: KernelBackendName,
    readonly backend: unknown,
  ) {}

  /**
   * Calls the kernel `kernelName` registered for this backend, bypassing the
   * engine (no tape, no engine tensors). The caller owns the result.
   */
  run(kernelName: string, inputs: tf.NamedTensorInfoMap | tf.TensorInfo[], attrs: object = {}): tf.TensorInfo {
    const config = tf.getKernel(kernelName, this.backendName);
    if (config == null) {
      throw new Error(`KernelHost.run: kernel '${kernelName}' is not registered for backend '${this.backendName}'`);
    }
    const out = config.kernelFunc({
      inputs: inputs as tf.NamedTensorInfoMap,
      backend: this.backend as tf.KernelBackend,
      attrs: attrs as tf.NamedAttrMap,
    });
    if (Array.isArray(out)) {
      throw new Error(`KernelHost.run: kernel '${kernelName}' returned ${out.length} outputs, expected 1`);
    }
    return out;
  }

  /**
   * New backend data of `shape`. On `cpu` it is zero-filled; on `wasm` it is
   * uninitialised (write every element, or call `zero`).
   */
  alloc(shape: number[], dtype: "float32" | "int32" = "float32"): tf.TensorInfo {
    if (this.backendName === "wasm") {
      return (this.backend as WasmBackendLike).makeOutput(shape, dtype);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    const values = dtype === "int32" ? new Int32Array(size) : new Float32Array(size);
    return (this.backend as CpuBackendLike).makeTensorInfo(shape, dtype, values);
  }

  /** New float32 data of `shape`, filled with zeros. */
  zeros(shape: number[]): tf.TensorInfo {
    const t = this.alloc(shape);
    if (this.backendName === "wasm") zeroFill(this.backend, this.f32(t));
    return t;
  }

  /** A live float32 view of `t`'s data (`t.dtype` must be float32). */
  f32(t: tf.TensorInfo): Float32Array {
    const values = this.values(t);
    if (!(values instanceof Float32Array)) {
      throw new Error(`KernelHost.f32: expected float32 data, got ${t.dtype}`);
    }
    return values;
  }

  /** A live int32 view of `t`'s data (`t.dtype` must be int32). */
  i32(t: tf.TensorInfo): Int32Array {
    const values = this.values(t);
    if (!(values instanceof Int32Array)) {
      throw new Error(`KernelHost.i32: expected int32 data, got ${t.dtype}`);
    }
    return values;
  }

  /** `t`'s data seen with another shape of the same size; not owned, never dispose it. */
  alias(t: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    return { dataId: t.dataId, shape, dtype: t.dtype };
  }

  /** Releases data made by `alloc` or `run`. */
  dispose(t: tf.TensorInfo): void {
    (this.backend as WasmBackendLike | CpuBackendLike).disposeData(t.dataId);
  }

  private values(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array {
    if (this.backendName === "wasm") {
      return (this.backend as WasmBackendLike).typedArrayFromHeap(t);
    }
    const values = (this.backend as CpuBackendLike).data.get(t.dataId).values;
    if (values instanceof Float32Array || values instanceof Int32Array || values instanceof Uint8Array) {
      return values;
    }
    throw new Error(`KernelHost: ${t.dtype} data of shape [${t.shape}] has no typed-array values on cpu`);
  }
}
