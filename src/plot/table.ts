/**
 * Tables of results: runs compared side by side (method, seed, probe
 * accuracy, images/s), shown in the notebook as clean HTML.
 *
 * Takes a danfo.js `DataFrame` or an array of plain row objects (converted to
 * a DataFrame). danfojs-node is heavy (about half a second to load), so it is
 * loaded on first use, not when the library is imported. The workbook's npm
 * overrides point its `@tensorflow/tfjs-node` at the workbook's
 * `@tensorflow/tfjs`: one TensorFlow.js engine for both.
 */
import type { DataFrame } from "danfojs-node";
import { tf } from "../backend/tf";
import { escapeHtml } from "./html";
import { kernelDisplay, type HtmlDisplay } from "./show";
import { checkIntegerInRange } from "../validation/arguments";

/** What tables read from a DataFrame: its column names, row index and rows of values. */
export interface DataFrameLike {
  readonly columns: readonly string[];
  readonly index: readonly (string | number)[];
  readonly values: readonly (readonly unknown[])[] | readonly unknown[];
}

/** One row of a table: column name -> cell (number, string, boolean, null, or a scalar tensor). */
// `object`, not `Record<string, unknown>`: rows typed by an interface (e.g.
// `EvaluationRow`) have no index signature and must still be accepted.
export type TableRow = object;

/** A table: a DataFrame, or rows with the same keys. */
export type TableInput = DataFrameLike | readonly TableRow[];

/** Options of {@link tableHtml} and {@link showTable}. */
export interface TableOptions {
  /**
   * Decimals of non-integer numbers: one count for all columns or per column
   * name (a column named here always gets that many, even integers).
   * Default 3. Non-zero numbers too small to show are written in exponent form.
   */
  decimals?: number | Readonly<Record<string, number>>;
  /** A caption above the table. */
  caption?: string;
  /** Show the row index; default only when it is not 0, 1, 2, ... */
  showIndex?: boolean;
  /** Bold the best cell of these numeric columns: `{ accuracy: "max", loss: "min" }`. */
  highlight?: Readonly<Record<string, "max" | "min">>;
}

type DanfoModule = typeof import("danfojs-node");

let sameEngineChecked = false;

/**
 * Loads danfojs-node (cached by Node after the first call) and checks that it
 * shares the workbook's TensorFlow.js (one tfjs-core: the same `Tensor` class),
 * warning once if not.
 *
 * @example
 * const dfd = loadDanfo();
 * const df = new dfd.DataFrame({ method: ["raw", "SimCLR"], acc: [0.86, 0.93] });
 */
export function loadDanfo(): DanfoModule {
  let danfo: DanfoModule;
  try {
    danfo = require("danfojs-node") as DanfoModule;
  } catch (e) {
    throw new Error(`loadDanfo: danfojs-node could not be loaded (${(e as Error).message}); run npm install in the workbook`);
  }
  if (!sameEngineChecked) {
    sameEngineChecked = true;
    const theirs = danfo.tensorflow as unknown as typeof tf;
    if (theirs.Tensor !== tf.Tensor) {
      console.warn(
        "loadDanfo: danfojs-node loaded a second copy of @tensorflow/tfjs-core; its tensors are not the workbook's. " +
          'Check the "overrides" for danfojs-node in package.json.',
      );
    }
  }
  return danfo;
}

function isDataFrameLike(value: unknown): value is DataFrameLike {
  const v = value as DataFrameLike;
  return typeof value === "object" && value !== null && !Array.isArray(value) && Array.isArray(v.columns) && Array.isArray(v.index) && Array.isArray(v.values);
}

function readCell(value: unknown, where: string): unknown {
  if (value instanceof tf.Tensor) {
    if (value.size !== 1) throw new Error(`${where} is a tensor of shape [${value.shape}]; a table cell takes a scalar`);
    return value.dataSync()[0];
  }
  return value;
}

/**
 * Converts rows (objects with the same keys) to a danfo.js DataFrame, columns
 * in the order of the first row's keys. Scalar tensors become numbers.
 *
 * Shapes: `n` rows of `k` keys -> DataFrame `[n, k]`.
 *
 * @example
 * const df = toDataFrame([{ method: "raw", acc: 0.86 }, { method: "SimCLR", acc: 0.93 }]);
 */
export function toDataFrame(rows: readonly TableRow[], fn = "toDataFrame"): DataFrame {
  if (!Array.isArray(rows) || rows.length === 0) {
    throw new Error(`${fn}: rows must be a non-empty array of objects, got ${Array.isArray(rows) ? "[]" : typeof rows}`);
  }
  const columns = Object.keys(rows[0]);
  if (columns.length === 0) throw new Error(`${fn}: rows[0] has no keys`);
  const values = rows.map((row, i) => {
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw new Error(`${fn}: rows[${i}] must be an object, got ${Array.isArray(row) ? "an array" : row === null ? "null" : typeof row}`);
    }
    const keys = Object.keys(row);
    if (keys.length !== columns.length || keys.some((k) => !columns.includes(k))) {
      throw new Error(`${fn}: rows[${i}] has keys [${keys.join(", ")}], expected [${columns.join(", ")}] (the keys of rows[0])`);
    }
    return columns.map((c) => readCell(row[c], `${fn}: rows[${i}].${c}`));
  });
  const dfd = loadDanfo();
  return new dfd.DataFrame(values, { columns });
}

/** How one number is written with `decimals` fixed decimals. */
export function formatNumber(value: number, decimals: number, integerColumn = false): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "∞";
  if (value === -Infinity) return "−∞";
  if (integerColumn) return String(value);
  // Non-zero values that would print as 0.000: keep their magnitude visible.
  if (value !== 0 && Math.abs(value) < 0.5 * Math.pow(10, -decimals)) return value.toExponential(Math.max(1, decimals - 1));
  return value.toFixed(decimals);
}

interface PreparedTable {
  columns: string[];
  index: (string | number)[];
  rows: unknown[][];
  showIndex: boolean;
  cells: string[][];
  numeric: boolean[];
  best: (number | undefined)[];
}

function prepare(table: TableInput, options: TableOptions, fn: string): PreparedTable {
  let df: DataFrameLike;
  if (isDataFrameLike(table)) df = table;
  else if (Array.isArray(table)) df = toDataFrame(table, fn);
  else throw new Error(`${fn}: table must be a DataFrame or an array of row objects, got ${table === null ? "null" : typeof table}`);
  const columns = df.columns.map(String);
  const rows = (df.values as unknown[]).map((row, i) => {
    if (!Array.isArray(row)) {
      throw new Error(`${fn}: table.values must be rows (a DataFrame), got a flat array (a Series?) at row ${i}`);
    }
    if (row.length !== columns.length) {
      throw new Error(`${fn}: table row ${i} has ${row.length} values for ${columns.length} columns [${columns.join(", ")}]`);
    }
    return row.map((cell, j) => readCell(cell, `${fn}: table row ${i}, column ${columns[j]}`));
  });
  const index = df.index.slice();
  if (index.length !== rows.length) throw new Error(`${fn}: table.index has ${index.length} entries for ${rows.length} rows`);

  const decimalsFor = (column: string): number | undefined => (typeof options.decimals === "object" ? options.decimals[column] : options.decimals);
  const checkDecimals = (d: number, what: string) => {
    checkIntegerInRange(fn, what, d, 0, 20);
  };
  if (typeof options.decimals === "number") checkDecimals(options.decimals, "options.decimals");
  else if (options.decimals !== undefined) {
    for (const [column, d] of Object.entries(options.decimals)) {
      if (!columns.includes(column)) throw new Error(`${fn}: options.decimals names column "${column}", not among [${columns.join(", ")}]`);
      checkDecimals(d, `options.decimals.${column}`);
    }
  }
  const isBlank = (v: unknown) => v === null || v === undefined;
  const numeric = columns.map((_, j) => rows.every((r) => typeof r[j] === "number" || isBlank(r[j])) && rows.some((r) => typeof r[j] === "number"));
  const best: (number | undefined)[] = columns.map(() => undefined);
  for (const [column, mode] of Object.entries(options.highlight ?? {})) {
    const j = columns.indexOf(column);
    if (j < 0) throw new Error(`${fn}: options.highlight names column "${column}", not among [${columns.join(", ")}]`);
    if (!numeric[j]) throw new Error(`${fn}: options.highlight column "${column}" is not numeric`);
    if (mode !== "max" && mode !== "min") throw new Error(`${fn}: options.highlight.${column} must be "max" or "min", got ${JSON.stringify(mode)}`);
    const finite = rows.map((r) => r[j]).filter((v): v is number => typeof v === "number" && !Number.isNaN(v));
    if (finite.length > 0) best[j] = mode === "max" ? Math.max(...finite) : Math.min(...finite);
  }
  const cells = rows.map((row) =>
    row.map((v, j) => {
      if (isBlank(v)) return "";
      if (typeof v === "number") {
        const explicit = decimalsFor(columns[j]);
        const integerColumn =
          typeof options.decimals === "object" && explicit !== undefined
            ? false
            : rows.every((r) => isBlank(r[j]) || (typeof r[j] === "number" && Number.isInteger(r[j])));
        return formatNumber(v, explicit ?? 3, integerColumn);
      }
      if (typeof v === "string") return v;
      if (typeof v === "boolean" || typeof v === "bigint") return String(v);
      if (v instanceof Date) return v.toISOString();
      return JSON.stringify(v) ?? String(v);
    }),
  );
  const defaultIndex = index.every((v, i) => v === i);
  return { columns, index, rows, showIndex: options.showIndex ?? !defaultIndex, cells, numeric, best };
}

const CELL = "padding:4px 12px;border-bottom:1px solid #e3e3e3;";
const HEAD = "padding:6px 12px;border-bottom:2px solid #555;font-weight:600;background:#fff;";

/**
 * A table as HTML: a header row, numbers right-aligned with fixed decimals
 * (integer columns without), optional caption and bold best cells. Pure
 * except for loading danfojs-node when given rows.
 *
 * Shapes: DataFrame `[n, k]` -> `<table>` of n rows and k columns.
 *
 * @example
 * tableHtml([{ method: "raw", acc: 0.8612 }, { method: "SimCLR", acc: 0.9345 }], { caption: "linear probe", highlight: { acc: "max" } });
 */
export function tableHtml(table: TableInput, options: TableOptions = {}): string {
  const t = prepare(table, options, "tableHtml");
  const align = (j: number) => (t.numeric[j] ? "text-align:right;font-variant-numeric:tabular-nums;" : "text-align:left;");
  const header = [
    ...(t.showIndex ? [`<th style="${HEAD}text-align:left"></th>`] : []),
    ...t.columns.map((c, j) => `<th style="${HEAD}${align(j)}">${escapeHtml(c)}</th>`),
  ].join("");
  const body = t.cells
    .map((row, i) => {
      const index = t.showIndex ? `<th style="${CELL}text-align:left;font-weight:600">${escapeHtml(String(t.index[i]))}</th>` : "";
      const tds = row
        .map((text, j) => {
          const v = t.rows[i][j];
          const bold = t.best[j] !== undefined && v === t.best[j] ? "font-weight:700;" : "";
          return `<td style="${CELL}${align(j)}${bold}">${escapeHtml(text)}</td>`;
        })
        .join("");
      return `<tr>${index}${tds}</tr>`;
    })
    .join("\n");
  // A <caption> is as wide as its table, so a long one wrapped into a narrow
  // column above a small table: a block above the table reads better.
  const caption =
    options.caption === undefined
      ? ""
      : `<div class="ssl-workbook-caption" style="font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:13px;font-weight:600;margin:6px 0 2px">${escapeHtml(options.caption)}</div>`;
  return [
    caption,
    `<table class="ssl-workbook-table" style="border-collapse:collapse;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:13px;margin:6px 0">`,
    `<thead><tr>${header}</tr></thead>`,
    `<tbody>\n${body}\n</tbody>`,
    `</table>`,
  ].join("\n");
}

/**
 * A table as aligned plain text (for a terminal), formatted as {@link tableHtml}.
 *
 * @example
 * console.log(tableText(rows, { decimals: 4 }));
 */
export function tableText(table: TableInput, options: TableOptions = {}): string {
  const t = prepare(table, options, "tableText");
  const head = [...(t.showIndex ? [""] : []), ...t.columns];
  const body = t.cells.map((row, i) => [...(t.showIndex ? [String(t.index[i])] : []), ...row]);
  const numeric = [...(t.showIndex ? [false] : []), ...t.numeric];
  const widths = head.map((h, j) => Math.max(h.length, ...body.map((r) => r[j].length)));
  const line = (cells: string[]) => cells.map((c, j) => (numeric[j] ? c.padStart(widths[j]) : c.padEnd(widths[j]))).join("  ").trimEnd();
  return [
    ...(options.caption ? [options.caption] : []),
    line(head),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...body.map(line),
  ].join("\n");
}

/**
 * Shows a table in the notebook (tslab display); outside a kernel, prints it
 * as text ({@link tableText}) instead. Returns nothing, so the cell does not
 * also print a value; {@link tableHtml} gives the HTML.
 *
 * Shapes: DataFrame `[n, k]` or `n` rows of `k` keys.
 *
 * @example
 * showTable(results, { caption: "Linear probe on MNIST (3 seeds)", decimals: 3, highlight: { accuracy: "max" } });
 */
export function showTable(table: TableInput, options: TableOptions & { display?: HtmlDisplay } = {}): void {
  const display = options.display ?? kernelDisplay();
  if (display) display.html(tableHtml(table, options));
  else console.log(tableText(table, options));
}
