/**
 * Random resized crop, the augmentation SimCLR found most important (Chen et
 * al. 2020, "A Simple Framework for Contrastive Learning of Visual
 * Representations", Sec. 3 and Appendix A; sampling as torchvision's
 * `RandomResizedCrop`).
 */
import { tf } from "../backend/tf";
import { createRng } from "../data/random";
import { type Augmentation, checkImages, checkInterval, uniform } from "./augmentation";
import { checkInteger, checkNonNegativeInteger, checkPositiveInteger } from "../validation/arguments";

/** Options of {@link randomResizedCrop}. */
export interface RandomResizedCropOptions {
  /** Range of the crop's area as a fraction of the image's; default `[0.08, 1]` (torchvision). */
  scale?: readonly [number, number];
  /** Range of the crop's aspect ratio width / height (drawn log-uniformly); default `[3/4, 4/3]`. */
  ratio?: readonly [number, number];
}

const ATTEMPTS = 10;

function resolve(fn: string, options: RandomResizedCropOptions): { scale: readonly [number, number]; ratio: readonly [number, number] } {
  const scale = options.scale ?? [0.08, 1];
  const ratio = options.ratio ?? [3 / 4, 4 / 3];
  checkInterval(fn, "options.scale", scale, 0, 1);
  if (!(scale[0] > 0)) throw new Error(`${fn}: options.scale must be [low, high] with 0 < low, got ${JSON.stringify(scale)}`);
  checkInterval(fn, "options.ratio", ratio, 0, Infinity);
  if (!(ratio[0] > 0)) throw new Error(`${fn}: options.ratio must be [low, high] with 0 < low, got ${JSON.stringify(ratio)}`);
  return { scale, ratio };
}

/**
 * The crop boxes {@link randomResizedCrop} uses for a seed: per image, area
 * fraction `s ~ U(scale)` and ratio `r = exp(U(log ratio))`, so the crop is
 * `sqrt(s r) W` wide and `sqrt(s / r) H` high; a draw that does not fit is
 * redrawn up to 10 times, then the whole image is used (torchvision's rule
 * without its centre-crop fallback). The position is uniform over where the
 * box fits. Boxes are `[y1, x1, y2, x2]` in `[0, 1]` (fractions of the image's
 * pixel-centre span), as `tf.image.cropAndResize` takes them.
 *
 * Shapes: returns `[batch * 4]` (row-major `[batch, 4]`).
 *
 * @example
 * const boxes = randomResizedCropBoxes(256, 28, 28, { scale: [0.4, 1] }, 7);
 */
export function randomResizedCropBoxes(
  batch: number,
  height: number,
  width: number,
  options: RandomResizedCropOptions,
  seed: number,
): Float32Array {
  const fn = "randomResizedCropBoxes";
  checkNonNegativeInteger(fn, "batch", batch);
  checkPositiveInteger(fn, "height", height);
  checkPositiveInteger(fn, "width", width);
  checkInteger(fn, "seed", seed);
  const { scale, ratio } = resolve(fn, options);
  const rng = createRng(seed);
  const logRatio: [number, number] = [Math.log(ratio[0]), Math.log(ratio[1])];
  const boxes = new Float32Array(batch * 4);
  for (let i = 0; i < batch; i++) {
    let h = 1;
    let w = 1;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const s = uniform(rng.next, scale);
      const r = Math.exp(uniform(rng.next, logRatio));
      // Fractions of each side: (w W) / (h H) = r and w h = s.
      const wf = Math.sqrt((s * r * height) / width);
      const hf = Math.sqrt((s * width) / (r * height));
      if (wf <= 1 && hf <= 1) {
        w = wf;
        h = hf;
        break;
      }
    }
    const y1 = (1 - h) * rng.next();
    const x1 = (1 - w) * rng.next();
    boxes.set([y1, x1, y1 + h, x1 + w], i * 4);
  }
  return boxes;
}

/**
 * Random resized crop: each image is cropped to its own random box (see
 * {@link randomResizedCropBoxes}) and resized back to the input size with
 * bilinear interpolation, one batched `tf.image.cropAndResize`. Values stay in
 * the input's range (bilinear weights are a convex combination). `scale: [1, 1]`
 * with `ratio: [1, 1]` on a square image is the identity.
 *
 * Shapes: `[batch, height, width, channels]` -> the same.
 *
 * @example
 * const crop = randomResizedCrop({ scale: [0.4, 1] });
 * const views = crop(x, 7);
 */
export function randomResizedCrop(options: RandomResizedCropOptions = {}): Augmentation {
  const fn = "randomResizedCrop";
  const resolved = resolve(fn, options);
  return (images, seed) => {
    checkImages(fn, images, seed);
    const [batch, height, width] = images.shape;
    const boxes = randomResizedCropBoxes(batch, height, width, resolved, seed);
    return tf.tidy(() =>
      tf.image.cropAndResize(
        images,
        tf.tensor2d(boxes, [batch, 4]),
        tf.range(0, batch, 1, "int32") as tf.Tensor1D,
        [height, width],
        "bilinear",
      ),
    );
  };
}
