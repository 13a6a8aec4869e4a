import { test } from "node:test";
import assert from "node:assert/strict";
import { im2colPixelMajor, im2colTapMajor } from "../../../src/backend/kernels/im2col";
import { ConvAttrs, convGeometry, ConvGeometry } from "../../../src/backend/kernels/conv_geometry";
import { createRng } from "../../../src/data/random";

/** The input value filter tap (kh, kw, ci) multiplies at output pixel (n, oh, ow), from the definition; 0 in the padding. */
function tapValue(x: Float32Array, g: ConvGeometry, n: number, oh: number, ow: number, kh: number, kw: number, ci: number): number {
  const ih = oh * g.strideHeight + kh * g.dilationHeight - g.padTop;
  const iw = ow * g.strideWidth + kw * g.dilationWidth - g.padLeft;
  if (ih < 0 || ih >= g.inHeight || iw < 0 || iw >= g.inWidth) return 0;
  return x[((n * g.inHeight + ih) * g.inWidth + iw) * g.inChannels + ci];
}

/** NHWC `[N, H, W, Ci]` to `[Ci, N, H, W]`, the input of the tap-major layout. */
function channelsFirst(x: Float32Array, g: ConvGeometry): Float32Array {
  const { batch: N, inHeight: H, inWidth: W, inChannels: Ci } = g;
  const out = new Float32Array(x.length);
  for (let n = 0; n < N; n++) {
    for (let p = 0; p < H * W; p++) {
      for (let ci = 0; ci < Ci; ci++) out[(ci * N + n) * H * W + p] = x[(n * H * W + p) * Ci + ci];
    }
  }
  return out;
}

// Stride 1 with 'same' width takes the shifted-copy path (one copy per tap and channel when the output has as
// many rows as the input, one per image when not); the others the element loop.
const GEOMETRIES: Array<{ x: [number, number, number, number]; filter: [number, number, number, number]; attrs: ConvAttrs }> = [
  { x: [5, 14, 14, 3], filter: [3, 3, 3, 4], attrs: { strides: 1, pad: "same" } },
  { x: [4, 5, 5, 2], filter: [3, 3, 2, 4], attrs: { strides: 1, pad: "same" } }, // CPC's second layer, small
  { x: [6, 2, 2, 3], filter: [3, 3, 3, 2], attrs: { strides: 1, pad: "same" } }, // every tap reads padding somewhere
  { x: [3, 1, 1, 2], filter: [3, 3, 2, 2], attrs: { strides: 1, pad: "same" } }, // eight of nine taps read nothing
  { x: [3, 4, 4, 1], filter: [3, 3, 1, 2], attrs: { strides: 1, pad: "same", dilations: 2 } },
  { x: [3, 6, 5, 2], filter: [2, 3, 2, 2], attrs: { strides: 1, pad: [[0, 0], [2, 0], [1, 1], [0, 0]] } }, // 2 more output rows than input rows
  { x: [3, 7, 5, 2], filter: [3, 3, 2, 2], attrs: { strides: 1, pad: [[0, 0], [0, 0], [1, 1], [0, 0]] } }, // 2 fewer
  { x: [2, 7, 6, 2], filter: [3, 2, 2, 3], attrs: { strides: 2, pad: "same" } },
];

test("im2colTapMajor and im2colPixelMajor write the definition's patch values, for whole batches and image ranges", () => {
  const rng = createRng(11);
  for (const { x: xShape, filter, attrs } of GEOMETRIES) {
    const g = convGeometry("im2col test", xShape, filter, attrs, false);
    const x = new Float32Array(xShape.reduce((a, b) => a * b, 1)).map(() => rng.normal());
    const xT = channelsFirst(x, g);
    const taps = g.filterHeight * g.filterWidth * g.inChannels;
    const pixelsPerImage = g.outHeight * g.outWidth;
    for (const [n0, n1] of [[0, g.batch], [1, g.batch - 1], [g.batch - 1, g.batch]]) {
      const P = (n1 - n0) * pixelsPerImage;
      const tapMajor = new Float32Array(taps * P).fill(NaN); // every entry must be written
      const pixelMajor = new Float32Array(taps * P).fill(NaN);
      im2colTapMajor(xT, g, n0, n1, tapMajor);
      im2colPixelMajor(x, g, n0, n1, pixelMajor);
      for (let n = n0; n < n1; n++) {
        for (let oh = 0; oh < g.outHeight; oh++) {
          for (let ow = 0; ow < g.outWidth; ow++) {
            const p = (n - n0) * pixelsPerImage + oh * g.outWidth + ow;
            for (let kh = 0; kh < g.filterHeight; kh++) {
              for (let kw = 0; kw < g.filterWidth; kw++) {
                for (let ci = 0; ci < g.inChannels; ci++) {
                  const q = (kh * g.filterWidth + kw) * g.inChannels + ci;
                  const want = tapValue(x, g, n, oh, ow, kh, kw, ci);
                  const where = `x [${xShape}], filter [${filter}], ${JSON.stringify(attrs)}, images [${n0}, ${n1}), pixel ${p}, tap ${q}`;
                  assert.ok(Object.is(tapMajor[q * P + p], want), `tap-major ${where}: ${tapMajor[q * P + p]} vs ${want}`);
                  assert.ok(Object.is(pixelMajor[p * taps + q], want), `pixel-major ${where}: ${pixelMajor[p * taps + q]} vs ${want}`);
                }
              }
            }
          }
        }
      }
    }
  }
});
