/**
 * Pixel conversions of the image loader, in plain TypeScript (no tensors):
 * RGB to grey by ITU-R BT.601 luma, grey to RGB, and bilinear resizing with
 * half-pixel centres, the sampling of `tf.image.resizeBilinear(images, size,
 * alignCorners = false, halfPixelCenters = true)` (and of PIL and OpenCV
 * without antialiasing).
 */
import { BT601_WEIGHTS } from "../colored_digits";
import { checkPositiveInteger, describe } from "../../validation/arguments";

/**
 * Grey values of RGB pixels by ITU-R BT.601 luma, Y = 0.299 R + 0.587 G +
 * 0.114 B (the weights of {@link BT601_WEIGHTS}; PIL's `convert("L")` uses the same).
 *
 * Shapes: `rgb` `[pixels, 3]` flattened -> `[pixels]`.
 *
 * @example
 * rgbToGrey(new Float32Array([1, 0, 0])); // Float32Array [0.299]
 */
export function rgbToGrey(rgb: Float32Array): Float32Array {
  if (!(rgb instanceof Float32Array) || rgb.length % 3 !== 0) {
    throw new Error(`rgbToGrey: rgb must be a Float32Array of length 3 * pixels, got ${describe(rgb)}`);
  }
  const [wr, wg, wb] = BT601_WEIGHTS;
  const grey = new Float32Array(rgb.length / 3);
  for (let p = 0; p < grey.length; p++) grey[p] = wr * rgb[3 * p] + wg * rgb[3 * p + 1] + wb * rgb[3 * p + 2];
  return grey;
}

/**
 * RGB pixels from grey ones: each value copied to R, G and B.
 *
 * Shapes: `grey` `[pixels]` -> `[pixels, 3]` flattened.
 *
 * @example
 * greyToRgb(new Float32Array([0.5])); // Float32Array [0.5, 0.5, 0.5]
 */
export function greyToRgb(grey: Float32Array): Float32Array {
  if (!(grey instanceof Float32Array)) throw new Error(`greyToRgb: grey must be a Float32Array, got ${describe(grey)}`);
  const rgb = new Float32Array(grey.length * 3);
  for (let p = 0; p < grey.length; p++) rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = grey[p];
  return rgb;
}

/** Source rows (or columns) and weights of each output row under half-pixel centres. */
function samplingGrid(inSize: number, outSize: number): { low: Int32Array; high: Int32Array; frac: Float64Array } {
  const scale = inSize / outSize;
  const low = new Int32Array(outSize);
  const high = new Int32Array(outSize);
  const frac = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) {
    // Output pixel o covers [o, o + 1) of the output grid; its centre o + 0.5 maps
    // to (o + 0.5) * scale in input units, i.e. input index (o + 0.5) * scale - 0.5.
    // Centres before the first input centre take the edge pixel.
    const source = Math.max(0, (o + 0.5) * scale - 0.5);
    const floor = Math.floor(source);
    low[o] = Math.min(floor, inSize - 1);
    high[o] = Math.min(floor + 1, inSize - 1);
    frac[o] = source - floor;
  }
  return { low, high, frac };
}

/**
 * Resizes one image by bilinear interpolation with half-pixel centres and
 * corners not aligned: output pixel (y, x) samples the input at
 * `((y + 0.5) * h / outH - 0.5, (x + 0.5) * w / outW - 0.5)` (clamped to the
 * first pixel at the top-left edge and to the last pixel at the bottom-right
 * one), weighting its four neighbours. The same arithmetic as
 * `tf.image.resizeBilinear(image, [outH, outW], false, true)`, in float64.
 * Shrinking by more than 2 skips input pixels (no antialiasing filter).
 *
 * Shapes: `pixels` `[h, w, channels]` flattened -> `[outH, outW, channels]`.
 *
 * @example
 * resizeBilinear(new Float32Array([0, 1]), [1, 2, 1], [1, 4]); // [0, 0.25, 0.75, 1]
 */
export function resizeBilinear(
  pixels: Float32Array,
  shape: readonly [number, number, number],
  size: readonly [number, number],
): Float32Array {
  const fn = "resizeBilinear";
  if (!Array.isArray(shape) || shape.length !== 3) throw new Error(`${fn}: shape must be [height, width, channels], got ${describe(shape)}`);
  const [h, w, c] = shape;
  checkPositiveInteger(fn, "shape[0]", h);
  checkPositiveInteger(fn, "shape[1]", w);
  checkPositiveInteger(fn, "shape[2]", c);
  if (!(pixels instanceof Float32Array) || pixels.length !== h * w * c) {
    throw new Error(`${fn}: pixels must be a Float32Array of length h*w*c = ${h * w * c}, got ${describe(pixels)}`);
  }
  if (!Array.isArray(size) || size.length !== 2) throw new Error(`${fn}: size must be [height, width], got ${describe(size)}`);
  const [outH, outW] = size;
  checkPositiveInteger(fn, "size[0]", outH);
  checkPositiveInteger(fn, "size[1]", outW);
  const rows = samplingGrid(h, outH);
  const cols = samplingGrid(w, outW);
  const out = new Float32Array(outH * outW * c);
  for (let y = 0; y < outH; y++) {
    const top = rows.low[y] * w;
    const bottom = rows.high[y] * w;
    const dy = rows.frac[y];
    for (let x = 0; x < outW; x++) {
      const left = cols.low[x];
      const right = cols.high[x];
      const dx = cols.frac[x];
      for (let k = 0; k < c; k++) {
        const tl = pixels[(top + left) * c + k];
        const tr = pixels[(top + right) * c + k];
        const bl = pixels[(bottom + left) * c + k];
        const br = pixels[(bottom + right) * c + k];
        const upper = tl + (tr - tl) * dx;
        const lower = bl + (br - bl) * dx;
        out[(y * outW + x) * c + k] = upper + (lower - upper) * dy;
      }
    }
  }
  return out;
}
