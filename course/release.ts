/**
 * The two released versions of an instructor's notebook:
 * - the *student* version: every solution region becomes a stub that throws
 *   "not implemented yet", hidden tests are removed, outputs are cleared;
 * - the *autograder* version: the same stubs, but the hidden tests stay.
 *   The grader runs it with the submission's solution cells put in, so the
 *   tests a student sees (or edits) are never the ones that grade them.
 *
 * Both record `metadata.assignment` (notebook name, exercises and points) so
 * a submission is identified even when its file was renamed.
 */
import { Assignment, findRegions, Region, RegionKind } from "./markers";
import { AssignmentMetadata, Notebook, NotebookCell, sourceText } from "./notebook";

/** The first line of every stub, where the student writes. */
export const YOUR_CODE_HERE = "// YOUR CODE HERE";

/**
 * The lines that replace a solution region in the released versions.
 *
 * @example
 * stubLines("add", "  ");
 * // ['  // YOUR CODE HERE',
 * //  '  throw new Error("Exercise add: not implemented yet (replace this line with your code)");']
 */
export function stubLines(exerciseId: string, indent: string): string[] {
  const message = `Exercise ${exerciseId}: not implemented yet (replace this line with your code)`;
  return [`${indent}${YOUR_CODE_HERE}`, `${indent}throw new Error(${JSON.stringify(message)});`];
}

/**
 * The source with each region of one kind (markers included) replaced by the
 * lines `replace` returns for it; everything around the regions is kept.
 *
 * @example
 * replaceRegions("a\n// BEGIN SOLUTION\nb\n// END SOLUTION\nc", "SOLUTION", () => ["x"]); // "a\nx\nc"
 */
export function replaceRegions(source: string, kind: RegionKind, replace: (region: Region, lines: string[]) => string[]): string {
  const lines = source.split("\n");
  const regions = findRegions(source).regions.filter((r) => r.kind === kind);
  // From the last region up, so the earlier regions' line numbers stay right.
  for (const region of [...regions].reverse()) {
    const inside = lines.slice(region.begin + 1, region.end);
    lines.splice(region.begin, region.end - region.begin + 1, ...replace(region, inside));
  }
  return lines.join("\n");
}

/**
 * The assignment's description as released notebooks record it.
 *
 * @example
 * assignmentMetadata(assignment); // { notebook: "04-pretext-vision", exercises: [{ id: "04-1-nt-xent-mask", points: 2 }] }
 */
export function assignmentMetadata(assignment: Assignment): AssignmentMetadata {
  return { notebook: assignment.notebook, exercises: assignment.exercises.map(({ id, points }) => ({ id, points })) };
}

/** A released version: stubs for solutions; hidden tests removed or kept without their markers. */
function releasedVersion(notebook: Notebook, assignment: Assignment, hiddenTests: "remove" | "keep"): Notebook {
  const copy = JSON.parse(JSON.stringify(notebook)) as Notebook;
  const exerciseAt = new Map(assignment.exercises.map((e) => [e.solutionCell, e]));
  const checkCells = new Set(assignment.exercises.map((e) => e.checkCell));
  copy.cells.forEach((cell: NotebookCell, i) => {
    if (cell.cell_type === "code") {
      // Outputs could show the solution's results; timing metadata is noise.
      cell.outputs = [];
      cell.execution_count = null;
      delete cell.metadata.execution;
    }
    const exercise = exerciseAt.get(i);
    if (exercise) {
      cell.source = replaceRegions(sourceText(cell), "SOLUTION", (region) => stubLines(exercise.id, region.indent));
      // Jupyter then refuses to delete it, so the answer is not lost by a slip.
      cell.metadata.deletable = false;
    }
    if (checkCells.has(i)) {
      cell.source = replaceRegions(sourceText(cell), "HIDDEN TESTS", (_, inside) => (hiddenTests === "keep" ? inside : []));
      // Jupyter shows the tests read-only; the grader ignores edits to them anyway.
      cell.metadata.editable = false;
      cell.metadata.deletable = false;
    }
  });
  copy.metadata.assignment = assignmentMetadata(assignment);
  return copy;
}

/**
 * The student version: solution regions replaced by a stub at the BEGIN
 * marker's indentation, hidden tests removed, outputs cleared.
 *
 * @example
 * writeNotebook("build/assignments/student/04-pretext-vision.ipynb", studentVersion(nb, parseAssignment(nb, file)));
 */
export function studentVersion(notebook: Notebook, assignment: Assignment): Notebook {
  const student = releasedVersion(notebook, assignment, "remove");
  const leaked = student.cells.findIndex((cell) => /BEGIN (SOLUTION|HIDDEN TESTS)/.test(sourceText(cell)));
  if (leaked >= 0) {
    // parseAssignment rejects every way this could happen; this guards the guarantee itself.
    throw new Error(`studentVersion: cell ${leaked + 1} of ${assignment.notebook} still holds a region marker`);
  }
  return student;
}

/**
 * The autograder version: solution regions replaced by the stub, hidden
 * tests kept (their markers removed), outputs cleared.
 *
 * @example
 * writeNotebook("build/assignments/autograder/04-pretext-vision.ipynb", autograderVersion(nb, assignment));
 */
export function autograderVersion(notebook: Notebook, assignment: Assignment): Notebook {
  return releasedVersion(notebook, assignment, "keep");
}
