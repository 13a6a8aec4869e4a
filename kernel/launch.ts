/**
 * The workbook's kernel: tslab, started with one fix applied first.
 *
 *     node dist/kernel/launch.js --config-path CONNECTION_FILE
 *
 * tslab's own `tslab kernel` hands over to the tslab installed nearest the
 * notebook's folder; this does the same, then makes that tslab's zeromq
 * queue a message that finds its socket busy instead of throwing (see
 * serial_sends.ts: without it, a cell that writes fast fails at random with
 * an empty error) and keep every output for a frontend that lags (see
 * unbounded_publisher.ts), and starts the kernel.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { serializeSends, SendingSocket } from "./serial_sends";
import { bindWithoutDropping, BindingSocket } from "./unbounded_publisher";

const TSLAB_MAIN = ["node_modules", "tslab", "dist", "main.js"];

/** The tslab tslab itself would run: the nearest to `cwd`, else the one installed with the workbook. */
export function findTslabMain(cwd: string = process.cwd()): string {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (path.basename(dir) !== "node_modules") {
      const candidate = path.join(dir, ...TSLAB_MAIN);
      if (fs.existsSync(candidate)) return candidate;
    }
    if (path.dirname(dir) === dir) break;
  }
  return require.resolve("tslab/dist/main.js");
}

/**
 * Applies the busy-socket fix to every zeromq socket type the given tslab
 * uses, and makes its iopub Publisher queue instead of dropping output for a
 * slow frontend (see unbounded_publisher.ts).
 */
export function patchZeromqFor(tslabMain: string): void {
  const zmqPath = require.resolve("zeromq", { paths: [path.dirname(tslabMain)] });
  const zmq = require(zmqPath) as Record<string, { prototype?: object }>;
  // The socket types tslab creates: iopub, shell/control, heartbeat.
  for (const name of ["Publisher", "Router", "Reply"]) {
    const proto = zmq[name]?.prototype as SendingSocket | undefined;
    if (typeof proto?.send !== "function") {
      throw new Error(`launch: zeromq at ${zmqPath} has no ${name}.prototype.send; tslab's zeromq changed`);
    }
    serializeSends(proto);
  }
  const publisher = zmq.Publisher?.prototype as BindingSocket | undefined;
  if (typeof publisher?.bind !== "function") {
    throw new Error(`launch: zeromq at ${zmqPath} has no Publisher.prototype.bind; tslab's zeromq changed`);
  }
  bindWithoutDropping(publisher);
}

function main(argv: string[]): void {
  const at = argv.indexOf("--config-path");
  const configPath = at >= 0 ? argv[at + 1] : undefined;
  if (!configPath) {
    throw new Error(`launch: expected --config-path CONNECTION_FILE, got ${JSON.stringify(argv)}`);
  }
  const tslabMain = findTslabMain();
  patchZeromqFor(tslabMain);
  const tslab = require(tslabMain) as { startKernel(options: { configPath: string; enableFindLocal: boolean }): void };
  tslab.startKernel({ configPath, enableFindLocal: false });
}

if (require.main === module) main(process.argv.slice(2));
