/**
 * The course grader end to end, through the real workbook kernel: releases
 * the fixture assignment (test/course/fixtures/arithmetic.ipynb: add 2
 * points, an async mean 3, total 1) into a temp folder, makes submissions
 * from the student version the ways students do (right, untouched, wrong,
 * crashing, looping, broken files, deleted and reordered cells), grades
 * them, and checks every score and message. Registers the kernel for this
 * checkout first if needed (set JUPYTER_DATA_DIR to keep that private).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Feedback } from "../../course/grade";
import { Notebook, readNotebook, sourceText, writeNotebook } from "../../course/notebook";
import { REPO_ROOT } from "../../kernel/jupyter";
import { assign } from "../../scripts/assign";
import { grade, GradeOptions } from "../../scripts/grade";
import { arithmetic, cellIndex, code, FIXTURES, markdown, notebook, withSolutions } from "../course/notebooks";

const CELL_TIMEOUT = 10;

const ADD = "function add(a: number, b: number): number {\n  return a + b;\n}";
const MEAN_AFTER_AWAIT = (body: string) =>
  `async function mean(xs: number[]): Promise<number> {\n  await new Promise((resolve) => setTimeout(resolve, 1));\n${body}\n}`;
const MEAN = MEAN_AFTER_AWAIT('  if (xs.length === 0) throw new RangeError("empty");\n  return xs.reduce((s, x) => s + x, 0) / xs.length;');
const TOTAL = "function total(xs: number[]): number {\n  let sum = 0;\n  for (const x of xs) sum = add(sum, x);\n  return sum;\n}";
const RIGHT = { add: ADD, mean: MEAN, total: TOTAL };

const work = fs.mkdtempSync(path.join(os.tmpdir(), "ssl-workbook-grader-"));
const release = path.join(work, "release");
let student: Notebook;
const results = new Map<string, Feedback>();
const seconds: Record<string, number> = {};

/** Writes the submissions of one grading run: folder/<id>.ipynb, or raw text for a broken file. */
function writeSubmissions(folder: string, submissions: Record<string, Notebook | string>): void {
  for (const [id, content] of Object.entries(submissions)) {
    const file = path.join(folder, `${id}.ipynb`);
    if (typeof content === "string") {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
    } else {
      writeNotebook(file, content);
    }
  }
}

/** Grades a folder of submissions into work/<name>-grades and records each feedback by id. */
function gradeRun(name: string, submissions: Record<string, Notebook | string>, options: Partial<GradeOptions> = {}): void {
  const folder = path.join(work, name);
  writeSubmissions(folder, submissions);
  const started = Date.now();
  const feedbacks = grade({
    paths: [folder],
    outDir: path.join(work, `${name}-grades`),
    autograderDir: path.join(release, "autograder"),
    notebookDir: path.join(REPO_ROOT, "notebooks"),
    cellTimeout: CELL_TIMEOUT,
    notebookTimeout: 600,
    allCells: false,
    ...options,
  });
  seconds[name] = (Date.now() - started) / 1000;
  for (const f of feedbacks) results.set(f.submission, f);
}

const feedback = (id: string): Feedback => {
  const f = results.get(id);
  assert.ok(f, `no feedback for ${id}; have ${[...results.keys()].join(", ")}`);
  return f;
};
const pointsOf = (id: string) => feedback(id).exercises.map((e) => e.points);
const messageOf = (id: string, exercise: string) => feedback(id).exercises.find((e) => e.id === exercise)?.message ?? "";

before(() => {
  const started = Date.now();
  assign({ notebookDir: FIXTURES, outDir: release });
  student = readNotebook(path.join(release, "student", "arithmetic.ipynb"));
  const filled = withSolutions(student, RIGHT);

  const deleted = { ...filled, cells: filled.cells.filter((c) => {
    const id = c.metadata.nbgrader?.grade_id;
    return c.cell_type !== "markdown" && id !== "total" && id !== "add-check";
  }) };
  const tampered = withSolutions(filled, { mean: MEAN_AFTER_AWAIT("  return 0;"), "mean-check": 'console.log("✓ Exercise mean: trust me");' });
  const reordered = { ...tampered, cells: [...tampered.cells].reverse(), metadata: { ...tampered.metadata, assignment: undefined } };
  const checkpoint = withSolutions(student, RIGHT);

  gradeRun("submissions", {
    "solution/arithmetic": arithmetic(),
    "student/arithmetic": student,
    "student/.ipynb_checkpoints/arithmetic-checkpoint": checkpoint,
    "throws/arithmetic": withSolutions(filled, {
      mean: MEAN_AFTER_AWAIT("  return 3;"),
      total: 'function total(xs: number[]): number {\n  throw new Error("I gave up on total");\n}',
    }),
    "missing-package/arithmetic": withSolutions(filled, { add: `import leftPad from "left-pad-not-installed";\n${ADD}` }),
    "deleted-cells/arithmetic": deleted,
    "reordered-cells/bob-arithmetic-v2": reordered,
    "exits/arithmetic": withSolutions(filled, { total: "function total(xs: number[]): number {\n  process.exit(3);\n}" }),
    "parse-error/arithmetic": '{"cells": [{"cell_type": "code", "source": "function add(',
    "unknown/notes": notebook([markdown("# My notes"), code("1 + 1")]),
  });
  gradeRun("loops", {
    // Node interrupts a synchronous loop inside a cell's own run (vm's breakOnSigint)...
    "loop/arithmetic": withSolutions(filled, { total: "function total(xs: number[]): number {\n  while (xs.length > 0) {}\n  return 0;\n}" }),
    // ...but not one running after an await: the kernel must be restarted.
    "loop-after-await/arithmetic": withSolutions(filled, { mean: MEAN_AFTER_AWAIT("  while (true) {}") }),
  }, { allCells: true });
  gradeRun("slow", {
    "notebook-limit/arithmetic": withSolutions(filled, { add: "function add(a: number, b: number): number {\n  while (a === 2) {}\n  return a + b;\n}" }),
  }, { notebookTimeout: 6 });
  console.log(`graded in ${((Date.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(seconds)}`);
});

test("the instructor's solution version gets full marks, with each check's ✓ line", () => {
  assert.deepEqual(pointsOf("solution/arithmetic"), [2, 3, 1]);
  assert.equal(feedback("solution/arithmetic").points, 6);
  assert.equal(messageOf("solution/arithmetic", "mean"), "✓ Exercise mean: mean([1, 2, 3, 6]) = 3");
});

test("the untouched student version scores zero, each message naming its exercise", () => {
  assert.deepEqual(pointsOf("student/arithmetic"), [0, 0, 0]);
  for (const id of ["add", "mean", "total"]) {
    assert.equal(messageOf("student/arithmetic", id), `Exercise ${id}: not implemented yet (replace this line with your code)`);
  }
  assert.ok(![...results.keys()].some((id) => id.includes("checkpoint")), "notebook checkpoints are not submissions");
});

test("a thrown error and a hard-coded answer caught by a hidden test score zero with their messages", () => {
  assert.deepEqual(pointsOf("throws/arithmetic"), [2, 0, 0]);
  assert.equal(messageOf("throws/arithmetic", "mean"), "Exercise mean: mean([10]) returned 3, expected 10");
  assert.equal(messageOf("throws/arithmetic", "total"), "I gave up on total");
});

test("an import of a package that is not installed fails that exercise and what builds on it, naming the package", () => {
  assert.deepEqual(pointsOf("missing-package/arithmetic"), [0, 3, 0]);
  assert.match(messageOf("missing-package/arithmetic", "add"), /Cannot find name 'add'.*the exercise cell itself failed: does not compile: .*Cannot find module 'left-pad-not-installed'/);
});

test("deleted cells: the check cells come back from the autograder version, a deleted exercise cell scores zero", () => {
  assert.deepEqual(pointsOf("deleted-cells/arithmetic"), [2, 3, 0]);
  assert.equal(messageOf("deleted-cells/arithmetic", "add"), "✓ Exercise add: add(2, 3) = 5");
  assert.equal(messageOf("deleted-cells/arithmetic", "total"), "exercise cell not found in the submission");
});

test("reordered cells and a weakened check change nothing; a renamed file is identified by its name", () => {
  assert.equal(feedback("reordered-cells/bob-arithmetic-v2").notebook, "arithmetic");
  assert.deepEqual(pointsOf("reordered-cells/bob-arithmetic-v2"), [2, 0, 1]);
  assert.equal(messageOf("reordered-cells/bob-arithmetic-v2", "mean"), "Exercise mean: mean([1, 2, 3, 6]) returned 0, expected 3");
});

test("a cell that kills the kernel scores zero; the exercises before it keep their points", () => {
  assert.deepEqual(pointsOf("exits/arithmetic"), [2, 3, 0]);
  assert.equal(messageOf("exits/arithmetic", "total"), "DeadKernelError: the kernel died while running this cell");
});

test("a file that is not JSON still gets its rows, zero points and the reason; so does an unknown notebook", () => {
  assert.deepEqual(pointsOf("parse-error/arithmetic"), [0, 0, 0]);
  assert.match(messageOf("parse-error/arithmetic", "add"), /parse-error[\\/]arithmetic\.ipynb is not valid JSON/);
  assert.equal(feedback("unknown/notes").notebook, null);
  assert.match(feedback("unknown/notes").error ?? "", /cannot tell which assignment this is: metadata\.assignment\.notebook is null and the file name contains none of arithmetic/);
  const csv = fs.readFileSync(path.join(work, "submissions-grades", "gradebook.csv"), "utf8").split("\r\n");
  assert.equal(csv[0], "submission,exercise,points,max_points,message");
  assert.ok(csv.includes("unknown/notes,,0,0,cannot tell which assignment this is: metadata.assignment.notebook is null and the file name contains none of arithmetic"), csv.join("\n"));
  assert.equal(csv.filter((line) => line.startsWith("solution/arithmetic,")).length, 3);
  assert.equal(csv.length, 1 + 8 * 3 + 1 + 1, "a row per exercise of 8 known submissions, one for the unknown, and the final line end");
});

test("each submission gets feedback.json, a self-contained feedback.html and its executed notebook", () => {
  const dir = path.join(work, "submissions-grades", "throws", "arithmetic");
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, "feedback.json"), "utf8")), feedback("throws/arithmetic"));
  const html = fs.readFileSync(path.join(dir, "feedback.html"), "utf8");
  assert.match(html, /I gave up on total/);
  assert.match(html, /Total: 2 \/ 6/);
  const executed = readNotebook(path.join(dir, "executed.ipynb"));
  const check = executed.cells[cellIndex(executed, "add-check")];
  assert.match(JSON.stringify(check.outputs), /✓ Exercise add/);
  assert.deepEqual(executed.cells[executed.cells.length - 1].outputs, [], "cells after the last check cell are not run by default");
});

test("an interruptible infinite loop is stopped at the cell limit; the kernel comes back and later cells run", () => {
  assert.deepEqual(pointsOf("loop/arithmetic"), [2, 3, 0]);
  assert.match(messageOf("loop/arithmetic", "total"), new RegExp(`^cell \\d+ exceeded its ${CELL_TIMEOUT} s limit$`));
  const executed = readNotebook(path.join(work, "loops-grades", "loop", "arithmetic", "executed.ipynb"));
  const last = executed.cells[executed.cells.length - 1];
  assert.equal(sourceText(last), 'console.log("the end");');
  assert.match(JSON.stringify(last.outputs), /the end/, "--all-cells ran the cell after the check, in the same kernel");
});

test("a loop after an await cannot be interrupted: the kernel is restarted and later cells are reported not run", () => {
  assert.deepEqual(pointsOf("loop-after-await/arithmetic"), [2, 0, 0]);
  assert.match(messageOf("loop-after-await/arithmetic", "mean"), new RegExp(`^cell (\\d+) exceeded its ${CELL_TIMEOUT} s limit$`));
  const cell = /^cell (\d+)/.exec(messageOf("loop-after-await/arithmetic", "mean"))?.[1];
  assert.equal(messageOf("loop-after-await/arithmetic", "total"), `not run: the kernel was restarted after cell ${cell} exceeded its ${CELL_TIMEOUT} s limit`);
  assert.ok(seconds.loops < 4 * CELL_TIMEOUT + 30, `the loops took ${seconds.loops} s`);
});

test("the whole-notebook limit stops a submission; the cells after it are reported not run", () => {
  assert.deepEqual(pointsOf("notebook-limit/arithmetic"), [0, 0, 0]);
  assert.match(messageOf("notebook-limit/arithmetic", "add"), /^the notebook reached its 6 s limit in cell \d+$/);
  assert.equal(messageOf("notebook-limit/arithmetic", "mean"), "not run: the notebook exceeded its 6 s limit");
});

after(() => fs.rmSync(work, { recursive: true, force: true }));
