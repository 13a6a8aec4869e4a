/**
 * Backend selection and diagnostics: which TensorFlow.js backend computes,
 * why the faster ones are not in use, and what a GPU would need.
 */
export { setupBackend, backendReport, BACKEND_ENV_VAR } from "./select";
export type {
  BackendName,
  BackendPreference,
  BackendReport,
  BackendReason,
  BackendOption,
  SetupBackendOptions,
} from "./select";
export { formatBackendReport } from "./report";
export { probeCuda, REQUIRED_CUDA } from "./cuda";
export type { CudaReport, FoundLibrary } from "./cuda";
export { registerTrainingKernels, unregisterTrainingKernels } from "./kernels";
export type { KernelBackendName } from "./kernels";
export { enableWasmThreads, disableWasmThreads, MAX_WASM_THREADS } from "./wasm_threads";
export type { WasmThreadsResult } from "./wasm_threads";
export { WASM_THREADS_ENV_VAR } from "./select";
