/**
 * Mixing two images of a batch: mixup (Zhang, Cisse, Dauphin & Lopez-Paz
 * 2018, "mixup: Beyond Empirical Risk Minimization", Sec. 2) and CutMix (Yun,
 * Han, Oh, Chun, Choe & Yoo 2019, "CutMix: Regularization Strategy to Train
 * Strong Classifiers with Localizable Features", Sec. 3.1), as seeded batched
 * ops. Each image i is mixed with a partner `partners[i]` (a random
 * permutation of the batch, as both papers' code shuffles the batch) with
 * weight `lambdas[i]` on its own content; what the loss needs (partners and
 * the effective lambdas) comes back with the images, and {@link mixLabels}
 * mixes labels with the same weights.
 */
import { tf } from "../backend/tf";
import { createRng, type Rng } from "../data/random";
import { type Augmentation, checkImages } from "./augmentation";
import {
  checkInteger,
  checkMatrix,
  checkNonNegativeInteger,
  checkNonNegativeNumber,
  checkOneOf,
  checkPositiveInteger,
  checkPositiveNumber,
  describe,
} from "../validation/arguments";

/**
 * How the images of a batch were mixed: image i's output is its own content
 * with weight `lambdas[i]` and partner `partners[i]`'s with `1 - lambdas[i]`.
 */
export interface MixAssignment {
  /** `[batch]`: the index of the image mixed into image i (may be i itself: the permutation can have fixed points). */
  readonly partners: Int32Array;
  /** `[batch]` in [0, 1]: the share of image i's own content; 1 is unmixed. For CutMix, the actual pixel share outside the box. */
  readonly lambdas: Float32Array;
}

/** A mixed batch and how it was mixed. */
export interface MixedBatch extends MixAssignment {
  /** `[batch, height, width, channels]`: the mixed images. */
  readonly images: tf.Tensor4D;
}

/** A seeded batch mixing: `[batch, height, width, channels]` images -> {@link MixedBatch}. */
export type BatchMix = (images: tf.Tensor4D, seed: number) => MixedBatch;

/** Options shared by {@link mixup} and {@link cutMix}. */
export interface MixOptions {
  /**
   * lambda ~ Beta(alpha, alpha); default 1 (uniform, the papers' CIFAR
   * setting; mixup uses 0.2 on ImageNet). `alpha: 0` is the identity (lambda
   * = 1, as in mixup's reference code): the zero strength.
   */
  alpha?: number;
  /**
   * `"batch"` (default): one lambda (and for CutMix one box) for the whole
   * batch, as both papers' code does; `"example"`: one per image, as i-Mix
   * mixes its anchors.
   */
  per?: "batch" | "example";
  /**
   * lambda <- max(lambda, 1 - lambda) before use, so each image keeps the
   * larger share of itself; default false (neither paper does this). Useful
   * when a mixed image serves as a view of its own image.
   */
  dominant?: boolean;
}

interface ResolvedMix {
  alpha: number;
  per: "batch" | "example";
  dominant: boolean;
}

function resolve(fn: string, options: MixOptions): ResolvedMix {
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object {alpha?, per?, dominant?}, got ${describe(options)}`);
  const alpha = options.alpha ?? 1;
  checkNonNegativeNumber(fn, "options.alpha", alpha);
  const per = options.per ?? "batch";
  checkOneOf(fn, "options.per", per, ["batch", "example"] as const);
  const dominant = options.dominant ?? false;
  if (typeof dominant !== "boolean") throw new Error(`${fn}: options.dominant must be a boolean, got ${describe(dominant)}`);
  return { alpha, per, dominant };
}

/** log of a Gamma(shape, 1) draw (Marsaglia & Tsang 2000; shape < 1 boosted by U^(1/shape)), in log space so tiny shapes do not underflow. */
function logGammaSample(rng: Rng, shape: number): number {
  if (shape < 1) return logGammaSample(rng, shape + 1) + Math.log(1 - rng.next()) / shape;
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = rng.normal();
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    const u = 1 - rng.next();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return Math.log(d) + Math.log(v);
  }
}

/**
 * A draw from Beta(a, b) as `X / (X + Y)` with `X ~ Gamma(a)`, `Y ~ Gamma(b)`,
 * computed from the logs so that small shapes (mixup's 0.2) stay exact.
 *
 * @example
 * const lambda = sampleBeta(createRng(7), 0.2, 0.2);
 */
export function sampleBeta(rng: Rng, a: number, b: number): number {
  checkPositiveNumber("sampleBeta", "a", a);
  checkPositiveNumber("sampleBeta", "b", b);
  const lx = logGammaSample(rng, a);
  const ly = logGammaSample(rng, b);
  return 1 / (1 + Math.exp(ly - lx));
}

/** The lambdas of a batch: `batch` values drawn (once or per image) from Beta(alpha, alpha), 1 at alpha 0. */
function drawLambdas(rng: Rng, batch: number, { alpha, per, dominant }: ResolvedMix): Float64Array {
  const draw = (): number => {
    if (alpha === 0) return 1;
    const l = sampleBeta(rng, alpha, alpha);
    return dominant ? Math.max(l, 1 - l) : l;
  };
  if (per === "example") return Float64Array.from({ length: batch }, draw);
  return new Float64Array(batch).fill(draw());
}

/**
 * The partners and lambdas {@link mixup} uses for a seed: a random
 * permutation of the batch, then lambda ~ Beta(alpha, alpha) once for the
 * batch or once per image (`options.per`).
 *
 * @example
 * const { partners, lambdas } = mixupAssignment(8, { alpha: 1 }, 7);
 */
export function mixupAssignment(batch: number, options: MixOptions, seed: number): MixAssignment {
  const fn = "mixupAssignment";
  checkNonNegativeInteger(fn, "batch", batch);
  checkInteger(fn, "seed", seed);
  const resolved = resolve(fn, options);
  const rng = createRng(seed);
  const partners = rng.permutation(batch);
  return { partners, lambdas: Float32Array.from(drawLambdas(rng, batch, resolved)) };
}

/**
 * mixup (Zhang et al. 2018): `x~_i = lambda_i x_i + (1 - lambda_i) x_partner(i)`,
 * lambda ~ Beta(alpha, alpha) per batch (the paper's code; default) or per
 * image. Pixels stay in the inputs' range (a convex combination). `alpha: 0`
 * is the identity (lambdas all 1).
 *
 * Shapes: `[batch, height, width, channels]` -> `{ images` of that shape,
 * `partners` `[batch]`, `lambdas` `[batch] }`.
 *
 * @example
 * const mixed = mixup({ alpha: 0.2 })(x, step);
 * const targets = mixLabels(oneHotLabels, mixed);   // same lambdas for the labels
 * mixed.images.dispose();
 */
export function mixup(options: MixOptions = {}): BatchMix {
  const fn = "mixup";
  const resolved = resolve(fn, options);
  return (images, seed) => {
    checkImages(fn, images, seed);
    const batch = images.shape[0];
    const { partners, lambdas } = mixupAssignment(batch, resolved, seed);
    if (resolved.alpha === 0) return { images: images.clone(), partners, lambdas };
    const mixed = tf.tidy(() => {
      const own = tf.tensor4d(lambdas, [batch, 1, 1, 1]);
      const other = tf.gather(images, tf.tensor1d(partners, "int32"));
      return tf.add(tf.mul(images, own), tf.mul(other, tf.sub(1, own))) as tf.Tensor4D;
    });
    return { images: mixed, partners, lambdas };
  };
}

/** What {@link cutMixAssignment} returns: the mixing plus each image's pasted box. */
export interface CutMixAssignment extends MixAssignment {
  /** `[batch * 4]` (row-major `[batch, 4]`): integer pixel boxes `[y1, x1, y2, x2)` (end exclusive) inside the image, where the partner is pasted; empty when y1 = y2 or x1 = x2. */
  readonly boxes: Int32Array;
}

/**
 * The partners, boxes and effective lambdas {@link cutMix} uses for a seed:
 * a random permutation of the batch; lambda ~ Beta(alpha, alpha) (once for
 * the batch or per image); a box of `round(H sqrt(1 - lambda))` x
 * `round(W sqrt(1 - lambda))` pixels whose centre pixel is uniform over the
 * image, clipped at the border (CutMix, Sec. 3.1); and the effective lambda
 * `1 - box area / (H W)`, the pixel share the image actually keeps (larger
 * than the drawn lambda when the box is clipped), as the paper adjusts it.
 * With `per: "batch"` every image gets the same box.
 *
 * @example
 * const { partners, lambdas, boxes } = cutMixAssignment(8, 28, 28, { alpha: 1 }, 7);
 */
export function cutMixAssignment(batch: number, height: number, width: number, options: MixOptions, seed: number): CutMixAssignment {
  const fn = "cutMixAssignment";
  checkNonNegativeInteger(fn, "batch", batch);
  checkPositiveInteger(fn, "height", height);
  checkPositiveInteger(fn, "width", width);
  checkInteger(fn, "seed", seed);
  const resolved = resolve(fn, options);
  const rng = createRng(seed);
  const partners = rng.permutation(batch);
  const drawn = drawLambdas(rng, batch, resolved);
  const boxes = new Int32Array(batch * 4);
  const lambdas = new Float32Array(batch);
  const box = (lambda: number): [number, number, number, number] => {
    const cut = Math.sqrt(1 - lambda);
    const h = Math.round(height * cut);
    const w = Math.round(width * cut);
    const cy = rng.int(height);
    const cx = rng.int(width);
    const top = cy - Math.floor(h / 2);
    const left = cx - Math.floor(w / 2);
    return [Math.max(0, top), Math.max(0, left), Math.min(height, top + h), Math.min(width, left + w)];
  };
  const shared = resolved.per === "batch" && batch > 0 ? box(drawn[0]) : undefined;
  for (let i = 0; i < batch; i++) {
    const [y1, x1, y2, x2] = shared ?? box(drawn[i]);
    boxes.set([y1, x1, y2, x2], i * 4);
    lambdas[i] = 1 - ((y2 - y1) * (x2 - x1)) / (height * width);
  }
  return { partners, lambdas, boxes };
}

/**
 * CutMix (Yun et al. 2019, Sec. 3.1): a box of each image replaced by the same
 * box of its partner, `x~_i = M_i * x_i + (1 - M_i) * x_partner(i)`, with the
 * box and lambda of {@link cutMixAssignment} (one box for the batch by
 * default, as the paper's code; or one per image). The returned lambdas are
 * the effective pixel shares, which is what the label mixing needs. Pixels
 * are copied, not blended. `alpha: 0` is the identity (empty boxes).
 *
 * Shapes: `[batch, height, width, channels]` -> `{ images` of that shape,
 * `partners` `[batch]`, `lambdas` `[batch] }`.
 *
 * @example
 * const mixed = cutMix({ alpha: 1 })(x, step);
 * const loss = losses.softTargetCrossEntropy(logits, mixLabels(oneHotLabels, mixed));
 */
export function cutMix(options: MixOptions = {}): BatchMix {
  const fn = "cutMix";
  const resolved = resolve(fn, options);
  return (images, seed) => {
    checkImages(fn, images, seed);
    const [batch, height, width] = images.shape;
    const { partners, lambdas, boxes } = cutMixAssignment(batch, height, width, resolved, seed);
    if (resolved.alpha === 0) return { images: images.clone(), partners, lambdas };
    const keep = new Float32Array(batch * height * width).fill(1);
    for (let i = 0; i < batch; i++) {
      const [y1, x1, y2, x2] = boxes.subarray(i * 4, i * 4 + 4);
      for (let y = y1; y < y2; y++) keep.fill(0, (i * height + y) * width + x1, (i * height + y) * width + x2);
    }
    const mixed = tf.tidy(() => {
      const own = tf.tensor4d(keep, [batch, height, width, 1]);
      const other = tf.gather(images, tf.tensor1d(partners, "int32"));
      // Sum of two masked terms is exact: one of them is 0 * value = 0.
      return tf.add(tf.mul(images, own), tf.mul(other, tf.sub(1, own))) as tf.Tensor4D;
    });
    return { images: mixed, partners, lambdas };
  };
}

/**
 * Rejects a {@link MixAssignment} whose partners are not `batch` indices in
 * `[0, batch)` or whose lambdas are not `batch` numbers in [0, 1] (shared
 * with the losses that take one, e.g. `iMixLoss`).
 *
 * @example
 * checkMixAssignment("iMixLoss", { partners: Int32Array.of(1, 2), lambdas: Float32Array.of(1, 0) }, 2);
 * // Error: iMixLoss: mix.partners[1] must be an integer in [0, 2), got 2
 */
export function checkMixAssignment(fn: string, mix: MixAssignment, batch: number): void {
  if (mix === null || typeof mix !== "object") throw new Error(`${fn}: mix must be an object {partners, lambdas}, got ${describe(mix)}`);
  const { partners, lambdas } = mix;
  if (!partners || partners.length !== batch) throw new Error(`${fn}: mix.partners must have length ${batch}, got ${describe(partners)}`);
  if (!lambdas || lambdas.length !== batch) throw new Error(`${fn}: mix.lambdas must have length ${batch}, got ${describe(lambdas)}`);
  for (let i = 0; i < batch; i++) {
    const p = partners[i];
    if (!Number.isInteger(p) || p < 0 || p >= batch) throw new Error(`${fn}: mix.partners[${i}] must be an integer in [0, ${batch}), got ${describe(p)}`);
    const l = lambdas[i];
    if (!(l >= 0 && l <= 1)) throw new Error(`${fn}: mix.lambdas[${i}] must be a number in [0, 1], got ${describe(l)}`);
  }
}

/**
 * The labels mixed with the images' weights, for supervised training on
 * mixed images (both papers): `y~_i = lambda_i y_i + (1 - lambda_i) y_partner(i)`.
 * Train with `losses.softTargetCrossEntropy(logits, y~)`. Hard labels: make
 * them one-hot as int32, then cast (float32 oneHot is wrong on wasm).
 *
 * Shapes: `labels` `[batch, classes]` float32 (one-hot or soft), `mix` with
 * `[batch]` partners and lambdas -> `[batch, classes]`.
 *
 * @example
 * const mixed = cutMix()(x, step);
 * const y = tf.cast(tf.oneHot(labels, 10), "float32") as tf.Tensor2D;
 * const targets = mixLabels(y, mixed);
 */
export function mixLabels(labels: tf.Tensor2D, mix: MixAssignment): tf.Tensor2D {
  const fn = "mixLabels";
  checkMatrix(fn, "labels", labels, undefined, undefined, "float32");
  const batch = labels.shape[0];
  checkMixAssignment(fn, mix, batch);
  return tf.tidy(() => {
    const own = tf.tensor2d(mix.lambdas, [batch, 1]);
    const other = tf.gather(labels, tf.tensor1d(mix.partners, "int32"));
    return tf.add(tf.mul(labels, own), tf.mul(other, tf.sub(1, own))) as tf.Tensor2D;
  });
}

/**
 * A batch mixing used as a plain image augmentation (in `compose`,
 * `twoViews`): the mixed images only, partners and lambdas dropped. For
 * mixing as a view of a contrastive method, e.g. `twoViews(compose([crop,
 * mixAsAugmentation(mixup({ alpha: 0.4, per: "example", dominant: true }))]))`.
 *
 * Shapes: `[batch, height, width, channels]` -> the same.
 *
 * @example
 * const views = twoViews(mixAsAugmentation(cutMix({ alpha: 1, dominant: true })));
 */
export function mixAsAugmentation(mix: BatchMix): Augmentation {
  if (typeof mix !== "function") throw new Error(`mixAsAugmentation: mix must be a function (images, seed) => MixedBatch, got ${describe(mix)}`);
  return (images, seed) => mix(images, seed).images;
}
