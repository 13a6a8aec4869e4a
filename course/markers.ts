/**
 * Reading an instructor's notebook as an assignment: which cells are
 * exercises, what they are worth, and everything wrong with the markup.
 *
 * The format is nbgrader's, for TypeScript cells:
 * - a *solution cell* (`metadata.nbgrader.solution: true`, `grade_id` = the
 *   exercise id) holds one or more `// BEGIN SOLUTION` ... `// END SOLUTION`
 *   regions, which the student version replaces with a stub;
 * - its *check cell* (`grade: true`, `grade_id` = id + "-check", `points`)
 *   follows it, before the next solution cell, and may hold
 *   `// BEGIN HIDDEN TESTS` ... `// END HIDDEN TESTS` regions that students
 *   never see;
 * - the nearest markdown cell before the solution cell has a heading with
 *   "Exercise" and the points, `(2 points)` or `(1 point)`.
 *
 * Validation lists every problem at once, each naming the notebook and the
 * cell, because an instructor fixes them in one pass. A notebook without
 * nbgrader cells is not an assignment: zero exercises, no problem.
 */
import { cellLabel, nbgraderOf, Notebook, NotebookCell, sourceText } from "./notebook";

/** The two kinds of marked region. */
export type RegionKind = "SOLUTION" | "HIDDEN TESTS";

/** A marked region of a cell's source, by 0-based line numbers of its markers. */
export interface Region {
  kind: RegionKind;
  /** The line of `// BEGIN ...`. */
  begin: number;
  /** The line of `// END ...`. */
  end: number;
  /** The BEGIN marker's indentation, where the student stub goes. */
  indent: string;
}

/** One exercise of an assignment, by 0-based cell indexes in the instructor's notebook. */
export interface Exercise {
  id: string;
  points: number;
  solutionCell: number;
  checkCell: number;
}

/** An instructor's notebook read as an assignment. */
export interface Assignment {
  /** The notebook's file name without `.ipynb`. */
  notebook: string;
  exercises: Exercise[];
  /** The sum of the exercises' points. */
  points: number;
}

/** Every problem found in a notebook's assignment markup, one line each. */
export class AssignmentError extends Error {
  constructor(readonly problems: string[]) {
    super(`${problems.length} problem(s) in the assignment markup:\n  ${problems.join("\n  ")}`);
    this.name = "AssignmentError";
  }
}

/** A marker line: alone on its line, any indentation. */
const MARKER = /^(\s*)\/\/\s*(BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$/;
/** Marker words anywhere: caught so that a marker with other text on its line is not silently left in. */
const MARKER_WORDS = /\b(BEGIN|END) (SOLUTION|HIDDEN TESTS)\b/;

/**
 * The marked regions of a source text, and what is wrong with its markers
 * (nested regions, an unclosed region, END without BEGIN, a marker sharing
 * its line), with 1-based line numbers.
 *
 * @example
 * findRegions("f() {\n  // BEGIN SOLUTION\n  return 1;\n  // END SOLUTION\n}").regions;
 * // [{ kind: "SOLUTION", begin: 1, end: 3, indent: "  " }]
 */
export function findRegions(source: string): { regions: Region[]; problems: string[] } {
  const regions: Region[] = [];
  const problems: string[] = [];
  let open: { kind: RegionKind; begin: number; indent: string } | null = null;
  source.split("\n").forEach((line, i) => {
    const marker = MARKER.exec(line);
    if (!marker) {
      if (MARKER_WORDS.test(line)) problems.push(`line ${i + 1}: a region marker must be alone on its line, got "${line.trim()}"`);
      return;
    }
    const [, indent, which, kind] = marker as unknown as [string, string, "BEGIN" | "END", RegionKind];
    if (which === "BEGIN") {
      if (open) problems.push(`line ${i + 1}: nested region: BEGIN ${kind} inside the ${open.kind} region opened on line ${open.begin + 1}`);
      else open = { kind, begin: i, indent };
    } else if (!open || open.kind !== kind) {
      problems.push(`line ${i + 1}: END ${kind} without BEGIN ${kind}`);
    } else {
      regions.push({ ...open, end: i });
      open = null;
    }
  });
  if (open) {
    const { kind, begin } = open as { kind: RegionKind; begin: number };
    problems.push(`line ${begin + 1}: unclosed region: BEGIN ${kind} has no END ${kind}`);
  }
  return { regions, problems };
}

/** What a cell is in the assignment, or why its nbgrader metadata is unusable. */
type CellRole =
  | { kind: "solution"; id: string }
  | { kind: "check"; id: string; points: unknown }
  | { kind: "other" }
  | { kind: "invalid"; problem: string };

function roleOf(cell: NotebookCell): CellRole {
  const nbgrader = nbgraderOf(cell);
  if (!nbgrader || (nbgrader.solution !== true && nbgrader.grade !== true)) return { kind: "other" };
  const which = nbgrader.solution === true ? "solution" : "check";
  if (nbgrader.solution === true && nbgrader.grade === true) {
    return { kind: "invalid", problem: "nbgrader solution and grade are both true; a cell is either a solution cell or a check cell" };
  }
  if (cell.cell_type !== "code") return { kind: "invalid", problem: `a ${which} cell must be a code cell, this one is ${cell.cell_type}` };
  if (typeof nbgrader.grade_id !== "string" || nbgrader.grade_id.trim() === "") {
    return { kind: "invalid", problem: `a ${which} cell needs a non-empty string grade_id, got ${JSON.stringify(nbgrader.grade_id)}` };
  }
  return which === "solution"
    ? { kind: "solution", id: nbgrader.grade_id }
    : { kind: "check", id: nbgrader.grade_id, points: nbgrader.points };
}

const HEADING = /^ {0,3}#{1,6}\s.*\bExercise\b/;
const POINTS = /\((\d+(?:\.\d+)?) points?\)/;

/** The problem with the heading before a solution cell, or null when it states the check's points. */
function headingProblem(cells: NotebookCell[], solutionCell: number, points: number): string | null {
  const expected = `(${points} ${points === 1 ? "point" : "points"})`;
  let markdown = solutionCell - 1;
  while (markdown >= 0 && cells[markdown].cell_type !== "markdown") markdown--;
  if (markdown < 0) return `missing heading: no markdown cell before it; expected a heading with "Exercise" and "${expected}"`;
  // The last exercise heading of that cell is the one nearest to the solution cell.
  const heading = sourceText(cells[markdown]).split("\n").filter((line) => HEADING.test(line)).pop();
  if (heading === undefined) {
    return `missing heading: markdown cell ${markdown + 1} has no heading line with "Exercise" and "${expected}"`;
  }
  const stated = POINTS.exec(heading);
  if (!stated) return `missing heading points: "${heading.trim()}" (cell ${markdown + 1}) does not state "${expected}"`;
  if (Number(stated[1]) !== points) {
    return `mismatching heading: "${heading.trim()}" (cell ${markdown + 1}) says ${stated[0]}, the check cell gives ${expected}`;
  }
  return null;
}

/**
 * Reads a notebook as an assignment and lists every problem in its markup,
 * each as "<file> cell N (<first line>): <what is wrong>".
 *
 * @example
 * const { assignment, problems } = checkAssignment(readNotebook(file), "04-pretext-vision.ipynb");
 * if (problems.length === 0) console.log(assignment.exercises.map((e) => e.id));
 */
export function checkAssignment(notebook: Notebook, file: string): { assignment: Assignment; problems: string[] } {
  const problems: string[] = [];
  const exercises: Exercise[] = [];
  const at = (i: number, what: string) => problems.push(`${file} ${cellLabel(notebook.cells[i], i)}: ${what}`);
  const solutionCellOf = new Map<string, number>();
  // The solution cell still waiting for its check cell, then the exercise last completed.
  let pending: { id: string; cell: number } | null = null;
  let completed: Exercise | null = null;

  notebook.cells.forEach((cell, i) => {
    const role = roleOf(cell);
    const { regions, problems: markerProblems } = findRegions(sourceText(cell));
    markerProblems.forEach((problem) => at(i, problem));
    const has = (kind: RegionKind) => regions.some((r) => r.kind === kind);
    // A cell with unusable nbgrader metadata gets that one problem: what its markers mean is unknown.
    if (role.kind === "invalid") at(i, role.problem);
    else if (role.kind !== "solution" && has("SOLUTION")) at(i, "solution markers outside a solution cell");
    if (role.kind !== "check" && role.kind !== "invalid" && has("HIDDEN TESTS")) at(i, "hidden-test markers outside a check cell");

    if (role.kind === "solution") {
      if (!has("SOLUTION") && markerProblems.length === 0) at(i, "solution cell without a // BEGIN SOLUTION ... // END SOLUTION region");
      const first = solutionCellOf.get(role.id);
      if (first !== undefined) at(i, `duplicate exercise id "${role.id}" (also the solution cell ${first + 1})`);
      else solutionCellOf.set(role.id, i);
      if (pending) at(pending.cell, `solution cell without a check cell: expected a check cell with grade_id "${pending.id}-check" before the next solution cell`);
      pending = { id: role.id, cell: i };
    } else if (role.kind === "check") {
      if (!pending) {
        at(i, completed
          ? `check cell without a solution cell: exercise "${completed.id}" already has its check cell ${completed.checkCell + 1}`
          : "check cell without a solution cell before it");
        return;
      }
      const expectedId = `${pending.id}-check`;
      if (role.id !== expectedId) at(i, `wrong check grade_id "${role.id}": expected "${expectedId}" for the solution cell ${pending.cell + 1}`);
      const points = role.points;
      if (typeof points !== "number" || !Number.isFinite(points) || points <= 0) {
        at(i, `non-positive points: a check cell's points must be a positive number, got ${JSON.stringify(points)}`);
      } else {
        const problem = headingProblem(notebook.cells, pending.cell, points);
        if (problem) at(pending.cell, problem);
      }
      completed = { id: pending.id, points: typeof points === "number" ? points : 0, solutionCell: pending.cell, checkCell: i };
      exercises.push(completed);
      pending = null;
    }
  });
  const last = pending as { id: string; cell: number } | null;
  if (last) at(last.cell, `solution cell without a check cell: expected a check cell with grade_id "${last.id}-check" after it`);
  const notebookName = file.replace(/^.*[\\/]/, "").replace(/\.ipynb$/, "");
  const points = exercises.reduce((sum, e) => sum + e.points, 0);
  return { assignment: { notebook: notebookName, exercises, points }, problems };
}

/**
 * Reads a notebook as an assignment, throwing an AssignmentError that lists
 * every problem when its markup is wrong.
 *
 * @example
 * const assignment = parseAssignment(readNotebook(file), "04-pretext-vision.ipynb");
 * assignment.exercises; // [{ id: "04-1-nt-xent-mask", points: 2, solutionCell: 12, checkCell: 13 }, ...]
 */
export function parseAssignment(notebook: Notebook, file: string): Assignment {
  const { assignment, problems } = checkAssignment(notebook, file);
  if (problems.length > 0) throw new AssignmentError(problems);
  return assignment;
}
