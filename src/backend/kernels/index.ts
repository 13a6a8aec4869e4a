/**
 * Training kernels for the `wasm` and `cpu` backends of TensorFlow.js 4.22:
 * the gradients stock tfjs lacks on wasm (conv filter, depthwise, gather)
 * and faster replacements of slow stock ones. Importing this module also
 * registers the `wasm` backend.
 */
export { registerTrainingKernels, unregisterTrainingKernels } from "./register";
export type { KernelBackendName } from "./host";
