/**
 * Float64 plain-loop references for convolutions and their gradients, written
 * straight from the definitions (NHWC, TensorFlow's index convention), for
 * the kernel tests. Slow by design; use on small shapes only.
 */

/** A convolution case: shapes and attributes. */
export interface ConvCase {
  x: [number, number, number, number];
  /** Conv2D `[Kh,Kw,Ci,Co]`; depthwise `[Kh,Kw,Ci,M]`. */
  filter: [number, number, number, number];
  strides: [number, number];
  dilations: [number, number];
  pad: "same" | "valid" | number | [[number, number], [number, number], [number, number], [number, number]];
  dimRoundingMode?: "floor" | "round" | "ceil";
}

/** Output size and top/left padding of one case, computed independently of tfjs. */
export interface RefGeometry {
  outHeight: number;
  outWidth: number;
  padTop: number;
  padLeft: number;
}

function roundWith(v: number, mode: ConvCase["dimRoundingMode"]): number {
  if (mode === "round") return Math.round(v);
  if (mode === "ceil") return Math.ceil(v);
  if (mode === "floor") return Math.floor(v);
  return Math.trunc(v);
}

/** TensorFlow's output size and padding rules (tfjs's numeric-pad rule uses the height's filter and stride for both axes). */
export function refGeometry(c: ConvCase): RefGeometry {
  const [, H, W] = c.x;
  const [Kh, Kw] = c.filter;
  const [sh, sw] = c.strides;
  const [dh, dw] = c.dilations;
  const eh = (Kh - 1) * dh + 1;
  const ew = (Kw - 1) * dw + 1;
  if (c.pad === "same") {
    const outHeight = Math.ceil(H / sh);
    const outWidth = Math.ceil(W / sw);
    const ph = Math.max(0, (outHeight - 1) * sh + eh - H);
    const pw = Math.max(0, (outWidth - 1) * sw + ew - W);
    return { outHeight, outWidth, padTop: Math.floor(ph / 2), padLeft: Math.floor(pw / 2) };
  }
  if (c.pad === "valid") {
    return { outHeight: Math.ceil((H - eh + 1) / sh), outWidth: Math.ceil((W - ew + 1) / sw), padTop: 0, padLeft: 0 };
  }
  if (typeof c.pad === "number") {
    const p = c.pad;
    return {
      outHeight: roundWith((H - eh + 2 * p) / sh + 1, c.dimRoundingMode),
      outWidth: roundWith((W - eh + 2 * p) / sh + 1, c.dimRoundingMode),
      padTop: p,
      padLeft: p,
    };
  }
  const [[,], [t, b], [l, r]] = c.pad;
  return {
    outHeight: roundWith((H - eh + t + b) / sh + 1, c.dimRoundingMode),
    outWidth: roundWith((W - ew + l + r) / sw + 1, c.dimRoundingMode),
    padTop: t,
    padLeft: l,
  };
}

/**
 * Visits every (output pixel, filter tap) pair whose input pixel is inside
 * the image: `visit(n, oh, ow, kh, kw, ih, iw)`.
 */
export function forEachTap(
  c: ConvCase,
  g: RefGeometry,
  visit: (n: number, oh: number, ow: number, kh: number, kw: number, ih: number, iw: number) => void,
): void {
  const [N, H, W] = c.x;
  const [Kh, Kw] = c.filter;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      for (let ow = 0; ow < g.outWidth; ow++) {
        for (let kh = 0; kh < Kh; kh++) {
          const ih = oh * c.strides[0] + kh * c.dilations[0] - g.padTop;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < Kw; kw++) {
            const iw = ow * c.strides[1] + kw * c.dilations[1] - g.padLeft;
            if (iw < 0 || iw >= W) continue;
            visit(n, oh, ow, kh, kw, ih, iw);
          }
        }
      }
    }
  }
}

/** Conv2D forward `[N,Ho,Wo,Co]`. */
export function conv2dRef(c: ConvCase, x: ArrayLike<number>, f: ArrayLike<number>): Float64Array {
  const g = refGeometry(c);
  const [, H, W, Ci] = c.x;
  const [, Kw, , Co] = c.filter;
  const y = new Float64Array(c.x[0] * g.outHeight * g.outWidth * Co);
  forEachTap(c, g, (n, oh, ow, kh, kw, ih, iw) => {
    const yo = ((n * g.outHeight + oh) * g.outWidth + ow) * Co;
    for (let ci = 0; ci < Ci; ci++) {
      const xv = x[((n * H + ih) * W + iw) * Ci + ci];
      const fo = ((kh * Kw + kw) * Ci + ci) * Co;
      for (let co = 0; co < Co; co++) y[yo + co] += xv * f[fo + co];
    }
  });
  return y;
}

/** Conv2D filter gradient `[Kh,Kw,Ci,Co]`. */
export function conv2dFilterGradRef(c: ConvCase, x: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  const g = refGeometry(c);
  const [, H, W, Ci] = c.x;
  const [Kh, Kw, , Co] = c.filter;
  const dw = new Float64Array(Kh * Kw * Ci * Co);
  forEachTap(c, g, (n, oh, ow, kh, kw, ih, iw) => {
    const dyo = ((n * g.outHeight + oh) * g.outWidth + ow) * Co;
    for (let ci = 0; ci < Ci; ci++) {
      const xv = x[((n * H + ih) * W + iw) * Ci + ci];
      const fo = ((kh * Kw + kw) * Ci + ci) * Co;
      for (let co = 0; co < Co; co++) dw[fo + co] += xv * dy[dyo + co];
    }
  });
  return dw;
}

/** Conv2D input gradient `[N,H,W,Ci]`. */
export function conv2dInputGradRef(c: ConvCase, dy: ArrayLike<number>, f: ArrayLike<number>): Float64Array {
  const g = refGeometry(c);
  const [N, H, W, Ci] = c.x;
  const [, Kw, , Co] = c.filter;
  const dx = new Float64Array(N * H * W * Ci);
  forEachTap(c, g, (n, oh, ow, kh, kw, ih, iw) => {
    const dyo = ((n * g.outHeight + oh) * g.outWidth + ow) * Co;
    for (let ci = 0; ci < Ci; ci++) {
      const fo = ((kh * Kw + kw) * Ci + ci) * Co;
      let s = 0;
      for (let co = 0; co < Co; co++) s += dy[dyo + co] * f[fo + co];
      dx[((n * H + ih) * W + iw) * Ci + ci] += s;
    }
  });
  return dx;
}

/** Depthwise forward `[N,Ho,Wo,Ci*M]`. */
export function depthwiseRef(c: ConvCase, x: ArrayLike<number>, f: ArrayLike<number>): Float64Array {
  const g = refGeometry(c);
  const [, H, W, Ci] = c.x;
  const [, Kw, , M] = c.filter;
  const y = new Float64Array(c.x[0] * g.outHeight * g.outWidth * Ci * M);
  forEachTap(c, g, (n, oh, ow, kh, kw, ih, iw) => {
    for (let ci = 0; ci < Ci; ci++) {
      for (let m = 0; m < M; m++) {
        y[((n * g.outHeight + oh) * g.outWidth + ow) * Ci * M + ci * M + m] +=
          x[((n * H + ih) * W + iw) * Ci + ci] * f[((kh * Kw + kw) * Ci + ci) * M + m];
      }
    }
  });
  return y;
}

/** Depthwise filter gradient `[Kh,Kw,Ci,M]`. */
export function depthwiseFilterGradRef(c: ConvCase, x: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  const g = refGeometry(c);
  const [, H, W, Ci] = c.x;
  const [Kh, Kw, , M] = c.filter;
  const dw = new Float64Array(Kh * Kw * Ci * M);
  forEachTap(c, g, (n, oh, ow, kh, kw, ih, iw) => {
    for (let ci = 0; ci < Ci; ci++) {
      for (let m = 0; m < M; m++) {
        dw[((kh * Kw + kw) * Ci + ci) * M + m] +=
          x[((n * H + ih) * W + iw) * Ci + ci] * dy[((n * g.outHeight + oh) * g.outWidth + ow) * Ci * M + ci * M + m];
      }
    }
  });
  return dw;
}

/** Depthwise input gradient `[N,H,W,Ci]`. */
export function depthwiseInputGradRef(c: ConvCase, dy: ArrayLike<number>, f: ArrayLike<number>): Float64Array {
  const g = refGeometry(c);
  const [N, H, W, Ci] = c.x;
  const [, Kw, , M] = c.filter;
  const dx = new Float64Array(N * H * W * Ci);
  forEachTap(c, g, (n, oh, ow, kh, kw, ih, iw) => {
    for (let ci = 0; ci < Ci; ci++) {
      for (let m = 0; m < M; m++) {
        dx[((n * H + ih) * W + iw) * Ci + ci] +=
          dy[((n * g.outHeight + oh) * g.outWidth + ow) * Ci * M + ci * M + m] * f[((kh * Kw + kw) * Ci + ci) * M + m];
      }
    }
  });
  return dx;
}

/** Max |a - b| divided by max |b| (1 when b is all zeros); the tests' error measure. */
export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxRelError: lengths differ, ${a.length} vs ${b.length}`);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / (scale || 1);
}

/** `n` floats uniform in [-1, 1) from a generator of [0, 1) floats. */
export function randomValues(n: number, next: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = next() * 2 - 1;
  return out;
}
