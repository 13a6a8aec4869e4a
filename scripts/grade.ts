/**
 * Grades submitted notebooks against the autograder versions `npm run assign`
 * wrote, each in a fresh workbook kernel.
 *
 *   npm run grade -- SUBMISSIONS...    folders (searched recursively) or .ipynb files
 *   --cell-timeout S       per cell (default 600)
 *   --notebook-timeout S   per submission (default 3600)
 *   --all-cells            also run the cells after the last check cell
 *   --out DIR              default build/grades
 *
 * Writes DIR/<submission>/feedback.json, feedback.html and executed.ipynb,
 * and DIR/gradebook.csv. A submission's id is its path relative to the folder
 * named (or its file name), without .ipynb. A submission that cannot be read
 * or identified still gets its rows, with zero points and the reason.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { findJupyter, installKernel, JUPYTER_MISSING_HELP, jupyterPython, KERNEL_NAME, kernelPointsHere, REPO_ROOT } from "../kernel/jupyter";
import { feedbackHtml, gradebookCsv, summaryTable } from "../course/feedback";
import {
  assembleSubmission,
  executeAssembled,
  ExecutorOptions,
  Feedback,
  identifyRelease,
  scoreSubmission,
  unrunnableFeedback,
} from "../course/grade";
import { AssignmentMetadata, Notebook, readNotebook, writeNotebook } from "../course/notebook";

/** A submission to grade. */
export interface Submission {
  id: string;
  file: string;
}

/** What `grade` grades, against what, and how. */
export interface GradeOptions {
  /** Folders (searched recursively) and .ipynb files. */
  paths: string[];
  outDir: string;
  /** The autograder versions (build/assignments/autograder/). */
  autograderDir: string;
  /** The kernel's working folder: the workbook's notebooks/. */
  notebookDir: string;
  cellTimeout: number;
  notebookTimeout: number;
  allCells: boolean;
  /** Progress lines; silent when omitted. */
  log?: (line: string) => void;
}

/**
 * The submissions under the given paths, sorted by id. Hidden folders (like
 * .ipynb_checkpoints) and the output folder are skipped. Throws, naming the
 * argument, for a path that does not exist or is not a notebook or folder.
 *
 * @example
 * findSubmissions(["submissions"], "build/grades"); // [{ id: "alice/04-pretext-vision", file: "submissions/alice/04-pretext-vision.ipynb" }]
 */
export function findSubmissions(paths: string[], outDir: string): Submission[] {
  const skip = path.resolve(outDir);
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return entry.name.startsWith(".") || path.resolve(full) === skip ? [] : walk(full);
      return entry.isFile() && entry.name.endsWith(".ipynb") ? [full] : [];
    });
  const found = paths.flatMap((p): Submission[] => {
    if (!fs.existsSync(p)) throw new Error(`grade: submission path ${p} does not exist`);
    if (fs.statSync(p).isDirectory()) {
      return walk(p).map((file) => ({ id: path.relative(p, file).slice(0, -6).split(path.sep).join("/"), file }));
    }
    if (!p.endsWith(".ipynb")) throw new Error(`grade: submission path ${p} is neither a folder nor a .ipynb file`);
    return [{ id: path.basename(p, ".ipynb"), file: p }];
  });
  const byId = new Map<string, string>();
  for (const { id, file } of found) {
    const other = byId.get(id);
    if (other !== undefined) throw new Error(`grade: ${other} and ${file} would both be submission "${id}"; grade them in separate runs`);
    byId.set(id, file);
  }
  return found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Grades one submission and writes its feedback; never throws for what the submission is or does. */
function gradeSubmission(submission: Submission, releases: string[], options: GradeOptions, executor: ExecutorOptions): Feedback {
  const dir = path.join(options.outDir, ...submission.id.split("/"));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  let assignment: AssignmentMetadata | null = null;
  let feedback: Feedback;
  try {
    let notebook: Notebook | null = null;
    let unreadable: string | null = null;
    try {
      notebook = readNotebook(submission.file);
    } catch (err) {
      unreadable = (err as Error).message;
    }
    const release = identifyRelease(submission.file, notebook, releases);
    if (release === null) {
      const recorded = JSON.stringify(notebook?.metadata?.assignment?.notebook ?? null);
      const unknown = `cannot tell which assignment this is: metadata.assignment.notebook is ${recorded} and the file name contains none of ${releases.join(", ")}`;
      feedback = unrunnableFeedback(submission.id, null, unreadable ?? unknown);
    } else {
      const autograderFile = path.join(options.autograderDir, `${release}.ipynb`);
      const autograder = readNotebook(autograderFile);
      if (!autograder.metadata.assignment) throw new Error(`${autograderFile} has no metadata.assignment: it was not written by \`npm run assign\``);
      assignment = autograder.metadata.assignment;
      if (notebook === null || unreadable !== null) {
        feedback = unrunnableFeedback(submission.id, assignment, unreadable ?? "unreadable");
      } else {
        const assembled = assembleSubmission(autograder, notebook);
        const executedFile = path.join(dir, "executed.ipynb");
        const report = executeAssembled(assembled.notebook, executedFile, executor);
        if (!fs.existsSync(executedFile)) writeNotebook(executedFile, assembled.notebook);
        feedback = scoreSubmission(submission.id, { assembled, executed: readNotebook(executedFile), report });
        if (report.error) feedback.error = report.error;
      }
    }
  } catch (err) {
    feedback = unrunnableFeedback(submission.id, assignment, `the grader failed on this submission: ${(err as Error).message}`);
  }
  fs.writeFileSync(path.join(dir, "feedback.json"), JSON.stringify(feedback, null, 2) + "\n");
  fs.writeFileSync(path.join(dir, "feedback.html"), feedbackHtml(feedback));
  return feedback;
}

/**
 * Grades every submission under `options.paths` and writes the feedback and
 * `gradebook.csv` to `options.outDir`; returns the feedback in submission order.
 * Registers the workbook kernel for this checkout first if Jupyter's points elsewhere.
 *
 * @example
 * const feedbacks = grade({ paths: ["submissions"], outDir: "build/grades", autograderDir: "build/assignments/autograder",
 *   notebookDir: "notebooks", cellTimeout: 600, notebookTimeout: 3600, allCells: false });
 */
export function grade(options: GradeOptions): Feedback[] {
  const log = options.log ?? (() => undefined);
  const releases = fs.existsSync(options.autograderDir)
    ? fs.readdirSync(options.autograderDir).filter((f) => f.endsWith(".ipynb")).map((f) => f.slice(0, -6))
    : [];
  if (releases.length === 0) {
    throw new Error(`grade: no autograder versions in ${options.autograderDir}; run \`npm run assign\` first`);
  }
  const submissions = findSubmissions(options.paths, options.outDir);
  if (submissions.length === 0) throw new Error(`grade: no .ipynb files in ${options.paths.join(", ")}`);
  const jupyter = findJupyter();
  if (!jupyter) throw new Error(JUPYTER_MISSING_HELP);
  if (!kernelPointsHere(jupyter)) log(`Registering the kernel for this checkout: ${installKernel(jupyter, { kind: "user" })}`);
  const executor: ExecutorOptions = {
    python: jupyterPython(jupyter),
    script: path.join(REPO_ROOT, "scripts", "grade_notebook.py"),
    kernelName: KERNEL_NAME,
    cwd: options.notebookDir,
    cellTimeout: options.cellTimeout,
    notebookTimeout: options.notebookTimeout,
    allCells: options.allCells,
  };
  const feedbacks = submissions.map((submission) => {
    const started = Date.now();
    log(`▶ ${submission.id}`);
    const feedback = gradeSubmission(submission, releases, options, executor);
    log(`  ${feedback.points} / ${feedback.maxPoints} (${((Date.now() - started) / 1000).toFixed(1)} s)${feedback.error ? `: ${feedback.error}` : ""}`);
    return feedback;
  });
  fs.writeFileSync(path.join(options.outDir, "gradebook.csv"), gradebookCsv(feedbacks));
  return feedbacks;
}

const USAGE = "usage: npm run grade -- <folder or notebook files...> [--cell-timeout S] [--notebook-timeout S] [--all-cells] [--out DIR]";

/**
 * The command line's options, with the defaults; throws naming the argument
 * that is wrong. Paths are resolved against `base`: the folder `npm run` was
 * started in (INIT_CWD), since npm runs scripts from the package root.
 *
 * @example
 * parseGradeArguments(["submissions", "--cell-timeout", "60"]);
 * // { paths: ["/home/me/submissions"], cellTimeout: 60, notebookTimeout: 3600, allCells: false, outDir: "<repo>/build/grades" }
 */
export function parseGradeArguments(
  args: string[],
  base: string = process.env.INIT_CWD ?? process.cwd(),
): Pick<GradeOptions, "paths" | "outDir" | "cellTimeout" | "notebookTimeout" | "allCells"> {
  const parsed = { paths: [] as string[], outDir: path.join(REPO_ROOT, "build", "grades"), cellTimeout: 600, notebookTimeout: 3600, allCells: false };
  const valueOf = (i: number): string => {
    if (args[i + 1] === undefined || args[i + 1].startsWith("--")) throw new Error(`grade: ${args[i]} needs a value\n${USAGE}`);
    return args[i + 1];
  };
  const seconds = (i: number): number => {
    const value = Number(valueOf(i));
    if (!Number.isFinite(value) || value <= 0) {
      throw new Error(`grade: ${args[i]} must be a positive number of seconds, got ${JSON.stringify(args[i + 1])}`);
    }
    return value;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--cell-timeout") parsed.cellTimeout = seconds(i++);
    else if (arg === "--notebook-timeout") parsed.notebookTimeout = seconds(i++);
    else if (arg === "--out") parsed.outDir = path.resolve(base, valueOf(i++));
    else if (arg === "--all-cells") parsed.allCells = true;
    else if (arg.startsWith("--")) throw new Error(`grade: unknown option ${arg}\n${USAGE}`);
    else parsed.paths.push(path.resolve(base, arg));
  }
  if (parsed.paths.length === 0) throw new Error(`grade: name the submissions to grade\n${USAGE}`);
  return parsed;
}

/** The command: grades, prints the summary, and returns the exit code (0 once grading completed, whatever the scores). */
function main(args: string[]): number {
  try {
    const parsed = parseGradeArguments(args);
    const feedbacks = grade({
      ...parsed,
      autograderDir: path.join(REPO_ROOT, "build", "assignments", "autograder"),
      notebookDir: path.join(REPO_ROOT, "notebooks"),
      log: (line) => console.log(line),
    });
    console.log(`\n${summaryTable(feedbacks)}\n`);
    console.log(`Feedback: ${path.join(parsed.outDir, "<submission>", "feedback.html")}; gradebook: ${path.join(parsed.outDir, "gradebook.csv")}`);
    return 0;
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
