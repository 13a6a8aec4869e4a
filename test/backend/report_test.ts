import { test } from "node:test";
import assert from "node:assert/strict";
import { formatBackendReport } from "../../src/backend/report";
import type { BackendReport } from "../../src/backend/select";
import type { CudaReport } from "../../src/backend/cuda";

const WASM_DEFAULT: BackendReport = {
  name: "wasm",
  version: "tfjs 4.22.0 (wasm backend)",
  simd: true,
  threads: 1,
  gpu: null,
  reasons: [
    {
      option: "tensorflow-gpu",
      package: "@tensorflow/tfjs-node-gpu",
      why: "not installed; No NVIDIA GPU found.",
      enable: null,
    },
    {
      option: "tensorflow-cpu",
      package: "@tensorflow/tfjs-node",
      why: "installed but failed to load: The Node.js native addon module (tfjs_binding.node) can not be found",
      enable: "npm run setup:native",
    },
  ],
  requested: { preference: "auto", from: "default" },
  kernels: ["Conv2DBackpropFilter", "UnsortedSegmentSum"],
};

const GPU_ACTIVE: BackendReport = {
  name: "tensorflow",
  version: "tfjs 4.22.0, TensorFlow 2.9.1 (@tensorflow/tfjs-node-gpu 4.22.0)",
  simd: false,
  threads: 8,
  gpu: "NVIDIA GeForce RTX 3060, 12288 MiB (TensorFlow 2.9.1, CUDA)",
  reasons: [],
  requested: { preference: "tensorflow", from: "environment" },
  kernels: [],
};

const CUDA12: CudaReport = {
  gpus: ["NVIDIA GeForce RTX 3060, 12288 MiB"],
  driver: "550.54.14",
  driverCuda: "12.4",
  cudart: [{ name: "libcudart.so.12", path: "/usr/local/cuda-12.4/lib64/libcudart.so.12" }],
  cudnn: [],
  toolkits: [{ path: "/usr/local/cuda-12.4", version: "12.4.1" }],
  ready: false,
  verdict: "NVIDIA GeForce RTX 3060, 12288 MiB found, but no CUDA 11 runtime (libcudart.so.11.0).",
  advice: ["Install the CUDA 11.2 runtime.", "Install cuDNN 8.1 for CUDA 11."],
};

test("formats the default wasm report: engine, why faster options are off, how to enable them", () => {
  const text = formatBackendReport(WASM_DEFAULT);
  const expected = [
    "Backend: wasm: WebAssembly with SIMD, 1 thread",
    '  Chosen because: "auto": the fastest backend that works here',
    "  Versions: tfjs 4.22.0 (wasm backend)",
    "  GPU: none in use",
    "  Training kernels added by the workbook: Conv2DBackpropFilter, UnsortedSegmentSum",
    "",
    "Faster options not in use:",
    "  - Native TensorFlow on an NVIDIA GPU (@tensorflow/tfjs-node-gpu)",
    "      Why: not installed; No NVIDIA GPU found.",
    "      To enable: not possible on this machine",
    "  - Native TensorFlow on the CPU (@tensorflow/tfjs-node)",
    "      Why: installed but failed to load: The Node.js native addon module (tfjs_binding.node) can not be found",
    "      To enable: npm run setup:native",
    "",
    'To choose a backend yourself: SSL_WORKBOOK_BACKEND=auto|tensorflow|wasm|cpu (or setupBackend("wasm") in code); an explicit choice that cannot be met is an error.',
  ].join("\n");
  assert.equal(text, expected);
});

test("formats an active GPU, the environment request, and the GPU check with numbered advice", () => {
  const text = formatBackendReport(GPU_ACTIVE, CUDA12);
  const lines = text.split("\n");
  assert.equal(lines[0], "Backend: tensorflow: native TensorFlow on the GPU NVIDIA GeForce RTX 3060, 12288 MiB (TensorFlow 2.9.1, CUDA)");
  assert.equal(lines[1], "  Chosen because: you set SSL_WORKBOOK_BACKEND=tensorflow");
  assert.ok(lines.includes("Faster options: none, this is the fastest backend the workbook supports."));
  assert.ok(!text.includes("Training kernels"), "native TensorFlow needs no added kernels");
  const gpuCheck = lines.indexOf("GPU check (@tensorflow/tfjs-node-gpu 4.22 needs CUDA 11.2 and cuDNN 8.1):");
  assert.ok(gpuCheck > 0, text);
  assert.deepEqual(lines.slice(gpuCheck + 1, gpuCheck + 10), [
    "  NVIDIA GeForce RTX 3060, 12288 MiB found, but no CUDA 11 runtime (libcudart.so.11.0).",
    "  GPUs: NVIDIA GeForce RTX 3060, 12288 MiB",
    "  Driver: 550.54.14 (supports CUDA up to 12.4)",
    "  CUDA runtime: libcudart.so.12 (/usr/local/cuda-12.4/lib64/libcudart.so.12)",
    "  cuDNN: none found",
    "  CUDA toolkit 12.4.1 in /usr/local/cuda-12.4",
    "  What to do:",
    "    1. Install the CUDA 11.2 runtime.",
    "    2. Install cuDNN 8.1 for CUDA 11.",
  ]);
});

test("formats native CPU threads, the plain cpu backend, and a code request", () => {
  const native = formatBackendReport({ ...GPU_ACTIVE, gpu: null, threads: 2, requested: { preference: "auto", from: "argument" } });
  assert.match(native, /^Backend: tensorflow: native TensorFlow on the CPU, 2 threads\n  Chosen because: the code asked for "auto"/);
  const cpu = formatBackendReport({ ...WASM_DEFAULT, name: "cpu", simd: false, reasons: [], kernels: [] });
  assert.match(cpu, /^Backend: cpu: plain JavaScript, 1 thread \(the slowest backend/);
  const noSimd = formatBackendReport({ ...WASM_DEFAULT, simd: false, threads: 2 });
  assert.match(noSimd, /^Backend: wasm: WebAssembly without SIMD, 2 threads/);
});

test("a machine without a GPU gets a short GPU check", () => {
  const none: CudaReport = {
    gpus: [], driver: null, driverCuda: null, cudart: [], cudnn: [], toolkits: [], ready: false,
    verdict: "No NVIDIA GPU found.", advice: ["Use the native CPU backend (npm run setup:native) or the default wasm backend."],
  };
  const lines = formatBackendReport(WASM_DEFAULT, none).split("\n");
  const at = lines.findIndex((l) => l.startsWith("GPU check"));
  assert.deepEqual(lines.slice(at + 1, at + 4), [
    "  No NVIDIA GPU found.",
    "  What to do:",
    "    1. Use the native CPU backend (npm run setup:native) or the default wasm backend.",
  ]);
});
