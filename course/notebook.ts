/**
 * The few parts of an nbformat 4 notebook the course tools read and write,
 * and the notebook file format itself (JSON with one-space indentation,
 * sorted keys, sources split into lines and a trailing newline, as nbformat
 * writes it, so a released notebook diffs cleanly against one Jupyter saved).
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The nbgrader fields of a cell (`metadata.nbgrader`); see course/markers.ts for their meaning. */
export interface NbgraderMetadata {
  grade_id?: unknown;
  solution?: unknown;
  grade?: unknown;
  points?: unknown;
  locked?: unknown;
  schema_version?: unknown;
}

/** One output of a code cell, as nbclient writes it. */
export interface CellOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  ename?: string;
  evalue?: string;
  [key: string]: unknown;
}

/** One cell. Fields this code does not use are kept as they are. */
export interface NotebookCell {
  cell_type: string;
  id?: string;
  metadata: { nbgrader?: NbgraderMetadata; [key: string]: unknown };
  source: string | string[];
  outputs?: CellOutput[];
  execution_count?: number | null;
  [key: string]: unknown;
}

/** What a released notebook records about itself (`metadata.assignment`), so a renamed submission is still identified. */
export interface AssignmentMetadata {
  /** The released notebook's file name without `.ipynb`. */
  notebook: string;
  /** Every exercise in notebook order, with its points. */
  exercises: { id: string; points: number }[];
}

/** A whole notebook. */
export interface Notebook {
  cells: NotebookCell[];
  metadata: { assignment?: AssignmentMetadata; [key: string]: unknown };
  nbformat: number;
  nbformat_minor: number;
}

/**
 * A cell's source as one string (nbformat stores it as a string or a list of lines).
 *
 * @example
 * sourceText({ cell_type: "code", metadata: {}, source: ["a\n", "b"] }); // "a\nb"
 */
export function sourceText(cell: { source: string | string[] }): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/**
 * Splits text into lines that keep their "\n", as nbformat stores sources.
 *
 * @example
 * splitLines("a\nb\n"); // ["a\n", "b\n"]
 */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/**
 * How errors name a cell: its 1-based index and its first non-empty line.
 *
 * @example
 * cellLabel({ cell_type: "code", metadata: {}, source: "\nfunction add() {\n}" }, 3); // 'cell 4 (function add() {)'
 */
export function cellLabel(cell: { source: string | string[] }, index: number): string {
  const first = sourceText(cell).split("\n").find((line) => line.trim() !== "")?.trim() ?? "empty";
  const shown = first.length > 60 ? `${first.slice(0, 57)}...` : first;
  return `cell ${index + 1} (${shown})`;
}

/**
 * The cell's nbgrader metadata, or undefined for an ordinary cell.
 *
 * @example
 * nbgraderOf({ cell_type: "code", metadata: { nbgrader: { grade_id: "add" } }, source: "" })?.grade_id; // "add"
 */
export function nbgraderOf(cell: NotebookCell): NbgraderMetadata | undefined {
  const value = cell.metadata?.nbgrader;
  return value !== null && typeof value === "object" ? value : undefined;
}

/**
 * Parses notebook JSON, failing with the file's name when it is not JSON or
 * not an nbformat 4 notebook (the grader turns this into a zero with the reason).
 *
 * @example
 * parseNotebook('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', "a.ipynb").cells; // []
 */
export function parseNotebook(text: string, file: string): Notebook {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const nb = value as Partial<Notebook> | null;
  if (nb === null || typeof nb !== "object" || !Array.isArray(nb.cells)) {
    throw new Error(`${file} is not a notebook: expected a JSON object with a "cells" array`);
  }
  if (nb.nbformat !== 4) {
    throw new Error(`${file} is not an nbformat 4 notebook: nbformat is ${JSON.stringify(nb.nbformat)}`);
  }
  nb.cells.forEach((cell, i) => {
    if (cell === null || typeof cell !== "object" || typeof cell.cell_type !== "string") {
      throw new Error(`${file} is not a notebook: cell ${i + 1} has no cell_type`);
    }
    if (typeof cell.source !== "string" && !(Array.isArray(cell.source) && cell.source.every((s) => typeof s === "string"))) {
      throw new Error(`${file} is not a notebook: cell ${i + 1} has no source text`);
    }
    if (cell.metadata === null || typeof cell.metadata !== "object") cell.metadata = {};
  });
  if (nb.metadata === null || typeof nb.metadata !== "object") nb.metadata = {};
  return nb as Notebook;
}

/**
 * Reads and parses a notebook file.
 *
 * @example
 * const nb = readNotebook("notebooks/00-getting-started.ipynb");
 */
export function readNotebook(file: string): Notebook {
  return parseNotebook(fs.readFileSync(file, "utf8"), file);
}

/** A copy with object keys sorted at every level, as Python's json.dumps(sort_keys=True) writes them. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, sortedKeys(v)]));
}

/**
 * The notebook as nbformat writes it: sources split into lines, keys sorted,
 * one-space indentation and a trailing newline.
 *
 * @example
 * notebookJson({ cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 });
 * // '{\n "cells": [],\n "metadata": {},\n "nbformat": 4,\n "nbformat_minor": 5\n}\n'
 */
export function notebookJson(notebook: Notebook): string {
  const cells = notebook.cells.map((cell) => ({ ...cell, source: splitLines(sourceText(cell)) }));
  return JSON.stringify(sortedKeys({ ...notebook, cells }), null, 1) + "\n";
}

/**
 * Writes a notebook in nbformat's layout, creating its folder.
 *
 * @example
 * writeNotebook("build/assignments/student/04-pretext-vision.ipynb", student);
 */
export function writeNotebook(file: string, notebook: Notebook): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, notebookJson(notebook));
}
