import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { tf } from "../../src/backend/tf";
import {
  BACKEND_ENV_VAR,
  BackendChoice,
  BackendName,
  BackendPreference,
  BackendProbes,
  NativeInfo,
  NativePackage,
  PackageInfo,
  backendReport,
  chooseBackend,
  setupBackend,
  wasmThreadsFromEnv,
} from "../../src/backend/select";
import { CudaReport } from "../../src/backend/cuda";

// A fake machine: packages by folder, resolved the way Node walks node_modules.
const LIBRARY_DIR = "/app/dist/src/backend";
const TFJS = { name: "@tensorflow/tfjs", version: "4.22.0" };
const CORE = { name: "@tensorflow/tfjs-core", version: "4.22.0" };
const BASE: Record<string, { name: string; version: string }> = {
  "/app/node_modules/@tensorflow/tfjs": TFJS,
  "/app/node_modules/@tensorflow/tfjs-core": CORE,
};
const NO_GPU: CudaReport = {
  gpus: [], driver: null, driverCuda: null, cudart: [], cudnn: [], toolkits: [],
  ready: false, verdict: "No NVIDIA GPU found.", advice: [],
};
const GPU_NO_CUDA11: CudaReport = {
  ...NO_GPU, gpus: ["NVIDIA GeForce RTX 3060, 12288 MiB"], driver: "550.54", driverCuda: "12.4",
  cudart: [{ name: "libcudart.so.12", path: "/usr/local/cuda-12.4/lib64/libcudart.so.12" }],
  verdict: "NVIDIA GeForce RTX 3060 found, but no CUDA 11 runtime (libcudart.so.11.0).",
};
const GPU_READY: CudaReport = { ...GPU_NO_CUDA11, ready: true, verdict: "ready for tfjs-node-gpu." };

interface FakeMachine {
  env?: Record<string, string>;
  packages?: Record<string, { name: string; version: string }>;
  load?: Partial<Record<NativePackage, NativeInfo | Error>>;
  failActivate?: Partial<Record<BackendName, Error>>;
  cuda?: CudaReport;
}

function fake(machine: FakeMachine): { probes: BackendProbes; calls: string[] } {
  const packages = { ...BASE, ...machine.packages };
  const calls: string[] = [];
  const probes: BackendProbes = {
    env: machine.env ?? {},
    findPackage(request: string, fromDir: string = LIBRARY_DIR): PackageInfo | null {
      for (let dir = fromDir; ; dir = path.posix.dirname(dir)) {
        const candidate = path.posix.join(dir, "node_modules", request);
        const found = packages[candidate];
        if (found) return { ...found, dir: candidate };
        if (dir === "/") return null;
      }
    },
    loadNative(pkg) {
      calls.push(`load ${pkg}`);
      const outcome = machine.load?.[pkg];
      if (outcome === undefined) throw new Error(`test: unexpected load of ${pkg}`);
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
    async activate(name) {
      calls.push(`activate ${name}`);
      const failure = machine.failActivate?.[name];
      if (failure) throw failure;
    },
    async registerKernels(name) {
      calls.push(`kernels ${name}`);
      return [`Fake_${name}`];
    },
    cuda: () => machine.cuda ?? NO_GPU,
  };
  return { probes, calls };
}

const NATIVE = "/app/node_modules/@tensorflow/tfjs-node";
const NATIVE_GPU = "/app/node_modules/@tensorflow/tfjs-node-gpu";
const nativePackage = { name: "@tensorflow/tfjs-node", version: "4.22.0" };
const gpuPackage = { name: "@tensorflow/tfjs-node-gpu", version: "4.22.0" };

function reasonOf(choice: BackendChoice, option: string) {
  const reason = choice.reasons.find((r) => r.option === option);
  assert.ok(reason, `expected a reason for ${option}, got ${JSON.stringify(choice.reasons)}`);
  return reason;
}

test("nothing native installed: auto picks wasm and says how to get the native backends", async () => {
  const { probes, calls } = fake({});
  const choice = await chooseBackend(undefined, probes);
  assert.equal(choice.name, "wasm");
  assert.deepEqual(calls, ["activate wasm", "kernels wasm"]);
  assert.deepEqual(choice.kernels, ["Fake_wasm"]);
  assert.deepEqual(choice.requested, { preference: "auto", from: "default" });
  const cpu = reasonOf(choice, "tensorflow-cpu");
  assert.equal(cpu.why, "not installed");
  assert.equal(cpu.enable, "npm run setup:native");
  const gpu = reasonOf(choice, "tensorflow-gpu");
  assert.match(gpu.why, /^not installed; No NVIDIA GPU found/);
  assert.equal(gpu.enable, null, "no command enables a GPU on a machine without one");
});

test("danfojs-node's alias at node_modules/@tensorflow/tfjs-node does not count as installed", async () => {
  const { probes, calls } = fake({ packages: { [NATIVE]: TFJS } });
  const choice = await chooseBackend("auto", probes);
  assert.equal(choice.name, "wasm");
  assert.ok(!calls.some((c) => c.startsWith("load")), "the alias must never be loaded");
  const reason = reasonOf(choice, "tensorflow-cpu");
  assert.match(reason.why, /not installed: .*tfjs-node holds @tensorflow\/tfjs@4\.22\.0, an npm alias/);
  assert.equal(reason.enable, "npm run setup:native");
});

test("tfjs-node-gpu that finds a GPU wins", async () => {
  const { probes, calls } = fake({
    packages: { [NATIVE_GPU]: gpuPackage, [NATIVE]: nativePackage },
    load: { "@tensorflow/tfjs-node-gpu": { tensorflowVersion: "2.9.1", usingGpu: true } },
    cuda: GPU_READY,
  });
  const choice = await chooseBackend("auto", probes);
  assert.equal(choice.name, "tensorflow");
  assert.deepEqual(calls, ["load @tensorflow/tfjs-node-gpu", "activate tensorflow"]);
  assert.match(choice.gpu ?? "", /RTX 3060.*TensorFlow 2\.9\.1/);
  assert.equal(choice.native?.package.name, "@tensorflow/tfjs-node-gpu");
  assert.deepEqual(choice.reasons, []);
  assert.deepEqual(choice.kernels, []);
});

test("tfjs-node-gpu that fails to load falls back to tfjs-node, with the loader's message", async () => {
  const { probes, calls } = fake({
    packages: { [NATIVE_GPU]: gpuPackage, [NATIVE]: nativePackage },
    load: {
      "@tensorflow/tfjs-node-gpu": new Error(
        "libcudart.so.11.0: cannot open shared object file: No such file or directory\n    at Module._extensions",
      ),
      "@tensorflow/tfjs-node": { tensorflowVersion: "2.9.1", usingGpu: false },
    },
    cuda: GPU_NO_CUDA11,
  });
  const choice = await chooseBackend(undefined, probes);
  assert.equal(choice.name, "tensorflow");
  assert.equal(choice.native?.package.name, "@tensorflow/tfjs-node");
  assert.equal(choice.gpu, null);
  assert.deepEqual(calls, ["load @tensorflow/tfjs-node-gpu", "load @tensorflow/tfjs-node", "activate tensorflow"]);
  const gpu = reasonOf(choice, "tensorflow-gpu");
  assert.match(gpu.why, /^installed but failed to load: libcudart\.so\.11\.0: cannot open shared object file: No such file or directory; .*no CUDA 11 runtime/);
  assert.doesNotMatch(gpu.why, /Module\._extensions/, "only the first line of the error");
  assert.equal(gpu.enable, "npm run doctor (lists what CUDA needs)");
});

test("tfjs-node-gpu that fails to load, and no tfjs-node: wasm", async () => {
  const { probes } = fake({
    packages: { [NATIVE_GPU]: gpuPackage },
    load: { "@tensorflow/tfjs-node-gpu": new Error("libcudnn.so.8: cannot open shared object file") },
    cuda: GPU_NO_CUDA11,
  });
  const choice = await chooseBackend("auto", probes);
  assert.equal(choice.name, "wasm");
  assert.match(reasonOf(choice, "tensorflow-gpu").why, /libcudnn\.so\.8/);
  assert.equal(reasonOf(choice, "tensorflow-cpu").why, "not installed");
});

test("tfjs-node-gpu that loads without a GPU device runs TensorFlow on the CPU and says why", async () => {
  const { probes, calls } = fake({
    packages: { [NATIVE_GPU]: gpuPackage, [NATIVE]: nativePackage },
    load: { "@tensorflow/tfjs-node-gpu": { tensorflowVersion: "2.9.1", usingGpu: false } },
    cuda: GPU_NO_CUDA11,
  });
  const choice = await chooseBackend("auto", probes);
  assert.equal(choice.name, "tensorflow");
  assert.equal(choice.gpu, null);
  assert.ok(!calls.includes("load @tensorflow/tfjs-node"), "a second native library must not be loaded");
  const gpu = reasonOf(choice, "tensorflow-gpu");
  assert.match(gpu.why, /found no usable GPU.*no CUDA 11 runtime/);
  assert.equal(gpu.enable, "npm run doctor (lists what CUDA needs)");
});

test("tfjs-node loads: native TensorFlow on the CPU", async () => {
  const { probes } = fake({
    packages: { [NATIVE]: nativePackage },
    load: { "@tensorflow/tfjs-node": { tensorflowVersion: "2.9.1", usingGpu: false } },
  });
  const choice = await chooseBackend("auto", probes);
  assert.equal(choice.name, "tensorflow");
  assert.equal(choice.native?.tensorflowVersion, "2.9.1");
  assert.deepEqual(choice.reasons.map((r) => r.option), ["tensorflow-gpu"]);
});

test("tfjs-node installed but failing to load: wasm, and the reason quotes the error", async () => {
  const { probes } = fake({
    packages: { [NATIVE]: nativePackage },
    load: {
      "@tensorflow/tfjs-node": new Error(
        "The Node.js native addon module (tfjs_binding.node) can not be found at path: /app/x.node. ",
      ),
    },
  });
  const choice = await chooseBackend("auto", probes);
  assert.equal(choice.name, "wasm");
  const reason = reasonOf(choice, "tensorflow-cpu");
  assert.match(reason.why, /^installed but failed to load: The Node\.js native addon module/);
  assert.equal(reason.enable, "npm run setup:native");
});

test("a native package that would bring a second tfjs-core is refused without loading", async () => {
  const { probes, calls } = fake({
    packages: {
      [NATIVE]: { name: "@tensorflow/tfjs-node", version: "4.21.0" },
      [`${NATIVE}/node_modules/@tensorflow/tfjs`]: { name: "@tensorflow/tfjs", version: "4.21.0" },
      [`${NATIVE}/node_modules/@tensorflow/tfjs-core`]: { name: "@tensorflow/tfjs-core", version: "4.21.0" },
    },
  });
  const choice = await chooseBackend("auto", probes);
  assert.equal(choice.name, "wasm");
  assert.deepEqual(calls, ["activate wasm", "kernels wasm"]);
  assert.match(
    reasonOf(choice, "tensorflow-cpu").why,
    /refused: @tensorflow\/tfjs-node@4\.21\.0 would load a second copy of TensorFlow\.js \(@tensorflow\/tfjs-core 4\.21\.0 .*the library uses 4\.22\.0.*install @tensorflow\/tfjs-node@4\.22\.0/,
  );
});

test("a second tfjs-core nested under the shared tfjs is also refused", async () => {
  const { probes } = fake({
    packages: {
      [NATIVE]: nativePackage,
      [`${NATIVE}/node_modules/@tensorflow/tfjs`]: TFJS,
      [`${NATIVE}/node_modules/@tensorflow/tfjs/node_modules/@tensorflow/tfjs-core`]: CORE,
    },
  });
  const choice = await chooseBackend("auto", probes);
  assert.equal(choice.name, "wasm");
  assert.match(reasonOf(choice, "tensorflow-cpu").why, /second copy/);
});

test("wasm failing to initialise falls back to cpu under auto", async () => {
  const { probes, calls } = fake({ failActivate: { wasm: new Error("WebAssembly.instantiate(): out of memory") } });
  const choice = await chooseBackend("auto", probes);
  assert.equal(choice.name, "cpu");
  assert.deepEqual(calls, ["activate wasm", "activate cpu", "kernels cpu"]);
  assert.match(reasonOf(choice, "wasm").why, /failed to initialise: WebAssembly\.instantiate\(\): out of memory/);
});

test("SSL_WORKBOOK_BACKEND overrides the argument and nothing native is loaded", async () => {
  const { probes, calls } = fake({
    env: { [BACKEND_ENV_VAR]: "cpu" },
    packages: { [NATIVE]: nativePackage },
    load: { "@tensorflow/tfjs-node": { tensorflowVersion: "2.9.1", usingGpu: false } },
  });
  const choice = await chooseBackend("wasm", probes);
  assert.equal(choice.name, "cpu");
  assert.deepEqual(calls, ["activate cpu", "kernels cpu"]);
  assert.deepEqual(choice.requested, { preference: "cpu", from: "environment" });
  const native = reasonOf(choice, "tensorflow-cpu");
  assert.equal(native.why, "installed, not tried: SSL_WORKBOOK_BACKEND=cpu");
  assert.equal(native.enable, "unset SSL_WORKBOOK_BACKEND");
  assert.equal(reasonOf(choice, "wasm").enable, "unset SSL_WORKBOOK_BACKEND");
});

test("an empty SSL_WORKBOOK_BACKEND is ignored; an unknown one is an error", async () => {
  assert.equal((await chooseBackend("cpu", fake({ env: { [BACKEND_ENV_VAR]: "" } }).probes)).name, "cpu");
  await assert.rejects(
    chooseBackend("auto", fake({ env: { [BACKEND_ENV_VAR]: "gpu" } }).probes),
    /setupBackend: SSL_WORKBOOK_BACKEND must be one of auto, tensorflow, wasm, cpu, got "gpu"/,
  );
  await assert.rejects(
    chooseBackend("webgl" as BackendPreference, fake({}).probes),
    /setupBackend: preference must be one of auto, tensorflow, wasm, cpu, got "webgl"/,
  );
});

test("an explicit backend that cannot be honoured throws instead of falling back", async () => {
  const none = fake({});
  await assert.rejects(
    chooseBackend("tensorflow", none.probes),
    /setupBackend: backend "tensorflow" was requested \(setupBackend\("tensorflow"\)\) but cannot be used: @tensorflow\/tfjs-node-gpu: not installed; @tensorflow\/tfjs-node: not installed\. Run npm run setup:native/,
  );
  assert.ok(!none.calls.some((c) => c.startsWith("activate")), "nothing may be activated");

  const broken = fake({
    env: { [BACKEND_ENV_VAR]: "tensorflow" },
    packages: { [NATIVE]: nativePackage },
    load: { "@tensorflow/tfjs-node": new Error("libtensorflow.so.2: cannot open shared object file") },
  });
  await assert.rejects(
    chooseBackend("auto", broken.probes),
    /\(SSL_WORKBOOK_BACKEND=tensorflow\).*@tensorflow\/tfjs-node: installed but failed to load: libtensorflow\.so\.2/,
  );

  const noWasm = fake({ failActivate: { wasm: new Error("no SIMD") } });
  await assert.rejects(
    chooseBackend("wasm", noWasm.probes),
    /setupBackend: backend "wasm" was requested \(setupBackend\("wasm"\)\) but failed to initialise: no SIMD/,
  );
  assert.ok(!noWasm.calls.includes("activate cpu"));
});

test("explicit tensorflow uses tfjs-node when the GPU package fails", async () => {
  const { probes } = fake({
    packages: { [NATIVE_GPU]: gpuPackage, [NATIVE]: nativePackage },
    load: {
      "@tensorflow/tfjs-node-gpu": new Error("libcudart.so.11.0: cannot open shared object file"),
      "@tensorflow/tfjs-node": { tensorflowVersion: "2.9.1", usingGpu: false },
    },
  });
  const choice = await chooseBackend("tensorflow", probes);
  assert.equal(choice.name, "tensorflow");
  assert.equal(choice.native?.package.name, "@tensorflow/tfjs-node");
});

// --- The real system: this checkout's node_modules and the real engine. ---

function nativeInstalledHere(): boolean {
  try {
    const file = require.resolve("@tensorflow/tfjs-node/package.json");
    return (JSON.parse(fs.readFileSync(file, "utf8")) as { name: string }).name === "@tensorflow/tfjs-node";
  } catch {
    return false;
  }
}

test("setupBackend on this machine: cpu and wasm on request, reports that match the engine", async () => {
  const saved = process.env[BACKEND_ENV_VAR];
  delete process.env[BACKEND_ENV_VAR];
  try {
    const cpu = await setupBackend("cpu");
    assert.equal(tf.getBackend(), "cpu");
    assert.equal(cpu.name, "cpu");
    assert.equal(cpu.threads, 1);
    assert.equal(cpu.simd, false);
    assert.equal(cpu.version, `tfjs ${tf.version.tfjs} (cpu backend, plain JavaScript)`);
    assert.ok(Array.isArray(cpu.kernels));
    assert.equal(reasonOf(cpu as unknown as BackendChoice, "wasm").why, `not tried: setupBackend("cpu")`);
    assert.deepEqual(backendReport(), cpu);

    const wasm = await setupBackend("wasm");
    assert.equal(tf.getBackend(), "wasm");
    assert.equal(wasm.name, "wasm");
    assert.equal(wasm.simd, await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
    assert.ok(wasm.threads >= 1);
    assert.deepEqual(backendReport(), wasm);

    process.env[BACKEND_ENV_VAR] = "cpu";
    const overridden = await setupBackend("wasm");
    assert.equal(overridden.name, "cpu");
    assert.equal(tf.getBackend(), "cpu");
    assert.deepEqual(overridden.requested, { preference: "cpu", from: "environment" });
  } finally {
    if (saved === undefined) delete process.env[BACKEND_ENV_VAR];
    else process.env[BACKEND_ENV_VAR] = saved;
  }
});

test("setupBackend auto on this machine follows what is really installed", async () => {
  const saved = process.env[BACKEND_ENV_VAR];
  delete process.env[BACKEND_ENV_VAR];
  try {
    if (nativeInstalledHere()) {
      const report = await setupBackend("auto");
      assert.ok(["tensorflow", "wasm"].includes(report.name));
      return;
    }
    const report = await setupBackend();
    assert.equal(report.name, "wasm");
    assert.ok(report.reasons.some((r) => r.option === "tensorflow-cpu" && /not installed/.test(r.why)));
    await assert.rejects(setupBackend("tensorflow"), /backend "tensorflow" was requested/);
    assert.equal(tf.getBackend(), "wasm", "a refused request leaves the active backend alone");
  } finally {
    if (saved !== undefined) process.env[BACKEND_ENV_VAR] = saved;
  }
});

test("backendReport describes a backend set directly, without changing it", async () => {
  await tf.setBackend("cpu");
  // Swap in a fresh cpu instance: one setupBackend never chose.
  const CpuBackend = (tf.findBackend("cpu") as object).constructor as new () => tf.KernelBackend;
  tf.removeBackend("cpu");
  tf.registerBackend("cpu", () => new CpuBackend(), 1);
  await tf.setBackend("cpu");
  const instance = tf.findBackend("cpu");
  const report = backendReport();
  assert.equal(tf.getBackend(), "cpu");
  assert.equal(tf.findBackend("cpu"), instance, "backendReport must not re-initialise anything");
  assert.equal(report.name, "cpu");
  assert.equal(report.threads, 1);
  assert.deepEqual(report.requested, { preference: "cpu", from: "argument" });
  assert.ok(report.reasons.some((r) => r.option === "wasm" && /set directly/.test(r.why)));
  assert.ok(report.reasons.some((r) => r.option === "tensorflow-cpu"));
});

test("the cpu banner is silenced only when cpu is chosen on purpose", () => {
  const select = path.join(__dirname, "../../src/backend/select.js");
  const tfPath = path.join(__dirname, "../../src/backend/tf.js");
  const run = (code: string) =>
    spawnSync(process.execPath, ["-e", code], {
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, [BACKEND_ENV_VAR]: "" },
    });
  const chosen = run(
    `const {setupBackend}=require(${JSON.stringify(select)});const {tf}=require(${JSON.stringify(tfPath)});` +
      `setupBackend("cpu").then(()=>{tf.tensor([1,2]).square().dataSync();console.log("done")})`,
  );
  assert.equal(chosen.status, 0, chosen.stderr);
  assert.match(chosen.stdout, /done/);
  assert.doesNotMatch(chosen.stderr, /looks like you are running TensorFlow\.js in Node\.js/);
  const direct = run(
    `const {tf}=require(${JSON.stringify(tfPath)});` +
      `tf.setBackend("cpu").then(()=>{tf.tensor([1,2]).square().dataSync();console.log("done")})`,
  );
  assert.equal(direct.status, 0, direct.stderr);
  assert.match(direct.stderr, /looks like you are running TensorFlow\.js in Node\.js/, "control: the banner exists");
});

test("SSL_WORKBOOK_WASM_THREADS: unset means the default, a positive integer is taken, anything else is an error", () => {
  assert.equal(wasmThreadsFromEnv({}), undefined);
  assert.equal(wasmThreadsFromEnv({ SSL_WORKBOOK_WASM_THREADS: "" }), undefined);
  assert.equal(wasmThreadsFromEnv({ SSL_WORKBOOK_WASM_THREADS: "1" }), 1);
  assert.equal(wasmThreadsFromEnv({ SSL_WORKBOOK_WASM_THREADS: "4" }), 4);
  assert.throws(() => wasmThreadsFromEnv({ SSL_WORKBOOK_WASM_THREADS: "two" }), /SSL_WORKBOOK_WASM_THREADS must be a positive integer, got "two"/);
  assert.throws(() => wasmThreadsFromEnv({ SSL_WORKBOOK_WASM_THREADS: "0" }), /got "0"/);
});
