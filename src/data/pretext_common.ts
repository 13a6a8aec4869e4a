/**
 * What the image pretext tasks share: the check of an image batch, and the
 * exact crop of square patches at given positions, done as one `tf.gather`
 * on the flattened batch so that a patch is a copy of source pixels (no
 * interpolation, the same on every backend).
 *
 * Internal to the library: the public builders are in pretext_*.ts.
 */
import { tf } from "../backend/tf";
import { checkRank, describe } from "../validation/arguments";

/** Checks that `images` is a float32 `[batch, height, width, channels]` tensor with no empty axis. */
export function checkImages(fn: string, images: unknown): asserts images is tf.Tensor4D {
  checkRank(fn, "images", images, 4, "float32");
  if (images.shape.some((d) => d < 1)) {
    throw new Error(`${fn}: images must have at least one image, row, column and channel, got ${describe(images)}`);
  }
}

/**
 * Square `size` x `size` crops of `images`: crop k is taken from image
 * `sources[k]` with its top-left pixel at row `origins[2k]`, column
 * `origins[2k + 1]`. The caller has checked that every crop lies inside its
 * image.
 *
 * Shapes: `images` `[batch, height, width, channels]` -> `[sources.length, size, size, channels]`.
 */
export function cropPatches(images: tf.Tensor4D, sources: ArrayLike<number>, origins: ArrayLike<number>, size: number): tf.Tensor4D {
  const [, height, width, channels] = images.shape;
  const n = sources.length;
  const perCrop = size * size * channels;
  const index = new Int32Array(n * perCrop);
  let k = 0;
  for (let crop = 0; crop < n; crop++) {
    const top = origins[2 * crop];
    const left = origins[2 * crop + 1];
    for (let i = 0; i < size; i++) {
      const rowStart = ((sources[crop] * height + top + i) * width + left) * channels;
      for (let j = 0; j < size * channels; j++) index[k++] = rowStart + j;
    }
  }
  return tf.tidy(() => {
    const flat = tf.reshape(images, [-1]);
    return tf.reshape(tf.gather(flat, tf.tensor1d(index, "int32")), [n, size, size, channels]) as tf.Tensor4D;
  });
}
