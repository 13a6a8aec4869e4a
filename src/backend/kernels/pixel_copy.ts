/**
 * Copies a grid of pixels of `C` floats between two NHWC layouts with their
 * own strides: an image into the interior of a padded one and back (the
 * convolution gradients' padded copies), or a dense phase into every
 * `stride`-th pixel of a gradient (the strided input gradient's phases). On
 * wasm it is a generated loop of vector copies; elsewhere plain loops.
 *
 * Why: the input gradient of the small ResNet's 1x1 stride-2 projection
 * ([128,14,14,32] -> [128,28,28,16]) interleaved its phase in a JavaScript
 * loop that took 3.0-3.9 ms of the kernel's 5.3-5.7 ms (401,408 floats);
 * this loop copies them in a fraction of that.
 *
 *   to[at + n*image + r*row + c*pixel + k] = from[at + n*image + r*row + c*pixel + k],  k < C,
 *
 * each side with its own `at`, `image`, `row` and `pixel` (in floats), for
 * `n < images`, `r < rows`, `c < cols`.
 */
import { addLocalTo, addTo, I32, loopUntil, op, SimdFunction, simdKernels, wasmBackendMemory } from "../wasm_simd";
import type { KernelHost } from "./host";

/** One side of a copy: a view and its strides, in floats. */
export interface PixelLayout {
  /** The data (a view of the backend's memory on wasm). */
  view: Float32Array;
  /** Index of the first pixel's first float. */
  at: number;
  /** Floats between consecutive pixels of a row (`C` when dense). */
  pixel: number;
  /** Floats between consecutive rows. */
  row: number;
  /** Floats between consecutive images. */
  image: number;
}

/** The grid copied: `images` x `rows` x `cols` pixels of `channels` floats. */
export interface PixelGrid {
  images: number;
  rows: number;
  cols: number;
  channels: number;
}

// Parameters (byte addresses and byte strides), then locals.
const SRC = 0, DST = 1, IMGS = 2, ROWS = 3, COLS = 4, SP = 5, SR = 6, SI = 7, DP = 8, DR = 9, DI = 10;
const IMG = 11, R = 12, COL = 13, S_IMG = 14, D_IMG = 15, S_ROW = 16, D_ROW = 17, SA = 18, DA = 19;

/**
 * `copyPixels(src, dst, images, rows, cols, srcPixel, srcRow, srcImage,
 * dstPixel, dstRow, dstImage)` for pixels of `C` floats: byte addresses and
 * byte strides. `C / 4` vector copies and `C % 4` float copies per pixel.
 */
export function copyPixelsSimd(C: number): SimdFunction {
  if (!Number.isInteger(C) || C < 1) throw new Error(`copyPixelsSimd: C must be a positive integer, got ${C}`);
  const { localGet: get, localSet: set } = op;
  const pixel: number[][] = [
    ...Array.from({ length: C >> 2 }, (_, v) => [get(DA), get(SA), op.v128Load(16 * v), op.v128Store(16 * v)]).flat(),
    ...Array.from({ length: C & 3 }, (_, k) => [get(DA), get(SA), op.f32Load(16 * (C >> 2) + 4 * k), op.f32Store(16 * (C >> 2) + 4 * k)]).flat(),
  ];
  return {
    name: "copyPixels",
    params: Array.from({ length: 11 }, () => I32),
    results: [],
    locals: Array.from({ length: DA - IMG + 1 }, () => I32),
    body: [
      get(SRC), set(S_IMG), get(DST), set(D_IMG),
      op.i32Const(0), set(IMG),
      ...loopUntil(IMG, [get(IMGS)], [...addTo(IMG, 1), ...addLocalTo(S_IMG, SI), ...addLocalTo(D_IMG, DI)], [
        get(S_IMG), set(S_ROW), get(D_IMG), set(D_ROW),
        op.i32Const(0), set(R),
        ...loopUntil(R, [get(ROWS)], [...addTo(R, 1), ...addLocalTo(S_ROW, SR), ...addLocalTo(D_ROW, DR)], [
          get(S_ROW), set(SA), get(D_ROW), set(DA),
          op.i32Const(0), set(COL),
          ...loopUntil(COL, [get(COLS)], [...addTo(COL, 1), ...addLocalTo(SA, SP), ...addLocalTo(DA, DP)], pixel),
        ]),
      ]),
    ],
  };
}

/** Throws unless every float of `grid` in `side` lies inside its view. */
function checkInside(where: string, name: string, side: PixelLayout, grid: PixelGrid): void {
  const { images, rows, cols, channels } = grid;
  const last = side.at + (images - 1) * side.image + (rows - 1) * side.row + (cols - 1) * side.pixel + channels - 1;
  const strides = [side.at, side.pixel, side.row, side.image];
  if (strides.some((v) => !Number.isInteger(v) || v < 0) || last >= side.view.length) {
    throw new Error(`${where}: ${name} (at ${side.at}, strides pixel ${side.pixel}, row ${side.row}, image ${side.image}) reaches float ${last} of a view of ${side.view.length}`);
  }
}

/**
 * Copies `grid` from `from` to `to` (see the module comment). On wasm both
 * views must be views of the backend's memory; the two must not overlap.
 *
 * @example
 * // every 2nd pixel of x [N,H,W,C] into xs [N,Ho,Wo,C]
 * copyPixels(host, { view: xv, at: 0, pixel: 2 * C, row: 2 * W * C, image: H * W * C },
 *   { view: xsv, at: 0, pixel: C, row: Wo * C, image: Ho * Wo * C }, { images: N, rows: Ho, cols: Wo, channels: C });
 */
export function copyPixels(host: KernelHost, from: PixelLayout, to: PixelLayout, grid: PixelGrid): void {
  const { images, rows, cols, channels: C } = grid;
  for (const [name, v] of Object.entries(grid)) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`copyPixels: grid.${name} must be a non-negative integer, got ${v}`);
  }
  if (images === 0 || rows === 0 || cols === 0 || C === 0) return;
  checkInside("copyPixels", "from", from, grid);
  checkInside("copyPixels", "to", to, grid);
  const memory = host.backendName === "wasm" ? wasmBackendMemory(host.backend) : null;
  const onHeap = memory !== null && from.view.buffer === memory.buffer && to.view.buffer === memory.buffer;
  const kernels = onHeap ? simdKernels(host.backend, `copyPixels:${C}`, () => [copyPixelsSimd(C)]) : null;
  if (kernels !== null) {
    const bytes = (side: PixelLayout) => [4 * side.pixel, 4 * side.row, 4 * side.image];
    (kernels.copyPixels as (...args: number[]) => void)(
      from.view.byteOffset + 4 * from.at, to.view.byteOffset + 4 * to.at, images, rows, cols, ...bytes(from), ...bytes(to),
    );
    return;
  }
  for (let n = 0; n < images; n++) {
    for (let r = 0; r < rows; r++) {
      let s = from.at + n * from.image + r * from.row;
      let d = to.at + n * to.image + r * to.row;
      for (let c = 0; c < cols; c++, s += from.pixel, d += to.pixel) {
        for (let k = 0; k < C; k++) to.view[d + k] = from.view[s + k];
      }
    }
  }
}
