/**
 * Grading one submission: put the student's solution cells into the
 * autograder version, run it through the workbook kernel, and score it.
 *
 * Only solution cells (matched by grade_id) come from the submission; every
 * other cell, the check cells with their hidden tests included, comes from the
 * autograder version, so deleting, reordering or weakening tests changes
 * nothing. An exercise gets its points iff its check cell ran without error.
 * Cells no graded cell needs (training runs, figures) are not run at all.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cellsNeededForGrading } from "./dependencies";
import { AssignmentMetadata, nbgraderOf, Notebook, NotebookCell, sourceText, writeNotebook } from "./notebook";

/** Why an exercise whose solution cell the submission lacks scores zero. */
export const MISSING_CELL = "exercise cell not found in the submission";

/** The autograder version with the submission's solution cells in it. */
export interface AssembledSubmission {
  notebook: Notebook;
  /** Exercises whose solution cell the submission lacks (they keep the stub and score zero). */
  missing: string[];
  /** Remarks for the feedback, by exercise id (e.g. a duplicated solution cell). */
  notes: Record<string, string>;
}

/** How one code cell of the assembled notebook ran, as scripts/grade_notebook.py reports it. */
export interface CellStatus {
  /** 0-based cell index. */
  index: number;
  status: "ok" | "error" | "timeout" | "not-run";
  ename?: string;
  evalue?: string;
  stderr?: string;
  /** Why a cell timed out or did not run. */
  reason?: string;
  seconds?: number;
}

/** The executor's report: one status per code cell, and a failure of the run as a whole. */
export interface ExecutionReport {
  cells: CellStatus[];
  error?: string;
  seconds?: number;
}

/** One exercise's result. */
export interface ExerciseResult {
  id: string;
  points: number;
  maxPoints: number;
  message: string;
}

/** A submission's grade, as written to feedback.json. */
export interface Feedback {
  /** The submission's id: its path relative to the graded folder, without .ipynb. */
  submission: string;
  /** The released notebook it was graded as, or null when that could not be told. */
  notebook: string | null;
  points: number;
  maxPoints: number;
  exercises: ExerciseResult[];
  /** What went wrong with grading itself: an unreadable or unidentified submission, a kernel that failed. */
  error?: string;
}

const gradeIdOf = (cell: NotebookCell): unknown => nbgraderOf(cell)?.grade_id;
const isSolutionCell = (cell: NotebookCell): boolean => cell.cell_type === "code" && nbgraderOf(cell)?.solution === true;

/**
 * The autograder version with each solution cell's source taken from the
 * submission's code cell of the same grade_id (the first, if the student
 * duplicated it); nothing else is taken from the submission.
 *
 * @example
 * const { notebook, missing } = assembleSubmission(readNotebook("build/assignments/autograder/arithmetic.ipynb"), submission);
 */
export function assembleSubmission(autograder: Notebook, submission: Notebook): AssembledSubmission {
  const notebook = JSON.parse(JSON.stringify(autograder)) as Notebook;
  const missing: string[] = [];
  const notes: Record<string, string> = {};
  for (const cell of notebook.cells) {
    if (!isSolutionCell(cell)) continue;
    const id = gradeIdOf(cell) as string;
    const candidates = submission.cells.filter((c) => isSolutionCell(c) && gradeIdOf(c) === id);
    if (candidates.length === 0) {
      missing.push(id);
      continue;
    }
    if (candidates.length > 1) notes[id] = `the submission has ${candidates.length} cells for exercise ${id}; the first was graded`;
    cell.source = sourceText(candidates[0]);
  }
  return { notebook, missing, notes };
}

/**
 * The index of the last check cell: cells after it cannot change the grade,
 * so the grader stops there unless asked to run everything. -1 when there is none.
 *
 * @example
 * lastCheckCell(autograder); // 10
 */
export function lastCheckCell(notebook: Notebook): number {
  let last = -1;
  notebook.cells.forEach((cell, i) => {
    if (nbgraderOf(cell)?.grade === true) last = i;
  });
  return last;
}

/**
 * The code cells up to `lastCell` that grading does not run because no graded
 * cell needs them (course/dependencies.ts): training runs and figures.
 *
 * @example
 * cellsSkippedWhenGrading(autograder, lastCheckCell(autograder)); // e.g. [3, 5, 8]
 */
export function cellsSkippedWhenGrading(notebook: Notebook, lastCell: number): number[] {
  const needed = cellsNeededForGrading(notebook, lastCell);
  const last = lastCell < 0 ? notebook.cells.length - 1 : lastCell;
  return notebook.cells.flatMap((cell, i) => (cell.cell_type === "code" && i <= last && !needed.has(i) ? [i] : []));
}

const joined = (text: string | string[] | undefined): string => (Array.isArray(text) ? text.join("") : text ?? "");

/** The text a cell wrote to one stream. */
function streamText(cell: NotebookCell | undefined, name: "stdout" | "stderr"): string {
  return (cell?.outputs ?? []).filter((o) => o.output_type === "stream" && o.name === name).map((o) => joined(o.text)).join("");
}

/** TypeScript diagnostics as tslab prints them: "LINE:COLUMN - message". */
const DIAGNOSTIC = /^(\S+ )?\d+:\d+ - /;

/**
 * The error a failed cell's stderr shows. tslab reports every failure with an
 * empty error: a compile error as diagnostics ("3:1 - Cannot find name
 * 'add'."), a thrown error as Node prints it (a source excerpt, a blank line,
 * "TypeError: message", the stack). The "Error: " of a plain Error and the
 * "CheckFailed: " of a failed `check` are dropped.
 *
 * @example
 * stderrMessage("evalmachine.<anonymous>:5\n  throw e;\n  ^\n\nError: Exercise add: wrong\n    at add (x:1:1)\n"); // "Exercise add: wrong"
 */
export function stderrMessage(stderr: string): string {
  const lines = stderr.split("\n");
  const diagnostics = lines.filter((line) => DIAGNOSTIC.test(line));
  if (diagnostics.length > 0) {
    const more = diagnostics.length > 3 ? ` (and ${diagnostics.length - 3} more)` : "";
    return `does not compile: ${diagnostics.slice(0, 3).join("; ")}${more}`;
  }
  const firstFrame = lines.findIndex((line) => /^\s+at /.test(line));
  const beforeStack = firstFrame >= 0 ? lines.slice(0, firstFrame) : lines;
  // Node prefixes an error thrown in cell code with "evalmachine.<anonymous>:LINE", the line and a caret, then a blank line.
  const excerpt = beforeStack.map((line) => /^evalmachine\.<anonymous>:\d+$/.test(line)).lastIndexOf(true);
  const start = excerpt >= 0 ? beforeStack.indexOf("", excerpt) + 1 : 0;
  const errorLine = /^[A-Za-z_$][\w$.]*( \[\w+\])?: /;
  const candidates = beforeStack.slice(start).filter((line) => line.trim() !== "");
  // Without the excerpt (after an await) other stderr output may come first: prefer the "Name: message" line.
  const line = (excerpt >= 0 ? candidates[0] : candidates.filter((l) => errorLine.test(l)).pop() ?? candidates.pop()) ?? "";
  // Node brackets an error whose stack has no call frames: "[CheckFailed: sentence]".
  return line.trim().replace(/^\[(.*)\]$/, "$1").replace(/^(Error|CheckFailed): /, "").trim();
}

/**
 * What a failed or unrun cell's status says, in one line.
 *
 * @example
 * failureMessage({ index: 4, status: "error", ename: "", evalue: "", stderr: "1:1 - Cannot find name 'add'.\n" });
 * // "does not compile: 1:1 - Cannot find name 'add'."
 */
export function failureMessage(status: CellStatus): string {
  if (status.status === "timeout" || status.status === "not-run") return status.reason ?? status.status;
  const evalue = (status.evalue ?? "").split("\n")[0].trim();
  if (evalue) return status.ename && status.ename !== "Error" ? `${status.ename}: ${evalue}` : evalue;
  return stderrMessage(status.stderr ?? "") || "the cell failed without an error message (after a flood of output it may be lost)";
}

/**
 * Scores an executed assembled notebook from its cell statuses: an exercise
 * gets its points iff its check cell ran without error (and the submission
 * had its solution cell). The message is the passing line the check printed
 * ("✓ ..."), the check's error, or why it did not run.
 *
 * @example
 * scoreSubmission("alice/arithmetic", { assembled, executed, report });
 * // { submission: "alice/arithmetic", notebook: "arithmetic", points: 3, maxPoints: 6, exercises: [...] }
 */
export function scoreSubmission(
  submission: string,
  run: { assembled: AssembledSubmission; executed: Notebook; report: ExecutionReport },
): Feedback {
  const { assembled, executed, report } = run;
  const assignment = assembled.notebook.metadata.assignment as AssignmentMetadata;
  const statusOf = new Map(report.cells.map((s) => [s.index, s]));
  const indexOf = (gradeId: string) => executed.cells.findIndex((cell) => gradeIdOf(cell) === gradeId);
  const exercises = assignment.exercises.map(({ id, points: maxPoints }): ExerciseResult => {
    const note = assembled.notes[id] ? ` (${assembled.notes[id]})` : "";
    const result = (points: number, message: string) => ({ id, points, maxPoints, message: message + note });
    if (assembled.missing.includes(id)) return result(0, MISSING_CELL);
    const checkIndex = indexOf(`${id}-check`);
    const check = statusOf.get(checkIndex);
    if (!check) return result(0, report.error ?? "the check cell has no status: the executor did not report it");
    if (check.status === "ok") {
      const passed = streamText(executed.cells[checkIndex], "stdout").split("\n").find((line) => line.trimStart().startsWith("✓"));
      return result(maxPoints, passed?.trim() ?? "passed");
    }
    const solution = statusOf.get(indexOf(id));
    const cause = check.status === "error" && solution && solution.status !== "ok" ? ` (the exercise cell itself failed: ${failureMessage(solution)})` : "";
    return result(0, failureMessage(check) + cause);
  });
  return {
    submission,
    notebook: assignment.notebook,
    points: exercises.reduce((sum, e) => sum + e.points, 0),
    maxPoints: exercises.reduce((sum, e) => sum + e.maxPoints, 0),
    exercises,
  };
}

/**
 * The cell statuses of a notebook that was already executed top to bottom
 * by the notebook harness (`npm test` runs the instructor's notebooks once):
 * a code cell with an error output failed, every other code cell ran. Only
 * for the instructor's own run: a submission's outputs are the student's to
 * edit, which is why {@link scoreSubmission} otherwise gets its statuses from
 * the executor.
 *
 * @example
 * const executed = readNotebook("build/notebooks/04-pretext-vision.ipynb");
 * scoreSubmission("solutions/04-pretext-vision", { assembled: assembleSubmission(autograder, executed), executed, report: reportFromOutputs(executed) });
 */
export function reportFromOutputs(executed: Notebook): ExecutionReport {
  const cells: CellStatus[] = [];
  executed.cells.forEach((cell, index) => {
    if (cell.cell_type !== "code") return;
    const failed = (cell.outputs ?? []).some((o) => o.output_type === "error");
    cells.push(failed ? { index, status: "error", stderr: streamText(cell, "stderr") } : { index, status: "ok" });
  });
  return { cells };
}

/**
 * The grade of a submission that could not be run: every exercise of its
 * release (when known) scores zero with the reason.
 *
 * @example
 * unrunnableFeedback("bob/arithmetic", release.metadata.assignment, "bob/arithmetic.ipynb is not valid JSON: ...");
 */
export function unrunnableFeedback(submission: string, assignment: AssignmentMetadata | null, reason: string): Feedback {
  const exercises = (assignment?.exercises ?? []).map(({ id, points }) => ({ id, points: 0, maxPoints: points, message: reason }));
  return {
    submission,
    notebook: assignment?.notebook ?? null,
    points: 0,
    maxPoints: exercises.reduce((sum, e) => sum + e.maxPoints, 0),
    exercises,
    error: reason,
  };
}

/**
 * Which released notebook a submission is: the name its metadata records
 * (`metadata.assignment.notebook`), else the longest released name its file
 * name contains; null when neither says.
 *
 * @example
 * identifyRelease("alice-04-pretext-vision (1).ipynb", null, ["00-getting-started", "04-pretext-vision"]); // "04-pretext-vision"
 */
export function identifyRelease(file: string, submission: Notebook | null, released: string[]): string | null {
  const recorded = submission?.metadata?.assignment?.notebook;
  if (typeof recorded === "string" && released.includes(recorded)) return recorded;
  const base = path.basename(file);
  const named = released.filter((name) => base.includes(name)).sort((a, b) => b.length - a.length);
  return named[0] ?? null;
}

/** How to run scripts/grade_notebook.py. */
export interface ExecutorOptions {
  /** The Python that runs `jupyter` (it has nbclient). */
  python: string;
  /** scripts/grade_notebook.py. */
  script: string;
  kernelName: string;
  /** The kernel's working folder (the workbook's notebooks/, as for the notebooks themselves). */
  cwd: string;
  cellTimeout: number;
  notebookTimeout: number;
  /** Run every cell instead of stopping after the last check cell. */
  allCells: boolean;
}

/**
 * Executes an assembled notebook through the kernel, writing the executed
 * copy to `executedFile`; returns the executor's report. Never throws for
 * what the notebook does: a failed executor becomes a report whose `error`
 * says why.
 *
 * @example
 * const report = executeAssembled(assembled.notebook, "build/grades/alice/executed.ipynb", options);
 */
export function executeAssembled(notebook: Notebook, executedFile: string, options: ExecutorOptions): ExecutionReport {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "ssl-workbook-grade-"));
  try {
    const input = path.join(work, "assembled.ipynb");
    const statusFile = path.join(work, "status.json");
    writeNotebook(input, notebook);
    fs.mkdirSync(path.dirname(executedFile), { recursive: true });
    const lastCell = options.allCells ? -1 : lastCheckCell(notebook);
    const skipped = options.allCells ? [] : cellsSkippedWhenGrading(notebook, lastCell);
    const args = [options.script, input, executedFile, statusFile, "--kernel", options.kernelName, "--cwd", options.cwd,
      "--cell-timeout", String(options.cellTimeout), "--notebook-timeout", String(options.notebookTimeout), "--last-cell", String(lastCell),
      "--skip-cells", skipped.join(",")];
    // A submission must not write into the notebook harness's results (src/notebook/results.ts).
    const env = { ...process.env };
    delete env.SSL_WORKBOOK_RESULTS;
    // Beyond the notebook's limit: kernel start-up, interrupts, a restart.
    const run = spawnSync(options.python, args, { encoding: "utf8", env, timeout: (options.notebookTimeout + 180) * 1000 });
    if (fs.existsSync(statusFile)) return JSON.parse(fs.readFileSync(statusFile, "utf8")) as ExecutionReport;
    const why = run.error ? run.error.message : `exited ${run.status}: ${(run.stderr ?? "").trim().split("\n").slice(-5).join(" | ")}`;
    return { cells: [], error: `the grading executor failed (${why})` };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
