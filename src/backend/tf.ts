/**
 * The one TensorFlow.js the workbook uses.
 *
 * Every module imports `tf` from here, and the library re-exports it, so a
 * notebook that writes `import { tf } from "ssl-workbook"` shares one engine
 * (one set of registered backends and kernels, one memory count) with the
 * library. Loading a second copy of tfjs-core would give a second engine whose
 * tensors the library could not use.
 */
import * as tf from "@tensorflow/tfjs";

export { tf };
