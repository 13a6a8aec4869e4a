/**
 * Depthwise convolution cases and their random data, shared by the two
 * depthwise gradient kernels' tests.
 */
import { tf } from "../../../src/backend/tf";
import { createRng } from "../../../src/data/random";
import { ConvCase, randomValues, refGeometry } from "./conv_reference";

/** Max error relative to max |reference| the kernels must meet. */
export const TOLERANCE = 1e-4;

/** Depthwise cases: filter `[Kh,Kw,Ci,M]`; multipliers 1-3, strides 1-3, dilations 1-2, every padding kind. */
export const CASES: ConvCase[] = [
  { x: [2, 7, 5, 3], filter: [3, 2, 3, 1], strides: [1, 1], dilations: [1, 1], pad: "same" },
  { x: [2, 7, 5, 3], filter: [3, 2, 3, 2], strides: [2, 2], dilations: [1, 1], pad: "same" },
  { x: [1, 7, 5, 4], filter: [3, 3, 4, 3], strides: [2, 2], dilations: [1, 1], pad: "valid" },
  { x: [2, 9, 8, 2], filter: [3, 3, 2, 1], strides: [3, 3], dilations: [1, 1], pad: "valid" },
  { x: [2, 9, 8, 3], filter: [3, 2, 3, 2], strides: [1, 1], dilations: [2, 2], pad: "same" },
  { x: [2, 9, 8, 3], filter: [2, 3, 3, 1], strides: [2, 2], dilations: [2, 2], pad: "valid" },
  { x: [2, 9, 8, 3], filter: [3, 2, 3, 2], strides: [2, 3], dilations: [1, 2], pad: [[0, 0], [2, 0], [1, 3], [0, 0]] },
  { x: [1, 6, 5, 2], filter: [2, 2, 2, 2], strides: [1, 1], dilations: [1, 1], pad: [[0, 0], [4, 1], [0, 3], [0, 0]] },
  { x: [2, 8, 8, 3], filter: [3, 3, 3, 1], strides: [2, 2], dilations: [1, 1], pad: 1, dimRoundingMode: "ceil" },
  { x: [4, 14, 14, 16], filter: [3, 3, 16, 1], strides: [1, 1], dilations: [1, 1], pad: "same" },
];

/** One case's random inputs. */
export interface CaseData {
  c: ConvCase;
  x: Float32Array;
  f: Float32Array;
  dy: Float32Array;
  dyShape: [number, number, number, number];
}

/** Seeded random `x`, filter `[Kh,Kw,Ci,M]` and `dy` `[N,Ho,Wo,Ci*M]`, uniform in [-1, 1). */
export function caseData(c: ConvCase, seed: number): CaseData {
  const rng = createRng(seed);
  const g = refGeometry(c);
  const dyShape: [number, number, number, number] = [c.x[0], g.outHeight, g.outWidth, c.x[3] * c.filter[3]];
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  return { c, x: randomValues(size(c.x), rng.next), f: randomValues(size(c.filter), rng.next), dy: randomValues(size(dyShape), rng.next), dyShape };
}

/** The kernel attributes of a case plus `extra`. */
export function attrsOf(c: ConvCase, extra: Record<string, unknown>): tf.NamedAttrMap {
  return { strides: c.strides, dilations: c.dilations, pad: c.pad, dimRoundingMode: c.dimRoundingMode, ...extra } as unknown as tf.NamedAttrMap;
}

/** Runs DepthwiseConv2dNativeBackpropFilter on the current backend. */
export const runFilterGrad = (d: CaseData) =>
  tf.engine().runKernel("DepthwiseConv2dNativeBackpropFilter", { x: tf.tensor4d(d.x, d.c.x), dy: tf.tensor4d(d.dy, d.dyShape) }, attrsOf(d.c, { filterShape: d.c.filter })) as tf.Tensor;
/** Runs DepthwiseConv2dNativeBackpropInput on the current backend. */
export const runInputGrad = (d: CaseData) =>
  tf.engine().runKernel("DepthwiseConv2dNativeBackpropInput", { dy: tf.tensor4d(d.dy, d.dyShape), filter: tf.tensor4d(d.f, d.c.filter) }, attrsOf(d.c, { inputShape: d.c.x })) as tf.Tensor;

/** A case as a readable label for assertion messages. */
export const label = (c: ConvCase) => JSON.stringify(c);
