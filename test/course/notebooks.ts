/**
 * Small notebooks for the course tools' tests: cells built in code, and the
 * fixture assignment (fixtures/arithmetic.ipynb: exercises add 2 points, an
 * async mean 3 points, total 1 point, then a cell after the last check).
 */
import * as path from "node:path";
import { Notebook, NotebookCell, readNotebook, sourceText } from "../../course/notebook";

/** The fixture folder (the .ipynb files stay in test/, next to this file's source). */
export const FIXTURES = path.resolve(__dirname, "..", "..", "..", "test", "course", "fixtures");

/** The fixture assignment, freshly read. */
export function arithmetic(): Notebook {
  return readNotebook(path.join(FIXTURES, "arithmetic.ipynb"));
}

/** A markdown cell. */
export function markdown(source: string): NotebookCell {
  return { cell_type: "markdown", metadata: {}, source };
}

/** A code cell, without outputs. */
export function code(source: string, metadata: NotebookCell["metadata"] = {}): NotebookCell {
  return { cell_type: "code", execution_count: null, metadata, outputs: [], source };
}

/** A solution cell (nbgrader solution: true) for exercise `gradeId`. */
export function solutionCell(gradeId: string, source: string): NotebookCell {
  return code(source, { nbgrader: { grade: false, grade_id: gradeId, locked: false, schema_version: 3, solution: true } });
}

/** A check cell (nbgrader grade: true); `points` is unknown so tests can give wrong ones. */
export function checkCell(gradeId: string, points: unknown, source: string): NotebookCell {
  return code(source, { nbgrader: { grade: true, grade_id: gradeId, locked: true, points, schema_version: 3, solution: false } });
}

/** A well-formed exercise: heading, solution cell with one region, check cell. */
export function exercise(id: string, points: number): NotebookCell[] {
  return [
    markdown(`## Exercise: ${id} (${points} ${points === 1 ? "point" : "points"})`),
    solutionCell(id, `function ${id}(): number {\n  // BEGIN SOLUTION\n  return 1;\n  // END SOLUTION\n}`),
    checkCell(`${id}-check`, points, `if (${id}() !== 1) throw new Error("Exercise ${id}: wrong");`),
  ];
}

/** An nbformat 4.5 notebook of these cells, with empty metadata. */
export function notebook(cells: NotebookCell[]): Notebook {
  return { cells, metadata: {}, nbformat: 4, nbformat_minor: 5 };
}

/** A copy of a released notebook with the given solution cells' sources (by grade_id) put in. */
export function withSolutions(released: Notebook, sources: Record<string, string>): Notebook {
  const copy = JSON.parse(JSON.stringify(released)) as Notebook;
  for (const cell of copy.cells) {
    const id = cell.metadata.nbgrader?.grade_id;
    if (typeof id === "string" && id in sources) cell.source = sources[id];
  }
  return copy;
}

/** The index of the cell with this grade_id, failing loudly when there is none. */
export function cellIndex(nb: Notebook, gradeId: string): number {
  const i = nb.cells.findIndex((c) => c.metadata.nbgrader?.grade_id === gradeId);
  if (i < 0) throw new Error(`no cell with grade_id ${gradeId} in ${nb.cells.map((c) => sourceText(c).slice(0, 20)).join(" | ")}`);
  return i;
}
