/**
 * `tf.layers.conv2d` whose training step runs the convolution, bias and
 * activation as one kernel and computes the gradient with respect to the
 * layer's input only when something needs it.
 *
 * tfjs-layers runs a convolution through tfjs-core's `fused.conv2d`, which
 * in a gradient computation does one of two things. With a linear
 * activation (the ResNet's convolutions, followed by BatchNorm) it fuses,
 * and its gradient is a `customGrad` that computes the input, filter and
 * bias gradients together: the first layer pays for an input gradient of
 * the images that nothing reads, a convolution back to one channel that
 * XNNPACK runs poorly (5 ms of a 219 ms small-ResNet step at 128 images on
 * wasm with 2 threads, 8 ms at 1 thread). With any other activation it does
 * not fuse, and runs Conv2D, Add and the activation as three kernels over
 * the output. Here the training call runs the `FusedConv2D` kernel through
 * the engine, and the kernel's gradient (registered by
 * {@link registerFusedConv2DGradient}) gives the tape one function per
 * input, so the engine calls only those on the path to the variables.
 *
 * The layer is the stock one with only its training-mode `call` replaced:
 * same weights, config and class name in saved files (a saved model loads as
 * a stock Conv2D). Activations other than linear and ReLU, dilation, and
 * channels-first data take the stock path.
 */
import { tf } from "../backend/tf";
import { reluGradient } from "../backend/kernels/relu_grad";

/** The stock layer's fields the training path reads (TypeScript declares them private). */
interface Conv2DFields {
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
  strides: number[];
  padding: string;
  dataFormat: string;
  dilationRate: number | number[];
  activation: { getClassName(): string };
}

type LayerArgs = Parameters<typeof tf.layers.conv2d>[0];
type LayerConstructor = new (args: LayerArgs) => tf.layers.Layer;

/** tfjs-layers registers its Conv2D class under its name; the layers API exports only the factory. */
const StockConv2D = tf.serialization.SerializationMap.getMap().classNameMap.Conv2D?.[0] as unknown as LayerConstructor | undefined;
if (StockConv2D === undefined) throw new Error("conv2d: tfjs-layers has no registered Conv2D class");

/** The attributes the workbook passes to `FusedConv2D`. */
interface FusedConv2DAttrs {
  strides: [number, number];
  pad: "same" | "valid";
  dataFormat: "NHWC";
  dilations: [number, number];
  activation: "linear" | "relu";
}

/**
 * Registers a gradient for the `FusedConv2D` kernel (tfjs-core has none:
 * its fused op differentiates through `customGrad`): with `dy'` = `dy`
 * for a linear activation and `dy * step(y)` for ReLU,
 *
 *   x: Conv2DBackpropInput(dy', filter),  filter: Conv2DBackpropFilter(x, dy'),  bias: sum of dy' over [N, H, W],
 *
 * each computed only when the engine asks for it. Idempotent.
 *
 * @example
 * registerFusedConv2DGradient();
 * tf.engine().runKernel("FusedConv2D", { x, filter }, { strides: [1, 1], pad: "same", dataFormat: "NHWC", dilations: [1, 1], activation: "relu" });
 */
export function registerFusedConv2DGradient(): void {
  tf.registerGradient({
    kernelName: "FusedConv2D",
    inputsToSave: ["x", "filter"],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter, y] = saved;
      const { strides, pad, dataFormat, dilations, activation } = attrs as unknown as FusedConv2DAttrs;
      if ((activation !== "linear" && activation !== "relu") || dataFormat !== "NHWC" || dilations.some((d) => d !== 1)) {
        throw new Error(`FusedConv2D gradient: supports linear and relu activations, NHWC and dilation 1, got ${activation}, ${dataFormat}, dilations [${dilations}]`);
      }
      const dyActive = activation === "relu" ? reluGradient(dy as tf.Tensor, y) : (dy as tf.Tensor);
      const conv = { strides, pad, dataFormat, dimRoundingMode: undefined };
      return {
        x: () => tf.engine().runKernel("Conv2DBackpropInput", { dy: dyActive, filter }, { ...conv, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
        filter: () => tf.engine().runKernel("Conv2DBackpropFilter", { x, dy: dyActive }, { ...conv, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
        bias: () => tf.sum(dyActive, [0, 1, 2]),
      };
    },
  });
}

/** The stock class with the training-mode call described in the module comment. */
class InputLazyConv2D extends StockConv2D {
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const self = this as unknown as Conv2DFields;
    const activation = self.activation.getClassName();
    const dilations = typeof self.dilationRate === "number" ? [self.dilationRate, self.dilationRate] : self.dilationRate;
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    if (kwargs.training !== true || (activation !== "linear" && activation !== "relu") || self.dataFormat !== "channelsLast" ||
      dilations.some((d) => d !== 1) || (self.padding !== "same" && self.padding !== "valid") || (Array.isArray(inputs) && inputs.length !== 1)) {
      return super.call(inputs, kwargs);
    }
    // Once per process, not per step: the registry keeps it.
    if (tf.getGradient("FusedConv2D") == null) registerFusedConv2DGradient();
    return tf.tidy(() => {
      const attrs: FusedConv2DAttrs = { strides: [self.strides[0], self.strides[1]], pad: self.padding as "same" | "valid", dataFormat: "NHWC", dilations: [1, 1], activation };
      const tensors: tf.NamedTensorMap = { x: input, filter: self.kernel.read() };
      if (self.bias !== null) tensors.bias = self.bias.read();
      return tf.engine().runKernel("FusedConv2D", tensors, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    });
  }
}

/**
 * `tf.layers.conv2d(args)` whose training step computes the gradient with
 * respect to its input only when something needs it (see the module
 * comment); the same layer otherwise, saved as the stock Conv2D.
 *
 * Shapes: `[N, H, W, Cin]` -> `[N, Ho, Wo, filters]`.
 *
 * @example
 * const conv = conv2d({ filters: 32, kernelSize: 3, padding: "same", activation: "relu", inputShape: [28, 28, 1] });
 */
export function conv2d(args: LayerArgs): tf.layers.Layer {
  return new InputLazyConv2D(args);
}
