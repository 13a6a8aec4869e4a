import { test } from "node:test";
import assert from "node:assert/strict";
import { im2colPixelMajor, im2colTapMajor } from "../../../src/backend/kernels/im2col";
import { convGeometry, ConvGeometry } from "../../../src/backend/kernels/conv_geometry";
import { createRng } from "../../../src/data/random";
import { ConvCase, forEachTap, refGeometry } from "./conv_reference";

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
const CASES: ConvCase[] = [
  { x: [5, 14, 14, 3], filter: [3, 3, 3, 4], strides: [1, 1], dilations: [1, 1], pad: "same" },
  { x: [4, 5, 5, 2], filter: [3, 3, 2, 4], strides: [1, 1], dilations: [1, 1], pad: "same" }, // CPC's second layer, small
  { x: [6, 2, 2, 3], filter: [3, 3, 3, 2], strides: [1, 1], dilations: [1, 1], pad: "same" }, // every tap reads padding somewhere
  { x: [3, 1, 1, 2], filter: [3, 3, 2, 2], strides: [1, 1], dilations: [1, 1], pad: "same" }, // eight of nine taps read nothing
  { x: [3, 4, 4, 1], filter: [3, 3, 1, 2], strides: [1, 1], dilations: [2, 2], pad: "same" },
  { x: [3, 6, 5, 2], filter: [2, 3, 2, 2], strides: [1, 1], dilations: [1, 1], pad: [[0, 0], [2, 0], [1, 1], [0, 0]] }, // 2 more output rows than input rows
  { x: [3, 7, 5, 2], filter: [3, 3, 2, 2], strides: [1, 1], dilations: [1, 1], pad: [[0, 0], [0, 0], [1, 1], [0, 0]] }, // 2 fewer
  { x: [2, 7, 6, 2], filter: [3, 2, 2, 3], strides: [2, 2], dilations: [1, 1], pad: "same" },
  // The small ResNet's strided layers (28 -> 14 and 7 -> 4), stride 3, dilation with stride, taps past the input.
  { x: [3, 12, 12, 2], filter: [3, 3, 2, 3], strides: [2, 2], dilations: [1, 1], pad: "same" },
  { x: [3, 7, 7, 2], filter: [3, 3, 2, 3], strides: [2, 2], dilations: [1, 1], pad: "same" },
  { x: [2, 9, 8, 2], filter: [3, 3, 2, 3], strides: [3, 2], dilations: [1, 1], pad: "valid" },
  { x: [2, 9, 8, 2], filter: [2, 3, 2, 2], strides: [2, 2], dilations: [2, 2], pad: "valid" }, // dilation with stride
  { x: [2, 6, 5, 2], filter: [2, 2, 2, 3], strides: [2, 2], dilations: [1, 1], pad: [[0, 0], [3, 1], [0, 3], [0, 0]] }, // taps past the input
];

test("im2colTapMajor and im2colPixelMajor write the definition's patch values, for whole batches and image ranges", () => {
  const rng = createRng(11);
  for (const c of CASES) {
    const g = convGeometry("im2col test", c.x, c.filter, { strides: c.strides, dilations: c.dilations, pad: c.pad }, false);
    const ref = refGeometry(c);
    assert.deepEqual([g.outHeight, g.outWidth], [ref.outHeight, ref.outWidth], JSON.stringify(c));
    const x = new Float32Array(c.x.reduce((a, b) => a * b, 1)).map(() => rng.normal());
    const xT = channelsFirst(x, g);
    const [, , Ci] = c.filter;
    const taps = c.filter[0] * c.filter[1] * Ci;
    const pixelsPerImage = ref.outHeight * ref.outWidth;
    for (const [n0, n1] of [[0, c.x[0]], [1, c.x[0] - 1], [c.x[0] - 1, c.x[0]]]) {
      const P = (n1 - n0) * pixelsPerImage;
      // Zero where a tap reads padding, the input value where it reads the image.
      const wantTapMajor = new Float32Array(taps * P);
      const wantPixelMajor = new Float32Array(taps * P);
      forEachTap(c, ref, (n, oh, ow, kh, kw, ih, iw) => {
        if (n < n0 || n >= n1) return;
        const p = (n - n0) * pixelsPerImage + oh * ref.outWidth + ow;
        for (let ci = 0; ci < Ci; ci++) {
          const q = (kh * c.filter[1] + kw) * Ci + ci;
          const v = x[((n * c.x[1] + ih) * c.x[2] + iw) * Ci + ci];
          wantTapMajor[q * P + p] = v;
          wantPixelMajor[p * taps + q] = v;
        }
      });
      const tapMajor = new Float32Array(taps * P).fill(NaN); // every entry must be written
      const pixelMajor = new Float32Array(taps * P).fill(NaN);
      im2colTapMajor(xT, g, n0, n1, tapMajor);
      im2colPixelMajor(x, g, n0, n1, pixelMajor);
      const where = `${JSON.stringify(c)}, images [${n0}, ${n1})`;
      for (let i = 0; i < taps * P; i++) {
        assert.ok(Object.is(tapMajor[i], wantTapMajor[i]), `tap-major ${where}, tap ${Math.floor(i / P)}, pixel ${i % P}: ${tapMajor[i]} vs ${wantTapMajor[i]}`);
        assert.ok(Object.is(pixelMajor[i], wantPixelMajor[i]), `pixel-major ${where}, pixel ${Math.floor(i / taps)}, tap ${i % taps}: ${pixelMajor[i]} vs ${wantPixelMajor[i]}`);
      }
    }
  }
});
