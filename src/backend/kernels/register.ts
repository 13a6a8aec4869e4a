/**
 * Registration of the training kernels with the tf engine.
 *
 * The registry itself is the only state: each registered config carries a
 * marker and the stock config it replaced, so registering twice is a no-op
 * and {@link unregisterTrainingKernels} can put the stock kernel back.
 */
import "@tensorflow/tfjs-backend-wasm";
import { tf } from "../tf";
import { conv2dBackpropFilterKernel } from "./conv2d_backprop_filter";
import { conv2dBackpropInputKernel } from "./conv2d_backprop_input";
import { conv2dWinogradKernel } from "./conv2d_winograd";
import { depthwiseConv2dBackpropFilterKernel } from "./depthwise_conv2d_backprop_filter";
import { depthwiseConv2dBackpropInputKernel } from "./depthwise_conv2d_backprop_input";
import { batchMatMulTransposedKernel } from "./batch_mat_mul_transposed";
import { gatherRowsKernel } from "./gather_rows";
import { KernelBackendName } from "./host";
import { identityAliasKernel } from "./identity_alias";
import { maxPoolGradKernel } from "./max_pool_grad";
import { registerReluGradient, RELU_GRAD, reluGradKernel } from "./relu_grad";
import { BATCH_NORM, BATCH_NORM_GRAD, batchNormGradKernel, batchNormKernel } from "./batch_norm";
import { LAYER_NORM, LAYER_NORM_GRAD, layerNormGradKernel, layerNormKernel } from "./layer_norm";
import { sliceKernel } from "./slice";
import { tileKernel } from "./tile";
import { meanLeadingAxesKernel, sumLeadingAxesKernel } from "./sum_leading_axes";
import { unsortedSegmentSumKernel } from "./unsorted_segment_sum";

/** Makes a kernel function; wrappers get the stock config they fall back on. */
type KernelFactory = (backendName: KernelBackendName, stock: tf.KernelConfig | undefined) => tf.KernelFunc;

/**
 * The kernels each backend gets, and why (times: one SimCLR step, batch 512, on wasm).
 * - wasm's Conv2D and FusedConv2D (XNNPACK) run 3x3 convolutions directly;
 *   these wrap them with Winograd's minimal filtering at stride 1 and 2
 *   where it applies (conv2d_winograd.ts): the small ResNet's stride-1
 *   layers took 6.4, 6.5 and 8.4 ms at 128 images (2 threads), 4.2, 4.7 and
 *   6.9 ms here.
 * - wasm lacks Conv2DBackpropFilter, UnsortedSegmentSum and both depthwise
 *   gradients: training a conv net or an embedding table throws without them.
 * - wasm's Conv2DBackpropInput and MaxPoolGrad are slow (922 ms and 200 ms
 *   for one layer), where these take 85 ms (XNNPACK Conv2D) and 41 ms; its
 *   MaxPoolGrad is also wrong for windows of negative values.
 * - wasm's Sum and Mean transpose before reducing (100 ms for a conv bias
 *   gradient; BatchNorm's batch moments are Means over the same axes)
 *   and its BatchMatMul runs every transposed product, i.e. every matMul
 *   gradient, in a naive loop: both wrap the stock kernel with a fast path.
 *   Its Identity copies every activation the tape saves (18 ms); here it aliases.
 *   Its GatherV2 (an embedding lookup) runs a general strided loop: 15.6 ms
 *   for 6144 rows of a 20000x100 table, slower still on the threaded build;
 *   whole rows are copied here. Its Tile and Slice also walk elements one by
 *   one: BatchNorm's gradient tiles per-channel values to the activation's
 *   shape (about 100 ms per layer of the small ResNet at 128 images), and
 *   half a [512,14,14,32] batch took 45 ms to slice; both are block copies here.
 * - cpu's Conv2DBackpropFilter is a naive loop (11.7 s for one 3x3x32x64
 *   filter gradient over 32 images, here 0.17 s); its UnsortedSegmentSum makes
 *   one pass over `x` per segment (26 s for a 5000-word embedding gradient,
 *   here 0.6 ms); its MaxPoolGrad (263 ms vs 13 ms for [64,28,28,32]) and
 *   leading-axes Sum (74 ms vs 2 ms) are slow the same ways as wasm's.
 *   Its Conv2DBackpropInput stays: as fast as its forward Conv2D.
 * - Both get SslReluGrad, ReLU's gradient as one pass (relu_grad.ts) where
 *   tfjs runs three (Step, Cast, Multiply over the whole activation), and
 *   SslBatchNorm and SslBatchNormGrad, training-mode BatchNorm in two passes
 *   per direction (batch_norm.ts) where the composed ops make about ten, and
 *   SslLayerNorm and SslLayerNormGrad, layer normalization in one kernel per
 *   direction (layer_norm.ts) where the composed ops make nine and twenty.
 */
const TRAINING_KERNELS: Record<KernelBackendName, Array<[string, KernelFactory]>> = {
  wasm: [
    ["Conv2D", conv2dWinogradKernel],
    ["FusedConv2D", conv2dWinogradKernel],
    ["Conv2DBackpropFilter", conv2dBackpropFilterKernel],
    ["Conv2DBackpropInput", conv2dBackpropInputKernel],
    ["DepthwiseConv2dNativeBackpropFilter", depthwiseConv2dBackpropFilterKernel],
    ["DepthwiseConv2dNativeBackpropInput", depthwiseConv2dBackpropInputKernel],
    ["UnsortedSegmentSum", unsortedSegmentSumKernel],
    ["MaxPoolGrad", maxPoolGradKernel],
    ["Sum", sumLeadingAxesKernel],
    ["Mean", meanLeadingAxesKernel],
    ["BatchMatMul", batchMatMulTransposedKernel],
    ["Identity", identityAliasKernel],
    ["GatherV2", gatherRowsKernel],
    ["Tile", tileKernel],
    ["Slice", sliceKernel],
    [RELU_GRAD, reluGradKernel],
    [BATCH_NORM, batchNormKernel],
    [BATCH_NORM_GRAD, batchNormGradKernel],
    [LAYER_NORM, layerNormKernel],
    [LAYER_NORM_GRAD, layerNormGradKernel],
  ],
  cpu: [
    ["Conv2DBackpropFilter", conv2dBackpropFilterKernel],
    ["UnsortedSegmentSum", unsortedSegmentSumKernel],
    ["MaxPoolGrad", maxPoolGradKernel],
    ["Sum", sumLeadingAxesKernel],
    ["Mean", meanLeadingAxesKernel],
    [RELU_GRAD, reluGradKernel],
    [BATCH_NORM, batchNormKernel],
    [BATCH_NORM_GRAD, batchNormGradKernel],
    [LAYER_NORM, layerNormKernel],
    [LAYER_NORM_GRAD, layerNormGradKernel],
  ],
};

/** A registered training kernel: its config, marked, with the stock config it replaced. */
interface TrainingKernelConfig extends tf.KernelConfig {
  sslWorkbookTrainingKernel: true;
  stock?: tf.KernelConfig;
}

function isTrainingKernel(config: tf.KernelConfig | undefined): config is TrainingKernelConfig {
  return config != null && (config as Partial<TrainingKernelConfig>).sslWorkbookTrainingKernel === true;
}

function backendsOf(where: string, backendName: string | undefined): KernelBackendName[] {
  if (backendName == null) return ["wasm", "cpu"];
  if (backendName !== "wasm" && backendName !== "cpu") {
    throw new Error(`${where}: backendName must be "wasm" or "cpu", got "${backendName}"`);
  }
  return [backendName];
}

/**
 * Registers the workbook's training kernels for `backendName` (default: both
 * `wasm` and `cpu`), replacing stock ones where they exist. Idempotent.
 * Works before or after the backend is initialised.
 *
 * @returns The kernels in place, as `"backend/KernelName"`, e.g. `"wasm/Conv2DBackpropFilter"`.
 * @example
 * registerTrainingKernels();          // both backends
 * await tf.setBackend("wasm");
 * const g = tf.grad((w) => tf.conv2d(x, w, 1, "same").sum())(w); // now runs on wasm
 */
export function registerTrainingKernels(backendName?: KernelBackendName): string[] {
  const names: string[] = [];
  registerReluGradient();
  for (const backend of backendsOf("registerTrainingKernels", backendName)) {
    for (const [kernelName, factory] of TRAINING_KERNELS[backend]) {
      names.push(`${backend}/${kernelName}`);
      const current = tf.getKernel(kernelName, backend);
      if (isTrainingKernel(current)) continue;
      if (current != null) tf.unregisterKernel(kernelName, backend);
      const config: TrainingKernelConfig = {
        kernelName,
        backendName: backend,
        kernelFunc: factory(backend, current),
        // The stock kernel's C binding: wrappers call it, and unregistering restores it.
        ...(current?.setupFunc != null ? { setupFunc: current.setupFunc } : {}),
        sslWorkbookTrainingKernel: true,
        stock: current,
      };
      tf.registerKernel(config);
    }
  }
  return names;
}

/**
 * Puts back the stock kernels that {@link registerTrainingKernels} replaced
 * for `backendName` (default: both) and removes the ones it added; for
 * measuring before/after. Idempotent.
 *
 * @returns The kernels removed, as `"backend/KernelName"`.
 * @example
 * unregisterTrainingKernels("cpu"); // cpu runs its stock Conv2DBackpropFilter again
 */
export function unregisterTrainingKernels(backendName?: KernelBackendName): string[] {
  const names: string[] = [];
  for (const backend of backendsOf("unregisterTrainingKernels", backendName)) {
    for (const [kernelName] of TRAINING_KERNELS[backend]) {
      const current = tf.getKernel(kernelName, backend);
      if (!isTrainingKernel(current)) continue;
      tf.unregisterKernel(kernelName, backend);
      if (current.stock != null) {
        tf.registerKernel(current.stock);
        // A stock wasm kernel binds its C function in setupFunc, which the
        // engine runs only for kernels registered when the backend starts.
        const instance = tf.findBackend(backend);
        if (instance != null && current.stock.setupFunc != null) current.stock.setupFunc(instance);
      }
      names.push(`${backend}/${kernelName}`);
    }
  }
  return names;
}
