/**
 * A researcher's own images, read from and written to torchvision's
 * `ImageFolder` layout (`root/<class>/<file>.png`, or files directly in
 * `root` for an unlabelled set), into the {@link ImageSet} every vision
 * method of the workbook takes. PNG is decoded by pngjs (PNG specification,
 * 2nd edition; 1-16 bit, palette and alpha images come out as 8-bit RGBA),
 * JPEG by jpeg-js (baseline and progressive JFIF); both pure JavaScript.
 */
import * as fs from "fs";
import * as path from "path";
import { PNG } from "pngjs";
import * as jpeg from "jpeg-js";
import { checkImageSet, type ImageSet } from "../mnist";
import { encodePng } from "../../plot/png";
import { resizeBilinear, rgbToGrey } from "./pixels";
import { decodeListing, itemFileName, listFolder, normalizeExtensions, prepareFolders, type SkippedFile } from "./folder_layout";
import { checkIntegerInRange, checkOneOf, checkOptions, checkPositiveInteger, describe } from "../../validation/arguments";

/** Options of {@link readImageFolder}. */
export interface ReadImageFolderOptions {
  /** `[height, width]` to resize every image to (bilinear, half-pixel centres); default: keep the size, which must then be the same for all. */
  size?: readonly [number, number];
  /** 1 (grey) or 3 (RGB); default 1 when every image is grey (R = G = B in every pixel), else 3. */
  channels?: 1 | 3;
  /** File extensions read, case-insensitive; default `[".png", ".jpg", ".jpeg"]`. */
  extensions?: readonly string[];
  /** Read at most this many images per class (the first in sorted order that decode); default all. */
  limitPerClass?: number;
}

/** An {@link ImageSet} read from a folder, with where each image came from. */
export interface ImageFolderSet extends ImageSet {
  /** Class folder names, sorted; label c is `classNames[c]`. Empty when unlabelled. */
  readonly classNames: string[];
  /** `[n]` path of each image. */
  readonly files: string[];
  /** False for a folder without class folders: then every label is -1. */
  readonly labelled: boolean;
  /** Files not read: unsupported extension, hidden, or not decodable (with the decoder's message). */
  readonly skipped: SkippedFile[];
}

/** Options of {@link writeImageFolder}. */
export interface WriteImageFolderOptions {
  /** File format. */
  format: "png" | "jpeg";
  /** JPEG quality 1..100; default 95. Only for "jpeg". */
  quality?: number;
  /** Folder name of each class id, sorted; default `set.classNames` when the set has them, else the ids zero-padded ("0".."9"). */
  classNames?: readonly string[];
}

/** A decoded image: 8-bit RGB, alpha already dropped. */
interface DecodedImage {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
  readonly grey: boolean;
}

const DEFAULT_EXTENSIONS = [".png", ".jpg", ".jpeg"];

/**
 * Decodes a PNG or JPEG file to RGB bytes. Alpha is dropped as torchvision's
 * loader (PIL `convert("RGB")`) drops it: the stored colour is kept whatever
 * its opacity, with no compositing over a background.
 */
function decodeImage(file: string): DecodedImage {
  const bytes = fs.readFileSync(file);
  const isPng = bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47;
  const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  let width: number;
  let height: number;
  let rgba: Uint8Array;
  if (isPng) {
    const png = PNG.sync.read(bytes);
    ({ width, height } = png);
    rgba = png.data;
  } else if (isJpeg) {
    const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    ({ width, height } = image);
    rgba = image.data;
  } else {
    throw new Error("neither a PNG nor a JPEG file (by its first bytes)");
  }
  const pixels = width * height;
  if (pixels === 0 || rgba.length !== 4 * pixels) throw new Error(`decoded to ${rgba.length} bytes for ${width}x${height} RGBA`);
  const rgb = new Uint8Array(3 * pixels);
  let grey = true;
  for (let p = 0; p < pixels; p++) {
    const r = rgba[4 * p];
    const g = rgba[4 * p + 1];
    const b = rgba[4 * p + 2];
    rgb[3 * p] = r;
    rgb[3 * p + 1] = g;
    rgb[3 * p + 2] = b;
    if (r !== g || g !== b) grey = false;
  }
  return { width, height, rgb, grey };
}

/** Pixels of a decoded image in [0, 1] with `channels` channels. */
function toChannels(image: DecodedImage, channels: 1 | 3): Float32Array {
  const rgb = new Float32Array(image.rgb.length);
  for (let i = 0; i < rgb.length; i++) rgb[i] = image.rgb[i] / 255;
  if (channels === 3) return rgb;
  if (!image.grey) return rgbToGrey(rgb);
  const grey = new Float32Array(rgb.length / 3);
  for (let p = 0; p < grey.length; p++) grey[p] = rgb[3 * p];
  return grey;
}

/**
 * Reads images in torchvision's `ImageFolder` layout into an
 * {@link ImageFolderSet}: `root/<class>/<file>` (class folders walked
 * recursively; labels = index of the class folder among the sorted names, as
 * torchvision) or, with no class folders, the files in `root` (unlabelled:
 * labels all -1). Images come in class order, then sorted path order.
 *
 * Channels: RGB to grey by BT.601 luma (0.299 R + 0.587 G + 0.114 B); grey to
 * RGB by copying; an alpha channel is dropped (the stored colour kept, not
 * blended with any background). Values are `byte / 255`; 16-bit PNGs are
 * rounded to 8 bits by the decoder.
 *
 * Not read, and listed in `skipped`: files with another extension, hidden
 * files and folders, files in the root beside class folders, and files
 * that fail to decode (with the decoder's message). The format is told by
 * the file's first bytes, so a JPEG named `.png` still reads.
 *
 * Errors: `root` missing; a class folder with no image (named); no image at
 * all; images of different sizes without `size` (naming two files and their
 * sizes).
 *
 * Shapes: `images` `[n, height, width, channels]` flattened, `labels` `[n]`.
 *
 * @example
 * const pets = readImageFolder("pets", { size: [32, 32], channels: 3 });
 * pets.classNames; // ["cat", "dog"]; pets.labels[i] indexes it
 * const { x, y } = toTensors(pets); // [n, 32, 32, 3], [n]
 */
export function readImageFolder(root: string, options: ReadImageFolderOptions = {}): ImageFolderSet {
  const fn = "readImageFolder";
  checkOptions(fn, options, "{size?, channels?, extensions?, limitPerClass?}");
  const { size, channels, limitPerClass } = options;
  if (size !== undefined) {
    if (!Array.isArray(size) || size.length !== 2) throw new Error(`${fn}: options.size must be [height, width], got ${describe(size)}`);
    checkPositiveInteger(fn, "options.size[0]", size[0]);
    checkPositiveInteger(fn, "options.size[1]", size[1]);
  }
  if (channels !== undefined) checkOneOf(fn, "options.channels", channels, [1, 3]);
  if (limitPerClass !== undefined) checkPositiveInteger(fn, "options.limitPerClass", limitPerClass);
  const extensions = normalizeExtensions(fn, options.extensions ?? DEFAULT_EXTENSIONS);
  const listing = listFolder(fn, root, extensions);
  const { items: decoded, files, labels, skipped } = decodeListing(listing, decodeImage, "not decodable", limitPerClass);
  if (decoded.length === 0) throw new Error(`${fn}: root ${JSON.stringify(root)} holds no decodable image (${skipped.length} files skipped: ${skipped.slice(0, 3).map((s) => `${s.file}: ${s.reason}`).join("; ")})`);
  if (listing.labelled) {
    listing.classNames.forEach((name, c) => {
      if (!labels.includes(c)) throw new Error(`${fn}: class folder ${JSON.stringify(path.join(root, name))} holds no decodable image (see the files it skipped)`);
    });
  }
  if (size === undefined) {
    const first = decoded[0];
    const other = decoded.findIndex((d) => d.width !== first.width || d.height !== first.height);
    if (other >= 0) {
      const d = decoded[other];
      throw new Error(
        `${fn}: images must all have one size unless options.size is given, got ${first.height}x${first.width} (height x width) ` +
          `for ${files[0]} and ${d.height}x${d.width} for ${files[other]}`,
      );
    }
  }
  const c = channels ?? (decoded.every((d) => d.grey) ? 1 : 3);
  const [h, w] = size ?? [decoded[0].height, decoded[0].width];
  const images = new Float32Array(decoded.length * h * w * c);
  decoded.forEach((d, i) => {
    let pixels = toChannels(d, c);
    if (d.height !== h || d.width !== w) pixels = resizeBilinear(pixels, [d.height, d.width, c], [h, w]);
    images.set(pixels, i * h * w * c);
  });
  return {
    images,
    labels: Int32Array.from(labels),
    n: decoded.length,
    shape: [h, w, c],
    classNames: listing.classNames.slice(),
    files,
    labelled: listing.labelled,
    skipped,
  };
}

/**
 * Writes an {@link ImageSet} in torchvision's `ImageFolder` layout: image i
 * goes to `root/<classNames[label]>/<i>.png` (i zero-padded), or to
 * `root/<i>.png` when every label is -1. {@link readImageFolder} gives the
 * same images back in class order (then in set order within a class): PNG
 * exactly to 1/255 (values are rounded to bytes), JPEG within its loss.
 * Grey images are written grey in PNG and as R = G = B in JPEG.
 * A class with no item gets no folder, so reading back then numbers only
 * the classes present.
 *
 * Errors: `root` exists and is not empty; a value outside [0, 1]; labels
 * mixing -1 and class ids; class names not usable folder names or not sorted
 * (reading back would renumber the classes).
 *
 * Shapes: `set.images` `[n, height, width, 1 | 3]`.
 *
 * @example
 * writeImageFolder("digits-png", loadMnist({ trainSize: 100 }).train, { format: "png" });
 * // digits-png/0/000.png, ..., digits-png/9/099.png
 */
export function writeImageFolder(root: string, set: ImageSet, options: WriteImageFolderOptions): void {
  const fn = "writeImageFolder";
  checkImageSet(fn, set);
  checkOptions(fn, options, "{format, quality?, classNames?}");
  checkOneOf(fn, "options.format", options.format, ["png", "jpeg"]);
  const quality = options.quality ?? 95;
  checkIntegerInRange(fn, "options.quality", quality, 1, 100);
  const [h, w, c] = set.shape;
  if (c !== 1 && c !== 3) throw new Error(`${fn}: set.shape[2] (channels) must be 1 or 3, got ${describe(c)}`);
  checkPositiveInteger(fn, "set.n", set.n);
  for (let i = 0; i < set.images.length; i++) {
    const v = set.images[i];
    if (!(v >= 0 && v <= 1)) {
      const pixel = Math.floor(i / c);
      throw new Error(`${fn}: set.images values must be in [0, 1], got ${describe(v)} in image ${Math.floor(pixel / (h * w))}`);
    }
  }
  const classNames = options.classNames ?? (set as Partial<ImageFolderSet>).classNames;
  const dirs = prepareFolders(fn, root, set.labels, classNames !== undefined && classNames.length > 0 ? classNames : undefined);
  const extension = options.format === "png" ? ".png" : ".jpg";
  const size = h * w * c;
  for (let i = 0; i < set.n; i++) {
    const bytes = new Uint8Array(size);
    for (let k = 0; k < size; k++) bytes[k] = Math.round(set.images[i * size + k] * 255);
    let encoded: Uint8Array;
    if (options.format === "png") {
      encoded = encodePng(bytes, w, h, c);
    } else {
      const rgba = new Uint8Array(h * w * 4);
      for (let p = 0; p < h * w; p++) {
        for (let k = 0; k < 3; k++) rgba[4 * p + k] = bytes[p * c + (c === 1 ? 0 : k)];
        rgba[4 * p + 3] = 255;
      }
      encoded = jpeg.encode({ data: rgba, width: w, height: h }, quality).data;
    }
    fs.writeFileSync(path.join(dirs[i], itemFileName(i, set.n, extension)), encoded);
  }
}
