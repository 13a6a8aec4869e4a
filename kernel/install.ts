/**
 * Registers the workbook kernel with Jupyter.
 *
 *   node dist/kernel/install.js            per user (the default)
 *   node dist/kernel/install.js --system   for every user (a course's JupyterHub; needs root)
 *   node dist/kernel/install.js --prefix DIR   under DIR/share/jupyter/kernels (a virtualenv, conda env)
 *   --if-jupyter   exit 0 with an explanation when Jupyter is missing (what `npm install` uses,
 *                  so installing the library never fails for want of Jupyter)
 */
import { findJupyter, installKernel, InstallScope, JUPYTER_MISSING_HELP, KERNEL_DISPLAY_NAME } from "./jupyter";

function parseArgs(argv: string[]): { scope: InstallScope; ifJupyter: boolean } {
  let scope: InstallScope = { kind: "user" };
  let ifJupyter = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--user") scope = { kind: "user" };
    else if (arg === "--system") scope = { kind: "system" };
    else if (arg === "--prefix") {
      const prefix = argv[++i];
      if (!prefix) throw new Error("kernel install: --prefix needs a directory");
      scope = { kind: "prefix", prefix };
    } else if (arg === "--if-jupyter") ifJupyter = true;
    else throw new Error(`kernel install: unknown argument ${arg}; expected --user, --system, --prefix DIR or --if-jupyter`);
  }
  return { scope, ifJupyter };
}

function main(): void {
  const { scope, ifJupyter } = parseArgs(process.argv.slice(2));
  const jupyter = findJupyter();
  if (!jupyter) {
    console.error(JUPYTER_MISSING_HELP);
    if (ifJupyter) {
      console.error("The library is installed; the notebook kernel is not registered yet.");
      return;
    }
    process.exitCode = 1;
    return;
  }
  const file = installKernel(jupyter, scope);
  console.log(`Registered the "${KERNEL_DISPLAY_NAME}" kernel with ${jupyter}: ${file}`);
}

try {
  main();
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
}
