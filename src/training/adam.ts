/**
 * Adam (Kingma & Ba 2015) with the whole update of one variable fused into a
 * single pass on the wasm backend: read value, gradient and both moments
 * once, write the three results once. tf.train.adam spends about 13
 * elementwise kernels (13 passes and allocations) per variable; on a
 * 20000 x 100 embedding table that is most of a skip-gram step.
 *
 * The optimizer is a `tf.AdamOptimizer` (class name "Adam"): same state
 * (moments, the running products beta1^t and beta2^t, the iteration count),
 * same `getWeights`/`setWeights`, so checkpoints move between it and
 * `tf.train.adam` and between backends. Off wasm it runs tf.train.adam's own
 * update. On wasm the pass is a 4-lane SIMD loop in a small WebAssembly
 * module assembled below and instantiated on the wasm backend's own memory
 * (also the shared memory of the threaded build), so it works on tensors in
 * place: about 2 ms for a 2M-element variable, on one thread or the threaded
 * build, where the 13 stock kernels take about 9 ms.
 *
 * Arithmetic, with t the 1-based step and beta^t kept as float32 running
 * products exactly as tf.train.adam keeps them:
 *
 *   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,
 *   x = x - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 */
import { tf } from "../backend/tf";
import { F32, I32, op, simdKernels, type SimdFunction, V128 } from "../backend/wasm_simd";

/** Name of the fused update kernel (registered for the wasm backend). */
export const FUSED_ADAM_KERNEL = "SslFusedAdam";

interface AdamAttrs {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** learningRate / (1 - beta1^t). */
  stepSize: number;
  /** 1 / sqrt(1 - beta2^t). */
  correction: number;
}

/** The fused loop over typed arrays; outputs may not alias inputs. */
function adamPass(
  x: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array,
  xOut: Float32Array, mOut: Float32Array, vOut: Float32Array, a: AdamAttrs,
): void {
  const keep1 = 1 - a.beta1;
  const keep2 = 1 - a.beta2;
  for (let i = 0; i < x.length; i++) {
    const gi = g[i];
    const mi = a.beta1 * m[i] + keep1 * gi;
    const vi = a.beta2 * v[i] + keep2 * gi * gi;
    mOut[i] = mi;
    vOut[i] = vi;
    xOut[i] = x[i] - (a.stepSize * mi) / (Math.sqrt(vi) * a.correction + a.epsilon);
  }
}

// ---------------------------------------------------------------------------
// The SIMD loop, assembled with the kernels' assembler (no toolchain needed at
// install time): adam(x, g, m, v, xOut, mOut, vOut: i32 byte offsets, n: i32
// elements (a multiple of 4; the caller does the tail), beta1, 1 - beta1,
// beta2, 1 - beta2, stepSize, correction, epsilon: f32).

type SimdAdam = (
  x: number, g: number, m: number, v: number, xOut: number, mOut: number, vOut: number, n: number,
  beta1: number, keep1: number, beta2: number, keep2: number, stepSize: number, correction: number, epsilon: number,
) => void;

const simdAdamFunction = (): SimdFunction => {
  const { localGet: get, localSet: set } = op;
  // Params 0-6 pointers, 7 n, 8-14 scalars; locals 15 offset, 16 end, 17 g, 18 m, 19 v, 20-26 splats.
  const at = (pointer: number) => [get(pointer), get(15), op.i32Add];
  const load = op.v128Load();
  const store = op.v128Store();
  return {
    name: "adam",
    params: [...Array(8).fill(I32), ...Array(7).fill(F32)],
    results: [],
    locals: [I32, I32, ...Array(10).fill(V128)],
    body: [
      ...[8, 9, 10, 11, 12, 13, 14].flatMap((p, k) => [get(p), op.f32x4Splat, set(20 + k)]),
      get(7), op.i32Const(2), op.i32Shl, set(16), // end = n * 4 bytes
      op.block, op.loop,
      get(15), get(16), op.i32GeU, op.brIf(1),
      ...at(1), load, set(17),
      get(20), ...at(2), load, op.f32x4Mul, get(21), get(17), op.f32x4Mul, op.f32x4Add, set(18),
      get(22), ...at(3), load, op.f32x4Mul, get(23), get(17), get(17), op.f32x4Mul, op.f32x4Mul, op.f32x4Add, set(19),
      ...at(5), get(18), store,
      ...at(6), get(19), store,
      ...at(4), ...at(0), load, get(24), get(18), op.f32x4Mul,
      get(19), op.f32x4Sqrt, get(25), op.f32x4Mul, get(26), op.f32x4Add, op.f32x4Div, op.f32x4Sub, store,
      get(15), op.i32Const(16), op.i32Add, set(15),
      op.br(0), op.end, op.end,
    ],
  };
};

const simdAdamFor = (backend: tf.KernelBackend): SimdAdam | null =>
  (simdKernels(backend, "adam", () => [simdAdamFunction()])?.adam as SimdAdam | undefined) ?? null;

type Info = tf.TensorInfo;

interface WasmLike {
  makeOutput(shape: number[], dtype: tf.DataType): Info;
  typedArrayFromHeap(info: Info): Float32Array;
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
}

function checkInputs(inputs: tf.NamedTensorInfoMap): Info[] {
  const { x, g, m, v } = inputs as Record<string, Info>;
  for (const [name, t] of [["x", x], ["g", g], ["m", m], ["v", v]] as const) {
    if (t.dtype !== "float32" || t.shape.join() !== x.shape.join()) {
      throw new Error(
        `${FUSED_ADAM_KERNEL}: ${name} must be float32 of shape [${x.shape}], got ${t.dtype} [${t.shape}]`,
      );
    }
  }
  return [x, g, m, v];
}

function registerFusedAdam(): void {
  if (tf.getKernel(FUSED_ADAM_KERNEL, "wasm")) return;
  tf.registerKernel({
    kernelName: FUSED_ADAM_KERNEL,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const wasm = backend as unknown as WasmLike;
      const [x, g, m, v] = checkInputs(inputs);
      const a = attrs as unknown as AdamAttrs;
      const outs = [0, 1, 2].map(() => wasm.makeOutput(x.shape, "float32"));
      const all = [x, g, m, v, ...outs];
      const n = x.shape.reduce((p, d) => p * d, 1);
      const simdAdam = simdAdamFor(backend as tf.KernelBackend);
      let done = 0;
      if (simdAdam) {
        done = n - (n % 4);
        const [px, pg, pm, pv, pxo, pmo, pvo] = all.map((t) => wasm.dataIdMap.get(t.dataId).memoryOffset);
        simdAdam(
          px, pg, pm, pv, pxo, pmo, pvo, done,
          a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, a.stepSize, a.correction, a.epsilon,
        );
      }
      if (done < n) {
        // Views only after every allocation: growing the heap detaches them.
        const [xv, gv, mv, vv, xo, mo, vo] = all.map((t) => wasm.typedArrayFromHeap(t).subarray(done));
        adamPass(xv, gv, mv, vv, xo, mo, vo, a);
      }
      return outs;
    },
  });
}

/** How {@link adam} updates variables on a backend. */
export type AdamUpdatePath =
  /** One SIMD pass per variable in the wasm heap. */
  | "fused-simd"
  /** One JavaScript pass per variable (wasm on an engine without SIMD). */
  | "fused-js"
  /** tf.train.adam's elementwise ops. */
  | "tf-ops";

/**
 * How {@link adam} updates variables on `backendName` (default: the current
 * backend), for reports and tests.
 *
 * @example
 * await tf.setBackend("wasm");
 * adamUpdatePath(); // "fused-simd"
 */
export function adamUpdatePath(backendName: string = tf.getBackend()): AdamUpdatePath {
  if (backendName !== "wasm") return "tf-ops";
  const backend = tf.engine().findBackend("wasm");
  if (backend == null) {
    throw new Error(`adamUpdatePath: backendName 'wasm' must be initialised (await tf.setBackend("wasm")), got none`);
  }
  return simdAdamFor(backend) ? "fused-simd" : "fused-js";
}

/** The fields of tfjs 4.22's AdamOptimizer this class shares (private in its typings). */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable }>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable }>;
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/**
 * tf.train.adam with the per-variable update fused into one pass on wasm.
 * Prefer the {@link adam} factory.
 */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  constructor(learningRate: number, beta1: number, beta2: number, epsilon?: number) {
    super(learningRate, beta1, beta2, epsilon);
    registerFusedAdam();
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer["applyGradients"]>[0]): void {
    if (tf.getBackend() !== "wasm") {
      super.applyGradients(variableGradients);
      return;
    }
    const s = this as unknown as AdamState;
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((v) => v.name)
      : Object.keys(variableGradients);
    // tf.train.adam's bias corrections, from the same float32 running products.
    const [acc1] = s.accBeta1.dataSync();
    const [acc2] = s.accBeta2.dataSync();
    const attrs: AdamAttrs = {
      beta1: s.beta1,
      beta2: s.beta2,
      epsilon: s.epsilon,
      stepSize: s.learningRate / Math.fround(1 - acc1),
      correction: 1 / Math.sqrt(Math.fround(1 - acc2)),
    };
    names.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name];
      // Slots by position, named as tf.train.adam names them (checkpoints rely on both).
      if (s.accumulatedFirstMoment[i] == null) {
        s.accumulatedFirstMoment[i] = { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
      }
      if (s.accumulatedSecondMoment[i] == null) {
        s.accumulatedSecondMoment[i] = { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
      }
      const gradient = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
      if (gradient == null) return;
      const m = s.accumulatedFirstMoment[i].variable;
      const v = s.accumulatedSecondMoment[i].variable;
      const outputs = tf.engine().runKernel(
        FUSED_ADAM_KERNEL,
        { x: value, g: gradient, m, v } as unknown as tf.NamedTensorMap,
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor[];
      value.assign(outputs[0]);
      m.assign(outputs[1]);
      v.assign(outputs[2]);
      tf.dispose(outputs);
    });
    tf.tidy(() => {
      s.accBeta1.assign(tf.mul(s.accBeta1, s.beta1));
      s.accBeta2.assign(tf.mul(s.accBeta2, s.beta2));
    });
    this.incrementIterations();
  }
}

/**
 * Adam: a drop-in for `tf.train.adam(learningRate, beta1, beta2, epsilon)`
 * whose update is one fused SIMD pass per variable on the wasm backend (also
 * its threaded build) and tf.train.adam's own update on other backends.
 * Works with `optimizer.minimize(f, returnCost, varList)`, `train` and
 * checkpoints (class name "Adam": a checkpoint of either loads into the other).
 *
 * @param learningRate step size, finite and > 0
 * @param beta1 decay of the first moment, in [0, 1); default 0.9
 * @param beta2 decay of the second moment, in [0, 1); default 0.999
 * @param epsilon added to sqrt(v-hat), finite and >= 0; default: the
 *   backend's epsilon (1e-7 for float32), as tf.train.adam. PyTorch uses 1e-8.
 * @example
 * const optimizer = adam(1e-3);
 * optimizer.minimize(() => loss(), false, [table]);
 */
export function adam(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon?: number): FusedAdamOptimizer {
  const checks: Array<[string, number | undefined, boolean]> = [
    ["learningRate", learningRate, Number.isFinite(learningRate) && learningRate > 0],
    ["beta1", beta1, Number.isFinite(beta1) && beta1 >= 0 && beta1 < 1],
    ["beta2", beta2, Number.isFinite(beta2) && beta2 >= 0 && beta2 < 1],
    ["epsilon", epsilon, epsilon === undefined || (Number.isFinite(epsilon) && epsilon >= 0)],
  ];
  const expected: Record<string, string> = {
    learningRate: "a finite number > 0",
    beta1: "in [0, 1)",
    beta2: "in [0, 1)",
    epsilon: "a finite number >= 0",
  };
  for (const [name, value, ok] of checks) {
    if (!ok) throw new Error(`adam: ${name} must be ${expected[name]}, got ${value}`);
  }
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon);
}
