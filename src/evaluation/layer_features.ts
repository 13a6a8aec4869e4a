/**
 * Features of an intermediate layer, for probing a network at several
 * depths. Gidaris et al. (2018, RotNet) and Noroozi & Favaro (2016, jigsaw)
 * found that a pretext task's best features are not its last layer's: the
 * layers nearest the pretext head specialise in the pretext task (rotation,
 * tile order), and the middle ones transfer best.
 */
import { tf } from "../backend/tf";
import { checkPositiveInteger, describe } from "../validation/arguments";
import { extractFeatures, type ExtractFeaturesOptions } from "./features";

/** Options of {@link layerFeatures}. */
export interface LayerFeaturesOptions extends ExtractFeaturesOptions {
  /**
   * Cells per side of the average pooling of a conv layer's `[n, h, w, c]`
   * map: 1 (default) averages the whole map to `[n, c]`; `g` averages each
   * of `g x g` equal cells and flattens them to `[n, g * g * c]`, keeping a
   * coarse layout (as the RotNet paper pools its conv maps before its
   * probes). `h` and `w` must be multiples of `g`. Ignored for a dense layer.
   */
  grid?: number;
}

/**
 * The activations of one layer of `model` for `images`, global-average
 * pooled over the spatial axes: a conv layer's `[n, h, w, c]` becomes
 * `[n, c]`, a sequence layer's `[n, t, c]` becomes `[n, c]`, and a dense
 * layer's `[n, d]` is kept. The layer is named or indexed in `model.layers`
 * (negative indices count from the end). With `options.grid` g > 1 a conv
 * map is averaged over g x g cells instead, `[n, g * g * c]` (cell-major,
 * channels last). Runs in inference mode, in passes
 * of `batchSize` rows (see `extractFeatures`), and leaves no tensor behind
 * but its result. The model must have one input and be built.
 *
 * Shapes: `images` `[n, ...inputShape]` -> `[n, channels of the layer]`
 * (`[n, grid * grid * channels]` with a grid).
 *
 * @example
 * const encoder = models.smallCnnEncoder({ seed: 1 });
 * layerFeatures(encoder, 0, digits);                // first conv, [n, 32]
 * layerFeatures(encoder, "conv2d_Conv2D2", digits); // by name
 * layerFeatures(encoder, -1, digits);               // the encoder's output, [n, 128]
 * layerFeatures(encoder, 2, digits, { grid: 2 });   // second conv (14x14) in 2x2 cells of 7x7, [n, 256]
 */
export function layerFeatures(
  model: tf.LayersModel,
  layerNameOrIndex: string | number,
  images: tf.Tensor,
  options: LayerFeaturesOptions = {},
): tf.Tensor2D {
  const fn = "layerFeatures";
  if (!(model instanceof tf.LayersModel)) throw new Error(`${fn}: model must be a tf.LayersModel, got ${describe(model)}`);
  const layer = findLayer(fn, model, layerNameOrIndex);
  if (!(images instanceof tf.Tensor) || images.rank < 2) {
    throw new Error(`${fn}: images must be a tensor [n, ...inputShape], got ${describe(images)}`);
  }
  if (model.inputs.length !== 1) throw new Error(`${fn}: model must have one input, got ${model.inputs.length}`);
  const output = layer.output;
  if (Array.isArray(output)) throw new Error(`${fn}: layer ${layer.name} must have one output, got ${output.length}`);
  const grid = options?.grid ?? 1;
  checkPositiveInteger(fn, "options.grid", grid);
  // A model sharing the layers up to this one: no new weights, no tensors.
  const upTo = tf.model({ inputs: model.inputs[0], outputs: output });
  const rank = output.shape.length;
  return extractFeatures((x) => {
    const a = upTo.apply(x, { training: false }) as tf.Tensor;
    if (rank === 2) return a;
    if (grid > 1 && rank === 4) {
      const [n, h, w] = a.shape;
      if (h % grid !== 0 || w % grid !== 0) throw new Error(`${fn}: options.grid must divide the ${h}x${w} map of layer ${layer.name}, got ${grid}`);
      return tf.reshape(tf.avgPool(a as tf.Tensor4D, [h / grid, w / grid], [h / grid, w / grid], "valid"), [n, -1]);
    }
    return tf.mean(a, Array.from({ length: rank - 2 }, (_, i) => i + 1));
  }, images, { batchSize: options?.batchSize });
}

function findLayer(fn: string, model: tf.LayersModel, which: string | number): tf.layers.Layer {
  const layers = model.layers;
  if (typeof which === "string") {
    const found = layers.find((l) => l.name === which);
    if (!found) throw new Error(`${fn}: layerNameOrIndex must name a layer of ${model.name} (${layers.map((l) => l.name).join(", ")}), got ${describe(which)}`);
    return found;
  }
  if (!Number.isInteger(which) || which < -layers.length || which >= layers.length) {
    throw new Error(`${fn}: layerNameOrIndex must be a layer name or an integer in [${-layers.length}, ${layers.length}), got ${describe(which)}`);
  }
  return layers[which < 0 ? layers.length + which : which];
}
