import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  findJupyter,
  installKernel,
  JUPYTER_MISSING_HELP,
  jupyterPython,
  KERNEL_NAME,
  kernelSpec,
  kernelsDir,
  REPO_ROOT,
} from "../../kernel/jupyter";

function fakeJupyter(dir: string, dataDirs: string[]): string {
  const file = path.join(dir, "jupyter");
  fs.writeFileSync(file, `#!/bin/sh\necho '${JSON.stringify({ data: dataDirs, runtime: [], config: [] })}'\n`);
  fs.chmodSync(file, 0o755);
  return file;
}

test("findJupyter takes the first jupyter on PATH, then the fallbacks, else null", () => {
  const a = fs.mkdtempSync(path.join(os.tmpdir(), "jup-a-"));
  const b = fs.mkdtempSync(path.join(os.tmpdir(), "jup-b-"));
  const inB = fakeJupyter(b, []);
  assert.equal(findJupyter({ PATH: [a, b].join(path.delimiter) }, []), inB);
  assert.equal(findJupyter({ PATH: a }, [inB]), inB);
  assert.equal(findJupyter({ PATH: a }, [path.join(a, "missing")]), null);
  assert.equal(findJupyter({ PATH: a, JUPYTER: inB }, []), inB);
  assert.throws(() => findJupyter({ JUPYTER: path.join(a, "nope") }, []), /JUPYTER=.*not an executable/);
});

test("the missing-Jupyter help names the install command for Debian, macOS and pip", () => {
  assert.match(JUPYTER_MISSING_HELP, /apt-get install jupyter-notebook jupyter-nbconvert python3-nbclient/);
  assert.match(JUPYTER_MISSING_HELP, /brew install/);
  assert.match(JUPYTER_MISSING_HELP, /pip install/);
});

test("the kernel spec starts this checkout's tslab with the connection file", () => {
  const spec = kernelSpec("/some/checkout") as { argv: string[]; display_name: string; language: string };
  assert.equal(spec.argv[0], process.execPath);
  assert.equal(spec.argv[1], path.join("/some/checkout", "dist", "kernel", "launch.js"));
  assert.deepEqual(spec.argv.slice(2), ["--config-path", "{connection_file}"]);
  assert.match(spec.display_name, /SSL Workbook/);
  assert.equal(spec.language, "typescript");
});

test("installKernel writes kernel.json per user, system-wide or under a prefix", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "jup-data-"));
  const userDir = path.join(root, "user");
  const sysDir = path.join(root, "usr-local");
  const jupyter = fakeJupyter(root, [userDir, "/usr/local/share/jupyter", sysDir]);
  assert.equal(kernelsDir(jupyter, { kind: "user" }), path.join(userDir, "kernels"));
  assert.equal(kernelsDir(jupyter, { kind: "system" }), "/usr/local/share/jupyter/kernels");
  const prefix = path.join(root, "env");
  const file = installKernel(jupyter, { kind: "prefix", prefix });
  assert.equal(file, path.join(prefix, "share", "jupyter", "kernels", KERNEL_NAME, "kernel.json"));
  const spec = JSON.parse(fs.readFileSync(file, "utf8"));
  assert.equal(spec.argv[1], path.join(REPO_ROOT, "dist", "kernel", "launch.js"));
  const userFile = installKernel(jupyter, { kind: "user" });
  assert.ok(userFile.startsWith(userDir));
});

test("jupyterPython reads the interpreter from the #! line", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jup-py-"));
  const direct = path.join(dir, "direct");
  fs.writeFileSync(direct, "#!/usr/bin/python3\nimport sys\n");
  const viaEnv = path.join(dir, "env");
  fs.writeFileSync(viaEnv, "#!/usr/bin/env python3.11\n");
  const binary = path.join(dir, "binary");
  fs.writeFileSync(binary, "ELF...");
  assert.equal(jupyterPython(direct), "/usr/bin/python3");
  assert.equal(jupyterPython(viaEnv), "python3.11");
  assert.throws(() => jupyterPython(binary), /no #! line/);
});
