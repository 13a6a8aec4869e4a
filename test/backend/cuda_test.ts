import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CudaProbeIo,
  parseLdconfig,
  parseNvidiaSmi,
  parseToolkitVersion,
  probeCuda,
} from "../../src/backend/cuda";

const LDCONFIG_CUDA11 = `1234 libs found in cache \`/etc/ld.so.cache'
\tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1
\tlibcudnn.so.8 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcudnn.so.8
\tlibcudnn.so (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcudnn.so
\tlibcudart.so.11.0 (libc6,x86-64) => /usr/local/cuda-11.2/lib64/libcudart.so.11.0
\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1
`;

const NVIDIA_SMI_HEADER = `+-----------------------------------------------------------------------------+
| NVIDIA-SMI 550.54.14    Driver Version: 550.54.14    CUDA Version: 12.4     |
|-------------------------------+----------------------+----------------------+`;
const NVIDIA_SMI_QUERY = "NVIDIA GeForce RTX 3060, 12288 MiB, 550.54.14\n";

/** A fake machine: programs' outputs, files and folders. */
function machine(parts: {
  programs?: Record<string, string>;
  files?: Record<string, string>;
  dirs?: Record<string, string[]>;
  env?: Record<string, string>;
}): CudaProbeIo {
  return {
    run(file, args) {
      const out = parts.programs?.[[file, ...args].join(" ")];
      if (out === undefined) throw new Error(`spawn ${file} ENOENT`);
      return out;
    },
    readFile(file) {
      const text = parts.files?.[file];
      if (text === undefined) throw new Error(`ENOENT: ${file}`);
      return text;
    },
    readdir(dir) {
      const list = parts.dirs?.[dir];
      if (list === undefined) throw new Error(`ENOENT: ${dir}`);
      return list;
    },
    env: parts.env ?? {},
  };
}

const smiPrograms = {
  "nvidia-smi": NVIDIA_SMI_HEADER,
  "nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader": NVIDIA_SMI_QUERY,
};

test("parseLdconfig keeps only CUDA runtime and cuDNN sonames with their paths", () => {
  assert.deepEqual(parseLdconfig(LDCONFIG_CUDA11), [
    { name: "libcudnn.so.8", path: "/usr/lib/x86_64-linux-gnu/libcudnn.so.8" },
    { name: "libcudart.so.11.0", path: "/usr/local/cuda-11.2/lib64/libcudart.so.11.0" },
  ]);
  assert.deepEqual(parseLdconfig(""), []);
});

test("parseNvidiaSmi reads the driver, its CUDA version and the GPUs", () => {
  assert.deepEqual(parseNvidiaSmi(NVIDIA_SMI_HEADER, NVIDIA_SMI_QUERY), {
    gpus: ["NVIDIA GeForce RTX 3060, 12288 MiB"],
    driver: "550.54.14",
    driverCuda: "12.4",
  });
  assert.deepEqual(parseNvidiaSmi("", ""), { gpus: [], driver: null, driverCuda: null });
});

test("parseToolkitVersion reads version.json and the older version.txt", () => {
  assert.equal(parseToolkitVersion('{"cuda":{"name":"CUDA SDK","version":"11.2.2"}}'), "11.2.2");
  assert.equal(parseToolkitVersion("CUDA Version 10.2.89\n"), "10.2.89");
  assert.equal(parseToolkitVersion("garbage"), null);
});

test("no GPU: not ready, and says so without suggesting CUDA installs", () => {
  const report = probeCuda(machine({}));
  assert.equal(report.ready, false);
  assert.deepEqual(report.gpus, []);
  assert.match(report.verdict, /^No NVIDIA GPU found/);
  assert.ok(!report.advice.some((a) => /CUDA 11/.test(a)));
});

test("GPU with CUDA 11.2 runtime and cuDNN 8: ready", () => {
  const report = probeCuda(
    machine({
      programs: { "ldconfig -p": LDCONFIG_CUDA11, ...smiPrograms },
      dirs: { "/usr/local": ["bin", "cuda-11.2", "cuda"] },
      files: { "/usr/local/cuda-11.2/version.json": '{"cuda":{"version":"11.2.2"}}' },
    }),
  );
  assert.equal(report.ready, true, report.verdict);
  assert.equal(report.driver, "550.54.14");
  assert.deepEqual(report.toolkits, [{ path: "/usr/local/cuda-11.2", version: "11.2.2" }]);
  assert.match(report.verdict, /RTX 3060.*ready for tfjs-node-gpu/);
  assert.deepEqual(report.advice, []);
});

test("GPU with only CUDA 12: not ready, names libcudart.so.11.0 and the tfjs issues", () => {
  const report = probeCuda(
    machine({
      programs: { ...smiPrograms },
      dirs: {
        "/usr/local": ["cuda-12.4"],
        "/usr/local/cuda-12.4/lib64": ["libcudart.so.12", "libcudart.so.12.4.99", "libcublas.so.12"],
        "/opt/cudnn9/lib": ["libcudnn.so.9"],
      },
      files: { "/usr/local/cuda-12.4/version.json": '{"cuda":{"version":"12.4.1"}}' },
      env: { LD_LIBRARY_PATH: "/opt/cudnn9/lib::/nonexistent" },
    }),
  );
  assert.equal(report.ready, false);
  assert.deepEqual(
    report.cudart.map((l) => l.name).sort(),
    ["libcudart.so.12", "libcudart.so.12.4.99"],
  );
  assert.deepEqual(report.cudnn.map((l) => l.path), ["/opt/cudnn9/lib/libcudnn.so.9"]);
  assert.match(report.verdict, /no CUDA 11 runtime \(libcudart\.so\.11\.0\), no cuDNN 8/);
  const advice = report.advice.join("\n");
  assert.match(advice, /CUDA 12 is installed \(found CUDA 12\.4\.1 at \/usr\/local\/cuda-12\.4, libcudart\.so\.12, libcudart\.so\.12\.4\.99, libcudnn\.so\.9\)/);
  assert.match(advice, /opens libcudart\.so\.11\.0 and libcudnn\.so\.8 by name \(tensorflow\/tfjs issues 8362 and 8505\)/);
  assert.match(advice, /scripts\/custom-binary\.json/);
  assert.match(advice, /cuDNN 8\.1/);
});

test("a driver too old for CUDA 11 is reported even with the libraries present", () => {
  const report = probeCuda(
    machine({
      programs: {
        "ldconfig -p": LDCONFIG_CUDA11,
        "nvidia-smi": "| NVIDIA-SMI 418.87    Driver Version: 418.87    CUDA Version: 10.1 |",
        "nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader": "Tesla K80, 11441 MiB, 418.87",
      },
    }),
  );
  assert.equal(report.ready, false);
  assert.match(report.verdict, /driver 418\.87 is too old/);
  assert.match(report.advice.join(" "), /driver 450 or newer/);
});

test("the driver alone (no nvidia-smi) counts as a GPU", () => {
  const report = probeCuda(
    machine({
      files: {
        "/proc/driver/nvidia/version":
          "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023",
      },
    }),
  );
  assert.equal(report.driver, "535.104.05");
  assert.match(report.verdict, /found, but no CUDA 11 runtime/);
});

test("probeCuda on this machine never throws and is consistent", () => {
  const report = probeCuda();
  assert.equal(typeof report.verdict, "string");
  assert.equal(report.ready, report.ready && report.cudart.some((l) => l.name.startsWith("libcudart.so.11.0")));
});

test("a toolkit built from NVIDIA's wheels: version from dist-info, one entry per soname", () => {
  const report = probeCuda(
    machine({
      dirs: {
        "/usr/local": ["cuda", "cuda-13.0"],
        "/usr/local/cuda-13.0/dist-info": ["nvidia_cuda_nvcc-13.0.88.dist-info", "nvidia_cuda_runtime-13.0.96.dist-info"],
        "/usr/local/cuda-13.0/lib": ["libcudart.so", "libcudart.so.13", "libcupti.so.13"],
        "/usr/local/cuda-13.0/lib64": ["libcudart.so.13"],
        "/usr/local/cuda/lib64": ["libcudart.so.13"],
      },
    }),
  );
  assert.deepEqual(report.toolkits, [{ path: "/usr/local/cuda-13.0", version: "13.0.96" }]);
  assert.deepEqual(report.cudart, [{ name: "libcudart.so.13", path: "/usr/local/cuda/lib64/libcudart.so.13" }]);
  assert.match(report.verdict, /^No NVIDIA GPU found/, "libraries without a GPU are not a GPU");
});
