/**
 * The folder layout every file loader here shares, torchvision's
 * `ImageFolder` convention (`torchvision.datasets.ImageFolder`):
 *
 * ```text
 * root/<class name>/<file>      labelled: label = index of the class name among the sorted names
 * root/<file>                   unlabelled: no class folders at all
 * ```
 *
 * Class folders are walked recursively (as torchvision does). Everything is
 * visited in sorted order (JavaScript string order, i.e. UTF-16 code units),
 * so the same folder always gives the same items in the same order. Files
 * that are not taken are reported, never dropped in silence.
 */
import * as fs from "fs";
import * as path from "path";
import { describe } from "../../validation/arguments";

/** A file a loader did not take, and why. */
export interface SkippedFile {
  /** Path of the file (or folder), as joined from the root the caller gave. */
  readonly file: string;
  /** Why it was left out, e.g. `unsupported extension ".gif"` or the decoder's error. */
  readonly reason: string;
}

/** One file to load and its label (-1 in an unlabelled folder). */
export interface FolderEntry {
  readonly file: string;
  readonly label: number;
}

/** What {@link listFolder} finds. */
export interface FolderListing {
  /** Sorted class folder names; empty for an unlabelled folder. */
  readonly classNames: string[];
  /** Whether the root holds class folders. */
  readonly labelled: boolean;
  /** `[classes]` (or one list for an unlabelled folder): the files of each class, sorted. */
  readonly byClass: FolderEntry[][];
  /** Files and folders left out, in the order met. */
  readonly skipped: SkippedFile[];
}

/**
 * Checks and lower-cases an extension list. Internal to the loaders.
 *
 * @example
 * normalizeExtensions("readImageFolder", [".PNG", "jpg"]); // [".png", ".jpg"]
 */
export function normalizeExtensions(fn: string, extensions: unknown): string[] {
  if (!Array.isArray(extensions) || extensions.length === 0 || extensions.some((e) => typeof e !== "string" || e.replace(/^\./, "") === "")) {
    throw new Error(`${fn}: options.extensions must be a non-empty array of extensions like [".png"], got ${describe(extensions)}`);
  }
  return extensions.map((e: string) => (e.startsWith(".") ? e : `.${e}`).toLowerCase());
}

function sortedEntries(dir: string): fs.Dirent[] {
  return fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Files under `dir` (recursively, sorted) with one of `extensions`; the rest go to `skipped`. */
function collectFiles(dir: string, extensions: readonly string[], label: number, out: FolderEntry[], skipped: SkippedFile[]): void {
  for (const entry of sortedEntries(dir)) {
    const file = path.join(dir, entry.name);
    if (entry.name.startsWith(".")) {
      skipped.push({ file, reason: entry.isDirectory() ? "hidden folder" : "hidden file" });
    } else if (entry.isDirectory()) {
      collectFiles(file, extensions, label, out, skipped);
    } else if (!isKind(entry, file, "file")) {
      skipped.push({ file, reason: "not a regular file" });
    } else if (!extensions.includes(path.extname(entry.name).toLowerCase())) {
      skipped.push({ file, reason: `unsupported extension ${JSON.stringify(path.extname(entry.name))} (reads ${extensions.join(", ")})` });
    } else {
      out.push({ file, label });
    }
  }
}

/** Whether `entry` is a regular file (or a folder), following a symbolic link to what it points at. */
function isKind(entry: fs.Dirent, target: string, kind: "file" | "directory"): boolean {
  const is = (d: fs.Dirent | fs.Stats) => (kind === "file" ? d.isFile() : d.isDirectory());
  if (is(entry)) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return is(fs.statSync(target));
  } catch {
    return false;
  }
}

/**
 * Lists a folder in the ImageFolder layout. Labelled when the root holds at
 * least one (non-hidden) folder: then each folder is a class, and files lying
 * in the root beside them are skipped (torchvision ignores them too).
 * Unlabelled otherwise: the root's files, labels -1.
 *
 * Errors (prefixed with `fn`): `root` missing or not a folder; a class folder
 * with no file of `extensions` (named); no file of `extensions` at all.
 *
 * Internal to the loaders.
 *
 * @example
 * const { classNames, byClass, skipped } = listFolder("readImageFolder", "pets", [".png"]);
 * byClass[0]; // [{ file: "pets/cat/001.png", label: 0 }, ...]
 */
export function listFolder(fn: string, root: unknown, extensions: readonly string[]): FolderListing {
  if (typeof root !== "string" || root === "") throw new Error(`${fn}: root must be a folder path, got ${describe(root)}`);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(root);
  } catch {
    throw new Error(`${fn}: root must be an existing folder, got ${JSON.stringify(root)} (no such file or folder)`);
  }
  if (!stat.isDirectory()) throw new Error(`${fn}: root must be a folder, got ${JSON.stringify(root)} (a file)`);
  const skipped: SkippedFile[] = [];
  const top = sortedEntries(root);
  const classDirs = top.filter((e) => !e.name.startsWith(".") && isKind(e, path.join(root, e.name), "directory"));
  const wanted = extensions.join(", ");
  if (classDirs.length === 0) {
    const files: FolderEntry[] = [];
    collectFiles(root, extensions, -1, files, skipped);
    if (files.length === 0) throw new Error(`${fn}: root ${JSON.stringify(root)} holds no ${wanted} file and no class folder`);
    return { classNames: [], labelled: false, byClass: [files], skipped };
  }
  for (const e of top) {
    const file = path.join(root, e.name);
    if (e.name.startsWith(".")) skipped.push({ file, reason: isKind(e, file, "directory") ? "hidden folder" : "hidden file" });
    else if (!isKind(e, file, "directory")) skipped.push({ file, reason: "file in the root of a folder with class folders (belongs to no class)" });
  }
  const classNames = classDirs.map((e) => e.name);
  const byClass = classNames.map((name, label) => {
    const files: FolderEntry[] = [];
    collectFiles(path.join(root, name), extensions, label, files, skipped);
    if (files.length === 0) {
      throw new Error(`${fn}: class folder ${JSON.stringify(path.join(root, name))} holds no ${wanted} file; remove it or add files`);
    }
    return files;
  });
  return { classNames, labelled: true, byClass, skipped };
}

/**
 * Where a writer puts each item: checks that `root` is new or an empty
 * folder, that `labels` are all -1 (everything in the root) or all in
 * `[0, classNames.length)`, and that the class names are usable folder names
 * in sorted order, so reading the folder back gives the same label ids.
 * Default class names are the label ids zero-padded to one width ("00".."11"),
 * which sort like the numbers. Creates the folders of the classes present (a
 * class with no item gets none, so reading back numbers only the classes
 * present); returns each item's folder.
 *
 * Internal to the writers.
 *
 * @example
 * prepareFolders("writeImageFolder", "out", [1, 0, 1], ["cat", "dog"]); // ["out/dog", "out/cat", "out/dog"]
 */
export function prepareFolders(fn: string, root: unknown, labels: ArrayLike<number>, classNames: readonly string[] | undefined): string[] {
  if (typeof root !== "string" || root === "") throw new Error(`${fn}: root must be a folder path, got ${describe(root)}`);
  if (fs.existsSync(root)) {
    if (!fs.statSync(root).isDirectory()) throw new Error(`${fn}: root must be a new or empty folder, got ${JSON.stringify(root)} (a file)`);
    const inside = fs.readdirSync(root);
    if (inside.length > 0) throw new Error(`${fn}: root must be a new or empty folder, got ${JSON.stringify(root)} holding ${inside.length} entries`);
  }
  let maxLabel = -1;
  let unlabelled = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < -1) throw new Error(`${fn}: labels[${i}] must be a class id >= 0 or -1 (unlabelled), got ${describe(y)}`);
    if (y === -1) unlabelled++;
    maxLabel = Math.max(maxLabel, y);
  }
  if (unlabelled > 0 && unlabelled < labels.length) {
    throw new Error(`${fn}: labels must be all -1 (unlabelled) or all class ids, got ${unlabelled} of ${labels.length} set to -1`);
  }
  if (unlabelled === labels.length) {
    fs.mkdirSync(root, { recursive: true });
    return Array.from({ length: labels.length }, () => root);
  }
  const names = classNames ?? Array.from({ length: maxLabel + 1 }, (_, c) => String(c).padStart(String(maxLabel).length, "0"));
  if (!Array.isArray(names) || names.length <= maxLabel) {
    throw new Error(`${fn}: classNames must name every label 0..${maxLabel}, got ${describe(names)}`);
  }
  names.forEach((name, c) => {
    if (typeof name !== "string" || name === "" || name.startsWith(".") || /[/\\\0]/.test(name)) {
      throw new Error(`${fn}: classNames[${c}] must be a folder name (not empty, no slash, not starting with "."), got ${describe(name)}`);
    }
    if (c > 0 && !(names[c - 1] < name)) {
      throw new Error(
        `${fn}: classNames must be distinct and sorted, so that reading the folder back gives the same label ids; ` +
          `got ${JSON.stringify(names[c - 1])} before ${JSON.stringify(name)} (prefix them, e.g. "0_cat", "1_dog")`,
      );
    }
  });
  // A class with no item gets no folder: an empty class folder is an error to the readers.
  for (const y of new Set(Array.from(labels))) fs.mkdirSync(path.join(root, names[y]), { recursive: true });
  return Array.from(labels, (y) => path.join(root, names[y]));
}

/**
 * File name of item `i` of `count`: the index zero-padded so names sort like the numbers.
 *
 * @example
 * itemFileName(7, 120, ".png"); // "007.png"
 */
export function itemFileName(i: number, count: number, extension: string): string {
  return `${String(i).padStart(String(Math.max(count - 1, 0)).length, "0")}${extension}`;
}

/** What {@link decodeListing} returns: the decoded items with their files and labels, and every file left out. */
export interface DecodedListing<T> {
  readonly items: T[];
  /** `[items]` path of each item. */
  readonly files: string[];
  /** `[items]` class id of each item (-1 in an unlabelled folder). */
  readonly labels: number[];
  /** The listing's skipped files, then the files `decode` threw on, each with `failure` and the error's message. */
  readonly skipped: SkippedFile[];
}

/**
 * Decodes the files of a listing class by class, taking at most
 * `limitPerClass` per class: the first in sorted order that decode. A file
 * `decode` throws on is reported in `skipped` as `"<failure>: <message>"`,
 * never dropped silently. Internal to the loaders.
 *
 * @example
 * const { items, files, labels, skipped } = decodeListing(listing, decodeWave, "not decodable", 20);
 */
export function decodeListing<T>(listing: FolderListing, decode: (file: string) => T, failure: string, limitPerClass?: number): DecodedListing<T> {
  const items: T[] = [];
  const files: string[] = [];
  const labels: number[] = [];
  const skipped = listing.skipped.slice();
  for (const entries of listing.byClass) {
    let taken = 0;
    for (const entry of entries) {
      if (limitPerClass !== undefined && taken === limitPerClass) break;
      try {
        items.push(decode(entry.file));
      } catch (e) {
        skipped.push({ file: entry.file, reason: `${failure}: ${(e as Error).message}` });
        continue;
      }
      files.push(entry.file);
      labels.push(entry.label);
      taken++;
    }
  }
  return { items, files, labels, skipped };
}
