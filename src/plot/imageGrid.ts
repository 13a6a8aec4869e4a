/**
 * A grid of images: a batch of digits, two augmented views side by side,
 * reconstructions next to inputs, filters of a first conv layer.
 *
 * The whole grid is one small PNG (greyscale or RGB, a few KB for 64 MNIST
 * digits) drawn by one plotly `image` trace with crisp (unsmoothed) pixels, so
 * it can be zoomed; captions are annotations under each image, and hovering an
 * image shows its index and caption.
 */
import { figure, type Figure } from "./figure";
import { encodePng } from "./png";
import { readValues, type PlotValues } from "./values";
import { checkNonNegativeInteger, checkPositiveInteger } from "../validation/arguments";

/** Options of {@link imageGrid}. */
export interface ImageGridOptions {
  /** Shape `[n, height, width, channels]` of a flat typed or plain array input. */
  shape?: readonly [number, number, number, number];
  /** Images per row; default `min(n, 10)`. */
  columns?: number;
  /** A caption under each image, `[n]` (e.g. its label, or "view 1"). */
  captions?: readonly string[];
  /**
   * Which values map to black and white. Default `[0, 1]`, and values
   * outside it are an error (never clipped). `"all"`: the min and max over
   * all images; `"each"`: each image's own min and max (filters, feature maps).
   */
  range?: readonly [number, number] | "all" | "each";
  /** Screen pixels per image pixel; default so an image is about 84 px wide (3 for 28 x 28). */
  scale?: number;
  /** Image pixels between images; default `max(1, round(4 / scale))`. */
  gap?: number;
  title?: string;
}

const CAPTION_FONT_PX = 12;

/**
 * A figure showing images in a grid.
 *
 * Shapes: `images` `[n, height, width, 1]` (greyscale) or
 * `[n, height, width, 3]` (RGB), values in `[0, 1]` unless `options.range`
 * says otherwise; a tensor, or a flat typed array with `options.shape`.
 *
 * @example
 * const batch = xTrain.slice([0, 0, 0, 0], [32, 28, 28, 1]);
 * show(imageGrid(batch, { columns: 8, captions: labels.map(String), title: "MNIST" }));
 * batch.dispose();
 */
export function imageGrid(images: PlotValues, options: ImageGridOptions = {}): Figure {
  const { values, shape } = readValues(images, "imageGrid", "images", { shape: options.shape });
  if (shape.length !== 4 || (shape[3] !== 1 && shape[3] !== 3)) {
    throw new Error(
      `imageGrid: images must have shape [n, height, width, 1 or 3], got [${shape}]` +
        (shape.length === 1 ? " (give options.shape for a flat array)" : ""),
    );
  }
  const [n, h, w, c] = shape;
  if (n === 0 || h === 0 || w === 0) throw new Error(`imageGrid: images must not be empty, got shape [${shape}]`);
  const columns = options.columns ?? Math.min(n, 10);
  checkPositiveInteger("imageGrid", "options.columns", columns);
  if (options.captions !== undefined && options.captions.length !== n) {
    throw new Error(`imageGrid: options.captions must have shape [${n}] (one per image), got [${options.captions.length}]`);
  }
  const scale = options.scale ?? Math.max(1, Math.round(84 / Math.max(h, w)));
  checkPositiveInteger("imageGrid", "options.scale", scale);
  const gap = options.gap ?? Math.max(1, Math.round(4 / scale));
  checkNonNegativeInteger("imageGrid", "options.gap", gap);

  const size = h * w * c;
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new Error(`imageGrid: images must be finite, got ${values[bad]} in image ${Math.floor(bad / size)}`);
  // [low, high] of each image's mapping to 0..255.
  const ranges: [number, number][] = [];
  const range = options.range ?? [0, 1];
  for (let i = 0; i < n; i++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let j = i * size; j < (i + 1) * size; j++) {
      if (values[j] < lo) lo = values[j];
      if (values[j] > hi) hi = values[j];
    }
    ranges.push([lo, hi]);
  }
  if (range === "all") {
    const lo = Math.min(...ranges.map((r) => r[0]));
    const hi = Math.max(...ranges.map((r) => r[1]));
    ranges.fill([lo, hi]);
  } else if (Array.isArray(range)) {
    const [lo, hi] = range as readonly [number, number];
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) {
      throw new Error(`imageGrid: options.range must be [low, high] with low < high, "all" or "each", got ${JSON.stringify(range)}`);
    }
    ranges.forEach(([min, max], i) => {
      if (min < lo || max > hi) {
        throw new Error(
          `imageGrid: images values must lie in [${lo}, ${hi}], got [${min}, ${max}] in image ${i}; ` +
            `set options.range ("all" stretches min..max of all images, "each" of each image, or [low, high])`,
        );
      }
    });
    ranges.fill([lo, hi]);
  } else if (range !== "each") {
    throw new Error(`imageGrid: options.range must be [low, high], "all" or "each", got ${JSON.stringify(range)}`);
  }

  const rows = Math.ceil(n / columns);
  const captions = options.captions;
  // With captions, the space under each row holds one line of text.
  const captionSpace = captions ? Math.ceil((CAPTION_FONT_PX + 6) / scale) : 0;
  const rowGap = Math.max(gap, captionSpace);
  const gridW = columns * w + (columns - 1) * gap;
  const gridH = rows * h + (rows - 1) * rowGap + captionSpace;
  const pixels = new Uint8Array(gridW * gridH * c).fill(255);
  for (let i = 0; i < n; i++) {
    const [lo, hi] = ranges[i];
    const span = hi - lo;
    const left = (i % columns) * (w + gap);
    const top = Math.floor(i / columns) * (h + rowGap);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let k = 0; k < c; k++) {
          const v = values[i * size + (y * w + x) * c + k];
          // A constant image under "each"/"all" has no contrast to stretch: black.
          pixels[((top + y) * gridW + left + x) * c + k] = span > 0 ? Math.round(((v - lo) / span) * 255) : 0;
        }
      }
    }
  }
  const png = encodePng(pixels, gridW, gridH, c as 1 | 3);
  const source = `data:image/png;base64,${Buffer.from(png).toString("base64")}`;

  const centers = Array.from({ length: n }, (_, i) => ({
    x: (i % columns) * (w + gap) + (w - 1) / 2,
    y: Math.floor(i / columns) * (h + rowGap) + (h - 1) / 2,
  }));
  const titleSpace = options.title ? 40 : 0;
  const margin = 4;
  return figure(
    [
      { type: "image", source, x0: 0, y0: 0, dx: 1, dy: 1, hoverinfo: "skip" },
      {
        // Invisible markers over the images: hovering one names it.
        type: "scatter",
        mode: "markers",
        x: centers.map((p) => p.x),
        y: centers.map((p) => p.y),
        text: centers.map((_, i) => (captions ? `image ${i}: ${captions[i]}` : `image ${i}`)),
        hovertemplate: "%{text}<extra></extra>",
        marker: { size: Math.max(w, h) * scale, opacity: 0, symbol: "square" },
        showlegend: false,
      },
    ],
    {
      title: options.title,
      width: gridW * scale + 2 * margin,
      height: gridH * scale + 2 * margin + titleSpace,
      margin: { l: margin, r: margin, t: margin + titleSpace, b: margin, pad: 0 },
      showlegend: false,
      hovermode: "closest",
      xaxis: { visible: false, range: [-0.5, gridW - 0.5], showgrid: false, zeroline: false },
      yaxis: { visible: false, range: [gridH - 0.5, -0.5], showgrid: false, zeroline: false, scaleanchor: "x" },
      annotations: captions
        ? centers.map((p, i) => ({
            x: p.x,
            y: p.y + h / 2 + captionSpace / 2,
            xref: "x",
            yref: "y",
            text: captions[i],
            showarrow: false,
            font: { size: CAPTION_FONT_PX, color: "#333" },
          }))
        : [],
    },
    { responsive: false, displayModeBar: false },
  );
}
