/**
 * A researcher's own feature tables: CSV (RFC 4180, first row the header,
 * read by csv-parse) and Apache Parquet (read by hyparquet, written by
 * hyparquet-writer), into a float32 feature matrix and optional class ids,
 * the `[n, dim]` features a linear probe, k-NN or clustering takes.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "csv-parse/sync";
import type { DataFrame } from "danfojs-node";
import { tf } from "../../backend/tf";
import { loadDanfo } from "../../plot/table";
import { shortestFloat32 } from "../../plot/values";
import { importEsm } from "./esm";
import { checkNonNegativeInteger, checkOptions, describe } from "../../validation/arguments";

type Hyparquet = typeof import("hyparquet");
type HyparquetWriter = typeof import("hyparquet-writer");

/** A numeric table: features `[n, dim]` and, when a label column was named, a class id per row. */
export interface Table {
  /** `[dim]` names of the feature columns, in feature order. */
  readonly columns: readonly string[];
  /** `[n, dim]` row-major feature values. */
  readonly features: Float32Array;
  /** Rows. */
  readonly n: number;
  /** Feature columns. */
  readonly dim: number;
  /** `[n]` class ids into `classNames`; absent without a label column. */
  readonly labels?: Int32Array;
  /** The distinct label values, sorted (numerically when all are numbers); label c is `classNames[c]`. */
  readonly classNames?: readonly string[];
  /** Name of the label column (the writers use it; default "label"). */
  readonly labelColumn?: string;
}

/** Options of {@link readTable}. */
export interface ReadTableOptions {
  /** Column holding the class of each row (strings or numbers); default none (no labels). */
  labelColumn?: string;
  /** Feature columns, in the order wanted; default every column but the label column, in file order. */
  featureColumns?: readonly string[];
}

/** A file's header and a reader of its cells. */
interface RawTable {
  readonly header: string[];
  readonly rows: number;
  cell(row: number, column: number): unknown;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function readCsv(fn: string, file: string): RawTable {
  let records: string[][];
  try {
    records = parse(fs.readFileSync(file), { bom: true, skip_empty_lines: true, trim: true });
  } catch (e) {
    throw new Error(`${fn}: ${file} is not a readable CSV file: ${(e as Error).message}`);
  }
  if (records.length === 0) throw new Error(`${fn}: ${file} is empty (a CSV file needs a header row)`);
  const [header, ...rows] = records;
  return { header: header.map((h) => h.trim()), rows: rows.length, cell: (r, c) => rows[r][c] };
}

async function readParquet(fn: string, file: string): Promise<RawTable> {
  const hyparquet = await importEsm<Hyparquet>(fn, "hyparquet");
  const bytes = fs.readFileSync(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  let header: string[];
  let rows: Record<string, unknown>[];
  try {
    const metadata = hyparquet.parquetMetadata(buffer);
    header = hyparquet.parquetSchema(metadata).children.map((child) => child.element.name);
    rows = await hyparquet.parquetReadObjects({ file: buffer, metadata });
  } catch (e) {
    throw new Error(`${fn}: ${file} is not a readable Parquet file: ${(e as Error).message}`);
  }
  return { header, rows: rows.length, cell: (r, c) => rows[r][header[c]] };
}

/** The number in a cell, or undefined when it holds none (empty, text, NaN, infinite, null). */
function numberIn(cell: unknown): number | undefined {
  let v: number | undefined;
  if (typeof cell === "number") v = cell;
  else if (typeof cell === "bigint") v = Number(cell);
  else if (typeof cell === "string" && DECIMAL.test(cell.trim())) v = Number(cell.trim());
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

function columnIndex(fn: string, file: string, header: readonly string[], name: unknown, arg: string): number {
  const c = typeof name === "string" ? header.indexOf(name) : -1;
  if (c < 0) throw new Error(`${fn}: ${arg} must be a column of ${file} (${header.map((h) => JSON.stringify(h)).join(", ")}), got ${describe(name)}`);
  return c;
}

/** Class ids of the label column: distinct values sorted, numerically when every value is a number. */
function readLabels(fn: string, file: string, raw: RawTable, c: number): { labels: Int32Array; classNames: string[] } {
  const values: (string | number)[] = [];
  for (let r = 0; r < raw.rows; r++) {
    const cell = raw.cell(r, c);
    const text = typeof cell === "string" ? cell.trim() : typeof cell === "number" || typeof cell === "bigint" ? String(cell) : undefined;
    if (text === undefined || text === "") {
      throw new Error(`${fn}: label column ${JSON.stringify(raw.header[c])} of ${file} must hold a string or number in every row, got ${describe(cell)} in data row ${r + 1}`);
    }
    values.push(text);
  }
  const numeric = values.every((v) => numberIn(v) !== undefined);
  const keys = numeric ? values.map((v) => numberIn(v) as number) : values;
  const distinct = [...new Set(keys)].sort((a, b) => (numeric ? (a as number) - (b as number) : a < b ? -1 : a > b ? 1 : 0));
  const id = new Map(distinct.map((k, i) => [k, i] as const));
  return { labels: Int32Array.from(keys, (k) => id.get(k) as number), classNames: distinct.map(String) };
}

/**
 * Reads a `.csv` or `.parquet` file into a {@link Table}. CSV: the first row
 * is the header; fields may be quoted (RFC 4180); spaces around a field, a
 * UTF-8 byte-order mark and blank lines are ignored. Parquet: flat columns, read whole.
 *
 * Every feature cell must be a finite number (a CSV cell as a decimal like
 * `-1.5e3`); an empty cell, text, NaN or infinity is an error naming the
 * file, column, row and value: nothing is filled in or dropped. Label values
 * (strings or numbers) become class ids by sorted order of the distinct values
 * (numeric order when all are numbers, so labels 0..9 keep their ids when all
 * occur).
 *
 * Async because Parquet decoding is; CSV reads at once.
 *
 * Shapes: `features` `[n, dim]`, `labels` `[n]`.
 *
 * @example
 * const table = await readTable("embeddings.parquet", { labelColumn: "species" });
 * const { x, y } = tableToTensors(table); // [n, dim] float32, [n] int32
 */
export async function readTable(file: string, options: ReadTableOptions = {}): Promise<Table> {
  const fn = "readTable";
  if (typeof file !== "string" || file === "") throw new Error(`${fn}: file must be a path to a .csv or .parquet file, got ${describe(file)}`);
  checkOptions(fn, options, "{labelColumn?, featureColumns?}");
  const extension = path.extname(file).toLowerCase();
  if (extension !== ".csv" && extension !== ".parquet") throw new Error(`${fn}: file must end in .csv or .parquet, got ${JSON.stringify(file)}`);
  if (!fs.existsSync(file)) throw new Error(`${fn}: file must be an existing file, got ${JSON.stringify(file)} (no such file)`);
  const raw = extension === ".csv" ? readCsv(fn, file) : await readParquet(fn, file);
  const duplicate = raw.header.find((h, i) => raw.header.indexOf(h) !== i);
  if (duplicate !== undefined) throw new Error(`${fn}: ${file} names column ${JSON.stringify(duplicate)} twice`);
  const { labelColumn, featureColumns } = options;
  const labelIndex = labelColumn === undefined ? -1 : columnIndex(fn, file, raw.header, labelColumn, "options.labelColumn");
  let featureIndex: number[];
  if (featureColumns === undefined) {
    featureIndex = raw.header.map((_, c) => c).filter((c) => c !== labelIndex);
  } else {
    if (!Array.isArray(featureColumns) || featureColumns.length === 0) {
      throw new Error(`${fn}: options.featureColumns must be a non-empty array of column names, got ${describe(featureColumns)}`);
    }
    featureIndex = featureColumns.map((name, i) => columnIndex(fn, file, raw.header, name, `options.featureColumns[${i}]`));
    if (featureIndex.includes(labelIndex)) throw new Error(`${fn}: options.featureColumns must not include the label column ${JSON.stringify(labelColumn)}`);
  }
  if (featureIndex.length === 0) throw new Error(`${fn}: ${file} has no feature column besides the label column`);
  for (const c of featureIndex) {
    if (raw.header[c] === "") throw new Error(`${fn}: column ${c + 1} of ${file} has no name (an index written by pandas?); pass options.featureColumns`);
  }
  const dim = featureIndex.length;
  const features = new Float32Array(raw.rows * dim);
  // Column by column, so the error names the first bad row of the first bad column.
  for (let j = 0; j < dim; j++) {
    for (let r = 0; r < raw.rows; r++) {
      const cell = raw.cell(r, featureIndex[j]);
      const v = numberIn(cell);
      if (v === undefined) {
        throw new Error(`${fn}: feature column ${JSON.stringify(raw.header[featureIndex[j]])} of ${file} must be numeric, got ${describe(cell)} in data row ${r + 1}`);
      }
      features[r * dim + j] = v;
    }
  }
  const table = { columns: featureIndex.map((c) => raw.header[c]), features, n: raw.rows, dim };
  if (labelIndex < 0) return table;
  return { ...table, ...readLabels(fn, file, raw, labelIndex), labelColumn: raw.header[labelIndex] };
}

/** Checks a {@link Table}'s fields against each other. */
function checkTable(fn: string, table: Table): void {
  if (table === null || typeof table !== "object") throw new Error(`${fn}: table must be a Table {columns, features, n, dim, labels?, classNames?}, got ${describe(table)}`);
  const { columns, features, n, dim, labels, classNames } = table;
  checkNonNegativeInteger(fn, "table.n", n);
  checkNonNegativeInteger(fn, "table.dim", dim);
  if (!Array.isArray(columns) || columns.length !== dim || columns.some((c) => typeof c !== "string" || c === "") || new Set(columns).size !== dim) {
    throw new Error(`${fn}: table.columns must be ${dim} distinct non-empty names (table.dim), got ${describe(columns)}`);
  }
  if (!(features instanceof Float32Array) || features.length !== n * dim) {
    throw new Error(`${fn}: table.features must be a Float32Array of length n*dim = ${n}*${dim} = ${n * dim}, got ${describe(features)}`);
  }
  if (labels === undefined) return;
  if (!(labels instanceof Int32Array) || labels.length !== n) throw new Error(`${fn}: table.labels must be an Int32Array of length ${n}, got ${describe(labels)}`);
  const classes = classNames?.length;
  for (let i = 0; i < n; i++) {
    if (labels[i] < 0 || (classes !== undefined && labels[i] >= classes)) {
      throw new Error(`${fn}: table.labels[${i}] must be a class id in [0, ${classes ?? "classes"}), got ${labels[i]}`);
    }
  }
}

function labelColumnOf(fn: string, table: Table): string {
  const name = table.labelColumn ?? "label";
  if (table.columns.includes(name)) throw new Error(`${fn}: table.labelColumn ${JSON.stringify(name)} must differ from every feature column name`);
  return name;
}

/** Label values as written: the class name of each id, or the id itself without class names. */
function labelValues(table: Table): string[] {
  const labels = table.labels as Int32Array;
  return Array.from(labels, (y) => (table.classNames ? table.classNames[y] : String(y)));
}

/** A CSV field, quoted when it holds a comma, quote, line break or edge space (RFC 4180). */
function csvField(text: string): string {
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Writes a {@link Table} as CSV (RFC 4180, `\n` line ends, UTF-8): a header
 * of the feature columns then the label column (`table.labelColumn`, default
 * "label") when the table has labels, and one row per row. Each feature is
 * written as the shortest decimal that reads back as the same float32, and
 * each label as its class name, so {@link readTable} gives back the same
 * features exactly and the same class ids (class names sorted as it sorts them).
 *
 * Shapes: `table.features` `[n, dim]` -> n + 1 lines.
 *
 * @example
 * writeCsv("features.csv", { columns: ["x", "y"], features: new Float32Array([0.5, 1, 2, 3]), n: 2, dim: 2 });
 */
export function writeCsv(file: string, table: Table): void {
  const fn = "writeCsv";
  if (typeof file !== "string" || !file.toLowerCase().endsWith(".csv")) throw new Error(`${fn}: file must be a path ending in .csv, got ${describe(file)}`);
  checkTable(fn, table);
  const header = table.columns.slice();
  const labels = table.labels ? labelValues(table) : undefined;
  if (labels) header.push(labelColumnOf(fn, table));
  const lines = [header.map(csvField).join(",")];
  for (let r = 0; r < table.n; r++) {
    const fields: string[] = [];
    for (let j = 0; j < table.dim; j++) fields.push(String(shortestFloat32(table.features[r * table.dim + j])));
    if (labels) fields.push(csvField(labels[r]));
    lines.push(fields.join(","));
  }
  fs.writeFileSync(file, lines.join("\n") + "\n", "utf8");
}

/**
 * Writes a {@link Table} as Apache Parquet (hyparquet-writer, Snappy
 * compression, one row group): each feature a FLOAT column, and the label
 * column (`table.labelColumn`, default "label") as INT32 when every class
 * name is an integer (or there are none: the ids are written), else as
 * STRING class names. {@link readTable} gives back the same features
 * exactly and the same class ids.
 *
 * Shapes: `table.features` `[n, dim]`.
 *
 * @example
 * await writeParquet("features.parquet", await readTable("features.csv", { labelColumn: "label" }));
 */
export async function writeParquet(file: string, table: Table): Promise<void> {
  const fn = "writeParquet";
  if (typeof file !== "string" || !file.toLowerCase().endsWith(".parquet")) throw new Error(`${fn}: file must be a path ending in .parquet, got ${describe(file)}`);
  checkTable(fn, table);
  const writer = await importEsm<HyparquetWriter>(fn, "hyparquet-writer");
  const { n, dim } = table;
  const columnData: Parameters<HyparquetWriter["parquetWriteBuffer"]>[0]["columnData"] = table.columns.map((name, j) => {
    const data = new Float32Array(n);
    for (let r = 0; r < n; r++) data[r] = table.features[r * dim + j];
    return { name, data, type: "FLOAT" as const, nullable: false };
  });
  if (table.labels) {
    const name = labelColumnOf(fn, table);
    const values = labelValues(table);
    const integers = values.every((v) => /^-?\d+$/.test(v) && Math.abs(Number(v)) <= 2147483647);
    columnData.push(
      integers
        ? { name, data: Int32Array.from(values, Number), type: "INT32", nullable: false }
        : { name, data: values, type: "STRING", nullable: false },
    );
  }
  fs.writeFileSync(file, new Uint8Array(writer.parquetWriteBuffer({ columnData })));
}

/**
 * Copies a table into tensors: `x` the features, `y` the class ids when the
 * table has labels. The caller disposes both.
 *
 * Shapes: `x` `[n, dim]` float32, `y` `[n]` int32.
 *
 * @example
 * const { x, y } = tableToTensors(await readTable("features.csv", { labelColumn: "label" }));
 */
export function tableToTensors(table: Table): { x: tf.Tensor2D; y?: tf.Tensor1D } {
  checkTable("tableToTensors", table);
  const x = tf.tensor2d(table.features, [table.n, table.dim], "float32");
  return table.labels ? { x, y: tf.tensor1d(table.labels, "int32") } : { x };
}

/**
 * A danfo.js DataFrame of a table, to look at it in a notebook: the feature
 * columns, then the label column holding class names (ids without them).
 * danfojs-node is loaded on first use.
 *
 * Shapes: `[n, dim]` (`[n, dim + 1]` with labels).
 *
 * @example
 * tableToDataFrame(table).head().print();
 */
export function tableToDataFrame(table: Table): DataFrame {
  const fn = "tableToDataFrame";
  checkTable(fn, table);
  const data: Record<string, (number | string)[]> = {};
  table.columns.forEach((name, j) => {
    data[name] = Array.from({ length: table.n }, (_, r) => table.features[r * table.dim + j]);
  });
  if (table.labels) data[labelColumnOf(fn, table)] = labelValues(table);
  return new (loadDanfo().DataFrame)(data);
}
