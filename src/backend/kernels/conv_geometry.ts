/**
 * The geometry of a 2-D convolution, checked once, in the form the gradient
 * kernels need: sizes, strides, dilations and the top/left padding.
 *
 * Index convention (NHWC, TensorFlow's): output pixel `(oh, ow)` reads input
 * row `oh * strideHeight + kh * dilationHeight - padTop` for filter row `kh`,
 * and likewise for columns; reads outside the input are zeros. The bottom and
 * right padding follow from the output size, so they are not stored.
 */
import { tf } from "../tf";

/** Sizes and steps of one convolution (see the module comment for the index convention). */
export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  filterHeight: number;
  filterWidth: number;
  /** Conv2D: output channels. Depthwise: the channel multiplier. */
  filterOutChannels: number;
  outHeight: number;
  outWidth: number;
  /** Channels of `dy`: Conv2D `filterOutChannels`, depthwise `inChannels * multiplier`. */
  outChannels: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
  /** True when the kernel's tensors are NCHW; the geometry itself is layout-free. */
  channelsFirst: boolean;
}

/** The convolution attributes the gradient kernels accept. */
export interface ConvAttrs {
  strides?: number | number[];
  dilations?: number | number[];
  pad?: unknown;
  dataFormat?: string;
  dimRoundingMode?: string;
}

/**
 * Formats `[a,b,c]` for error messages.
 *
 * @example
 * shapeString([2, 7, 5]) // "[2,7,5]"
 */
export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/**
 * Throws unless `shape` is 4 positive-or-zero integers.
 *
 * @example
 * checkRank4("demo", "x shape", [2, 7, 5]) // throws "demo: x shape must be a rank-4 shape, got [2,7,5]"
 */
export function checkRank4(where: string, name: string, shape: readonly number[]): void {
  if (shape.length !== 4 || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`${where}: ${name} must be a rank-4 shape, got ${shapeString(shape)}`);
  }
}

function pair(where: string, name: string, value: number | number[] | undefined, fallback: number): [number, number] {
  const v = value == null ? [fallback, fallback] : typeof value === "number" ? [value, value] : value;
  if (v.length !== 2 || v.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(`${where}: ${name} must be a positive integer or a pair of them, got ${JSON.stringify(value)}`);
  }
  return [v[0], v[1]];
}

function checkPad(where: string, pad: unknown, channelsFirst: boolean): void {
  if (pad === "same" || pad === "valid") return;
  if (typeof pad === "number") {
    if (!Number.isInteger(pad) || pad < 0) {
      throw new Error(`${where}: pad must be 'same', 'valid', a non-negative integer or explicit padding, got ${pad}`);
    }
    return;
  }
  const explicit = Array.isArray(pad) && pad.length === 4 && pad.every(
    (p) => Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0),
  );
  if (!explicit) {
    throw new Error(`${where}: pad must be 'same', 'valid', a non-negative integer or [[0,0],[top,bottom],[left,right],[0,0]], got ${JSON.stringify(pad)}`);
  }
  const spatial = channelsFirst ? [2, 3] : [1, 2];
  const other = [0, 1, 2, 3].filter((i) => !spatial.includes(i));
  for (const i of other) {
    const p = (pad as number[][])[i];
    if (p[0] !== 0 || p[1] !== 0) {
      throw new Error(`${where}: explicit pad may only pad the spatial axes, got ${JSON.stringify(pad)}`);
    }
  }
}

/**
 * Checks a convolution's attributes and shapes and returns its geometry.
 *
 * @param where Prefix of error messages, e.g. `"Conv2DBackpropFilter (wasm)"`.
 * @param xShape Input shape, `[batch, height, width, inChannels]` (NCHW when `attrs.dataFormat` is `"NCHW"`).
 * @param filterShape `[filterHeight, filterWidth, inChannels, outChannels]` (depthwise: `[.., .., inChannels, multiplier]`).
 * @param attrs strides, dilations (default 1), pad, dataFormat (default NHWC), dimRoundingMode.
 * @param depthwise Whether the convolution is depthwise.
 * @example
 * const g = convGeometry("demo", [2, 7, 5, 3], [3, 2, 3, 4], { strides: 2, pad: "same" }, false);
 * // g.outHeight === 4, g.outWidth === 3, g.padTop === 1
 */
export function convGeometry(
  where: string,
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: ConvAttrs,
  depthwise: boolean,
): ConvGeometry {
  checkRank4(where, "x shape", xShape);
  checkRank4(where, "filter shape", filterShape);
  const dataFormat = attrs.dataFormat ?? "NHWC";
  if (dataFormat !== "NHWC" && dataFormat !== "NCHW") {
    throw new Error(`${where}: dataFormat must be 'NHWC' or 'NCHW', got '${dataFormat}'`);
  }
  const channelsFirst = dataFormat === "NCHW";
  const mode = attrs.dimRoundingMode;
  if (mode != null && mode !== "floor" && mode !== "round" && mode !== "ceil") {
    throw new Error(`${where}: dimRoundingMode must be 'floor', 'round' or 'ceil', got '${mode}'`);
  }
  const strides = pair(where, "strides", attrs.strides, 1);
  const dilations = pair(where, "dilations", attrs.dilations, 1);
  checkPad(where, attrs.pad, channelsFirst);
  const inChannels = channelsFirst ? xShape[1] : xShape[3];
  if (filterShape[2] !== inChannels) {
    throw new Error(
      `${where}: filter must have ${inChannels} input channels (filter shape [h,w,${inChannels},c]) for x of shape ${shapeString(xShape)}, got filter shape ${shapeString(filterShape)}`,
    );
  }
  if (filterShape[0] < 1 || filterShape[1] < 1) {
    throw new Error(`${where}: filter height and width must be at least 1, got filter shape ${shapeString(filterShape)}`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    attrs.pad as "same",
    mode as "floor" | undefined,
    depthwise,
    channelsFirst ? "channelsFirst" : "channelsLast",
  );
  if (!(info.outHeight >= 0 && info.outWidth >= 0)) {
    throw new Error(`${where}: the filter (effective ${info.effectiveFilterHeight}x${info.effectiveFilterWidth}) does not fit the padded input ${shapeString(xShape)}`);
  }
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels,
    filterHeight: filterShape[0],
    filterWidth: filterShape[1],
    filterOutChannels: filterShape[3],
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    strideHeight: strides[0],
    strideWidth: strides[1],
    dilationHeight: dilations[0],
    dilationWidth: dilations[1],
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    channelsFirst,
  };
}

/**
 * The NHWC shape of `dy` (the output gradient) for a geometry.
 *
 * @example
 * outShapeNHWC(convGeometry("demo", [2, 7, 5, 3], [3, 3, 3, 4], { strides: 2, pad: "same" }, false)) // [2, 4, 3, 4]
 */
export function outShapeNHWC(g: ConvGeometry): number[] {
  return [g.batch, g.outHeight, g.outWidth, g.outChannels];
}

/**
 * Throws unless `actual` equals `expected`, naming the argument.
 *
 * @example
 * checkShape("demo", "dy", [2, 7, 4, 4], [2, 7, 5, 4]) // throws "demo: dy must have shape [2,7,5,4], got [2,7,4,4]"
 */
export function checkShape(where: string, name: string, actual: readonly number[], expected: readonly number[]): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new Error(`${where}: ${name} must have shape ${shapeString(expected)}, got ${shapeString(actual)}`);
  }
}

/**
 * Throws unless `dtype` is float32, naming the argument.
 *
 * @example
 * checkFloat32("demo", "x", "int32") // throws "demo: x must be float32, got int32"
 */
export function checkFloat32(where: string, name: string, dtype: string): void {
  if (dtype !== "float32") {
    throw new Error(`${where}: ${name} must be float32, got ${dtype}`);
  }
}

/**
 * Returns the input `t` after checking that it was passed, is float32 and
 * has `shape`, naming the argument (the shared check of the workbook's
 * fused kernels' inputs).
 *
 * @example
 * checkFloat32Input("demo", "gamma", undefined, [4]) // throws "demo: input gamma is required"
 */
export function checkFloat32Input(where: string, name: string, t: tf.TensorInfo | undefined, shape: readonly number[]): tf.TensorInfo {
  if (t == null) throw new Error(`${where}: input ${name} is required`);
  checkFloat32(where, name, t.dtype);
  checkShape(where, name, t.shape, shape);
  return t;
}

/**
 * The kernel attribute `name` as a finite positive number, or a throw naming it.
 *
 * @example
 * positiveAttr("demo", { epsilon: 0 }, "epsilon") // throws "demo: attribute epsilon must be a positive number, got 0"
 */
export function positiveAttr(where: string, attrs: unknown, name: string): number {
  const value = (attrs as Record<string, unknown> | undefined)?.[name];
  if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value)) {
    throw new Error(`${where}: attribute ${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}

/**
 * Rows `[lo, hi)` of the output whose input row `o * stride + k * dilation - pad`
 * lies inside `[0, size)`, for one filter tap `k`.
 *
 * @example
 * validRange(0, 1, 1, 1, 14, 14) // [1, 14]: filter row 0 with padding 1 reads row -1 for output row 0
 */
export function validRange(k: number, stride: number, dilation: number, pad: number, size: number, outSize: number): [number, number] {
  const offset = k * dilation - pad;
  const lo = Math.max(0, Math.ceil(-offset / stride));
  const hi = Math.min(outSize, Math.floor((size - 1 - offset) / stride) + 1);
  return [lo, Math.max(lo, hi)];
}
