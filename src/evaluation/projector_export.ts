/**
 * Export to the TensorFlow Embedding Projector (projector.tensorflow.org,
 * also TensorBoard's projector plugin): the two tab-separated files its
 * "Load" dialog reads, so a researcher can explore features in the tool they
 * already use, and the reader for the round trip.
 *
 * The format, as the Projector parses it:
 * - `vectors.tsv`: one line per item, its components separated by tabs, no
 *   header; every line has the same number (at least 2) of components.
 * - `metadata.tsv`: one line per item, in the same order. With one column
 *   there is no header (the Projector names the column "label"); with two or
 *   more the first line holds the column names. The Projector decides which
 *   by whether the first line contains a tab.
 * - Lines are split on `\n`, fields on tabs; there is no quoting, and blank
 *   lines are skipped.
 *
 * So metadata values are escaped, reversibly: a backslash becomes `\\`, a
 * tab `\t`, a newline `\n`, a carriage return `\r` (two characters each, as
 * written here; the Projector shows them literally). A row that would be
 * blank is refused, since the Projector would skip it and shift every later
 * row onto the wrong item.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type FeatureRows, readFeatureRows } from "./projection_input";
import { shortestFloat32 } from "../plot/values";
import { describe } from "../validation/arguments";

/** Metadata columns: name -> one value per item. */
export type ProjectorMetadata = Record<string, readonly (string | number)[]>;

/** What {@link writeProjectorFiles} writes. */
export interface ProjectorExport {
  /** The items' vectors `[n, d]`, d >= 2 (a tensor is read, not disposed). */
  vectors: FeatureRows;
  /** Row length of a flat `Float32Array` / `Float64Array` `vectors`. */
  dim?: number;
  /** Columns of per-item metadata, each `[n]`: numbers are written with `String`, strings escaped. */
  metadata?: ProjectorMetadata;
  /** Prepended to the file names (`mnist_` -> `mnist_vectors.tsv`); letters, digits, `_`, `.`, `-`. Default "". */
  prefix?: string;
}

/** Paths of the files written or read. */
export interface ProjectorPaths {
  vectors: string;
  /** Absent when there is no metadata. */
  metadata?: string;
}

/** What {@link readProjectorFiles} returns. */
export interface ProjectorData {
  /** The vectors `[n, dim]`, row-major. */
  vectors: Float32Array;
  n: number;
  dim: number;
  /** Columns of metadata as strings (the format has no types), unescaped; absent without a metadata file. */
  metadata?: Record<string, string[]>;
  paths: ProjectorPaths;
}

const PREFIX_PATTERN = /^[A-Za-z0-9_.-]*$/;

function checkDirectory(fn: string, dir: unknown): asserts dir is string {
  if (typeof dir !== "string") throw new Error(`${fn}: dir must be a path string, got ${describe(dir)}`);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(dir);
  } catch {
    stat = undefined;
  }
  if (stat === undefined || !stat.isDirectory()) {
    throw new Error(`${fn}: dir must be an existing directory, got ${JSON.stringify(dir)} (${stat === undefined ? "no such path" : "not a directory"})`);
  }
}

function filePaths(fn: string, dir: string, prefix: unknown): { vectors: string; metadata: string } {
  if (typeof prefix !== "string" || !PREFIX_PATTERN.test(prefix)) {
    throw new Error(`${fn}: options.prefix must be letters, digits, "_", "." or "-" only, got ${describe(prefix)}`);
  }
  return { vectors: path.join(dir, `${prefix}vectors.tsv`), metadata: path.join(dir, `${prefix}metadata.tsv`) };
}

/** Escapes the characters the format cannot hold; see the module doc. */
function escapeField(text: string): string {
  return text.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"));
}

function unescapeField(text: string): string {
  return text.replace(/\\([\\tnr])/g, (_, c: string) => (c === "\\" ? "\\" : c === "t" ? "\t" : c === "n" ? "\n" : "\r"));
}

/** A float32 the way the Projector reads it back exactly: the shortest decimal that rounds to it. */
function formatComponent(v: number): string {
  const f = Math.fround(v);
  return Object.is(f, -0) ? "-0" : String(shortestFloat32(f));
}

function metadataLines(fn: string, metadata: ProjectorMetadata, n: number): string[] {
  if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
    throw new Error(`${fn}: options.metadata must be an object of columns { name: values[] }, got ${describe(metadata)}`);
  }
  const names = Object.keys(metadata);
  if (names.length === 0) throw new Error(`${fn}: options.metadata must have at least one column, got none`);
  const columns = names.map((name) => {
    const values = metadata[name];
    if (!Array.isArray(values)) throw new Error(`${fn}: options.metadata.${name} must be an array, got ${describe(values)}`);
    if (values.length !== n) {
      throw new Error(`${fn}: options.metadata.${name} must have one value per vector row (${n}), got ${values.length}`);
    }
    return values.map((v, i) => {
      if (typeof v === "string") return escapeField(v);
      if (typeof v === "number" && Number.isFinite(v)) return String(v);
      throw new Error(`${fn}: options.metadata.${name}[${i}] must be a string or a finite number, got ${describe(v)}`);
    });
  });
  const lines: string[] = [];
  if (names.length > 1) {
    names.forEach((name) => {
      if (name.trim() === "") throw new Error(`${fn}: options.metadata column names must not be blank, got ${JSON.stringify(name)}`);
    });
    lines.push(names.map(escapeField).join("\t"));
  }
  for (let i = 0; i < n; i++) {
    const line = columns.map((column) => column[i]).join("\t");
    if (line.trim() === "") {
      throw new Error(
        `${fn}: options.metadata row ${i} is blank (${names.map((name) => `${name}: ${JSON.stringify(metadata[name][i])}`).join(", ")}); ` +
          `the Projector skips blank lines, which would shift every later row, so give a placeholder such as "(none)"`,
      );
    }
    lines.push(line);
  }
  return lines;
}

/**
 * Writes `vectors` `[n, d]` and optional `metadata` (columns of `[n]`) into
 * `dir` as `<prefix>vectors.tsv` and `<prefix>metadata.tsv` in the Embedding
 * Projector's format (see the module doc), ready for its "Load" button.
 * Components are stored as float32, as the Projector holds them, each
 * written with the fewest digits that read back to the same float32.
 * `dir` must exist; the export replaces one made earlier with the same
 * prefix as a whole: without `metadata`, an old `<prefix>metadata.tsv` is
 * deleted so it cannot be read as describing the new vectors. Returns the
 * paths written.
 *
 * Shapes: `vectors` `[n, d]` with d >= 2; every metadata column `[n]`.
 *
 * @example
 * writeProjectorFiles("exports", { vectors: features, metadata: { label: names, split: splits }, prefix: "simclr_" });
 * // { vectors: "exports/simclr_vectors.tsv", metadata: "exports/simclr_metadata.tsv" }
 */
export function writeProjectorFiles(dir: string, options: ProjectorExport): ProjectorPaths {
  const fn = "writeProjectorFiles";
  checkDirectory(fn, dir);
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object {vectors, dim?, metadata?, prefix?}, got ${describe(options)}`);
  const paths = filePaths(fn, dir, options.prefix ?? "");
  const { values, n, d } = readFeatureRows(options.vectors, options.dim, fn, "options.vectors");
  if (d < 2) throw new Error(`${fn}: options.vectors must have at least 2 columns (the Projector refuses 1-D vectors), got ${d}`);
  const meta = options.metadata === undefined ? undefined : metadataLines(fn, options.metadata, n);
  const rows: string[] = [];
  const row: string[] = new Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = formatComponent(values[i * d + j]);
    rows.push(row.join("\t"));
  }
  fs.writeFileSync(paths.vectors, rows.join("\n") + "\n", "utf8");
  if (meta === undefined) {
    // A metadata file left from an earlier export would be read as this one's and misdescribe it.
    fs.rmSync(paths.metadata, { force: true });
    return { vectors: paths.vectors };
  }
  fs.writeFileSync(paths.metadata, meta.join("\n") + "\n", "utf8");
  return paths;
}

/** Non-blank lines of a file with their 1-based line numbers, as the Projector reads them. */
function contentLines(file: string): { text: string; line: number }[] {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .map((text, i) => ({ text, line: i + 1 }))
    .filter(({ text }) => text.trim() !== "");
}

/**
 * Reads `<prefix>vectors.tsv` and, when present, `<prefix>metadata.tsv`
 * from `dir`, by the Projector's rules (see the module doc): blank lines
 * skipped, a header row only when the first metadata line has a tab, one
 * column otherwise (named `options.singleColumnName`, default "label" as in
 * the Projector). Stricter than the Projector where it would quietly go
 * wrong: every vector component must be a number, every row the same
 * length, metadata rows one per vector with one field per column.
 *
 * Shapes: `vectors` `[n, dim]` flat; metadata columns `[n]`.
 *
 * @example
 * const { vectors, n, dim, metadata } = readProjectorFiles("exports", { prefix: "simclr_" });
 */
export function readProjectorFiles(dir: string, options: { prefix?: string; singleColumnName?: string } = {}): ProjectorData {
  const fn = "readProjectorFiles";
  checkDirectory(fn, dir);
  const paths = filePaths(fn, dir, options.prefix ?? "");
  if (!fs.existsSync(paths.vectors)) throw new Error(`${fn}: no vectors file in ${JSON.stringify(dir)}: expected ${JSON.stringify(paths.vectors)}`);
  const rows = contentLines(paths.vectors);
  if (rows.length === 0) throw new Error(`${fn}: ${paths.vectors} holds no vectors`);
  const dim = rows[0].text.trim().split("\t").length;
  const n = rows.length;
  const vectors = new Float32Array(n * dim);
  rows.forEach(({ text, line }, i) => {
    const fields = text.trim().split("\t");
    if (fields.length !== dim) throw new Error(`${fn}: ${paths.vectors} line ${line} must have ${dim} components like line ${rows[0].line}, got ${fields.length}`);
    fields.forEach((field, j) => {
      const v = field.trim() === "" ? NaN : Number(field);
      if (!Number.isFinite(v)) throw new Error(`${fn}: ${paths.vectors} line ${line}, component ${j + 1} must be a finite number, got ${JSON.stringify(field)}`);
      vectors[i * dim + j] = v;
    });
  });
  if (!fs.existsSync(paths.metadata)) return { vectors, n, dim, paths: { vectors: paths.vectors } };

  const lines = contentLines(paths.metadata);
  const hasHeader = lines.length > 0 && lines[0].text.includes("\t");
  const names = hasHeader ? lines[0].text.split("\t").map(unescapeField) : [options.singleColumnName ?? "label"];
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) throw new Error(`${fn}: ${paths.metadata} header must name each column once, got ${JSON.stringify(repeated)} twice`);
  const body = hasHeader ? lines.slice(1) : lines;
  if (body.length !== n) {
    throw new Error(`${fn}: ${paths.metadata} must have one row per vector (${n})${hasHeader ? " after its header" : ""}, got ${body.length}`);
  }
  const metadata: Record<string, string[]> = Object.fromEntries(names.map((name) => [name, [] as string[]]));
  for (const { text, line } of body) {
    const fields = text.split("\t");
    if (fields.length !== names.length) throw new Error(`${fn}: ${paths.metadata} line ${line} must have ${names.length} fields like the header, got ${fields.length}`);
    fields.forEach((field, j) => metadata[names[j]].push(unescapeField(field)));
  }
  return { vectors, n, dim, metadata, paths };
}
