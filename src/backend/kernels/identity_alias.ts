/**
 * `Identity` on wasm as an alias of its input (one more reference to the same
 * data), as the cpu backend does, instead of a copy. The engine calls
 * Identity to keep every tensor a gradient will need (`saveTensorsForBackwardMode`),
 * so stock wasm copied each saved activation: 18 ms per SimCLR step. wasm
 * kernels never write into their inputs, so sharing is safe; its backend
 * frees the data when the last reference goes. Strings go to the stock kernel.
 */
import { tf } from "../tf";
import { KernelBackendName } from "./host";

/** The parts of a backend that count references to data. */
interface RefCounting {
  incRef(dataId: tf.DataId): void;
}

/**
 * The kernel function: returns `x`'s data under a new reference; strings run `stock`.
 *
 * @example
 * const stock = tf.getKernel("Identity", "wasm");
 * tf.unregisterKernel("Identity", "wasm");
 * tf.registerKernel({ ...stock, kernelFunc: identityAliasKernel("wasm", stock) });
 */
export function identityAliasKernel(backendName: KernelBackendName, stock: tf.KernelConfig | undefined): tf.KernelFunc {
  if (stock == null) throw new Error(`identityAliasKernel: backend '${backendName}' has no stock Identity kernel to fall back on`);
  return (args) => {
    const x = (args.inputs as { x?: tf.TensorInfo }).x;
    if (x == null || x.dtype === "string") return stock.kernelFunc(args);
    (args.backend as unknown as RefCounting).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  };
}
