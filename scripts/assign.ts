/**
 * Releases the workbook's notebooks as assignments: validates each one's
 * exercise markup and writes its student and autograder versions.
 *
 *   npm run assign                          every notebook in notebooks/
 *   npm run assign -- 04-pretext-vision     the named ones
 *   --out DIR   where the releases go (default build/assignments): DIR/student/, DIR/autograder/
 *
 * Hand out DIR/student/; keep DIR/autograder/ for `npm run grade`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../kernel/jupyter";
import { AssignmentError, checkAssignment } from "../course/markers";
import { readNotebook, writeNotebook } from "../course/notebook";
import { autograderVersion, studentVersion } from "../course/release";

/** What `assign` reads and where it writes. */
export interface AssignOptions {
  /** The instructor's notebooks (the workbook's notebooks/). */
  notebookDir: string;
  /** Notebook names without .ipynb; all notebooks in notebookDir when empty. */
  names?: string[];
  /** The release folder: its student/ and autograder/ get one notebook per assignment. */
  outDir: string;
}

/** One released notebook. */
export interface ReleasedNotebook {
  name: string;
  exercises: { id: string; points: number }[];
  points: number;
  student: string;
  autograder: string;
}

/**
 * Validates the notebooks, then writes the student and autograder versions of
 * those with exercises. Nothing is written when any notebook has a problem:
 * the AssignmentError lists them all. A full run (no names) also removes
 * releases of notebooks that are no longer assignments.
 *
 * @example
 * const { released, skipped } = assign({ notebookDir: "notebooks", outDir: "build/assignments" });
 */
export function assign(options: AssignOptions): { released: ReleasedNotebook[]; skipped: string[] } {
  const available = fs.readdirSync(options.notebookDir).filter((f) => f.endsWith(".ipynb")).map((f) => f.slice(0, -6)).sort();
  const names = options.names && options.names.length > 0 ? options.names : available;
  for (const name of names) {
    if (!available.includes(name)) {
      throw new Error(`assign: no notebook ${name}.ipynb in ${options.notebookDir}; have ${available.join(", ") || "none"}`);
    }
  }
  const checked = names.map((name) => {
    const notebook = readNotebook(path.join(options.notebookDir, `${name}.ipynb`));
    return { name, notebook, ...checkAssignment(notebook, `${name}.ipynb`) };
  });
  const problems = checked.flatMap((c) => c.problems);
  if (problems.length > 0) throw new AssignmentError(problems);

  const studentDir = path.join(options.outDir, "student");
  const autograderDir = path.join(options.outDir, "autograder");
  const released: ReleasedNotebook[] = [];
  const skipped: string[] = [];
  for (const { name, notebook, assignment } of checked) {
    if (assignment.exercises.length === 0) {
      skipped.push(name);
      continue;
    }
    const student = path.join(studentDir, `${name}.ipynb`);
    const autograder = path.join(autograderDir, `${name}.ipynb`);
    writeNotebook(student, studentVersion(notebook, assignment));
    writeNotebook(autograder, autograderVersion(notebook, assignment));
    const exercises = assignment.exercises.map(({ id, points }) => ({ id, points }));
    released.push({ name, exercises, points: assignment.points, student, autograder });
  }
  if (!options.names || options.names.length === 0) {
    // A stale release would still be handed out, and graded against.
    const current = new Set(released.map((r) => `${r.name}.ipynb`));
    for (const dir of [studentDir, autograderDir].filter((d) => fs.existsSync(d))) {
      for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".ipynb") && !current.has(f))) fs.rmSync(path.join(dir, file));
    }
  }
  return { released, skipped };
}

/**
 * The command line's options: notebook names (as `04-pretext-vision`,
 * `04-pretext-vision.ipynb` or `notebooks/04-pretext-vision.ipynb`) and `--out DIR`,
 * resolved against `base` (INIT_CWD: npm runs scripts from the package root).
 *
 * @example
 * parseAssignArguments(["04-pretext-vision", "--out", "/tmp/release"]); // { names: ["04-pretext-vision"], outDir: "/tmp/release" }
 */
export function parseAssignArguments(args: string[], base: string = process.env.INIT_CWD ?? process.cwd()): { names: string[]; outDir: string } {
  let outDir = path.join(REPO_ROOT, "build", "assignments");
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--out") {
      if (!args[i + 1] || args[i + 1].startsWith("--")) throw new Error("assign: --out needs a folder, got nothing");
      outDir = path.resolve(base, args[++i]);
    } else if (args[i].startsWith("--")) {
      throw new Error(`assign: unknown option ${args[i]}; expected notebook names and --out DIR`);
    } else {
      names.push(path.basename(args[i]).replace(/\.ipynb$/, ""));
    }
  }
  return { names, outDir };
}

/** The command: releases, prints what it did, and returns the exit code (1 with the problems on stderr). */
function main(args: string[]): number {
  try {
    const { names, outDir } = parseAssignArguments(args);
    const { released, skipped } = assign({ notebookDir: path.join(REPO_ROOT, "notebooks"), names, outDir });
    for (const r of released) {
      const list = r.exercises.map((e) => `${e.id} (${e.points})`).join(", ");
      console.log(`✓ ${r.name}: ${r.exercises.length} exercise(s), ${r.points} point(s): ${list}`);
    }
    for (const name of skipped) console.log(`- ${name}: no exercises, not released`);
    const where = path.relative(process.cwd(), outDir) || ".";
    if (released.length === 0) console.log("No notebook has exercises: nothing to hand out.");
    else console.log(`Hand out ${path.join(where, "student")}/; ${path.join(where, "autograder")}/ stays with \`npm run grade\`.`);
    return 0;
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
