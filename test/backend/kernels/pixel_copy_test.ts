import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../../src/backend/tf";
import { copyPixels, copyPixelsSimd, PixelGrid, PixelLayout } from "../../../src/backend/kernels/pixel_copy";
import { KernelHost } from "../../../src/backend/kernels/host";
import { createRng } from "../../../src/data/random";
import { restartWasm } from "./wasm_route_harness";

/** The copy in plain indices: the reference. */
function copyRef(from: PixelLayout, to: PixelLayout, g: PixelGrid): void {
  for (let n = 0; n < g.images; n++) {
    for (let r = 0; r < g.rows; r++) {
      for (let c = 0; c < g.cols; c++) {
        for (let k = 0; k < g.channels; k++) {
          to.view[to.at + n * to.image + r * to.row + c * to.pixel + k] = from.view[from.at + n * from.image + r * from.row + c * from.pixel + k];
        }
      }
    }
  }
}

/** A gather of every `s`-th pixel of `[N,H,W,C]` and the scatter back into phase (ph, pw), as the kernels use them. */
function layouts(N: number, H: number, W: number, C: number, s: number, ph: number, pw: number) {
  const rows = Math.ceil((H - ph) / s), cols = Math.ceil((W - pw) / s);
  const image: Omit<PixelLayout, "view"> = { at: (ph * W + pw) * C, pixel: s * C, row: s * W * C, image: H * W * C };
  const dense: Omit<PixelLayout, "view"> = { at: 0, pixel: C, row: cols * C, image: rows * cols * C };
  return { image, dense, grid: { images: N, rows, cols, channels: C }, imageSize: N * H * W * C, denseSize: N * rows * cols * C };
}

test("copyPixelsSimd rejects a channel count that is not a positive integer", () => {
  for (const C of [0, -4, 2.5]) assert.throws(() => copyPixelsSimd(C), /copyPixelsSimd: C must be a positive integer, got/);
});

test("copyPixels gathers and scatters strided pixels like the reference on wasm (threaded and plain) and cpu", async () => {
  const rng = createRng(5);
  const cases: Array<[number, number, number, number, number, number, number]> = [
    // N, H, W, C, stride, phase row, phase col: C with and without a vector remainder
    [2, 7, 8, 4, 2, 0, 0], [2, 7, 8, 6, 2, 1, 1], [1, 9, 5, 1, 3, 2, 0], [3, 5, 5, 13, 2, 0, 1], [2, 6, 6, 128, 2, 1, 0], [1, 4, 3, 3, 1, 0, 0],
  ];
  for (const [backend, threaded] of [["wasm", true], ["wasm", false], ["cpu", false]] as const) {
    if (backend === "wasm") restartWasm(threaded);
    assert.equal(await tf.setBackend(backend), true);
    const host = new KernelHost(backend, tf.backend());
    for (const [N, H, W, C, s, ph, pw] of cases) {
      const { image, dense, grid, imageSize, denseSize } = layouts(N, H, W, C, s, ph, pw);
      const what = `[${N},${H},${W},${C}] stride ${s} phase (${ph},${pw}) on ${backend}${threaded ? " (threaded)" : ""}`;
      const x = host.alloc([imageSize]);
      const d = host.alloc([denseSize]);
      try {
        const xv = host.f32(x), dv = host.f32(d);
        for (let i = 0; i < imageSize; i++) xv[i] = rng.normal();
        dv.fill(NaN);
        copyPixels(host, { view: xv, ...image }, { view: dv, ...dense }, grid);
        const gathered = new Float32Array(denseSize).fill(NaN);
        copyRef({ view: xv.slice(), ...image }, { view: gathered, ...dense }, grid);
        assert.deepEqual(Array.from(dv), Array.from(gathered), `gather ${what}`);
        // Scatter new values back: only the phase's pixels change.
        for (let i = 0; i < denseSize; i++) dv[i] = rng.normal();
        const want = xv.slice();
        copyRef({ view: dv.slice(), ...dense }, { view: want, ...image }, grid);
        copyPixels(host, { view: dv, ...dense }, { view: xv, ...image }, grid);
        assert.deepEqual(Array.from(xv), Array.from(want), `scatter ${what}`);
      } finally {
        host.dispose(x);
        host.dispose(d);
      }
    }
  }
  restartWasm(false);
});

test("copyPixels names the side whose grid reaches past its view, and copies nothing for an empty grid", async () => {
  assert.equal(await tf.setBackend("cpu"), true);
  const host = new KernelHost("cpu", tf.backend());
  const view = new Float32Array(12);
  const dense = { view, at: 0, pixel: 2, row: 4, image: 8 };
  assert.throws(() => copyPixels(host, dense, { view: new Float32Array(8), at: 0, pixel: 2, row: 4, image: 8 }, { images: 2, rows: 1, cols: 2, channels: 2 }),
    /copyPixels: to \(at 0, strides pixel 2, row 4, image 8\) reaches float 11 of a view of 8/);
  assert.throws(() => copyPixels(host, { ...dense, at: -1 }, dense, { images: 1, rows: 1, cols: 1, channels: 2 }), /copyPixels: from \(at -1/);
  assert.throws(() => copyPixels(host, dense, dense, { images: 1, rows: -1, cols: 1, channels: 2 }), /copyPixels: grid.rows must be a non-negative integer, got -1/);
  copyPixels(host, dense, { view: new Float32Array(0), at: 0, pixel: 2, row: 4, image: 8 }, { images: 0, rows: 1, cols: 2, channels: 2 });
});
