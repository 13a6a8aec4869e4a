/**
 * What an augmentation does to digits: each row one image, first as it is,
 * then `views` independent augmented views of it.
 */
import { tf } from "../backend/tf";
import type { Augmentation } from "../augment/augmentation";
import { createRng } from "../data/random";
import type { Figure } from "./figure";
import { imageGrid } from "./imageGrid";
import { checkInteger, checkPositiveInteger } from "../validation/arguments";

/** Options of {@link viewsGrid}. */
export interface ViewsGridOptions {
  /** Augmented views per image; default 4. */
  views?: number;
  /** Seed of the augmentation draws; default 0. */
  seed?: number;
  title?: string;
  /** Passed to `imageGrid`: which values map to black and white; default `[0, 1]`. */
  range?: readonly [number, number] | "all" | "each";
}

/**
 * A figure with one row per image: the original, then `views` augmented views
 * (view k is `augmentation(images, seed_k)` for seeds forked from
 * `options.seed`, so the figure is reproducible). Captions name the columns.
 *
 * Shapes: `images` `[n, height, width, channels]` (channels 1 or 3), a few
 * images (n <= 32).
 *
 * @example
 * const some = xTrain.slice([0, 0, 0, 0], [6, 28, 28, 1]);
 * show(viewsGrid(some, simclrAugment(), { views: 5, seed: 1, title: "SimCLR views" }));
 */
export function viewsGrid(images: tf.Tensor4D, augmentation: Augmentation, options: ViewsGridOptions = {}): Figure {
  const fn = "viewsGrid";
  if (!(images instanceof tf.Tensor) || images.rank !== 4) {
    throw new Error(`${fn}: images must be a tensor of shape [n, height, width, channels], got ${images instanceof tf.Tensor ? `[${images.shape}]` : typeof images}`);
  }
  const n = images.shape[0];
  if (n < 1 || n > 32) throw new Error(`${fn}: images must hold 1 to 32 images, got shape [${images.shape}]`);
  if (typeof augmentation !== "function") throw new Error(`${fn}: augmentation must be a function (images, seed) => images, got ${typeof augmentation}`);
  const views = options.views ?? 4;
  checkPositiveInteger(fn, "options.views", views);
  const seed = options.seed ?? 0;
  checkInteger(fn, "options.seed", seed);
  const rng = createRng(seed);
  const columns = views + 1;
  const grid = tf.tidy(() => {
    const drawn = [images];
    for (let v = 0; v < views; v++) {
      const view = augmentation(images, rng.fork());
      if (view.shape.join() !== images.shape.join()) {
        throw new Error(`${fn}: augmentation must return shape [${images.shape}], got [${view.shape}]`);
      }
      drawn.push(view);
    }
    // [columns, n, ...] -> [n, columns, ...]: row i holds image i and its views.
    const stacked = tf.stack(drawn, 1);
    const [, height, width, channels] = images.shape;
    return tf.reshape(stacked, [n * columns, height, width, channels]) as tf.Tensor4D;
  });
  try {
    const captions = Array.from({ length: n * columns }, (_, i) => {
      if (i >= columns) return "";
      return i === 0 ? "original" : `view ${i}`;
    });
    return imageGrid(grid, { columns, captions, title: options.title, range: options.range });
  } finally {
    grid.dispose();
  }
}
