/**
 * Conv2D cases and their random data, shared by the Conv2DBackpropFilter and
 * Conv2DBackpropInput tests.
 */
import { tf } from "../../../src/backend/tf";
import { createRng } from "../../../src/data/random";
import { ConvCase, randomValues, refGeometry } from "./conv_reference";

/** Max error relative to max |reference| the kernels must meet. */
export const TOLERANCE = 1e-4;

/** Shapes chosen to cover padding kinds, strides 1-3, dilations 1-2, batch 1, odd sizes, both product layouts, chunking. */
export const CASES: ConvCase[] = [
  { x: [2, 7, 5, 3], filter: [3, 2, 3, 4], strides: [1, 1], dilations: [1, 1], pad: "same" },
  { x: [2, 7, 5, 3], filter: [3, 2, 3, 4], strides: [2, 2], dilations: [1, 1], pad: "same" },
  { x: [1, 7, 5, 3], filter: [3, 2, 3, 5], strides: [2, 2], dilations: [1, 1], pad: "valid" },
  { x: [2, 9, 8, 2], filter: [3, 3, 2, 3], strides: [3, 3], dilations: [1, 1], pad: "valid" },
  { x: [2, 10, 11, 2], filter: [2, 3, 2, 3], strides: [3, 2], dilations: [1, 1], pad: "same" },
  { x: [2, 9, 8, 3], filter: [3, 2, 3, 4], strides: [1, 1], dilations: [2, 2], pad: "same" },
  { x: [2, 9, 8, 3], filter: [2, 3, 3, 2], strides: [2, 2], dilations: [2, 2], pad: "valid" },
  { x: [2, 9, 8, 3], filter: [3, 2, 3, 4], strides: [2, 3], dilations: [1, 2], pad: [[0, 0], [2, 0], [1, 3], [0, 0]] },
  // Padding wider than the filter: rows of dy that touch no input pixel.
  { x: [1, 6, 5, 2], filter: [2, 2, 2, 3], strides: [1, 1], dilations: [1, 1], pad: [[0, 0], [4, 1], [0, 3], [0, 0]] },
  { x: [2, 8, 8, 3], filter: [3, 3, 3, 4], strides: [2, 2], dilations: [1, 1], pad: 1, dimRoundingMode: "ceil" },
  // 1x1 convolution and Ci = 1 with many outputs: the pixel-major product (Co > Kh*Kw*Ci).
  { x: [2, 5, 5, 8], filter: [1, 1, 8, 16], strides: [1, 1], dilations: [1, 1], pad: "valid" },
  { x: [3, 10, 9, 1], filter: [3, 3, 1, 16], strides: [1, 1], dilations: [1, 1], pad: "same" },
  { x: [3, 10, 9, 1], filter: [3, 3, 1, 8], strides: [1, 1], dilations: [1, 1], pad: "same" },
  // The small ResNet's strided layers (28 -> 14 and 7 -> 4, 'same'): 3x3, and 1x1 projections that reach one phase of four.
  { x: [2, 12, 12, 3], filter: [3, 3, 3, 5], strides: [2, 2], dilations: [1, 1], pad: "same" },
  { x: [2, 7, 7, 4], filter: [3, 3, 4, 6], strides: [2, 2], dilations: [1, 1], pad: "same" },
  { x: [2, 7, 8, 4], filter: [1, 1, 4, 6], strides: [2, 2], dilations: [1, 1], pad: "same" },
  // Strided, with padding wider than the filter: a phase drops the first rows of dy.
  { x: [1, 6, 5, 2], filter: [2, 2, 2, 3], strides: [2, 2], dilations: [1, 1], pad: [[0, 0], [3, 1], [0, 3], [0, 0]] },
  // 1x1 with more output channels than the SIMD loop takes (tap-major), and with a Co it cannot split in fours (pixel-major).
  { x: [2, 5, 5, 4], filter: [1, 1, 4, 72], strides: [1, 1], dilations: [1, 1], pad: "valid" },
  { x: [2, 5, 5, 3], filter: [1, 1, 3, 6], strides: [1, 1], dilations: [1, 1], pad: "valid" },
  // More than CHUNK_PIXELS output pixels: several chunks, both layouts.
  { x: [40, 28, 28, 1], filter: [3, 3, 1, 12], strides: [1, 1], dilations: [1, 1], pad: "same" },
  { x: [9, 64, 64, 2], filter: [3, 3, 2, 8], strides: [1, 1], dilations: [1, 1], pad: "same" },
];

const same1: Pick<ConvCase, "strides" | "dilations" | "pad"> = { strides: [1, 1], dilations: [1, 1], pad: "same" };
const same2: Pick<ConvCase, "strides" | "dilations" | "pad"> = { strides: [2, 2], dilations: [1, 1], pad: "same" };

/**
 * Convolutions the Winograd kernels take at stride 1: the small ResNet's
 * stride-1 layers (fewer images) and the loops' edges: odd sizes (a padded
 * last tile row and column), one pixel, more tiles than a block (a short
 * last block whose rows are not a multiple of the register block), an odd
 * number of tiles to split between threads, output channels with a vector
 * left over after the register blocks, explicit padding, no padding.
 */
export const WINOGRAD_STRIDE1_CASES: ConvCase[] = [
  { x: [2, 14, 14, 32], filter: [3, 3, 32, 32], ...same1 }, // 98 tiles, 64 per block
  { x: [3, 7, 7, 64], filter: [3, 3, 64, 64], ...same1 }, // odd sizes
  { x: [2, 4, 4, 128], filter: [3, 3, 128, 128], ...same1 }, // 16-tile blocks
  { x: [1, 1, 1, 8], filter: [3, 3, 8, 4], ...same1 }, // one pixel, one tile
  { x: [3, 9, 6, 12], filter: [3, 3, 12, 20], ...same1 }, // odd height; 20 = 2 register blocks of 8 and one vector
  { x: [5, 3, 3, 16], filter: [3, 3, 16, 12], ...same1 }, // 20 tiles, 10 per thread
  { x: [2, 14, 14, 8], filter: [3, 3, 8, 4], ...same1 }, // 98 tiles of 64-tile blocks: a last block of 34
  { x: [2, 6, 5, 8], filter: [3, 3, 8, 8], strides: [1, 1], dilations: [1, 1], pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
  { x: [2, 9, 6, 12], filter: [3, 3, 12, 8], strides: [1, 1], dilations: [1, 1], pad: "valid" },
];

/**
 * Stride-2 convolutions the Winograd kernels take: the small ResNet's
 * stride-2 layers ('same' pads 28 and 14 by 0 on the top and left, 7 by 1)
 * and the edges: odd sizes, 'valid', one pixel, explicit uneven padding.
 */
export const WINOGRAD_STRIDE2_CASES: ConvCase[] = [
  { x: [2, 28, 28, 16], filter: [3, 3, 16, 32], ...same2 },
  { x: [2, 14, 14, 32], filter: [3, 3, 32, 64], ...same2 },
  { x: [3, 7, 7, 64], filter: [3, 3, 64, 128], ...same2 },
  { x: [3, 9, 6, 12], filter: [3, 3, 12, 20], ...same2 },
  { x: [2, 10, 11, 8], filter: [3, 3, 8, 8], strides: [2, 2], dilations: [1, 1], pad: "valid" },
  { x: [1, 1, 1, 8], filter: [3, 3, 8, 8], ...same2 },
  { x: [2, 6, 5, 8], filter: [3, 3, 8, 12], strides: [2, 2], dilations: [1, 1], pad: [[0, 0], [1, 1], [0, 2], [0, 0]] },
];

/** Index of the explicit-padding case with strides [2,3] and dilations [1,2] (used for NCHW). */
export const EXPLICIT_CASE = 7;
/** Index of a case spanning several chunks. */
export const CHUNKED_CASE = 20;

/** One case's random inputs. */
export interface CaseData {
  c: ConvCase;
  x: Float32Array;
  f: Float32Array;
  dy: Float32Array;
  dyShape: [number, number, number, number];
}

/** Seeded random `x`, filter and `dy` for a case, uniform in [-1, 1). */
export function caseData(c: ConvCase, seed: number): CaseData {
  const rng = createRng(seed);
  const g = refGeometry(c);
  const dyShape: [number, number, number, number] = [c.x[0], g.outHeight, g.outWidth, c.filter[3]];
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  return {
    c,
    x: randomValues(size(c.x), rng.next),
    f: randomValues(size(c.filter), rng.next),
    dy: randomValues(size(dyShape), rng.next),
    dyShape,
  };
}

/** The kernel attributes of a case (NHWC) plus `extra`. */
export function attrsOf(c: ConvCase, extra: Record<string, unknown>): tf.NamedAttrMap {
  return {
    strides: c.strides,
    dilations: c.dilations,
    pad: c.pad,
    dataFormat: "NHWC",
    dimRoundingMode: c.dimRoundingMode,
    ...extra,
  } as unknown as tf.NamedAttrMap;
}

/** A case as a readable label for assertion messages. */
export const label = (c: ConvCase) => JSON.stringify(c);

/** Runs Conv2DBackpropFilter on the current backend; returns its values, checking the shape. */
export function filterGrad(d: CaseData): Float32Array {
  return tf.tidy(() => {
    const out = tf.engine().runKernel(
      "Conv2DBackpropFilter",
      { x: tf.tensor4d(d.x, d.c.x), dy: tf.tensor4d(d.dy, d.dyShape) },
      attrsOf(d.c, { filterShape: d.c.filter }),
    ) as tf.Tensor;
    if (out.shape.join() !== d.c.filter.join()) throw new Error(`filterGrad: shape [${out.shape}] for ${label(d.c)}`);
    return out.dataSync() as Float32Array;
  });
}

/** Runs Conv2DBackpropInput on the current backend; returns its values, checking the shape. */
export function inputGrad(d: CaseData): Float32Array {
  return tf.tidy(() => {
    const out = tf.engine().runKernel(
      "Conv2DBackpropInput",
      { dy: tf.tensor4d(d.dy, d.dyShape), filter: tf.tensor4d(d.f, d.c.filter) },
      attrsOf(d.c, { inputShape: d.c.x }),
    ) as tf.Tensor;
    if (out.shape.join() !== d.c.x.join()) throw new Error(`inputGrad: shape [${out.shape}] for ${label(d.c)}`);
    return out.dataSync() as Float32Array;
  });
}

/** Asserts that `call` returns one new tensor and one new piece of backend data, and frees them. */
export function assertOneNewTensor(call: () => tf.Tensor): void {
  const tensors = tf.memory().numTensors;
  const data = tf.engine().backend.numDataIds();
  const out = call();
  const after = [tf.memory().numTensors, tf.engine().backend.numDataIds()];
  out.dispose();
  if (after[0] !== tensors + 1 || after[1] !== data + 1) {
    throw new Error(`expected 1 new tensor and 1 new data id, got ${after[0] - tensors} and ${after[1] - data}`);
  }
  if (tf.engine().backend.numDataIds() !== data) throw new Error("the output's data was not freed with it");
}
