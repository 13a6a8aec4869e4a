/**
 * `npm run setup:native` / `npm run setup:gpu`: installs native TensorFlow
 * for the workbook on request, never as part of the default install.
 *
 *   node dist/scripts/setup-native.js native   # @tensorflow/tfjs-node@4.22.0
 *   node dist/scripts/setup-native.js gpu      # @tensorflow/tfjs-node-gpu@4.22.0
 *   flags: --dry-run (print the plan only), --skip-network-check,
 *          --force (gpu: install even where no NVIDIA GPU is visible, e.g. building an image)
 *
 * The package is installed with `npm install --no-save`: package.json and
 * package-lock.json stay as committed, so everyone else's `npm ci` stays
 * offline-safe. The price: the next `npm install` or `npm ci` removes it
 * again, and this script must be rerun (`npm run doctor` says so).
 *
 * Its install script downloads libtensorflow (and a prebuilt binding) from
 * storage.googleapis.com; without that address the install fails and npm
 * rolls it back, leaving node_modules as it was.
 */
import { spawnSync } from "child_process";
import { promises as dns } from "dns";
import * as fs from "fs";
import * as path from "path";
import { probeCuda, REQUIRED_CUDA } from "../src/backend/cuda";

/** tfjs version the native package must match (one shared tfjs-core). */
const TFJS_VERSION = "4.22.0";
/** libtensorflow that tfjs-node 4.22 downloads. */
const LIBTENSORFLOW_VERSION = "2.9.1";

type Flavour = "native" | "gpu";

const PACKAGE: Record<Flavour, string> = {
  native: "@tensorflow/tfjs-node",
  gpu: "@tensorflow/tfjs-node-gpu",
};

/** Platforms with prebuilt downloads for tfjs-node 4.22 (`gpu` only for linux and windows x64). */
function platformProblem(flavour: Flavour): string | null {
  const key = `${process.platform}-${process.arch}`;
  const supported =
    flavour === "gpu" ? ["linux-x64", "win32-x64"] : ["linux-x64", "darwin-x64", "darwin-arm64", "win32-x64"];
  return supported.includes(key)
    ? null
    : `${PACKAGE[flavour]} ${TFJS_VERSION} has no prebuilt libtensorflow for ${key} (supported: ${supported.join(", ")}).`;
}

function downloads(flavour: Flavour): string[] {
  const host = process.env.TFJS_NODE_CDN_STORAGE ?? "https://storage.googleapis.com/";
  const kind = flavour === "gpu" ? "gpu" : "cpu";
  const os = process.platform === "win32" ? "windows" : process.platform;
  const ext = process.platform === "win32" ? "zip" : "tar.gz";
  return [
    `${host}tensorflow/libtensorflow/libtensorflow-${kind}-${os}-x86_64-${LIBTENSORFLOW_VERSION}.${ext}`,
    `https://storage.googleapis.com/tf-builds/pre-built-binary/napi-v8/${TFJS_VERSION}/` +
      `${kind.toUpperCase()}-${process.platform}-${TFJS_VERSION}.tar.gz (prebuilt binding; else built from source with node-gyp and a C++ compiler)`,
  ];
}

function explainNeeds(flavour: Flavour): string {
  return [
    `${PACKAGE[flavour]}@${TFJS_VERSION} needs, at install time, internet access to download:`,
    ...downloads(flavour).map((d) => `  - ${d}`),
    "TFJS_NODE_CDN_STORAGE=https://mirror.example/ names a mirror for libtensorflow (same folder layout);",
    "HTTPS_PROXY names a proxy.",
    "Until then the workbook runs on the wasm backend, which needs no download.",
  ].join("\n");
}

function projectRoot(): string {
  // dist/scripts/setup-native.js -> the checkout's root.
  return path.resolve(__dirname, "..", "..");
}

function approvedScripts(root: string, pkg: string): boolean {
  try {
    const json = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
      allowScripts?: Record<string, boolean>;
    };
    const entries = json.allowScripts ?? {};
    return entries[pkg] === true || entries[`${pkg}@${TFJS_VERSION}`] === true;
  } catch {
    return false;
  }
}

async function reachable(url: string): Promise<string | null> {
  const host = new URL(url).hostname;
  try {
    await dns.lookup(host);
    return null;
  } catch (error) {
    return `${host}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  }
}

async function main(argv: string[]): Promise<number> {
  const flavour = argv.find((a) => !a.startsWith("--"));
  if (flavour !== "native" && flavour !== "gpu") {
    console.error(`setup-native: first argument must be "native" or "gpu", got ${JSON.stringify(flavour)}`);
    return 2;
  }
  const dryRun = argv.includes("--dry-run");
  const pkg = PACKAGE[flavour];
  const spec = `${pkg}@${TFJS_VERSION}`;
  const root = projectRoot();

  const unsupported = platformProblem(flavour);
  if (unsupported) {
    console.error(`setup:${flavour}: ${unsupported}`);
    return 1;
  }

  if (flavour === "gpu") {
    const cuda = probeCuda();
    console.log(`GPU check: ${cuda.verdict}`);
    if (cuda.gpus.length === 0 && cuda.driver === null && !argv.includes("--force")) {
      console.log(
        `Without an NVIDIA GPU, ${pkg} would only run on the CPU: use npm run setup:native instead ` +
          `(or add --force to install it anyway).`,
      );
      return 1;
    }
    if (!cuda.ready) {
      console.log(
        `${pkg} needs CUDA ${REQUIRED_CUDA.cuda} and cuDNN ${REQUIRED_CUDA.cudnn}; until they are found it ` +
          `installs but computes on the CPU. What to do:`,
      );
      cuda.advice.forEach((a, i) => console.log(`  ${i + 1}. ${a}`));
    }
  }

  const command = ["install", "--no-save", spec];
  console.log(`Plan: npm ${command.join(" ")}   (in ${root})`);
  if (!approvedScripts(root, pkg)) {
    console.log(
      `Note: package.json has no "allowScripts" entry approving ${spec}. npm 11 still runs its install ` +
        `script with a warning, but refuses it under strict-allow-scripts. (npm 11 rejects --allow-scripts ` +
        `on the command line inside a project.)`,
    );
  }
  if (dryRun) {
    console.log(explainNeeds(flavour));
    return 0;
  }

  const proxied = ["HTTPS_PROXY", "https_proxy", "npm_config_https_proxy"].some((v) => process.env[v]);
  if (!argv.includes("--skip-network-check") && !proxied) {
    const hosts = [...new Set(downloads(flavour).map((d) => new URL(d.split(" ")[0]).origin))];
    const problems = (await Promise.all(hosts.map(reachable))).filter((p): p is string => p !== null);
    if (problems.length > 0) {
      console.error(`\nsetup:${flavour}: cannot reach the download server (${problems.join("; ")}).`);
      console.error(explainNeeds(flavour));
      console.error("Nothing was changed.");
      return 1;
    }
  }

  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const install = spawnSync(npm, command, { cwd: root, stdio: "inherit" });
  if (install.status !== 0) {
    console.error(`\nsetup:${flavour}: npm install ${spec} failed (exit ${install.status ?? install.signal}).`);
    console.error(explainNeeds(flavour));
    console.error("npm rolled the install back; the workbook keeps using the wasm backend.");
    return 1;
  }

  // Prove it in a fresh process: the library must select the native backend.
  const select = path.join(root, "dist", "src", "backend", "select.js");
  const report = path.join(root, "dist", "src", "backend", "report.js");
  const check = spawnSync(
    process.execPath,
    [
      "-e",
      `const {setupBackend}=require(${JSON.stringify(select)});const {formatBackendReport}=require(${JSON.stringify(report)});` +
        `setupBackend("tensorflow").then(r=>console.log(formatBackendReport(r)),e=>{console.error(e.message);process.exit(1)})`,
    ],
    { cwd: root, stdio: "inherit", env: { ...process.env, SSL_WORKBOOK_BACKEND: "" } },
  );
  if (check.status !== 0) {
    console.error(`\nsetup:${flavour}: ${spec} installed, but the workbook cannot use it (see above).`);
    return 1;
  }
  console.log(
    `\n${spec} is installed (not saved to package.json): a later npm install or npm ci removes it; ` +
      `run npm run setup:${flavour} again after those.`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
