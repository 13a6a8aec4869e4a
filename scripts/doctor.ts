/**
 * `npm run doctor`: which backend the workbook will compute with on this
 * machine, why the faster ones are not in use, what a GPU would need, and a
 * check that training (gradients of a conv net and an embedding table) runs.
 *
 * Exit code 0 when training works on the selected backend, 1 otherwise.
 */
import * as os from "os";
import { tf } from "../src/backend/tf";
import { setupBackend } from "../src/backend/select";
import { formatBackendReport } from "../src/backend/report";
import { probeCuda } from "../src/backend/cuda";

/** One gradient step of a tiny conv net and embedding table; throws if a kernel is missing. */
function trainingCheck(): number {
  const start = performance.now();
  tf.tidy(() => {
    const images = tf.randomNormal([4, 12, 12, 1], 0, 1, "float32", 1);
    const filter = tf.variable(tf.randomNormal([3, 3, 1, 8], 0, 0.1, "float32", 2));
    const table = tf.variable(tf.randomNormal([50, 8], 0, 0.1, "float32", 3));
    const ids = tf.tensor1d([1, 7, 7, 42], "int32");
    const { value, grads } = tf.variableGrads(() => {
      const features = tf.mean(tf.relu(tf.conv2d(images as tf.Tensor4D, filter as tf.Tensor4D, 2, "same")), [1, 2]);
      const words = tf.gather(table, ids);
      return tf.mean(tf.square(tf.sub(features, words))) as tf.Scalar;
    }, [filter, table]);
    const finite = [value, ...Object.values(grads)].every((t) => Array.from(t.dataSync()).every(Number.isFinite));
    if (!finite) throw new Error("the gradient contains NaN or Infinity");
    filter.dispose();
    table.dispose();
  });
  return performance.now() - start;
}

/** Best-of-5 GFLOP/s of a 512x512 matrix product. */
function matMulGflops(): number {
  const n = 512;
  const a = tf.randomNormal([n, n], 0, 1, "float32", 4);
  const b = tf.randomNormal([n, n], 0, 1, "float32", 5);
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    tf.tidy(() => tf.matMul(a, b).dataSync());
    best = Math.min(best, performance.now() - start);
  }
  tf.dispose([a, b]);
  return (2 * n * n * n) / (best * 1e6);
}

async function main(): Promise<number> {
  const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  console.log(`ssl-workbook doctor: Node ${process.version}, ${os.platform()} ${os.arch()}, ${cores} cores\n`);
  let report;
  try {
    report = await setupBackend();
  } catch (error) {
    console.log(`No backend: ${(error as Error).message}`);
    console.log(`\nGPU check: ${probeCuda().verdict}`);
    return 1;
  }
  console.log(formatBackendReport(report, probeCuda()));
  if (report.name === "wasm" && report.threads < cores) {
    console.log(
      `\nNote: WebAssembly runs on ${report.threads} of ${cores} cores. The workbook starts tfjs's ` +
        `threaded build under Node (stock tfjs does not: tensorflow/tfjs issue 3830) unless ` +
        `SSL_WORKBOOK_WASM_THREADS=1 is set or the runtime lacks SharedArrayBuffer or worker_threads.`,
    );
  }
  console.log("");
  let ok = true;
  try {
    const ms = trainingCheck();
    console.log(`Training check: gradients of a conv net and an embedding table on ${report.name}: ok (${ms.toFixed(0)} ms)`);
  } catch (error) {
    ok = false;
    console.log(`Training check: FAILED on ${report.name}: ${(error as Error).message}`);
  }
  console.log(`Speed check: 512x512 matrix product at ${matMulGflops().toFixed(1)} GFLOP/s on ${report.name}`);
  return ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
