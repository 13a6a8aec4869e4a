import { test } from "node:test";
import assert from "node:assert/strict";
import { pixelMajorFilterGradSimd } from "../../../src/backend/kernels/conv2d_filter_grad_simd";
import { simdKernelsOn } from "../../../src/backend/wasm_simd";
import { createRng } from "../../../src/data/random";

test("pixelMajorFilterGradSimd computes patches^T dy against float64 sums, for several tap and channel counts", () => {
  const rng = createRng(5);
  for (const [taps, Co, pixels] of [[9, 32, 300], [1, 4, 7], [27, 64, 50], [8, 16, 1], [9, 12, 0]]) {
    const memory = new WebAssembly.Memory({ initial: 4 });
    const fn = simdKernelsOn(memory, `test:${taps}:${Co}`, () => [pixelMajorFilterGradSimd(taps, Co)])!.filterGrad as (...a: number[]) => void;
    const patches = new Float32Array(memory.buffer, 0, pixels * taps);
    const dyAt = 4 * pixels * taps + 64; // a 16-byte-aligned gap after the patches
    const dy = new Float32Array(memory.buffer, dyAt, pixels * Co);
    const out = new Float32Array(memory.buffer, dyAt + 4 * pixels * Co + 16, taps * Co);
    patches.forEach((_, i) => (patches[i] = rng.normal()));
    dy.forEach((_, i) => (dy[i] = rng.normal()));
    out.fill(123); // overwritten, not accumulated
    fn(patches.byteOffset, dy.byteOffset, out.byteOffset, pixels);
    for (let q = 0; q < taps; q++) {
      for (let c = 0; c < Co; c++) {
        let want = 0;
        for (let p = 0; p < pixels; p++) want += patches[p * taps + q] * dy[p * Co + c];
        assert.ok(Math.abs(out[q * Co + c] - want) < 1e-4 * (1 + Math.abs(want)), `taps ${taps}, Co ${Co}: [${q}, ${c}] ${out[q * Co + c]} vs ${want}`);
      }
    }
  }
  assert.throws(() => pixelMajorFilterGradSimd(9, 6), /pixelMajorFilterGradSimd: Co must be a multiple of 4 up to 64 and taps a positive integer, got Co 6, taps 9/);
});
